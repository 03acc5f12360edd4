"""Replay from events / checkpoints, plan-diff, history status mapping, category table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aisc.cli import main
from aisc.commands.plan_diff import diff_plans
from aisc.runtime import categories as cat
from aisc.runtime.history import from_store
from aisc.runtime.replay import ReplayError, replay_events, state_from_checkpoints

from ._util import ReconcilingFake, plan, read, start, write


def test_replay_rebuilds_state_at_a_node(tmp_path: Path) -> None:
    p = plan(read("q"), read("q2", deps=["q"]), write("w", deps=["q2"]))
    _out, st, sink = start(tmp_path, p, ReconcilingFake({"q": {"outputs": {"v": 2**80}}, "q2": {"outputs": {"v": 2}}}))
    full = replay_events(sink.records)
    assert full["status"] == "done" and full["states"] == {"q": "done", "q2": "done", "w": "done"}
    at_q = replay_events(sink.records, "q")
    assert at_q["states"]["q2"] == "pending" and at_q["root"]["nodes"] == {"q": {"outputs": {"v": 2**80}}}
    assert at_q["exact"] is True and full["exact"] is False
    cp = state_from_checkpoints(st.checkpoints("r1"), "q2")
    assert cp["states"] == {"q": "done", "q2": "done", "w": "pending"}
    assert cp["root"]["nodes"]["q"]["outputs"]["v"] == 2**80
    with pytest.raises(ReplayError):
        replay_events(sink.records, "nope")


def _plan_json(**over: object) -> dict[str, object]:
    n = {"id": "a", "chain": "eip155:1", "kind": "query_ref",
         "execution": {"type": "evm_read", "to": {"lit": "0x01"}, "abi": {"type": "function", "name": "f", "inputs": []},
                       "args": {"x": {"lit": 1}}}}
    p: dict[str, object] = {"schema": "ais-plan/0.0.3", "meta": {"name": "p", "created_at": "t1"}, "nodes": [n]}
    p.update(over)
    return p


def test_plan_diff_fields_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _plan_json()
    b = json.loads(json.dumps(a))
    b["meta"]["created_at"] = "t2"
    assert diff_plans(a, b)["same"] is True
    b["nodes"][0]["execution"]["args"]["x"] = {"lit": 2}
    b["nodes"].append({**b["nodes"][0], "id": "z"})
    d = diff_plans(a, b)
    assert d["added"] == ["z"] and d["removed"] == []
    assert d["changed"] == [{"node": "a", "fields": [{"path": "execution.args.x.lit", "change": "changed",
                                                      "old": 1, "new": 2}]}]
    fa, fb = tmp_path / "a.json", tmp_path / "b.json"
    fa.write_text(json.dumps(a))
    fb.write_text(json.dumps(b))
    assert main(["plan-diff", str(fa), str(fa)]) == 0
    assert main(["plan-diff", str(fa), str(fb), "--format", "json"]) == 1
    assert '"execution.args.x.lit"' in capsys.readouterr().out
    fb.write_text("{")
    assert main(["plan-diff", str(fa), str(fb)]) == 3


HISTORY = [
    # (script, expected step statuses, workflow status, category)
    ({}, ["succeeded", "succeeded"], "succeeded", None),
    ({"w": {"fail": "reverted"}}, ["succeeded", "failed"], "failed", "execution_failed"),
    ({"w": {"need_user_confirm": "no signer"}}, ["succeeded", "paused"], "paused", "needs_confirmation"),
]


@pytest.mark.parametrize(("script", "steps", "status", "category"), HISTORY, ids=["ok", "failed", "paused"])
def test_history_status_mapping(script: dict[str, object], steps: list[str], status: str, category: str | None,
                                tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _out, st, _ = start(tmp_path, plan(read("q"), write("w", deps=["q"])), ReconcilingFake(script))  # type: ignore[arg-type]
    wf, recs = from_store(st, "r1")
    assert [r["status"] for r in recs] == steps
    assert (wf["status"], wf["failure_category"]) == (status, category)
    assert recs[-1]["failure_category"] == category
    assert wf["tx_count"] == len(recs[-1]["tx_hashes"]) == (1 if status == "succeeded" else 0)
    st.close()
    assert main(["history", "r1", "--store", str(tmp_path / "runs.db"), "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(x)["record"] for x in lines] == ["workflow", "step", "step"]


RUN_STATUS = [("done", None, None), ("paused", None, "needs_confirmation"), ("policy_blocked", None, "policy_blocked"),
              ("timeout", None, "timeout"), ("cancelled", None, "cancelled"), ("failed", None, "execution_failed"),
              ("failed", "rpc_unavailable", "rpc_unavailable"), ("failed", "weird", "execution_failed"),
              ("internal", None, "internal")]


@pytest.mark.parametrize(("status", "err", "expected"), RUN_STATUS)
def test_category_of_run_status(status: str, err: str | None, expected: str | None) -> None:
    assert cat.of_run_status(status, err) == expected


def test_exit_codes_of_categories() -> None:
    assert {c: cat.exit_code(c) for c in cat.CATEGORIES} == {
        "validation": 3, "usage": 2, "policy_blocked": 5, "needs_confirmation": 4, "execution_failed": 1,
        "rpc_unavailable": 1, "timeout": 6, "cancelled": 7, "output_invalid": 8, "internal": 70}
    assert cat.exit_code(None) == 0 and cat.exit_code("unknown") == 1
