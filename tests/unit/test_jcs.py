"""JCS canonicalization (RFC 8785) and specHash (SPEC-MAP §8)."""

from __future__ import annotations

from typing import Any

import pytest

from aisc.jcs import JcsError, canonicalize, format_es_number, spec_hash
from aisc.keccak import keccak256_hex
from aisc.numeric import Dec


def test_spec_map_reference_hash() -> None:
    """R253/R254: JCS (sorted keys, array order kept) then keccak256 gives the reference specHash."""
    value = {"b": 1, "a": 2, "arr": [{"y": 2, "x": 1}, 3, "z"], "nested": {"k2": False, "k1": None}}
    assert canonicalize(value) == '{"a":2,"arr":[{"x":1,"y":2},3,"z"],"b":1,"nested":{"k1":null,"k2":false}}'
    assert spec_hash(value) == "0xee4e15c8af1c68683b8bf174b34f06c29a356dab7d1ac5094f5aeba48ed9a1fe"


def test_keccak_is_not_sha3() -> None:
    """R254: the hash is Keccak-256 (original padding), not SHA3-256."""
    assert keccak256_hex(b"transfer(address,uint256)")[:8] == "a9059cbb"
    assert keccak256_hex(b"") == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


NUMBERS = [
    (1.0, "1"), (1e21, "1e+21"), (1e20, "100000000000000000000"), (1e-7, "1e-7"), (0.000001, "0.000001"),
    (-0.0, "0"), (0.0, "0"), (123.456, "123.456"), (-1.5, "-1.5"), (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"), (1.2e-6, "0.0000012"), (12345678.9, "12345678.9"),
    (1.5e300, "1.5e+300"), (2.5e-10, "2.5e-10"), (0.1, "0.1"), (100.0, "100"), (4.35, "4.35"),
]


@pytest.mark.parametrize(("x", "want"), NUMBERS, ids=[w for _, w in NUMBERS])
def test_ecmascript_number_format(x: float, want: str) -> None:
    assert format_es_number(x) == want


VALUES: list[tuple[Any, str]] = [
    (None, "null"), (True, "true"), (False, "false"), (0, "0"), (-5, "-5"), (2**53, "9007199254740992"),
    (-(2**53), "-9007199254740992"), (10**21, "1e+21"), (Dec(15, 1), "1.5"), (Dec(1, 7), "1e-7"),
    (Dec(1, 1), "0.1"), ("", '""'), ("a\"b\\c", '"a\\"b\\\\c"'), ("\b\f\n\r\t", '"\\b\\f\\n\\r\\t"'),
    ("\x00\x1f", '"\\u0000\\u001f"'), ("\x7f", '"\x7f"'), ("é😀", '"é😀"'), ("\u2028", '"\u2028"'),
    ("\ud800", '"\\ud800"'), ([], "[]"), ({}, "{}"), ((1, 2), "[1,2]"), ([{"b": [], "a": {}}], '[{"a":{},"b":[]}]'),
    # UTF-16 order: U+E000 sorts after the surrogate pair of U+1F600 (code point order would differ)
    ({"\ue000": 1, "😀": 2, "a": 3, "A": 4}, '{"A":4,"a":3,"😀":2,"\ue000":1}'),
    ({"aa": 1, "a": 2, "b": 3}, '{"a":2,"aa":1,"b":3}'),
]


@pytest.mark.parametrize(("value", "want"), VALUES, ids=[w for _, w in VALUES])
def test_canonicalize(value: Any, want: str) -> None:
    """R253: RFC 8785 rules: keys sorted by UTF-16 units, array order kept, JSON string escaping."""
    assert canonicalize(value) == want


REJECT: list[tuple[Any, str]] = [
    (float("nan"), "NaN and Infinity"), (float("inf"), "NaN and Infinity"), (b"x", "bytes"),
    (bytearray(b"x"), "bytes"), ({1: 2}, "keys must be strings"), ({1, 2}, "set is not JSON-serializable"),
    (2**53 + 1, "not exactly representable"), (2**60, "not exactly representable"), (10**400, "too large"),
    (Dec(1000000000000000000001, 1), "does not round-trip"), (object(), "object is not JSON-serializable"),
]


@pytest.mark.parametrize(("value", "needle"), REJECT, ids=[n for _, n in REJECT])
def test_rejects(value: Any, needle: str) -> None:
    with pytest.raises(JcsError, match=needle):
        canonicalize(value)


def test_spec_hash_is_order_independent() -> None:
    assert spec_hash({"a": 1, "b": [1, {"y": 1, "x": 2}]}) == spec_hash({"b": [1, {"x": 2, "y": 1}], "a": 1})
    assert spec_hash({"a": 1}) != spec_hash({"a": 2})
