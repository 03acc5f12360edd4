"""Node lifecycle on the fake backend (R153–R163, SPEC-MAP §5.8)."""

from __future__ import annotations

from typing import Any

import pytest

from aisc import exitcodes
from aisc.runtime.engine import PlanInputError

from ._helpers import CHAIN, Commands, plan, read, run, write


def test_r158_condition_false_skips_and_dependents_run() -> None:
    """R158; R182: the extension event ``skipped`` is emitted for the skipped node."""
    p = plan(read("a", condition={"lit": False}), read("b", deps=["a"]))
    res, sink, be = run(p, {"b": {"outputs": {"x": 1}}})
    assert res.status == "done" and res.exit_code == exitcodes.OK
    assert res.nodes["a"].state == "skipped" and be.calls["a"] == 0
    assert sink.of_type("skipped")[0]["event"] == {"type": "skipped", "node_id": "a",
                                                   "data": {"reason": "condition=false"}}
    assert res.nodes["b"].state == "done"


def test_r158_condition_evaluated_without_params() -> None:
    """The condition may not read the node's own params (they are not resolved yet)."""
    p = plan(read("a", condition={"ref": "params.x"}, bindings={"params": {"x": {"lit": True}}}))
    res, sink, _ = run(p)
    assert res.status == "paused"
    assert sink.of_type("node_blocked")[0]["event"]["data"]["readiness"]["missing_refs"] == ["params.x"]


def test_condition_must_be_boolean() -> None:
    p = plan(read("a", condition={"lit": 1}))
    res, sink, be = run(p)
    assert res.status == "failed" and be.calls["a"] == 0
    assert "condition must evaluate to boolean" in sink.of_type("error")[0]["event"]["data"]["reason"]


def test_blocked_on_missing_input_pauses_with_missing_refs() -> None:
    """R007: a run needs the ``inputs.*`` its nodes read; a missing one pauses the node (no call)."""
    p = plan(read("a", bindings={"params": {"owner": {"ref": "inputs.owner"}}}))
    res, sink, be = run(p)
    assert res.status == "paused" and res.exit_code == exitcodes.PAUSED
    assert be.calls["a"] == 0
    blocked = sink.of_type("node_blocked")[0]["event"]["data"]["readiness"]
    assert blocked == {"state": "blocked", "missing_refs": ["inputs.owner"], "needs_detect": False, "errors": []}
    nuc = sink.of_type("need_user_confirm")[0]["event"]["data"]
    assert nuc["reason"] == "missing runtime inputs"
    assert nuc["details"]["missing_refs"] == ["inputs.owner"]
    assert sink.types()[-1] == "engine_paused"


def test_blocked_then_apply_patches_resumes() -> None:
    """R182: ``patch_applied`` and ``command_accepted`` extension events on a successful apply_patches."""
    p = plan(read("a", bindings={"params": {"owner": {"ref": "inputs.owner"}}},
                  execution={"type": "evm_read", "to": {"ref": "params.owner"},
                             "abi": {"type": "function", "name": "f", "inputs": []}, "args": {}}))
    cmds = Commands([{"schema": "ais-engine-command/0.0.1", "command": {
        "id": "c1", "type": "apply_patches",
        "data": {"patches": [{"op": "set", "path": "inputs.owner", "value": "0xabc"}]}}}])
    res, sink, be = run(p, {"a": {"outputs": {"ok": True}, "evaluate": ["to"]}}, commands=cmds)
    assert res.status == "done"
    assert be.evaluated["a"]["to"] == "0xabc"
    applied = sink.of_type("patch_applied")[0]["event"]["data"]
    assert applied["command"]["id"] == "c1"
    assert applied["summary"]["affected_paths"] == ["inputs.owner"]
    assert len(applied["summary"]["hash"]) == 64
    assert "command_accepted" in sink.types()


def test_r295_apply_patches_is_always_guarded() -> None:
    """R295; R182: ``patch_rejected`` and ``command_rejected`` extension events."""
    p = plan(read("a", bindings={"params": {"owner": {"ref": "inputs.owner"}}}))
    cmds = Commands([{"type": "apply_patches", "id": "c9",
                      "data": {"patches": [{"op": "set", "path": "nodes.a.outputs", "value": {}}]}}])
    res, sink, _ = run(p, commands=cmds)
    assert res.status == "paused"
    rej = sink.of_type("patch_rejected")[0]["event"]["data"]
    assert rej["command"]["id"] == "c9"
    assert 'root "nodes" is blocked' in rej["reason"]
    assert rej["summary"]["rejected_count"] == 1
    assert sink.of_type("command_rejected")


