"""The conformance runner's process pool: planning, equal results with 1 or 2 processes, dead workers.

The pool forks for real (Linux); every check compares what the pool returns with the in-process run
or with an independently stated expectation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aisc.conformance import parallel, registry, runner
from aisc.conformance.outcome import Outcome

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the pool forks; elsewhere everything runs in process")


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    registry.clear_cache()
    yield
    registry.clear_cache()


def _summary(results: list[runner.CaseResult] | tuple[runner.CaseResult, ...]) -> list[tuple[str, str, str, bool]]:
    return [(r.case.ref, r.status, r.outcome.message, r.outcome.passed) for r in results]


# ------------------------------------------------------------------ planning


def test_groups_follow_what_a_kind_imports() -> None:
    assert parallel.group_of("workflow_plan") == parallel.COMPILE
    assert parallel.group_of("cel_eval") == parallel.COMPILE
    assert parallel.group_of("evm_json_abi_encode") == parallel.ABI
    assert parallel.group_of("evm_anything_new") == parallel.ABI  # prefix routing, no import
    assert parallel.group_of("solana_find_pda") == parallel.CHAIN
    assert parallel.group_of("ais_value_validate") == parallel.CHAIN  # a core kind that needs solders, not the compiler
    assert parallel.group_of("policy_gate") == parallel.CHAIN
    assert parallel.group_of("frobnicate") == "scan"  # only a scan of the handler modules can place it: the caller


def test_plan_puts_costliest_groups_in_the_lightest_bin_and_the_caller_last(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "GROUP_COST_MS", {"a": 100.0, "b": 60.0, "c": 50.0, "d": 10.0})
    monkeypatch.setattr(parallel, "CALLER_OVERHEAD_MS", 30.0)
    # worker starts at 0, caller at 30: a→worker(100), b→caller(90), c→caller(140)? no: 90 < 100 → caller(140),
    # d→worker(110)
    assert parallel.plan_bins(["d", "c", "b", "a"], 2) == [["a", "d"], ["b", "c"]]
    # one process: everything is the caller's
    assert parallel.plan_bins(["a", "b"], 1) == [["a", "b"]]
    # more processes than groups: empty worker bins are dropped, the caller's bin stays (even empty)
    assert parallel.plan_bins(["a"], 4) == [["a"], []]


def test_unknown_group_costs_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "GROUP_COST_MS", {"a": 10.0})
    monkeypatch.setattr(parallel, "DEFAULT_COST_MS", 500.0)
    monkeypatch.setattr(parallel, "CALLER_OVERHEAD_MS", 0.0)
    assert parallel.plan_bins(["a", "zzz"], 2) == [["zzz"], ["a"]]


# ------------------------------------------------------------------ running


def test_two_processes_give_the_same_results_in_the_same_order_as_one() -> None:
    suites = runner.load(None)
    alone = runner.run(suites, jobs=1)
    registry.clear_cache()
    with parallel.Pool.start(2) as pool:
        assert pool.size == 2
        pooled = runner.run(suites, pool=pool)
    assert len(pooled.results) == len(alone.results) > 400
    assert _summary(pooled.results) == _summary(alone.results)
    assert pooled.failed == 0


def test_kind_filter_plans_only_the_groups_it_names() -> None:
    with parallel.Pool.start(2, ["cel_eval"]) as pool:
        # one group: it goes to the worker, the caller keeps nothing but its overhead
        assert pool.size == 2
        suites = runner.load(None)
        report = runner.run(suites, kinds=["cel_eval"], pool=pool)
    assert report.results and all(r.case.kind == "cel_eval" for r in report.results)
    assert report.failed == 0


def test_a_worker_that_dies_fails_its_cases_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = os.getpid()
    real = runner.run_case

    def dying(case: runner.Case) -> runner.CaseResult:
        if os.getpid() != parent:
            os._exit(3)  # the worker goes away without a word
        return real(case)

    monkeypatch.setattr(runner, "run_case", dying)  # the worker is forked after this, so it has it too
    suites = runner.load(None)
    with parallel.Pool.start(2) as pool:
        report = runner.run(suites, pool=pool)
    worker_groups = set(parallel.plan_bins(parallel.GROUP_COST_MS, 2)[0])
    lost = [r for r in report.results if parallel.group_of(r.case.kind) in worker_groups]
    kept = [r for r in report.results if parallel.group_of(r.case.kind) not in worker_groups]
    assert lost and kept
    assert all(r.status == "failed" and "exited with code 3 before reporting" in r.outcome.message for r in lost)
    assert all(r.status == "passed" for r in kept)


def test_close_without_run_stops_the_workers() -> None:
    pool = parallel.Pool.start(2)
    pids = [w.pid for w in pool._workers]
    assert pids
    pool.close()
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left behind


def test_a_worker_with_no_cases_is_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only ABI cases selected, but the pool planned every group: the compile worker, still warming
    up (here: for 60 s), is stopped at once instead of being waited for."""
    import time

    monkeypatch.setattr(parallel, "_warm_cel", lambda: time.sleep(60))  # the worker is forked with it
    suites = runner.load(None)
    start = time.perf_counter()
    with parallel.Pool.start(2) as pool:
        worker = pool._workers[0]
        assert parallel.COMPILE in worker.groups and parallel.ABI not in worker.groups
        report = runner.run(suites, kinds=["evm_json_abi_encode"], pool=pool)
        assert worker.done
    assert time.perf_counter() - start < 30
    assert report.results and report.failed == 0
    with pytest.raises(ChildProcessError):
        os.waitpid(worker.pid, os.WNOHANG)  # reaped


