"""Incremental checkpoints: per-transition deltas rebuild exactly the engine's state, their size does
not grow with the run, replay folds them back, and an aisc-runs/1 store (full snapshots) upgrades."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aisc.backends.fake import FakeBackend
from aisc.numeric import parse_decimal_string
from aisc.runtime.replay import state_from_checkpoints
from aisc.runtime.store import SqliteStore, dumps, loads, scrub

from ._util import plan, read, runner, start, write


def _stored(snapshot: Mapping[str, Any]) -> Any:
    """What a lossless store round trip of an in-memory snapshot gives (tuples become lists)."""
    return loads(dumps(scrub(dict(snapshot))))


class Commands:
    def __init__(self, cmds: Sequence[Mapping[str, Any]]) -> None:
        self.cmds = list(cmds)

    def next_command(self, paused: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        return self.cmds.pop(0) if self.cmds else None


def _rich_plan() -> Any:
    calc = [{"name": "double", "expr": {"cel": "params.amount * 2"}}]
    return plan(
        read("q1"),
        read("q2", deps=["q1"], writes=[{"path": "inputs.seen", "mode": "set"}]),
        read("q3", deps=["q1"], writes=[{"path": "ctx.extra", "mode": "merge"}]),
        write("w1", deps=["q2"], bindings={"params": {"amount": {"ref": "inputs.amount"}}},
              extensions={"aisc": {"calculated_fields": calc}}),
        read("skipme", condition={"lit": False}),
        write("w2", deps=["w1"]),
    )


SCRIPT = {"q1": {"outputs": {"big": 2**200, "dec": parse_decimal_string("1.250")}},
          "q2": {"outputs": {"v": 7}}, "q3": {"outputs": {"k": "x"}}, "w2": {"need_user_confirm": "sign?"}}


def test_rebuilt_state_is_the_engine_state(tmp_path: Path) -> None:
    """The state rebuilt from node rows and root parts equals the engine's full snapshot."""
    r, st, _ = runner(tmp_path, FakeBackend(SCRIPT))
    out = r.start(_rich_plan(), inputs={"amount": 20})
    assert out.status == "paused"
    assert r.engine is not None
    rebuilt = st.get_run("r1").state
    assert rebuilt == _stored(r.engine.snapshot())
    assert rebuilt is not None
    assert rebuilt["root"]["nodes"]["q1"]["outputs"] == {"big": 2**200, "dec": parse_decimal_string("1.250")}
    assert rebuilt["root"]["inputs"]["seen"] == {"v": 7}
    assert rebuilt["root"]["ctx"]["extra"] == {"k": "x"}
    assert rebuilt["root"]["calculated"] == {"double": 40}
    assert {k: v["state"] for k, v in rebuilt["nodes"].items()} == {
        "q1": "done", "q2": "done", "q3": "done", "w1": "done", "skipme": "skipped", "w2": "paused"}
    assert rebuilt["nodes"]["w2"]["pause"] == {"kind": "confirm", "reason": "sign?"}
    assert [i["tx_id"] for i in rebuilt["nodes"]["w1"]["intents"]] == [i.tx_id for i in st.intents("r1")]


def test_patch_and_confirmation_are_checkpointed(tmp_path: Path) -> None:
    """A patch (the whole root is rewritten) and a confirmation (run-level record) reach the store."""
    cmds = Commands([{"type": "apply_patches", "data": {"patches": [
                        {"op": "set", "path": "inputs.owner", "value": "0xabc"}]}},
                     {"type": "user_confirm", "data": {"node_id": "w"}}])
    fake = FakeBackend({"w": {"need_user_confirm": "sign?"}})
    r, st, _ = runner(tmp_path, fake)
    r.commands = cmds
    out = r.start(plan(read("q"), write("w", deps=["q"])))
    assert out.status == "paused" and fake.calls["w"] == 3
    assert r.engine is not None
    rebuilt = st.get_run("r1").state
    assert rebuilt == _stored(r.engine.snapshot())
    assert rebuilt is not None and rebuilt["root"]["inputs"]["owner"] == "0xabc"
    assert rebuilt["confirmed"] == ["w"]


