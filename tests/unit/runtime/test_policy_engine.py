"""The gate inside a run: pause, confirm, --yes, hard blocks that nothing clears (R275, §7.5)."""

from __future__ import annotations

from aisc import exitcodes

from ._helpers import Commands, plan, run, write

PACK = {"name": "safe", "version": "0.0.2",
        "policy": {"approvals": {"auto_execute_max_risk_level": 2},
                   "hard_constraints_defaults": {"max_spend": "1000"}}}
SRC = {"protocol": "demo@0.0.2", "action": "pay", "node_id": "pay1"}


def _node(amount: int, **ext: object) -> dict[str, object]:
    return write("pay", fn="pay", args={"amount": {"lit": amount}}, source=SRC,
                 bindings={"params": {"amount": {"lit": amount}, "token": {"lit": {"address": "0xt"}}}},
                 extensions={"aisc": {"action": {"risk_level": 3}, **ext}})


def test_confirmation_pauses_then_user_confirm_by_scope_runs() -> None:
    p = plan(_node(10), extensions={"aisc": {"pack": PACK}})
    res, sink, be = run(p)
    assert res.status == "paused" and res.exit_code == exitcodes.PAUSED and be.calls["pay"] == 0
    nuc = sink.of_type("need_user_confirm")[0]["event"]["data"]
    assert nuc["details"]["confirmation_scope"]["key"] == "pay1:demo.pay"
    assert nuc["details"]["action_ref"] == "demo@0.0.2/pay"
    cmds = Commands([{"type": "user_confirm", "id": "k", "data": {"scope_key": "pay1:demo.pay"}}])
    res, sink, be = run(p, commands=cmds)
    assert res.status == "done" and be.calls["pay"] == 1
    assert sink.of_type("command_accepted")[0]["event"]["data"]["command"]["id"] == "k"


def test_yes_auto_confirms_approvals() -> None:
    res, _, be = run(plan(_node(10), extensions={"aisc": {"pack": PACK}}), auto_confirm=True)
    assert res.status == "done" and be.calls["pay"] == 1


def test_r275_hard_block_survives_yes_and_user_confirm() -> None:
    p = plan(_node(5000), extensions={"aisc": {"pack": PACK}})
    res, sink, be = run(p, auto_confirm=True,
                        commands=Commands([{"type": "user_confirm", "data": {"node_id": "pay"}}]))
    assert res.status == "policy_blocked" and res.exit_code == exitcodes.POLICY_BLOCKED
    assert be.calls["pay"] == 0
    assert sink.of_type("command_rejected")[0]["event"]["data"]["reason"] == \
        "a hard_block cannot be cleared by a confirmation"
    det = sink.of_type("need_user_confirm")[0]["event"]["data"]["details"]
    assert det["can_confirm"] is False and "spend_amount 5000 exceeds max_spend 1000" in det["hit_reasons"]


def test_runtime_guard_with_valueref_limit() -> None:
    guard = {"kind": "max_spend", "limit_atomic": {"ref": "inputs.cap"}}
    p = plan(_node(50, runtime_guards=[guard]))
    res, _, be = run(p, inputs={"cap": "49"})
    assert res.status == "policy_blocked" and be.calls["pay"] == 0
    res, _, be = run(p, inputs={"cap": "50"})
    assert res.status == "done" and be.calls["pay"] == 1


def test_hard_block_cleared_by_patching_inputs() -> None:
    node = write("pay", fn="pay", args={"amount": {"ref": "inputs.amount"}}, source=SRC,
                 bindings={"params": {"amount": {"ref": "inputs.amount"}, "token": {"lit": {"address": "0xt"}}}})
    pk = {"name": "s", "policy": {"hard_constraints_defaults": {"max_spend": "100"}}}
    cmds = Commands([{"type": "apply_patches", "data": {"patches": [{"op": "set", "path": "inputs.amount", "value": 5}]}}])
    res, _, be = run(plan(node, extensions={"aisc": {"pack": pk}}), inputs={"amount": 500}, commands=cmds)
    assert res.status == "done" and be.calls["pay"] == 1
