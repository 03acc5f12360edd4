"""Resume: restore a checkpoint, reconcile open intents before anything is re-sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from aisc.runtime.durable import ResumeError
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
