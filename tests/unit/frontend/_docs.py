"""Small document builders shared by the front-end tests (test data, not code under test)."""

from __future__ import annotations

MARK = "«"

PROTOCOL_HEAD = """schema: "ais/0.0.2"
meta: {protocol: demo, version: "0.0.2"}
deployments: [{chain: "eip155:1", contracts: {router: "0x1111111111111111111111111111111111111111"}}]
"""

CALL = '{type: evm_call, to: {ref: contracts.router}, abi: {type: function, name: f, inputs: [], outputs: []}, args: {}}'


def protocol(actions: str = "", queries: str = "", head: str = PROTOCOL_HEAD, tail: str = "") -> str:
    """A protocol document: ``actions``/``queries`` are indented YAML bodies (4 spaces for fields)."""
    out = head + "actions:" + (" {}\n" if not actions else "\n" + actions)
    if queries:
        out += "queries:\n" + queries
    return out + tail


def action(body: str = "", execution: str = f'      "eip155:*": {CALL}\n', name: str = "do") -> str:
    return f"  {name}:\n    description: d\n    risk_level: 1\n{body}    execution:\n{execution}"


def query(returns: str, outputs: str, params: str = "", name: str = "q") -> str:
    read = ('{type: evm_read, to: {ref: contracts.router}, abi: {type: function, name: f, inputs: [], '
            f"outputs: {outputs}}}, args: {{}}}}")
    return f"  {name}:\n    description: d\n{params}    returns: {returns}\n    execution:\n      \"eip155:*\": {read}\n"


WORKFLOW_HEAD = """schema: "ais-flow/0.0.3"
meta: {name: wf, version: "0.0.3"}
default_chain: "eip155:1"
"""


def workflow(nodes: str, head: str = WORKFLOW_HEAD) -> str:
    return head + "nodes:\n" + nodes


NODE = "  - {id: n1, type: action_ref, protocol: demo@0.0.2, action: do%s}\n"

PACK_HEAD = """schema: "ais-pack/0.0.2"
meta: {name: p, version: "0.0.2"}
includes: [{protocol: demo, version: "0.0.2"}]
"""


def locate(text: str) -> tuple[str, int, int]:
    """Strip the single MARK and return ``(text, line, col)`` of the marked character (1-based)."""
    assert text.count(MARK) == 1, text
    i = text.index(MARK)
    line = text.count("\n", 0, i) + 1
    col = i - (text.rfind("\n", 0, i) + 1) + 1
    return text.replace(MARK, ""), line, col
