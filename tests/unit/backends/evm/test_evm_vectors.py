"""conformance/aisc/evm-abi.json: every vector passes, and every expected value is cross-checked
with an independent encoder (eth_abi.encode + keccak written here) and by decoding it back."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from Crypto.Hash import keccak
from eth_abi.abi import decode, encode

from aisc.conformance.kinds_evm import KINDS

REPO = Path(__file__).resolve().parents[4]
VECTORS = REPO / "conformance" / "aisc" / "evm-abi.json"
UPSTREAM_CORE = REPO / "conformance" / "upstream" / "vectors" / "core.json"
SCHEMA = REPO / "aisc" / "data" / "schemas" / "conformance.schema.json"

DOC = json.loads(VECTORS.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = DOC["cases"]


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [c for c in CASES if c["kind"] == kind]


# -- an independent reference: canonical types, selector and value conversion written from the ABI spec


def _canon(p: dict[str, Any]) -> str:
    t = p["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_canon(c) for c in p["components"]) + ")" + t[len("tuple") :]
    return {"uint": "uint256", "int": "int256"}.get(t, t)


def _selector(abi: dict[str, Any]) -> bytes:
    sig = f"{abi['name']}({','.join(_canon(p) for p in abi['inputs'])})"
    h = keccak.new(digest_bits=256)
    h.update(sig.encode())
    return h.digest()[:4]


def _py(v: Any, p: dict[str, Any]) -> Any:
    """Vector JSON value → the value eth_abi expects (and returns on decode, modulo address case)."""
    t = p["type"]
    if t.endswith("]"):
        inner = {**p, "type": t[: t.rindex("[")]}
        return tuple(_py(x, inner) for x in v)
    if t == "tuple":
        comps = p["components"]
        if isinstance(v, dict):
            return tuple(_py(v[c["name"]], c) for c in comps)
        return tuple(_py(x, c) for x, c in zip(v, comps, strict=True))
    if t.startswith(("uint", "int")):
        return int(v, 16) if v.lower().startswith("0x") else int(v)
    if t == "address":
        return v.lower()
    if t.startswith("bytes"):
        return bytes.fromhex(v[2:])
    return v


def _norm(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return tuple(_norm(x) for x in v)
    if isinstance(v, str) and v.startswith("0x") and len(v) == 42:
        return v.lower()
    return v


def test_vector_file_shape() -> None:
    assert DOC["schema"] == "ais-conformance/0.0.2"
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    counts = Counter(c["kind"] for c in CASES)
    assert len(CASES) >= 100
    assert counts["evm_json_abi_encode"] >= 50 and counts["evm_json_abi_encode_error"] >= 30
    assert counts["evm_json_abi_decode"] >= 15
    for c in CASES:
        assert set(c) == {"id", "kind", "input", "expect"}


def test_encode_vectors_match_upstream_schema() -> None:
    """The encode cases use the upstream kind, so they must validate against its schema."""
    if not SCHEMA.exists():
        pytest.fail(f"upstream schema missing: {SCHEMA}")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate({"schema": DOC["schema"], "cases": by_kind("evm_json_abi_encode")}, schema)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vector_passes(case: dict[str, Any]) -> None:
    outcome = KINDS[case["kind"]](case["input"], case["expect"])
    assert outcome.passed, (outcome.message, outcome.expected, outcome.actual)


@pytest.mark.parametrize("case", by_kind("evm_json_abi_encode"), ids=[c["id"] for c in by_kind("evm_json_abi_encode")])
def test_encode_vector_cross_checked_independently(case: dict[str, Any]) -> None:
    abi, args = case["input"]["abi"], case["input"]["args"]
    data = bytes.fromhex(case["expect"]["data"][2:])
    types = [_canon(p) for p in abi["inputs"]]
    values = [_py(args[p["name"]], p) for p in abi["inputs"]]
    assert data[:4] == _selector(abi)
    assert data[4:] == encode(types, values)
    assert _norm(decode(types, data[4:])) == _norm(tuple(values))


@pytest.mark.parametrize("case", by_kind("evm_json_abi_decode"), ids=[c["id"] for c in by_kind("evm_json_abi_decode")])
def test_decode_vector_cross_checked_independently(case: dict[str, Any]) -> None:
    abi, outputs = case["input"]["abi"], case["expect"]["outputs"]
    data = bytes.fromhex(case["input"]["data"][2:])
    types = [_canon(p) for p in abi["outputs"]]
    values = [_py(outputs[p["name"]], p) for p in abi["outputs"]]
    assert data == encode(types, values)
    assert _norm(decode(types, data)) == _norm(tuple(values))


def test_upstream_erc20_vector() -> None:
    """The upstream evm_json_abi_encode case (vectors/core.json) passes."""
    if not UPSTREAM_CORE.exists():
        pytest.fail(f"upstream vectors missing: {UPSTREAM_CORE}")
    cases = [c for c in json.loads(UPSTREAM_CORE.read_text())["cases"] if c["kind"] == "evm_json_abi_encode"]
    assert len(cases) == 1
    for c in cases:
        assert KINDS[c["kind"]](c["input"], c["expect"]).passed


@pytest.mark.parametrize(
    ("kind", "case_input", "expect"),
    [
        ("evm_json_abi_encode", {"abi": {"type": "function", "name": "f", "inputs": [{"name": "a", "type": "uint8"}]},
                                 "args": {"a": "1"}}, {"data": "0xdeadbeef"}),
        ("evm_json_abi_encode", {"abi": {"type": "function", "name": "f", "inputs": [{"name": "a", "type": "uint8"}]},
                                 "args": {"a": "300"}}, {"data": "0x"}),
        ("evm_json_abi_decode", {"abi": {"type": "function", "name": "f", "inputs": [],
                                         "outputs": [{"name": "x", "type": "uint8"}]}, "data": "0x" + "00" * 31 + "05"},
         {"outputs": {"x": "6"}}),
        ("evm_json_abi_encode_error", {"abi": {"type": "function", "name": "f", "inputs": [{"name": "a", "type": "uint8"}]},
                                       "args": {"a": "1"}}, {"message_includes": "x"}),
        ("evm_json_abi_encode_error", {"abi": {"type": "function", "name": "f", "inputs": [{"name": "a", "type": "uint8"}]},
                                       "args": {"a": "256"}}, {"message_includes": "wrong text"}),
    ],
)
def test_kind_handlers_report_failures(kind: str, case_input: dict[str, Any], expect: dict[str, Any]) -> None:
    """The handlers can fail: a wrong expectation gives passed=False, never an exception."""
    assert KINDS[kind](case_input, expect).passed is False
