"""Protocol-level results remembered on the document (Doc.remember) are per action/query and execution,
and a compilation that reuses a loaded protocol reports exactly what a fresh one does."""

from __future__ import annotations

import json
from typing import Any

from aisc.compiler import Compilation
from aisc.diagnostics import CompilationFailed, Diagnostic
from aisc.frontend import LoadedDocument, load_text
from aisc.passes.model import Options

from .conftest import PACK, TOKEN, _evm, deep, lit_asset, node, workflow
from .conftest import PROTOCOL as DEMO


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


def _protocol(name: str, queries: str) -> str:
    return f"""schema: "ais/0.0.2"
meta: {{ protocol: {name}, version: "1.0.0" }}
deployments:
  - chain: "eip155:1"
    contracts: {{ token: "0x1111111111111111111111111111111111111111" }}
actions: {{}}
queries:
""" + queries


# "bad" has a YAML number as a uint256 default (AISC-NUM-005, on line 10); "good" has no literal.
PROTOCOL = _protocol("memo", _query("bad", ', { name: n, type: uint256, description: "n", default: 5 }')
                     + _query("good", ""))


def _flow(query: str, protocol: str = "memo@1.0.0", tail: str = "") -> str:
    return f"""schema: "ais-flow/0.0.3"
meta: {{ name: "memo", version: "1.0.0" }}
default_chain: "eip155:1"
inputs: {{ who: {{ type: address }} }}
nodes:
  - id: q
    type: query_ref
    protocol: "{protocol}"
    query: {query}
    args: {{ owner: {{ ref: "inputs.who" }} }}
""" + tail


def _diags(proto: LoadedDocument, query: str, flow_text: str | None = None) -> list[Diagnostic]:
    flow = load_text(flow_text or _flow(query), f"{query}.ais-flow.yaml")
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


# "good" returns supply instead of balance
OUTPUTS_PROTOCOL = _protocol("outs", _query("bad", "") + _query("good", "").replace("name: balance,", "name: supply,"))


def _wf014(proto: LoadedDocument, query: str, field: str) -> list[str]:
    """The AISC-WF-014 messages of a workflow whose output reads ``nodes.q.outputs.<field>``."""
    reads = _flow(query, "outs@1.0.0", f'outputs:\n  got: {{ ref: "nodes.q.outputs.{field}" }}\n')
    return [d.message for d in _diags(proto, query, reads) if d.code == "AISC-WF-014"]


def test_output_keys_are_remembered_per_query() -> None:
    """R153: a node's outputs are the target's returns; the memo on the shared protocol is per query."""
    shared = load_text(OUTPUTS_PROTOCOL, "outs.ais.yaml", kind_hint="protocol")
    assert _wf014(shared, "bad", "balance") == []
    assert _wf014(shared, "good", "balance") == ['outs@1.0.0/good has no output "balance" (node "q")']
    assert _wf014(shared, "good", "supply") == []
    assert _wf014(shared, "bad", "supply") == ['outs@1.0.0/bad has no output "supply" (node "q")']


def _policy_codes(proto: LoadedDocument, pack: LoadedDocument, wf_node: dict[str, Any]) -> set[str]:
    return _codes(proto, pack, wf_node, "AISC-POL")


def _compilation(proto: LoadedDocument, pack: LoadedDocument, wf_node: dict[str, Any]) -> Compilation:
    """A workflow of one node, compiled against ``proto`` and ``pack`` (both preloaded, no imports)."""
    wf = workflow(wf_node)
    del wf["imports"]
    flow = load_text(json.dumps(wf), "flow.ais-flow.yaml")
    return Compilation(None, options=Options(created_at="x"), preloaded=[proto, pack], entry_document=flow)


def _codes(proto: LoadedDocument, pack: LoadedDocument, wf_node: dict[str, Any], prefix: str) -> set[str]:
    c = _compilation(proto, pack, wf_node)
    try:
        c.plan  # noqa: B018
    except CompilationFailed as e:
        return {d.code for d in e.diagnostics if d.code.startswith(prefix)}
    return {d.code for d in c.diagnostics if d.code.startswith(prefix)}


