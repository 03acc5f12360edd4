"""YAML 1.2 core-schema resolution of plain scalars, made exact and conservative.

* ``null``/``Null``/``NULL``/``~``/empty → None; ``true``/``false`` (three spellings) → bool.
* ``[-+]?(0|[1-9][0-9]*)`` → int. Leading zeros (``010``), ``0x``/``0o`` forms, ``1_000``,
  ``12:30``, dates and ``yes``/``no``/``on``/``off`` stay strings.
* Fractions/exponents (``1.05``, ``2.5e3``) → exact :class:`~aisc.numeric.Dec` (or ``int`` when the
  value is integral, e.g. ``1.0``), never ``float``; the node remembers it was a float literal.
* ``.inf``/``.nan`` and numbers beyond the size limits are errors (:class:`ScalarError`).
"""

from __future__ import annotations

import re
from typing import Any

from aisc.numeric import make_decimal

MAX_INT_DIGITS = 4000
MAX_EXPONENT = 1000

_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^([-+]?)(?:(0|[1-9][0-9]*)(?:\.([0-9]*))?|\.([0-9]+))(?:[eE]([-+]?[0-9]+))?$")
_NONFINITE = re.compile(r"^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_MAYBE_SPECIAL = frozenset("-+.0123456789~nNtTfF")


class ScalarError(ValueError):
    """A plain scalar that aisc refuses (non-finite or oversized number)."""


def resolve_plain(text: str) -> tuple[Any, bool]:
    """``(value, float_literal)`` for a plain (unquoted) YAML scalar."""
    if text and text[0] not in _MAYBE_SPECIAL:
        return text, False
    if text in _NULLS:
        return None, False
    b = _BOOLS.get(text)
    if b is not None:
        return b, False
    if _INT.match(text):
        if len(text) > MAX_INT_DIGITS:
            raise ScalarError(f"integer literal has more than {MAX_INT_DIGITS} digits")
        return int(text), False
    m = _FLOAT.match(text)
    if m:
        return parse_exact_number(m.group(1), m.group(2) or "0", m.group(3) or m.group(4) or "", m.group(5)), True
    if _NONFINITE.match(text):
        raise ScalarError(f"non-finite number {text!r} is not allowed (no IEEE 754 values)")
    return text, False


def parse_exact_number(sign: str, ip: str, fp: str, exp: str | None) -> Any:
    """Exact value of ``sign ip . fp e exp``; int when integral, else Dec."""
    if len(ip) + len(fp) > MAX_INT_DIGITS:
        raise ScalarError(f"number literal has more than {MAX_INT_DIGITS} digits")
    e = 0
    if exp is not None:
        if len(exp.lstrip("+-")) > 5 or abs(int(exp)) > MAX_EXPONENT:
            raise ScalarError(f"number exponent is out of range (|exponent| <= {MAX_EXPONENT})")
        e = int(exp)
    mant = int(ip + fp) if (ip + fp) else 0
    if sign == "-":
        mant = -mant
    return make_decimal(mant, len(fp) - e)
