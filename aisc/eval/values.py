"""The CEL value model: type names, truthiness, equality, ordering, JS-style ``String()``.

Values: ``int`` (never ``bool``), :class:`aisc.numeric.Dec`, ``str``, ``bool``, ``None``, lists
(``list``/``tuple``) and maps (any ``Mapping`` with string keys). A Python ``float`` is never a
CEL value: reaching one is an error, so a binary float never slips into amount math.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aisc.grammar.errors import CelEvalError
from aisc.numeric import Dec, compare, format_decimal

FLOAT_MESSAGE = "CEL disallows non-integer numbers (a binary float); pass a decimal string instead"


def type_name(v: Any) -> str:
    """The CEL ``type()`` name; non-model Python types get their Python name."""
    if v is None:
        return "null"
    t = type(v)
    if t is bool:
        return "bool"
    if t is int or (isinstance(v, int) and not isinstance(v, bool)):
        return "int"
    if t is str:
        return "string"
    if t is Dec:
        return "decimal"
    if t is list or t is tuple:
        return "list"
    if isinstance(v, Mapping):
        return "map"
    if t is float:
        return "float"
    return t.__name__


def is_num(v: Any) -> bool:
    t = type(v)
    return t is int or t is Dec


def truthy(v: Any) -> bool:
    """JS truthiness over the value model: ``false``, ``null``, ``0`` and ``""`` are falsy."""
    if v is True:
        return True
    if v is False or v is None:
        return False
    t = type(v)
    if t is int:
        return bool(v != 0)
    if t is str:
        return bool(v != "")
    if t is Dec:
        return bool(v.mantissa)
    if t is float:
        raise CelEvalError(FLOAT_MESSAGE)
    return True


def cel_eq(a: Any, b: Any) -> bool:
    """Equality: numbers by value (``1 == 1.0``), everything else deep and strictly typed."""
    ta = type(a)
    tb = type(b)
    if ta is tb and (ta is int or ta is str or ta is bool):
        return bool(a == b)
    if a is None or b is None:
        return a is b
    if ta is float or tb is float:
        raise CelEvalError(FLOAT_MESSAGE)
    if is_num(a) and is_num(b):
        return compare(a, b) == 0
    if ta is bool or tb is bool:
        return a is b
    if (ta is list or ta is tuple) and (tb is list or tb is tuple):
        return len(a) == len(b) and all(cel_eq(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if len(a) != len(b):
            return False
        return all(k in b and cel_eq(v, b[k]) for k, v in a.items())
    if ta is tb and not (is_num(a) or ta is str or ta is list or ta is tuple or isinstance(a, Mapping)):
        return bool(a == b)
    return False


def utf16_units(s: str) -> bytes:
    return s.encode("utf-16-be", "surrogatepass")


def utf16_len(s: str) -> int:
    """String length in UTF-16 code units, as JavaScript counts it."""
    if s.isascii():
        return len(s)
    return len(utf16_units(s)) // 2


def cel_cmp(a: Any, b: Any) -> int:
    """-1/0/1 for numbers (exact) or strings (UTF-16 code-unit order); otherwise a type error."""
    if is_num(a) and is_num(b):
        return compare(a, b)
    if type(a) is str and type(b) is str:
        if a.isascii() and b.isascii():
            return int(a > b) - int(a < b)
        ua, ub = utf16_units(a), utf16_units(b)
        return int(ua > ub) - int(ua < ub)
    if type(a) is float or type(b) is float:
        raise CelEvalError(FLOAT_MESSAGE)
    raise CelEvalError(f"Comparison requires same types (got {type_name(a)} and {type_name(b)})")


def js_string(v: Any) -> str:
    """``string(v)``: ints in decimal, decimals canonical, otherwise like JavaScript ``String(v)``."""
    t = type(v)
    if t is str:
        return str(v)
    if t is int:
        return str(v)
    if t is Dec:
        return format_decimal(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is list or t is tuple:
        return ",".join("" if x is None else js_string(x) for x in v)
    if isinstance(v, Mapping):
        return "[object Object]"
    if t is float:
        raise CelEvalError(FLOAT_MESSAGE)
    raise CelEvalError(f"Cannot convert {type_name(v)} to string")
