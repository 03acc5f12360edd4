"""The plan interpreter (SPEC-MAP §5.8, R153–R163).

One :class:`Engine` runs one plan. The scheduling loop runs on the calling thread; backend calls
(which are synchronous) run on a thread pool. Per node and attempt the order is (R157)::

    readiness (condition without params → bindings → calculated_fields → dry run of the execution)
    → policy gate (write nodes) → execute → write back → assert → until / retry / timeout

State lives in one mutable runtime root ``{inputs, params, ctx, query, contracts, calculated,
policy, nodes}``; evaluation reads it in place (see :mod:`aisc.runtime.evaluator`) under a lock
shared with write-back, so a backend thread never sees a half-written result.

Concurrency (R155/R156): at most ``max_concurrency`` nodes run at once, ``max_read_concurrency``
reads per chain and ``max_write_concurrency`` (1) writes per (chain, signing account).

Seams for durability (issue 6): ``store`` (a :class:`CheckpointStore`) gets a JSON snapshot after
every state change and every transaction intent before the broadcast continues.
"""

from __future__ import annotations

import contextlib
import heapq
import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, Protocol

import attrs

from aisc.backends.base import Backend, BackendError, ExecResult, NodeCall, TxIntent, io_kind
from aisc.ir import valueref as vr
from aisc.ir.plan import Plan, PlanNode, node_to_json, plan_to_json
from aisc.ir.values import normalize_inputs
from aisc.reprs import install_reprs
from aisc.runtime import policy as pol
from aisc.runtime.evaluator import DetectNeeded, EvalFailed, Evaluator, RefMissing, new_root
from aisc.runtime.events import Emitter, EventSink, RedactMode, error_object
from aisc.runtime.patch import (
    GuardPolicy,
    RuntimePatchError,
    apply_patches,
    is_missing,
    merge_ref,
    set_ref,
    split_path,
)
from aisc.runtime.wallet import fill_wallet_address

NodeState = Literal["pending", "running", "waiting", "paused", "done", "skipped", "failed", "cancelled"]
RunStatus = Literal["done", "failed", "paused", "policy_blocked", "timeout", "cancelled"]
COMPLETE = ("done", "skipped")


