"""aisc.backends.evm.abi: signatures, coercion rules, positioned errors, output decoding."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode
from hypothesis import given, settings
from hypothesis import strategies as st

from aisc.backends.evm.abi import (
    AbiError,
    checksum_address,
    coerce_int,
    decode_outputs,
    encode_call,
    function_selector,
    function_signature,
)
from aisc.numeric import Dec

TRANSFER = {
    "type": "function",
    "name": "transfer",
    "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
    "outputs": [{"name": "ok", "type": "bool"}],
}
PAIR = [{"name": "token", "type": "address"}, {"name": "amount", "type": "uint256"}]


def fn(inputs: list[dict[str, Any]], outputs: list[dict[str, Any]] | None = None, name: str = "f") -> dict[str, Any]:
    return {"type": "function", "name": name, "inputs": inputs, "outputs": outputs or []}


@pytest.mark.parametrize(
    ("abi", "signature", "selector"),
    [
        (TRANSFER, "transfer(address,uint256)", "a9059cbb"),
        (fn([], name="totalSupply"), "totalSupply()", "18160ddd"),
        (fn([{"name": "ps", "type": "tuple[]", "components": PAIR}, {"name": "d", "type": "bytes32"}]),
         "f((address,uint256)[],bytes32)", None),
        (fn([{"name": "o", "type": "tuple", "components": [{"name": "i", "type": "tuple[2]", "components": PAIR}]}]),
         "f(((address,uint256)[2]))", None),
        (fn([{"name": "v", "type": "uint"}, {"name": "w", "type": "int"}]), "f(uint256,int256)", None),
        ({"type": "function", "name": "multicall",
          "inputs": [{"name": "deadline", "type": "uint256"}, {"name": "data", "type": "bytes[]"}]},
         "multicall(uint256,bytes[])", "5ae401dc"),
    ],
)
def test_r196_canonical_signature_and_selector(abi: dict[str, Any], signature: str, selector: str | None) -> None:
    """R196: tuples are written canonically in the signature; selector = keccak256(sig)[:4]."""
    assert function_signature(abi) == signature
    if selector is not None:
        assert function_selector(abi).hex() == selector


def test_r200_integer_sources_encode_identically() -> None:
    """R200/R116: int, decimal IntegerString and 0x hex string give the same calldata (strings become ints)."""
    to = "0x000000000000000000000000000000000000dEaD"
    expected = bytes.fromhex("a9059cbb") + encode(["address", "uint256"], [to.lower(), 255])
    for amount in (255, "255", "0xff", "0xFF", "00255"):
        assert encode_call(TRANSFER, {"to": to, "amount": amount}) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"to": "0x000000000000000000000000000000000000dEaD"}, "args: ABI args mismatch (missing: amount)"),
        ({"to": "0x000000000000000000000000000000000000dEaD", "amount": 1, "x": 2}, "ABI args mismatch (extra: x)"),
        ({"a": 1, "b": 2}, "ABI args mismatch (missing: to, amount ; extra: a, b)"),
        ({}, "ABI args mismatch (missing: to, amount)"),
    ],
    ids=["r199-missing", "r199-extra", "r199-both", "r199-empty"],
)
def test_r198_r199_args_keyed_by_input_name(args: dict[str, Any], message: str) -> None:
    """R198/R199: args keyed by input name; missing and extra keys rejected."""
    with pytest.raises(AbiError) as ei:
        encode_call(TRANSFER, args)
    assert message in str(ei.value)
    assert ei.value.path == "args"


@pytest.mark.parametrize(
    ("abi_type", "value", "path_msg"),
    [
        ("uint256", 2**256, "args.v: value 115792089237316195423570985008687907853269984665640564039457584007913129639936 does not fit uint256"),
        ("uint8", 256, "args.v: value 256 does not fit uint8"),
        ("uint64", -1, "args.v: value -1 does not fit uint64"),
        ("int8", -129, "args.v: value -129 does not fit int8"),
        ("int256", 2**255, "does not fit int256"),
        ("uint256", True, "args.v: expected an integer for uint256, got a boolean"),
        ("uint256", 1.0, "got a float"),
        ("uint256", Dec(15, 1), "got a decimal"),
        ("uint256", "1.5", "expected an integer string"),
        ("uint256", "0x", "expected an integer string"),
        ("uint256", None, "got null"),
    ],
)
def test_r131_fixed_width_and_strict_integers(abi_type: str, value: Any, path_msg: str) -> None:
    """R131: encoded integers must fit the fixed width; R060: bools, floats and decimals are refused."""
    with pytest.raises(AbiError) as ei:
        encode_call(fn([{"name": "v", "type": abi_type}]), {"v": value})
    assert path_msg in str(ei.value)
    assert ei.value.path == "args.v"


def test_r131_error_path_inside_tuple() -> None:
    abi = fn([{"name": "order", "type": "tuple", "components": PAIR}])
    with pytest.raises(AbiError) as ei:
        encode_call(abi, {"order": {"token": "0x" + "11" * 20, "amount": 2**256}})
    assert ei.value.path == "args.order.amount"
    assert str(ei.value).startswith("args.order.amount: value ")


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", True),
        ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", True),
        ("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", True),
        ("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", False),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", False),
    ],
)
def test_eip55_checksum(address: str, ok: bool) -> None:
    abi = fn([{"name": "a", "type": "address"}])
    if ok:
        assert encode_call(abi, {"a": address})[-20:].hex() == address[2:].lower()
    else:
        with pytest.raises(AbiError, match="bad address checksum"):
            encode_call(abi, {"a": address})


def test_checksum_address_reference_values() -> None:
    """EIP-55's published examples."""
    for a in ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
              "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"):
        assert checksum_address(a.lower()) == a


