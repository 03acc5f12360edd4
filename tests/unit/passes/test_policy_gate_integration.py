"""Compiled plans feed the runtime policy gate (SPEC-MAP §1.17 R270–R286, R073, R147, R325, R326).

Each case compiles a workflow against ``guard-pack``, then runs the runtime's gate
(:func:`aisc.runtime.policy.enforce_policy_gate`) on the plan's recorded pack data and runtime
guards, with the run-time values a user might supply. The compiler's half of the contract: the plan
carries the pack, the action metadata and guards with the exact limits, so the gate blocks what the
static pass could not decide.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from aisc.runtime import policy as gate

from .conftest import SPENDER, TOKEN, Result, lit_asset, node, workflow


def _eval(v: Any, params: Mapping[str, Any]) -> Any:
    """The tiny subset of ValueRef evaluation the guards in these plans need."""
    if isinstance(v, dict) and len(v) == 1 and "ref" in v and v["ref"].startswith("params."):
        return params[v["ref"].split(".", 1)[1]]
    if isinstance(v, dict) and len(v) == 1 and "lit" in v:
        return v["lit"]
    return v


def _decide(r: Result, plan_node: str, params: dict[str, Any], *, fn: str, args: dict[str, Any],
            to: str = TOKEN) -> dict[str, Any]:
    assert r.plan is not None, [d.to_json() for d in r.diags if d.is_error]
    pack = r.plan["extensions"]["aisc"]["pack"]
    n = next(x for x in r.plan["nodes"] if x["id"] == plan_node)
    ext = n.get("extensions", {}).get("aisc", {})
    guards = [{k: _eval(v, params) for k, v in g.items()} for g in ext.get("runtime_guards", [])]
    action = ext.get("action", {})
    preview = {"kind": "evm_tx", "chain": n["chain"], "exec_type": "evm_call", "to": to, "function_name": fn,
               "args": args}
    src = n["source"]
    gi = gate.extract_gate_input(node_id=n["id"], chain=n["chain"], pack=pack, workflow_node_id=src["node_id"],
                                 protocol=src["protocol"], action=src["action"], params=params, preview=preview,
                                 action_risk_level=action.get("risk_level"),
                                 action_risk_tags=action.get("risk_tags", ()))
    return gate.enforce_policy_gate(pack, gi, guards=guards)


def _approve_wf(amount: Any, **kw: Any) -> dict[str, Any]:
    return workflow(node("ap", "approve", args={"token": lit_asset(), "spender": {"lit": SPENDER}, "amount": amount}),
                    **kw)


def _params(amount: str) -> dict[str, Any]:
    return {"token": {"chain_id": "eip155:1", "address": TOKEN, "decimals": 6}, "spender": SPENDER,
            "amount": amount}


# (id, workflow, run-time amount, expected gate kind)
CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("r270-r275-pass-ok-within-limits", _approve_wf({"ref": "inputs.amount"}), "1000", "ok"),
    ("r270-r275-fail-hard-block-above-max-approval", _approve_wf({"ref": "inputs.amount"}), "2000001", "hard_block"),
    ("r271-r272-pass-integer-amount-string", _approve_wf({"ref": "inputs.amount"}), "900000", "ok"),
    ("r272-fail-unlimited-hex-at-run-time", _approve_wf({"ref": "inputs.amount"}), "0x" + "f" * 64, "hard_block"),
    ("r276-r278-pass-no-violation", _approve_wf({"ref": "inputs.amount"}), "1", "ok"),
    ("r276-r278-fail-violation-details", _approve_wf({"ref": "inputs.amount"}), str((1 << 256) - 1), "hard_block"),
    ("r282-r283-pass-params-amount-source", _approve_wf({"ref": "inputs.amount"}), "5", "ok"),
    ("r282-fail-params-amount-over-workflow-limit",
     _approve_wf({"ref": "inputs.amount"}, policy={"hard_constraints": {"max_approval": "10"}}), "11", "hard_block"),
    ("r326-pass-gate-feeds-loop", _approve_wf({"ref": "inputs.amount"}), "7", "ok"),
    ("r326-fail-gate-blocks-loop", _approve_wf({"ref": "inputs.amount"},
                                               policy={"hard_constraints": {"max_approval": "5"}}), "7", "hard_block"),
]


@pytest.mark.parametrize(("wf", "amount", "kind"), [(c[1], c[2], c[3]) for c in CASES], ids=[c[0] for c in CASES])
def test_compiled_guards_drive_the_gate(compile_ws: Callable[..., Result], wf: dict[str, Any], amount: str,
                                        kind: str) -> None:
    r = compile_ws(wf)
    d = _decide(r, "ap", _params(amount), fn="approve", args={"spender": SPENDER, "amount": amount})
    assert d["kind"] == kind, d
    assert d["kind"] in ("ok", "need_user_confirm", "hard_block")  # R270


def test_r273_r279_missing_fields_need_confirmation(compile_ws: Callable[..., Result]) -> None:
    """R273/R279: an approve without a known spender is incomplete → need_user_confirm (not ok)."""
    r = compile_ws(_approve_wf({"lit": "5"}))
    ok = _decide(r, "ap", _params("5"), fn="approve", args={"spender": SPENDER, "amount": "5"})
    assert ok["kind"] == "ok"
    params = _params("5")
    del params["spender"]
    bad = _decide(r, "ap", params, fn="approve", args={"amount": "5"})
    assert bad["kind"] == "need_user_confirm"


def test_r274_r277_r280_r281_risk_metadata_in_plan(compile_ws: Callable[..., Result]) -> None:
    """R274/R280/R281: the plan carries the action's risk level and tags; R277 the gate reads them."""
    r = compile_ws(workflow(node("tx", "transfer", args={"token": lit_asset(), "to": {"lit": SPENDER},
                                                         "amount": {"lit": "1"}})))
    assert r.plan is not None
    action = r.plan["nodes"][0]["extensions"]["aisc"]["action"]
    assert action == {"ref": "demo@0.0.2/transfer", "risk_level": 3}
    d = _decide(r, "tx", {"token": {"address": TOKEN, "chain_id": "eip155:1"}, "to": SPENDER, "amount": "1"},
                fn="transfer", args={"to": SPENDER, "amount": "1"})
    assert d["kind"] == "need_user_confirm"  # risk 3 > auto_execute_max_risk_level 2
    assert any("risk_level 3" in x for x in d["details"]["approval_reasons"])
    r2 = compile_ws(_approve_wf({"lit": "1"}))
    assert r2.plan is not None and r2.plan["nodes"][0]["extensions"]["aisc"]["action"]["risk_tags"] == ["approval"]