class PlanInputError(ValueError):
    """The plan cannot run as given (e.g. ``until`` on a write node). Nothing was executed."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.message = message
        self.path = path


class Router(Protocol):
    def for_node(self, chain: str, execution_type: str) -> Backend: ...


class CheckpointStore(Protocol):
    """Durability seam (issue 6). ``save`` returns the checkpoint descriptor put in
    ``checkpoint_saved``; ``record_intent`` must persist before it returns."""

    def save(self, run_id: str, snapshot: Mapping[str, Any]) -> Mapping[str, Any]: ...

    def record_intent(self, run_id: str, node_id: str, attempt: int, intent: Mapping[str, Any]) -> None: ...


class CommandSource(Protocol):
    """Gives the next command while the run is paused; None = no more commands (stay paused)."""

    def next_command(self, paused: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None: ...


@attrs.frozen(repr=False)
class RunOptions:
    max_concurrency: int = 8
    max_read_concurrency: int = 8
    max_write_concurrency: int = 1
    stop_on_error: bool = True
    auto_confirm: bool = False
    """``--yes``: confirmable pauses (policy approvals) are confirmed; hard blocks never are."""
    run_id: str | None = None
    redact: RedactMode = "default"
    patch_guard: GuardPolicy = attrs.field(factory=GuardPolicy)
    capabilities: frozenset[str] | None = None
    simulate: bool = False
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


@attrs.define(repr=False)
class NodeRun:
    node: PlanNode
    index: int
    state: NodeState = "pending"
    attempts: int = 0
    started_at: float | None = None
    next_attempt_at: float | None = None
    params: dict[str, Any] = attrs.field(factory=dict)
    pause: dict[str, Any] | None = None
    error: str | None = None
    failure: str | None = None  # failed | timeout | policy_blocked
    io: str = "read"
    lane: tuple[str, str] = ("", "")
    intents: list[dict[str, Any]] = attrs.field(factory=list)
    finished_at: float | None = None


@attrs.frozen(repr=False)
class RunResult:
    run_id: str
    status: RunStatus
    nodes: Mapping[str, NodeRun]
    root: Mapping[str, Any]
    paused: tuple[Mapping[str, Any], ...] = ()
    error: str | None = None

    @property
    def exit_code(self) -> int:
        from aisc import exitcodes

        return {
            "done": exitcodes.OK, "failed": exitcodes.FAILED, "paused": exitcodes.PAUSED,
            "policy_blocked": exitcodes.POLICY_BLOCKED, "timeout": exitcodes.TIMEOUT,
            "cancelled": exitcodes.CANCELLED,
        }[self.status]


def iter_valuerefs(obj: Any) -> Iterator[Any]:
    """Every ValueRef (JSON form) inside an execution spec; ``abi`` and ``extensions`` are skipped."""
    if isinstance(obj, Mapping):
        if vr.is_valueref_json(obj):
            yield obj
            return
        for k, v in obj.items():
            if k in ("abi", "extensions", "type"):
                continue
            yield from iter_valuerefs(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from iter_valuerefs(v)


def check_runnable(plan: Plan) -> None:
    """Static checks the runner needs beyond the schema (D12): ``until`` only on reads, and only
    with ``retry``. Raises :class:`PlanInputError`."""
    for i, n in enumerate(plan.nodes):
        if n.until is not None:
            if io_kind(n.execution_type) != "read":
                raise PlanInputError("until/retry is only supported for read nodes", f"$.nodes[{i}].until")
            if n.retry is None:
                raise PlanInputError("until requires retry (interval_ms)", f"$.nodes[{i}].retry")


class Engine:
    def __init__(
        self,
        plan: Plan,
        router: Router,
        *,
        inputs: Mapping[str, Any] | None = None,
        ctx: Mapping[str, Any] | None = None,
        options: RunOptions | None = None,
        sink: EventSink | None = None,
        commands: CommandSource | None = None,
        store: CheckpointStore | None = None,
        detect_resolver: Any = None,
    ) -> None:
        check_runnable(plan)
        self.plan = plan
        self.router = router
        self.opts = options or RunOptions()
        self.run_id = self.opts.run_id or uuid.uuid4().hex
        self.events = Emitter(self.run_id, sink, redact_mode=self.opts.redact)
        self.commands = commands
        self.store = store
        self.root = new_root(normalize_inputs(plan.aisc_extensions.get("inputs"), inputs), ctx)  # typed inputs
        if not self.root["ctx"]["capabilities"] and self.opts.capabilities:  # R031: what this engine supports
            self.root["ctx"]["capabilities"] = sorted(self.opts.capabilities)
        fill_wallet_address(self.root["ctx"], [(n.chain, n.execution_type) for n in plan.nodes], router)
        self._lock = threading.RLock()
        self._detect_choices: dict[str, Any] = {}
        self._resolver = _ChoiceResolver(self._detect_choices, detect_resolver)
        self._options_cache: dict[str, Any] = {}
        self.ev = Evaluator(self.root)
        aisc_ext = plan.aisc_extensions
        self.pack: Mapping[str, Any] | None = aisc_ext.get("pack") if isinstance(aisc_ext.get("pack"), Mapping) else None
        deployments = aisc_ext.get("deployments")
        self.deployments: Mapping[str, Any] = deployments if isinstance(deployments, Mapping) else {}
        self.confirmed: set[str] = set()
        self.runs: dict[str, NodeRun] = {n.id: NodeRun(n, i) for i, n in enumerate(plan.nodes)}
        self._dependents: dict[str, list[str]] = {n.id: [] for n in plan.nodes}
        self._waiting_deps: dict[str, int] = {}
        for n in plan.nodes:
            self._waiting_deps[n.id] = len(set(n.dep_ids))
            for d in set(n.dep_ids):
                self._dependents[d].append(n.id)
        self._candidates: list[int] = [r.index for r in self.runs.values() if self._waiting_deps[r.node.id] == 0]
        heapq.heapify(self._candidates)
        self._in_candidates = set(self._candidates)
        self._timers: list[tuple[float, int]] = []
        self._done_q: queue.SimpleQueue[tuple[str, ExecResult | BaseException]] = queue.SimpleQueue()
        self._running = 0
        self._reads: Counter[str] = Counter()
        self._writes: Counter[tuple[str, str]] = Counter()
        self._stop = False
        self._cancelled = False
        self._fatal: str | None = None
        self._pool: ThreadPoolExecutor | None = None
        # incremental checkpoints: what changed since the last commit (docs/durability.md)
        self._dirty_all = True  # the first checkpoint of a run holds everything
        self._read_lanes: dict[str, tuple[str, str]] = {}
        self._dirty_nodes: set[str] = set()
        self._dirty_sections: set[str] = set()
        self._dirty_parts: set[tuple[str, str]] = set()
        self._dirty_confirmed = False
        self._ckpt_pending = False

    # ------------------------------------------------------------------ public

    def run(self) -> RunResult:
        self.events.emit("plan_ready", {"plan": plan_to_json(self.plan)})
        self._pool = ThreadPoolExecutor(max_workers=max(1, self.opts.max_concurrency),
                                        thread_name_prefix="aisc-node")
        try:
            return self._loop()
        except BaseException:
            with contextlib.suppress(Exception):  # keep what completed; the original error is reported
                self._flush_checkpoint()
            raise
        finally:
            self._pool.shutdown(wait=True)

    def snapshot(self) -> dict[str, Any]:
        """JSON-able run state (the checkpoint payload)."""
        return {
            "run_id": self.run_id,
            "root": self.root,
            "confirmed": sorted(self.confirmed),
            "nodes": {nid: self._node_entry(r) for nid, r in self.runs.items()},
        }

    def _wall_offset(self) -> float:
        """Wall-clock seconds since the epoch minus the engine's clock (monotonic, per process), read
        once: times converted with one offset keep their exact differences."""
        return time.time() - self.opts.clock()

    def _wall_ms(self, t: float, offset: float | None = None) -> int:
        """A time of the engine's clock as wall-clock ms since the epoch."""
        return int((t + (self._wall_offset() if offset is None else offset)) * 1000)

    def _clock_at(self, wall_ms: int, offset: float) -> float:
        """The inverse of :meth:`_wall_ms`: wall-clock ms since the epoch as a time of the engine's clock."""
        return wall_ms / 1000 - offset

    def _node_entry(self, r: NodeRun) -> dict[str, Any]:
        e: dict[str, Any] = {"state": r.state, "attempts": r.attempts, "intents": list(r.intents)}
        if r.state == "waiting" and r.next_attempt_at is not None:
            # a polling node's timer, as wall-clock ms (the engine's clock is monotonic and does not
            # survive the process): a resume waits out the rest of the interval and keeps counting
            # timeout_ms from the node's first attempt
            offset = self._wall_offset()
            wait = {"next_attempt_at_ms": self._wall_ms(r.next_attempt_at, offset)}
            if r.started_at is not None:
                wait["started_at_ms"] = self._wall_ms(r.started_at, offset)
            e["wait"] = wait
        if r.error:
            e["error"] = r.error
        if r.pause:
            e["pause"] = {"kind": r.pause.get("kind"), "reason": r.pause.get("reason")}
        return e

    def dry_run(self) -> list[dict[str, Any]]:
        """Evaluate readiness and the policy gate of every node in plan order; execute nothing.

        Nodes are assumed to succeed without outputs, so a missing ``nodes.*`` ref only means
        "known at run time". Returns one ``{node, kind, io, status, details}`` row per node, where
        status is would_run | skipped | blocked | needs_confirmation | policy_blocked.
        """
        self.events.emit("plan_ready", {"plan": plan_to_json(self.plan)})
        rows: list[dict[str, Any]] = []
        for r in self.runs.values():
            n = r.node
            row: dict[str, Any] = {"node": n.id, "kind": n.kind, "io": io_kind(n.execution_type),
                                   "chain": n.chain, "type": n.execution_type}
            with self._lock:
                rd = self._readiness(r)
            if rd["state"] == "blocked" and any(m.startswith("contracts.") for m in rd["missing_refs"]):
                dep = self._deployment(n, [m.split(".")[1] for m in rd["missing_refs"] if m.startswith("contracts.")])
                if dep:
                    with self._lock:
                        merge_ref(self.root, "contracts", dict(dep))
                        self._dirty_sections.add("contracts")
                        rd = self._readiness(r)
            if rd["state"] == "skipped":
                rows.append({**row, "status": "skipped", "details": "condition=false"})
                continue
            runtime_refs = [m for m in rd["missing_refs"] if m.startswith(("nodes.", "query."))]
            other = [m for m in rd["missing_refs"] if m not in runtime_refs]
            if rd["state"] == "blocked" and rd["errors"] and not other and n.dep_ids:
                # e.g. CEL reading an earlier node's outputs: only decidable at run time
                rows.append({**row, "status": "would_run",
                             "details": "evaluated at run time: " + "; ".join(rd["errors"])})
                continue
            if rd["state"] == "blocked" and (other or rd["errors"] or rd["needs_detect"]):
                why = other or rd["errors"] or ["detect resolution required"]
                rows.append({**row, "status": "blocked", "details": "; ".join(why)})
                continue
            status = "would_run"
            details = ("from outputs of earlier nodes: " + ", ".join(runtime_refs)) if runtime_refs else ""
            if row["io"] == "write" and not runtime_refs:
                r.params = rd["resolved_params"]
                try:
                    backend = self.router.for_node(n.chain, n.execution_type)
                except BackendError as e:
                    rows.append({**row, "status": "blocked", "details": str(e)})
                    continue
                if not self._gate(r, backend, self._call(r, backend)):
                    pause = r.pause or {}
                    status = "policy_blocked" if pause.get("kind") == "hard_block" else "needs_confirmation"
                    details = str(pause.get("reason", ""))
                    r.state = "pending"
            rows.append({**row, "status": status, "details": details})
        return rows

    # ------------------------------------------------------------------ loop

    def _loop(self) -> RunResult:
        while True:
            if not self._cancelled:
                self._schedule()
            self._flush_checkpoint()  # before waiting, sleeping, pausing or finishing
            if self._running:
                self._drain(block=True)
                continue
            if self._cancelled:
                return self._finish("cancelled")
            if self._fatal is not None and self.opts.stop_on_error:
                return self._finish_failed()
            if self._timers:
                due, _ = self._timers[0]
                delay = due - self.opts.clock()
                if delay > 0:
                    self.opts.sleep(delay)
                self._release_timers()
                continue
            pending = [r for r in self.runs.values() if r.state not in COMPLETE and r.state != "failed"]
            if not pending:
                return self._finish_failed() if self._fatal else self._finish("done")
            paused = [r for r in pending if r.state == "paused"]
            if paused:
                info = [self._pause_info(r) for r in paused]
                self.events.emit("engine_paused", {"paused": info})
                if self.commands is None:
                    return self._finish_paused(info)
                cmd = self.commands.next_command(info)
                if cmd is None:
                    return self._finish_paused(info)
                self.handle_command(cmd)
                continue
            # nothing running, nothing waiting, nothing paused, yet nodes remain: deadlock
            stuck = sorted(r.node.id for r in pending)
            msg = f"Engine deadlock: no runnable nodes (pending: {', '.join(stuck)})"
            unmet = {r.node.id: [d for d in r.node.dep_ids if self.runs[d].state not in COMPLETE] for r in pending}
            self.events.emit("error", {"reason": msg, "retryable": False,
                                       "error": error_object(msg, "EngineDeadlock"), "pending": unmet})
            self._fatal = self._fatal or msg
            return self._finish_failed(deadlock=True)

    def _finish(self, status: RunStatus, paused: Sequence[Mapping[str, Any]] = ()) -> RunResult:
        return RunResult(self.run_id, status, dict(self.runs), self.root, tuple(paused), self._fatal)

    def _finish_paused(self, info: Sequence[Mapping[str, Any]]) -> RunResult:
        blocked = any(r.failure == "policy_blocked" for r in self.runs.values() if r.state == "paused")
        return self._finish("policy_blocked" if blocked else "paused", info)

    def _finish_failed(self, deadlock: bool = False) -> RunResult:
        if not deadlock and any(r.failure == "timeout" for r in self.runs.values() if r.state == "failed"):
            return self._finish("timeout")
        return self._finish("failed")

    def _release_timers(self) -> None:
        now = self.opts.clock()
        while self._timers and self._timers[0][0] <= now:
            _, idx = heapq.heappop(self._timers)
            self._push_candidate(idx)

    def _push_candidate(self, idx: int) -> None:
        if idx not in self._in_candidates:
            heapq.heappush(self._candidates, idx)
            self._in_candidates.add(idx)

    def _schedule(self) -> None:
        if self._timers:
            self._release_timers()
        if self._stop or not self._candidates:
            return
        deferred: list[int] = []
        nodes = self.plan.nodes
        while self._candidates:
            if self._running >= self.opts.max_concurrency:
                break
            idx = heapq.heappop(self._candidates)
            self._in_candidates.discard(idx)
            r = self.runs[nodes[idx].id]
            if r.state not in ("pending", "waiting"):
                continue
            if not self._lane_free(r):
                deferred.append(idx)
                continue
            self._start(r)
            if self._stop:
                break
        for idx in deferred:
            self._push_candidate(idx)

    def _lane_free(self, r: NodeRun) -> bool:
        n = r.node
        if io_kind(n.execution_type) == "read":
            return self._reads[n.chain] < self.opts.max_read_concurrency
        account = self._account(n.chain, n.execution_type)
        return self._writes[(n.chain, account)] < self.opts.max_write_concurrency

    def _account(self, chain: str, exec_type: str) -> str:
        try:
            return self.router.for_node(chain, exec_type).signer_address(chain) or ""
        except BackendError:
            return ""

    # ------------------------------------------------------------------ one node: readiness → dispatch

    def _skipped(self, r: NodeRun, rd: Mapping[str, Any]) -> bool:
        """Complete ``r`` as skipped when its readiness says its condition is false."""
        if rd["state"] != "skipped":
            return False
        self.events.emit("skipped", {"reason": "condition=false"}, node_id=r.node.id)
        self._complete(r, "skipped")
        return True

    def _start(self, r: NodeRun) -> None:
        self._flush_checkpoint()  # results are durable before any other node starts
        n = r.node
        with self._lock:
            rd = self._readiness(r)
        if self._skipped(r, rd):
            return
        if rd["state"] == "blocked":
            self.events.emit("node_blocked", {"readiness": _readiness_json(rd)}, node_id=n.id)
            if not self._solve(r, rd):
                return
            with self._lock:
                rd = self._readiness(r)
            if self._skipped(r, rd):
                return
            if rd["state"] == "blocked":
                self._pause(r, "node_blocked", {"readiness": _readiness_json(rd)}, kind="blocked",
                            event="node_paused")
                return
        r.params = rd["resolved_params"]
        if r.params:  # §4.2: nodes.<workflow node id>.args holds the resolved arguments
            wf_id = n.source.node_id if n.source is not None and n.source.node_id else n.id
            with self._lock:
                merge_ref(self.root, f"nodes.{wf_id}.args", dict(r.params))
                self._mark_path(f"nodes.{wf_id}")
        try:
            backend = self.router.for_node(n.chain, n.execution_type)
        except BackendError as e:
            self._fail(r, str(e), retryable=False, exc=e)
            return
        io = io_kind(n.execution_type)
        call = self._call(r, backend)
        if io == "write" and not self._gate(r, backend, call):
            return
        r.io = io
        r.state = "running"
        r.attempts += 1
        self._dirty_nodes.add(n.id)
        if r.started_at is None:
            r.started_at = self.opts.clock()
        if io == "read":
            self._reads[n.chain] += 1
            r.lane = self._read_lanes.setdefault(n.chain, (n.chain, ""))  # one tuple per chain, not per node
        else:
            acct = backend.signer_address(n.chain) or ""
            self._writes[(n.chain, acct)] += 1
            r.lane = (n.chain, acct)
        self._running += 1
        self.events.emit("node_ready", {}, node_id=n.id)
        call = attrs.evolve(call, attempt=r.attempts)
        # In-process backends that never block (LiteSVM, fakes) run here, without a thread hand-off.
        # So does a read when it is the only thing to do (nothing else running, ready or timed):
        # the scheduler would only wait for it, and two thread wake-ups per node dominate the
        # overhead of a dependency chain. Writes always go to the pool.
        if getattr(backend, "inline", False) is True or (
                io == "read" and self._running == 1 and not self._candidates and not self._timers):
            try:
                res: ExecResult | BaseException = backend.execute(call)
            except Exception as e:
                res = e
            self._finished(n.id, res)
            return
        assert self._pool is not None
        self._pool.submit(self._execute_job, backend, n.id, call)

    def _execute_job(self, backend: Backend, nid: str, call: NodeCall) -> None:
        """Pool job: run the backend call and hand the result (or the error) to the scheduler."""
        try:
            res: ExecResult | BaseException = backend.execute(call)
        except BaseException as e:  # handed to the scheduler, which reports it
            res = e
        self._done_q.put((nid, res))

    def _call(self, r: NodeRun, backend: Backend) -> NodeCall:
        n = r.node
        params = r.params

        def evaluate(ref: Any) -> Any:
            with self._lock:
                try:
                    return self.ev.value(ref, params=params, options=self._eval_options(n))
                except (RefMissing, DetectNeeded, EvalFailed) as e:
                    raise BackendError(str(e), category="validation") from None

        def record_intent(intent: TxIntent) -> None:
            data = {"chain": intent.chain, "account": intent.account, "tx_id": intent.tx_id,
                    "nonce": intent.nonce, "blockhash": intent.blockhash, "attempt": r.attempts}
            with self._lock:
                r.intents.append(data)
                self._dirty_nodes.add(n.id)
            if self.store is not None:
                self.store.record_intent(self.run_id, n.id, r.attempts, {**data, "raw": intent.raw})

        return NodeCall(node_id=n.id, chain=n.chain, execution=n.execution, evaluate=evaluate,
                        ctx=self.root["ctx"], attempt=r.attempts + 1, record_intent=record_intent,
                        simulate=self.opts.simulate)

    def _eval_options(self, n: PlanNode) -> Any:
        hit = self._options_cache.get(n.id)
        if hit is None:
            from aisc.runtime.evaluator import make_options

            resolver = _NodeResolver(self._resolver, n.id)
            hit = make_options(capabilities=self.opts.capabilities, detect_resolver=resolver, chain=n.chain)
            self._options_cache[n.id] = hit
        return hit

    def _readiness(self, r: NodeRun) -> dict[str, Any]:
        n = r.node
        opts = self._eval_options(n)
        missing: list[str] = []
        errors: list[str] = []
        needs_detect = False

        def ev(ref: Any, params: Mapping[str, Any] | None) -> Any:
            nonlocal needs_detect
            try:
                return self.ev.value(ref, params=params, options=opts)
            except RefMissing as e:
                if e.path not in missing:
                    missing.append(e.path)
            except DetectNeeded as e:
                needs_detect = True
                errors.append(str(e))
            except EvalFailed as e:
                errors.append(str(e))
            return _FAILED

        calc_fields = n.aisc_extensions.get("calculated_fields")
        # A composite step's condition sees the action context: params and the calculated fields
        # (R174), e.g. uniswap's approve_if_needed reads calculated.amount_in_atomic; so it is
        # evaluated after them. A workflow node's condition is evaluated first, without params.
        step_condition = bool(calc_fields) and n.source is not None and n.source.step_id is not None
        if n.condition is not None and not step_condition:
            c = ev(n.condition, None)
            if c is False:
                return {"state": "skipped", "missing_refs": [], "needs_detect": False, "errors": [],
                        "resolved_params": {}}
            if c is not _FAILED and c is not True:
                errors.append("condition must evaluate to boolean")
            if missing or errors:
                return _blocked(missing, needs_detect, errors, {})
        params: dict[str, Any] = {}
        for k, ref in n.params.items():
            v = ev(ref, None)
            if v is not _FAILED:
                params[k] = v
        if missing or errors:
            return _blocked(missing, needs_detect, errors, params)
        if calc_fields:
            calc_out: dict[str, Any] = {}
            for i, f in enumerate(calc_fields):
                if not isinstance(f, Mapping) or not isinstance(f.get("name"), str) or "expr" not in f:
                    errors.append(f"extensions.aisc.calculated_fields[{i}] must be {{name, expr}}")
                    break
                v = ev(f["expr"], params)
                if v is _FAILED:
                    if not missing:
                        errors.append(f"calculated_fields evaluation failed: {f['name']}")
                    break
                set_ref(self.root, f"calculated.{f['name']}", v)
                self._mark_path(f"calculated.{f['name']}")
                calc_out[f["name"]] = v
            if calc_out:
                merge_ref(self.root, f"nodes.{n.id}.calculated", calc_out)
                self._mark_path(f"nodes.{n.id}")
            if missing or errors:
                return _blocked(missing, needs_detect, errors, params)
        if n.condition is not None and step_condition:
            c = ev(n.condition, params)
            if c is False:
                return {"state": "skipped", "missing_refs": [], "needs_detect": False, "errors": [],
                        "resolved_params": params}
            if c is not _FAILED and c is not True:
                errors.append("condition must evaluate to boolean")
            if missing or errors or needs_detect:
                return _blocked(missing, needs_detect, errors, params)
        for ref in iter_valuerefs(n.execution):
            ev(ref, params)
        if missing or errors or needs_detect:
            return _blocked(missing, needs_detect, errors, params)
        return {"state": "ready", "missing_refs": [], "needs_detect": False, "errors": [],
                "resolved_params": params}

    # ------------------------------------------------------------------ solver (§5.8 default solver)

    def _solve(self, r: NodeRun, rd: Mapping[str, Any]) -> bool:
        """True when the node may be re-checked at once; False when it paused or failed."""
        n = r.node
        if rd["errors"] and not rd["needs_detect"]:
            msg = "; ".join(rd["errors"])
            self._fail(r, f"node {n.id} cannot be solved: {msg}", retryable=False)
            return False
        if rd["needs_detect"]:
            self._pause(r, "detect resolution required", {"readiness": _readiness_json(rd)}, kind="detect")
            return False
        contracts = [m for m in rd["missing_refs"] if m.startswith("contracts.")]
        others = [m for m in rd["missing_refs"] if not m.startswith("contracts.")]
        patched = False
        if contracts:
            deployment = self._deployment(n, [m.split(".")[1] for m in contracts if m.count(".") >= 1])
            if deployment:
                patch = {"op": "merge", "path": "contracts", "value": dict(deployment)}
                with self._lock:
                    apply_patches(self.root, [patch])
                    self._dirty_sections.add("contracts")
                self.events.emit("solver_applied", {"patches": [patch]}, node_id=n.id)
                patched = True
            else:
                others = contracts + others
        if others:
            self._pause(r, "missing runtime inputs", {"missing_refs": others, "node_id": n.id},
                        kind="missing_inputs")
            return False
        return patched

    def _deployment(self, n: PlanNode, wanted: Sequence[str] = ()) -> Mapping[str, Any] | None:
        """The node protocol's contracts on the node's chain; contract names in ``wanted`` that it
        lacks are taken from the other protocols deployed on that chain (a workflow may pass
        ``contracts.pool`` of one protocol to a query of another)."""
        out: dict[str, Any] = {}
        proto = n.source.protocol if n.source else None
        if proto:
            by_chain = self.deployments.get(proto)
            if not isinstance(by_chain, Mapping):
                by_chain = self.deployments.get(proto.split("@", 1)[0])
            dep = by_chain.get(n.chain) if isinstance(by_chain, Mapping) else None
            if isinstance(dep, Mapping):
                out.update(dep)
        for name in wanted:
            if name in out:
                continue
            for key in sorted(self.deployments):
                by_chain = self.deployments[key]
                dep = by_chain.get(n.chain) if isinstance(by_chain, Mapping) else None
                if isinstance(dep, Mapping) and name in dep:
                    out[name] = dep[name]
                    break
        return out or None

    # ------------------------------------------------------------------ policy gate (§7.5)

    def _gate(self, r: NodeRun, backend: Backend, call: NodeCall) -> bool:
        n = r.node
        ext = n.aisc_extensions
        guards_raw = ext.get("runtime_guards") or []
        if self.pack is None and not guards_raw:
            return True
        guards: list[dict[str, Any]] = []
        with self._lock:
            for i, g in enumerate(guards_raw):
                if not isinstance(g, Mapping):
                    continue
                gd: dict[str, Any] = {}
                for k, v in g.items():
                    if vr.is_valueref_json(v):
                        try:
                            v = self.ev.value(v, params=r.params, options=self._eval_options(n))
                        except (RefMissing, DetectNeeded, EvalFailed) as e:
                            self._pause(r, "runtime guard could not be evaluated",
                                        {"guard": i, "error": str(e)}, kind="blocked")
                            return False
                    gd[k] = v
                guards.append(gd)
        try:
            preview = backend.preview(call)
        except (BackendError, ValueError, KeyError, TypeError) as e:
            preview = {"kind": "execution", "chain": n.chain, "exec_type": n.execution_type,
                       "compile_error": str(e)}
        action_ext = ext.get("action")
        action: Mapping[str, Any] = action_ext if isinstance(action_ext, Mapping) else {}
        src = n.source
        level = action.get("risk_level")
        gi = pol.extract_gate_input(
            node_id=n.id, chain=n.chain, pack=self.pack,
            workflow_node_id=(src.node_id if src and src.node_id else n.id),
            step_id=src.step_id if src else None,
            protocol=src.protocol if src else None, action=src.action if src else None,
            params=r.params, calculated=self.root.get("calculated"),
            detect_result=self.root["ctx"].get("detect_result"), preview=preview,
            action_risk_level=level if isinstance(level, int) and not isinstance(level, bool) else None,
            action_risk_tags=[t for t in action.get("risk_tags") or () if isinstance(t, str)],
            token_amounts=ext.get("token_amounts") if isinstance(ext.get("token_amounts"), Mapping) else None,
        )
        decision = pol.gate_write_node(self.pack, gi, execution_type=n.execution_type, guards=guards)
        if decision["kind"] == "ok":
            return True
        details = decision["details"]
        if decision["kind"] == "hard_block":
            self._pause(r, decision["reason"], details, kind="hard_block")
            r.failure = "policy_blocked"
            return False
        key = details["confirmation_scope"]["key"]
        if self.opts.auto_confirm or key in self.confirmed:
            return True
        self._pause(r, decision["reason"], details, kind="confirm")
        return False

    # ------------------------------------------------------------------ completion

    def _drain(self, *, block: bool) -> None:
        timeout = None
        if self._timers:
            timeout = max(0.0, self._timers[0][0] - self.opts.clock())
        try:
            nid, res = self._done_q.get(block=block, timeout=timeout) if block else self._done_q.get_nowait()
        except queue.Empty:
            return
        self._finished(nid, res)
        while True:  # take whatever else finished meanwhile
            try:
                nid, res = self._done_q.get_nowait()
            except queue.Empty:
                return
            self._finished(nid, res)

    def _finished(self, nid: str, res: ExecResult | BaseException) -> None:
        r = self.runs[nid]
        n = r.node
        self._running -= 1
        if r.io == "read":
            self._reads[n.chain] -= 1
        else:
            self._writes[r.lane] -= 1
        if self._cancelled:
            r.state = "cancelled"
            self._dirty_nodes.add(n.id)
            return
        if isinstance(res, BaseException):
            retryable = isinstance(res, BackendError) and res.retryable
            if retryable and r.io == "read" and n.retry is not None:
                self._retry_later(r, f"retryable error: {res}")
                return
            if not isinstance(res, BackendError):
                res = BackendError(f"{type(res).__name__}: {res}", category="internal")
            self._fail(r, str(res), retryable=True if not isinstance(res, BackendError) else res.retryable,
                       exc=res)
            return
        if res.need_user_confirm is not None:
            reason, det = res.need_user_confirm
            self._pause(r, reason, dict(det), kind="confirm")
            return
        self._emit_result_events(r, res)
        with self._lock:
            self._write_back(r, res.outputs)
        if n.assert_ is not None:
            with self._lock:
                try:
                    ok = self.ev.truthy(self.ev.value(n.assert_, options=self._eval_options(n)))
                except (RefMissing, DetectNeeded, EvalFailed) as e:
                    self.events.emit("error", {"reason": f"assert evaluation failed: {e}", "retryable": False,
                                               "error": error_object(e)}, node_id=n.id)
                    self._pause(r, "assert evaluation failed", {"error": str(e)}, kind="blocked")
                    return
            if not ok:
                msg = n.assert_message or f"Node assert failed: {_vr_text(n.assert_)}"
                self._fail(r, msg, retryable=False, name="AssertionFailed")
                return
        if n.until is not None:
            with self._lock:
                try:
                    done = self.ev.truthy(self.ev.value(n.until, options=self._eval_options(n)))
                except (RefMissing, DetectNeeded, EvalFailed) as e:
                    self._fail(r, f"until evaluation failed: {e}", retryable=False)
                    return
            if not done:
                self._retry_later(r, "until=false")
                return
        self._complete(r, "done")

    def _retry_later(self, r: NodeRun, why: str) -> None:
        n = r.node
        retry = n.retry
        assert retry is not None
        now = self.opts.clock()
        started = r.started_at if r.started_at is not None else now
        if n.timeout_ms is not None and (now - started) * 1000 >= n.timeout_ms:
            self._fail(r, f"until timeout exceeded ({why}; timeout_ms={n.timeout_ms}, attempts={r.attempts})",
                       retryable=False, failure="timeout", name="Timeout")
            return
        if retry.max_attempts is not None and r.attempts >= retry.max_attempts:
            self._fail(r, f"until max_attempts exceeded ({why}; max_attempts={retry.max_attempts})",
                       retryable=False, failure="timeout", name="Timeout")
            return
        due = now + retry.interval_ms / 1000
        if n.timeout_ms is not None:
            due = min(due, started + n.timeout_ms / 1000)
        r.state = "waiting"
        r.next_attempt_at = due
        heapq.heappush(self._timers, (due, r.index))
        self.events.emit("node_waiting", {"attempts": r.attempts, "next_attempt_at_ms": self._wall_ms(due)},
                         node_id=n.id)
        self._checkpoint(r)  # the timer is committed before the engine sleeps on it

    def _emit_result_events(self, r: NodeRun, res: ExecResult) -> None:
        n = r.node
        tx_events = False
        for etype, data in res.events:
            if etype in ("tx_sent", "tx_confirmed", "tx_prepared"):
                tx_events = True
            self.events.emit(etype, data, node_id=n.id)
        if r.io == "read":
            self.events.emit("query_result", {"outputs": dict(res.outputs)}, node_id=n.id)
            return
        if tx_events:
            return
        out = res.outputs
        sent = out.get("tx_hash") or out.get("signature")
        if sent:
            self.events.emit("tx_sent", {"tx_hash": sent}, node_id=n.id)
            conf = out.get("receipt") or out.get("confirmation")
            if conf is not None:
                self.events.emit("tx_confirmed", {"receipt": conf}, node_id=n.id)
        else:
            self.events.emit("query_result", {"outputs": dict(out)}, node_id=n.id)

    def _write_back(self, r: NodeRun, outputs: Mapping[str, Any]) -> None:
        n = r.node
        out = dict(outputs)
        if n.writes:
            for w in n.writes:
                if w.effective_mode == "merge":
                    merge_ref(self.root, w.path, out)
                else:
                    set_ref(self.root, w.path, out)
                self._mark_path(w.path)
        else:
            box = self.root.get("nodes")
            entry = box.get(n.id) if isinstance(box, dict) else None
            if isinstance(box, dict) and entry is None and n.id not in box:
                box[n.id] = {"outputs": dict(out)}  # merge_ref's result, without re-splitting the path
            else:
                merge_ref(self.root, f"nodes.{n.id}.outputs", out)
            self._dirty_parts.add(("nodes", n.id))
        if r.io == "read":
            qid = (n.source.query if n.source and n.source.query else None) or n.id
            self.root["query"][qid] = out
            self._dirty_parts.add(("query", qid))

    def _release(self, r: NodeRun) -> None:
        """Drop the per-node evaluation caches of a finished node (nothing evaluates for it any more),
        so a long run keeps only its state per node (outputs, node entry), not caches."""
        self._options_cache.pop(r.node.id, None)
        cache = getattr(self.ev, "_cache", None)  # the evaluator's decoded-ValueRef cache, keyed by id()
        if isinstance(cache, dict):
            for ref in iter_valuerefs(r.node.execution):
                cache.pop(id(ref), None)

    def _complete(self, r: NodeRun, state: NodeState) -> None:
        r.state = state
        r.pause = None
        r.finished_at = self.opts.clock()
        self._release(r)
        for dep in self._dependents[r.node.id]:
            self._waiting_deps[dep] -= 1
            if self._waiting_deps[dep] == 0:
                self._push_candidate(self.runs[dep].index)
        self._checkpoint(r)

    def _fail(self, r: NodeRun, message: str, *, retryable: bool, exc: BaseException | None = None,
              failure: str = "failed", name: str | None = None) -> None:
        r.state = "failed"
        r.error = message
        r.failure = failure
        r.finished_at = self.opts.clock()
        self._release(r)
        data: dict[str, Any] = {"reason": message, "retryable": retryable,
                                "error": error_object(exc if exc is not None else message, name)}
        if isinstance(exc, BackendError):
            data["category"] = exc.category
            if exc.details:
                data["details"] = exc.details
            for etype, edata in getattr(exc, "events", ()):  # e.g. tx_sent of a tx that then reverted
                self.events.emit(etype, edata, node_id=r.node.id)
        self.events.emit("error", data, node_id=r.node.id)
        self._fatal = self._fatal or message
        if self.opts.stop_on_error:
            self._stop = True
        self._checkpoint(r)

    def _pause(self, r: NodeRun, reason: str, details: Mapping[str, Any], *, kind: str,
               event: str = "need_user_confirm") -> None:
        n = r.node
        r.state = "paused"
        r.failure = None
        d = dict(details)
        if event == "need_user_confirm":
            d.setdefault("node_id", n.id)
            d.setdefault("action_ref", _action_ref(n))
            d.setdefault("hit_reasons", [reason])
            d.setdefault("workflow_node_id", n.source.node_id if n.source and n.source.node_id else n.id)
            d.setdefault("chain", n.chain)
            d.setdefault("execution_type", n.execution_type)
            d.setdefault("can_confirm", kind in ("confirm",))
        r.pause = {"kind": kind, "reason": reason, "details": d}
        self.events.emit(event, {"reason": reason, "details": d}, node_id=n.id)
        self._checkpoint(r)

    def _pause_info(self, r: NodeRun) -> dict[str, Any]:
        p = r.pause or {}
        return {"node": r.node.id, "reason": p.get("reason", ""), "details": {"kind": p.get("kind"),
                                                                           **dict(p.get("details") or {})}}

    def _checkpoint(self, r: NodeRun) -> None:
        """A state transition of ``r``: its checkpoint is committed before the next node starts,
        before the scheduler waits, sleeps or pauses, and before the run returns; transitions that
        happen together (results drained at once) share one commit."""
        if self.store is None:
            return
        self._dirty_nodes.add(r.node.id)
        self._ckpt_pending = True

    def _mark_path(self, path: str) -> None:
        """Record that the root changed at ``path`` (a ref path): its part is saved at the next commit."""
        segs = split_path(path)
        if len(segs) >= 2:
            self._dirty_parts.add((segs[0], segs[1]))
        elif segs:
            self._dirty_sections.add(segs[0])

    def _take_delta(self) -> Any:
        from aisc.runtime.store import DELETED, Delta

        if self._dirty_all:
            delta = Delta(nodes={nid: self._node_entry(r) for nid, r in self.runs.items()},
                          sections=dict(self.root), confirmed=sorted(self.confirmed), full=True)
        else:
            sections = {s: self.root[s] for s in self._dirty_sections if s in self.root}
            parts: dict[tuple[str, str], Any] = {}
            for sec, key in self._dirty_parts:
                if sec in sections or sec not in self.root:
                    continue
                box = self.root[sec]
                if isinstance(box, Mapping):
                    parts[(sec, key)] = box.get(key, DELETED)
                else:
                    sections[sec] = box
            nodes = sorted(self._dirty_nodes, key=lambda nid: self.runs[nid].index)
            delta = Delta(nodes={nid: self._node_entry(self.runs[nid]) for nid in nodes}, sections=sections,
                          parts=parts, confirmed=sorted(self.confirmed) if self._dirty_confirmed else None)
        self._dirty_all = self._dirty_confirmed = False
        self._dirty_nodes.clear()
        self._dirty_sections.clear()
        self._dirty_parts.clear()
        return delta

    def _flush_checkpoint(self) -> None:
        """Commit the pending checkpoint (a no-op when nothing is pending)."""
        if not self._ckpt_pending or self.store is None:
            return
        save_delta = getattr(self.store, "save_delta", None)
        changed: list[str] | None = None
        with self._lock:
            self._ckpt_pending = False
            if save_delta is None:  # a store that only takes whole snapshots
                info = dict(self.store.save(self.run_id, self.snapshot()))
            else:
                delta = self._take_delta()
                changed = None if delta.full else list(delta.nodes)
                info = dict(save_delta(self.run_id, delta))
        if changed is not None:
            info["nodes"] = changed
        self.events.emit("checkpoint_saved", {"checkpoint": info})

    # ------------------------------------------------------------------ commands (while paused)

    def handle_command(self, msg: Mapping[str, Any]) -> bool:
        """Apply one command; emits command_accepted / command_rejected (and patch events)."""
        cmd, err = parse_command(msg)
        summary = {"id": cmd.get("id", ""), "ts": cmd.get("ts", ""), "kind": cmd.get("type", "")}
        if err is not None:
            self.events.emit("command_rejected", {"command": summary, "reason": err[0], "field_path": err[1],
                                                  "details": {}})
            return False
        ctype = cmd["type"]
        data = cmd["data"]
        handler = {"user_confirm": self._cmd_confirm, "apply_patches": self._cmd_patches,
                   "select_provider": self._cmd_select_provider, "cancel": self._cmd_cancel}[ctype]
        return handler(summary, data)

    def _reject(self, summary: Mapping[str, Any], reason: str, field_path: str,
                details: Mapping[str, Any] | None = None) -> bool:
        self.events.emit("command_rejected", {"command": dict(summary), "reason": reason,
                                              "field_path": field_path, "details": dict(details or {})})
        return False

    def _paused_targets(self, data: Mapping[str, Any]) -> list[NodeRun]:
        node_id = data.get("node_id")
        key = data.get("scope_key") or data.get("confirmation_scope")
        out = []
        for r in self.runs.values():
            if r.state != "paused" or r.pause is None:
                continue
            det = r.pause.get("details") or {}
            scope = (det.get("confirmation_scope") or {}).get("key") if isinstance(det, Mapping) else None
            if (node_id is not None and r.node.id == node_id) or (key is not None and scope == key):
                out.append(r)
        return out

    def _requeue(self, r: NodeRun) -> None:
        r.state = "pending"
        r.pause = None
        r.failure = None
        self._dirty_nodes.add(r.node.id)
        self._push_candidate(r.index)

    def _cmd_confirm(self, summary: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
        if data.get("node_id") is None and data.get("scope_key") is None:
            return self._reject(summary, "user_confirm needs node_id or scope_key", "$.command.data")
        targets = self._paused_targets(data)
        if not targets:
            return self._reject(summary, "no paused node matches", "$.command.data.node_id")
        for r in targets:
            assert r.pause is not None
            if r.pause["kind"] == "hard_block":
                return self._reject(summary, "a hard_block cannot be cleared by a confirmation",
                                    "$.command.data", {"node_id": r.node.id})
            if r.pause["kind"] != "confirm":
                return self._reject(summary, f"node {r.node.id} is waiting for {r.pause['kind']}, not a "
                                    "confirmation (use apply_patches or select_provider)", "$.command.data",
                                    {"node_id": r.node.id})
        if data.get("approve") is False:
            return self._reject(summary, "confirmation declined", "$.command.data.approve")
        for r in targets:
            assert r.pause is not None
            det = r.pause.get("details") or {}
            scope = (det.get("confirmation_scope") or {}).get("key") or r.node.id
            self.confirmed.add(scope)
            self._dirty_confirmed = True
            self._requeue(r)
        self.events.emit("command_accepted", {"command": dict(summary),
                                              "details": {"confirmed": [r.node.id for r in targets]}})
        return True

    def _cmd_patches(self, summary: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
        patches = data.get("patches")
        guard = self.opts.patch_guard if self.opts.patch_guard.enabled else GuardPolicy()
        try:
            with self._lock:
                self._dirty_sections.update(self.root)  # rare: save the whole root at the next commit
                res = apply_patches(self.root, patches, guard=guard)
        except RuntimePatchError as e:
            audit = e.details.get("audit") or {"patch_count": len(patches) if isinstance(patches, list) else 0,
                                               "applied_count": 0, "rejected_count": 1, "affected_paths": [],
                                               "partial_success": False, "hash": ""}
            fp = f"$.command.data.patches[{e.index}]" if e.index is not None else "$.command.data.patches"
            self.events.emit("patch_rejected", {"command": dict(summary), "reason": e.message, "field_path": fp,
                                                "summary": audit, "details": {"code": e.code, "path": e.path}})
            self._reject(summary, e.message, fp, {"code": e.code})
            if audit.get("applied_count"):
                self._requeue_paused()
            return False
        audit = res.audit
        self.events.emit("patch_applied", {"command": dict(summary), "summary": audit,
                                           "details": {"entries": list(res.entries)}})
        self.events.emit("command_accepted", {"command": dict(summary), "details": {"summary": audit}})
        self._requeue_paused()
        return True

    def _requeue_paused(self) -> None:
        for r in self.runs.values():
            if r.state == "paused":
                self._requeue(r)

    def _cmd_select_provider(self, summary: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
        node_id = data.get("node_id")
        provider = data.get("provider")
        if not isinstance(node_id, str) or node_id not in self.runs:
            return self._reject(summary, "select_provider needs the node_id of a paused node",
                                "$.command.data.node_id")
        if not isinstance(provider, str) or not provider:
            return self._reject(summary, "select_provider needs a provider name", "$.command.data.provider")
        r = self.runs[node_id]
        detects = [d for d in _detects(r.node) if d.get("kind")]
        kind = detects[0]["kind"] if detects else data.get("kind")
        if isinstance(kind, str):
            chk = pol.check_detect_allowed(self.pack, kind, r.node.chain, provider)
            if not chk["ok"]:
                return self._reject(summary, chk["reason"], "$.command.data.provider", chk.get("details"))
        choice = {"provider": provider}
        if "value" in data:
            choice["value"] = data["value"]
        self._detect_choices[node_id] = choice
        if r.state == "paused":
            self._requeue(r)
        self.events.emit("command_accepted", {"command": dict(summary),
                                              "details": {"node_id": node_id, "provider": provider}})
        return True

    def _cmd_cancel(self, summary: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
        self._cancelled = True
        self._stop = True
        for r in self.runs.values():
            if r.state in ("pending", "paused", "waiting"):
                r.state = "cancelled"
                self._dirty_nodes.add(r.node.id)
        self.events.emit("command_accepted", {"command": dict(summary),
                                              "details": {"cancelled": True, **(
                                                  {"reason": data["reason"]} if isinstance(
                                                      data.get("reason"), str) else {})}})
        return True


# ------------------------------------------------------------------ helpers

_FAILED = object()
COMMAND_SCHEMA = "ais-engine-command/0.0.1"
COMMAND_TYPES = ("user_confirm", "apply_patches", "select_provider", "cancel")


def parse_command(msg: Any) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """Normalize ``{"schema", "command": {id, type, data}}`` or the short ``{id?, type, data?}``.
    Returns (command, None) or (partial command, (reason, field_path))."""
    if not isinstance(msg, Mapping):
        return {}, ("a command must be a JSON object", "$")
    base = "$"
    if "command" in msg:
        schema = msg.get("schema")
        if schema is not None and schema != COMMAND_SCHEMA:
            return {}, (f'unsupported command schema (expected "{COMMAND_SCHEMA}")', "$.schema")
        msg = msg["command"]
        base = "$.command"
        if not isinstance(msg, Mapping):
            return {}, ("command must be an object", base)
    cmd: dict[str, Any] = {"id": str(msg.get("id") or uuid.uuid4().hex[:12]),
                           "type": msg.get("type", msg.get("kind")),
                           "data": msg.get("data", {})}
    if isinstance(msg.get("ts"), str):
        cmd["ts"] = msg["ts"]
    if cmd["type"] not in COMMAND_TYPES:
        cmd["type"] = str(cmd["type"])
        return cmd, (f"unknown command type (expected one of {', '.join(COMMAND_TYPES)})", f"{base}.type")
    if not isinstance(cmd["data"], Mapping):
        return cmd, ("command data must be an object", f"{base}.data")
    return cmd, None


def _blocked(missing: list[str], needs_detect: bool, errors: list[str], params: dict[str, Any]) -> dict[str, Any]:
    return {"state": "blocked", "missing_refs": list(missing), "needs_detect": needs_detect,
            "errors": list(errors), "resolved_params": params}


def _readiness_json(rd: Mapping[str, Any]) -> dict[str, Any]:
    return {"state": rd["state"], "missing_refs": list(rd["missing_refs"]), "needs_detect": rd["needs_detect"],
            "errors": list(rd["errors"])}


def _action_ref(n: PlanNode) -> str:
    s = n.source
    if s and s.protocol and (s.action or s.query):
        return f"{s.protocol}/{s.action or s.query}"
    return f"{n.id}/{n.execution_type}"


def _vr_text(ref: vr.ValueRef) -> str:
    if isinstance(ref, vr.Cel):
        return f"cel({ref.expr})"
    if isinstance(ref, vr.Ref):
        return f"ref({ref.path})"
    return str(vr.to_json(ref))


def _detects(n: PlanNode) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    refs = list(iter_valuerefs(n.execution)) + [vr.to_json(v) for v in n.params.values()]
    for ref in refs:
        stack = [ref]
        while stack:
            x = stack.pop()
            if isinstance(x, Mapping):
                if "detect" in x and isinstance(x["detect"], Mapping):
                    out.append(x["detect"])
                stack.extend(v for v in x.values() if isinstance(v, Mapping | list))
            elif isinstance(x, list):
                stack.extend(x)
    return out


class _ChoiceResolver:
    """Detect resolution: a provider choice made by ``select_provider``, else the caller's resolver."""

    def __init__(self, choices: Mapping[str, Any], fallback: Any) -> None:
        self.choices = choices
        self.fallback = fallback

    def resolve_for(self, node_id: str, detect: vr.Detect, root: Mapping[str, Any], chain: str | None) -> Any:
        choice = self.choices.get(node_id)
        if isinstance(choice, Mapping):
            if "value" in choice:
                return choice["value"]
            if detect.candidates:
                return detect.candidates[0]
        if self.fallback is not None:
            return self.fallback.resolve(detect, root, chain)
        from aisc.eval.valueref import DetectUnsupported

        raise DetectUnsupported(detect)


class _NodeResolver:
    def __init__(self, inner: _ChoiceResolver, node_id: str) -> None:
        self.inner = inner
        self.node_id = node_id

    def resolve(self, detect: vr.Detect, root: Mapping[str, Any], chain: str | None) -> Any:
        return self.inner.resolve_for(self.node_id, detect, root, chain)


def node_json(n: PlanNode) -> dict[str, Any]:
    return node_to_json(n)


def run_plan(plan: Plan, router: Router, **kwargs: Any) -> RunResult:
    """Convenience: ``Engine(plan, router, **kwargs).run()``."""
    return Engine(plan, router, **kwargs).run()


__all__ = [
    "CheckpointStore", "CommandSource", "Engine", "NodeRun", "PlanInputError", "RunOptions", "RunResult",
    "check_runnable", "is_missing", "new_root", "parse_command", "run_plan",
]


install_reprs(__name__)
