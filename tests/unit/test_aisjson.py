"""The ais-json/1 codec (R260–R264; SPEC-MAP §7.8)."""

from __future__ import annotations

from typing import Any

import pytest

from aisc.aisjson import AisJsonError, RemoteError, dumps, loads
from aisc.numeric import Dec

BIG = 2**200


def test_r260_bigint_tagging_policy() -> None:
    assert dumps(2**53 - 1) == "9007199254740991"
    assert dumps(2**53) == '{"__ais_json_type":"bigint","value":"9007199254740992"}'
    assert dumps(-(2**53)) == '{"__ais_json_type":"bigint","value":"-9007199254740992"}'
    assert dumps(5, tag_ints="all") == '{"__ais_json_type":"bigint","value":"5"}'
    assert dumps(BIG, tag_ints="none") == str(BIG)
    assert dumps(True, tag_ints="all") == "true"


@pytest.mark.parametrize("policy", ["all", "unsafe", "none"])
def test_r260_round_trip_is_lossless_for_python(policy: str) -> None:
    value = {"a": [0, 1, -7, 2**53, BIG, -BIG], "b": {"c": 2**255}}
    assert loads(dumps(value, tag_ints=policy)) == value  # type: ignore[arg-type]


def test_r261_bytes_base64() -> None:
    s = dumps({"d": b"\x00\xff\x10"})
    assert s == '{"d":{"__ais_json_type":"uint8array","encoding":"base64","value":"AP8Q"}}'
    assert loads(s) == {"d": b"\x00\xff\x10"}
    assert loads(dumps(bytearray(b""))) == b""


def test_r262_error_stack_only_on_request() -> None:
    err = ValueError("boom")
    assert dumps(err) == '{"__ais_json_type":"error","name":"ValueError","message":"boom"}'
    try:
        raise err
    except ValueError as e:
        with_stack = loads(dumps(e, include_error_stack=True))
    assert isinstance(with_stack, RemoteError)
    assert (with_stack.name, with_stack.message) == ("ValueError", "boom")
    assert with_stack.stack is not None and "ValueError: boom" in with_stack.stack
    revived = loads(dumps(err))
    assert isinstance(revived, RemoteError) and revived.stack is None
    assert dumps(revived) == dumps(err)


def test_r263_non_finite_numbers() -> None:
    assert dumps([float("nan"), float("inf")]) == "[null,null]"
    with pytest.raises(AisJsonError, match="non-finite"):
        dumps(float("inf"), reject_non_finite_number=True)


def test_dec_and_pretty() -> None:
    assert dumps({"x": Dec(15, 1)}) == '{"x":"1.5"}'
    assert dumps({"a": [1]}, pretty=True) == '{\n  "a": [\n    1\n  ]\n}'
    assert dumps({"é": "😀"}) == '{"é":"😀"}'


def test_loads_numbers_are_exact_never_float() -> None:
    v = loads('[1.5, 1.0, 1e2, 1E-7, -0.25, 0.1, 12345678901234567890.123456789]')
    assert v == [Dec(15, 1), 1, 100, Dec(1, 7), Dec(-25, 2), Dec(1, 1), Dec(12345678901234567890123456789, 9)]
    assert not any(isinstance(x, float) for x in v)


BAD: list[tuple[str, str]] = [
    ('{"a": 1, "a": 2}', "duplicate key 'a'"),
    ("NaN", "NaN is not valid JSON"),
    ("[Infinity]", "Infinity is not valid JSON"),
    ("1e99999", "exponent out of range"),
    ('{"__ais_json_type":"bigint","value":"1.5"}', "bigint tag needs a decimal integer string"),
    ('{"__ais_json_type":"bigint","value":7}', "bigint tag needs a decimal integer string"),
    ('{"__ais_json_type":"uint8array","encoding":"base64","value":"!!"}', "base64"),
    ("{", "invalid JSON"),
]


@pytest.mark.parametrize(("text", "needle"), BAD, ids=[n for _, n in BAD])
def test_loads_rejects(text: str, needle: str) -> None:
    with pytest.raises(AisJsonError, match=needle):
        loads(text)


PLAIN: list[str] = [
    '{"__ais_json_type":"bigint","value":"5","extra":1}',
    '{"__ais_json_type":"bigint"}',
    '{"__ais_json_type":"uint8array","encoding":"hex","value":"00"}',
    '{"__ais_json_type":"error","name":"E"}',
    '{"__ais_json_type":"error","name":"E","message":"m","stack":1}',
    '{"__ais_json_type":"other","value":"1"}',
]


@pytest.mark.parametrize("text", PLAIN)
def test_tags_revive_only_with_exact_key_sets(text: str) -> None:
    v = loads(text)
    assert isinstance(v, dict) and "__ais_json_type" in v


ENC_BAD: list[tuple[Any, str]] = [({1: 2}, "keys must be strings"), ({1, 2}, "set is not serializable"),
                                  (object(), "object is not serializable")]


@pytest.mark.parametrize(("value", "needle"), ENC_BAD, ids=[n for _, n in ENC_BAD])
def test_dumps_rejects(value: Any, needle: str) -> None:
    with pytest.raises(AisJsonError, match=needle):
        dumps(value)
