"""The checkpoint store: run records, state snapshots, transaction intents, events and notes.

:class:`SqliteStore` is the embedded default (stdlib ``sqlite3``, WAL journal, ``synchronous=FULL``
so every commit is fsync'd before it returns). One database file holds every run; the default is
``$AISC_HOME/runs.db`` with ``AISC_HOME`` defaulting to ``~/.aisc`` (:func:`default_store_path`).

Tables (schema ``aisc-runs/2``; a ``aisc-runs/1`` store is upgraded in place, its runs stay readable):

- ``runs``: run_id, plan hash, plan JSON, status, created/updated, the checkpoint sequence number,
  launch options (config, flags; secrets removed), final error and category.
- Incremental checkpoints (what the engine writes, :meth:`SqliteStore.save_delta`): one commit per
  checkpoint holds only what changed since the previous one, so its cost does not grow with the
  number of nodes already done:

  - ``run_state``: the run-level record (checkpoint sequence number, confirmed scopes);
  - ``node_states``: one row per node (state, attempts, intents, error, pause), rewritten when the
    node changes;
  - ``root_parts``: the runtime root cut into parts, one row per key of a root section
    (``nodes.<id>``, ``query.<id>``, ``calculated.<name>``, ...), rewritten when that part changes;
  - ``deltas``: the log of every checkpoint's changes (``aisc replay --run ID --until-node N``
    folds it back into the state at that moment).

- ``checkpoints``: full snapshots written by :meth:`SqliteStore.save` (``aisc-runs/1`` runs and
  callers that hand over a whole snapshot).
- ``intents``: one row per transaction intent, written *before* the broadcast
  (status ``intent → sent | confirmed | failed | dropped``).
- ``events``: the run's engine events (flushed with the next state commit, and on close).
- ``notes``: durable facts that are not engine state: hook decisions, reconciliation outcomes,
  compensations, resumes.

Snapshots are JSON through the ``ais-json/1`` codec with exact decimals tagged, so a resumed run
sees the very values the crashed run had. Private keys never reach the store: mappings are passed
through :func:`aisc.runtime.events.redact` in ``off`` mode (which still removes key material).

Crash points (tests only): ``AISC_CRASH_AT=<point>:<node>[,<point>:<node>...]`` makes the process
SIGKILL itself at a named point; without the variable :func:`crash_point` is a no-op function.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from aisc.reprs import install_reprs
from aisc.runtime.events import now_rfc3339, redact

STORE_SCHEMA = "aisc-runs/2"
_UPGRADABLE = ("aisc-runs/1",)  # older layouts this version upgrades in place (additive tables)
INTENT_STATUSES = ("intent", "sent", "confirmed", "failed", "dropped")
OPEN_INTENT_STATUSES = ("intent", "sent")
CRASH_POINTS = ("before_node", "after_node", "after_intent", "after_broadcast")


class StoreError(Exception):
    """A store that cannot be opened or a run that does not exist. ``code`` is a diagnostic code."""

    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


# ------------------------------------------------------------------ crash points (tests)


def _parse_crash_spec(spec: str | None) -> frozenset[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for part in (spec or "").split(","):
        point, _, node = part.strip().partition(":")
        if point:
            out.add((point, node))
    return frozenset(out)


def _noop(point: str, node_id: str) -> None:
    return None


def _make_crash_point(spec: str | None) -> Callable[[str, str], None]:
    targets = _parse_crash_spec(spec)
    if not targets:
        return _noop

    def crash(point: str, node_id: str) -> None:
        if (point, node_id) in targets or (point, "*") in targets:
            os.kill(os.getpid(), signal.SIGKILL)

    return crash


crash_point: Callable[[str, str], None] = _make_crash_point(os.environ.get("AISC_CRASH_AT"))
"""``crash_point(point, node_id)``: SIGKILL this process when ``AISC_CRASH_AT`` names the point."""


# ------------------------------------------------------------------ paths and hashing


def aisc_home() -> Path:
    home = os.environ.get("AISC_HOME")
    return Path(home).expanduser() if home else Path.home() / ".aisc"


def default_store_path() -> Path:
    return aisc_home() / "runs.db"


def plan_digest(plan_json: Mapping[str, Any]) -> str:
    """The plan hash of ``aisc compile`` (:func:`aisc.ir.plan.plan_hash`), so that a compiled plan's
    hash and the store's agree."""
    from aisc.ir.plan import plan_hash

    return plan_hash(plan_json)


