#!/usr/bin/env python3
"""Runtime benchmarks: scheduler overhead per node, and CEL evaluation inside a run.

Targets (issue 5): scheduler overhead <= 150 us per node on the fake backend for a 1,000-node plan;
CEL evaluation measured against a runtime root holding 200 nodes of state.

    python bench/run.py            # 7 runs per scenario, medians
    python bench/run.py --runs 3

Scenarios (all on the in-memory fake backend, so the time is the engine's own):
- ``independent-reads``: 1,000 reads with no deps (max concurrency 8).
- ``chain``: 1,000 reads, each depending on the previous one (worst case for readiness bookkeeping).
- ``mixed``: 1,000 nodes, reads with params/conditions/asserts and a write every 10th node.
- ``chain-jsonl``: ``chain`` with events serialized as JSON lines (ais-json) to /dev/null.
- ``*-inline``: the same with a backend that declares ``inline = True`` (in-process, never blocks,
  like LiteSVM): the engine calls it on its own thread, without the thread-pool hand-off.
The threaded scenarios are dominated by the pool hand-off (a queue wake-up per node), which depends
on the machine's load; the inline ones measure the scheduler itself.
- ``store-*``: ``independent-reads`` through :class:`DurableRunner` with the SQLite run store on
  (the default of ``aisc run``: WAL, ``synchronous=FULL``, a checkpoint after each state change),
  at 1,000 and 10,000 nodes (``--store-sizes``): the per-node cost must not grow with the number of
  nodes already done (incremental checkpoints, docs/durability.md).
Each time includes plan_ready, readiness, dispatch to the pool, events, write-back and completion.
A read that is the only runnable work runs on the scheduler thread (the engine would only wait for
it), so ``chain`` no longer pays two thread wake-ups per node; ``mixed`` still sends its writes to
the pool. ``cpu us`` (process CPU time per node) is less sensitive to other load on the machine.
Prints a table and writes bench/out/run.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aisc.backends.fake import FakeBackend  # noqa: E402
from aisc.backends.registry import BackendRegistry  # noqa: E402
from aisc.ir.plan import plan_from_json  # noqa: E402
from aisc.runtime.engine import Engine, RunOptions  # noqa: E402
from aisc.runtime.events import EventSink, JsonlSink, ListSink  # noqa: E402

OUT = REPO / "bench" / "out" / "run.json"
TARGET_US = 150.0
CHAIN = "eip155:31337"
ABI = {"type": "function", "name": "f", "inputs": []}


def _read(i: int, **over: Any) -> dict[str, Any]:
    n = {"id": f"n{i}", "chain": CHAIN, "kind": "query_ref",
         "execution": {"type": "evm_read", "to": {"lit": "0x01"}, "abi": ABI, "args": {}}}
    n.update(over)
    return n


def plan_independent(n: int) -> Any:
    return plan_from_json({"schema": "ais-plan/0.0.3", "nodes": [_read(i) for i in range(n)]})


def plan_chain(n: int) -> Any:
    return plan_from_json({"schema": "ais-plan/0.0.3",
                           "nodes": [_read(i, deps=[f"n{i - 1}"]) if i else _read(i) for i in range(n)]})


def plan_mixed(n: int) -> Any:
    nodes = []
    for i in range(n):
        if i % 10 == 9:
            nodes.append({"id": f"n{i}", "chain": CHAIN, "kind": "action_ref", "deps": [f"n{i - 1}"],
                          "execution": {"type": "evm_call", "to": {"lit": "0x02"},
                                        "abi": {"type": "function", "name": "set", "inputs": []},
                                        "args": {"v": {"ref": "params.v"}}},
                          "bindings": {"params": {"v": {"ref": f"nodes.n{i - 1}.outputs.v"}}}})
        else:
            nodes.append(_read(i, condition={"cel": "inputs.go"},
                               bindings={"params": {"owner": {"ref": "inputs.owner"}}},
                               **{"assert": {"cel": f"nodes.n{i}.outputs.v >= 0"}}))
    return plan_from_json({"schema": "ais-plan/0.0.3", "nodes": nodes})


def run_once(plan: Any, sink: EventSink, inline: bool = False) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one run."""
    be = FakeBackend({"*": {"outputs": {"v": 1}}}, inline=inline)
    reg = BackendRegistry()
    reg.register(be)
    eng = Engine(plan, reg, inputs={"go": True, "owner": "0xabc"}, options=RunOptions(run_id="bench"), sink=sink)
    t0, c0 = time.perf_counter(), time.process_time()
    res = eng.run()
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    if res.status != "done":
        raise SystemExit(f"bench run did not finish: {res.status} {res.error}")
    return dt, dc


def run_store_once(plan: Any, tmp: str, tag: str) -> tuple[float, float]:
    """(wall, CPU seconds) of one DurableRunner run with a fresh SQLite store in ``tmp``."""
    from aisc.runtime.durable import DurableRunner
    from aisc.runtime.store import SqliteStore

    reg = BackendRegistry()
    reg.register(FakeBackend({"*": {"outputs": {"v": 1}}}))
    with SqliteStore(os.path.join(tmp, f"{tag}.db")) as st:
        runner = DurableRunner(reg, store=st, options=RunOptions(run_id=tag))
        t0, c0 = time.perf_counter(), time.process_time()
        out = runner.start(plan)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
    if out.status != "done":
        raise SystemExit(f"bench run did not finish: {out.status} {out.error}")
    return dt, dc


