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


def test_products_are_bounded_but_uint256_math_is_not_affected() -> None:
    """``*`` and ``mul_div`` refuse results beyond the integer size limit; 2**512-scale math works."""
    from aisc.eval import CelError, evaluate_cel

    big = (1 << 256) - 1
    assert evaluate_cel("a * b", {"a": big, "b": big}) == big * big
    assert evaluate_cel("mul_div(a, b, c)", {"a": big, "b": big, "c": 3}) == big * big // 3
    huge = {"x": 1 << 40_000}
    for expr in ("pow(9,10000) * pow(9,10000) * pow(9,10000)", "x * x", "mul_div(x, x, 1)"):
        with pytest.raises(CelError, match="too large"):
            evaluate_cel(expr, huge)
