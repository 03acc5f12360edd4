"""The SQLite run store: atomic snapshots, intents, lossless values, key material never stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from aisc.numeric import parse_decimal_string
from aisc.runtime import store as store_mod
from aisc.runtime.store import SqliteStore, StoreError, plan_digest

PLAN = {"schema": "ais-plan/0.0.3", "nodes": []}


def test_snapshot_roundtrip_is_lossless(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as st:
        st.create_run("r", PLAN)
        snap = {"root": {"big": 2**200, "dec": parse_decimal_string("1.250"), "neg": -(2**70), "flag": True},
                "nodes": {}}
        assert st.save("r", snap) == {"store": "sqlite", "run_id": "r", "seq": 1}
        st.save("r", {**snap, "root": {"big": 1}})
    with SqliteStore(tmp_path / "s.db") as st:
        rec = st.get_run("r")
        assert rec.state_seq == 2 and rec.state == {"root": {"big": 1}, "nodes": {}}
        first = st.checkpoints("r")[0][2]["root"]
        assert first == {"big": 2**200, "dec": parse_decimal_string("1.250"), "neg": -(2**70), "flag": True}
        assert first["flag"] is True


def test_r186_key_material_is_never_stored(tmp_path: Path) -> None:
    """R186: private keys / seeds / mnemonics are scrubbed from options, snapshots and notes."""
    with SqliteStore(tmp_path / "s.db") as st:
        st.create_run("r", PLAN, options={"config": {"signer": {"private_key": "0xdead"}}, "inputs": {"a": 1}})
        st.save("r", {"root": {"ctx": {"mnemonic": "abandon abandon", "wallet_address": "0xa1"}}, "nodes": {}})
        st.add_note("r", "x", {"seed": "s33d"})
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (b"0xdead", b"abandon abandon", b"s33d"):
        assert secret not in blob
    with SqliteStore(tmp_path / "s.db") as st:
        assert st.get_run("r").options["inputs"] == {"a": 1}


def test_intent_lifecycle_and_reopen(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as st:
        st.create_run("r", PLAN)
        st.record_intent("r", "w", 1, {"chain": "c", "account": "a", "tx_id": "0x1", "nonce": 4, "raw": "0xraw"})
        assert [(i.status, i.nonce, i.raw) for i in st.intents("r", open_only=True)] == [("intent", 4, "0xraw")]
        st.mark_intent("r", "0x1", "dropped", "gone")
        assert st.intents("r", open_only=True) == []
        # the same signed bytes sent again by a later attempt re-open the row
        st.record_intent("r", "w", 2, {"chain": "c", "account": "a", "tx_id": "0x1", "nonce": 4})
        assert [(i.attempt, i.status) for i in st.intents("r")] == [(2, "intent")]
        assert st.mark_intents("r", "w", 2, "confirmed") == 1
        assert st.mark_intents("r", "w", 2, "failed") == 0  # only open intents change
        assert "raw" not in st.intents("r")[0].public()
        with pytest.raises(ValueError):
            st.mark_intent("r", "0x1", "bogus")


STORE_ERRORS = [
    ("unknown-run", lambda st: st.get_run("nope"), "AISC-STORE-003"),
    ("duplicate-run", lambda st: (st.create_run("d", PLAN), st.create_run("d", PLAN)), "AISC-STORE-004"),
    ("save-unknown-run", lambda st: st.save("nope", {"nodes": {}}), "AISC-STORE-003"),
]


@pytest.mark.parametrize(("op", "code"), [c[1:] for c in STORE_ERRORS], ids=[c[0] for c in STORE_ERRORS])
def test_store_errors(op: object, code: str, tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as st, pytest.raises(StoreError) as ei:
        op(st)  # type: ignore[operator]
    assert ei.value.code == code


def test_foreign_schema_and_unwritable_path(tmp_path: Path) -> None:
    import sqlite3

    db = sqlite3.connect(tmp_path / "old.db")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('schema', 'aisc-runs/0')")
    db.commit()
    db.close()
    with pytest.raises(StoreError) as ei:
        SqliteStore(tmp_path / "old.db")
    assert ei.value.code == "AISC-STORE-002"
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError) as ei2:
        SqliteStore(tmp_path / "file" / "runs.db")
    assert ei2.value.code == "AISC-STORE-001"


def test_default_path_follows_aisc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AISC_HOME", str(tmp_path / "h"))
    assert store_mod.default_store_path() == tmp_path / "h" / "runs.db"
    monkeypatch.delenv("AISC_HOME")
    assert store_mod.default_store_path() == Path.home() / ".aisc" / "runs.db"


def test_plan_digest_ignores_created_at_and_embedded_hash() -> None:
    a = {"schema": "ais-plan/0.0.3", "meta": {"name": "n", "created_at": "2020"}, "nodes": [],
         "extensions": {"aisc": {"plan_hash": "0xold", "k": 1}}}
    b = {"schema": "ais-plan/0.0.3", "meta": {"name": "n", "created_at": "2030"}, "nodes": [],
         "extensions": {"aisc": {"k": 1}}}
    assert plan_digest(a) == plan_digest(b)
    assert plan_digest(a) != plan_digest({**b, "meta": {"name": "other"}})


CRASH_SPECS = [
    ("unset", None, frozenset()),
    ("one", "after_intent:w1", frozenset({("after_intent", "w1")})),
    ("many", "before_node:a, after_node:*", frozenset({("before_node", "a"), ("after_node", "*")})),
]


@pytest.mark.parametrize(("spec", "parsed"), [c[1:] for c in CRASH_SPECS], ids=[c[0] for c in CRASH_SPECS])
def test_crash_spec_parsing(spec: str | None, parsed: frozenset[tuple[str, str]]) -> None:
    assert store_mod._parse_crash_spec(spec) == parsed
    assert (store_mod._make_crash_point(spec) is store_mod._noop) is (not parsed)
