"""CEL evaluation benchmark: aisc's closure compiler vs cel-python's CompiledRunner, in one run.

Targets (issue 3): ``1 + 2 * 3 < 10`` parse-once eval <= 2 us median; the ref-heavy slippage check
<= 8 us against a runtime holding 200 nodes of outputs; >= 25x faster than cel-python.

Usage: python bench/cel.py [--quick]. Prints a table; writes bench/out/cel.json.
cel-python (``celpy``) is a bench-only dependency; both engines get the expression parsed once and
the activation built once, outside the timed loop.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SIMPLE = "1 + 2 * 3 < 10"
REF_HEAVY = "nodes.q.outputs.amount_out * (10000 - inputs.slippage_bps) / 10000 >= inputs.min_out"
MUL_DIV = "mul_div(nodes.q.outputs.amount_out, 10000 - inputs.slippage_bps, 10000) >= inputs.min_out"

TARGETS_US = {"simple": 2.0, "ref_heavy": 8.0}
MIN_SPEEDUP = 25.0


def runtime_root(n_nodes: int = 200) -> dict[str, Any]:
    nodes: dict[str, Any] = {
        f"n{i}": {
            "outputs": {"amount_out": 10**18 + i, "route": [f"0x{i:040x}"], "fee": 3000, "ok": True},
            "calculated": {"min_out_atomic": 10**17 + i},
        }
        for i in range(n_nodes - 1)
    }
    nodes["q"] = {"outputs": {"amount_out": 1_000_000, "fee": 500}}
    return {
        "inputs": {"slippage_bps": 50, "min_out": 990_000},
        "params": {},
        "ctx": {"capabilities": ["cel:v1"], "now": 1_700_000_000},
        "query": {},
        "contracts": {"router": "0x" + "11" * 20},
        "calculated": {},
        "policy": {},
        "nodes": nodes,
    }


def per_call_us(fn: Callable[[], Any], *, batches: int, target_batch_s: float = 0.02) -> dict[str, float]:
    """Median and p90 of per-call time over ``batches`` timed batches (batch size auto-calibrated)."""
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t
        if dt >= target_batch_s / 4 or n >= 1 << 22:
            break
        n *= 2
    n = max(1, int(n * target_batch_s / max(dt, 1e-9)))
    samples = []
    for _ in range(batches):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t) / n * 1e6)
    samples.sort()
    return {"median_us": statistics.median(samples), "p90_us": samples[int(0.9 * (len(samples) - 1))],
            "calls_per_batch": n}


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    batches = 7 if quick else 25
    from aisc.eval import compile_cel, evaluate_value_ref
    from aisc.grammar.parser import _parse_uncached

    root = runtime_root(200)
    rows: list[dict[str, Any]] = []

    celpy_env: Any = None
    celpy_act: Any = None
    try:
        import celpy

        celpy_env = celpy.Environment(runner_class=celpy.CompiledRunner)
        from celpy.adapter import json_to_cel

        celpy_act = {k: json_to_cel(v) for k, v in root.items()}
    except ImportError:  # pragma: no cover - bench-only dependency missing
        print("cel-python not installed: comparison column skipped", file=sys.stderr)

    for name, expr in (("simple", SIMPLE), ("ref_heavy", REF_HEAVY), ("mul_div", MUL_DIV)):
        f = compile_cel(expr)

        def run_ours(f: Callable[[Any], Any] = f) -> Any:
            return f(root)

        ours = per_call_us(run_ours, batches=batches)
        row: dict[str, Any] = {"case": name, "expr": expr, "aisc": ours}
        if celpy_env is not None and name != "mul_div":
            prog = celpy_env.program(celpy_env.compile(expr))
            act = {} if name == "simple" else celpy_act
            assert bool(prog.evaluate(act)) == bool(f(root))
            def run_celpy(prog: Any = prog, act: Any = act) -> Any:
                return prog.evaluate(act)

            timing = per_call_us(run_celpy, batches=max(5, batches // 3))
            row["celpy"] = timing
            row["speedup"] = timing["median_us"] / ours["median_us"]
        rows.append(row)

    vr = {"cel": REF_HEAVY}
    rows.append({"case": "valueref_cel", "expr": "evaluate_value_ref({cel: ref_heavy})",
                 "aisc": per_call_us(lambda: evaluate_value_ref(vr, root), batches=batches)})
    rows.append({"case": "valueref_cel_params", "expr": "same, with params= override view",
                 "aisc": per_call_us(lambda: evaluate_value_ref(vr, root, params={"x": 1}), batches=batches)})
    rows.append({"case": "parse_uncached", "expr": REF_HEAVY,
                 "aisc": per_call_us(lambda: _parse_uncached(REF_HEAVY), batches=max(5, batches // 3))})
    if celpy_env is not None:
        rows[-1]["celpy"] = per_call_us(lambda: celpy_env.compile(REF_HEAVY), batches=max(5, batches // 3))

    verdict = {
        "simple_le_2us": rows[0]["aisc"]["median_us"] <= TARGETS_US["simple"],
        "ref_heavy_le_8us": rows[1]["aisc"]["median_us"] <= TARGETS_US["ref_heavy"],
        "speedup_ge_25x": all(r.get("speedup", MIN_SPEEDUP) >= MIN_SPEEDUP for r in rows[:2]),
    }

    print(f"{'case':<22} {'aisc median':>12} {'aisc p90':>10} {'cel-python':>12} {'speedup':>8}")
    for r in rows:
        c = r.get("celpy")
        theirs = f"{c['median_us']:.2f}us" if c else "-"
        speed = f"{r['speedup']:.0f}x" if "speedup" in r else "-"
        print(f"{r['case']:<22} {r['aisc']['median_us']:>10.2f}us {r['aisc']['p90_us']:>8.2f}us "
              f"{theirs:>12} {speed:>8}")
    print("targets:", ", ".join(f"{k}={'PASS' if v else 'FAIL'}" for k, v in verdict.items()))

    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "cel.json").write_text(json.dumps({
        "bench": "cel", "python": platform.python_version(), "machine": platform.machine(),
        "nodes_in_runtime": 200, "targets_us": TARGETS_US, "min_speedup": MIN_SPEEDUP,
        "rows": rows, "verdict": verdict}, indent=2) + "\n", encoding="utf-8")
    return 0 if all(verdict.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
