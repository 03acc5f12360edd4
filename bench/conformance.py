#!/usr/bin/env python3
"""Cold-process time of ``aisc conformance`` running every bundled case.

Target (issue 9): median <= 300 ms for the whole process, from the built wheel installed in a
fresh venv, run outside the repo.

    python bench/conformance.py            # the aisc of this environment (editable install)
    python bench/conformance.py --wheel    # build the wheel, install it in a fresh venv, time that
    python bench/conformance.py --runs 15

Each run is a new process (one unmeasured warm-up first, so the OS file cache is warm, as for a user
running the command twice). Prints a table and writes bench/out/conformance.json: median/min/max
wall time, the case counts of the run, the time spent inside the cases, and the slowest imports
(``python -X importtime``) of one extra run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out" / "conformance.json"
TARGET_MS = 300.0


def build_wheel_env(work: Path) -> Path:
    """Build the wheel and install it in a fresh venv under ``work``; returns that venv's python.

    The venv sees this environment's third-party packages through a ``.pth`` entry (no network),
    but not its editable aisc: aisc comes only from the wheel.
    """
    src = work / "src"  # build from a copy, so the shared tree gets no build/ or egg-info litter
    shutil.copytree(REPO / "aisc", src / "aisc", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy(REPO / name, src / name)
    wheels = work / "wheels"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(wheels), str(src)], check=True,
                   capture_output=True)
    wheel = next(wheels.glob("aisc-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
                   check=True)
    where = subprocess.run([str(py), "-c", "import aisc; print(aisc.__file__)"], check=True, capture_output=True,
                           text=True, cwd=work).stdout.strip()
    if not where.startswith(str(venv)):
        raise SystemExit(f"the fresh venv imports aisc from {where}, not from the wheel")
    return venv / "bin" / "aisc"


def time_runs(cmd: list[str], runs: int, cwd: Path) -> tuple[list[float], str]:
    subprocess.run(cmd, capture_output=True, cwd=cwd)  # warm-up, not measured
    times: list[float] = []
    last = ""
    for _ in range(runs):
        start = time.perf_counter_ns()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
        times.append((time.perf_counter_ns() - start) / 1e6)
        last = proc.stdout
    return times, last


def slowest_imports(python: str, aisc_args: list[str], cwd: Path, top: int = 12) -> list[dict[str, object]]:
    proc = subprocess.run([python, "-X", "importtime", "-c", "import sys; from aisc.cli import main; "
                           "sys.exit(main(sys.argv[1:]))", *aisc_args], capture_output=True, text=True, cwd=cwd)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) == 1:  # top-level imports only (cumulative includes children)
            rows.append({"module": m.group(4), "cumulative_ms": round(int(m.group(2)) / 1000, 1)})
    rows.sort(key=lambda r: -float(str(r["cumulative_ms"])))
    return rows[:top]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=9, help="measured runs (default 9, at least 7)")
    p.add_argument("--wheel", action="store_true", help="time the built wheel in a fresh venv")
    p.add_argument("--aisc", help="path of the aisc executable to time (default: the one of this env)")
    args = p.parse_args()
    runs = max(7, args.runs)
    with tempfile.TemporaryDirectory(prefix="aisc-bench-") as tmp:
        work = Path(tmp)
        if args.wheel:
            exe = build_wheel_env(work)
            mode = "wheel in a fresh venv"
        else:
            found = args.aisc or shutil.which("aisc", path=str(Path(sys.executable).parent)) or shutil.which("aisc")
            if not found:
                raise SystemExit("aisc executable not found")
            exe = Path(found)
            mode = "current environment"
        python = str(exe.parent / "python")
        times, _ = time_runs([str(exe), "conformance", "-q"], runs, work)
        report = json.loads(subprocess.run([str(exe), "conformance", "--format", "json"], capture_output=True,
                                           text=True, cwd=work).stdout)
        imports = slowest_imports(python, ["conformance", "-q"], work)
    median = statistics.median(times)
    summary = report["summary"]
    result = {
        "benchmark": "conformance",
        "mode": mode,
        "runs": runs,
        "median_ms": round(median, 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
        "target_ms": TARGET_MS,
        "within_target": median <= TARGET_MS,
        "cases": {k: summary[k] for k in ("total", "passed", "failed", "unknown")},
        "in_cases_ms": round(summary["duration_us"] / 1000, 1),
        "slowest_imports": imports,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpu",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(f"aisc conformance (cold process, {mode}, {runs} runs)")
    print(f"  {'median':<14}{median:8.1f} ms   (target <= {TARGET_MS:.0f} ms: "
          f"{'ok' if result['within_target'] else 'MISSED'})")
    print(f"  {'min / max':<14}{min(times):8.1f} / {max(times):.1f} ms")
    print(f"  {'in the cases':<14}{result['in_cases_ms']:8.1f} ms")
    print(f"  cases: {summary['total']} ({summary['passed']} passed, {summary['failed']} failed, "
          f"{summary['unknown']} unknown)")
    print("  slowest top-level imports (cumulative):")
    for row in imports:
        print(f"    {row['module']:<40}{row['cumulative_ms']:8.1f} ms")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
