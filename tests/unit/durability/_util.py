"""Plan builders and a fake backend with a scriptable reconcile, for the durability unit tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aisc.backends.base import BackendError, ExecResult, TxIntent
from aisc.backends.fake import FakeBackend
from aisc.backends.registry import BackendRegistry
from aisc.ir.plan import Plan, plan_from_json
from aisc.runtime.durable import DurableRunner, Outcome
from aisc.runtime.engine import RunOptions
from aisc.runtime.events import ListSink
from aisc.runtime.hooks import HookSet
from aisc.runtime.store import SqliteStore

CHAIN = "eip155:31337"
ABI = {"type": "function", "name": "f", "inputs": []}


def read(nid: str, **over: Any) -> dict[str, Any]:
    n: dict[str, Any] = {"id": nid, "chain": CHAIN, "kind": "query_ref",
                         "execution": {"type": "evm_read", "to": {"lit": "0x01"}, "abi": ABI, "args": {}}}
    n.update(over)
    return n


def write(nid: str, **over: Any) -> dict[str, Any]:
    n: dict[str, Any] = {"id": nid, "chain": CHAIN, "kind": "action_ref",
                         "execution": {"type": "evm_call", "to": {"lit": "0x00000000000000000000000000000000000000c0"},
                                       "abi": ABI, "args": {}}}
    n.update(over)
    return n


def plan(*nodes: dict[str, Any]) -> Plan:
    return plan_from_json({"schema": "ais-plan/0.0.3", "meta": {"name": "unit"}, "nodes": list(nodes)})


class ReconcilingFake(FakeBackend):
    """FakeBackend whose reconcile answer is scripted: 'landed' | 'dropped' | 'unknown'."""

    def __init__(self, script: Mapping[str, Any] | None = None, answer: str = "landed") -> None:
        super().__init__(script)
        self.answer = answer
        self.reconciled: list[str] = []

    def reconcile(self, intent: TxIntent) -> ExecResult | None:
        self.reconciled.append(intent.tx_id)
        if self.answer == "unknown":
            raise BackendError("rpc down", category="rpc_unavailable", retryable=True)
        if self.answer == "dropped":
            return None
        return ExecResult(outputs={"tx_hash": intent.tx_id})


def runner(tmp: Path, backend: FakeBackend, *, hooks: Any = None, run_id: str = "r1",
           auto_confirm: bool = False, store: SqliteStore | None = None) -> tuple[DurableRunner, SqliteStore, ListSink]:
    reg = BackendRegistry()
    reg.register(backend)
    st = store or SqliteStore(tmp / "runs.db")
    sink = ListSink()
    hs = HookSet([(type(h).__name__, h) for h in hooks]) if hooks else None
    return (DurableRunner(reg, store=st, hooks=hs, sinks=[sink],
                          options=RunOptions(run_id=run_id, auto_confirm=auto_confirm)), st, sink)


def start(tmp: Path, p: Plan, backend: FakeBackend, **kw: Any) -> tuple[Outcome, SqliteStore, ListSink]:
    r, st, sink = runner(tmp, backend, **kw)
    return r.start(p), st, sink
