"""AIS JSON ABI (``{type:"function", name, inputs, outputs}``) ⇄ calldata, on top of eth-abi.

eth-abi does the head/tail encoding; this module owns everything AIS adds around it:

* the ABI fragment is validated (input names non-empty and unique, R198; tuple components present);
* ``args`` are keyed by input name, missing or extra keys are rejected (R199) with
  ``ABI args mismatch (missing: a, b ; extra: c)`` (a side with no names is left out);
* values are coerced strictly, each error naming the argument path (``args.order.amount``, R131):
  ints from ``int`` (never ``bool``), a decimal IntegerString or a ``0x`` hex string, range-checked
  against the fixed width; addresses are 20-byte hex and a mixed-case address must carry a valid
  EIP-55 checksum; ``bytes``/``bytesN`` from ``0x`` hex (``bytesN`` exact length); tuples from a
  mapping keyed by component name or a positional list;
* return data is decoded to ``{output_name: value}`` (R202/R203): tuples become dicts when all their
  component names are non-empty and unique, lists otherwise (R107); addresses are lowercased, byte
  strings are ``0x`` hex, ints stay Python ints.

Parsed fragments are cached by their canonical JSON, so a plan that calls the same function many
times pays the validation once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import attrs
from eth_abi.abi import decode as _abi_decode
from eth_abi.abi import encode as _abi_encode
from eth_abi.exceptions import DecodingError

from aisc.keccak import keccak256
from aisc.numeric import Dec
from aisc.reprs import install_reprs

__all__ = [
    "AbiError",
    "AbiFunction",
    "AbiParam",
    "checksum_address",
    "coerce_address",
    "coerce_int",
    "decode_outputs",
    "decode_values",
    "encode_call",
    "encode_values",
    "function_selector",
    "function_signature",
    "keccak256",
    "parse_function",
]


class AbiError(ValueError):
    """A bad ABI fragment, a bad argument value or undecodable return data.

    ``path`` locates the culprit (``args.order.amount``, ``abi.inputs[1]``, ``outputs``) so the
    runtime can position the error on the plan node; the message starts with it too.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.reason = message


# ---------------------------------------------------------------------------------------------
# ABI fragment model


_TYPE_RE = re.compile(r"^([a-z]+)(\d*)((?:\[\d*\])*)$")
_DIM_RE = re.compile(r"\[(\d*)\]")


@attrs.frozen(repr=False)
class AbiParam:
    """One ABI parameter. ``dims`` lists array suffixes outermost-last (``None`` = dynamic)."""

    name: str
    base: str  # "uint", "int", "address", "bool", "string", "bytes", "tuple"
    bits: int  # uintN/intN width, bytesN size (0 = dynamic bytes), 0 otherwise
    dims: tuple[int | None, ...]
    components: tuple[AbiParam, ...]
    head: str  # canonical type without array suffixes, e.g. "(address,uint256)"
    canonical: str  # eth-abi / selector type string, e.g. "(address,uint256)[]"

    @property
    def named_components(self) -> bool:
        names = [c.name for c in self.components]
        return all(names) and len(set(names)) == len(names)

    def element(self) -> AbiParam:
        """The element parameter of an array parameter (drops the outermost suffix)."""
        dims = self.dims[:-1]
        return attrs.evolve(self, dims=dims, canonical=self.head + _suffix(dims))


def _suffix(dims: tuple[int | None, ...]) -> str:
    return "".join("[]" if d is None else f"[{d}]" for d in dims)


@attrs.frozen(repr=False)
class AbiFunction:
    name: str
    inputs: tuple[AbiParam, ...]
    outputs: tuple[AbiParam, ...]
    signature: str
    selector: bytes
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]


