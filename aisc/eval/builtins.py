"""The builtin functions of the AIS CEL dialect (SPEC-MAP §3.5), plus capability-gated extras.

Each builtin is a plain Python function over CEL values. It raises :class:`CelEvalError` (without a
position) or :class:`aisc.numeric.NumericError`; the call site adds the position of the call.
Error wording follows the reference engine; the substrings the conformance vectors check
(``out of range``, ``non-negative``, ``integer``, ``denom``, ``invalid decimal``, ``exponent``,
``empty``, ``too many fractional digits``) are kept verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from aisc import safe_regex
from aisc.grammar.errors import CelEvalError
from aisc.numeric import INTEGER_STRING, Dec, compare, parse_decimal_string, pow10
from aisc.numeric import to_atomic as _to_atomic
from aisc.numeric import to_human as _to_human
from aisc.reprs import install_reprs

from .values import FLOAT_MESSAGE, is_num, js_string, truthy, type_name, utf16_len

_DIGITS = re.compile(r"[0-9]+\Z")


@attrs.frozen(slots=True, repr=False)
class Builtin:
    """A function callable from CEL: ``fn(*args)`` with ``min_args <= len(args) <= max_args``
    (``max_args=None``: variadic)."""

    fn: Callable[..., Any]
    min_args: int
    max_args: int | None


def _arity(name: str, b: Builtin, n: int) -> None:
    if n < b.min_args or (b.max_args is not None and n > b.max_args):
        if b.max_args == b.min_args:
            want = f"{b.min_args}"
        elif b.max_args is None:
            want = f"at least {b.min_args}"
        else:
            want = f"{b.min_args} to {b.max_args}"
        raise CelEvalError(f"{name}() expects {want} argument(s), got {n}")


def check_arity(name: str, b: Builtin, n: int) -> None:
    _arity(name, b, n)


# ------------------------------------------------------------------ numeric coercions


def _decimals(fn: str, v: Any) -> int:
    if type(v) is int:
        d = v
    elif type(v) is str and _DIGITS.match(v):
        d = int(v)
    elif isinstance(v, Mapping) and "decimals" in v:
        dv = v["decimals"]
        if type(dv) is int:
            d = dv
        elif type(dv) is str and _DIGITS.match(dv):
            d = int(dv)
        else:
            raise CelEvalError(f"{fn}() second arg must be asset with decimals or decimal count")
    else:
        raise CelEvalError(f"{fn}() second arg must be asset with decimals or decimal count")
    if not 0 <= d <= 77:
        raise CelEvalError(f"{fn}() decimals out of range (0..77): {d}")
    return d


def _integer(fn: str, arg: str, v: Any) -> int:
    """An int, an integral decimal, or an IntegerString (``^-?[0-9]+$``)."""
    t = type(v)
    if t is int:
        return int(v)
    if t is Dec and v.mantissa % pow10(v.scale) == 0:
        return int(v.mantissa // pow10(v.scale))
    if t is str and INTEGER_STRING.match(v):
        return int(v)
    if t is float:
        raise CelEvalError(FLOAT_MESSAGE)
    shown = repr(v) if t is str else type_name(v)
    raise CelEvalError(f"{fn}.{arg} must be integer or integer string, got {shown}")


def _number(fn: str, v: Any) -> int | Dec:
    if is_num(v):
        return v  # type: ignore[no-any-return]
    if type(v) is float:
        raise CelEvalError(FLOAT_MESSAGE)
    raise CelEvalError(f"{fn}() requires a number, got {type_name(v)}")


def to_atomic(amount: Any, asset_or_decimals: Any) -> int:
    d = _decimals("to_atomic", asset_or_decimals)
    t = type(amount)
    if t is int or t is Dec:
        value = amount
    elif t is str:
        value = parse_decimal_string(amount)
    elif t is float:
        raise CelEvalError(FLOAT_MESSAGE)
    else:
        raise CelEvalError(f"to_atomic() amount must be a decimal string or number, got {type_name(amount)}")
    return _to_atomic(value, d)


def to_human(atomic: Any, asset_or_decimals: Any) -> str:
    d = _decimals("to_human", asset_or_decimals)
    return _to_human(_integer("to_human", "atomic", atomic), d)


def mul_div(a: Any, b: Any, denom: Any) -> int:
    x = _integer("mul_div", "a", a)
    y = _integer("mul_div", "b", b)
    z = _integer("mul_div", "denom", denom)
    if x < 0 or y < 0 or z < 0:
        raise CelEvalError("mul_div() args must be non-negative")
    if z == 0:
        raise CelEvalError("mul_div() denom must be > 0")
    if x.bit_length() + y.bit_length() > POW_MAX_RESULT_BITS:
        raise CelEvalError(f"mul_div() product too large: results are limited to {POW_MAX_RESULT_BITS} bits")
    return (x * y) // z


POW_MAX_EXPONENT = 10_000
POW_MAX_RESULT_BITS = 1 << 16
"""``pow()``, ``*`` and ``mul_div()`` refuse a result that could need more than 65,536 bits (about
19,700 decimal digits): far above uint256/int256 math, far below sizes that take noticeable time."""


def cel_pow(base: Any, exp: Any) -> int:
    if type(base) is not int:
        raise CelEvalError(f"pow() base must be an integer, got {type_name(base)}")
    if type(exp) is not int or not 0 <= exp <= POW_MAX_EXPONENT:
        raise CelEvalError(f"pow() exponent must be an integer in 0..{POW_MAX_EXPONENT}")
    # |base| < 2**bits, so |base**exp| < 2**(bits * exp): refuse before computing anything big.
    # 0, 1 and -1 stay small for any exponent.
    bits = abs(base).bit_length()
    if bits > 1 and bits * exp > POW_MAX_RESULT_BITS:
        raise CelEvalError(
            f"pow() result too large: a {bits}-bit base to the power {exp} may need up to {bits * exp} bits "
            f"(at most {POW_MAX_RESULT_BITS})"
        )
    r: int = base**exp
    return r


def cel_abs(v: Any) -> int | Dec:
    n = _number("abs", v)
    if type(n) is Dec:
        return Dec(abs(n.mantissa), n.scale)
    return abs(n)  # type: ignore[arg-type]


def _extreme(fn: str, args: tuple[Any, ...], sign: int) -> int | Dec:
    best: int | Dec | None = None
    for a in args:
        if type(a) is float:
            raise CelEvalError(FLOAT_MESSAGE)
        if not is_num(a):
            continue
        if best is None or compare(a, best) * sign > 0:
            best = a
    if best is None:
        raise CelEvalError(f"{fn}() requires at least one numeric argument")
    return best


def cel_min(*args: Any) -> int | Dec:
    return _extreme("min", args, -1)


def cel_max(*args: Any) -> int | Dec:
    return _extreme("max", args, 1)


def cel_floor(v: Any) -> int:
    n = _number("floor", v)
    if type(n) is Dec:
        return n.mantissa // pow10(n.scale)
    return n  # type: ignore[return-value]


def cel_ceil(v: Any) -> int:
    n = _number("ceil", v)
    if type(n) is Dec:
        return -((-n.mantissa) // pow10(n.scale))
    return n  # type: ignore[return-value]


def cel_round(v: Any) -> int:
    """Half away from zero."""
    n = _number("round", v)
    if type(n) is Dec:
        q, r = divmod(abs(n.mantissa), pow10(n.scale))
        if 2 * r >= pow10(n.scale):
            q += 1
        return -q if n.mantissa < 0 else q
    return n  # type: ignore[return-value]


def _trunc(n: int | Dec) -> int:
    if type(n) is Dec:
        q = abs(n.mantissa) // pow10(n.scale)
        return -q if n.mantissa < 0 else q
    return n  # type: ignore[return-value]


def cel_int(v: Any) -> int:
    t = type(v)
    if t is int or t is Dec:
        return _trunc(v)
    if t is str:
        if INTEGER_STRING.match(v):
            return int(v)
        return _trunc(parse_decimal_string(v))
    if t is float:
        raise CelEvalError(FLOAT_MESSAGE)
    raise CelEvalError(f"int() requires a number or numeric string, got {type_name(v)}")


def cel_uint(v: Any) -> int:
    """``abs(int(v))`` (the reference engine's behaviour: ``uint(-5)`` is 5)."""
    return abs(cel_int(v))


def cel_double(v: Any) -> int | Dec:
    t = type(v)
    if t is int or t is Dec:
        return v  # type: ignore[no-any-return]
    if t is str:
        return parse_decimal_string(v)
    if t is float:
        raise CelEvalError(FLOAT_MESSAGE)
    raise CelEvalError(f"double() requires a number or decimal string, got {type_name(v)}")


def cel_string(v: Any) -> str:
    return js_string(v)


def cel_bool(v: Any) -> bool:
    t = type(v)
    if t is bool:
        return bool(v)
    if t is str:
        return bool(v == "true")
    return truthy(v)


def cel_type(v: Any) -> str:
    if type(v) is float:
        raise CelEvalError(FLOAT_MESSAGE)
    return type_name(v)


def cel_size(v: Any) -> int:
    t = type(v)
    if t is str:
        return utf16_len(v)
    if t is list or t is tuple or isinstance(v, Mapping):
        return len(v)
    raise CelEvalError(f"size() requires a string, list or map, got {type_name(v)}")


def _strings(fn: str, *vals: Any) -> None:
    for v in vals:
        if type(v) is not str:
            raise CelEvalError(f"{fn}() requires string arguments, got {type_name(v)}")


def cel_contains(s: Any, sub: Any) -> bool:
    _strings("contains", s, sub)
    return bool(sub in s)


def cel_starts_with(s: Any, prefix: Any) -> bool:
    _strings("startsWith", s, prefix)
    return bool(s.startswith(prefix))


def cel_ends_with(s: Any, suffix: Any) -> bool:
    _strings("endsWith", s, suffix)
    return bool(s.endswith(suffix))


def cel_matches(s: Any, pattern: Any) -> bool:
    """``RegExp(pattern).test(s)``: a search, not a full match. Python ``re`` syntax (a common
    subset of JavaScript's), run by :mod:`aisc.safe_regex`: patterns of at most 1,000 characters,
    and a search that takes longer than 50 ms fails instead of hanging (ReDoS)."""
    _strings("matches", s, pattern)
    try:
        return safe_regex.search(pattern, s)
    except safe_regex.RegexTimeout:
        raise CelEvalError(
            f"matches() timed out after {safe_regex.MATCH_TIMEOUT_MS} ms: the pattern backtracks too much "
            "(avoid nested or overlapping quantifiers such as (a+)+ or (a|a)*)"
        ) from None
    except safe_regex.RegexPatternError as e:
        raise CelEvalError(f"matches() invalid regular expression: {e}") from None


def cel_lower(s: Any) -> str:
    _strings("lower", s)
    return str(s.lower())


def cel_upper(s: Any) -> str:
    _strings("upper", s)
    return str(s.upper())


_JS_SPACE = " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def cel_trim(s: Any) -> str:
    _strings("trim", s)
    return str(s.strip(_JS_SPACE))


def _list(fn: str, v: Any) -> list[Any] | tuple[Any, ...]:
    if type(v) is list or type(v) is tuple:
        return v  # type: ignore[no-any-return]
    raise CelEvalError(f"{fn}() requires a list, got {type_name(v)}")


def cel_exists(v: Any) -> bool:
    return any(truthy(x) for x in _list("exists", v))


def cel_all(v: Any) -> bool:
    return all(truthy(x) for x in _list("all", v))


BUILTINS: dict[str, Builtin] = {
    "to_atomic": Builtin(to_atomic, 2, 2),
    "to_human": Builtin(to_human, 2, 2),
    "mul_div": Builtin(mul_div, 3, 3),
    "pow": Builtin(cel_pow, 2, 2),
    "abs": Builtin(cel_abs, 1, 1),
    "min": Builtin(cel_min, 1, None),
    "max": Builtin(cel_max, 1, None),
    "floor": Builtin(cel_floor, 1, 1),
    "ceil": Builtin(cel_ceil, 1, 1),
    "round": Builtin(cel_round, 1, 1),
    "int": Builtin(cel_int, 1, 1),
    "uint": Builtin(cel_uint, 1, 1),
    "double": Builtin(cel_double, 1, 1),
    "string": Builtin(cel_string, 1, 1),
    "bool": Builtin(cel_bool, 1, 1),
    "type": Builtin(cel_type, 1, 1),
    "size": Builtin(cel_size, 1, 1),
    "contains": Builtin(cel_contains, 2, 2),
    "startsWith": Builtin(cel_starts_with, 2, 2),
    "endsWith": Builtin(cel_ends_with, 2, 2),
    "matches": Builtin(cel_matches, 2, 2),
    "lower": Builtin(cel_lower, 1, 1),
    "upper": Builtin(cel_upper, 1, 1),
    "trim": Builtin(cel_trim, 1, 1),
    "exists": Builtin(cel_exists, 1, 1),
    "all": Builtin(cel_all, 1, 1),
}
"""The standard builtins, by name."""


# ------------------------------------------------------------------ capability-gated extras


def derive_ata(owner: Any, mint: Any, token_program: Any = None) -> str:
    """The associated token account of ``owner`` for ``mint`` (base58), under the SPL Token program
    unless ``token_program`` is given (for example Token-2022)."""
    from .solana import associated_token_address

    _strings("derive_ata", owner, mint)
    if token_program is not None:
        _strings("derive_ata", token_program)
    try:
        return associated_token_address(owner, mint, token_program)
    except ValueError as e:
        raise CelEvalError(f"derive_ata() {e}") from None


CAP_MAX_UINT256 = "cel:max_uint256"
CAP_DERIVE_ATA = "cel_builtin:derive_ata"

EXTRA_CONSTANTS: dict[str, tuple[str, Any]] = {CAP_MAX_UINT256: ("MAX_UINT256", (1 << 256) - 1)}
"""capability -> (identifier, value): identifiers that exist only when the capability is given."""

EXTRA_FUNCTIONS: dict[str, tuple[str, Builtin]] = {CAP_DERIVE_ATA: ("derive_ata", Builtin(derive_ata, 2, 3))}
"""capability -> (function name, builtin): functions that exist only when the capability is given."""


__all__ = ["BUILTINS", "CAP_DERIVE_ATA", "CAP_MAX_UINT256", "EXTRA_CONSTANTS", "EXTRA_FUNCTIONS", "Builtin"]


install_reprs(__name__)
