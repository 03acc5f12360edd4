"""Durable runs: the engine wrapped with a checkpoint store, crash-safe resume, governance hooks and
compensation. ``aisc run`` and ``aisc bridge`` both drive plans through :class:`DurableRunner`.

No double broadcast, step by step:

1. The backend calls ``NodeCall.record_intent`` before it broadcasts; the engine hands the intent
   to :meth:`SqliteStore.record_intent`, which commits (fsync) before returning.
2. When ``execute`` returns, the guard marks the attempt's intents ``confirmed`` (``failed`` on a
   revert; left open when the fate is unknown: timeout, RPC down, unexpected error).
3. On resume, before the scheduler starts, every intent that is not final for a node that is not
   complete goes through ``Backend.reconcile``: landed → the node completes with that result (the
   same write-back, assert and events as a live result); surely not landed → ``dropped`` and the
   node runs again as a new attempt; undecidable → the node pauses (nothing is re-sent).

Each write-node attempt therefore broadcasts at most once, and a landed transaction is never sent
again. The crash matrix test (tests/functional/test_crash_matrix.py) kills the process at every
point named in :data:`aisc.runtime.store.CRASH_POINTS` and checks it.
"""

from __future__ import annotations

import heapq
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from aisc.backends.base import Backend, BackendError, ExecResult, NodeCall, TxIntent, io_kind
from aisc.ir.plan import Plan, PlanError, node_to_json, plan_from_json, plan_to_json
from aisc.reprs import install_reprs
from aisc.runtime import categories as cat
from aisc.runtime.compensation import run_compensations, specs_of
from aisc.runtime.engine import COMPLETE, CommandSource, Engine, Router, RunOptions, RunResult
from aisc.runtime.events import EventSink, MultiSink, error_object
from aisc.runtime.hooks import HookDecision, HookSet
from aisc.runtime.store import SqliteStore, StoreError, crash_point, plan_digest

# a BackendError of these categories after a broadcast means the transaction's fate is known
_FINAL_FAILURE = frozenset({"execution_failed", "validation", "policy_blocked"})


class ResumeError(Exception):
    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


@attrs.frozen(repr=False)
class Outcome:
    """How a durable run ended."""

    run_id: str
    status: str  # done | failed | paused | policy_blocked | timeout | cancelled | internal
    category: str | None
    result: RunResult | None = None
    error: str | None = None
    error_node: str | None = None
    paused: tuple[Mapping[str, Any], ...] = ()
    compensations: tuple[Mapping[str, Any], ...] = ()
    hook_decision: Mapping[str, Any] | None = None
    plan: Plan | None = None
    resumed: bool = False
    reconciled: tuple[Mapping[str, Any], ...] = ()

    @property
    def exit_code(self) -> int:
        return cat.exit_code(self.category)


class _ErrorCapture:
    """Remembers the first ``error`` event (its node and category) of the run."""

    def __init__(self) -> None:
        self.first: dict[str, Any] | None = None
        self.by_node: dict[str, dict[str, Any]] = {}

    def emit(self, record: Mapping[str, Any]) -> None:
        ev = record.get("event") or {}
        if ev.get("type") != "error":
            return
        data = dict(ev.get("data") or {})
        info = {"node_id": ev.get("node_id"), "reason": data.get("reason"), "category": data.get("category")}
        if self.first is None:
            self.first = info
        if ev.get("node_id"):
            self.by_node[str(ev["node_id"])] = info

    def close(self) -> None:
        pass


class Guard:
    """Per-run state shared by the guarded backends: store, hooks, crash points, node lookup."""

    def __init__(self, run_id: str, plan: Plan, store: SqliteStore | None, hooks: HookSet,
                 context: Mapping[str, Any], *, auto_confirm_hooks: bool) -> None:
        self.run_id = run_id
        self.store = store
        self.hooks = hooks
        self.context = dict(context)
        self.auto_confirm_hooks = auto_confirm_hooks
        self.engine: Engine | None = None
        self._nodes: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.add_plan(plan)

    def add_plan(self, plan: Plan) -> None:
        with self._lock:
            for n in plan.nodes:
                self._nodes[n.id] = node_to_json(n)

    def node_json(self, node_id: str) -> dict[str, Any]:
        with self._lock:
            return self._nodes.get(node_id) or {"id": node_id}

    def params_of(self, node_id: str) -> dict[str, Any]:
        eng = self.engine
        if eng is None or node_id not in eng.runs:
            return {}
        return dict(eng.runs[node_id].params)

    def confirmed(self, node_id: str) -> bool:
        eng = self.engine
        return self.auto_confirm_hooks or (eng is not None and node_id in eng.confirmed)

    def note(self, kind: str, data: Mapping[str, Any], node_id: str | None = None) -> None:
        if self.store is not None:
            self.store.add_note(self.run_id, kind, data, node_id)

    def hook_error(self, name: str, method: str, exc: BaseException) -> None:
        self.note("hook_error", {"hook": name, "method": method, "error": f"{type(exc).__name__}: {exc}"})


