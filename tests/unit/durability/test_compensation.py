"""Compensation: completed writes are undone newest first when a run fails; outcomes recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aisc.runtime.history import from_store

from ._util import ReconcilingFake, plan, start, write

RESET = {"type": "evm_call", "to": {"lit": "0x00000000000000000000000000000000000000c0"},
         "abi": {"type": "function", "name": "approve", "inputs": []}, "args": {"amount": {"ref": "params.amount"}}}


def comp(**over: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"protocol": "erc20@0.0.2", "action": "approve", "args": {"amount": {"lit": "0"}},
                         "execution": RESET}
    c.update(over)
    return c


def test_compensations_run_in_reverse_order_after_a_failure(tmp_path: Path) -> None:
    p = plan(write("a1", extensions={"aisc": {"compensate": [comp()]}}),
             write("a2", deps=["a1"], extensions={"aisc": {"compensate": [comp(), comp(args={"amount": {"lit": "1"}})]}}),
             write("boom", deps=["a2"]))
    fake = ReconcilingFake({"boom": {"fail": "reverted"}})
    out, st, _ = start(tmp_path, p, fake)
    assert out.status == "failed" and out.exit_code == 1
    assert [c["compensation_id"] for c in out.compensations] == ["a2__compensate_0", "a2__compensate_1",
                                                                 "a1__compensate_0"]
    assert all(c["status"] == "done" and c["tx_hash"].startswith("0x") for c in out.compensations)
    assert fake.order[-3:] == ["a2__compensate_0", "a2__compensate_1", "a1__compensate_0"]
    assert {i.node_id for i in st.intents("r1")} >= {"a1__compensate_0", "a2__compensate_1"}
    wf, steps = from_store(st, "r1")
    assert [c["compensation_id"] for c in wf["compensations"]] == [c["compensation_id"] for c in out.compensations]
    assert steps[0]["compensations"][0]["status"] == "done"


def test_no_compensation_on_success_or_when_disabled(tmp_path: Path) -> None:
    p = plan(write("a1", extensions={"aisc": {"compensate": [comp()]}}))
    out, _, _ = start(tmp_path, p, ReconcilingFake())
    assert out.status == "done" and out.compensations == ()


def test_invalid_and_failing_compensations_do_not_stop_the_others(tmp_path: Path) -> None:
    bad = {"protocol": "x", "action": "y", "args": {}}  # not lowered: no execution
    p = plan(write("a1", extensions={"aisc": {"compensate": [comp()]}}),
             write("a2", deps=["a1"], extensions={"aisc": {"compensate": [bad]}}),
             write("boom", deps=["a2"]))
    fake = ReconcilingFake({"boom": {"fail": "reverted"}, "a1__compensate_0": {"fail": "reverted again"}})
    out, _, _ = start(tmp_path, p, fake)
    assert [(c["compensation_id"], c["status"]) for c in out.compensations] == [
        ("a2__compensate_0", "invalid"), ("a1__compensate_0", "failed")]
    assert "execution" in out.compensations[0]["error"]