def test_a_failing_fork_leaves_the_work_to_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    fds_before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    with parallel.Pool.start(2) as pool:
        assert pool.size == 1
        suites = runner.load(None)
        report = runner.run(suites, kinds=["jcs_canonicalize", "evm_json_abi_encode"], pool=pool)
    assert report.results and report.failed == 0
    if fds_before is not None:
        assert len(os.listdir("/proc/self/fd")) == fds_before  # the pipes were closed


def test_no_fork_while_other_threads_run() -> None:
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert not parallel.can_fork()
        with parallel.Pool.start(2) as pool:
            assert pool.size == 1  # everything runs here
            suites = runner.load(None)
            report = runner.run(suites, kinds=["jcs_canonicalize"], pool=pool)
        assert report.passed == 1
    finally:
        stop.set()
        t.join()


def test_unpicklable_evidence_comes_back_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    lock = threading.Lock()  # cannot be pickled

    def handler(inp: object, exp: object) -> Outcome:
        return Outcome(False, expected=lock, actual=[1, 2], message="no")

    monkeypatch.setitem(registry.KIND_MODULES, "cel_eval", "tests_fake_module")
    monkeypatch.setitem(sys.modules, "tests_fake_module", type(sys)("tests_fake_module"))
    sys.modules["tests_fake_module"].KINDS = {"cel_eval": handler}  # type: ignore[attr-defined]
    suites = runner.load(None)
    with parallel.Pool.start(2, ["cel_eval"]) as pool:
        report = runner.run(suites, kinds=["cel_eval"], pool=pool)
    assert report.results
    first = report.results[0].outcome
    assert (first.passed, first.message, first.actual) == (False, "no", "[1, 2]")
    assert isinstance(first.expected, str) and first.expected.startswith("<unlocked _thread.lock")


# ------------------------------------------------------------------ command line


def _json_report(*args: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-m", "aisc", "conformance", "--format", "json", *args],
                         capture_output=True, text=True, cwd=Path(__file__).parent)
    assert out.returncode == 0, out.stderr
    data: dict[str, object] = json.loads(out.stdout)
    return data


def test_cli_reports_are_the_same_with_one_and_two_processes() -> None:
    def strip(report: dict[str, object]) -> list[object]:
        cases = report["cases"]
        assert isinstance(cases, list)
        return [{k: v for k, v in c.items() if k != "duration_us"} for c in cases]

    one, two = _json_report("-j", "1"), _json_report("-j", "2")
    assert strip(one) == strip(two)
    def counts(report: dict[str, object]) -> dict[str, object]:
        summary = report["summary"]
        assert isinstance(summary, dict)
        return {k: v for k, v in summary.items() if k != "duration_us"}

    assert counts(one) == counts(two)


@pytest.mark.parametrize("bad", ["0", "9", "two", "-1"])
def test_cli_rejects_a_bad_jobs_value(bad: str) -> None:
    out = subprocess.run([sys.executable, "-m", "aisc", "conformance", f"--jobs={bad}"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "--jobs takes 'auto' or a whole number from 1 to 8" in out.stderr
    assert "Traceback" not in out.stderr
