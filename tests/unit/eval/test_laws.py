"""Numeric and parser laws (hypothesis, 1,000 examples each; the parser fuzz runs 10,000 strings).

R122/R127: to_atomic/to_human are exact inverses on canonical decimals; R129: mul_div floors;
decimal + - * (and terminating /) agree with exact rational arithmetic.
"""

from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from aisc.eval import CelError, evaluate_cel
from aisc.numeric import Dec, format_decimal, make_decimal

LAW = settings(max_examples=1000, deadline=None)

decimals_st = st.integers(min_value=0, max_value=77)


def _canonical(int_part: int, frac: str) -> str:
    """Canonical DecimalString built by hand: strip trailing zeros, drop an empty fraction."""
    frac = frac.rstrip("0")
    return f"{int_part}.{frac}" if frac else str(int_part)


@LAW
@given(st.data())
def test_r122_r127_to_human_inverts_to_atomic(data: st.DataObject) -> None:
    d = data.draw(decimals_st)
    int_part = data.draw(st.integers(min_value=0, max_value=10**30))
    frac = data.draw(st.text(alphabet="0123456789", max_size=d)) if d else ""
    raw = f"{int_part}.{frac}" if frac else str(int_part)
    atomic = evaluate_cel(f'to_atomic("{raw}", {d})', {})
    assert type(atomic) is int
    assert atomic == int_part * 10**d + (int(frac) * 10 ** (d - len(frac)) if frac else 0)
    assert evaluate_cel(f"to_human({atomic}, {d})", {}) == _canonical(int_part, frac)


@LAW
@given(st.integers(0, 2**512), st.integers(0, 2**512), st.integers(1, 2**512))
def test_r129_mul_div_floors(a: int, b: int, c: int) -> None:
    assert evaluate_cel(f"mul_div({a}, {b}, {c})", {}) == a * b // c


dec_st = st.builds(
    lambda m, s: (m, s), st.integers(-(10**40), 10**40), st.integers(0, 30)
)


def _lit(m: int, s: int) -> str:
    """A CEL literal for m * 10**-s, written without using the code under test."""
    sign = "-" if m < 0 else ""
    digits = str(abs(m)).rjust(s + 1, "0")
    body = f"{digits[:-s]}.{digits[-s:]}" if s else digits
    return f"({sign}{body})"


def _as_fraction(v: object) -> Fraction:
    if isinstance(v, Dec):
        assert v.scale > 0 and v.mantissa % 10 != 0  # normalized
        return Fraction(v.mantissa, 10**v.scale)
    assert type(v) is int
    return Fraction(v)


@LAW
@given(dec_st, dec_st, st.sampled_from(["+", "-", "*"]))
def test_decimal_ring_ops_agree_with_fractions(x: tuple[int, int], y: tuple[int, int], op: str) -> None:
    fx, fy = Fraction(x[0], 10 ** x[1]), Fraction(y[0], 10 ** y[1])
    got = evaluate_cel(f"{_lit(*x)} {op} {_lit(*y)}", {})
    want = {"+": fx + fy, "-": fx - fy, "*": fx * fy}[op]
    assert _as_fraction(got) == want


@LAW
@given(dec_st, st.integers(0, 20), st.integers(0, 20), st.integers(-(10**6), 10**6).filter(lambda n: n != 0))
def test_decimal_division_terminating_agrees_with_fractions(x: tuple[int, int], twos: int, fives: int,
                                                            k: int) -> None:
    # divisor k * 2**twos * 5**fives / 10**s: terminating iff k has no prime factor other than 2 and 5
    fx = Fraction(x[0], 10 ** x[1])
    divisor = k * 2**twos * 5**fives
    q = fx / divisor
    den = q.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    try:
        got = evaluate_cel(f"{_lit(*x)} / {divisor}", {})
    except CelError as e:
        assert den != 1
        assert e.message == "Non-terminating decimal division; use mul_div() for integer math"
    else:
        assert den == 1
        assert _as_fraction(got) == q


@LAW
@given(st.integers(-(10**80), 10**80), st.integers(0, 40))
def test_canonical_string_round_trip(m: int, s: int) -> None:
    v = make_decimal(m, s)
    assert _as_fraction(evaluate_cel(f'double("{format_decimal(v)}")', {})) == Fraction(m, 10**s)


_ALPHABET = [*"abcxyz_019. ,()[]+-*/%<>=!&|?:'\"\\{}$#@^~\t\n", "in", "true", "null", "1e2", "0x", "&&",
             "||", "==", "<=", "inputs", "é", "😀"]


def test_parser_fuzz_only_positioned_cel_errors() -> None:
    """10,000 random strings: every failure is a CelError with an in-range offset, nothing else."""
    rng = random.Random(20240601)
    root = {"inputs": {"a": 1, "b": "x", "l": [1, 2]}, "x": 1, "y": 2}
    failures = 0
    for _ in range(10_000):
        src = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 24)))
        try:
            evaluate_cel(src, root)
        except CelError as e:
            failures += 1
            assert e.start is not None, src
            assert 0 <= e.start <= len(src), src
            assert e.end is None or e.start <= e.end <= len(src) + 1, src
    assert failures > 5_000  # the fuzz really exercises the error paths
