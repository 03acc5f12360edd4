#!/usr/bin/env python3
"""Load and soak benchmark: concurrent ``aisc run`` processes against one anvil (issue 11).

    python bench/load_runs.py                    # N = 1, 4, 16, 32 and the 10,000-node soak
    python bench/load_runs.py --n 1 4 --soak-nodes 2000 --soak-backend fake

Load: one anvil (``--accounts 40``) with TestToken; account 0 funds accounts 1..32. For each N,
N ``aisc run`` processes start at once, each with its own account (signer from an env var) and a
plan of 20 ERC20 ``transfer`` writes (evm_call). Reported: wall time, throughput (nodes/s over all
processes), p50/p99 node latency (``node_ready`` → ``tx_confirmed`` from the event stream
timestamps), the largest peak RSS of one process, failed runs (must be 0).

Soak: one ``aisc run`` of a plan with 10,000 independent reads (``evm_read`` balanceOf on anvil by
default, or the in-memory fake backend), max concurrency 8, with the run store on (the default of
``aisc run``: incremental checkpoints, docs/durability.md; ``--soak-no-store`` adds ``--no-store``).
Reported: throughput, p50/p99 latency
(``node_ready`` → ``query_result``), peak RSS, RSS after the first 1,000 completed nodes vs at the
end (must be within 10%).

RSS is sampled inside each ``aisc run`` process (``/proc/self/status`` every 50 ms) by a small
wrapper (``--child``) that runs ``aisc.cli.main`` in process. Prints a table; writes
bench/out/load_runs.json. Event timestamps have millisecond resolution.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "bench" / "out" / "load_runs.json"
CHAIN = "eip155:31337"
WRITES_PER_PLAN = 20

TRANSFER_ABI = {"type": "function", "name": "transfer",
                "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
                "outputs": [{"name": "ok", "type": "bool"}]}
BALANCE_ABI = {"type": "function", "name": "balanceOf", "inputs": [{"name": "holder", "type": "address"}],
               "outputs": [{"name": "balance", "type": "uint256"}]}


# ------------------------------------------------------------------ child: aisc run + RSS sampler


def _rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def child(out: str, argv: list[str]) -> int:
    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.time(), _rss_kb()))
            stop.wait(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    from aisc.cli import main

    code = main(argv)
    stop.set()
    t.join()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    Path(out).write_text(json.dumps({"exit": code, "peak_rss_kb": peak_kb, "samples": samples}))
    return 0


# ------------------------------------------------------------------ plans and runs


def write_plan(path: Path, token: str, recipient: str) -> None:
    nodes = [{"id": f"w{i:02d}", "chain": CHAIN, "kind": "action_ref",
              "execution": {"type": "evm_call", "to": {"lit": token}, "abi": TRANSFER_ABI,
                            "args": {"to": {"lit": recipient}, "amount": {"lit": str(i + 1)}}}}
             for i in range(WRITES_PER_PLAN)]
    path.write_text(json.dumps({"schema": "ais-plan/0.0.3", "nodes": nodes}))


def write_read_plan(path: Path, n: int, token: str, holders: list[str]) -> None:
    nodes = [{"id": f"r{i:05d}", "chain": CHAIN, "kind": "query_ref",
              "execution": {"type": "evm_read", "to": {"lit": token}, "abi": BALANCE_ABI,
                            "args": {"holder": {"lit": holders[i % len(holders)]}}}}
             for i in range(n)]
    path.write_text(json.dumps({"schema": "ais-plan/0.0.3", "nodes": nodes}))


def _ts(s: str) -> float:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def latencies(events_path: Path, done_type: str) -> tuple[list[float], list[float]]:
    """Per-node latency (s) node_ready → done_type, and the completion times (epoch s) in order."""
    ready: dict[str, float] = {}
    lat: list[float] = []
    done: list[float] = []
    with events_path.open() as fh:
        for line in fh:
            rec = json.loads(line)
            ev = rec["event"]
            nid = ev.get("node_id")
            if ev["type"] == "node_ready" and nid:
                ready.setdefault(nid, _ts(rec["ts"]))
            elif ev["type"] == done_type and nid in ready:
                t = _ts(rec["ts"])
                lat.append(t - ready[nid])
                done.append(t)
    done.sort()
    return lat, done


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def spawn(tmp: Path, tag: str, plan: Path, config: dict[str, Any], env_extra: dict[str, str],
          max_concurrency: int = 8, store: bool = True) -> tuple[subprocess.Popen[bytes], Path, Path]:
    cfg = tmp / f"{tag}.config.json"
    cfg.write_text(json.dumps(config))
    ev = tmp / f"{tag}.events.jsonl"
    out = tmp / f"{tag}.child.json"
    cmd = [sys.executable, str(Path(__file__)), "--child", str(out), "--", "run", str(plan), "--config", str(cfg),
           "--events-jsonl", str(ev), "--yes", "--max-concurrency", str(max_concurrency)]
    if not store:
        cmd.append("--no-store")
    env = dict(os.environ, PYTHONPATH=str(REPO), AISC_HOME=str(tmp / "aisc-home"), **env_extra)  # store in tmp
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    return proc, ev, out


def evm_config(url: str, key_var: str | None) -> dict[str, Any]:
    c: dict[str, Any] = {"backend": "evm", "rpc_url": url, "receipt_poll_max_ms": 100}
    if key_var:
        c["signer"] = {"type": "env", "var": key_var}
    return {"chains": {CHAIN: c}}


def load_case(anvil: Any, n: int, tmp: Path) -> dict[str, Any]:
    procs = []
    t0 = time.monotonic()
    for i in range(n):
        _addr, key = anvil.accounts[1 + i]
        plan = tmp / f"load{n}-{i}.plan.json"
        write_plan(plan, anvil.token, anvil.accounts[39][0])
        procs.append(spawn(tmp, f"load{n}-{i}", plan, evm_config(anvil.url, "AISC_LOAD_KEY"),
                           {"AISC_LOAD_KEY": key}))
    failed = 0
    lat: list[float] = []
    peak = 0
    errors: list[str] = []
    for p, ev, out in procs:
        _, err = p.communicate()
        info = json.loads(out.read_text()) if out.exists() else {"exit": p.returncode, "peak_rss_kb": 0}
        if info["exit"] != 0:
            failed += 1
            errors.append(err.decode(errors="replace")[-400:])
        peak = max(peak, info["peak_rss_kb"])
        if ev.exists():
            lat += latencies(ev, "tx_confirmed")[0]
    wall = time.monotonic() - t0
    nodes = n * WRITES_PER_PLAN
    row = {"case": f"load N={n}", "processes": n, "nodes": nodes, "confirmed": len(lat), "failed_runs": failed,
           "wall_s": round(wall, 2), "nodes_per_s": round(len(lat) / wall, 1),
           "p50_ms": round(pct(lat, 50) * 1000, 1), "p99_ms": round(pct(lat, 99) * 1000, 1),
           "peak_rss_mb": round(peak / 1024, 1)}
    if errors:
        row["errors"] = errors[:3]
    return row


def soak_case(anvil: Any, nodes: int, backend: str, tmp: Path, store: bool) -> dict[str, Any]:
    plan = tmp / "soak.plan.json"
    if backend == "fake":
        token, holders = "0x" + "11" * 20, ["0x" + "22" * 20]
        config: dict[str, Any] = {"chains": {CHAIN: {"backend": "fake", "script": {}}}}
    else:
        token, holders = anvil.token, [a for a, _ in anvil.accounts[:32]]
        config = evm_config(anvil.url, None)
    write_read_plan(plan, nodes, token, holders)
    t0 = time.monotonic()
    p, ev, out = spawn(tmp, "soak", plan, config, {}, store=store)
    _, err = p.communicate()
    wall = time.monotonic() - t0
    info = json.loads(out.read_text()) if out.exists() else {"exit": p.returncode, "peak_rss_kb": 0, "samples": []}
    lat, done = latencies(ev, "query_result") if ev.exists() else ([], [])
    samples = info["samples"]

    def rss_at(t: float) -> int:
        best = samples[0][1] if samples else 0
        for ts, kb in samples:
            if ts > t:
                break
            best = kb
        return best

    at_1000 = rss_at(done[999]) if len(done) >= 1000 else 0
    at_end = rss_at(done[-1]) if done else 0
    growth = (at_end - at_1000) / at_1000 * 100 if at_1000 else float("nan")
    row = {"case": f"soak {nodes} reads ({backend}{', store' if store else ', --no-store'})", "processes": 1, "nodes": nodes, "confirmed": len(lat),
           "failed_runs": int(info["exit"] != 0), "wall_s": round(wall, 2),
           "nodes_per_s": round(len(lat) / wall, 1) if wall else 0.0,
           "p50_ms": round(pct(lat, 50) * 1000, 1), "p99_ms": round(pct(lat, 99) * 1000, 1),
           "peak_rss_mb": round(info["peak_rss_kb"] / 1024, 1),
           "rss_after_1000_mb": round(at_1000 / 1024, 1), "rss_end_mb": round(at_end / 1024, 1),
           "rss_growth_pct": round(growth, 1), "rss_flat": bool(abs(growth) <= 10.0)}
    if info["exit"] != 0:
        row["errors"] = [err.decode(errors="replace")[-400:]]
    return row


def table(rows: list[dict[str, Any]]) -> str:
    cols = ["case", "nodes", "confirmed", "failed_runs", "wall_s", "nodes_per_s", "p50_ms", "p99_ms", "peak_rss_mb",
            "rss_after_1000_mb", "rss_end_mb", "rss_growth_pct"]
    data = [[str(r.get(c, "")) for c in cols] for r in rows]
    w = [max(len(c), *(len(d[i]) for d in data)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w[i]) for i, c in enumerate(cols)), "  ".join("-" * x for x in w)]
    lines += ["  ".join(d[i].ljust(w[i]) for i in range(len(cols))) for d in data]
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        return child(sys.argv[2], sys.argv[4:])
    ap = argparse.ArgumentParser(description="concurrent aisc run processes against one anvil; soak")
    ap.add_argument("--n", type=int, nargs="*", default=[1, 4, 16, 32])
    ap.add_argument("--soak-nodes", type=int, default=10_000)
    ap.add_argument("--soak-backend", choices=("evm", "fake"), default="evm")
    ap.add_argument("--no-soak", action="store_true")
    ap.add_argument("--soak-no-store", action="store_true", help="run the soak with --no-store")
    a = ap.parse_args()
    if max(a.n, default=0) > 32:
        ap.error("at most 32 processes (anvil has 40 accounts; 0 funds, 39 receives)")
    from tests.support.chains import Anvil

    rows: list[dict[str, Any]] = []
    anvil = Anvil(accounts=40)
    try:
        anvil.fund_tokens([addr for addr, _ in anvil.accounts[1:33]], 10**24)
        with tempfile.TemporaryDirectory(prefix="aisc-load-") as d:
            tmp = Path(d)
            for n in a.n:
                rows.append(load_case(anvil, n, tmp))
                print(f"  {rows[-1]['case']}: {rows[-1]['nodes_per_s']} nodes/s, failed runs {rows[-1]['failed_runs']}",
                      file=sys.stderr)
            if not a.no_soak:
                rows.append(soak_case(anvil, a.soak_nodes, a.soak_backend, tmp, not a.soak_no_store))
    finally:
        anvil.close()
    print(table(rows))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # keep rows of cases not re-run this time (e.g. --n without soak, or soak only)
    try:
        old = json.loads(OUT.read_text()).get("rows", [])
    except (OSError, ValueError):
        old = []
    done = {r["case"] for r in rows}
    rows = [r for r in old if r.get("case") not in done] + rows
    OUT.write_text(json.dumps({"bench": "load_runs", "python": platform.python_version(), "cpus": os.cpu_count(),
                               "load_avg": os.getloadavg(), "rows": rows,
                               "median_latency_ms": statistics.median([r["p50_ms"] for r in rows]) if rows else None},
                              indent=2) + "\n")
    ok = all(r["failed_runs"] == 0 for r in rows) and all(r.get("rss_flat", True) for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
