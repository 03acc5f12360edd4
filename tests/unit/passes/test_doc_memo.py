"""Protocol-level results remembered on the document (Doc.remember) are per action/query and execution,
and a compilation that reuses a loaded protocol reports exactly what a fresh one does."""

from __future__ import annotations

from aisc.compiler import Compilation
from aisc.diagnostics import CompilationFailed, Diagnostic
from aisc.frontend import load_text
from aisc.passes.model import Options


def _query(name: str, extra_param: str) -> str:
    return f"""  {name}:
    description: "{name}"
    params: [{{ name: owner, type: address, description: "o" }}{extra_param}]
    returns: [{{ name: balance, type: uint256 }}]
    execution:
      "eip155:*":
        type: evm_read
        to: {{ ref: "contracts.token" }}
        abi: {{ type: "function", name: "balanceOf", inputs: [{{ name: owner, type: address }}],
               outputs: [{{ name: balance, type: uint256 }}] }}
        args: {{ owner: {{ ref: "params.owner" }} }}
"""


# "bad" has a YAML number as a uint256 default (AISC-NUM-005, on line 10); "good" has no literal.
PROTOCOL = """schema: "ais/0.0.2"
meta: { protocol: memo, version: "1.0.0" }
deployments:
  - chain: "eip155:1"
    contracts: { token: "0x1111111111111111111111111111111111111111" }
actions: {}
queries:
""" + _query("bad", ', { name: n, type: uint256, description: "n", default: 5 }') + _query("good", "")


def _flow(query: str) -> str:
    return f"""schema: "ais-flow/0.0.3"
meta: {{ name: "memo", version: "1.0.0" }}
default_chain: "eip155:1"
inputs: {{ who: {{ type: address }} }}
nodes:
  - id: q
    type: query_ref
    protocol: "memo@1.0.0"
    query: {query}
    args: {{ owner: {{ ref: "inputs.who" }} }}
"""


def _diags(proto: object, query: str) -> list[Diagnostic]:
    flow = load_text(_flow(query), f"{query}.ais-flow.yaml")
    c = Compilation(None, options=Options(created_at="x"), preloaded=[proto], entry_document=flow)
    try:
        c.plan  # noqa: B018
    except CompilationFailed as e:
        return list(e.diagnostics)
    return list(c.diagnostics)


def _num(diags: list[Diagnostic]) -> list[tuple[str, str | None, int | None]]:
    return [(d.code, d.path, d.span.line if d.span else None) for d in diags if d.code.startswith("AISC-NUM")]


def test_reused_protocol_reports_what_a_fresh_one_does() -> None:
    shared = load_text(PROTOCOL, "memo.ais.yaml", kind_hint="protocol")
    first = _num(_diags(shared, "bad"))
    assert first == [("AISC-NUM-005", "$.queries.bad.params[1].default", 10)]
    assert _num(_diags(shared, "good")) == []  # another query of the same document: not the cached one
    assert _num(_diags(shared, "bad")) == first  # again, from the memo
    fresh = load_text(PROTOCOL, "memo.ais.yaml", kind_hint="protocol")
    assert _num(_diags(fresh, "bad")) == first