def test_solver_fills_contracts_from_deployments() -> None:
    """R007: ``contracts.*`` a node references are supplied (from the deployments); R182: ``solver_applied``."""
    ext = {"aisc": {"deployments": {"demo@0.0.2": {CHAIN: {"router": "0x00000000000000000000000000000000000000d1"}}}}}
    node = read("a", source={"protocol": "demo@0.0.2", "query": "q"},
                execution={"type": "evm_read", "to": {"ref": "contracts.router"},
                           "abi": {"type": "function", "name": "f", "inputs": []}, "args": {}})
    res, sink, be = run(plan(node, extensions=ext), {"a": {"outputs": {"v": 7}, "evaluate": ["to"]}})
    assert res.status == "done"
    assert sink.of_type("solver_applied")[0]["event"]["data"]["patches"][0]["path"] == "contracts"
    assert be.evaluated["a"]["to"] == "0x00000000000000000000000000000000000000d1"
    assert res.root["query"]["q"] == {"v": 7}  # legacy query bag


def test_r161_until_waits_then_completes() -> None:
    p = plan(read("poll", until={"ref": "nodes.poll.outputs.done"}, retry={"interval_ms": 5, "max_attempts": 5}))
    res, sink, be = run(p, {"poll": {"outputs": [{"done": False}, {"done": False}, {"done": True}]}})
    assert res.status == "done" and be.calls["poll"] == 3
    waits = [r["event"]["data"]["attempts"] for r in sink.of_type("node_waiting")]
    assert waits == [1, 2]


def test_r162_max_attempts_exhausted() -> None:
    p = plan(read("poll", until={"lit": False}, retry={"interval_ms": 1, "max_attempts": 3}))
    res, sink, be = run(p)
    assert res.status == "timeout" and res.exit_code == exitcodes.TIMEOUT
    assert be.calls["poll"] == 3
    assert "until max_attempts exceeded" in sink.of_type("error")[-1]["event"]["data"]["reason"]


def test_r163_timeout_caps_polling() -> None:
    p = plan(read("poll", until={"lit": False}, retry={"interval_ms": 10}, timeout_ms=40))
    res, sink, be = run(p)
    assert res.status == "timeout"
    assert "until timeout exceeded" in sink.of_type("error")[-1]["event"]["data"]["reason"]
    assert 2 <= be.calls["poll"] <= 6


def test_r159_r160_assert_failure_uses_assert_message() -> None:
    """R159/R160; R185: the error event carries reason, retryable (bool) and an ais-json encoded error."""
    p = plan(read("a", **{"assert": {"ref": "nodes.a.outputs.ok"}, "assert_message": "balance too low"}),
             read("b", deps=["a"]))
    res, sink, be = run(p, {"a": {"outputs": {"ok": False}}})
    assert res.status == "failed" and res.exit_code == exitcodes.FAILED
    err = sink.of_type("error")[0]["event"]
    assert err["node_id"] == "a" and err["data"]["reason"] == "balance too low"
    assert err["data"]["retryable"] is False
    assert err["data"]["error"]["__ais_json_type"] == "error"
    assert be.calls["b"] == 0  # stop_on_error


def test_assert_default_message() -> None:
    p = plan(read("a", **{"assert": {"cel": "nodes.a.outputs.n > 5"}}))
    _res, sink, _ = run(p, {"a": {"outputs": {"n": 1}}})
    assert sink.of_type("error")[0]["event"]["data"]["reason"] == "Node assert failed: cel(nodes.a.outputs.n > 5)"


def test_deadlock_when_dependency_failed_and_not_stopping() -> None:
    p = plan(read("a"), read("b", deps=["a"]))
    res, sink, _ = run(p, {"a": {"fail": "boom"}}, stop_on_error=False)
    assert res.status == "failed"
    reasons = [r["event"]["data"]["reason"] for r in sink.of_type("error")]
    assert reasons[0] == "boom"
    assert reasons[-1].startswith("Engine deadlock") and "b" in reasons[-1]


def test_deadlock_on_cycle() -> None:
    p = plan(read("a", deps=["b"]), read("b", deps=["a"]))
    res, sink, be = run(p)
    assert res.status == "failed" and not be.calls
    assert sink.of_type("error")[0]["event"]["data"]["reason"].startswith("Engine deadlock")


def test_stop_on_error_keeps_later_nodes_unstarted() -> None:
    p = plan(read("a"), read("b", deps=["a"]), read("c", deps=["b"]))
    res, _, be = run(p, {"a": {"fail": "rpc down", "retryable": True}})
    assert res.status == "failed" and be.calls["b"] == 0 and be.calls["c"] == 0


def test_retryable_read_error_retries_within_budget() -> None:
    p = plan(read("a", retry={"interval_ms": 1, "max_attempts": 3}))
    res, _, be = run(p, {"a": {"fail": ["flaky", "flaky", ""], "retryable": True, "outputs": {"v": 1}}})
    assert res.status == "done" and be.calls["a"] == 3


