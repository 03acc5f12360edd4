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
from tests.unit.runtime._helpers import CHAIN as CHAIN
from tests.unit.runtime._helpers import read as read
from tests.unit.runtime._helpers import write as _write


def write(nid: str, **over: Any) -> dict[str, Any]:
    """An ``evm_call`` action node calling ``f()`` (the runtime tests' builder, fixed function)."""
    return _write(nid, fn="f", **over)


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
