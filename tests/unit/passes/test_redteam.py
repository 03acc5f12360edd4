"""Red team: documents that try to get past the pack (SPEC-MAP §7.6, R022–R028, R074–R083, R117).

Every row is rejected at compile time with the named diagnostic, or compiles only with a runtime
guard of the named kind on the named plan node (the runtime's policy gate enforces it before
signing). ``guard-pack`` (conftest) allows demo@0.0.2 on eip155:1 only, no unlimited approvals,
max_slippage_bps 50, max_spend 1000000, max_approval 2000000, an allowlist with one token, one
detect provider and the evm_rpc plugin.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import (
    MAX,
    OTHER_TOKEN,
    PACK,
    PROTOCOL,
    SPENDER,
    TOKEN,
    Result,
    deep,
    lit_asset,
    node,
    workflow,
)

B = {"ref": "inputs.who"}


def approve(amount: Any, *, token: Any = None, **kw: Any) -> dict[str, Any]:
    return node("ap", "approve", args={"token": token or lit_asset(), "spender": {"lit": SPENDER},
                                       "amount": amount}, **kw)


def transfer(amount: Any, id_: str = "tx", **kw: Any) -> dict[str, Any]:
    return node(id_, "transfer", args={"token": lit_asset(), "to": {"lit": SPENDER}, "amount": amount}, **kw)


def swap(amount: Any, **kw: Any) -> dict[str, Any]:
    args = {"token": lit_asset(), "amount": amount}
    args.update(kw.pop("extra_args", {}))
    return node("sw", "swap", args=args, **kw)


def pack_with(**hc: Any) -> dict[str, Any]:
    p = deep(PACK)
    hcd = p["policy"]["hard_constraints_defaults"]
    for k, v in hc.items():
        if v is None:
            hcd.pop(k, None)
        else:
            hcd[k] = v
    return p


def proto_with(path: list[str], value: Any) -> dict[str, Any]:
    p = deep(PROTOCOL)
    cur = p
    for k in path[:-1]:
        cur = cur[k]
    cur[path[-1]] = value
    return p


def ws(*nodes: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return workflow(*nodes, **kw)


INPUT_AMOUNT = {"amount": {"type": "uint256"}, "who": {"type": "address"}}
SWAP_STEP = ["actions", "swap", "execution", "eip155:*", "steps"]

# (id, compile_ws kwargs, ("error", code) | ("guard", plan node id, guard kind))
ROWS: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    # --- the pack boundary: protocols and chains
    ("protocol-not-included-r077", {"wf": ws(transfer({"lit": "1"})), "pack": {**deep(PACK), "includes": [
        {"protocol": "erc20", "version": "0.0.2"}]}}, ("error", "AISC-WS-008")),
    ("protocol-version-not-included-r077", {"wf": ws(transfer({"lit": "1"})), "pack": {**deep(PACK), "includes": [
        {"protocol": "demo", "version": "0.0.1"}]}}, ("error", "AISC-WS-008")),
    ("chain-outside-scope-node-r078", {"wf": ws(transfer({"lit": "1"}, chain="eip155:8453"))},
     ("error", "AISC-WS-009")),
    ("chain-outside-scope-default-r078", {"wf": ws(transfer({"lit": "1"}), default_chain="eip155:8453")},
     ("error", "AISC-WS-009")),
    ("requires-other-pack-r076", {"wf": ws(transfer({"lit": "1"}), requires_pack={"name": "lax", "version": "1.0.0"}),
                                  "explicit_pack": True}, ("error", "AISC-WS-013")),
    ("pack-without-identity-r074", {"wf": ws(transfer({"lit": "1"})), "explicit_pack": True,
                                    "pack": {k: v for k, v in deep(PACK).items() if k != "meta"}},
     ("error", "AISC-WS-006")),
    ("import-swaps-protocol-r145", {"wf": ws(transfer({"lit": "1"}), imports={"protocols": [
        {"protocol": "demo@0.0.2", "path": "evil.ais.yaml"}]}),
        "extra": {"evil.ais.yaml": json.dumps({**PROTOCOL, "meta": {"protocol": "evil", "version": "0.0.2"}})}},
     ("error", "AISC-WS-002")),
    ("shadow-protocol-duplicate", {"wf": ws(transfer({"lit": "1"})), "extra": {"shadow.ais.yaml": json.dumps(
        proto_with(["actions", "transfer", "risk_level"], 1))}}, ("error", "AISC-WS-004")),
    # --- providers and plugins
    ("detect-provider-not-allowlisted-r023", {"wf": ws(node("q", query="balance", args={"owner": {"detect": {
        "kind": "best_quote", "provider": "evil"}}}))}, ("error", "AISC-WS-010")),
    ("detect-kind-not-allowlisted-r022", {"wf": ws(node("q", query="balance", args={"owner": {"detect": {
        "kind": "protocol_specific"}}}))}, ("error", "AISC-WS-010")),
    ("detect-provider-on-other-chain-r023", {"wf": ws(node("qq", query="quote", args={"owner": B})),
                                             "pack": {**deep(PACK), "providers": {"detect": {"enabled": [
                                                 {"kind": "best_quote", "provider": "p1",
                                                  "chains": ["eip155:10"]}]}}}}, ("error", "AISC-WS-010")),
    ("protocol-detect-pair-disabled-r080", {"wf": ws(transfer({"lit": "1"})), "protocol": proto_with(
        ["queries", "quote", "execution", "eip155:*", "args", "fee"], {"detect": {"kind": "best_quote",
                                                                                  "provider": "shady"}})},
     ("error", "AISC-WS-011")),
    ("plugin-type-not-allowlisted-r028", {"wf": ws(node("r", "rpc", args={"address": B})),
                                          "pack": {k: v for k, v in deep(PACK).items() if k != "plugins"}},
     ("error", "AISC-WS-012")),
    ("plugin-type-wrong-chain-r028", {"wf": ws(node("r", "rpc", args={"address": B})), "pack": {
        **deep(PACK), "plugins": {"execution": {"enabled": [{"type": "evm_rpc", "chains": ["eip155:10"]}]}}}},
     ("error", "AISC-WS-012")),
    ("plugin-renamed-core-lookalike-r028", {"wf": ws(node("r", "rpc", args={"address": B})), "protocol": proto_with(
        ["actions", "rpc", "execution", "eip155:*", "type"], "evm_call_v2")}, ("error", "AISC-WS-012")),
    # --- unlimited approval in disguise
    ("unlimited-decimal-r082", {"wf": ws(approve({"lit": MAX}))}, ("error", "AISC-POL-004")),
    ("unlimited-hex-r082", {"wf": ws(approve({"lit": "0x" + "f" * 64}))}, ("error", "AISC-NUM-004")),
    ("unlimited-max-word-r082", {"wf": ws(approve({"lit": "max"}))}, ("error", "AISC-NUM-004")),
    ("unlimited-cel-max-uint-r082", {"wf": ws(approve({"cel": "pow(2, 256) - 1"}))}, ("error", "AISC-POL-004")),
    ("unlimited-above-max-r082", {"wf": ws(approve({"lit": str((1 << 256) + 5)}))}, ("error", "AISC-POL-004")),
    ("unlimited-via-input-default-r082", {"wf": ws(approve({"ref": "inputs.amount"}), inputs={
        "amount": {"type": "uint256", "default": MAX}, "who": {"type": "address"}})}, ("error", "AISC-POL-004")),
    ("unlimited-via-input-runtime-r082", {"wf": ws(approve({"ref": "inputs.amount"}))},
     ("guard", "ap", "allow_unlimited_approval")),
    ("unlimited-via-calculated-override-r082", {"wf": ws(swap({"lit": "0.5"}, calculated_overrides={
        "approval_atomic": {"expr": {"cel": "pow(2, 256) - 1"}}}))}, ("error", "AISC-POL-004")),
    ("unlimited-via-protocol-max-uint-r082", {"wf": ws(swap({"lit": "0.5"})), "protocol": proto_with(
        ["actions", "swap", "calculated_fields", "approval_atomic"], {"expr": {"lit": MAX}})},
     ("error", "AISC-POL-004")),
    ("unlimited-sum-over-steps-r082", {"wf": ws(approve({"lit": str(1 << 255)}),
                                                {**approve({"lit": str(1 << 255)}), "id": "ap2"}),
                                       "pack": pack_with(max_approval=None)},
     ("error", "AISC-POL-004")),
    ("approval-above-max-approval", {"wf": ws(approve({"lit": "2000001"}))}, ("error", "AISC-POL-005")),
    ("approval-sum-over-nodes-above-max", {"wf": ws(approve({"lit": "1500000"}),
                                                    {**approve({"lit": "1500000"}), "id": "ap2"})},
     ("error", "AISC-POL-014")),
    # --- spend limits
    ("spend-above-max-spend", {"wf": ws(transfer({"lit": "1000001"}))}, ("error", "AISC-POL-006")),
    ("spend-split-over-nodes", {"wf": ws(transfer({"lit": "600000"}, "t1"), transfer({"lit": "600000"}, "t2"))},
     ("error", "AISC-POL-014")),
    ("spend-through-token-amount", {"wf": ws(swap({"lit": "1.000001"}))}, ("error", "AISC-POL-006")),
    ("spend-unknown-gets-guard", {"wf": ws(transfer({"ref": "inputs.amount"}))}, ("guard", "tx", "max_spend")),
    ("spend-cel-expression", {"wf": ws(transfer({"cel": "1000000 + 1"}))}, ("error", "AISC-POL-006")),
    # --- amounts as floats or exponents (R054, R117, R119)
    ("amount-yaml-float-r117", {"wf": ws(transfer({"lit": 1.5}))}, ("error", "AISC-NUM-001")),
    ("amount-yaml-int-r117", {"wf": ws(transfer({"lit": 100}))}, ("error", "AISC-NUM-001")),
    ("amount-exponent-string-r119", {"wf": ws(transfer({"lit": "1e6"}))}, ("error", "AISC-NUM-004")),
    ("amount-plus-sign-r119", {"wf": ws(transfer({"lit": "+5"}))}, ("error", "AISC-NUM-004")),
    ("token-amount-exponent-r113", {"wf": ws(swap({"lit": "1e-3"}))}, ("error", "AISC-NUM-002")),
    ("token-amount-negative-r113", {"wf": ws(swap({"lit": "-1"}))}, ("error", "AISC-NUM-002")),
    ("input-default-float-r117", {"wf": ws(transfer({"ref": "inputs.amount"}), inputs={
        "amount": {"type": "uint256", "default": 1.0}, "who": {"type": "address"}})}, ("error", "AISC-NUM-003")),
    # --- slippage
    ("slippage-arg-above-pack", {"wf": ws(swap({"lit": "0.5"}, extra_args={"slippage_bps": {"lit": "500"}}))},
     ("error", "AISC-POL-008")),
    ("slippage-default-above-pack", {"wf": ws(swap({"lit": "0.5"})), "protocol": proto_with(
        ["actions", "swap", "params", 2, "default"], "9999")}, ("error", "AISC-POL-008")),
    ("slippage-from-input-guarded", {"wf": ws(swap({"lit": "0.5"}, extra_args={
        "slippage_bps": {"ref": "inputs.amount"}}))}, ("guard", "sw", "max_slippage_bps")),
    # --- workflow policy may only tighten
    ("workflow-loosens-slippage", {"wf": ws(transfer({"lit": "1"}), policy={"hard_constraints": {
        "max_slippage_bps": 5000}})}, ("error", "AISC-POL-001")),
    ("workflow-allows-unlimited", {"wf": ws(transfer({"lit": "1"}), policy={"hard_constraints": {
        "allow_unlimited_approval": True}})}, ("error", "AISC-POL-001")),
    ("workflow-raises-max-spend", {"wf": ws(transfer({"lit": "1"}), policy={"hard_constraints": {
        "max_spend": "99999999"}})}, ("error", "AISC-POL-001")),
    ("workflow-tighten-only-off", {"wf": ws(transfer({"lit": "1"}), policy={"hard_constraints": {
        "tighten_only": False}})}, ("error", "AISC-POL-002")),
    ("workflow-raises-auto-execute-risk", {"wf": ws(transfer({"lit": "1"}), policy={"approvals": {
        "auto_execute_max_risk_level": 5}})}, ("error", "AISC-POL-001")),
    ("workflow-tightens-then-spends", {"wf": ws(transfer({"lit": "500"}), policy={"hard_constraints": {
        "max_spend": "100"}})}, ("error", "AISC-POL-006")),
    ("workflow-limit-from-input-guarded", {"wf": ws(transfer({"lit": "5"}), policy={"hard_constraints": {
        "max_spend": {"ref": "inputs.amount"}}})}, ("guard", "tx", "max_spend")),
    # --- override tricks
    ("override-key-typo-never-applies", {"wf": ws(transfer({"lit": "1"})), "pack": {**deep(PACK), "overrides": {
        "actions": {"demo.transfr": {"hard_constraints": {"max_spend": "1"}}}}}}, ("error", "AISC-POL-013")),
    ("override-tightens-spend", {"wf": ws(transfer({"lit": "10"})), "pack": {**deep(PACK), "overrides": {
        "actions": {"demo.transfer": {"hard_constraints": {"max_spend": "5"}}}}}}, ("error", "AISC-POL-006")),
    ("override-both-keys-stricter-wins", {"wf": ws(transfer({"lit": "10"})), "pack": {**deep(PACK), "overrides": {
        "actions": {"demo.transfer": {"hard_constraints": {"max_spend": "100"}},
                    "demo@0.0.2.transfer": {"hard_constraints": {"max_spend": "5"}}}}}}, ("error", "AISC-POL-006")),
    ("protocol-hard-constraint-cannot-loosen", {"wf": ws(swap({"lit": "0.5"}, extra_args={
        "slippage_bps": {"lit": "60"}})), "protocol": proto_with(
        ["actions", "swap", "hard_constraints"], {"max_slippage_bps": {"lit": "10000"}})}, ("error", "AISC-POL-008")),
    ("override-multiplier-approve-more-than-spend", {"wf": ws(swap({"lit": "0.5"}, calculated_overrides={
        "approval_atomic": {"expr": {"lit": "900000"}}})), "pack": pack_with(max_approval_multiplier=1)},
     ("error", "AISC-POL-007")),
    # --- tokens
    ("token-not-allowlisted", {"wf": ws(transfer({"lit": "1"}) | {"args": {
        "token": {"lit": {"chain_id": "eip155:1", "address": OTHER_TOKEN, "decimals": 6}},
        "to": {"lit": SPENDER}, "amount": {"lit": "1"}}})}, ("error", "AISC-POL-009")),
    # --- YAML tricks (front end, R194 / YAML 1.2)
    ("yaml11-boolean-yes-in-pack", {"wf": ws(transfer({"lit": "1"})), "pack": json.dumps(PACK).replace(
        '"allow_unlimited_approval": false', '"allow_unlimited_approval": yes')}, ("error", "AISC-SCHEMA")),
    ("yaml11-boolean-on-assert-r323", {"wf": json.dumps(ws(transfer({"lit": "1"}) | {"assert": {"lit": True}})).replace(
        '"lit": true', '"lit": on')}, ("error", "AISC-WF-015")),
    ("duplicate-key-amount-r194", {"wf": json.dumps(ws(transfer({"lit": "1"}))).replace(
        '"amount": {"lit": "1"}', '"amount": {"lit": "1"}, "amount": {"lit": "' + MAX + '"}')},
     ("error", "AISC-LOAD-006")),
    ("duplicate-key-pack-limit-r194", {"wf": ws(transfer({"lit": "1"})), "pack": json.dumps(PACK).replace(
        '"max_spend": "1000000"', '"max_spend": "1000000", "max_spend": "' + MAX + '"')}, ("error", "AISC-LOAD-006")),
]


@pytest.mark.parametrize(("kw", "expect"), [(r[1], r[2]) for r in ROWS], ids=[r[0] for r in ROWS])
def test_redteam(compile_ws: Callable[..., Result], kw: dict[str, Any], expect: tuple[str, ...]) -> None:
    r = compile_ws(**kw)
    if expect[0] == "error":
        assert r.plan is None, "compiled although it should be rejected"
        assert r.has(expect[1]), sorted(r.codes)
        d = next(d for d in r.diags if d.code.startswith(expect[1]))
        assert d.message and d.is_error
    else:
        assert r.plan is not None, [d.to_json() for d in r.diags if d.is_error]
        kinds = [g["kind"] for g in r.guards(expect[1])]
        assert expect[2] in kinds, kinds


def test_redteam_table_size() -> None:
    assert len(ROWS) >= 40
    assert len({r[0] for r in ROWS}) == len(ROWS)


def test_guard_carries_amount_and_limit(compile_ws: Callable[..., Result]) -> None:
    """A guard names the value to evaluate at run time and the exact limit in base units."""
    r = compile_ws(workflow(transfer({"ref": "inputs.amount"})))
    g = next(g for g in r.guards("tx") if g["kind"] == "max_spend")
    assert g["limit_atomic"] == "1000000"
    assert g["amount"] == {"ref": "params.amount"}
    assert g["token"] == TOKEN


def test_multiplier_guard_on_composite_approve(compile_ws: Callable[..., Result]) -> None:
    """max_approval_multiplier: an approve step whose amount is unknown gets a guard with the spend."""
    r = compile_ws(workflow(swap({"ref": "inputs.amount"}, ) | {"args": {"token": lit_asset(),
                                                                         "amount": {"ref": "inputs.amt"}}},
                            inputs={"amt": {"type": "token_amount"}, "who": {"type": "address"}}),
                   pack=pack_with(max_approval_multiplier=1))
    assert r.plan is not None, [d.to_json() for d in r.diags if d.is_error]
    kinds = {g["kind"] for g in r.guards("sw__approve")}
    assert {"max_approval_multiplier", "max_approval", "allow_unlimited_approval"} <= kinds


def test_plan_bound_summary(compile_ws: Callable[..., Result]) -> None:
    """The worst-case per-token totals are recorded in plan.extensions.aisc.policy."""
    r = compile_ws(workflow(transfer({"lit": "400000"}, "t1"), transfer({"lit": "500000"}, "t2")))
    assert r.plan is not None
    per = r.plan["extensions"]["aisc"]["policy"]["per_token"]
    key = f"{TOKEN.lower()}@eip155:1"
    assert per[key]["spend"] == "900000"
    assert per[key]["nodes"] == ["t1", "t2"]