UNTIL_BAD = [
    ("until-on-write", write("w", until={"lit": True}, retry={"interval_ms": 1}), "$.nodes[0].until"),
    ("until-without-retry", read("r", until={"lit": True}), "$.nodes[0].retry"),
]


@pytest.mark.parametrize(("node", "path"), [(n, p) for _, n, p in UNTIL_BAD], ids=[i for i, _, _ in UNTIL_BAD])
def test_d12_until_rules(node: dict[str, Any], path: str) -> None:
    with pytest.raises(PlanInputError) as ei:
        run(plan(node))
    assert ei.value.path == path


def test_r156_writes_serialized_per_chain_and_account() -> None:
    p = plan(*[write(f"w{i}") for i in range(5)], *[read(f"r{i}") for i in range(4)])
    script = {f"w{i}": {"sleep_ms": 15} for i in range(5)} | {f"r{i}": {"sleep_ms": 15} for i in range(4)}
    res, sink, be = run(p, script)
    assert res.status == "done"
    assert be.max_parallel_writes[(CHAIN, be.signer)] == 1
    assert len(be.intents) == 5 and len(sink.of_type("tx_sent")) == 5


def test_writes_on_distinct_accounts_may_overlap() -> None:
    from aisc.backends.fake import FakeBackend
    from aisc.backends.registry import BackendRegistry
    from aisc.runtime.engine import Engine, RunOptions
    from aisc.runtime.events import ListSink

    a = FakeBackend({"*": {"sleep_ms": 30}}, chains=["eip155:1"], signer="0xa")
    b = FakeBackend({"*": {"sleep_ms": 30}}, chains=["eip155:2"], signer="0xb")
    reg = BackendRegistry()
    reg.register(a)
    reg.register(b)
    p = plan(write("x", chain="eip155:1"), write("y", chain="eip155:2"))
    import time

    t0 = time.monotonic()
    res = Engine(p, reg, options=RunOptions(), sink=ListSink()).run()
    assert res.status == "done"
    assert time.monotonic() - t0 < 0.058  # ran side by side, not 2 x 30 ms


def test_max_concurrency_one_runs_in_plan_order() -> None:
    p = plan(read("c"), read("a"), read("b"))
    res, _, be = run(p, max_concurrency=1)
    assert res.status == "done" and be.order == ["c", "a", "b"]


def test_write_events_and_intent_before_tx_sent() -> None:
    res, sink, _be = run(plan(write("w")))
    assert res.status == "done"
    assert sink.types() == ["plan_ready", "node_ready", "tx_sent", "tx_confirmed"]
    assert res.nodes["w"].intents[0]["tx_id"] == sink.of_type("tx_sent")[0]["event"]["data"]["tx_hash"]


def test_writes_set_and_merge_and_default() -> None:
    p = plan(
        read("a", writes=[{"path": "nodes.x.outputs", "mode": "merge"}, {"path": "ctx.last", "mode": "set"}]),
        read("b", writes=[{"path": "nodes.x.outputs", "mode": "merge"}], deps=["a"]),
        read("c", deps=["b"]),
    )
    res, _, _ = run(p, {"a": {"outputs": {"p": 1}}, "b": {"outputs": {"q": 2}}, "c": {"outputs": {"r": 3}}})
    assert res.root["nodes"]["x"]["outputs"] == {"p": 1, "q": 2}
    assert res.root["ctx"]["last"] == {"p": 1}
    assert res.root["nodes"]["c"]["outputs"] == {"r": 3}


def test_calculated_fields_applied_before_action() -> None:
    calc = [{"name": "double", "expr": {"cel": "params.amount * 2"}},
            {"name": "plus_one", "expr": {"cel": "calculated.double + 1"}}]
    w = write("w", args={"x": {"ref": "calculated.plus_one"}},
              bindings={"params": {"amount": {"ref": "inputs.amount"}}},
              extensions={"aisc": {"calculated_fields": calc}})
    res, _, be = run(plan(w), {"w": {"evaluate": ["args.x"]}}, inputs={"amount": 20})
    assert res.status == "done"
    assert be.evaluated["w"]["args.x"] == 41
    assert res.root["calculated"] == {"double": 40, "plus_one": 41}
    assert res.root["nodes"]["w"]["calculated"] == {"double": 40, "plus_one": 41}


def test_backend_need_user_confirm_pauses_then_confirm_runs_again() -> None:
    cmds = Commands([{"type": "user_confirm", "data": {"node_id": "w"}}])
    res, sink, be = run(plan(write("w")), {"w": {"need_user_confirm": "no signer configured"}}, commands=cmds)
    assert res.status == "paused" and be.calls["w"] == 2
    assert [r["event"]["data"]["reason"] for r in sink.of_type("need_user_confirm")] == ["no signer configured"] * 2


