"""The ``ais-json/1`` codec (docs/ais-json-codec-profile.md; SPEC-MAP §1.16, §7.8).

JSON with three tagged types, so values survive JSON/JSONL between processes and languages:

- big integers: ``{"__ais_json_type": "bigint", "value": "<decimal>"}`` (R260)
- bytes: ``{"__ais_json_type": "uint8array", "encoding": "base64", "value": "<base64>"}`` (R261)
- errors: ``{"__ais_json_type": "error", "name": ..., "message": ..., "stack"?: ...}`` (R262);
  ``stack`` only with ``include_error_stack=True``.

Integer policy (``tag_ints``). Python has one ``int``; JavaScript has numbers (exact up to 2**53-1)
and BigInts. The default ``"unsafe"`` writes ints with ``|n| <= 2**53 - 1`` as plain JSON numbers
(counters, sequence numbers, timestamps, small amounts read the same everywhere) and tags every
larger one as a bigint, so no consumer can round it. ``"all"`` tags every int (use it when a
TypeScript consumer must see on-chain values as BigInt whatever their size); ``"none"`` never tags
(exact for Python readers only). :func:`loads` revives both forms to ``int``, so a Python round trip
is lossless under every policy.

Other values: :class:`aisc.numeric.Dec` is written as its canonical decimal string (it reads back as
a string: decimals travel as DecimalStrings in AIS); finite floats are written as JSON numbers,
NaN/Infinity as ``null`` (or an error with ``reject_non_finite_number=True``). ``loads`` never makes
a float: a JSON number with a fraction or exponent becomes an exact ``Dec`` (or ``int`` when
integral). Duplicate object keys are rejected. Tag objects are revived only with exactly their key
set (bigint: 2 keys; uint8array: 3 keys with ``encoding: base64``; error: 3 or 4 keys); anything
else stays a plain object.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Literal

from aisc.numeric import Dec, format_decimal, make_decimal

PROFILE = "ais-json/1"
TAG = "__ais_json_type"
MAX_SAFE_INTEGER = 2**53 - 1

_INT_RE = re.compile(r"-?[0-9]+\Z")
_B64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}\Z")

IntPolicy = Literal["all", "unsafe", "none"]


class AisJsonError(ValueError):
    """A value that cannot be encoded, or text that is not valid ``ais-json/1``."""


class RemoteError(Exception):
    """An error revived from an ``error`` tag (it came from another process or engine)."""

    def __init__(self, name: str, message: str, stack: str | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.stack = stack

    def __repr__(self) -> str:
        return f"RemoteError({self.name!r}, {self.message!r})"


# ------------------------------------------------------------------ encode


def to_jsonable(
    value: Any,
    *,
    include_error_stack: bool = False,
    tag_ints: IntPolicy = "unsafe",
    reject_non_finite_number: bool = False,
) -> Any:
    """The plain-JSON tree that :func:`dumps` serializes (tags applied, Dec as strings)."""

    def enc(v: Any, depth: int) -> Any:
        # fast path on exact types (the common case: event payloads of dicts, lists, str, small
        # ints); a container is copied only when a value inside it changes (tags, Dec, ...)
        t = type(v)
        if t is str or t is bool or v is None:
            return v
        if t is int:
            if tag_ints == "none" or (tag_ints == "unsafe" and -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER):
                return v
            return {TAG: "bigint", "value": str(v)}
        if depth > 1000:
            raise AisJsonError("value nests too deeply (more than 1000 levels)")
        if (t is dict or t is list) and depth >= 1000 and v:
            raise AisJsonError("value nests too deeply (more than 1000 levels)")
        if t is dict:
            copy: dict[str, Any] | None = None
            for k, item in v.items():
                if type(k) is not str and not isinstance(k, str):
                    raise AisJsonError(f"object keys must be strings, got {type(k).__name__} {k!r}")
                ti = type(item)
                if ti is str or ti is bool or item is None:
                    new = item
                else:
                    new = enc(item, depth + 1)
                if new is not item or copy is not None:
                    if copy is None:
                        copy = dict(v)
                    copy[k] = new
            return v if copy is None else copy
        if t is list:
            lcopy: list[Any] | None = None
            for i, item in enumerate(v):
                ti = type(item)
                if ti is str or ti is bool or item is None:
                    continue
                new = enc(item, depth + 1)
                if new is not item:
                    if lcopy is None:
                        lcopy = list(v)
                    lcopy[i] = new
            return v if lcopy is None else lcopy
        return slow(v, depth)

    def slow(v: Any, depth: int) -> Any:
        if depth > 1000:
            raise AisJsonError("value nests too deeply (more than 1000 levels)")
        if v is None or v is True or v is False or isinstance(v, str):
            return v
        if isinstance(v, int):
            if tag_ints == "all" or (tag_ints == "unsafe" and abs(v) > MAX_SAFE_INTEGER):
                return {TAG: "bigint", "value": str(int(v))}
            return int(v)
        if isinstance(v, Dec):
            return format_decimal(v)
        if isinstance(v, float):
            if math.isfinite(v):
                return v
            if reject_non_finite_number:
                raise AisJsonError(f"non-finite number {v!r} is not allowed")
            return None
        if isinstance(v, Mapping):
            out: dict[str, Any] = {}
            for k, item in v.items():
                if not isinstance(k, str):
                    raise AisJsonError(f"object keys must be strings, got {type(k).__name__} {k!r}")
                out[k] = enc(item, depth + 1)
            return out
        if isinstance(v, list | tuple):
            return [enc(x, depth + 1) for x in v]
        if isinstance(v, bytes | bytearray | memoryview):
            return {TAG: "uint8array", "encoding": "base64", "value": base64.b64encode(bytes(v)).decode("ascii")}
        if isinstance(v, BaseException):
            name = v.name if isinstance(v, RemoteError) else type(v).__name__
            message = v.message if isinstance(v, RemoteError) else str(v)
            d: dict[str, Any] = {TAG: "error", "name": name, "message": message}
            if include_error_stack:
                if isinstance(v, RemoteError) and v.stack is not None:
                    d["stack"] = v.stack
                else:
                    import traceback

                    d["stack"] = "".join(traceback.format_exception(v)).rstrip("\n")
            return d
        raise AisJsonError(f"{type(v).__name__} is not serializable as ais-json/1")

    return enc(value, 0)


def dumps(
    value: Any,
    *,
    pretty: bool = False,
    include_error_stack: bool = False,
    tag_ints: IntPolicy = "unsafe",
    reject_non_finite_number: bool = False,
) -> str:
    """Encode ``value`` as ``ais-json/1`` text: compact by default, 2-space indented with ``pretty``.
    Keys keep their insertion order; non-ASCII text is written as is."""
    tree = to_jsonable(
        value,
        include_error_stack=include_error_stack,
        tag_ints=tag_ints,
        reject_non_finite_number=reject_non_finite_number,
    )
    if pretty:
        return json.dumps(tree, ensure_ascii=False, indent=2, allow_nan=False)
    return _COMPACT.encode(tree)


# one encoder for the compact form (building a JSONEncoder per call costs more than small records)
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# ------------------------------------------------------------------ decode


def parse_json_number(text: str) -> int | Dec:
    """The exact value of a JSON (or YAML 1.2) number literal: ``int`` or a normalized ``Dec``."""
    _mant, _, exp = text.lower().partition("e")
    if exp and abs(int(exp)) > 4000:
        raise AisJsonError(f"number exponent out of range: {text}")
    f = Fraction(text)
    if f.denominator == 1:
        return int(f.numerator)
    # a JSON number is a finite decimal: its reduced denominator is 2**a * 5**b
    den = f.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    scale = max(twos, fives)
    return make_decimal(f.numerator * (10**scale // f.denominator), scale)


def _reject_constant(name: str) -> Any:
    raise AisJsonError(f"{name} is not valid JSON")


def _revive(pairs: list[tuple[str, Any]]) -> Any:
    obj: dict[str, Any] = {}
    for k, v in pairs:
        if k in obj:
            raise AisJsonError(f"duplicate key {k!r} in JSON object")
        obj[k] = v
    tag = obj.get(TAG)
    if tag is None or not isinstance(tag, str):
        return obj
    n = len(obj)
    if tag == "bigint" and n == 2 and "value" in obj:
        raw = obj["value"]
        if not isinstance(raw, str) or not _INT_RE.match(raw):
            raise AisJsonError(f"bigint tag needs a decimal integer string, got {raw!r}")
        return int(raw)
    if tag == "uint8array" and n == 3 and obj.get("encoding") == "base64" and "value" in obj:
        raw = obj["value"]
        if not isinstance(raw, str) or not _B64_RE.match(raw):
            raise AisJsonError("uint8array tag needs a base64 string value")
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise AisJsonError("uint8array tag has invalid base64") from None
    if tag == "error" and n in (3, 4) and isinstance(obj.get("name"), str) and isinstance(obj.get("message"), str):
        stack = obj.get("stack")
        if n == 4 and not isinstance(stack, str):
            return obj
        return RemoteError(obj["name"], obj["message"], stack)
    return obj


def revive(value: Any) -> Any:
    """Apply the codec's tag revival to already-parsed plain data (e.g. values read from YAML)."""
    if isinstance(value, dict):
        return _revive([(k, revive(v)) for k, v in value.items()])
    if isinstance(value, list):
        return [revive(v) for v in value]
    return value


def loads(text: str | bytes) -> Any:
    """Decode ``ais-json/1`` text. Raises :class:`AisJsonError` (a ``ValueError``)."""
    try:
        return json.loads(
            text,
            object_pairs_hook=_revive,
            parse_float=parse_json_number,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as e:
        raise AisJsonError(f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise AisJsonError("JSON nests too deeply") from None