class GuardedBackend:
    """Wraps a backend: crash points, hooks around each step, intent status bookkeeping."""

    def __init__(self, inner: Backend, guard: Guard) -> None:
        self.inner = inner
        self.guard = guard
        self.name = inner.name

    def supports(self, chain: str, execution_type: str) -> bool:
        return self.inner.supports(chain, execution_type)

    def preview(self, call: NodeCall) -> dict[str, Any]:
        return self.inner.preview(call)

    def reconcile(self, intent: TxIntent) -> ExecResult | None:
        return self.inner.reconcile(intent)

    def signer_address(self, chain: str) -> str | None:
        return self.inner.signer_address(chain)

    def close(self) -> None:
        self.inner.close()

    def execute(self, call: NodeCall) -> ExecResult:
        g = self.guard
        nid = call.node_id
        write = call.io == "write"
        crash_point("before_node", nid)
        node = g.node_json(nid)
        ctx = {**g.context, "node_id": nid, "attempt": call.attempt}
        if g.hooks:
            d = g.hooks.pre_step(node, g.params_of(nid), ctx)
            if d.action == "veto":
                g.note("hook_veto", {**d.to_json(), "phase": "pre_step", "attempt": call.attempt}, nid)
                raise BackendError(f"vetoed by governance hook {d.hook}: {d.reason}", category="policy_blocked",
                                   details={"hook": d.hook, "decision": "veto", "reason": d.reason})
            if d.action == "pause":
                if not g.confirmed(nid):
                    g.note("hook_pause", {**d.to_json(), "phase": "pre_step", "attempt": call.attempt}, nid)
                    return ExecResult(need_user_confirm=(
                        f"paused by governance hook {d.hook}: {d.reason}",
                        {"hook": d.hook, "source": "governance_hook", "hit_reasons": [d.reason or "hook pause"]}))
                g.note("hook_pause_confirmed", {**d.to_json(), "phase": "pre_step", "attempt": call.attempt}, nid)
        try:
            res = self.inner.execute(call)
        except BackendError as e:
            if write and g.store is not None and e.category in _FINAL_FAILURE:
                g.store.mark_intents(g.run_id, nid, call.attempt, "failed", str(e))
            if g.hooks:
                g.hooks.on_step_result(node, {"ok": False, "error": {"message": str(e), "category": e.category,
                                                                     "retryable": e.retryable}}, ctx)
            raise
        except Exception as e:
            if g.hooks:
                g.hooks.on_step_result(node, {"ok": False, "error": {"message": f"{type(e).__name__}: {e}",
                                                                     "category": "internal", "retryable": False}}, ctx)
            raise
        if write:
            crash_point("after_broadcast", nid)
            if g.store is not None and res.need_user_confirm is None:
                g.store.mark_intents(g.run_id, nid, call.attempt, "confirmed")
        if g.hooks:
            g.hooks.on_step_result(node, {"ok": res.need_user_confirm is None, "outputs": dict(res.outputs),
                                          **({"paused": res.need_user_confirm[0]} if res.need_user_confirm else {})},
                                   ctx)
        return res


class GuardedRouter:
    def __init__(self, inner: Router, guard: Guard) -> None:
        self.inner = inner
        self.guard = guard
        self._wrapped: dict[int, GuardedBackend] = {}
        self._lock = threading.Lock()

    def for_node(self, chain: str, execution_type: str) -> Backend:
        b = self.inner.for_node(chain, execution_type)
        with self._lock:
            w = self._wrapped.get(id(b))
            if w is None:
                w = self._wrapped[id(b)] = GuardedBackend(b, self.guard)
            return w


