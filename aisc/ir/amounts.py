"""Pack amount limits and exact amount conversion, shared by the compiler and the runtime.

One format for the amounts of a pack's (or a workflow's) ``hard_constraints`` — ``max_spend`` and
``max_approval`` — so that the static policy pass (``aisc.passes.policy_static``) and the runtime
gate (``aisc.runtime.policy``) read a limit the same way (documented in docs/runtime.md):

* ``"1000000"`` — an IntegerString: **base units** of whatever token the write spends (R272);
* ``"1.5"`` — a DecimalString with a fraction: **token units** of the token the write spends,
  converted with that token's ``decimals`` (its asset param, else the pack's token allowlist);
* ``"1000 USDC"`` / ``"1.5 USDC"`` — an amount followed by a symbol: token units of *that* token,
  which must be in the pack's ``token_policy.allowlist`` (on the write's chain); the limit applies
  only to writes that spend that token.

``max_approval_multiplier`` is an exact decimal: a DecimalString (``"1.05"``) in a plan; a pack
source may also write it as a YAML number, which the compiler reads exactly and writes out as a
DecimalString (never a JSON float). Every conversion is exact (``aisc.numeric``): a token-unit amount
with more fractional digits than the token's decimals is an error, never rounded.

May import: aisc.numeric.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from aisc import numeric
from aisc.reprs import install_reprs

__all__ = [
    "AMOUNT_LIMIT_KEYS",
    "AmountFormatError",
    "AmountLimit",
    "LimitResolution",
    "allowlist_entry",
    "asset_decimals",
    "format_multiplier",
    "human_to_atomic",
    "is_human_amount",
    "parse_amount_limit",
    "parse_multiplier",
    "resolve_amount_limit",
]

AMOUNT_LIMIT_KEYS = ("max_spend", "max_approval")
LIMIT_HINT = ('write an IntegerString of base units ("1000000"), a DecimalString of token units ("1.5"), '
              'or an amount and an allowlisted token symbol ("1000 USDC")')
_UNSIGNED_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*")


class AmountFormatError(ValueError):
    """A limit, multiplier or amount that is not in the documented format."""

    def __init__(self, message: str, hint: str = LIMIT_HINT) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@attrs.frozen(repr=False)
class AmountLimit:
    """A parsed ``max_spend`` / ``max_approval`` value."""

    text: str
    value: numeric.Number  # exact, non-negative
    base_units: bool  # an IntegerString without a symbol (or a plain int)
    symbol: str | None = None  # the "<amount> <SYMBOL>" form


@attrs.frozen(repr=False)
class LimitResolution:
    """A limit resolved for one write: does it apply, and its value in base units (or why not)."""

    applies: bool
    atomic: int | None = None
    problem: str | None = None
    token: str | None = None  # the allowlisted token address a symbol limit is restricted to


def parse_amount_limit(raw: Any) -> AmountLimit:
    """Parse a ``max_spend`` / ``max_approval`` value; raise :class:`AmountFormatError`.

    An ``int`` (never a ``bool``) is accepted as base units: it is what an evaluated runtime-guard
    ValueRef gives. Everything else must be a string in the documented format.
    """
    if isinstance(raw, bool):
        raise AmountFormatError(f"limit {raw!r} is a boolean, not an amount")
    if isinstance(raw, int):
        if raw < 0:
            raise AmountFormatError(f"limit {raw} is negative")
        return AmountLimit(str(raw), raw, True)
    if not isinstance(raw, str):
        raise AmountFormatError(f"limit {_show(raw)} is not a string")
    parts = raw.split()
    if not parts or len(parts) > 2 or raw != raw.strip():
        raise AmountFormatError(f"limit {raw!r} is not '<amount>' or '<amount> <SYMBOL>'")
    amount_text = parts[0]
    symbol = parts[1] if len(parts) == 2 else None
    if symbol is not None and (not _SYMBOL.fullmatch(symbol) or raw != f"{amount_text} {symbol}"):
        raise AmountFormatError(f"limit {raw!r}: {symbol!r} is not a token symbol (one space between amount and symbol)")
    if not _UNSIGNED_DECIMAL.fullmatch(amount_text):
        raise AmountFormatError(f"limit {raw!r}: {amount_text!r} is not a non-negative decimal number "
                                "(no sign, exponent, or bare '.')")
    value = numeric.parse_decimal_string(amount_text)
    return AmountLimit(raw, value, symbol is None and "." not in amount_text, symbol)


def allowlist_entry(
    allowlist: Any,
    *,
    chain: str | None,
    symbol: str | None = None,
    token: str | None = None,
) -> Mapping[str, Any] | None:
    """The allowlist entry on ``chain`` (entries without a chain match every chain) whose symbol is
    ``symbol``, or whose address or symbol is ``token``; comparisons ignore case."""
    if not isinstance(allowlist, Iterable) or isinstance(allowlist, str | bytes | Mapping):
        return None
    want_sym = symbol.lower() if isinstance(symbol, str) else None
    want_tok = token.lower() if isinstance(token, str) else None
    for e in allowlist:
        if not isinstance(e, Mapping):
            continue
        if chain is not None and e.get("chain") not in (None, chain):
            continue
        sym = e.get("symbol")
        addr = e.get("address")
        sym_l = sym.lower() if isinstance(sym, str) else None
        addr_l = addr.lower() if isinstance(addr, str) else None
        if want_sym is not None and sym_l == want_sym:
            return e
        if want_tok is not None and want_tok in (sym_l, addr_l):
            return e
    return None


def asset_decimals(asset: Any) -> int | None:
    """``decimals`` of an asset / allowlist entry: an int (or IntegerString) in 0..77, else None."""
    if not isinstance(asset, Mapping):
        return None
    raw = asset.get("decimals")
    if isinstance(raw, str) and numeric.INTEGER_STRING.match(raw):
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 77:
        return raw
    return None


def resolve_amount_limit(
    raw: Any,
    *,
    chain: str | None,
    token: str | None,
    decimals: int | None,
    allowlist: Any,
) -> LimitResolution:
    """Resolve a limit for a write on ``chain`` spending ``token`` (address, symbol or mint; None when
    unknown) whose decimals are ``decimals`` (None when unknown; then the allowlist entry of
    ``token`` is tried).

    A symbol limit for another token does not apply. A limit that cannot be turned into base units
    applies with ``atomic=None`` and a ``problem`` saying why (the caller asks for confirmation or
    reports it).
    """
    try:
        lim = parse_amount_limit(raw)
    except AmountFormatError as e:
        return LimitResolution(True, problem=e.message)
    if lim.base_units and isinstance(lim.value, int):
        return LimitResolution(True, atomic=lim.value)
    if lim.symbol is not None:
        entry = allowlist_entry(allowlist, chain=chain, symbol=lim.symbol)
        if entry is None:
            where = f" on {chain}" if chain else ""
            return LimitResolution(True, problem=f"limit {lim.text!r} names {lim.symbol}, which is not in the "
                                   f"pack's token allowlist{where}")
        addr = entry.get("address") if isinstance(entry.get("address"), str) else None
        if token is not None:
            names = {str(x).lower() for x in (entry.get("address"), entry.get("symbol")) if isinstance(x, str)}
            if token.lower() not in names:
                return LimitResolution(False, token=addr)
        dec = asset_decimals(entry)
        if dec is None:
            return LimitResolution(True, problem=f"limit {lim.text!r}: the allowlist entry of {lim.symbol} has no "
                                   "decimals", token=addr)
        try:
            return LimitResolution(True, atomic=numeric.to_atomic(lim.value, dec), token=addr)
        except numeric.NumericError:
            return LimitResolution(True, problem=f"limit {lim.text!r} has more fractional digits than "
                                   f"{lim.symbol}'s {dec} decimals", token=addr)
    dec = decimals
    if dec is None and token is not None:
        dec = asset_decimals(allowlist_entry(allowlist, chain=chain, token=token))
    if dec is None:
        return LimitResolution(True, problem=f"limit {lim.text!r} is in token units but the decimals of the "
                               "token being spent are unknown")
    try:
        return LimitResolution(True, atomic=numeric.to_atomic(lim.value, dec))
    except numeric.NumericError:
        return LimitResolution(True, problem=f"limit {lim.text!r} has more fractional digits than the token's "
                               f"{dec} decimals")


def parse_multiplier(raw: Any, *, allow_number: bool = False) -> numeric.Number:
    """``max_approval_multiplier`` as an exact number ≥ 1; raise :class:`AmountFormatError`.

    A plan carries it as a DecimalString (``"1.05"``). ``allow_number=True`` (the compiler reading a
    pack source, whose schema types it as a number) also accepts an exact ``int`` or ``Dec``.
    """
    hint = 'write it as a decimal string, e.g. "1.05" (approve at most 105% of the spend)'
    if isinstance(raw, bool):
        raise AmountFormatError(f"max_approval_multiplier {raw!r} is a boolean", hint)
    if isinstance(raw, str):
        if not _UNSIGNED_DECIMAL.fullmatch(raw):
            raise AmountFormatError(f"max_approval_multiplier {raw!r} is not a non-negative DecimalString", hint)
        value = numeric.parse_decimal_string(raw)
    elif allow_number and isinstance(raw, int | numeric.Dec):
        value = raw
    else:
        raise AmountFormatError(f"max_approval_multiplier {_show(raw)} is not a DecimalString", hint)
    if numeric.compare(value, 1) < 0:
        raise AmountFormatError(f"max_approval_multiplier {format_multiplier(value)} is below 1", hint)
    return value


def format_multiplier(value: numeric.Number) -> str:
    """The canonical DecimalString of a multiplier (``Dec(105, 2)`` → ``"1.05"``)."""
    return numeric.format_decimal(value)


def is_human_amount(value: Any) -> bool:
    """True for an amount that cannot be base units: a ``Dec`` or a DecimalString with a fraction."""
    if isinstance(value, numeric.Dec):
        return True
    return isinstance(value, str) and "." in value and _UNSIGNED_DECIMAL.fullmatch(value.strip()) is not None


def human_to_atomic(value: Any, decimals: int) -> int:
    """A token-unit amount (DecimalString, int or Dec) in base units, exactly; raise
    :class:`AmountFormatError` (negative, malformed, or more fractional digits than ``decimals``)."""
    if isinstance(value, bool):
        raise AmountFormatError(f"amount {value!r} is a boolean")
    if isinstance(value, str):
        s = value.strip()
        if not _UNSIGNED_DECIMAL.fullmatch(s):
            raise AmountFormatError(f"amount {value!r} is not a non-negative DecimalString")
        number: numeric.Number = numeric.parse_decimal_string(s)
    elif isinstance(value, int | numeric.Dec):
        number = value
    else:
        raise AmountFormatError(f"amount {_show(value)} is not a number")
    try:
        return numeric.to_atomic(number, decimals)
    except numeric.NumericError as e:
        raise AmountFormatError(f"amount {_show(value)} cannot be converted with {decimals} decimals: {e}") from None


def _show(v: Any) -> str:
    if isinstance(v, numeric.Dec):
        return numeric.format_decimal(v)
    return repr(v)


install_reprs(__name__)
