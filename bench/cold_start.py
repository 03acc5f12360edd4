#!/usr/bin/env python3
"""Cold-process start-up time of three ``aisc`` commands, from an installed wheel, outside the repo.

Targets (whole process, median of the measured runs):

    aisc --version                                  <= 100 ms
    aisc check <the 11 example YAML files>          <= 220 ms
    aisc conformance   (every bundled case)         <= 300 ms

    python bench/cold_start.py                   # build the wheel, install it in a temp venv, time it
    python bench/cold_start.py --venv DIR        # reuse (or create, then keep) the venv at DIR
    python bench/cold_start.py --aisc PATH       # time an existing aisc executable (e.g. editable)
    python bench/cold_start.py --runs 11 --rounds 3

Each command gets one unmeasured warm-up run (it fills the OS file cache and, since
``PYTHONDONTWRITEBYTECODE`` is removed from the child environment, writes the ``.pyc`` files an
installed wheel would have), then ``--runs`` measured runs, each a new process started from a
temporary directory outside the repo. ``--rounds`` repeats the whole series; the table shows the
median of every round and the best of those medians (the machine is shared, so the best median is
the figure least disturbed by other load), and the median CPU time (user + system) of the child,
which other load disturbs far less than wall time. The verdict is on the best wall-time median. The
load average (``os.getloadavg``) is recorded before and after. Writes ``bench/out/cold_start.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out" / "cold_start.json"
EXAMPLES = REPO.parent / "shared" / "ais" / "examples"
TARGETS_MS = {"version": 100.0, "check": 220.0, "conformance": 300.0}


def build_wheel_env(venv: Path, *, offline: bool = False) -> Path:
    """Build the wheel of this tree and install it into a new venv at ``venv``; returns its ``aisc``.

    Like CI and like a user: ``pip install aisc-*.whl`` into a fresh venv, which installs the pinned
    runtime dependencies and nothing else (dev-only packages such as interegular, which lark imports
    when it is present, stay out). With ``offline`` (or when that install fails, e.g. without a
    package index) the venv instead sees this environment's packages through a ``.pth`` entry, dev
    packages included, which makes start-up a little slower than a real install.
    """
    with tempfile.TemporaryDirectory(prefix="aisc-wheel-") as tmp:
        src = Path(tmp) / "src"  # build from a copy, so the shared tree gets no build/ litter
        shutil.copytree(REPO / "aisc", src / "aisc", ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (REPO / name).exists():
                shutil.copy(REPO / name, src / name)
        wheels = Path(tmp) / "wheels"
        subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(wheels), str(src)],
                       check=True, capture_output=True)
        wheel = next(wheels.glob("aisc-*.whl"))
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        py = venv / "bin" / "python"
        installed = False
        if not offline:
            got = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], env=_child_env(),
                                 capture_output=True, text=True)
            installed = got.returncode == 0
            if not installed:
                print("note: installing the wheel with its dependencies failed; falling back to this "
                      "environment's packages (dev packages included):\n" + got.stderr[-1500:], file=sys.stderr)
        if not installed:
            site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                       check=True, capture_output=True, text=True).stdout.strip())
            (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
            subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q",
                            "--force-reinstall", str(wheel)], check=True, env=_child_env())
    exe = venv / "bin" / "aisc"
    where = subprocess.run([str(py), "-c", "import aisc; print(aisc.__file__)"], check=True, capture_output=True,
                           text=True, cwd=venv).stdout.strip()
    if not where.startswith(str(venv)):
        raise SystemExit(f"the venv imports aisc from {where}, not from the wheel")
    return exe


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed wheel has (and writes) .pyc files
    env.pop("PYTHONPATH", None)
    return env


def time_runs(cmd: list[str], runs: int, cwd: Path) -> tuple[list[float], list[float]]:
    """``(wall_ms, cpu_ms)`` of ``runs`` cold processes; CPU = user + system time of the child."""
    env = _child_env()
    warm = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env)  # warm-up, not measured
    if warm.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {warm.returncode}:\n{warm.stderr[-2000:]}")
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter_ns()
        subprocess.run(cmd, capture_output=True, cwd=cwd, env=env)
        walls.append((time.perf_counter_ns() - start) / 1e6)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return walls, cpus


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=9, help="measured runs per round (default 9, at least 7)")
    p.add_argument("--rounds", type=int, default=1, help="repeat the series; report each median and the best")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--venv", type=Path, help="venv to reuse; built from the wheel if it has no aisc yet")
    src.add_argument("--rebuild", type=Path, metavar="VENV", help="build the wheel into VENV (replacing it)")
    src.add_argument("--aisc", type=Path, help="an existing aisc executable to time")
    p.add_argument("--only", choices=sorted(TARGETS_MS), action="append", help="time only these commands")
    p.add_argument("--offline", action="store_true",
                   help="build the venv from this environment's packages instead of installing the wheel's "
                        "dependencies (no package index needed; dev packages visible)")
    args = p.parse_args()
    runs = max(7, args.runs)
    examples = sorted(str(f) for f in EXAMPLES.glob("*.yaml"))
    if len(examples) != 11:
        print(f"note: {len(examples)} example files found in {EXAMPLES} (expected 11)", file=sys.stderr)
    commands = {
        "version": ["--version"],
        "check": ["check", *examples],
        "conformance": ["conformance", "-q"],
    }
    if args.only:
        commands = {k: v for k, v in commands.items() if k in args.only}
    with tempfile.TemporaryDirectory(prefix="aisc-cold-") as tmp:
        work = Path(tmp)
        if args.aisc:
            exe, mode = args.aisc.resolve(), f"executable {args.aisc}"
        elif args.rebuild:
            exe, mode = build_wheel_env(args.rebuild.resolve(), offline=args.offline), "wheel, freshly built"
        elif args.venv and (args.venv / "bin" / "aisc").exists():
            exe, mode = (args.venv / "bin" / "aisc").resolve(), "wheel, existing venv"
        else:
            venv = args.venv.resolve() if args.venv else work / "venv"
            exe, mode = build_wheel_env(venv, offline=args.offline), "wheel, freshly built"
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _machine import reference_ms

        ref_before = reference_ms()
        load_before = os.getloadavg()
        rounds: dict[str, list[list[float]]] = {k: [] for k in commands}
        cpu_rounds: dict[str, list[list[float]]] = {k: [] for k in commands}
        for _ in range(max(1, args.rounds)):
            for key, cmd in commands.items():
                walls, cpus = time_runs([str(exe), *cmd], runs, work)
                rounds[key].append(walls)
                cpu_rounds[key].append(cpus)
        load_after = os.getloadavg()
        ref_after = reference_ms()
        conf = None
        if "conformance" in commands:
            out = subprocess.run([str(exe), "conformance", "--format", "json"], capture_output=True, text=True,
                                 cwd=work, env=_child_env()).stdout
            conf = json.loads(out)["summary"]
    results: dict[str, object] = {}
    print(f"aisc cold start ({mode}; {runs} runs x {len(next(iter(rounds.values())))} rounds; "
          f"load {load_before[0]:.2f} -> {load_after[0]:.2f}; reference loop {ref_before:.0f} -> {ref_after:.0f} ms)")
    print(f"  {'command':<13}{'wall medians (ms)':<24}{'best':>8}{'min':>8}{'cpu med':>9}{'target':>8}  verdict")
    for key, series in rounds.items():
        medians = [statistics.median(s) for s in series]
        best = min(medians)
        every = [t for s in series for t in s]
        cpu_best = min(statistics.median(s) for s in cpu_rounds[key])
        ok = best <= TARGETS_MS[key]
        results[key] = {
            "argv": commands[key][:1] + ([f"<{len(examples)} example files>"] if key == "check" else commands[key][1:]),
            "round_medians_ms": [round(m, 1) for m in medians],
            "best_median_ms": round(best, 1),
            "median_all_ms": round(statistics.median(every), 1),
            "min_ms": round(min(every), 1),
            "max_ms": round(max(every), 1),
            "cpu_round_medians_ms": [round(statistics.median(s), 1) for s in cpu_rounds[key]],
            "cpu_best_median_ms": round(cpu_best, 1),
            "target_ms": TARGETS_MS[key],
            "within_target": ok,
        }
        meds = " ".join(f"{m:.0f}" for m in medians)
        print(f"  {key:<13}{meds:<24}{best:8.1f}{min(every):8.1f}{cpu_best:9.1f}{TARGETS_MS[key]:8.0f}  "
              f"{'ok' if ok else 'MISSED'}")
    if conf is not None:
        print(f"  conformance cases: {conf['total']} ({conf['passed']} passed, {conf['failed']} failed, "
              f"{conf['unknown']} unknown; {conf['duration_us'] / 1000:.1f} ms inside the cases)")
    result = {
        "benchmark": "cold_start",
        "mode": mode,
        "reference_loop_ms": [round(ref_before, 1), round(ref_after, 1)],
        "runs_per_round": runs,
        "rounds": max(1, args.rounds),
        "commands": results,
        "conformance_cases": conf,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpu",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