class _Relay:
    """The emitter a compensation engine uses: the main run's emitter minus ``plan_ready``."""

    def __init__(self, main: Any) -> None:
        self.main = main
        self.run_id = main.run_id

    def emit(self, etype: str, data: Mapping[str, Any] | None = None, *, node_id: str | None = None,
             extensions: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if etype == "plan_ready":
            return {}
        ext = {"aisc": {"compensation": True}, **dict(extensions or {})}
        out: dict[str, Any] = self.main.emit(etype, data, node_id=node_id, extensions=ext)
        return out


class _IntentOnlyStore:
    """Compensation engines record intents under the run id but never overwrite its snapshot."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def save(self, run_id: str, snapshot: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"store": "sqlite", "run_id": run_id, "compensation": True}

    def record_intent(self, run_id: str, node_id: str, attempt: int, intent: Mapping[str, Any]) -> None:
        self.store.record_intent(run_id, node_id, attempt, intent)


def restore(engine: Engine, snapshot: Mapping[str, Any], *, incremental: bool = True) -> None:
    """Put a checkpoint back into a fresh engine: root, confirmations, node states, attempts.

    Complete nodes (done/skipped) stay complete; every other node becomes pending again (a paused
    node is re-checked, a failed one gets a new attempt). Raises ResumeError on a mismatched plan.
    ``incremental``: the store already holds this state as incremental rows, so the next checkpoint
    only writes what changes from here (the nodes put back to pending, then the run's progress);
    False (a full snapshot of an older store) makes the next checkpoint write everything.
    """
    nodes = snapshot.get("nodes")
    if not isinstance(nodes, Mapping) or set(nodes) != set(engine.runs):
        raise ResumeError("AISC-RESUME-002", "the checkpoint does not match the plan's node ids",
                          "resume with the plan the run started with (the store keeps it)")
    root = snapshot.get("root")
    if isinstance(root, Mapping):
        engine.root.clear()
        engine.root.update({k: v for k, v in root.items()})
    engine.confirmed = {str(x) for x in snapshot.get("confirmed") or ()}
    complete: set[str] = set()
    now, offset = engine.opts.clock(), engine._wall_offset()
    for nid, ns in nodes.items():
        r = engine.runs[nid]
        r.attempts = int(ns.get("attempts") or 0)
        r.intents = [dict(i) for i in ns.get("intents") or ()]
        st = ns.get("state")
        wait = ns.get("wait")
        if st in COMPLETE:
            r.state = st
            complete.add(nid)
        elif st == "waiting" and isinstance(wait, Mapping) and _is_ms(wait.get("next_attempt_at_ms")):
            # a polling node between attempts: it waits out the rest of its interval (docs/durability.md)
            r.state = "waiting"
            r.error = r.failure = r.pause = None
            r.next_attempt_at = max(now, engine._clock_at(wait["next_attempt_at_ms"], offset))  # past due: now
            if _is_ms(wait.get("started_at_ms")):
                r.started_at = min(now, engine._clock_at(wait["started_at_ms"], offset))
            heapq.heappush(engine._timers, (r.next_attempt_at, r.index))
        else:
            if st != "pending" or r.error is not None or ns.get("pause") is not None:
                engine._dirty_nodes.add(nid)
            r.state = "pending"
            r.error = None
            r.failure = None
            r.pause = None
    if incremental:
        engine._dirty_all = False
    for n in engine.plan.nodes:
        engine._waiting_deps[n.id] = len({d for d in n.dep_ids if d not in complete})
    cands = [r.index for r in engine.runs.values() if r.state == "pending" and engine._waiting_deps[r.node.id] == 0]
    heapq.heapify(cands)
    engine._candidates = cands
    engine._in_candidates = set(cands)


def _is_ms(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _adopt(engine: Engine, node_id: str, attempt: int, result: ExecResult, account: str) -> None:
    """Complete a node from a reconciled result through the engine's normal completion path."""
    r = engine.runs[node_id]
    n = r.node
    r.io = "write"
    r.lane = (n.chain, account)
    r.state = "running"
    r.attempts = max(r.attempts, attempt)
    engine._running += 1
    engine._writes[r.lane] += 1
    engine._finished(node_id, result)


def reconcile(engine: Engine, store: SqliteStore, router: Router, guard: Guard) -> list[dict[str, Any]]:
    """Settle every open intent of a node that is not complete, before anything is re-sent."""
    out: list[dict[str, Any]] = []
    by_node: dict[str, list[Any]] = {}
    for it in store.intents(engine.run_id):
        r = engine.runs.get(it.node_id)
        if r is None or r.state in COMPLETE:
            if it.status in ("intent", "sent"):
                store.mark_intent(engine.run_id, it.tx_id, "confirmed", "node already complete in the checkpoint")
            continue
        if it.status in ("intent", "sent", "confirmed"):
            by_node.setdefault(it.node_id, []).append(it)
    for nid, intents in by_node.items():
        r = engine.runs[nid]
        landed: list[tuple[Any, ExecResult]] = []
        undecided: list[tuple[Any, str]] = []
        dropped: list[Any] = []
        for it in intents:
            intent = TxIntent(chain=it.chain, account=it.account, tx_id=it.tx_id, nonce=it.nonce,
                              blockhash=it.blockhash, raw=it.raw, extra=dict(it.extra))
            try:
                backend = router.for_node(it.chain, r.node.execution_type)
                res = backend.reconcile(intent)
            except BackendError as e:
                undecided.append((it, str(e)))
                continue
            if res is None:
                dropped.append(it)
            else:
                landed.append((it, res))
        for it in dropped:
            store.mark_intent(engine.run_id, it.tx_id, "dropped", "reconciled on resume: not on chain")
            out.append({"node_id": nid, "tx_id": it.tx_id, "attempt": it.attempt, "outcome": "dropped"})
        for it, _ in landed:
            store.mark_intent(engine.run_id, it.tx_id, "confirmed", "reconciled on resume: landed")
            out.append({"node_id": nid, "tx_id": it.tx_id, "attempt": it.attempt, "outcome": "landed"})
        for it, why in undecided:
            out.append({"node_id": nid, "tx_id": it.tx_id, "attempt": it.attempt, "outcome": "undecided",
                        "error": why})
        if undecided or (landed and dropped):
            reason = ("the fate of an in-flight transaction is unknown; nothing was re-sent" if undecided
                      else "part of this node's transactions landed; nothing was re-sent")
            details = {"intents": [{"tx_id": it.tx_id, "attempt": it.attempt} for it in intents],
                       "errors": [w for _, w in undecided]}
            engine._pause(r, reason, details, kind="reconcile")
            guard.note("reconcile_undecided", {"reason": reason, **details}, nid)
            if guard.hooks:
                guard.hooks.on_panic(engine.run_id, f"{nid}: {reason}", guard.context)
            continue
        if landed:
            it, res = landed[-1]
            guard.note("reconciled", {"tx_id": it.tx_id, "attempt": it.attempt, "outcome": "landed"}, nid)
            _adopt(engine, nid, it.attempt, res, it.account)
        elif dropped:
            guard.note("reconciled", {"tx_ids": [it.tx_id for it in dropped], "outcome": "dropped"}, nid)
    return out


class DurableRunner:
    """Starts or resumes runs with a store, hooks and compensation around the engine."""

    def __init__(
        self,
        router: Router,
        *,
        store: SqliteStore | None = None,
        hooks: HookSet | None = None,
        sinks: Sequence[EventSink] = (),
        commands: CommandSource | None = None,
        options: RunOptions | None = None,
        compensate: bool = True,
    ) -> None:
        self.router = router
        self.store = store
        self.hooks = hooks or HookSet()
        self.sinks = list(sinks)
        self.commands = commands
        self.options = options or RunOptions()
        self.compensate = compensate
        self.engine: Engine | None = None

    # ------------------------------------------------------------------ entry points

    def start(self, plan: Plan, *, inputs: Mapping[str, Any] | None = None, ctx: Mapping[str, Any] | None = None,
              launch: Mapping[str, Any] | None = None) -> Outcome:
        run_id = self.options.run_id or uuid.uuid4().hex
        opts = attrs.evolve(self.options, run_id=run_id)
        if self.store is not None:
            name = plan.meta.name if plan.meta is not None else None
            self.store.create_run(run_id, plan_to_json(plan), workflow=name,
                                  options={"inputs": dict(inputs or {}), "ctx": dict(ctx or {}), **dict(launch or {})})
        return self._execute(plan, opts, inputs, ctx, snapshot=None)

    def resume(self, run_id: str) -> Outcome:
        if self.store is None:
            raise ResumeError("AISC-RESUME-001", "resuming needs a run store", "pass --store PATH (or drop --no-store)")
        rec = self.store.get_run(run_id)
        if rec.status == "done":
            raise ResumeError("AISC-RESUME-003", f"run {run_id} already completed", "nothing to resume")
        if self.store.notes(run_id, "compensation"):
            raise ResumeError("AISC-RESUME-004", f"run {run_id} was compensated after it failed",
                              "start a new run instead of resuming this one")
        assert rec.plan is not None
        if plan_digest(rec.plan) != rec.plan_hash:
            raise ResumeError("AISC-RESUME-005", f"the stored plan of run {run_id} does not match its plan hash",
                              "the store was modified; start a new run")
        try:
            plan = plan_from_json(rec.plan)
        except PlanError as e:
            raise ResumeError("AISC-RESUME-005", f"the stored plan of run {run_id} is invalid: {e}",
                              "start a new run") from None
        opts = attrs.evolve(self.options, run_id=run_id)
        launch = dict(rec.options)
        self.store.add_note(run_id, "resume", {"previous_status": rec.status, "checkpoint": rec.state_seq})
        self.store.set_status(run_id, "running")
        return self._execute(plan, opts, launch.get("inputs"), launch.get("ctx"), snapshot=rec.state, resumed=True)

    # ------------------------------------------------------------------ the run

    def _execute(self, plan: Plan, opts: RunOptions, inputs: Any, ctx: Any, *, snapshot: Mapping[str, Any] | None,
                 resumed: bool = False) -> Outcome:
        run_id = str(opts.run_id)
        plan_json = plan_to_json(plan)
        context = {"run_id": run_id, "plan_hash": plan_digest(plan_json), "resumed": resumed,
                   "workflow": plan.meta.name if plan.meta else None, "phase": "run"}
        guard = Guard(run_id, plan, self.store, self.hooks, context, auto_confirm_hooks=opts.auto_confirm)
        self.hooks.on_error = guard.hook_error
        router = GuardedRouter(self.router, guard)
        errors = _ErrorCapture()
        sinks: list[EventSink] = [*self.sinks, errors]
        if self.store is not None:
            sinks.append(self.store.event_sink(run_id))
        sink = MultiSink(sinks)
        engine = Engine(plan, router, inputs=inputs if isinstance(inputs, Mapping) else None,
                        ctx=ctx if isinstance(ctx, Mapping) else None, options=opts, sink=sink,
                        commands=self.commands, store=self.store)
        self.engine = engine
        guard.engine = engine
        if resumed and self.store is not None:
            engine.events.seq = self.store.last_event_seq(run_id) + 1
            if snapshot is not None:
                restore(engine, snapshot, incremental=self.store.is_incremental(run_id))
        ran = False  # after a normal run the sinks stay open for the compensations (closed below)
        try:
            d = self.hooks.pre_execution(plan_json, context) if self.hooks else HookDecision()
            if d.action == "veto" or (d.action == "pause" and not opts.auto_confirm):
                return self._stopped_by_hook(engine, plan, d, resumed)
            if d.action == "pause":
                guard.note("hook_pause_confirmed", {**d.to_json(), "phase": "pre_execution"})
            reconciled: list[dict[str, Any]] = []
            if resumed and self.store is not None:
                reconciled = reconcile(engine, self.store, self.router, guard)
            result = engine.run()
            ran = True
        except Exception as e:
            reason = f"{type(e).__name__}: {e}"
            guard.note("panic", {"reason": reason})
            if self.hooks:
                self.hooks.on_panic(run_id, reason, context)
            if self.store is not None:
                self.store.set_status(run_id, "internal", category=cat.INTERNAL, error=reason)
            raise
        finally:
            if not ran:
                sink.close()
        first = errors.first or {}
        category = cat.of_run_status(result.status, first.get("category"))
        comps: list[dict[str, Any]] = []
        try:  # the sinks stay open until the compensations (which emit through them) are done
            if result.status in ("failed", "timeout"):
                wrote = [n for n in plan.nodes
                         if io_kind(n.execution_type) == "write" and result.nodes[n.id].state == "done"]
                if wrote and self.hooks:
                    self.hooks.on_panic(run_id, f"run failed after {len(wrote)} write(s): {result.error}", context)
                if wrote and self.compensate and any(specs_of(n) for n in wrote):
                    comps = self._compensate(plan, engine, guard, result)
        finally:
            sink.close()
        error = result.error
        if result.status in ("paused", "policy_blocked") and result.paused:
            error = str(result.paused[0].get("reason") or "")
        outcome = Outcome(run_id=run_id, status=result.status, category=category, result=result, error=error,
                          error_node=first.get("node_id") or (result.paused[0].get("node") if result.paused else None),
                          paused=tuple(result.paused), compensations=tuple(comps),
                          plan=plan, resumed=resumed, reconciled=tuple(reconciled))
        if self.store is not None:
            self.store.set_status(run_id, result.status, category=category, error=error)
        if self.hooks:
            self.hooks.on_workflow_complete(run_id, summary_of(outcome), context)
        return outcome

    def _stopped_by_hook(self, engine: Engine, plan: Plan, d: HookDecision, resumed: bool) -> Outcome:
        run_id = engine.run_id
        kind = "hook_veto" if d.action == "veto" else "hook_pause"
        if self.store is not None:
            self.store.add_note(run_id, kind, {**d.to_json(), "phase": "pre_execution"})
        engine.events.emit("plan_ready", {"plan": plan_to_json(plan)})
        reason = f"{'vetoed' if d.action == 'veto' else 'paused'} by governance hook {d.hook}: {d.reason}"
        ext = {"aisc": {"hook": d.to_json(), "phase": "pre_execution"}}
        if d.action == "veto":
            engine.events.emit("error", {"reason": reason, "retryable": False, "category": cat.POLICY_BLOCKED,
                                         "error": error_object(reason, "HookVeto")}, extensions=ext)
            status, category = "policy_blocked", cat.POLICY_BLOCKED
        else:
            engine.events.emit("engine_paused", {"paused": [], "reason": reason}, extensions=ext)
            status, category = "paused", cat.NEEDS_CONFIRMATION
        outcome = Outcome(run_id=run_id, status=status, category=category, error=reason, plan=plan,
                          hook_decision=d.to_json(), resumed=resumed,
                          paused=({"node": None, "reason": reason, "details": {"kind": "hook", **d.to_json()}},)
                          if d.action == "pause" else ())
        if self.store is not None:
            self.store.set_status(run_id, status, category=category, error=reason)
        if self.hooks:
            self.hooks.on_workflow_complete(run_id, summary_of(outcome), {"run_id": run_id, "phase": "run"})
        return outcome

    def _compensate(self, plan: Plan, engine: Engine, guard: Guard, result: RunResult) -> list[dict[str, Any]]:
        opts = attrs.evolve(engine.opts, stop_on_error=True)

        def run_one(mini: Plan, cid: str) -> dict[str, Any]:
            guard.add_plan(mini)
            store: Any = _IntentOnlyStore(self.store) if self.store is not None else None
            sub = Engine(mini, GuardedRouter(self.router, guard), options=opts, store=store)
            sub.events = _Relay(engine.events)  # type: ignore[assignment]
            sub.root.clear()
            sub.root.update(engine.root)
            res = sub.run()
            r = res.nodes[cid]
            out: dict[str, Any] = {"status": r.state if r.state in ("done", "failed", "paused") else "failed"}
            if r.error:
                out["error"] = r.error
            if r.pause:
                out["error"] = str(r.pause.get("reason"))
            tx = ((engine.root.get("nodes") or {}).get(cid) or {}).get("outputs") or {}
            if isinstance(tx, Mapping) and (tx.get("tx_hash") or tx.get("signature")):
                out["tx_hash"] = tx.get("tx_hash") or tx.get("signature")
            return out

        outcomes = run_compensations(plan, result.nodes, run_one)
        for o in outcomes:
            guard.note("compensation", o, str(o.get("node_id")))
        if any(o.get("status") != "done" for o in outcomes) and self.hooks:
            self.hooks.on_panic(engine.run_id, "compensation incomplete", guard.context)
        return outcomes


def summary_of(o: Outcome) -> dict[str, Any]:
    """The summary hooks receive in ``on_workflow_complete`` (JSON-able)."""
    nodes = {nid: r.state for nid, r in (o.result.nodes.items() if o.result else ())}
    return {"run_id": o.run_id, "status": o.status, "category": o.category, "error": o.error,
            "error_node": o.error_node, "nodes": nodes, "compensations": [dict(c) for c in o.compensations],
            "resumed": o.resumed}


__all__ = ["DurableRunner", "Guard", "GuardedBackend", "GuardedRouter", "Outcome", "ResumeError", "StoreError",
           "reconcile", "restore", "summary_of"]


install_reprs(__name__)