def _parse_param(raw: Any, path: str) -> AbiParam:
    if not isinstance(raw, Mapping):
        raise AbiError("ABI parameter must be an object {name, type, components?}", path)
    name = raw.get("name", "")
    typ = raw.get("type")
    if not isinstance(name, str):
        raise AbiError("ABI parameter name must be a string", path)
    if not isinstance(typ, str) or not typ:
        raise AbiError("ABI parameter type must be a non-empty string", path)
    m = _TYPE_RE.match(typ)
    if m is None:
        raise AbiError(f"unsupported ABI type '{typ}'", path)
    base, size, suffix = m.group(1), m.group(2), m.group(3)
    dims: list[int | None] = []
    for d in _DIM_RE.findall(suffix):
        if d == "":
            dims.append(None)
        else:
            n = int(d)
            if n <= 0:
                raise AbiError(f"fixed array length must be positive in '{typ}'", path)
            dims.append(n)
    bits = 0
    components: tuple[AbiParam, ...] = ()
    if base in ("uint", "int"):
        bits = int(size) if size else 256
        if bits % 8 or not 8 <= bits <= 256 or (size and size != str(bits)):
            raise AbiError(f"unsupported ABI type '{typ}'", path)
        head = f"{base}{bits}"
    elif base == "bytes":
        bits = int(size) if size else 0
        if size and (not 1 <= bits <= 32 or size != str(bits)):
            raise AbiError(f"unsupported ABI type '{typ}'", path)
        head = f"bytes{bits}" if bits else "bytes"
    elif base in ("address", "bool", "string"):
        if size:
            raise AbiError(f"unsupported ABI type '{typ}'", path)
        head = base
    elif base == "tuple":
        if size:
            raise AbiError(f"unsupported ABI type '{typ}'", path)
        comps = raw.get("components")
        if not isinstance(comps, Sequence) or isinstance(comps, str) or len(comps) == 0:
            raise AbiError("tuple type missing components", path)
        components = tuple(_parse_param(c, f"{path}.components[{i}]") for i, c in enumerate(comps))
        head = "(" + ",".join(c.canonical for c in components) + ")"
    else:
        raise AbiError(f"unsupported ABI type '{typ}'", path)
    if base != "tuple" and raw.get("components") not in (None, []):
        raise AbiError(f"components are only allowed on tuple types, not '{typ}'", path)
    return AbiParam(
        name=name,
        base=base,
        bits=bits,
        dims=tuple(dims),
        components=components,
        head=head,
        canonical=head + _suffix(tuple(dims)),
    )


def _parse_function_uncached(abi: Mapping[str, Any]) -> AbiFunction:
    if not isinstance(abi, Mapping):
        raise AbiError("JSON ABI must be an object", "abi")
    if abi.get("type", "function") != "function":
        raise AbiError(f"JSON ABI type must be 'function', got {abi.get('type')!r}", "abi.type")
    name = abi.get("name")
    if not isinstance(name, str) or not name:
        raise AbiError("JSON ABI function name must be a non-empty string", "abi.name")
    raw_inputs = abi.get("inputs", [])
    raw_outputs = abi.get("outputs", [])
    if not isinstance(raw_inputs, Sequence) or isinstance(raw_inputs, str):
        raise AbiError("JSON ABI inputs must be an array", "abi.inputs")
    if raw_outputs is None:
        raw_outputs = []
    if not isinstance(raw_outputs, Sequence) or isinstance(raw_outputs, str):
        raise AbiError("JSON ABI outputs must be an array", "abi.outputs")
    inputs = tuple(_parse_param(p, f"abi.inputs[{i}]") for i, p in enumerate(raw_inputs))
    outputs = tuple(_parse_param(p, f"abi.outputs[{i}]") for i, p in enumerate(raw_outputs))
    signature = f"{name}({','.join(p.canonical for p in inputs)})"
    return AbiFunction(
        name=name,
        inputs=inputs,
        outputs=outputs,
        signature=signature,
        selector=keccak256(signature.encode())[:4],
        input_types=tuple(p.canonical for p in inputs),
        output_types=tuple(p.canonical for p in outputs),
    )


@lru_cache(maxsize=512)
def _parse_cached(key: str) -> AbiFunction:
    return _parse_function_uncached(json.loads(key))


def parse_function(abi: Mapping[str, Any]) -> AbiFunction:
    """Validate and parse a JSON ABI function fragment (cached by canonical JSON)."""
    if isinstance(abi, AbiFunction):
        return abi
    try:
        key = json.dumps(abi, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return _parse_function_uncached(abi)
    return _parse_cached(key)


def _check_input_names(fn: AbiFunction) -> None:
    seen: set[str] = set()
    for i, p in enumerate(fn.inputs):
        if not p.name:
            raise AbiError("JSON ABI inputs must have non-empty names for AIS args mapping", f"abi.inputs[{i}]")
        if p.name in seen:
            raise AbiError(f"Duplicate JSON ABI input name: {p.name}", f"abi.inputs[{i}]")
        seen.add(p.name)


def _check_output_names(fn: AbiFunction) -> None:
    seen: set[str] = set()
    for i, p in enumerate(fn.outputs):
        if not p.name:
            raise AbiError("JSON ABI outputs must have non-empty names", f"abi.outputs[{i}]")
        if p.name in seen:
            raise AbiError(f"Duplicate JSON ABI output name: {p.name}", f"abi.outputs[{i}]")
        seen.add(p.name)


def function_signature(abi: Mapping[str, Any]) -> str:
    """``name(t1,t2,...)`` with tuples written canonically, e.g. ``f((address,uint256)[],bytes32)``."""
    return parse_function(abi).signature


def function_selector(abi: Mapping[str, Any]) -> bytes:
    """The 4-byte selector: ``keccak256(signature)[:4]``."""
    return parse_function(abi).selector


# ---------------------------------------------------------------------------------------------
# Value coercion (AIS / JSON value → eth-abi Python value)

_HEX_RE = re.compile(r"^0[xX][0-9a-fA-F]*$")
_DEC_RE = re.compile(r"^-?[0-9]+$")
_ADDR_RE = re.compile(r"^0[xX]([0-9a-fA-F]{40})$")


def checksum_address(addr_hex40: str) -> str:
    """EIP-55 mixed-case form of a 40-hex-digit address (without or with ``0x``)."""
    low = addr_hex40.lower().removeprefix("0x")
    digest = keccak256(low.encode()).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(low))


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, float):
        return "a float"
    if isinstance(v, Dec):
        return "a decimal"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, Mapping):
        return "an object"
    if isinstance(v, list | tuple):
        return "an array"
    if v is None:
        return "null"
    return type(v).__name__


