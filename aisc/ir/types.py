"""AIS type strings (R110) parsed into a small type AST.

Accepted: ``address``, ``bool``, ``string``, ``bytes``, ``float``, ``asset``, ``token_amount``,
``intN``/``uintN`` (N a multiple of 8 in 8..256), ``bytesN`` (N in 1..32), ``array<T>`` and
``tuple<T1,T2,...>`` (nesting allowed). The JSON schema is looser (``uint7``, ``bytes99`` match its
patterns, SPEC-MAP D4); :func:`parse_type` applies the refinements.
"""

from __future__ import annotations

import re

import attrs

from aisc.reprs import install_reprs

SIMPLE_TYPES = ("address", "bool", "string", "bytes", "float", "asset", "token_amount")

# The JSON-schema-level shape (protocol.schema.json ``type_31``): used by the strict codec.
SCHEMA_TYPE_PATTERN = re.compile(r"^(?:u?int\d{1,3}|bytes\d{1,2}|(?:array|tuple)<.+>)$")

_INT = re.compile(r"^(u?)int(\d+)$")
_BYTES_N = re.compile(r"^bytes(\d+)$")


@attrs.frozen(slots=True, repr=False)
class Simple:
    """One of :data:`SIMPLE_TYPES`."""

    name: str


@attrs.frozen(slots=True, repr=False)
class IntType:
    bits: int
    signed: bool


@attrs.frozen(slots=True, repr=False)
class FixedBytes:
    size: int


@attrs.frozen(slots=True, repr=False)
class ArrayType:
    item: AisType


@attrs.frozen(slots=True, repr=False)
class TupleType:
    items: tuple[AisType, ...]


AisType = Simple | IntType | FixedBytes | ArrayType | TupleType


class TypeParseError(ValueError):
    """An AIS type string that does not follow R110."""


def schema_accepts_type(text: str) -> bool:
    """True when the JSON schema's (looser) AISType pattern accepts ``text``."""
    return text in SIMPLE_TYPES or bool(SCHEMA_TYPE_PATTERN.match(text))


def parse_type(text: str) -> AisType:
    """Parse ``text`` with the R110 refinements; raises :class:`TypeParseError`."""
    t = text.strip()
    if t != text or not t:
        raise TypeParseError(f"invalid AIS type {text!r}: no surrounding whitespace allowed")
    return _parse(t, text)


def _parse(t: str, whole: str) -> AisType:
    if t in SIMPLE_TYPES:
        return Simple(t)
    m = _INT.match(t)
    if m:
        bits = int(m.group(2)) if len(m.group(2)) <= 3 else 0
        if bits % 8 or not 8 <= bits <= 256:
            raise TypeParseError(f"invalid AIS type {whole!r}: {t} needs a bit width that is a multiple of 8 in 8..256")
        return IntType(bits, signed=not m.group(1))
    m = _BYTES_N.match(t)
    if m:
        size = int(m.group(1)) if len(m.group(1)) <= 2 else 0
        if not 1 <= size <= 32:
            raise TypeParseError(f"invalid AIS type {whole!r}: {t} needs a size in 1..32")
        return FixedBytes(size)
    for head in ("array<", "tuple<"):
        if t.startswith(head) and t.endswith(">"):
            inner = t[len(head) : -1]
            parts = _split_top(inner, whole)
            if head == "array<":
                if len(parts) != 1:
                    raise TypeParseError(f"invalid AIS type {whole!r}: array<T> takes exactly one item type")
                return ArrayType(_parse(parts[0], whole))
            return TupleType(tuple(_parse(p, whole) for p in parts))
    raise TypeParseError(
        f"invalid AIS type {whole!r}: expected one of {', '.join(SIMPLE_TYPES)}, intN/uintN, bytesN, "
        "array<T> or tuple<T1,...>"
    )


def _split_top(inner: str, whole: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    cur = ""
    for ch in inner:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
            if depth < 0:
                raise TypeParseError(f"invalid AIS type {whole!r}: unbalanced '>'")
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if depth != 0:
        raise TypeParseError(f"invalid AIS type {whole!r}: unbalanced '<'")
    parts.append(cur.strip())
    if any(not p for p in parts):
        raise TypeParseError(f"invalid AIS type {whole!r}: empty item type")
    return parts


def format_type(t: AisType) -> str:
    """The canonical text of a parsed type."""
    if isinstance(t, Simple):
        return t.name
    if isinstance(t, IntType):
        return f"{'' if t.signed else 'u'}int{t.bits}"
    if isinstance(t, FixedBytes):
        return f"bytes{t.size}"
    if isinstance(t, ArrayType):
        return f"array<{format_type(t.item)}>"
    return "tuple<" + ",".join(format_type(i) for i in t.items) + ">"


install_reprs(__name__)