def test_cancel_command() -> None:
    p = plan(read("a", bindings={"params": {"v": {"ref": "inputs.v"}}}))
    res, sink, _ = run(p, commands=Commands([{"type": "cancel", "data": {"reason": "user"}}]))
    assert res.status == "cancelled" and res.exit_code == exitcodes.CANCELLED
    assert sink.of_type("command_accepted")[0]["event"]["data"]["details"]["cancelled"] is True


COMMAND_BAD = [
    ("unknown-type", {"type": "launch", "data": {}}, "$.type"),
    ("data-not-object", {"type": "cancel", "data": []}, "$.data"),
    ("bad-schema", {"schema": "x/1", "command": {"type": "cancel"}}, "$.schema"),
    ("confirm-no-target", {"type": "user_confirm", "data": {}}, "$.command.data"),
    ("confirm-missing-inputs", {"type": "user_confirm", "data": {"node_id": "a"}}, "$.command.data"),
]


@pytest.mark.parametrize(("cmd", "field_path"), [(c, f) for _, c, f in COMMAND_BAD], ids=[i for i, _, _ in COMMAND_BAD])
def test_commands_rejected(cmd: dict[str, Any], field_path: str) -> None:
    p = plan(read("a", bindings={"params": {"v": {"ref": "inputs.v"}}}))
    res, sink, _ = run(p, commands=Commands([cmd]))
    assert res.status == "paused"
    rej = sink.of_type("command_rejected")
    assert len(rej) == 1 and rej[0]["event"]["data"]["field_path"] == field_path


def test_select_provider_resolves_detect() -> None:
    pack = {"name": "p", "version": "1.0.0", "providers": {"detect": {"enabled": [
        {"kind": "best_quote", "provider": "quoter", "chains": [CHAIN]}]}}}
    node = read("q", bindings={"params": {"fee": {"detect": {"kind": "best_quote", "candidates": [500, 3000]}}}},
                execution={"type": "evm_read", "to": {"lit": "0x01"},
                           "abi": {"type": "function", "name": "f", "inputs": []}, "args": {"fee": {"ref": "params.fee"}}})
    cmds = Commands([
        {"type": "select_provider", "data": {"node_id": "q", "provider": "other"}},
        {"type": "select_provider", "data": {"node_id": "q", "provider": "quoter", "value": 3000}},
    ])
    res, sink, _be = run(plan(node, extensions={"aisc": {"pack": pack}}), {"q": {"evaluate": ["args.fee"]}},
                        commands=cmds)
    assert res.status == "done"
    assert sink.of_type("need_user_confirm")[0]["event"]["data"]["reason"] == "detect resolution required"
    assert sink.of_type("command_rejected")[0]["event"]["data"]["reason"] == "detect provider is not allowlisted by pack"
    assert res.nodes["q"].params == {"fee": 3000}


def test_r186_backend_event_secrets_redacted() -> None:
    from aisc.backends.base import ExecResult
    from aisc.backends.fake import FakeBackend

    class Leaky(FakeBackend):
        def execute(self, call: Any) -> ExecResult:
            return ExecResult(outputs={"v": 1}, events=(("tx_prepared", {"tx": {"raw": "0xf86c...",
                                                                            "private_key": "0x" + "11" * 32}}),))

    _res, sink, _ = run(plan(read("a")), backend=Leaky())
    tx = sink.of_type("tx_prepared")[0]["event"]["data"]["tx"]
    assert tx == {"raw": "[redacted]", "private_key": "[redacted]"}


def test_solver_takes_missing_contract_from_another_protocol_on_the_chain() -> None:
    ext = {"aisc": {"deployments": {"erc20@0.0.2": {CHAIN: {}},
                                    "aave-v3@0.0.2": {CHAIN: {"pool": "0x00000000000000000000000000000000000000e1"},
                                                      "eip155:1": {"pool": "0xwrongchain"}}}}}
    node = read("allow", source={"protocol": "erc20@0.0.2", "query": "allowance"},
                execution={"type": "evm_read", "to": {"ref": "contracts.pool"},
                           "abi": {"type": "function", "name": "f", "inputs": []}, "args": {}})
    res, sink, be = run(plan(node, extensions=ext), {"allow": {"evaluate": ["to"]}})
    assert res.status == "done"
    assert be.evaluated["allow"]["to"] == "0x00000000000000000000000000000000000000e1"
    assert sink.of_type("solver_applied")[0]["event"]["data"]["patches"] == [
        {"op": "merge", "path": "contracts", "value": {"pool": "0x00000000000000000000000000000000000000e1"}}]
