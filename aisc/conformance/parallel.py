"""Running conformance cases in more than one process.

Most of a cold ``aisc conformance`` is importing the code under test, and the handler modules import
very different things: the core kinds the compiler, the YAML reader and the CEL parser; the EVM
kinds eth-abi; the Solana kinds solders; the runtime kinds the engine. With two cores those imports
can overlap.

A :class:`Pool` is started as early as possible, before the vector files are read. It packs the
case groups (:data:`COMPILE`, :data:`ABI`, :data:`CHAIN`: kinds that import the same code, with a
rough start-up cost each) into ``jobs`` bins, forks one worker per bin but the last, and each worker
at once imports what its groups need. The caller
meanwhile reads the vector files; :meth:`Pool.run` then hands each worker the cases of its groups
(pickled through a pipe, by a writer thread so that a busy worker never blocks the caller), runs
the remaining cases itself and puts every result back in selection order, so a report never depends
on the number of processes.

A worker that dies before reporting (a crash in native code, a kill) turns each of its cases into a
failure that says so; the run never hangs on it, nor on a worker that is given no case (it is
stopped at once). Where ``os.fork`` is missing or fails, or this process already runs other threads
(forking them is unsafe), the work of the missing workers runs in this process, one case after the
other. This module imports nothing heavy: it runs before the rest
of the runner is loaded.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from aisc.conformance.runner import Case, CaseResult, Status

MAX_JOBS = 8

CORE = "aisc.conformance.kinds_core"
EVM = "aisc.conformance.kinds_evm"
SOLANA = "aisc.conformance.kinds_solana"
RUNTIME = "aisc.conformance.kinds_runtime"

# Cases are grouped by what their first use imports, so that a group's imports are paid once:
COMPILE = "compile"  # the core kinds: compiler, YAML reader, CEL parser and evaluator, JCS
ABI = "abi"  # the EVM kinds: eth-abi
CHAIN = "chain"  # Solana, runtime and value kinds: solders, pycryptodome, regex, the runtime policy
GROUP_OF_MODULE: dict[str, str] = {CORE: COMPILE, EVM: ABI, SOLANA: CHAIN, RUNTIME: CHAIN}
GROUP_OF_KIND: dict[str, str] = {"ais_value_validate": CHAIN}
"""Kinds whose group is not their handler module's (value checks need solders and regex, not the
compiler)."""

GROUP_COST_MS: dict[str, float] = {COMPILE: 155.0, ABI: 120.0, CHAIN: 65.0}
"""Rough first-use cost of each group in ms (its imports and its cases, measured with
``bench/cold_start.py``); it only balances the bins. A group not listed costs DEFAULT_COST_MS."""
DEFAULT_COST_MS = 20.0
CALLER_OVERHEAD_MS = 60.0
"""What the calling process does besides its own cases (importing the runner, reading the vector
files, rendering the report): its bin starts with this much."""

WARM: dict[str, tuple[str, ...]] = {
    COMPILE: (CORE, "aisc.compiler", "aisc.eval", "aisc.jcs"),
    ABI: (EVM,),
    CHAIN: (SOLANA, RUNTIME, "aisc.ir.values", "aisc.runtime.policy", "aisc.runtime.patch"),
}
"""What a worker imports for a group before its cases arrive (after these, the runner, which every
worker needs to read its cases). An import that fails is ignored here: the first case of the group
reports it."""


def auto_jobs() -> int:
    """The default process count: up to 2, never more than the cores this process may use."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


def can_fork() -> bool:
    """Forking is available and safe here (no other thread is running)."""
    return hasattr(os, "fork") and threading.active_count() == 1


def group_of(kind: str) -> str:
    """The group of a case kind (see :data:`GROUP_OF_MODULE`); a kind only a scan of the handler
    modules can place is in group ``"scan"``, which the caller runs."""
    from aisc.conformance.registry import module_for

    group = GROUP_OF_KIND.get(kind)
    if group is not None:
        return group
    module = module_for(kind)
    return GROUP_OF_MODULE.get(module, module)