def test_tuple_from_dict_and_list_encode_identically() -> None:
    abi = fn([{"name": "p", "type": "tuple", "components": PAIR}])
    a = "0x" + "22" * 20
    assert encode_call(abi, {"p": {"token": a, "amount": "7"}}) == encode_call(abi, {"p": [a, 7]})


@pytest.mark.parametrize(
    ("abi", "message", "path"),
    [
        (fn([{"name": "", "type": "uint8"}]), "JSON ABI inputs must have non-empty names for AIS args mapping", "abi.inputs[0]"),
        (fn([{"name": "a", "type": "uint8"}, {"name": "a", "type": "bool"}]), "Duplicate JSON ABI input name: a", "abi.inputs[1]"),
        (fn([{"name": "t", "type": "tuple"}]), "tuple type missing components", "abi.inputs[0]"),
        (fn([{"name": "t", "type": "tuple[]", "components": [{"name": "x", "type": "tuple"}]}]),
         "tuple type missing components", "abi.inputs[0].components[0]"),
        (fn([{"name": "x", "type": "uint7"}]), "unsupported ABI type 'uint7'", "abi.inputs[0]"),
        (fn([{"name": "x", "type": "function"}]), "unsupported ABI type 'function'", "abi.inputs[0]"),
        (fn([{"name": "x", "type": "address", "components": PAIR}]), "components are only allowed on tuple types", "abi.inputs[0]"),
        ({"type": "event", "name": "E", "inputs": []}, "JSON ABI type must be 'function'", "abi.type"),
        ({"type": "function", "name": "", "inputs": []}, "function name must be a non-empty string", "abi.name"),
    ],
)
def test_bad_abi_fragments(abi: dict[str, Any], message: str, path: str) -> None:
    with pytest.raises(AbiError) as ei:
        encode_call(abi, {})
    assert message in str(ei.value) and ei.value.path == path


def test_coerce_int_helper() -> None:
    assert coerce_int("0x10", "uint256", "value") == 16
    with pytest.raises(AbiError) as ei:
        coerce_int("-1", "uint256", "value")
    assert ei.value.path == "value"


# -- decoding