def _coerce_int(v: Any, p: AbiParam, path: str) -> int:
    if isinstance(v, bool | float | Dec):
        raise AbiError(f"expected an integer for {p.canonical}, got {_kind(v)}", path)
    if isinstance(v, int):
        n = v
    elif isinstance(v, str):
        if _DEC_RE.match(v):
            n = int(v, 10)
        elif len(v) > 2 and _HEX_RE.match(v):
            n = int(v[2:], 16)
        else:
            raise AbiError(
                f"expected an integer string for {p.canonical}, got {v!r} (decimal digits or 0x hex)", path
            )
    else:
        raise AbiError(f"expected an integer for {p.canonical}, got {_kind(v)}", path)
    if p.base == "uint":
        ok = 0 <= n < (1 << p.bits)
    else:
        ok = -(1 << (p.bits - 1)) <= n < (1 << (p.bits - 1))
    if not ok:
        raise AbiError(f"value {n} does not fit {p.base}{p.bits}", path)
    return n


def _coerce_address(v: Any, path: str) -> bytes:
    if isinstance(v, bytes | bytearray) and len(v) == 20:
        return bytes(v)
    if not isinstance(v, str):
        raise AbiError(f"expected an address (0x + 40 hex digits), got {_kind(v)}", path)
    m = _ADDR_RE.match(v)
    if m is None:
        raise AbiError(f"invalid address {v!r}: expected 0x followed by 40 hex digits", path)
    body = m.group(1)
    if body != body.lower() and body != body.upper() and checksum_address(body) != "0x" + body:
        raise AbiError(f"bad address checksum: {v} (expected {checksum_address(body)})", path)
    return bytes.fromhex(body)


def coerce_int(value: Any, abi_type: str, path: str) -> int:
    """One integer value for ``abi_type`` (``uint256``, ``int24``...) with the AIS coercion rules."""
    p = _parse_param({"name": "", "type": abi_type}, path)
    if p.base not in ("uint", "int") or p.dims:
        raise AbiError(f"not an integer type: {abi_type}", path)
    return _coerce_int(value, p, path)


def coerce_address(value: Any, path: str) -> str:
    """A validated address (EIP-55 checked when mixed-case), returned lowercase with ``0x``."""
    return "0x" + _coerce_address(value, path).hex()


def _coerce_bytes(v: Any, p: AbiParam, path: str) -> bytes:
    if isinstance(v, bytes | bytearray):
        b = bytes(v)
    elif isinstance(v, str):
        if not _HEX_RE.match(v) or len(v) % 2:
            raise AbiError(f"expected 0x-prefixed hex with an even number of digits for {p.canonical}", path)
        b = bytes.fromhex(v[2:])
    else:
        raise AbiError(f"expected 0x hex bytes for {p.canonical}, got {_kind(v)}", path)
    if p.bits and len(b) != p.bits:
        raise AbiError(f"expected exactly {p.bits} bytes for bytes{p.bits}, got {len(b)}", path)
    return b