def plan_bins(groups: Iterable[str], jobs: int) -> list[list[str]]:
    """Pack ``groups`` into ``jobs`` bins, costliest group first into the lightest bin. The last bin
    is the caller's (it starts with :data:`CALLER_OVERHEAD_MS`); the others become workers. Empty
    worker bins are dropped; the caller's bin is always there, possibly empty."""
    jobs = max(1, min(jobs, MAX_JOBS))
    loads = [0.0] * (jobs - 1) + [CALLER_OVERHEAD_MS]
    bins: list[list[str]] = [[] for _ in range(jobs)]
    cost = {g: GROUP_COST_MS.get(g, DEFAULT_COST_MS) for g in set(groups)}
    for g in sorted(cost, key=lambda g: (-cost[g], g)):
        k = min(range(jobs), key=lambda b: (loads[b], b))
        bins[k].append(g)
        loads[k] += cost[g]
    return [b for b in bins[:-1] if b] + [bins[-1]]


class _Worker:
    def __init__(self, pid: int, groups: list[str], cases_fd: int, results_fd: int):
        self.pid = pid
        self.groups = groups
        self.cases_fd = cases_fd  # the caller writes the pickled cases here
        self.results_fd = results_fd  # and reads the pickled results here
        self.done = False


class Pool:
    """Worker processes that warm up while the caller loads the cases. Use once: ``run`` then
    ``close`` (``close`` alone when nothing is run)."""

    def __init__(self, workers: list[_Worker]):
        self._workers = workers

    @property
    def size(self) -> int:
        """Processes taking part, the caller included."""
        return len(self._workers) + 1

    @classmethod
    def start(cls, jobs: int, kinds: Sequence[str] = ()) -> Pool:
        """Fork the workers for ``jobs`` processes. ``kinds`` (if any) limits the groups to plan for
        (the ``--kind`` filter); otherwise every known group is planned for."""
        if jobs <= 1 or not can_fork():
            return cls([])
        groups = {group_of(k) for k in kinds} if kinds else set(GROUP_COST_MS)
        groups.discard("scan")
        bins = plan_bins(groups, jobs)
        sys.stdout.flush()
        sys.stderr.flush()
        workers: list[_Worker] = []
        for groups_of_bin in bins[:-1]:
            try:
                cases_r, cases_w = os.pipe()
                results_r, results_w = os.pipe()
            except OSError:  # out of file descriptors: the remaining groups run in this process
                break
            try:
                pid = os.fork()
            except OSError:  # out of processes or memory: the remaining groups run in this process
                for fd in (cases_r, cases_w, results_r, results_w):
                    os.close(fd)
                break
            if pid == 0:  # pragma: no cover - the worker; its results are checked by the caller
                os.close(cases_w)
                os.close(results_r)
                for w in workers:  # pipes of earlier workers belong to the caller
                    os.close(w.cases_fd)
                    os.close(w.results_fd)
                _worker_main(groups_of_bin, cases_r, results_w)
            os.close(cases_r)
            os.close(results_w)
            workers.append(_Worker(pid, groups_of_bin, cases_w, results_r))
        return cls(workers)

    def run(self, cases: Sequence[Case], run_case: Callable[[Case], CaseResult]) -> list[CaseResult]:
        """Run ``cases``: those of a worker's groups there, the others here with ``run_case``.
        Results come back in the order of ``cases``; a passed case run by a worker comes back without
        its evidence (``expected``/``actual``), which no report shows."""
        owner: dict[str, _Worker] = {g: w for w in self._workers if not w.done for g in w.groups}
        mine: list[int] = []
        theirs: dict[int, list[int]] = {w.pid: [] for w in self._workers if not w.done}
        for i, case in enumerate(cases):
            w = owner.get(group_of(case.kind)) if owner else None
            (theirs[w.pid] if w is not None else mine).append(i)
        for w in self._workers:
            if not w.done and not theirs[w.pid]:
                _stop(w)  # nothing for it: do not wait for its warm-up to finish
        writers = []
        for w in self._workers:
            if w.done:
                continue
            payload = pickle.dumps([cases[i] for i in theirs[w.pid]], protocol=pickle.HIGHEST_PROTOCOL)
            t = threading.Thread(target=_write_all, args=(w.cases_fd, payload), daemon=True)
            t.start()
            writers.append(t)
        results: list[CaseResult | None] = [None] * len(cases)
        for i in mine:
            results[i] = run_case(cases[i])
        for w in self._workers:
            if w.done:
                continue
            members = theirs[w.pid]
            got, how = _collect(w, len(members))
            if got is None:
                for i in members:
                    results[i] = _lost(cases[i], how)
                continue
            from aisc.conformance.runner import CaseResult

            for (status, outcome, duration_ns), i in zip(got, members, strict=True):
                results[i] = CaseResult(cases[i], status, outcome, duration_ns)
        for t in writers:
            t.join()
        out: list[CaseResult] = []
        for r in results:
            assert r is not None
            out.append(r)
        return out

    def close(self) -> None:
        """Stop workers that were given nothing to do (a run that ended before ``run``)."""
        for w in self._workers:
            if not w.done:
                _stop(w)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stop(w: _Worker) -> None:
    """End a worker that has nothing (more) to do, whatever it is doing, and reap it."""
    w.done = True
    for fd in (w.cases_fd, w.results_fd):
        with contextlib.suppress(OSError):
            os.close(fd)
    with contextlib.suppress(OSError):  # already gone
        os.kill(w.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(w.pid, 0)


def _write_all(fd: int, data: bytes) -> None:
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except OSError:  # the worker died; the caller reports it when collecting
        pass


def _worker_main(groups: list[str], cases_fd: int, results_fd: int) -> NoReturn:  # pragma: no cover
    code = 0
    try:
        for g in groups:
            for module in WARM.get(g, ()):
                with contextlib.suppress(Exception):
                    importlib.import_module(module)
            if g == COMPILE:
                _warm_cel()
        from aisc.conformance.runner import run_case
        with os.fdopen(cases_fd, "rb") as f:
            data = f.read()
        cases = pickle.loads(data) if data else []
        if cases:
            payload = pickle.dumps([_portable(run_case(c)) for c in cases], protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(results_fd, "wb") as out:
                out.write(payload)
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def _warm_cel() -> None:  # pragma: no cover - runs in a worker
    try:
        from aisc.grammar.parser import preload

        preload()
    except Exception:
        pass


def _portable(result: CaseResult) -> tuple[Status, Any, int]:  # pragma: no cover - runs in a worker
    """What the caller needs of ``result``: ``(status, outcome, duration_ns)`` (it has the case).
    A passed case's evidence is left out (no report shows it; a plan compared with its golden file is
    most of the bytes), and evidence that does not pickle is turned into text."""
    import attrs

    o = result.outcome
    if result.status == "passed":
        o = attrs.evolve(o, expected=None, actual=None)
    else:
        try:
            pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            o = attrs.evolve(o, expected=None if o.expected is None else repr(o.expected),
                             actual=None if o.actual is None else repr(o.actual))
    return result.status, o, result.duration_ns


def _collect(w: _Worker, expected: int) -> tuple[list[tuple[Status, Any, int]] | None, str]:
    """The worker's ``(status, outcome, duration_ns)`` per case (``None`` if it sent none or garbage)
    and how it ended."""
    with os.fdopen(w.results_fd, "rb") as f:
        data = f.read()
    _, status = os.waitpid(w.pid, 0)
    w.done = True
    how = _describe(status)
    if expected == 0:
        return [], how
    try:
        got = pickle.loads(data) if data else None
    except Exception:
        return None, how
    if not isinstance(got, list) or len(got) != expected:
        return None, how
    return got, how


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by signal {os.WTERMSIG(status)}"
    if os.WIFEXITED(status):
        return f"exited with code {os.WEXITSTATUS(status)}"
    return f"ended with status {status}"  # pragma: no cover


def _lost(case: Case, how: str) -> CaseResult:
    from aisc.conformance.outcome import Outcome
    from aisc.conformance.runner import CaseResult

    msg = (f"the worker process running this case {how} before reporting a result (an aisc bug, or "
           "the process was killed); run it with -j 1 to see it in this process")
    return CaseResult(case, "failed", Outcome(False, message=msg), 0)