def test_static_policy_scope_is_remembered_per_action() -> None:
    """The static evaluator's params and calculated fields come from the protocol memo, per action: a
    swap's calculated amount (5 USDC = 5,000,000 base units, over max_spend and max_approval) is still known after a
    transfer of the same document was checked, and a transfer after it still reads its own params."""
    proto = load_text(json.dumps(DEMO), "demo.ais.yaml", kind_hint="protocol")
    pack = load_text(json.dumps(PACK), "guard.ais-pack.yaml", kind_hint="pack")
    transfer = node("tx", "transfer", args={"token": lit_asset(), "to": {"lit": "0x" + "22" * 20},
                                            "amount": {"lit": "5"}})
    swap = node("sw", "swap", args={"token": lit_asset(), "amount": {"lit": "5"}})
    def fresh(n: dict[str, Any]) -> set[str]:
        return _policy_codes(load_text(json.dumps(DEMO), "demo.ais.yaml", kind_hint="protocol"), pack, n)

    first = _policy_codes(proto, pack, transfer)
    assert first == fresh(transfer) and "AISC-POL-006" not in first
    assert _policy_codes(proto, pack, swap) == fresh(swap) >= {"AISC-POL-005", "AISC-POL-006"}
    assert _policy_codes(proto, pack, transfer) == first


BASE_USDC = "0x" + "b8" * 20


def _two_chain_approve() -> tuple[dict[str, Any], dict[str, Any]]:
    """The demo protocol with an approve of ``contracts.usdc`` (a different address on each of two
    chains) and a pack that allows both chains and allowlists each chain's address."""
    proto_raw = deep(DEMO)
    proto_raw["deployments"][0]["contracts"]["usdc"] = TOKEN
    proto_raw["deployments"][1]["contracts"]["usdc"] = BASE_USDC
    proto_raw["actions"]["approve_usdc"] = {
        "description": "approve", "risk_level": 2,
        "params": [{"name": "spender", "type": "address", "description": "s"},
                   {"name": "amount", "type": "uint256", "description": "a"}],
        "execution": {"eip155:*": _evm("approve", [("spender", "address"), ("amount", "uint256")],
                                       {"spender": {"ref": "params.spender"}, "amount": {"ref": "params.amount"}},
                                       to={"ref": "contracts.usdc"})},
    }
    pack_raw = deep(PACK)
    pack_raw["includes"][0]["chain_scope"] = ["eip155:1", "eip155:8453"]
    pack_raw["token_policy"]["allowlist"].append(
        {"chain": "eip155:8453", "symbol": "USDC", "address": BASE_USDC, "decimals": 6})
    return proto_raw, pack_raw


def _approve(chain: str) -> dict[str, Any]:
    return node("ap", "approve_usdc", chain=chain, args={"spender": {"lit": "0x" + "33" * 20}, "amount": {"lit": "5"}})


def test_static_contracts_are_remembered_per_chain() -> None:
    """An approve's token is ``contracts.usdc``, deployed at a different address on each chain; the
    pack allowlists each chain's own address. The contracts remembered for one chain must not be
    reused for the other (token allowlist, AISC-POL-009)."""
    proto_raw, pack_raw = _two_chain_approve()
    proto = load_text(json.dumps(proto_raw), "demo.ais.yaml", kind_hint="protocol")
    pack = load_text(json.dumps(pack_raw), "guard.ais-pack.yaml", kind_hint="pack")
    assert "AISC-POL-009" not in _policy_codes(proto, pack, _approve("eip155:1"))
    assert "AISC-POL-009" not in _policy_codes(proto, pack, _approve("eip155:8453"))
    pack_raw["token_policy"]["allowlist"].pop()  # without the Base entry, the Base approve is caught
    strict = load_text(json.dumps(pack_raw), "guard.ais-pack.yaml", kind_hint="pack")
    assert "AISC-POL-009" in _policy_codes(proto, strict, _approve("eip155:8453"))


def test_static_writes_are_remembered_per_chain() -> None:
    """What a write does (approve, its amount and token, the chain it runs on) is remembered on the
    protocol per action, execution and chain: the same execution (``eip155:*``) used on a second
    chain must count its approval on that chain in the plan's per-token bound."""
    proto_raw, pack_raw = _two_chain_approve()
    proto = load_text(json.dumps(proto_raw), "demo.ais.yaml", kind_hint="protocol")
    pack = load_text(json.dumps(pack_raw), "guard.ais-pack.yaml", kind_hint="pack")

    def per_token(chain: str) -> list[str]:
        plan = _compilation(proto, pack, _approve(chain)).plan
        return sorted(plan["extensions"]["aisc"]["policy"]["per_token"])

    assert per_token("eip155:1") == [f"{TOKEN.lower()}@eip155:1"]
    assert per_token("eip155:8453") == [f"{BASE_USDC.lower()}@eip155:8453"]


