"""Exact numbers: unbounded ``int`` and a normalized decimal ``Dec(mantissa, scale)``.

No ``float`` ever appears on a value path. ``bool`` is never an integer here.
Bottom layer: imports nothing from aisc.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

INTEGER_STRING = re.compile(r"^-?[0-9]+\Z")
DECIMAL_STRING = re.compile(r"^-?[0-9]+(\.[0-9]+)?\Z")

UINT256_MAX = (1 << 256) - 1
MAX_UINT256 = UINT256_MAX
INT256_MIN = -(1 << 255)
INT256_MAX = (1 << 255) - 1


class NumericError(ValueError):
    """A value that is not an exact number of the expected shape."""


class Dec:
    """An exact decimal ``mantissa * 10**-scale`` with ``scale > 0`` and no trailing zeros.

    Use :func:`make_decimal` to build one: it returns a plain ``int`` when the scale normalizes to 0.
    """

    __slots__ = ("mantissa", "scale")

    def __init__(self, mantissa: int, scale: int) -> None:
        self.mantissa = mantissa
        self.scale = scale

    def __repr__(self) -> str:
        return f"Dec({format_decimal(self)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Dec):
            return self.mantissa == other.mantissa and self.scale == other.scale
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.mantissa, self.scale))

    def as_fraction(self) -> Fraction:
        return Fraction(self.mantissa, 10**self.scale)


Number = int | Dec


def pow10(n: int) -> int:
    """``10**n`` for ``n >= 0``, typed as int."""
    r: int = 10**n
    return r


def is_int(v: Any) -> bool:
    """True for a Python ``int`` that is not a ``bool``."""
    return type(v) is int or (isinstance(v, int) and not isinstance(v, bool))


def is_number(v: Any) -> bool:
    return is_int(v) or isinstance(v, Dec)


def make_decimal(mantissa: int, scale: int) -> Number:
    """Normalize: strip trailing zeros; scale 0 (or negative) becomes an ``int``."""
    if scale <= 0:
        return mantissa * pow10(-scale)
    if mantissa == 0:
        return 0
    while scale > 0 and mantissa % 10 == 0:
        mantissa //= 10
        scale -= 1
    if scale == 0:
        return mantissa
    return Dec(mantissa, scale)


def parts(v: Number) -> tuple[int, int]:
    if isinstance(v, Dec):
        return v.mantissa, v.scale
    return v, 0


def parse_decimal_string(raw: str) -> Number:
    """Parse a DecimalString (R118/R119) exactly; messages match the AIS vectors."""
    if raw == "":
        raise NumericError("decimal string is empty")
    if "e" in raw or "E" in raw:
        raise NumericError(f"decimal exponent notation is not allowed: {raw}")
    if not DECIMAL_STRING.match(raw):
        raise NumericError(f"invalid decimal: {raw}")
    neg = raw.startswith("-")
    body = raw[1:] if neg else raw
    if "." in body:
        ip, fp = body.split(".", 1)
        m = int(ip + fp)
        v = make_decimal(-m if neg else m, len(fp))
    else:
        v = int(body)
        v = -v if neg else v
    return v


def parse_integer_string(raw: str) -> int:
    if not INTEGER_STRING.match(raw):
        raise NumericError(f"invalid integer: {raw}")
    return int(raw)


def format_decimal(v: Number) -> str:
    """Canonical DecimalString: no trailing zeros, no bare ``.``, ``"0"`` for zero."""
    if isinstance(v, bool):
        raise NumericError("bool is not a number")
    if isinstance(v, int):
        return str(v)
    m, s = v.mantissa, v.scale
    sign = "-" if m < 0 else ""
    digits = str(abs(m)).rjust(s + 1, "0")
    ip, fp = digits[:-s], digits[-s:]
    fp = fp.rstrip("0")
    return f"{sign}{ip}.{fp}" if fp else f"{sign}{ip}"


def add(a: Number, b: Number) -> Number:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    am, as_ = parts(a)
    bm, bs = parts(b)
    s = max(as_, bs)
    return make_decimal(am * 10 ** (s - as_) + bm * 10 ** (s - bs), s)


def neg(a: Number) -> Number:
    if isinstance(a, Dec):
        return Dec(-a.mantissa, a.scale)
    return -a


def sub(a: Number, b: Number) -> Number:
    return add(a, neg(b))


def mul(a: Number, b: Number) -> Number:
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    am, as_ = parts(a)
    bm, bs = parts(b)
    return make_decimal(am * bm, as_ + bs)


def div(a: Number, b: Number) -> Number:
    """Exact quotient, or an error when it does not terminate in base 10."""
    am, as_ = parts(a)
    bm, bs = parts(b)
    if bm == 0:
        raise NumericError("Division by zero")
    if isinstance(a, int) and isinstance(b, int) and a % b == 0:
        return a // b
    f = Fraction(am * 10**bs, bm * 10**as_)
    num, den = f.numerator, f.denominator
    twos = fives = 0
    d = den
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        raise NumericError("Non-terminating decimal division; use mul_div() for integer math")
    scale = max(twos, fives)
    return make_decimal(num * (10**scale // den), scale)


def compare(a: Number, b: Number) -> int:
    if isinstance(a, int) and isinstance(b, int):
        return (a > b) - (a < b)
    am, as_ = parts(a)
    bm, bs = parts(b)
    s = max(as_, bs)
    x = am * pow10(s - as_)
    y = bm * pow10(s - bs)
    return (x > y) - (x < y)


def to_atomic(amount: Number, decimals: int) -> int:
    """``amount * 10**decimals`` exactly; errors on negative amounts or truncation (R120–R125)."""
    if not 0 <= decimals <= 77:
        raise NumericError("to_atomic() decimals out of range")
    m, s = parts(amount)
    if m < 0:
        raise NumericError("to_atomic() amount must be non-negative")
    if s > decimals:
        raise NumericError("to_atomic() disallows truncation: too many fractional digits")
    return m * pow10(decimals - s)


def to_human(atomic: int, decimals: int) -> str:
    """Canonical DecimalString of ``atomic / 10**decimals`` (R126–R128)."""
    if not 0 <= decimals <= 77:
        raise NumericError("to_human() decimals out of range")
    if atomic < 0:
        raise NumericError("to_human() atomic must be non-negative")
    return format_decimal(make_decimal(atomic, decimals))


def fits_uint(v: int, bits: int) -> bool:
    return 0 <= v < (1 << bits)


def fits_int(v: int, bits: int) -> bool:
    return -(1 << (bits - 1)) <= v < (1 << (bits - 1))
