"""The ABI decoder: ``aisc.backends.evm.abi.decode_outputs`` with random ABIs and return data.

Input: a small program that builds an ABI function fragment (random output types: every
uint/int width, address, bool, string, bytes, bytes1..32, nested tuples, fixed and dynamic
arrays; sometimes an empty, duplicate or malformed name or type), then the return data, either
raw bytes or a sequence of 32-byte words where most words are small integers (so offsets and
lengths land inside the data and the decoder goes deep).

Oracle: only :class:`AbiError` may escape; decoded values are JSON-style (int, bool, str, lists,
maps; no bytes objects); and they round-trip: encoding them again with ``encode_values`` and
decoding that gives the same values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aisc.backends.evm.abi import AbiError, decode_outputs, decode_values, encode_values, parse_function
from fuzz.oracle import OracleViolation
from fuzz.reader import Reader

NAME = "abi"
ALLOWED: tuple[type[BaseException], ...] = (AbiError,)
MODULES = ("aisc.backends.evm.abi",)
INSTRUMENT = ("aisc", "eth_abi")
DICTIONARY = ()

_NAMES = ("a", "b", "c", "amount", "", "a", "to", "data")
_BAD_TYPES = ("uint7", "uint264", "int0", "bytes33", "bytes0", "tuple", "address[0]", "fixed128x18",
              "string5", "uint256[-1]", "Uint256", "", "function", "uint256[][", "bool[]x")


def _param(r: Reader, depth: int) -> dict[str, Any]:
    k = r.byte() % 16
    name = _NAMES[r.byte() % len(_NAMES)]
    p: dict[str, Any] = {"name": name}
    if k in (0, 1):
        p["type"] = f"uint{8 * (1 + r.byte() % 32)}"
    elif k == 2:
        p["type"] = f"int{8 * (1 + r.byte() % 32)}"
    elif k in (3, 4):
        p["type"] = "address"
    elif k == 5:
        p["type"] = "bool"
    elif k in (6, 7):
        p["type"] = "string"
    elif k in (8, 9):
        p["type"] = "bytes"
    elif k == 10:
        p["type"] = f"bytes{1 + r.byte() % 32}"
    elif k in (11, 12, 13) and depth < 3:
        p["type"] = "tuple"
        p["components"] = [_param(r, depth + 1) for _ in range(1 + r.byte() % 3)]
    elif k == 14:
        p["type"] = _BAD_TYPES[r.byte() % len(_BAD_TYPES)]
    else:
        p["type"] = "uint256"
    dims = r.byte() % 8
    if dims >= 5 and depth < 3:
        for _ in range(dims - 4):
            n = r.byte() % 4
            p["type"] += "[]" if n == 0 else f"[{n}]"
    return p


def _data(r: Reader) -> bytes:
    mode = r.byte() % 3
    if mode == 0:
        return r.rest()
    out = bytearray()
    while not r.exhausted and len(out) < 4096:
        b = r.byte()
        if b < 200:
            out += (b % 128).to_bytes(32, "big") if b % 4 else (32 * (b % 16)).to_bytes(32, "big")
        elif b < 250:
            out += r.take(32)
        else:
            out += r.take(1 + r.byte() % 31)  # misaligned tail
    return bytes(out)


def build(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The ABI fragment and the return data an input encodes (used by regression tests too)."""
    r = Reader(data)
    outputs = [_param(r, 0) for _ in range(1 + r.byte() % 4)]
    abi = {"type": "function", "name": "f", "inputs": [], "outputs": outputs}
    return abi, _data(r)


def seeds() -> Iterator[bytes]:
    yield bytes([0, 0, 0, 0, 1, 5, 7])
    yield bytes([2, 11, 3, 2, 0, 0, 3, 1, 6, 2, 0, 1]) + bytes([32, 2, 1, 66, 3, 4]) * 4
    yield bytes([1, 6, 0, 5, 8, 1, 6, 1]) + bytes(range(1, 200, 3))
    yield bytes([0, 9, 1, 6, 1]) + bytes([128, 3, 255, 4])
    yield bytes([3, 0, 0, 0, 3, 1, 0, 5, 2, 0, 11, 4, 1, 3, 0, 0, 8, 1, 0, 0, 1]) + bytes([4, 32, 64, 2, 1, 1]) * 3


def _json_style(v: Any, path: str) -> None:
    t = type(v)
    if t in (int, bool, str):
        return
    if t is list:
        for i, x in enumerate(v):
            _json_style(x, f"{path}[{i}]")
        return
    if t is dict:
        for k, x in v.items():
            _json_style(x, f"{path}.{k}")
        return
    raise OracleViolation(f"{path}: decoded value of type {t.__name__}: {v!r:.120}")


def test_one(data: bytes) -> None:
    abi, ret = build(data)
    try:
        out = decode_outputs(abi, ret)
    except AbiError:
        return
    fn = parse_function(abi)
    if list(out) != [p.name for p in fn.outputs]:
        raise OracleViolation(f"output keys {list(out)} do not follow the ABI outputs")
    _json_style(out, "outputs")
    values = [out[p.name] for p in fn.outputs]
    try:
        again = decode_values(fn.outputs, encode_values(fn.outputs, values, "outputs"))
    except AbiError as e:
        raise OracleViolation(f"decoded values do not encode again ({e}); abi={abi} data=0x{ret.hex()}") from None
    if again != values:
        raise OracleViolation(f"round trip changed the values: {values!r:.300} -> {again!r:.300}")