def bench_store(sizes: list[int], runs: int) -> dict[str, Any]:
    import tempfile

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="aisc-bench-store-") as tmp:
        for n in sizes:
            plan = plan_independent(n)
            k = runs if n <= 2000 else max(1, min(runs, 3))
            pairs = [run_store_once(plan, tmp, f"s{n}-{i}") for i in range(k)]
            samples = [w / n * 1e6 for w, _ in pairs]
            out[f"store-independent-reads-{n}"] = {
                "nodes": n, "runs": k, "median_us_per_node": round(statistics.median(samples), 1),
                "min_us_per_node": round(min(samples), 1), "max_us_per_node": round(max(samples), 1),
                "cpu_median_us_per_node": round(statistics.median(c / n * 1e6 for _, c in pairs), 1)}
    return out


def bench_cel(runs: int) -> dict[str, Any]:
    """Evaluate expressions against a root that holds 200 completed nodes (outputs of each)."""
    plan = plan_independent(200)
    be = FakeBackend({"*": {"outputs": {"v": 5, "amount_atomic": "1000000", "ok": True,
                                         "nested": {"a": [1, 2, 3]}}}})
    reg = BackendRegistry()
    reg.register(be)
    eng = Engine(plan, reg, options=RunOptions(run_id="bench-cel"), sink=ListSink())
    eng.run()
    assert len(eng.root["nodes"]) == 200
    exprs = {
        "ref": {"ref": "nodes.n150.outputs.v"},
        "cel-compare": {"cel": "nodes.n150.outputs.v + nodes.n10.outputs.v > 5"},
        "cel-amount-math": {"cel": "to_atomic('1.5', 6) <= int(nodes.n199.outputs.amount_atomic) * 2"},
        "cel-nested": {"cel": "size(nodes.n42.outputs.nested.a) == 3 && nodes.n7.outputs.ok"},
    }
    out: dict[str, Any] = {}
    iters = 2000
    for name, ref in exprs.items():
        eng.ev.value(ref)  # compile once (cached), as in a run
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            for _ in range(iters):
                eng.ev.value(ref)
            samples.append((time.perf_counter() - t0) / iters * 1e6)
        out[name] = {"median_us": round(statistics.median(samples), 2), "min_us": round(min(samples), 2)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--store-sizes", type=int, nargs="*", default=[1000, 10_000],
                    help="plan sizes of the store-on scenarios (none: skip them)")
    ap.add_argument("--store-only", action="store_true", help="run only the store-on scenarios")
    args = ap.parse_args()
    n = args.nodes
    def devnull() -> EventSink:
        return JsonlSink(open(os.devnull, "w"))

    pi, pc, pm = plan_independent(n), plan_chain(n), plan_mixed(n)
    scenarios = {
        "independent-reads": (pi, ListSink, False),
        "chain": (pc, ListSink, False),
        "mixed": (pm, ListSink, False),
        "chain-jsonl": (pc, devnull, False),
        "chain-inline": (pc, ListSink, True),
        "mixed-inline": (pm, ListSink, True),
        "mixed-inline-jsonl": (pm, devnull, True),
    }
    results: dict[str, Any] = {}
    if args.store_only:
        scenarios = {}
    for name, (plan, mk, inline) in scenarios.items():
        run_once(plan, mk(), inline)  # warm-up
        pairs = [run_once(plan, mk(), inline) for _ in range(args.runs)]
        samples = [w / n * 1e6 for w, _ in pairs]
        med = statistics.median(samples)
        cpu = statistics.median(c / n * 1e6 for _, c in pairs)
        results[name] = {"median_us_per_node": round(med, 1), "min_us_per_node": round(min(samples), 1),
                         "max_us_per_node": round(max(samples), 1), "cpu_median_us_per_node": round(cpu, 1),
                         "meets_target": med <= TARGET_US}
    store = bench_store(list(args.store_sizes), args.runs)
    cel = bench_cel(args.runs) if not args.store_only else {}
    print(f"scheduler overhead per node, {n}-node plans, fake backend, {args.runs} runs (target <= {TARGET_US:.0f} us)")
    print(f"{'scenario':<20} {'median us':>10} {'min us':>8} {'max us':>8} {'cpu us':>8}  target")
    for name, r in results.items():
        print(f"{name:<20} {r['median_us_per_node']:>10} {r['min_us_per_node']:>8} {r['max_us_per_node']:>8} "
              f"{r['cpu_median_us_per_node']:>8}  {'ok' if r['meets_target'] else 'MISSED'}")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall times grow with the load; "
          "'cpu us' is this process's CPU time per node)")
    if store:
        print("\nwith the SQLite run store on (DurableRunner, fsync per commit): independent reads")
        print(f"{'scenario':<34} {'runs':>4} {'median us':>10} {'min us':>8} {'max us':>8} {'cpu us':>8}")
        for name, r in store.items():
            print(f"{name:<34} {r['runs']:>4} {r['median_us_per_node']:>10} {r['min_us_per_node']:>8} "
                  f"{r['max_us_per_node']:>8} {r['cpu_median_us_per_node']:>8}")
    print("\nValueRef/CEL evaluation with 200 nodes of state (per evaluation)")
    print(f"{'expression':<20} {'median us':>10} {'min us':>8}")
    for name, r in cel.items():
        print(f"{name:<20} {r['median_us']:>10} {r['min_us']:>8}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc = {"nodes": n, "runs": args.runs, "target_us_per_node": TARGET_US, "python": platform.python_version(),
           "machine": platform.machine(), "scheduler": results, "store": store, "cel_200_nodes": cel}
    if args.store_only:  # keep the other scenarios of the last full run
        with contextlib.suppress(OSError, ValueError):
            doc = {**json.loads(OUT.read_text()), "store": store}
    OUT.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nwrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