def _delta_sizes(tmp: Path, n: int) -> tuple[int, int]:
    p = plan(*[read(f"n{i:04d}") for i in range(n)])
    out, st, _ = start(tmp, p, FakeBackend({"*": {"outputs": {"v": 1}}}))
    assert out.status == "done"
    db = sqlite3.connect(st.path)
    rows = db.execute("SELECT delta_json FROM deltas WHERE run_id='r1' ORDER BY seq").fetchall()
    db.close()
    later = [r[0] for r in rows[1:]]  # the first checkpoint holds everything
    assert later and all('"full"' not in t for t in later)
    return max(len(t) for t in later), max(len(loads(t)["nodes"]) for t in later)


def test_checkpoint_size_does_not_grow_with_the_run(tmp_path: Path) -> None:
    small, small_nodes = _delta_sizes(tmp_path / "a", 40)
    big, big_nodes = _delta_sizes(tmp_path / "b", 400)
    assert small_nodes <= 8 and big_nodes <= 8  # at most max_concurrency transitions share a commit
    assert big <= small * 1.5 + 200


def test_checkpoint_saved_carries_sequence_and_nodes(tmp_path: Path) -> None:
    out, st, sink = start(tmp_path, plan(read("a"), read("b", deps=["a"]), read("c", deps=["b"])),
                          FakeBackend())
    assert out.status == "done"
    cps = [e["event"]["data"]["checkpoint"] for e in sink.of_type("checkpoint_saved")]
    assert [c["seq"] for c in cps] == [1, 2, 3]
    assert "nodes" not in cps[0]  # the first checkpoint is the whole state
    assert [c["nodes"] for c in cps[1:]] == [["b"], ["c"]]
    assert st.get_run("r1").state_seq == 3


def test_replay_folds_the_delta_log(tmp_path: Path) -> None:
    p = plan(read("q1"), read("q2", deps=["q1"]), read("q3", deps=["q2"]))
    out, st, _ = start(tmp_path, p, FakeBackend({"*": {"outputs": {"v": 1}}}))
    assert out.status == "done"
    log = st.checkpoints("r1")
    assert len(log) == 3 and log.incremental
    at = state_from_checkpoints(log, "q2")
    assert at["checkpoint"] == 2
    assert at["states"] == {"q1": "done", "q2": "done", "q3": "pending"}
    assert sorted(at["root"]["nodes"]) == ["q1", "q2"]
    assert log[-1][2] == st.get_run("r1").state
    assert [seq for seq, _, _ in log] == [1, 2, 3]


def test_v1_store_with_full_snapshots_is_upgraded_and_resumed(tmp_path: Path) -> None:
    """A paused run of an aisc-runs/1 store (full snapshot in runs.state_json) resumes; from then on
    its checkpoints are incremental."""
    p = plan(read("q"), write("w", deps=["q"]))
    out, st, _ = start(tmp_path, p, FakeBackend({"w": {"need_user_confirm": "sign?"}}))
    assert out.status == "paused"
    state = st.get_run("r1").state
    st.close()
    db = sqlite3.connect(tmp_path / "runs.db")
    for table in ("run_state", "node_states", "root_parts", "deltas"):
        db.execute(f"DELETE FROM {table}")
    db.execute("UPDATE runs SET state_json=?, state_seq=5", (dumps(state),))
    db.execute("UPDATE meta SET value='aisc-runs/1' WHERE key='schema'")
    db.commit()
    db.close()
    st2 = SqliteStore(tmp_path / "runs.db")
    assert not st2.is_incremental("r1") and st2.get_run("r1").state == state
    fake = FakeBackend()
    r, _, _ = runner(tmp_path, fake, store=st2, auto_confirm=True)
    assert r.resume("r1").status == "done"
    assert fake.calls["q"] == 0 and fake.calls["w"] == 1
    rec = st2.get_run("r1")
    assert st2.is_incremental("r1") and rec.state_seq > 5
    assert rec.state is not None and {k: v["state"] for k, v in rec.state["nodes"].items()} == {"q": "done",
                                                                                                  "w": "done"}
    st2.close()
    db = sqlite3.connect(tmp_path / "runs.db")
    assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == ("aisc-runs/2",)
    db.close()
