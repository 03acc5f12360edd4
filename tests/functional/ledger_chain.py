"""A fake chain kept in SQLite, so broadcasts survive a SIGKILL (crash matrix, secrets test).

Configured like any backend, through the registry's plugin factories::

    backends: {ledger: {factory: "ledger_chain:make_backend"}}
    chains:
      "eip155:31337": {backend: ledger, db: /tmp/chain.db, signer: {env: AISC_TEST_KEY},
                       fail: {w3: "boom", w4: {message: "down", category: rpc_unavailable},
                              w5: {message: "oops", category: bug}}}   # bug = an unexpected exception

Semantics, close to an EVM account: the next nonce is the number of transactions the account has
on the ledger; a transaction's bytes (and so its id) depend only on (node, nonce, evaluated args),
never on the attempt, like an EVM transaction re-signed with the same nonce and fee. Every
broadcast call is appended to ``broadcasts`` (also rejected duplicates), which is what the tests
count. The "signature" is an HMAC with the key: the raw bytes never contain the key itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import threading
from collections.abc import Mapping
from typing import Any

from aisc.backends.base import BackendError, ExecResult, NodeCall, TxIntent
from aisc.runtime.store import crash_point

_DDL = """
CREATE TABLE IF NOT EXISTS txs (tx_id TEXT PRIMARY KEY, account TEXT NOT NULL, nonce INTEGER NOT NULL,
                                node_id TEXT NOT NULL, raw TEXT NOT NULL, UNIQUE (account, nonce));
CREATE TABLE IF NOT EXISTS broadcasts (id INTEGER PRIMARY KEY AUTOINCREMENT, tx_id TEXT NOT NULL,
                                       node_id TEXT NOT NULL, accepted INTEGER NOT NULL);
"""


def connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(_DDL)
    return db


def address_of(key: bytes) -> str:
    return "0x" + hashlib.sha256(b"ledger-address:" + key).hexdigest()[:40]


class LedgerBackend:
    name = "ledger"

    def __init__(self, chain: str, db: str, signer: Any = None, fail: Mapping[str, Any] | None = None,
                 reads: Mapping[str, Any] | None = None) -> None:
        self.chain = chain
        self.db = connect(db)
        self.fail = dict(fail or {})
        self.reads = dict(reads or {})
        self._lock = threading.Lock()
        self._key: bytes | None = None
        if isinstance(signer, Mapping) and isinstance(signer.get("env"), str):
            raw = os.environ.get(signer["env"], "")
            self._key = bytes.fromhex(raw.removeprefix("0x")) if raw else None
        self.address = address_of(self._key) if self._key else None

    def supports(self, chain: str, execution_type: str) -> bool:
        return chain == self.chain

    def signer_address(self, chain: str) -> str | None:
        return self.address

    def preview(self, call: NodeCall) -> dict[str, Any]:
        return {"kind": "execution", "chain": call.chain, "exec_type": call.execution_type}

    def execute(self, call: NodeCall) -> ExecResult:
        args = {k: call.evaluate(v) for k, v in dict(call.execution.get("args") or {}).items()}
        if call.io == "read":
            return ExecResult(outputs={"value": self.reads.get(call.node_id, 7), **args})
        spec = self.fail.get(call.node_id)
        if isinstance(spec, Mapping) and spec.get("category") == "bug":
            raise RuntimeError(str(spec.get("message", "unexpected")))
        if spec is not None:
            msg, category = (spec, "execution_failed") if isinstance(spec, str) else (
                str(spec.get("message")), str(spec.get("category", "execution_failed")))
            raise BackendError(msg, category=category, details={"node": call.node_id})
        if self._key is None or self.address is None:
            return ExecResult(need_user_confirm=("no signer configured", {"chain": call.chain}))
        with self._lock:
            nonce = int(self.db.execute("SELECT COUNT(*) FROM txs WHERE account=?", (self.address,)).fetchone()[0])
            payload = json.dumps({"node": call.node_id, "nonce": nonce, "args": args,
                                  "fn": (call.execution.get("abi") or {}).get("name")},
                                 sort_keys=True, default=str).encode()
            sig = hmac.new(self._key, payload, hashlib.sha256).hexdigest()
            raw = payload.hex() + sig
            tx_id = "0x" + hashlib.sha256(raw.encode()).hexdigest()
            call.record_intent(TxIntent(chain=call.chain, account=self.address, tx_id=tx_id, nonce=nonce, raw=raw))
            self._broadcast(tx_id, nonce, call.node_id, raw)
        crash_point("after_send", call.node_id)
        return self._result(tx_id, nonce)

    def _broadcast(self, tx_id: str, nonce: int, node_id: str, raw: str) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            known = db.execute("SELECT 1 FROM txs WHERE tx_id=?", (tx_id,)).fetchone() is not None
            used = db.execute("SELECT 1 FROM txs WHERE account=? AND nonce=?", (self.address, nonce)).fetchone()
            accepted = not known and used is None
            db.execute("INSERT INTO broadcasts(tx_id, node_id, accepted) VALUES (?, ?, ?)",
                       (tx_id, node_id, int(accepted)))
            if accepted:
                db.execute("INSERT INTO txs(tx_id, account, nonce, node_id, raw) VALUES (?, ?, ?, ?, ?)",
                           (tx_id, self.address, nonce, node_id, raw))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if not accepted and not known:
            raise BackendError("nonce too low", category="execution_failed")

    def _result(self, tx_id: str, nonce: int) -> ExecResult:
        receipt = {"transactionHash": tx_id, "status": 1, "blockNumber": nonce + 1}
        return ExecResult(outputs={"tx_hash": tx_id, "nonce": nonce},
                          events=(("tx_sent", {"tx_hash": tx_id}), ("tx_confirmed", {"receipt": receipt})))

    def reconcile(self, intent: TxIntent) -> ExecResult | None:
        with self._lock:
            row = self.db.execute("SELECT nonce FROM txs WHERE tx_id=?", (intent.tx_id,)).fetchone()
        return None if row is None else self._result(intent.tx_id, int(row[0]))

    def close(self) -> None:
        self.db.close()


def make_backend(chain: str, **config: Any) -> LedgerBackend:
    return LedgerBackend(chain, str(config["db"]), config.get("signer"), config.get("fail"), config.get("reads"))


def broadcasts(path: str) -> dict[str, int]:
    """Broadcast calls per node (accepted or not)."""
    db = connect(path)
    try:
        return {str(n): int(c) for n, c in db.execute("SELECT node_id, COUNT(*) FROM broadcasts GROUP BY node_id")}
    finally:
        db.close()


def ledger(path: str) -> list[tuple[str, int, str]]:
    """(node, nonce, tx_id) of every transaction on the ledger, by nonce."""
    db = connect(path)
    try:
        return [(str(n), int(k), str(t)) for n, k, t in db.execute("SELECT node_id, nonce, tx_id FROM txs ORDER BY nonce")]
    finally:
        db.close()
