"""Resource limits of CEL builtins (docs/cel.md "Resource limits"): pow() bounds its result size."""

from __future__ import annotations

import pytest

from aisc.eval import CelEvalError, evaluate_cel

POW_OK: list[tuple[str, int]] = [
    ("pow(2, 256)", 2**256),
    ("pow(10, 10000)", 10**10000),          # 4-bit base: 40,000 bits allowed
    ("pow(pow(10, 1000), 10)", 10**10000),  # 3,322-bit base: 33,220 bits
    ("pow(2, 10000)", 2**10000),
    ("pow(1, 10000)", 1),
    ("pow(-1, 9999)", -1),
    ("pow(0, 10000)", 0),
    ("pow(65535, 4096)", 65535**4096),      # 16 bits x 4096 = 65,536: exactly at the limit
]


@pytest.mark.parametrize(("expr", "want"), POW_OK, ids=[c[0] for c in POW_OK])
def test_pow_within_the_result_bound(expr: str, want: int) -> None:
    assert evaluate_cel(expr, {}) == want


POW_TOO_LARGE: list[tuple[str, str]] = [
    ("pow(pow(10, 10000), 1000)", "a 33220-bit base to the power 1000 may need up to 33220000 bits"),
    ("pow(65536, 4096)", "a 17-bit base to the power 4096 may need up to 69632 bits"),
    ("pow(-65536, 4096)", "a 17-bit base"),
    ("pow(pow(2, 256), 256)", "may need up to 65792 bits (at most 65536)"),
]


@pytest.mark.parametrize(("expr", "message"), POW_TOO_LARGE, ids=[c[0] for c in POW_TOO_LARGE])
def test_pow_refuses_a_result_past_the_bound(expr: str, message: str) -> None:
    with pytest.raises(CelEvalError) as ei:
        evaluate_cel(expr, {})
    assert ei.value.message.startswith("pow() result too large") and message in ei.value.message
