"""Run the fuzz targets: ``python fuzz/run.py --target {yaml,cel,abi,solana,all} ...``.

Short (CI) mode: ``--runs N`` or ``--seconds N`` per target. Long mode: ``--long`` (default one
hour per target, ``--seconds`` overrides), keeping a growing corpus in ``--corpus`` (default
``~/.cache/aisc-fuzz/<target>``). Engines: ``atheris`` (coverage-guided libFuzzer; the default when
atheris is installed) or ``random`` (seeded mutation, no coverage). ``--reproduce FILE`` runs one
saved input in process and prints the traceback. Every run appends its counts to
``fuzz/out/stats.json``; crashes go to ``fuzz/crashes/<target>/``.

Exit status: 0 no crash, 1 a crash or hang was found, 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fuzz.oracle import HANG_SECONDS  # noqa: E402
from fuzz.targets import TARGETS, load  # noqa: E402

OUT = ROOT / "fuzz" / "out" / "stats.json"
CRASHES = ROOT / "fuzz" / "crashes"


def _have_atheris() -> bool:
    try:
        import atheris  # type: ignore[import-not-found, import-untyped, unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


def _write_dict(mod: Any, path: Path) -> bool:
    tokens = [t.encode() if isinstance(t, str) else t for t in getattr(mod, "DICTIONARY", ())]
    if not tokens:
        return False
    with path.open("w", encoding="ascii") as fh:
        for t in tokens:
            fh.write('"' + "".join(f"\\x{b:02x}" for b in t) + '"\n')
    return True


def _confirm_timeout(name: str, artifact: str) -> bool:
    """Re-run a libFuzzer timeout input in a fresh, uninstrumented process; True if it hangs there too.

    libFuzzer's timeout is wall-clock: on a loaded machine an instrumented input that builds a new
    eth-abi decoder (~50 ms normally) can cross it. Such inputs are kept under ``flaky/``."""
    t0 = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, str(Path(__file__)), "--target", name, "--reproduce", artifact],
                              cwd=ROOT, capture_output=True, timeout=HANG_SECONDS * 10)
    except subprocess.TimeoutExpired:
        return True
    return proc.returncode != 0 or time.monotonic() - t0 > HANG_SECONDS * 3


def run_atheris(name: str, *, runs: int | None, seconds: int | None, corpus: Path, extra: list[str]) -> dict[str, Any]:
    """Run libFuzzer until ``runs``/``seconds`` are used up, resuming after unconfirmed timeouts."""
    total: dict[str, Any] = {"target": name, "engine": "atheris", "runs": 0, "seconds": 0.0, "crashed": False,
                             "artifacts": [], "flaky_timeouts": []}
    for _ in range(10):
        left_runs = None if runs is None else runs - total["runs"]
        left_s = None if seconds is None else max(1, int(seconds - total["seconds"]))
        row = _run_atheris_once(name, runs=left_runs, seconds=left_s, corpus=corpus, extra=extra)
        total["runs"] += row["runs"]
        total["seconds"] = round(total["seconds"] + row["seconds"], 1)
        total["coverage"], total["features"] = row["coverage"], row["features"]
        if not row["crashed"]:
            break
        arts = row["artifacts"]
        if arts and all(Path(a).name.startswith("timeout-") for a in arts) and not any(
                _confirm_timeout(name, a) for a in arts):
            flaky = CRASHES / name / "flaky"
            flaky.mkdir(parents=True, exist_ok=True)
            for a in arts:
                dest = flaky / Path(a).name
                Path(a).replace(dest)
                total["flaky_timeouts"].append(str(dest))
            sys.stderr.write(f"{name}: timeout not reproducible outside libFuzzer (machine load); continuing\n")
            continue
        total["crashed"] = True
        total["artifacts"] = arts
        break
    return total


def _run_atheris_once(name: str, *, runs: int | None, seconds: int | None, corpus: Path, extra: list[str]
                      ) -> dict[str, Any]:
    mod = load(name)
    corpus.mkdir(parents=True, exist_ok=True)
    crash_dir = CRASHES / name
    crash_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"aisc-fuzz-{name}-") as tmp:
        seed_dir = Path(tmp) / "seeds"
        seed_dir.mkdir()
        for i, s in enumerate(mod.seeds()):
            (seed_dir / f"seed-{i:04d}").write_bytes(s)
        cmd = [sys.executable, "-m", "fuzz.driver", name, f"-timeout={int(HANG_SECONDS)}", "-rss_limit_mb=1536",
               "-max_len=65536", "-print_final_stats=1", f"-artifact_prefix={crash_dir}/"]
        if _write_dict(mod, Path(tmp) / "dict"):
            cmd.append(f"-dict={Path(tmp) / 'dict'}")
        if runs is not None:
            cmd.append(f"-runs={runs}")
        if seconds is not None:
            cmd.append(f"-max_total_time={seconds}")
        cmd += [*extra, str(corpus), str(seed_dir)]
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, errors="replace")
        elapsed = time.monotonic() - t0
    log = proc.stdout + proc.stderr
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    executed = int(m.group(1)) if m else 0
    cov = re.findall(r"cov: (\d+) ft: (\d+)", log)
    artifacts = re.findall(r"Test unit written to (\S+)", log)
    crashed = proc.returncode != 0
    if crashed:
        sys.stderr.write(log[-6000:])
    return {"target": name, "engine": "atheris", "runs": executed, "seconds": round(elapsed, 1),
            "coverage": int(cov[-1][0]) if cov else None, "features": int(cov[-1][1]) if cov else None,
            "crashed": crashed, "artifacts": artifacts, "returncode": proc.returncode}


def run_random_engine(name: str, *, runs: int | None, seconds: int | None, seed: int) -> dict[str, Any]:
    from fuzz.engine import Crash, run_random

    mod = load(name)
    try:
        st = run_random(mod, runs=runs, seconds=seconds, seed=seed)
    except Crash as c:
        crash_dir = CRASHES / name
        crash_dir.mkdir(parents=True, exist_ok=True)
        path = crash_dir / f"crash-random-{seed}-{abs(hash(c.data)) % 10**12:012d}"
        path.write_bytes(c.data)
        sys.stderr.write(str(c) + "\n")
        return {"target": name, "engine": "random", "runs": None, "crashed": True, "artifacts": [str(path)]}
    return {"target": name, "engine": "random", "runs": st.runs, "seconds": round(st.seconds, 1),
            "slowest_s": round(st.slowest, 3), "crashed": False, "artifacts": []}


def reproduce(name: str, path: str) -> int:
    mod = load(name)
    data = Path(path).read_bytes()
    t0 = time.perf_counter()
    try:
        mod.test_one(data)
    except BaseException:
        traceback.print_exc()
        return 1
    print(f"{name}: {path} passes the oracle ({time.perf_counter() - t0:.3f} s)")
    return 0


def _record(row: dict[str, Any]) -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    if OUT.exists():
        try:
            rows = json.loads(OUT.read_text())
        except ValueError:
            rows = []
    rows.append({**row, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    OUT.write_text(json.dumps(rows, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", required=True, choices=[*TARGETS, "all"])
    ap.add_argument("--runs", type=int, help="inputs per target (short mode)")
    ap.add_argument("--seconds", type=int, help="wall time per target")
    ap.add_argument("--long", action="store_true", help="long mode: one hour per target unless --seconds")
    ap.add_argument("--engine", choices=("atheris", "random"), help="default: atheris when installed")
    ap.add_argument("--corpus", help="corpus directory (atheris; default ~/.cache/aisc-fuzz/<target>)")
    ap.add_argument("--seed", type=int, default=0, help="random engine seed")
    ap.add_argument("--reproduce", metavar="FILE", help="run one saved input and print what fails")
    ap.add_argument("--no-record", action="store_true", help="do not append to fuzz/out/stats.json")
    ap.add_argument("libfuzzer", nargs="*", help="extra libFuzzer flags after --, e.g. -- -jobs=2")
    a = ap.parse_args(argv)
    names = list(TARGETS) if a.target == "all" else [a.target]
    if a.reproduce:
        if len(names) != 1:
            ap.error("--reproduce needs one --target")
        return reproduce(names[0], a.reproduce)
    runs, seconds = a.runs, a.seconds
    if a.long:
        seconds = seconds or 3600
    elif runs is None and seconds is None:
        runs = 10_000
    engine = a.engine or ("atheris" if _have_atheris() else "random")
    if engine == "atheris" and not _have_atheris():
        ap.error("atheris is not installed (pip install atheris, or use --engine random)")
    status = 0
    for name in names:
        if engine == "atheris":
            corpus = Path(a.corpus) if a.corpus else Path.home() / ".cache" / "aisc-fuzz" / name
            row = run_atheris(name, runs=runs, seconds=seconds, corpus=corpus, extra=a.libfuzzer)
        else:
            row = run_random_engine(name, runs=runs, seconds=seconds, seed=a.seed)
        print(f"{name:7} {row['engine']:8} runs={row['runs']} time={row.get('seconds')}s "
              f"cov={row.get('coverage')} crashed={row['crashed']} {' '.join(row['artifacts'])}")
        if not a.no_record:
            _record(row)
        status = status or (1 if row["crashed"] else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
