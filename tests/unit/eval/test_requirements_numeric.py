"""The numeric model's normative rules and examples (ais-1-types §2.2–§2.5): R118, R124–R128, R130.

Every expected value is written out from the spec text. Each rule is checked through CEL (the way
documents use it) and through :mod:`aisc.numeric` (the way the runtime uses it).
"""

from __future__ import annotations

import pytest

from aisc import numeric
from aisc.eval import CelError, evaluate_cel

# ------------------------------------------------------------------ R118 string grammars

INTEGER_OK = ["0", "-0", "123", "-123", "007", str(2**256)]
INTEGER_BAD = ["", "1.0", "+1", " 1", "1 ", "1e3", "0x10", "1_000", "--1", "١٢"]
DECIMAL_OK = ["0", "1", "1.5", "-1.5", "0001.2300", "0.000000000000000001"]
DECIMAL_BAD = ["", ".5", "1.", "+1.5", "1e2", "1.5.1", " 1.5", "1,5", "NaN", "Infinity"]


@pytest.mark.parametrize("text", INTEGER_OK)
def test_r118_integer_string_accepted(text: str) -> None:
    """R118: IntegerString is ``^-?[0-9]+$``."""
    assert numeric.parse_integer_string(text) == int(text)


@pytest.mark.parametrize("text", INTEGER_BAD)
def test_r118_integer_string_rejected(text: str) -> None:
    with pytest.raises(numeric.NumericError):
        numeric.parse_integer_string(text)


@pytest.mark.parametrize("text", DECIMAL_OK)
def test_r118_decimal_string_accepted(text: str) -> None:
    """R118: DecimalString is ``^-?[0-9]+(\\.[0-9]+)?$``; formatting keeps the value."""
    v = numeric.parse_decimal_string(text)
    whole, _, frac = text.lstrip("-").partition(".")
    expect_nonzero = any(c != "0" for c in whole + frac)
    assert (numeric.compare(v, 0) != 0) is expect_nonzero


@pytest.mark.parametrize("text", DECIMAL_BAD)
def test_r118_decimal_string_rejected(text: str) -> None:
    with pytest.raises(numeric.NumericError):
        numeric.parse_decimal_string(text)


# ------------------------------------------------------------------ R125 / R128 normative examples


@pytest.mark.parametrize(("expr", "want"), [
    ('to_atomic("1.23", 6)', 1230000),
    ('to_atomic("0.00000001", 8)', 1),
])
def test_r125_to_atomic_normative_examples(expr: str, want: int) -> None:
    """R125: to_atomic("1.23",6)=1230000 and to_atomic("0.00000001",8)=1."""
    got = evaluate_cel(expr, {})
    assert got == want and type(got) is int


def test_r125_to_atomic_truncation_example_fails() -> None:
    """R125: to_atomic("1.234",2) fails (no silent truncation)."""
    with pytest.raises(CelError, match="too many fractional digits"):
        evaluate_cel('to_atomic("1.234", 2)', {})
    with pytest.raises(numeric.NumericError):
        numeric.to_atomic(numeric.parse_decimal_string("1.234"), 2)


@pytest.mark.parametrize(("atomic", "decimals", "want"), [(1230000, 6, "1.23"), (1, 6, "0.000001"), (1000000, 6, "1")])
def test_r128_to_human_normative_examples(atomic: int, decimals: int, want: str) -> None:
    """R128: to_human(1230000,6)="1.23", to_human(1,6)="0.000001", to_human(1000000,6)="1"."""
    assert evaluate_cel(f"to_human({atomic}, {decimals})", {}) == want
    assert evaluate_cel(f'to_human("{atomic}", {decimals})', {}) == want  # IntegerString atomic (R126)
    assert numeric.to_human(atomic, decimals) == want


# ------------------------------------------------------------------ R124 / R126 / R130 failures

TO_ATOMIC_FAIL = [
    ("r124-negative", 'to_atomic("-1", 6)', "non-negative"),
    ("r124-negative-fraction", 'to_atomic("-0.5", 6)', "non-negative"),
    ("r124-not-decimal-string", 'to_atomic("abc", 6)', "invalid decimal"),
    ("r124-plus-sign", 'to_atomic("+1", 6)', "invalid decimal"),
    ("r124-exponent", 'to_atomic("1E2", 6)', "exponent"),
    ("r124-too-many-fraction-digits", 'to_atomic("0.0000001", 6)', "too many fractional digits"),
]


@pytest.mark.parametrize(("expr", "needle"), [c[1:] for c in TO_ATOMIC_FAIL], ids=[c[0] for c in TO_ATOMIC_FAIL])
def test_r124_to_atomic_failures(expr: str, needle: str) -> None:
    """R124: a negative amount, a non-DecimalString amount, or too many fractional digits fail."""
    with pytest.raises(CelError) as ei:
        evaluate_cel(expr, {})
    assert needle in ei.value.message


TO_HUMAN_FAIL = [
    ("r126-negative-int", "to_human(-1, 6)", "non-negative"),
    ("r126-negative-string", 'to_human("-5", 6)', "non-negative"),
    ("r126-decimal-string", 'to_human("1.5", 6)', "integer"),
    ("r126-decimal-number", "to_human(1.5, 6)", "integer"),
    ("r126-not-a-number", 'to_human("x", 6)', "integer"),
    ("r126-bool", "to_human(true, 6)", "integer"),
]


@pytest.mark.parametrize(("expr", "needle"), [c[1:] for c in TO_HUMAN_FAIL], ids=[c[0] for c in TO_HUMAN_FAIL])
def test_r126_to_human_atomic_must_be_non_negative_integer(expr: str, needle: str) -> None:
    """R126: to_human's atomic is a non-negative integer (BigInt or IntegerString)."""
    with pytest.raises(CelError) as ei:
        evaluate_cel(expr, {})
    assert needle in ei.value.message


MUL_DIV_FAIL = [
    ("r130-denom-zero", "mul_div(1, 2, 0)", "denom"),
    ("r130-denom-zero-string", 'mul_div("1", "2", "0")', "denom"),
    ("r130-decimal-string", 'mul_div("1.5", 2, 3)', "integer"),
    ("r130-decimal-number", "mul_div(1, 2.5, 3)", "integer"),
    ("r130-negative-a", "mul_div(-1, 2, 3)", "non-negative"),
    ("r130-negative-denom", "mul_div(1, 2, -3)", "non-negative"),
]


@pytest.mark.parametrize(("expr", "needle"), [c[1:] for c in MUL_DIV_FAIL], ids=[c[0] for c in MUL_DIV_FAIL])
def test_r130_mul_div_failures(expr: str, needle: str) -> None:
    """R130: mul_div fails on denom=0, non-integer inputs and negative inputs."""
    with pytest.raises(CelError) as ei:
        evaluate_cel(expr, {})
    assert needle in ei.value.message


def test_r130_mul_div_accepts_integer_strings() -> None:
    """R130 (complement): IntegerString inputs are integers and are accepted."""
    assert evaluate_cel('mul_div("100", "9950", "10000")', {}) == 99



@pytest.mark.parametrize("asset", [{"symbol": "USDC"}, {"decimals": None}, {"decimals": "six"}, None],
                         ids=["no-decimals", "null-decimals", "text-decimals", "no-asset"])
def test_r121_to_atomic_needs_known_decimals(asset: object) -> None:
    """R121: to_atomic fails when the decimals are not known (nothing is guessed)."""
    with pytest.raises(CelError, match="decimals"):
        evaluate_cel("to_atomic('1', inputs.asset)", {"inputs": {"asset": asset}})
