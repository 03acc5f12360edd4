"""Resume: restore a checkpoint, reconcile open intents before anything is re-sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from aisc.backends.fake import FakeBackend
from aisc.backends.registry import BackendRegistry
from aisc.runtime.durable import DurableRunner, ResumeError
from aisc.runtime.engine import RunOptions
from aisc.runtime.store import SqliteStore

from ._util import ReconcilingFake, plan, read, runner, start, write


def _interrupted(tmp: Path, answer: str) -> tuple[SqliteStore, ReconcilingFake]:
    """A run whose w2 attempt recorded an intent and then 'died': the snapshot still says pending."""
    p = plan(read("q"), write("w1", deps=["q"]), write("w2", deps=["w1"]), write("w3", deps=["w2"]))
    out, st, _ = start(tmp, p, ReconcilingFake({"w2": {"need_user_confirm": "wait"}}))
    assert out.status == "paused"
    st.record_intent("r1", "w2", 1, {"chain": "eip155:31337", "account": "0xa1", "tx_id": "0xw2", "nonce": 1})
    return st, ReconcilingFake(answer=answer)


RECONCILE = [
    # (answer, final status, w2 executions after resume, intent status)
    ("landed", "done", 0, "confirmed"),
    ("dropped", "done", 1, "dropped"),
    ("unknown", "paused", 0, "intent"),
]


@pytest.mark.parametrize(("answer", "status", "execs", "intent_status"), RECONCILE, ids=[r[0] for r in RECONCILE])
def test_reconcile_before_resend(answer: str, status: str, execs: int, intent_status: str, tmp_path: Path) -> None:
    st, fake = _interrupted(tmp_path, answer)
    r, _, _sink = runner(tmp_path, fake, store=st)
    out = r.resume("r1")
    assert out.status == status
    assert fake.reconciled == ["0xw2"]
    assert fake.calls["w2"] == execs and fake.calls["w1"] == 0 and fake.calls["q"] == 0
    assert {i.tx_id: i.status for i in st.intents("r1")}["0xw2"] == intent_status
    if answer == "unknown":
        assert out.paused[0]["node"] == "w2" and "unknown" in out.paused[0]["reason"]
    else:
        assert fake.calls["w3"] == 1


def test_resume_keeps_seq_monotonic_and_notes(tmp_path: Path) -> None:
    st, fake = _interrupted(tmp_path, "landed")
    before = st.last_event_seq("r1")
    r, _, _ = runner(tmp_path, fake, store=st)
    r.resume("r1")
    seqs = [e["seq"] for e in st.events("r1")]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)) and seqs[-1] > before
    assert [n["kind"] for n in st.notes("r1")][:2] == ["resume", "reconciled"]


RESUME_ERRORS = [
    ("done", "AISC-RESUME-003"),
    ("compensated", "AISC-RESUME-004"),
    ("tampered", "AISC-RESUME-005"),
]


@pytest.mark.parametrize(("case", "code"), RESUME_ERRORS, ids=[c[0] for c in RESUME_ERRORS])
def test_resume_refusals(case: str, code: str, tmp_path: Path) -> None:
    _out, st, _ = start(tmp_path, plan(read("q")), ReconcilingFake())
    if case == "compensated":
        st.set_status("r1", "failed")
        st.add_note("r1", "compensation", {"status": "done"})
    if case == "tampered":
        st.set_status("r1", "failed")
        st._db.execute("UPDATE runs SET plan_hash='0x00' WHERE run_id='r1'")
    r, _, _ = runner(tmp_path, ReconcilingFake(), store=st)
    with pytest.raises(ResumeError) as ei:
        r.resume("r1")
    assert ei.value.code == code


class _Killed(BaseException):
    """Stands in for SIGKILL while the engine sleeps: no handler runs after it."""


def _kill(delay: float) -> None:
    raise _Killed


class _Clock:
    """A monotonic clock that only sleeping moves; the sleeps are recorded."""

    def __init__(self) -> None:
        self.t = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def test_resume_keeps_a_polling_node_timer(tmp_path: Path) -> None:
    """R161/R162 across a crash: a node between two polls is checkpointed with its timer; the resumed
    run waits out the rest of the interval (not zero, not a full new one) and keeps counting
    timeout_ms from the node's first attempt."""
    p = plan(read("poll", until={"ref": "nodes.poll.outputs.done"},
                  retry={"interval_ms": 60_000, "max_attempts": 5}, timeout_ms=100_000))
    script = {"poll": {"outputs": [{"done": False}, {"done": False}, {"done": True}]}}
    reg = BackendRegistry()
    reg.register(FakeBackend(script))
    st = SqliteStore(tmp_path / "runs.db")
    with pytest.raises(_Killed):
        DurableRunner(reg, store=st, options=RunOptions(run_id="r1", sleep=_kill)).start(p)
    saved = st.state("r1")
    assert saved is not None
    node = saved["nodes"]["poll"]
    assert node["state"] == "waiting" and node["attempts"] == 1
    # started_at is taken before the attempt runs, the timer after it: interval + the attempt's duration
    assert node["wait"]["next_attempt_at_ms"] - node["wait"]["started_at_ms"] in range(59_000, 61_000)

    clock = _Clock()
    fake = FakeBackend(script)
    reg2 = BackendRegistry()
    reg2.register(fake)
    out = DurableRunner(reg2, store=st, options=RunOptions(run_id="r1", clock=clock,
                                                           sleep=clock.sleep)).resume("r1")
    assert out.status == "done"
    assert fake.calls["poll"] == 2  # attempts 2 and 3 (attempt 1 ran before the crash)
    first, second = clock.slept
    assert 58.0 < first <= 60.0  # the rest of the first interval
    # attempt 2 ran ~60 s after the first; timeout_ms (100 s from the first attempt) cuts the next
    # interval to ~40 s; a resume that forgot the start would wait the full 60 s again
    assert 38.0 < second <= 40.5