def test_r202_decode_named_outputs() -> None:
    """R202/R099: return data decoded with abi.outputs into an object keyed by name; addresses lowercased."""
    abi = fn([], [{"name": "owner", "type": "address"}, {"name": "n", "type": "int16"}, {"name": "b", "type": "bytes"}])
    data = encode(["address", "int16", "bytes"], ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", -3, b"\x01"])
    assert decode_outputs(abi, data) == {"owner": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "n": -3, "b": "0x01"}


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        (PAIR, {"token": "0x" + "ab" * 20, "amount": 9}),
        ([{"name": "", "type": "address"}, {"name": "", "type": "uint256"}], ["0x" + "ab" * 20, 9]),
        ([{"name": "x", "type": "address"}, {"name": "x", "type": "uint256"}], ["0x" + "ab" * 20, 9]),
        ([{"name": "x", "type": "address"}, {"name": "", "type": "uint256"}], ["0x" + "ab" * 20, 9]),
    ],
    ids=["named", "unnamed", "duplicate", "partly-named"],
)
def test_r107_tuple_output_object_or_array(components: list[dict[str, Any]], expected: Any) -> None:
    """R107: a tuple decodes to an object when all component names are present and unique, else an array."""
    abi = fn([], [{"name": "p", "type": "tuple", "components": components}])
    data = encode(["(address,uint256)"], [("0x" + "ab" * 20, 9)])
    assert decode_outputs(abi, data) == {"p": expected}


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ([{"name": "", "type": "uint256"}], "JSON ABI outputs must have non-empty names"),
        ([{"name": "a", "type": "uint256"}, {"name": "a", "type": "uint256"}], "Duplicate JSON ABI output name: a"),
    ],
)
def test_r203_output_names_non_empty_and_unique(outputs: list[dict[str, Any]], message: str) -> None:
    """R203: abi.outputs names must be non-empty and unique."""
    with pytest.raises(AbiError, match=message):
        decode_outputs(fn([], outputs), encode(["uint256"] * len(outputs), [1] * len(outputs)))


def test_decode_empty_outputs_and_bad_data() -> None:
    assert decode_outputs(fn([], []), b"") == {}
    with pytest.raises(AbiError, match="empty return data"):
        decode_outputs(fn([], [{"name": "x", "type": "uint256"}]), b"")
    with pytest.raises(AbiError, match="cannot decode"):
        decode_outputs(fn([], [{"name": "x", "type": "uint256"}]), b"\x00" * 5)
    with pytest.raises(AbiError, match="cannot decode"):  # arrays keep length checks
        decode_outputs(fn([], [{"name": "x", "type": "uint256[]"}]), encode(["uint256"], [32]) + encode(["uint256"], [5]))


ints = st.integers(min_value=0, max_value=2**256 - 1)


@settings(max_examples=60, deadline=None)
@given(
    amount=ints,
    small=st.integers(min_value=-(2**23), max_value=2**23 - 1),
    blob=st.binary(max_size=70),
    words=st.lists(st.text(max_size=10), max_size=4),
)
def test_roundtrip_against_eth_abi(amount: int, small: int, blob: bytes, words: list[str]) -> None:
    """Encoding matches eth_abi on the canonical types; decoding gives the values back."""
    comps = [{"name": "amount", "type": "uint256"}, {"name": "tick", "type": "int24"}, {"name": "blob", "type": "bytes"}]
    abi = fn([{"name": "p", "type": "tuple", "components": comps}, {"name": "words", "type": "string[]"}],
             [{"name": "p", "type": "tuple", "components": comps}, {"name": "words", "type": "string[]"}])
    data = encode_call(abi, {"p": {"amount": str(amount), "tick": small, "blob": "0x" + blob.hex()}, "words": words})
    assert data[4:] == encode(["(uint256,int24,bytes)", "string[]"], [(amount, small, blob), words])
    assert decode_outputs(abi, data[4:]) == {"p": {"amount": amount, "tick": small, "blob": "0x" + blob.hex()}, "words": words}
