"""Benchmark: load + validate the example documents; cold `aisc check` and `aisc --version`.

Prints a table and writes bench/out/load.json. Medians of >= 7 runs after warm-up.
Targets: in-process load of the 11 examples <= 25 ms; cold `aisc check` <= 220 ms; `aisc --version` <= 100 ms.
"""

from __future__ import annotations

import glob
import json
import os
import statistics
import subprocess
import sys
import time

EX = os.environ.get("AIS_EXAMPLES", "/work/shared/ais/examples")
RUNS = 15


def median_ms(fn: object, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    from aisc.frontend import load_file
    from aisc.passes.protocol_semantics import check_protocol

    files = sorted(glob.glob(f"{EX}/*.yaml"))

    def load_all() -> None:
        for f in files:
            d = load_file(f)
            assert d.document is not None and not d.diagnostics, f
            if d.kind == "protocol":
                check_protocol(d.document)

    for _ in range(3):
        load_all()
    load_ms = median_ms(load_all)
    exe = os.path.join(os.path.dirname(sys.executable), "aisc")
    cmd_check = [exe, "check", *files, *sorted(glob.glob(f"{EX}/plan-skeleton/*.json"))]
    cmd_version = [exe, "--version"]

    def proc(cmd: list[str]) -> None:
        subprocess.run(cmd, check=True, capture_output=True)

    proc(cmd_check)
    proc(cmd_version)
    check_ms = median_ms(lambda: proc(cmd_check), 9)
    version_ms = median_ms(lambda: proc(cmd_version), 9)
    rows = [
        ("load+validate 11 examples (in-process)", load_ms, 25.0),
        ("aisc check examples (cold process)", check_ms, 220.0),
        ("aisc --version (cold process)", version_ms, 100.0),
    ]
    print(f"{'benchmark':<42} {'median ms':>10} {'target ms':>10}  ok")
    for name, v, target in rows:
        print(f"{name:<42} {v:>10.1f} {target:>10.1f}  {'yes' if v <= target else 'NO'}")
    out: dict[str, object] = {name: {"median_ms": round(v, 2), "target_ms": target, "ok": v <= target} for name, v, target in rows}
    out["_meta"] = {"files": len(files), "runs": RUNS, "python": sys.version.split()[0]}
    os.makedirs(os.path.join(os.path.dirname(__file__), "out"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "out", "load.json"), "w") as fh:
        json.dump(out, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