# ------------------------------------------------------------------ lossless JSON


_DEC = "__aisc_dec"


def _tag(v: Any) -> Any:
    from aisc.numeric import Dec, format_decimal

    if isinstance(v, Dec):
        return {_DEC: format_decimal(v)}
    if isinstance(v, Mapping):
        return {str(k): _tag(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_tag(x) for x in v]
    return v


def _untag(v: Any) -> Any:
    from aisc.numeric import parse_decimal_string

    if isinstance(v, dict):
        if len(v) == 1 and isinstance(v.get(_DEC), str):
            return parse_decimal_string(v[_DEC])
        return {k: _untag(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_untag(x) for x in v]
    return v


def dumps(value: Any) -> str:
    """Lossless JSON text of run data (big ints tagged by ais-json, decimals tagged exactly)."""
    from aisc import aisjson

    return str(aisjson.dumps(_tag(value)))


def loads(text: str) -> Any:
    from aisc import aisjson

    return _untag(aisjson.loads(text))


def scrub(value: Any) -> Any:
    """Key material removed (``private_key``, ``seed``, ``mnemonic``, ...), whatever the mode."""
    return redact(value, "off")


# ------------------------------------------------------------------ records


@attrs.frozen(repr=False)
class RunRecord:
    run_id: str
    plan_hash: str
    status: str
    created_at: str
    updated_at: str
    workflow: str | None = None
    state_seq: int = 0
    error: str | None = None
    category: str | None = None
    plan: Mapping[str, Any] | None = None
    state: Mapping[str, Any] | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "status": self.status, "category": self.category,
                "workflow": self.workflow, "plan_hash": self.plan_hash, "created_at": self.created_at,
                "updated_at": self.updated_at, "checkpoints": self.state_seq, "error": self.error}


@attrs.frozen(repr=False)
class IntentRecord:
    run_id: str
    node_id: str
    attempt: int
    chain: str
    account: str
    tx_id: str
    status: str
    created_at: str
    updated_at: str
    nonce: int | None = None
    blockhash: str | None = None
    raw: str | None = None
    note: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)

    def public(self) -> dict[str, Any]:
        """Everything except the raw signed bytes (what ``runs show`` and history print)."""
        return {"node_id": self.node_id, "attempt": self.attempt, "chain": self.chain,
                "account": self.account, "tx_id": self.tx_id, "nonce": self.nonce,
                "blockhash": self.blockhash, "status": self.status, "note": self.note,
                "created_at": self.created_at, "updated_at": self.updated_at}


_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, plan_hash TEXT NOT NULL, plan_json TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, workflow TEXT, state_json TEXT,
    state_seq INTEGER NOT NULL DEFAULT 0, options_json TEXT NOT NULL DEFAULT '{}', error TEXT, category TEXT);
CREATE TABLE IF NOT EXISTS checkpoints (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, created_at TEXT NOT NULL, state_json TEXT NOT NULL,
    PRIMARY KEY (run_id, seq));
CREATE TABLE IF NOT EXISTS intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, node_id TEXT NOT NULL,
    attempt INTEGER NOT NULL, chain TEXT NOT NULL, account TEXT NOT NULL, tx_id TEXT NOT NULL,
    nonce INTEGER, blockhash TEXT, raw TEXT, extra_json TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL,
    note TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (run_id, tx_id));
CREATE INDEX IF NOT EXISTS intents_by_node ON intents (run_id, node_id, attempt);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts TEXT NOT NULL, type TEXT NOT NULL, node_id TEXT,
    record_json TEXT NOT NULL, PRIMARY KEY (run_id, seq));
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, ts TEXT NOT NULL, kind TEXT NOT NULL,
    node_id TEXT, data_json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS notes_by_run ON notes (run_id, id);
