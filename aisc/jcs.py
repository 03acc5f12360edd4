"""JSON Canonicalization Scheme (RFC 8785) and the AIS ``specHash`` (SPEC-MAP §8).

``canonicalize(value)`` produces the same text as the reference engine's ``canonicalizeJcs``:
no whitespace, object keys sorted by UTF-16 code units, strings escaped like ECMAScript
``JSON.stringify`` (lone surrogates as ``\\udxxx``), numbers formatted like ECMAScript
``Number.prototype.toString`` (``1.0`` → ``1``, ``1e21`` → ``1e+21``, ``1e-7`` → ``1e-7``, ``-0`` → ``0``).

Numbers in Python: JSON numbers are IEEE doubles in JavaScript, so a value is accepted only if it is
exactly what a JavaScript engine would hold:

- ``int``: always accepted for ``|n| <= 2**53``; a larger int only when the text JavaScript prints
  for it denotes exactly the same integer (``10**21`` → ``1e+21``); otherwise rejected (``2**60``
  would print as ``1152921504606847000``, and ``2**53 + 1`` is not even a double).
- :class:`aisc.numeric.Dec`: accepted when the text JavaScript would print for the nearest double
  denotes exactly the same decimal value (``Dec("0.1")`` → ``0.1``, ``Dec("0.0000001")`` → ``1e-7``);
  otherwise rejected (``0.1000000000000000000001`` would change value), so canonical text never
  silently rounds an amount. Amounts belong in decimal strings anyway.
- ``float``: finite floats are accepted and printed like JavaScript (they already are doubles).

Rejected with :class:`JcsError`: NaN/Infinity, ``bytes``, sets, non-string keys, any other type.
``spec_hash(value)`` = ``"0x" + keccak256(utf8(canonicalize(value)))`` (original Keccak padding,
not SHA3-256).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from aisc.keccak import keccak256_hex
from aisc.numeric import Dec, format_decimal

_MAX_SAFE = 2**53


class JcsError(ValueError):
    """A value that has no canonical JSON form."""


def canonicalize(value: Any) -> str:
    """The RFC 8785 canonical JSON text of ``value``."""
    out: list[str] = []
    _emit(value, out, 0)
    return "".join(out)


def spec_hash(value: Any) -> str:
    """``"0x" + keccak256(canonicalize(value))`` as lowercase hex."""
    return "0x" + keccak256_hex(canonicalize(value).encode("utf-8"))




def _emit(v: Any, out: list[str], depth: int) -> None:
    if depth > 512:
        raise JcsError("value nests too deeply for canonical JSON (more than 512 levels)")
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, str):
        out.append(quote_string(v))
    elif isinstance(v, int):
        out.append(_int_text(v))
    elif isinstance(v, Dec):
        out.append(_dec_text(v))
    elif isinstance(v, float):
        out.append(format_es_number(v))
    elif isinstance(v, Mapping):
        keys = list(v.keys())
        for k in keys:
            if not isinstance(k, str):
                raise JcsError(f"object keys must be strings, got {type(k).__name__} {k!r}")
        keys.sort(key=_utf16_key)
        out.append("{")
        for i, k in enumerate(keys):
            if i:
                out.append(",")
            out.append(quote_string(k))
            out.append(":")
            _emit(v[k], out, depth + 1)
        out.append("}")
    elif isinstance(v, list | tuple):
        out.append("[")
        for i, item in enumerate(v):
            if i:
                out.append(",")
            _emit(item, out, depth + 1)
        out.append("]")
    elif isinstance(v, bytes | bytearray | memoryview):
        raise JcsError("bytes are not JSON-serializable; encode them as a 0x-hex or base64 string")
    else:
        raise JcsError(f"{type(v).__name__} is not JSON-serializable")


def _utf16_key(k: str) -> bytes:
    return k.encode("utf-16-be", "surrogatepass")


def _int_text(n: int) -> str:
    if -_MAX_SAFE <= n <= _MAX_SAFE:
        return str(n)
    try:
        f = float(n)
    except OverflowError:
        raise JcsError(f"integer {n} is too large for a JSON number; use a string") from None
    printed = format_es_number(f)
    if int(f) != n or Fraction(printed) != n:
        raise JcsError(f"integer {n} is not exactly representable as a JSON (IEEE double) number; use a string")
    return printed


def _dec_text(d: Dec) -> str:
    exact = d.as_fraction()
    text = format_decimal(d)
    try:
        f = float(text)
    except OverflowError:  # pragma: no cover - float() of a decimal string gives inf, not an error
        f = math.inf
    if not math.isfinite(f):
        raise JcsError(f"decimal {text} is out of the range of JSON numbers")
    printed = format_es_number(f)
    if Fraction(printed) != exact:
        raise JcsError(
            f"decimal {text} does not round-trip as a JSON (IEEE double) number; use a decimal string"
        )
    return printed


def format_es_number(x: float) -> str:
    """ECMAScript ``Number::toString`` for a finite double (shortest round-trip digits)."""
    if not math.isfinite(x):
        raise JcsError("NaN and Infinity are not JSON numbers")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    r = repr(abs(x))  # Python's repr is the shortest round-trip form, as ECMAScript requires
    mant, _, exp_s = r.partition("e")
    exp = int(exp_s) if exp_s else 0
    ip, _, fp = mant.partition(".")
    if fp == "0":
        fp = ""
    digits = (ip + fp).lstrip("0")
    # value = 0.<digits> * 10**n
    n = len(ip.lstrip("0")) + exp if ip.strip("0") else exp - (len(fp) - len(fp.lstrip("0")))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        es = f"e+{e}" if e >= 0 else f"e-{-e}"
        body = digits + es if k == 1 else digits[0] + "." + digits[1:] + es
    return sign + body


_ESC = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote_string(s: str) -> str:
    """``JSON.stringify(s)`` (well-formed variant: lone surrogates escaped, other text raw)."""
    if s.isascii() and s.isprintable() and '"' not in s and "\\" not in s:
        return '"' + s + '"'
    parts = ['"']
    for ch in s:
        c = ord(ch)
        esc = _ESC.get(ch)
        if esc is not None:
            parts.append(esc)
        elif c < 0x20 or 0xD800 <= c <= 0xDFFF:
            parts.append(f"\\u{c:04x}")
        else:
            parts.append(ch)
    parts.append('"')
    return "".join(parts)
