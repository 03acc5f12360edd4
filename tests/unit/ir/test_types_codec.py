"""AIS type strings (R110, D4) and the plain-JSON entry points of the strict codec."""

from __future__ import annotations

import pytest

from aisc.ir.codec import structure_execution_spec, structure_plain
from aisc.ir.execution import EvmRead, PluginExecution, SolanaRead
from aisc.ir.patch import RuntimePatch
from aisc.ir.types import (
    ArrayType,
    FixedBytes,
    IntType,
    Simple,
    TupleType,
    TypeParseError,
    format_type,
    parse_type,
    schema_accepts_type,
)

GOOD = [
    ("address", Simple("address")), ("token_amount", Simple("token_amount")), ("uint8", IntType(8, False)),
    ("int256", IntType(256, True)), ("bytes1", FixedBytes(1)), ("bytes32", FixedBytes(32)),
    ("array<uint256>", ArrayType(IntType(256, False))),
    ("tuple<address,array<bytes4>>", TupleType((Simple("address"), ArrayType(FixedBytes(4))))),
]
BAD = ["uint7", "uint0", "uint264", "int1000", "bytes0", "bytes33", "array<>", "array<uint8,bool>", "tuple<uint8",
       "uint", "Address", " bool", "map<string>"]


@pytest.mark.parametrize(("text", "ast"), GOOD, ids=[g[0] for g in GOOD])
def test_r110_parse_type(text: str, ast: object) -> None:
    assert parse_type(text) == ast
    assert format_type(parse_type(text)) == text


@pytest.mark.parametrize("text", BAD)
def test_r110_rejects(text: str) -> None:
    with pytest.raises(TypeParseError):
        parse_type(text)


def test_d4_schema_pattern_is_looser() -> None:
    """D4: the JSON schema accepts uint7/bytes33; the R110 refinement does not."""
    assert schema_accepts_type("uint7") and schema_accepts_type("bytes33")
    assert not schema_accepts_type("uint")


def test_r290_runtime_patch_plain() -> None:
    p, diags = structure_plain("runtime_patch", {"op": "merge", "path": "contracts", "value": {"a": "b"}})
    assert diags == [] and p == RuntimePatch(op="merge", path="contracts", value={"a": "b"}, has_value=True)
    _, diags = structure_plain("runtime_patch", {"op": "delete", "path": "", "extra": 1})
    assert sorted(d.code for d in diags) == ["AISC-SCHEMA-001", "AISC-SCHEMA-005", "AISC-SCHEMA-006"]
    assert {d.path for d in diags} == {"$.op", "$.path", "$.extra"}
    assert all(d.span is None for d in diags)


def test_d3_dispatch_on_type() -> None:
    """D3: core names get their strict class; other names are plugins; core never falls back."""
    spec, diags = structure_execution_spec({"type": "solana_read", "method": "getBalance"})
    assert diags == [] and isinstance(spec, SolanaRead)
    spec, diags = structure_execution_spec({"type": "evm_rpc", "method": "eth_getBalance", "x": [1]})
    assert diags == [] and isinstance(spec, PluginExecution) and spec.fields == {"method": "eth_getBalance", "x": [1]}
    spec, diags = structure_execution_spec({"type": "evm_read", "to": {"lit": "0x"}, "args": {}, "method": "x",
                                            "abi": {"type": "function", "name": "f", "inputs": []}})
    assert spec is None and [(d.code, d.path) for d in diags] == [("AISC-SCHEMA-001", "$.method")]
    raw = {"type": "evm_read", "to": {"lit": "0x"}, "args": {}, "abi": {"type": "function", "name": "f", "inputs": []}}
    spec, _ = structure_execution_spec(raw)
    assert isinstance(spec, EvmRead) and spec.raw == raw and spec.type == "evm_read"


@pytest.mark.parametrize(("value", "code"), [(True, "AISC-SCHEMA-003"), ("5", "AISC-SCHEMA-003"),
                                             (0, "AISC-SCHEMA-006")])
def test_no_coercion_of_integers(value: object, code: str) -> None:
    """bool is never an int; strings are not numbers."""
    _, diags = structure_plain("workflow", {"schema": "ais-flow/0.0.3", "meta": {"name": "w", "version": "0.0.3"},
                                            "nodes": [{"id": "a", "type": "query_ref", "protocol": "p@1.0.0",
                                                       "timeout_ms": value}]})
    assert [(d.code, d.path) for d in diags] == [(code, "$.nodes[0].timeout_ms")]