def test_r284_r285_r286_write_node_wrapper(compile_ws: Callable[..., Result]) -> None:
    """R284–R286: the runner wrapper scopes confirmations per workflow node; plugins need the allowlist."""
    r = compile_ws(_approve_wf({"lit": "1"}))
    assert r.plan is not None
    pack = r.plan["extensions"]["aisc"]["pack"]
    gi = {"node_id": "ap", "workflow_node_id": "ap", "chain": "eip155:1", "action_ref": "demo@0.0.2/approve",
          "action_key": "demo.approve", "risk_level": 3}
    d = gate.gate_write_node(pack, gi, execution_type="evm_call")
    assert d["kind"] == "need_user_confirm"
    assert d["details"]["confirmation_scope"]["mode"] == "workflow_node"
    ok = gate.gate_write_node(pack, {**gi, "risk_level": 1}, execution_type="evm_rpc")
    assert ok["kind"] == "ok"
    blocked = gate.gate_write_node(pack, {**gi, "risk_level": 1}, execution_type="shady_plugin")
    assert blocked["kind"] != "ok"


@pytest.mark.parametrize(("pack_plugins", "ok"), [(True, True), (False, False)],
                         ids=["r073-pass-allowlisted-plugin", "r073-fail-allowlist-active-with-pack"])
def test_r073_allowlists_active_with_pack(compile_ws: Callable[..., Result], pack_plugins: bool, ok: bool) -> None:
    from .conftest import PACK, deep

    pack = deep(PACK)
    if not pack_plugins:
        pack.pop("plugins")
    r = compile_ws(workflow(node("r", "rpc", args={"address": {"ref": "inputs.who"}})), pack=pack)
    assert (r.plan is not None) is ok


@pytest.mark.parametrize(("chain", "ok"), [("eip155:1", True), ("eip155:8453", False)],
                         ids=["r147-pass-included-in-scope", "r147-fail-outside-scope"])
def test_r147_runner_pack_checks_happen_at_compile_time(compile_ws: Callable[..., Result], chain: str,
                                                        ok: bool) -> None:
    r = compile_ws(workflow(node("q", query="balance", chain=chain, args={"owner": {"ref": "inputs.who"}})))
    assert (r.plan is not None) is ok


@pytest.mark.parametrize(("preflight", "ok"), [({"simulate": {"evm_eth_call": True}}, True),
                                               ({"simulate": {"evm_eth_call": "yes"}}, False)],
                         ids=["r325-pass-preflight-recorded", "r325-fail-preflight-not-bool"])
def test_r325_preflight_in_plan_extensions(compile_ws: Callable[..., Result], preflight: dict[str, Any],
                                           ok: bool) -> None:
    """R325: preflight.simulate reaches the plan (under extensions.aisc, since plan meta is strict, D20)."""
    r = compile_ws(workflow(node("q", query="balance", args={"owner": {"ref": "inputs.who"}}), preflight=preflight))
    assert (r.plan is not None) is ok
    if ok:
        assert r.plan is not None
        assert r.plan["extensions"]["aisc"]["preflight"] == preflight
        assert "preflight" not in r.plan["meta"]
