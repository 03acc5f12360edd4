"""Inputs the fuzzers (and targeted probing around their findings) turned up, kept as regression tests.

Each case is replayed through its fuzz target's ``test_one`` (the same oracle as ``fuzz/run.py``)
in a child process with a hard wall-clock limit, so a hang fails the test instead of stalling CI.
Bugs in other engineers' modules are strict xfails naming the module; remove the marker when fixed
(a strict xfail turns into a failure as soon as the bug is gone).
"""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
HANG_LIMIT_S = 2.0
# Child process start-up (interpreter + aisc imports) is not part of the input's time.
STARTUP_ALLOWANCE_S = 2.5

_CHILD = """
import base64, sys, time
sys.path.insert(0, {repo!r})
from fuzz.targets import load
mod = load({target!r})
data = base64.b64decode({data!r})
t0 = time.perf_counter()
mod.test_one(data)
print("elapsed", time.perf_counter() - t0)
"""


def replay(target: str, data: bytes) -> float:
    """Run one input through a target in a child; return its time. Fails on a crash or a hang."""
    code = _CHILD.format(repo=str(REPO), target=target, data=base64.b64encode(data).decode())
    t0 = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=HANG_LIMIT_S + STARTUP_ALLOWANCE_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{target}: input still running after {time.monotonic() - t0:.1f} s (hang)")
    assert proc.returncode == 0, proc.stderr[-3000:]
    elapsed = float(proc.stdout.split("elapsed", 1)[1])
    assert elapsed < HANG_LIMIT_S, f"{target}: input took {elapsed:.2f} s"
    return elapsed


def cel(options: int, expr: str) -> bytes:
    return bytes([options]) + expr.encode()


# ------------------------------------------------------------------ passing regressions

PASSING: list[tuple[str, str, bytes]] = [
    # A lone CR is a YAML line break: diagnostics may point past the last "\n"-separated line
    # (first flagged by the yaml target; the fix was in the oracle, the loader is right).
    ("yaml-lone-cr-line-breaks", "yaml", b"\x03schema: ais-flow/0.0.3\r\r\r\rmeta: {name: x\r\r  bad: [\r"),
    # libFuzzer timeouts on a loaded machine: building a new eth-abi decoder for a deeply nested
    # tuple type costs ~50 ms uninstrumented; these must stay far below the hang limit.
    ("abi-nested-tuple-arrays-invalid-pointer", "abi", base64.b64decode(
        "AAsL7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7AsL7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs"
        "7Ozs7Ozs7Ozs7Ozs7OzstklJeklJSQD/////////////////ypSUlMrKygAAAMoAAED8+////wL///////8BAAAAAAAAACEhISEhACELAwLs7Ozs"
        "7Ozs7Ozs7Ozs7Ozs7Ozs+v2FtklJekn/////////////////ypSUlMrKygAAAMoAAED8+////wL///////8BAAAAAAAAACEhISEhACELAwIAAg==")),
    ("abi-nested-fixed-tuple-arrays", "abi", base64.b64decode(
        "AAt9fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX2DgoKAfX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX"
        "19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX19fX0DAAIBCwAF///////////////////////3/////////////////////////wY=")),
    # Deep nesting must end in CelSyntaxError ("nests too deeply") or a value, never RecursionError.
    ("cel-deep-parentheses", "cel", cel(0, "(" * 2000 + "1" + ")" * 2000)),
    ("cel-deep-unary-minus", "cel", cel(0, "-" * 5000 + "1")),
    ("cel-deep-list", "cel", cel(0, "[" * 3000 + "]" * 3000)),
    # Huge integers are fine as long as their size is bounded by the expression.
    ("cel-int-to-string-digit-limit", "cel", cel(0, "string(pow(pow(10, 1000), 10))")),
]


@pytest.mark.parametrize(("target", "data"), [c[1:] for c in PASSING], ids=[c[0] for c in PASSING])
def test_regression_input_passes_oracle(target: str, data: bytes) -> None:
    replay(target, data)


# ------------------------------------------------------------------ fixed bugs (other modules)

CEL_BOUNDED: list[tuple[str, str]] = [
    # aisc/eval/builtins.py cel_pow bounded the exponent (<= 10000) but not the base: nesting pow
    # made a 10**10_000_000 integer (minutes of CPU, ~4 MB per level) from a 27-character expression.
    # Fixed: pow() refuses a result that may need more than 2**16 bits.
    ("cel-nested-pow-unbounded-result", "pow(pow(10, 10000), 1000)"),
    ("cel-pow-wide-base", "pow(pow(2, 4000), 10000)"),
    # aisc/eval/builtins.py cel_matches ran the pattern with Python's backtracking `re`: a pattern
    # with nested quantifiers (ReDoS) hung evaluation (and constant folding at compile time).
    # Fixed: aisc.safe_regex runs it with a 50 ms deadline.
    ("cel-matches-redos-nested-plus", "matches('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', '^(a+)+$')"),
    ("cel-matches-redos-alternation", "matches('" + "a" * 40 + "!', '^(a|a)*$')"),
    ("cel-matches-redos-overlap", "matches('" + "x" * 3000 + "', '(x+x+)+y')"),
    # The engine unrolls counted repeats when compiling: refused before compiling.
    ("cel-matches-huge-repeat", "matches('a', 'a{1000000000}')"),
    ("cel-matches-nested-repeats", "matches('a', '(?:(?:a{1000}){1000}){1000}')"),
    ("cel-matches-pattern-too-long", "matches('a', '" + "a" * 5000 + "')"),
    # `*`, and mul_div(), refuse products beyond 2**16 bits (found as a 14 s chain of 200 products).
    ("cel-product-chain-of-pows", "*".join(["pow(9,10000)"] * 200)),
]


@pytest.mark.parametrize("expr", [c[1] for c in CEL_BOUNDED], ids=[c[0] for c in CEL_BOUNDED])
def test_cel_expression_is_bounded(expr: str) -> None:
    """A CEL expression from a document must evaluate (or fail with CelError) within 2 s."""
    replay("cel", cel(0, expr))