def _coerce(v: Any, p: AbiParam, path: str) -> Any:
    if p.dims:
        n = p.dims[-1]
        if not isinstance(v, list | tuple):
            raise AbiError(f"expected an array for {p.canonical}, got {_kind(v)}", path)
        if n is not None and len(v) != n:
            raise AbiError(f"expected {n} elements for {p.canonical}, got {len(v)}", path)
        el = p.element()
        return [_coerce(x, el, f"{path}[{i}]") for i, x in enumerate(v)]
    if p.base in ("uint", "int"):
        return _coerce_int(v, p, path)
    if p.base == "address":
        return _coerce_address(v, path)
    if p.base == "bool":
        if not isinstance(v, bool):
            raise AbiError(f"expected a boolean, got {_kind(v)}", path)
        return v
    if p.base == "string":
        if not isinstance(v, str):
            raise AbiError(f"expected a string, got {_kind(v)}", path)
        return v
    if p.base == "bytes":
        return _coerce_bytes(v, p, path)
    # tuple
    if isinstance(v, Mapping):
        if not p.named_components:
            raise AbiError(
                "tuple has unnamed or duplicate component names: pass its value as a positional array", path
            )
        _check_keys([c.name for c in p.components], v, path)
        return tuple(_coerce(v[c.name], c, f"{path}.{c.name}") for c in p.components)
    if isinstance(v, list | tuple):
        if len(v) != len(p.components):
            raise AbiError(f"expected {len(p.components)} tuple elements, got {len(v)}", path)
        return tuple(
            _coerce(x, c, f"{path}.{c.name}" if c.name else f"{path}[{i}]")
            for i, (x, c) in enumerate(zip(v, p.components, strict=True))
        )
    raise AbiError(f"expected an object or array for {p.canonical}, got {_kind(v)}", path)


def _check_keys(names: Sequence[str], given: Mapping[str, Any], path: str) -> None:
    name_set = set(names)
    missing = [n for n in names if n not in given]
    extra = [str(k) for k in given if k not in name_set]
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing: " + ", ".join(missing))
        if extra:
            parts.append("extra: " + ", ".join(extra))
        raise AbiError(f"ABI args mismatch ({' ; '.join(parts)})", path)


# ---------------------------------------------------------------------------------------------
# Public encode / decode


def encode_values(params: Sequence[AbiParam], values: Sequence[Any], path: str = "args") -> bytes:
    """ABI-encode positional values for ``params`` (no selector)."""
    coerced = [
        _coerce(v, p, f"{path}.{p.name}" if p.name else f"{path}[{i}]")
        for i, (v, p) in enumerate(zip(values, params, strict=True))
    ]
    return bytes(_abi_encode([p.canonical for p in params], coerced))


def encode_args(fn: AbiFunction, args: Mapping[str, Any]) -> bytes:
    """Selector-less encoding of ``args`` keyed by input name (R198/R199)."""
    _check_input_names(fn)
    if not isinstance(args, Mapping):
        raise AbiError(f"args must be an object keyed by input name, got {_kind(args)}", "args")
    _check_keys([p.name for p in fn.inputs], args, "args")
    return encode_values(fn.inputs, [args[p.name] for p in fn.inputs])


def encode_call(abi: Mapping[str, Any], args: Mapping[str, Any]) -> bytes:
    """Calldata: selector followed by the encoded ``args`` (keyed by input name)."""
    fn = parse_function(abi)
    return fn.selector + encode_args(fn, args)


def _to_json_value(v: Any, p: AbiParam) -> Any:
    if p.dims:
        el = p.element()
        return [_to_json_value(x, el) for x in v]
    if p.base == "address":
        return str(v).lower()
    if p.base == "bytes":
        return "0x" + bytes(v).hex()
    if p.base == "tuple":
        items = [_to_json_value(x, c) for x, c in zip(v, p.components, strict=True)]
        if p.named_components:
            return {c.name: x for c, x in zip(p.components, items, strict=True)}
        return items
    return v  # int, bool, str


def decode_values(params: Sequence[AbiParam], data: bytes, what: str = "return data") -> list[Any]:
    """Decode ``data`` into JSON-style values (addresses lowercased, bytes as 0x hex), positionally."""
    try:
        raw = _abi_decode([p.canonical for p in params], bytes(data))
    except (DecodingError, ValueError, OverflowError) as e:
        raise AbiError(f"cannot decode {what} ({len(data)} bytes) as ({','.join(p.canonical for p in params)}): {e}")
    return [_to_json_value(v, p) for v, p in zip(raw, params, strict=True)]


def decode_outputs(abi: Mapping[str, Any], data: bytes) -> dict[str, Any]:
    """``{output_name: value}`` from ``eth_call`` return data (R107, R202, R203)."""
    fn = parse_function(abi)
    if not fn.outputs:
        return {}
    _check_output_names(fn)
    if len(data) == 0:
        raise AbiError(
            "empty return data (is the target a contract, and does it implement "
            f"{fn.signature}?)",
            "outputs",
        )
    values = decode_values(fn.outputs, data)
    return {p.name: v for p, v in zip(fn.outputs, values, strict=True)}


install_reprs(__name__)