CREATE TABLE IF NOT EXISTS run_state (
    run_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, updated_at TEXT NOT NULL,
    confirmed_json TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS node_states (
    run_id TEXT NOT NULL, node_id TEXT NOT NULL, seq INTEGER NOT NULL, state_json TEXT NOT NULL,
    PRIMARY KEY (run_id, node_id));
CREATE TABLE IF NOT EXISTS root_parts (
    run_id TEXT NOT NULL, section TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, value_json TEXT NOT NULL,
    PRIMARY KEY (run_id, section, key));
CREATE TABLE IF NOT EXISTS deltas (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, created_at TEXT NOT NULL, delta_json TEXT NOT NULL,
    PRIMARY KEY (run_id, seq));
"""

# the section order of a fresh runtime root (aisc.runtime.evaluator.new_root)
_ROOT_ORDER = {k: i for i, k in enumerate(("inputs", "params", "ctx", "query", "contracts", "calculated", "policy",
                                           "nodes"))}
# root_parts.key: WHOLE for a section stored as one value (a non-object section, or the marker {}
# of an object section), KEY_PREFIX + key for one key of an object section
WHOLE = "="
KEY_PREFIX = "."
DELETED = {"__aisc_deleted": True}
"""Marker of a removed root part in a delta log entry."""


@attrs.frozen(repr=False)
class Delta:
    """What changed since the previous checkpoint (handed to :meth:`SqliteStore.save_delta`).

    ``nodes``: ``{node_id: entry}`` (the node entry of ``Engine.snapshot()``); ``sections``: root
    sections written whole; ``parts``: ``{(section, key): value}`` for one key of an object section,
    :data:`DELETED` when the key is gone; ``confirmed``: the confirmed scopes when they changed;
    ``full``: this is the first checkpoint of a run (everything is in it).
    """

    nodes: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    sections: Mapping[str, Any] = attrs.field(factory=dict)
    parts: Mapping[tuple[str, str], Any] = attrs.field(factory=dict)
    confirmed: Sequence[str] | None = None
    full: bool = False



# a run's checkpoint sequence number and last update live in run_state for incremental runs
_RUN_COLUMNS = ("SELECT runs.run_id, plan_hash, status, created_at, MAX(runs.updated_at, COALESCE(run_state.updated_at, "
                "'')), workflow, COALESCE(run_state.seq, state_seq), error, category, ")
_RUN_FROM = "FROM runs LEFT JOIN run_state ON run_state.run_id = runs.run_id "


class SqliteStore:
    """The default checkpoint store (implements the engine's ``CheckpointStore`` seam).

    Thread-safe: one connection guarded by a lock (backend threads record intents while the
    scheduler thread saves snapshots).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        p = Path(path) if path is not None else default_store_path()
        self.path = p
        try:
            if str(p) != ":memory:":
                p.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(p), check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_DDL)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                self._db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)", (STORE_SCHEMA,))
            elif row[0] in _UPGRADABLE:
                self._db.execute("UPDATE meta SET value=? WHERE key='schema'", (STORE_SCHEMA,))
            elif row[0] != STORE_SCHEMA:
                raise StoreError("AISC-STORE-002", f"{p} is a run store of schema {row[0]!r}, not {STORE_SCHEMA!r}",
                                 "use another --store path, or the aisc version that wrote this store")
        except (sqlite3.Error, OSError) as e:
            raise StoreError("AISC-STORE-001", f"cannot open the run store {p}: {e}",
                             "check the path given to --store (or AISC_HOME) and its permissions") from None
        self._lock = threading.RLock()
        self._pending_events: list[tuple[Any, ...]] = []
        self._last_states: dict[str, dict[str, str]] = {}
        self.crash_point = crash_point

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        with self._lock:
            try:
                self._tx(lambda: None)
            finally:
                self._db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tx(self, body: Callable[[], Any]) -> Any:
        """Run ``body`` in one IMMEDIATE transaction together with buffered events; commit (fsync)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                out = body()
                if self._pending_events:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO events(run_id, seq, ts, type, node_id, record_json) "
                        "VALUES (?, ?, ?, ?, ?, ?)", self._pending_events)
                    self._pending_events.clear()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return out

    # ------------------------------------------------------------------ runs

    def create_run(self, run_id: str, plan_json: Mapping[str, Any], *, options: Mapping[str, Any] | None = None,
                   workflow: str | None = None) -> RunRecord:
        now = now_rfc3339()
        digest = plan_digest(plan_json)

        def body() -> None:
            if self._db.execute("SELECT 1 FROM runs WHERE run_id=?", (run_id,)).fetchone():
                raise StoreError("AISC-STORE-004", f"a run with id {run_id!r} already exists in {self.path}",
                                 f"resume it with 'aisc run --resume {run_id}', or choose another --run-id")
            self._db.execute(
                "INSERT INTO runs(run_id, plan_hash, plan_json, status, created_at, updated_at, workflow, "
                "options_json) VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
                (run_id, digest, dumps(plan_json), now, now, workflow, dumps(scrub(dict(options or {})))))

        self._tx(body)
        return self.get_run(run_id)

    def get_run(self, run_id: str, *, full: bool = True) -> RunRecord:
        with self._lock:
            row = self._db.execute(_RUN_COLUMNS + "plan_json, state_json, options_json " + _RUN_FROM + "WHERE runs.run_id=?",
                                   (run_id,)).fetchone()
        if row is None:
            raise StoreError("AISC-STORE-003", f"no run {run_id!r} in {self.path}",
                             "list the stored runs with 'aisc runs list' (and check --store)")
        rec = self._record(row, full)
        if full:
            inc = self._incremental_state(run_id)
            if inc is not None:
                rec = attrs.evolve(rec, state=inc)
        return rec

    def _record(self, row: Sequence[Any], full: bool) -> RunRecord:
        return RunRecord(
            run_id=row[0], plan_hash=row[1], status=row[2], created_at=row[3], updated_at=row[4], workflow=row[5],
            state_seq=row[6], error=row[7], category=row[8],
            plan=loads(row[9]) if full else None,
            state=loads(row[10]) if full and row[10] else None,
            options=loads(row[11]) if full else {},
        )

    def list_runs(self, *, status: str | None = None, limit: int | None = None) -> list[RunRecord]:
        sql = _RUN_COLUMNS + "NULL, NULL, '{}' " + _RUN_FROM
        params: list[Any] = []
        if status is not None:
            sql += " WHERE status=?"
            params.append(status)
        sql += " ORDER BY created_at DESC, runs.run_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [self._record(r, False) for r in rows]

    def set_status(self, run_id: str, status: str, *, category: str | None = None, error: str | None = None) -> None:
        now = now_rfc3339()
        self._tx(lambda: self._db.execute(
            "UPDATE runs SET status=?, category=?, error=?, updated_at=? WHERE run_id=?",
            (status, category, error, now, run_id)))

    def update_options(self, run_id: str, options: Mapping[str, Any]) -> None:
        self._tx(lambda: self._db.execute("UPDATE runs SET options_json=? WHERE run_id=?",
                                          (dumps(scrub(dict(options))), run_id)))

    # ------------------------------------------------------------------ CheckpointStore seam

    def save(self, run_id: str, snapshot: Mapping[str, Any]) -> Mapping[str, Any]:
        """Write the snapshot atomically (runs row + checkpoints row + buffered events, one commit)."""
        state = scrub(dict(snapshot))
        text = dumps(state)
        now = now_rfc3339()

        def body() -> int:
            row = self._db.execute("SELECT state_seq FROM runs WHERE run_id=?", (run_id,)).fetchone()
            if row is None:
                raise StoreError("AISC-STORE-003", f"no run {run_id!r} in {self.path}", "create the run first")
            seq = int(row[0]) + 1
            self._db.execute("UPDATE runs SET state_json=?, state_seq=?, updated_at=? WHERE run_id=?",
                             (text, seq, now, run_id))
            self._db.execute("INSERT INTO checkpoints(run_id, seq, created_at, state_json) VALUES (?, ?, ?, ?)",
                             (run_id, seq, now, text))
            return seq

        seq = self._tx(body)
        self._after_save(run_id, state)
        return {"store": "sqlite", "run_id": run_id, "seq": seq}

    def save_delta(self, run_id: str, delta: Delta) -> Mapping[str, Any]:
        """Commit one incremental checkpoint (changed node rows, changed root parts, the run-level
        record, a ``deltas`` log row and the buffered events) in one transaction.

        The cost depends on the size of the change, not on the size of the run.
        """
        now = now_rfc3339()
        nodes = [(nid, dumps(scrub(dict(e)))) for nid, e in delta.nodes.items()]
        sections: list[tuple[str, Any, list[tuple[str, str]]]] = []
        for sec, value in delta.sections.items():
            v = scrub(value) if isinstance(value, Mapping | list | tuple) else value
            if isinstance(v, Mapping):
                sections.append((sec, dumps({}), [(KEY_PREFIX + str(k), dumps(x)) for k, x in v.items()]))
            else:
                sections.append((sec, dumps(v), []))
        parts: list[tuple[str, str, str | None]] = []
        for (sec, key), value in delta.parts.items():
            if value is DELETED:
                parts.append((sec, KEY_PREFIX + key, None))
            else:
                parts.append((sec, KEY_PREFIX + key, dumps(scrub({key: value})[key])))
        log: dict[str, Any] = {"nodes": {nid: {"$json": text} for nid, text in nodes}}
        if delta.full:
            log["full"] = True
        if delta.confirmed is not None:
            log["confirmed"] = sorted(str(c) for c in delta.confirmed)
        # the log repeats the JSON texts already made for the rows (spliced in, not re-encoded)
        log_text = _splice(log, sections, parts)

        def body() -> int:
            # the runs row (which holds the plan) is not touched: its size grows with the plan
            db = self._db
            row = db.execute("SELECT seq FROM run_state WHERE run_id=?", (run_id,)).fetchone()
            if row is None:
                row = db.execute("SELECT state_seq FROM runs WHERE run_id=?", (run_id,)).fetchone()
                if row is None:
                    raise StoreError("AISC-STORE-003", f"no run {run_id!r} in {self.path}", "create the run first")
            seq = int(row[0]) + 1
            if delta.confirmed is not None or delta.full:
                db.execute("INSERT INTO run_state(run_id, seq, updated_at, confirmed_json) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT(run_id) DO UPDATE SET seq=excluded.seq, updated_at=excluded.updated_at, "
                           "confirmed_json=excluded.confirmed_json",
                           (run_id, seq, now, dumps(log.get("confirmed", []))))
            else:
                db.execute("UPDATE run_state SET seq=?, updated_at=? WHERE run_id=?", (seq, now, run_id))
            if delta.full:
                for table in ("node_states", "root_parts"):
                    db.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))
            if nodes:
                db.executemany("INSERT INTO node_states(run_id, node_id, seq, state_json) VALUES (?, ?, ?, ?) "
                               "ON CONFLICT(run_id, node_id) DO UPDATE SET seq=excluded.seq, "
                               "state_json=excluded.state_json", [(run_id, nid, seq, t) for nid, t in nodes])
            upsert = ("INSERT INTO root_parts(run_id, section, key, seq, value_json) VALUES (?, ?, ?, ?, ?) "
                      "ON CONFLICT(run_id, section, key) DO UPDATE SET seq=excluded.seq, value_json=excluded.value_json")
            for sec, head, keys in sections:
                db.execute("DELETE FROM root_parts WHERE run_id=? AND section=?", (run_id, sec))
                db.execute(upsert, (run_id, sec, WHOLE, seq, head))
                if keys:
                    db.executemany(upsert, [(run_id, sec, k, seq, t) for k, t in keys])
            for sec, key, text in parts:
                if text is None:
                    db.execute("DELETE FROM root_parts WHERE run_id=? AND section=? AND key=?", (run_id, sec, key))
                else:
                    db.execute(upsert, (run_id, sec, key, seq, text))
            db.execute("INSERT INTO deltas(run_id, seq, created_at, delta_json) VALUES (?, ?, ?, ?)",
                       (run_id, seq, now, log_text))
            return seq

        seq = self._tx(body)
        for nid, entry in delta.nodes.items():
            if entry.get("state") in ("done", "skipped"):
                self.crash_point("after_node", nid)
        return {"store": "sqlite", "run_id": run_id, "seq": seq}

    def state(self, run_id: str) -> dict[str, Any] | None:
        """The latest checkpointed state ``{run_id, root, confirmed, nodes}`` (None before the
        first checkpoint), rebuilt from the incremental rows or read from a full snapshot."""
        state = self.get_run(run_id).state
        return dict(state) if state is not None else None

    def is_incremental(self, run_id: str) -> bool:
        """True when the run's state is kept as incremental rows (runs written by this version)."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM run_state WHERE run_id=?", (run_id,)).fetchone() is not None

    def _incremental_state(self, run_id: str) -> dict[str, Any] | None:
        with self._lock:
            head = self._db.execute("SELECT confirmed_json FROM run_state WHERE run_id=?", (run_id,)).fetchone()
            if head is None:
                return None
            node_rows = self._db.execute(
                "SELECT node_id, state_json FROM node_states WHERE run_id=? ORDER BY rowid", (run_id,)).fetchall()
            part_rows = self._db.execute(
                "SELECT section, key, value_json FROM root_parts WHERE run_id=? ORDER BY rowid", (run_id,)).fetchall()
        root: dict[str, Any] = {}
        wholes = {sec: text for sec, key, text in part_rows if key == WHOLE}
        for sec in sorted(wholes, key=lambda x: (_ROOT_ORDER.get(x, len(_ROOT_ORDER)), x)):
            root[sec] = loads(wholes[sec])
        for sec, key, text in part_rows:
            if key != WHOLE and isinstance(root.get(sec), dict):
                root[sec][key[len(KEY_PREFIX):]] = loads(text)
        return {"run_id": run_id, "root": root, "confirmed": list(loads(head[0])),
                "nodes": {nid: loads(text) for nid, text in node_rows}}

    def _after_save(self, run_id: str, state: Mapping[str, Any]) -> None:
        nodes = state.get("nodes")
        if not isinstance(nodes, Mapping):
            return
        now = {nid: str(n.get("state")) for nid, n in nodes.items() if isinstance(n, Mapping)}
        before = self._last_states.get(run_id, {})
        self._last_states[run_id] = now
        for nid, st in now.items():
            if st in ("done", "skipped") and before.get(nid) != st:
                self.crash_point("after_node", nid)

    def record_intent(self, run_id: str, node_id: str, attempt: int, intent: Mapping[str, Any]) -> None:
        """Persist a transaction intent (committed and fsync'd) before the backend broadcasts."""
        now = now_rfc3339()
        extra = scrub({k: v for k, v in intent.items()
                       if k not in ("chain", "account", "tx_id", "nonce", "blockhash", "raw", "attempt")})
        nonce = intent.get("nonce")
        self._tx(lambda: self._db.execute(
            "INSERT INTO intents(run_id, node_id, attempt, chain, account, tx_id, nonce, blockhash, raw, "
            "extra_json, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'intent', ?, ?) "
            "ON CONFLICT(run_id, tx_id) DO UPDATE SET node_id=excluded.node_id, attempt=excluded.attempt, "
            "status='intent', note=NULL, raw=excluded.raw, updated_at=excluded.updated_at",
            (run_id, node_id, attempt, str(intent.get("chain", "")), str(intent.get("account", "")),
             str(intent.get("tx_id", "")), nonce if isinstance(nonce, int) and not isinstance(nonce, bool) else None,
             intent.get("blockhash"), intent.get("raw"), dumps(extra), now, now)))
        self.crash_point("after_intent", node_id)

    def mark_intents(self, run_id: str, node_id: str, attempt: int, status: str, note: str | None = None,
                     *, only_open: bool = True) -> int:
        """Set the status of the intents of one node attempt; returns the number of rows changed."""
        if status not in INTENT_STATUSES:
            raise ValueError(f"unknown intent status {status!r}")
        now = now_rfc3339()
        cond = " AND status IN ('intent', 'sent')" if only_open else ""
        cur = self._tx(lambda: self._db.execute(
            f"UPDATE intents SET status=?, note=?, updated_at=? WHERE run_id=? AND node_id=? AND attempt=?{cond}",
            (status, note, now, run_id, node_id, attempt)))
        return int(cur.rowcount)

    def mark_intent(self, run_id: str, tx_id: str, status: str, note: str | None = None) -> None:
        if status not in INTENT_STATUSES:
            raise ValueError(f"unknown intent status {status!r}")
        now = now_rfc3339()
        self._tx(lambda: self._db.execute(
            "UPDATE intents SET status=?, note=?, updated_at=? WHERE run_id=? AND tx_id=?",
            (status, note, now, run_id, tx_id)))

    def intents(self, run_id: str, *, open_only: bool = False) -> list[IntentRecord]:
        sql = ("SELECT run_id, node_id, attempt, chain, account, tx_id, status, created_at, updated_at, nonce, "
               "blockhash, raw, note, extra_json FROM intents WHERE run_id=?")
        if open_only:
            sql += " AND status IN ('intent', 'sent')"
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", (run_id,)).fetchall()
        return [IntentRecord(run_id=r[0], node_id=r[1], attempt=r[2], chain=r[3], account=r[4], tx_id=r[5],
                             status=r[6], created_at=r[7], updated_at=r[8], nonce=r[9], blockhash=r[10], raw=r[11],
                             note=r[12], extra=loads(r[13])) for r in rows]

    # ------------------------------------------------------------------ checkpoints, events, notes

    def checkpoints(self, run_id: str) -> CheckpointLog:
        """Every checkpoint of the run in order, as ``(seq, created_at, state)`` (see
        :class:`CheckpointLog`): folded from the ``deltas`` log, or read from full snapshots."""
        with self._lock:
            rows = self._db.execute("SELECT seq, created_at, delta_json FROM deltas WHERE run_id=? ORDER BY seq",
                                    (run_id,)).fetchall()
            if rows:
                return CheckpointLog(run_id, [(int(r[0]), str(r[1]), str(r[2])) for r in rows], incremental=True)
            rows = self._db.execute("SELECT seq, created_at, state_json FROM checkpoints WHERE run_id=? ORDER BY seq",
                                    (run_id,)).fetchall()
        return CheckpointLog(run_id, [(int(r[0]), str(r[1]), str(r[2])) for r in rows], incremental=False)

    def event_sink(self, run_id: str) -> StoreEventSink:
        return StoreEventSink(self, run_id)

    def _buffer_event(self, record: Mapping[str, Any]) -> None:
        from aisc.runtime.events import dumps_record

        ev = record.get("event") or {}
        row = (str(record.get("run_id")), int(record.get("seq", 0)), str(record.get("ts", "")),
               str(ev.get("type", "")), ev.get("node_id"), dumps_record(record))
        with self._lock:
            self._pending_events.append(row)

    def flush(self) -> None:
        self._tx(lambda: None)

    def events(self, run_id: str) -> list[dict[str, Any]]:
        from aisc import aisjson

        with self._lock:
            rows = self._db.execute("SELECT record_json FROM events WHERE run_id=? ORDER BY seq", (run_id,)).fetchall()
        return [aisjson.loads(r[0]) for r in rows]

    def last_event_seq(self, run_id: str) -> int:
        with self._lock:
            pend = [r[1] for r in self._pending_events if r[0] == run_id]
            row = self._db.execute("SELECT MAX(seq) FROM events WHERE run_id=?", (run_id,)).fetchone()
        best = row[0] if row and row[0] is not None else -1
        return int(max([int(best), *pend]))

    def add_note(self, run_id: str, kind: str, data: Mapping[str, Any], node_id: str | None = None) -> None:
        now = now_rfc3339()
        self._tx(lambda: self._db.execute(
            "INSERT INTO notes(run_id, ts, kind, node_id, data_json) VALUES (?, ?, ?, ?, ?)",
            (run_id, now, kind, node_id, dumps(scrub(dict(data))))))

    def notes(self, run_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT ts, kind, node_id, data_json FROM notes WHERE run_id=?"
        params: list[Any] = [run_id]
        if kind is not None:
            sql += " AND kind=?"
            params.append(kind)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", params).fetchall()
        return [{"ts": r[0], "kind": r[1], "node_id": r[2], "data": loads(r[3])} for r in rows]

    def delete_run(self, run_id: str) -> None:
        def body() -> None:
            for table in ("runs", "checkpoints", "intents", "events", "notes", "run_state", "node_states",
                          "root_parts", "deltas"):
                self._db.execute(f"DELETE FROM {table} WHERE run_id=?", (run_id,))

        self._tx(body)


def _splice(log: dict[str, Any], sections: Sequence[tuple[str, str, Sequence[tuple[str, str]]]],
            parts: Sequence[tuple[str, str, str | None]]) -> str:
    """The JSON text of a delta log entry, reusing the JSON texts of its rows.

    ``{"nodes": {id: entry}, "sections": {name: value}, "parts": [[section, key, value|DELETED]],
    "confirmed"?: [...], "full"?: true}``.
    """
    import json

    def jstr(x: str) -> str:
        return json.dumps(x, ensure_ascii=False)

    nodes = ",".join(f"{jstr(nid)}:{e['$json']}" for nid, e in log["nodes"].items())
    secs = []
    for sec, head, keys in sections:
        if keys:
            secs.append(jstr(sec) + ":{" + ",".join(f"{jstr(k[len(KEY_PREFIX):])}:{t}" for k, t in keys) + "}")
        else:
            secs.append(f"{jstr(sec)}:{head}")
    deleted = dumps(DELETED)
    prts = ",".join(f"[{jstr(sec)},{jstr(key[len(KEY_PREFIX):])},{t if t is not None else deleted}]"
                    for sec, key, t in parts)
    extra = "".join(f",{jstr(k)}:{dumps(log[k])}" for k in ("confirmed", "full") if k in log)
    return f'{{"nodes":{{{nodes}}},"sections":{{{",".join(secs)}}},"parts":[{prts}]{extra}}}'


def apply_delta(state: dict[str, Any], delta: Mapping[str, Any]) -> None:
    """Fold one ``deltas`` log entry (as loaded) into ``state`` (``{root, confirmed, nodes}``) in place."""
    if delta.get("full"):
        state["root"] = {}
        state["nodes"] = {}
    root = state.setdefault("root", {})
    nodes = state.setdefault("nodes", {})
    for nid, entry in (delta.get("nodes") or {}).items():
        nodes[nid] = entry
    for sec, value in (delta.get("sections") or {}).items():
        root[sec] = value
    for sec, key, value in delta.get("parts") or ():
        target = root.get(sec)
        if not isinstance(target, dict):
            target = root[sec] = {}
        if value == DELETED:
            target.pop(key, None)
        else:
            target[key] = value
    if "confirmed" in delta:
        state["confirmed"] = list(delta["confirmed"])


class CheckpointLog(Sequence[tuple[int, str, dict[str, Any]]]):
    """The checkpoints of one run, ``(seq, created_at, state)`` in order.

    For an incremental run the states are folded from the delta log on demand: iterating folds
    once, front to back, and yields **the same state object** updated in place at every step (copy
    it to keep one); indexing folds up to that entry and returns an independent state. Either way
    a whole walk costs the size of the log, not checkpoints x nodes.
    """

    def __init__(self, run_id: str, rows: list[tuple[int, str, str]], *, incremental: bool) -> None:
        self.run_id = run_id
        self._rows = rows
        self.incremental = incremental

    def __len__(self) -> int:
        return len(self._rows)

    def _fresh(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "root": {}, "confirmed": [], "nodes": {}}

    def __iter__(self) -> Any:
        if not self.incremental:
            for seq, ts, text in self._rows:
                yield seq, ts, loads(text)
            return
        state = self._fresh()
        for seq, ts, text in self._rows:
            apply_delta(state, loads(text))
            yield seq, ts, state

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        seq, ts, text = self._rows[i]
        if not self.incremental:
            return seq, ts, loads(text)
        idx = i if i >= 0 else len(self._rows) + i
        state = self._fresh()
        for _, _, t in self._rows[: idx + 1]:
            apply_delta(state, loads(t))
        return seq, ts, state


class StoreEventSink:
    """An engine event sink that keeps the run's events in the store (committed with the next
    state write, or on ``close``)."""

    def __init__(self, store: SqliteStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id

    def emit(self, record: Mapping[str, Any]) -> None:
        self.store._buffer_event(record)

    def close(self) -> None:
        self.store.flush()


def open_store(path: str | os.PathLike[str] | None) -> SqliteStore:
    """Open (creating if needed) the store at ``path`` or the default location."""
    return SqliteStore(path)


def states_of(snapshot: Mapping[str, Any] | None) -> dict[str, str]:
    """``{node_id: state}`` from a snapshot (empty when there is none)."""
    nodes = (snapshot or {}).get("nodes")
    if not isinstance(nodes, Mapping):
        return {}
    return {str(k): str(v.get("state")) for k, v in nodes.items() if isinstance(v, Mapping)}


def iter_open(intents: Iterable[IntentRecord]) -> list[IntentRecord]:
    return [i for i in intents if i.status in OPEN_INTENT_STATUSES]


install_reprs(__name__)