def test_capability_needs_are_remembered_per_action() -> None:
    """R014/R029: what an action needs of the engine is remembered on the shared protocol per action:
    a transfer that requires a capability no engine has is reported, a swap of the same document is
    not, in either order."""
    proto_raw = deep(DEMO)
    proto_raw["actions"]["transfer"]["capabilities_required"] = ["zk:prove"]
    proto = load_text(json.dumps(proto_raw), "demo.ais.yaml", kind_hint="protocol")
    pack = load_text(json.dumps(PACK), "guard.ais-pack.yaml", kind_hint="pack")
    transfer = node("tx", "transfer", args={"token": lit_asset(), "to": {"lit": "0x" + "22" * 20},
                                            "amount": {"lit": "5"}})
    swap = node("sw", "swap", args={"token": lit_asset(), "amount": {"lit": "5"}})
    assert "AISC-CAP-001" not in _codes(proto, pack, swap, "AISC-CAP")
    assert _codes(proto, pack, transfer, "AISC-CAP") == {"AISC-CAP-001"}
    assert "AISC-CAP-001" not in _codes(proto, pack, swap, "AISC-CAP")


def test_plan_action_extensions_are_remembered_per_action() -> None:
    """A plan node's ``extensions.aisc.action`` and ``token_amounts`` come from the protocol memo per
    action: a swap (risk 2, a token_amount param) and a transfer (risk 3) of one shared document each
    get their own, as from a fresh document."""
    proto = load_text(json.dumps(DEMO), "demo.ais.yaml", kind_hint="protocol")
    pack = load_text(json.dumps(PACK), "guard.ais-pack.yaml", kind_hint="pack")
    transfer = node("tx", "transfer", args={"token": lit_asset(), "to": {"lit": "0x" + "22" * 20},
                                            "amount": {"lit": "1"}})
    swap = node("sw", "swap", args={"token": lit_asset(), "amount": {"lit": "1"}})

    def action_ext(p: LoadedDocument, wf_node: dict[str, Any]) -> list[dict[str, Any]]:
        plan = _compilation(p, pack, wf_node).plan
        return [{k: v for k, v in n["extensions"]["aisc"].items() if k in ("action", "token_amounts")}
                for n in plan["nodes"]]

    def fresh(wf_node: dict[str, Any]) -> list[dict[str, Any]]:
        return action_ext(load_text(json.dumps(DEMO), "demo.ais.yaml", kind_hint="protocol"), wf_node)

    first = action_ext(proto, transfer)
    assert first == fresh(transfer) and first[-1]["action"]["risk_level"] == 3 and "token_amounts" not in first[-1]
    second = action_ext(proto, swap)
    assert second == fresh(swap) and second[-1]["token_amounts"] == {"amount": "token"}


def test_target_detects_are_remembered_per_target() -> None:
    """R022, R079: the detects inside a protocol's query are found once per document and target. The
    demo's ``quote`` holds a ``best_quote`` detect and ``balance`` none; with a pack that enables no
    detect provider, a node running ``quote`` is reported whichever query of the shared document was
    checked before, and ``balance`` never is; with the full pack the recorded provider choice is the
    same as with a fresh document."""
    proto = load_text(json.dumps(DEMO), "demo.ais.yaml", kind_hint="protocol")
    bare = deep(PACK)
    del bare["providers"]
    no_detects = load_text(json.dumps(bare), "guard.ais-pack.yaml", kind_hint="pack")
    balance = node("q", query="balance", args={"owner": {"ref": "inputs.who"}})
    quote = node("q", query="quote", args={"owner": {"ref": "inputs.who"}})
    assert _codes(proto, no_detects, balance, "AISC-WS") == set()
    assert _codes(proto, no_detects, quote, "AISC-WS") == {"AISC-WS-010"}
    assert _codes(proto, no_detects, balance, "AISC-WS") == set()

    pack = load_text(json.dumps(PACK), "guard.ais-pack.yaml", kind_hint="pack")

    def choices(p: LoadedDocument) -> Any:
        return _compilation(p, pack, quote).plan["nodes"][0]["extensions"]["aisc"]["detect_providers"]

    fresh = choices(load_text(json.dumps(DEMO), "demo.ais.yaml", kind_hint="protocol"))
    assert fresh == [{"path": 'demo@0.0.2:$.queries.quote.execution["eip155:*"].args.fee.detect',
                      "kind": "best_quote", "provider": "p1", "priority": 5}]
    assert choices(proto) == fresh
