"""Typed validation of inputs and params (R110–R114, R117, R122, R123): tables of good and bad values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from aisc.ir.values import (
    CODES,
    apply_defaults,
    input_declarations,
    plan_input_declarations,
    validate_inputs,
    validate_params,
    validate_value,
)
from aisc.numeric import Dec

EVM = "0x52908400098527886E0F7030069857D2E4169EE7"  # EIP-55 test vector
EVM_LOWER = EVM.lower()
EVM_UPPER = "0x" + EVM[2:].upper()
EVM_BAD_SUM = "0x52908400098527886e0F7030069857D2E4169EE7"  # one letter's case flipped
SOL = "BPFLoaderUpgradeab1e11111111111111111111111"
SOL_SYSTEM = "11111111111111111111111111111111"
ASSET = {"chain_id": "eip155:1", "address": EVM, "symbol": "USDC", "decimals": 6}
SOL_ASSET = {"chain_id": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "address": SOL, "decimals": 9}

# (id, type, value, chain family, extra kwargs)
GOOD: list[tuple[str, str, Any, str | None, dict[str, Any]]] = [
    ("r110_address_evm_checksum", "address", EVM, "evm", {}),
    ("r110_address_evm_lower", "address", EVM_LOWER, "evm", {}),
    ("r110_address_evm_upper", "address", EVM_UPPER, "evm", {}),
    ("r110_address_solana", "address", SOL, "solana", {}),
    ("r110_address_solana_system", "address", SOL_SYSTEM, "solana", {}),
    ("r110_address_any_family_evm", "address", EVM, None, {}),
    ("r110_address_any_family_solana", "address", SOL, None, {}),
    ("r110_bool", "bool", False, None, {}),
    ("r110_string_empty", "string", "", None, {}),
    ("r110_bytes_empty", "bytes", "0x", None, {}),
    ("r110_bytes_mixed_case", "bytes", "0xAbCd", None, {}),
    ("r110_bytes4", "bytes4", "0xa9059cbb", None, {}),
    ("r110_uint8_max_string", "uint8", "255", None, {}),
    ("r110_uint8_int", "uint8", 0, None, {}),
    ("r110_int8_min", "int8", "-128", None, {}),
    ("r117_uint256_max_int", "uint256", 2**256 - 1, None, {}),
    ("r113_token_amount", "token_amount", "1.5", None, {}),
    ("r122_token_amount_within_decimals", "token_amount", "1.000001", None, {"asset_decimals": 6}),
    ("r122_token_amount_trailing_zeros", "token_amount", "1.50", None, {"asset_decimals": 1}),
    ("r110_float_as_decimal_string", "float", "-0.25", None, {}),
    ("r112_asset_full", "asset", ASSET, None, {}),
    ("r112_asset_minimal", "asset", {"chain_id": "eip155:8453", "address": EVM_LOWER}, None, {}),
    ("r112_asset_solana", "asset", SOL_ASSET, "evm", {}),  # the asset's own chain decides
    ("r110_array", "array<uint8>", ["1", 2], None, {}),
    ("r110_array_empty", "array<address>", [], "evm", {}),
    ("r110_tuple", "tuple<uint8,bool,string>", ["1", True, "x"], None, {}),
    ("r110_nested", "array<tuple<address,uint256>>", [[EVM, "5"]], "evm", {}),
    ("min_max_ok", "uint256", "10", None, {"constraints": {"min": 10, "max": "10"}}),
    ("enum_number_forms", "uint8", "3", None, {"constraints": {"enum": [1, "3"]}}),
    ("enum_address_case", "address", EVM_LOWER, "evm", {"constraints": {"enum": [EVM]}}),
    ("pattern_unanchored", "string", "abc-1", None, {"constraints": {"pattern": "[0-9]"}}),
    ("decimal_min", "token_amount", "0.5", None, {"constraints": {"min": Dec(5, 1)}}),
]


@pytest.mark.parametrize(("typ", "value", "family", "kw"), [g[1:] for g in GOOD], ids=[g[0] for g in GOOD])
def test_good_values(typ: str, value: Any, family: Any, kw: dict[str, Any]) -> None:
    assert validate_value(typ, value, chain_family=family, path="$.x", **kw) == []


# (id, type, value, chain family, extra kwargs, expected code, expected problem path)
BAD: list[tuple[str, str, Any, str | None, dict[str, Any], str, str]] = [
    # address (R110)
    ("r110_address_evm_short", "address", "0x1234", "evm", {}, "AISC-INPUT-007", "$.x"),
    ("r110_address_evm_bad_checksum", "address", EVM_BAD_SUM, "evm", {}, "AISC-INPUT-008", "$.x"),
    ("r110_address_evm_given_solana", "address", SOL, "evm", {}, "AISC-INPUT-007", "$.x"),
    ("r110_address_solana_given_evm", "address", EVM, "solana", {}, "AISC-INPUT-007", "$.x"),
    ("r110_address_solana_bad_char", "address", "0OIl" + SOL[4:], "solana", {}, "AISC-INPUT-007", "$.x"),
    ("r110_address_solana_too_short", "address", "abc", "solana", {}, "AISC-INPUT-007", "$.x"),
    ("r110_address_not_string", "address", 5, "evm", {}, "AISC-INPUT-003", "$.x"),
    ("r110_address_any_family_junk", "address", "hello", None, {}, "AISC-INPUT-007", "$.x"),
    ("r110_address_any_family_bad_checksum", "address", EVM_BAD_SUM, None, {}, "AISC-INPUT-008", "$.x"),
    # bool, string
    ("r110_bool_string", "bool", "true", None, {}, "AISC-INPUT-004", "$.x"),
    ("r110_bool_int", "bool", 1, None, {}, "AISC-INPUT-004", "$.x"),
    ("r110_bool_null", "bool", None, None, {}, "AISC-INPUT-004", "$.x"),
    ("r110_string_int", "string", 5, None, {}, "AISC-INPUT-003", "$.x"),
    ("r110_string_bool", "string", True, None, {}, "AISC-INPUT-003", "$.x"),
    ("r110_string_list", "string", ["a"], None, {}, "AISC-INPUT-003", "$.x"),
    # bytes, bytesN
    ("r110_bytes_no_prefix", "bytes", "abcd", None, {}, "AISC-INPUT-009", "$.x"),
    ("r110_bytes_odd", "bytes", "0xabc", None, {}, "AISC-INPUT-009", "$.x"),
    ("r110_bytes_non_hex", "bytes", "0xzz", None, {}, "AISC-INPUT-009", "$.x"),
    ("r110_bytes_int", "bytes", 12, None, {}, "AISC-INPUT-009", "$.x"),
    ("r110_bytes4_short", "bytes4", "0x0102", None, {}, "AISC-INPUT-010", "$.x"),
    ("r110_bytes32_long", "bytes32", "0x" + "00" * 33, None, {}, "AISC-INPUT-010", "$.x"),
    # intN / uintN (R110, R117)
    ("r110_uint8_overflow", "uint8", "256", None, {}, "AISC-INPUT-006", "$.x"),
    ("r110_uint8_negative_string", "uint8", "-1", None, {}, "AISC-INPUT-006", "$.x"),
    ("r110_uint8_negative_int", "uint8", -1, None, {}, "AISC-INPUT-006", "$.x"),
    ("r110_int8_overflow", "int8", "128", None, {}, "AISC-INPUT-006", "$.x"),
    ("r110_int8_underflow", "int8", "-129", None, {}, "AISC-INPUT-006", "$.x"),
    ("r110_uint256_overflow", "uint256", 2**256, None, {}, "AISC-INPUT-006", "$.x"),
    ("r117_uint_bool", "uint256", True, None, {}, "AISC-INPUT-005", "$.x"),
    ("r117_uint_fraction_string", "uint256", "1.5", None, {}, "AISC-INPUT-005", "$.x"),
    ("r117_uint_decimal_value", "uint256", Dec(15, 1), None, {}, "AISC-INPUT-005", "$.x"),
    ("r119_uint_exponent", "uint256", "1e18", None, {}, "AISC-INPUT-005", "$.x"),
    ("r119_uint_plus_sign", "uint256", "+5", None, {}, "AISC-INPUT-005", "$.x"),
    ("r119_uint_whitespace", "uint256", " 5", None, {}, "AISC-INPUT-005", "$.x"),
    ("r115_uint_binary_float", "uint256", 1.5, None, {}, "AISC-INPUT-005", "$.x"),
    ("r118_uint_empty", "uint256", "", None, {}, "AISC-INPUT-005", "$.x"),
    # token_amount (R113, R120, R122)
    ("r120_token_amount_negative", "token_amount", "-1", None, {}, "AISC-INPUT-011", "$.x"),
    ("r119_token_amount_exponent", "token_amount", "1e3", None, {}, "AISC-INPUT-011", "$.x"),
    ("r113_token_amount_number", "token_amount", 5, None, {}, "AISC-INPUT-011", "$.x"),
    ("r119_token_amount_bare_fraction", "token_amount", ".5", None, {}, "AISC-INPUT-011", "$.x"),
    ("r119_token_amount_trailing_dot", "token_amount", "1.", None, {}, "AISC-INPUT-011", "$.x"),
    ("r122_token_amount_too_precise", "token_amount", "1.234", None, {"asset_decimals": 2}, "AISC-INPUT-012", "$.x"),
    ("r122_token_amount_zero_decimals", "token_amount", "1.5", None, {"asset_decimals": 0}, "AISC-INPUT-012", "$.x"),
    # float (R111: DecimalString only)
    ("r111_float_binary", "float", 0.5, None, {}, "AISC-INPUT-017", "$.x"),
    ("r111_float_decimal_value", "float", Dec(5, 1), None, {}, "AISC-INPUT-017", "$.x"),
    ("r111_float_text", "float", "abc", None, {}, "AISC-INPUT-017", "$.x"),
    # asset (R112, R123)
    ("r112_asset_string", "asset", "USDC", None, {}, "AISC-INPUT-003", "$.x"),
    ("r112_asset_missing_chain", "asset", {"address": EVM}, None, {}, "AISC-INPUT-013", "$.x"),
    ("r112_asset_missing_address", "asset", {"chain_id": "eip155:1"}, None, {}, "AISC-INPUT-013", "$.x"),
    ("r112_asset_unknown_field", "asset", {**ASSET, "price": "1"}, None, {}, "AISC-INPUT-013", "$.x.price"),
    ("r112_asset_chain_not_caip2", "asset", {**ASSET, "chain_id": "ethereum"}, None, {}, "AISC-INPUT-014",
     "$.x.chain_id"),
    ("r112_asset_address_wrong_family", "asset", {**ASSET, "address": SOL}, None, {}, "AISC-INPUT-007",
     "$.x.address"),
    ("r112_asset_solana_address_evm", "asset", {**SOL_ASSET, "address": EVM}, None, {}, "AISC-INPUT-007",
     "$.x.address"),
    ("r123_asset_decimals_78", "asset", {**ASSET, "decimals": 78}, None, {}, "AISC-INPUT-015", "$.x.decimals"),
    ("r123_asset_decimals_text", "asset", {**ASSET, "decimals": "x"}, None, {}, "AISC-INPUT-015", "$.x.decimals"),
    ("r123_asset_decimals_bool", "asset", {**ASSET, "decimals": True}, None, {}, "AISC-INPUT-015", "$.x.decimals"),
    ("r112_asset_symbol_number", "asset", {**ASSET, "symbol": 5}, None, {}, "AISC-INPUT-003", "$.x.symbol"),
    # array / tuple (R110)
    ("r110_array_not_list", "array<uint8>", "1,2", None, {}, "AISC-INPUT-003", "$.x"),
    ("r110_array_item_overflow", "array<uint8>", ["1", "300"], None, {}, "AISC-INPUT-006", "$.x[1]"),
    ("r110_array_item_address", "array<address>", [EVM, "0x12"], "evm", {}, "AISC-INPUT-007", "$.x[1]"),
    ("r110_tuple_short", "tuple<uint8,bool>", [1], None, {}, "AISC-INPUT-016", "$.x"),
    ("r110_tuple_item_type", "tuple<uint8,bool>", [1, "no"], None, {}, "AISC-INPUT-004", "$.x[1]"),
    ("r110_tuple_object", "tuple<uint8,bool>", {"a": 1}, None, {}, "AISC-INPUT-003", "$.x"),
    ("r110_nested_array", "array<array<uint8>>", [[1], [256]], None, {}, "AISC-INPUT-006", "$.x[1][0]"),
    # constraints
    ("constraint_min_int", "uint256", "9", None, {"constraints": {"min": 10}}, "AISC-INPUT-018", "$.x"),
    ("constraint_max_int", "uint256", "11", None, {"constraints": {"max": 10}}, "AISC-INPUT-019", "$.x"),
    ("constraint_min_decimal", "token_amount", "0.4", None, {"constraints": {"min": "0.5"}}, "AISC-INPUT-018", "$.x"),
    ("constraint_max_decimal", "token_amount", "1.51", None, {"constraints": {"max": Dec(15, 1)}}, "AISC-INPUT-019",
     "$.x"),
    ("constraint_max_float", "float", "2.5", None, {"constraints": {"max": 2}}, "AISC-INPUT-019", "$.x"),
    ("constraint_enum_string", "string", "c", None, {"constraints": {"enum": ["a", "b"]}}, "AISC-INPUT-020", "$.x"),
    ("constraint_enum_int", "uint8", "3", None, {"constraints": {"enum": [1, 2]}}, "AISC-INPUT-020", "$.x"),
    ("constraint_enum_address", "address", EVM, "evm", {"constraints": {"enum": [EVM_LOWER[:-1] + "0"]}},
     "AISC-INPUT-020", "$.x"),
    ("constraint_enum_bool_is_not_int", "bool", True, None, {"constraints": {"enum": [1]}}, "AISC-INPUT-020", "$.x"),
    ("constraint_pattern_string", "string", "ABC", None, {"constraints": {"pattern": "^[a-z]+$"}}, "AISC-INPUT-021",
     "$.x"),
    ("constraint_pattern_int", "uint256", "1234", None, {"constraints": {"pattern": "^[0-9]{1,3}$"}},
     "AISC-INPUT-021", "$.x"),
    ("constraint_bad_regex", "string", "a", None, {"constraints": {"pattern": "("}}, "AISC-INPUT-023", "$.x"),
    ("constraint_bad_min", "uint8", "1", None, {"constraints": {"min": "abc"}}, "AISC-INPUT-023", "$.x"),
]


@pytest.mark.parametrize(("typ", "value", "family", "kw", "code", "path"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_values(typ: str, value: Any, family: Any, kw: dict[str, Any], code: str, path: str) -> None:
    problems = validate_value(typ, value, chain_family=family, path="$.x", **kw)
    assert [(p.code, p.path) for p in problems][:1] == [(code, path)]
    assert all(p.severity == "error" for p in problems)
    first = problems[0]
    assert first.hint
    if code not in ("AISC-INPUT-013", "AISC-INPUT-023"):
        # the message names the expected type and shows the value
        assert "expected " in first.message


def test_bad_table_covers_every_value_code() -> None:
    """At least 50 bad values, and every value-level code appears in the table."""
    assert len(BAD) >= 50
    value_codes = {c for c in CODES if c not in ("AISC-INPUT-001", "AISC-INPUT-002", "AISC-INPUT-022",
                                                  "AISC-INPUT-024")}
    assert value_codes <= {b[5] for b in BAD}


def test_constraints_skipped_when_type_is_wrong() -> None:
    problems = validate_value("uint8", "x", chain_family=None, path="$.x", constraints={"min": 5, "enum": [1]})
    assert [p.code for p in problems] == ["AISC-INPUT-005"]


def test_r110_unparsable_type_is_a_warning() -> None:
    problems = validate_value("uint7", "1", chain_family=None, path="$.x")
    assert [(p.code, p.severity) for p in problems] == [("AISC-INPUT-022", "warning")]


def test_value_shown_in_message_is_truncated() -> None:
    problems = validate_value("bool", "y" * 500, chain_family=None, path="$.x")
    assert len(problems[0].message) < 200 and "..." in problems[0].message


# ------------------------------------------------------------------ inputs objects

DECLS: dict[str, Any] = {
    "amount": {"type": "uint256", "required": True},
    "token": {"type": "asset", "required": True},
    "slippage_bps": {"type": "uint32", "default": "50", "constraints": {"max": 10000}},
    "note": {"type": "string"},
}
GOOD_INPUTS = {"amount": "1000", "token": ASSET}


def _codes(diags: list[Any]) -> list[tuple[str, str | None]]:
    return [(d.code, d.path) for d in diags]


def test_validate_inputs_ok_and_defaults() -> None:
    assert validate_inputs(DECLS, GOOD_INPUTS) == []
    assert apply_defaults(DECLS, GOOD_INPUTS) == {**GOOD_INPUTS, "slippage_bps": "50"}


@pytest.mark.parametrize(("given", "expected"), [
    ({"token": ASSET}, [("AISC-INPUT-001", "$.amount")]),
    ({**GOOD_INPUTS, "amout": "1"}, [("AISC-INPUT-002", "$.amout")]),
    ({**GOOD_INPUTS, "slippage_bps": "10001"}, [("AISC-INPUT-019", "$.slippage_bps")]),
    ({**GOOD_INPUTS, "note": 5}, [("AISC-INPUT-003", "$.note")]),
    (["not", "an", "object"], [("AISC-INPUT-024", "$")]),
    ("1000", [("AISC-INPUT-024", "$")]),
], ids=["missing_required", "unknown_name", "default_overridden_bad", "optional_bad", "list", "string"])
def test_validate_inputs_table(given: Any, expected: list[tuple[str, str]]) -> None:
    assert _codes(validate_inputs(DECLS, given)) == expected


def test_input_message_names_input_type_and_value() -> None:
    d = validate_inputs(DECLS, {**GOOD_INPUTS, "amount": "-5"})[0]
    assert d.code == "AISC-INPUT-006"
    assert d.message.startswith('input "amount": expected uint256, got "-5"')


def test_bad_declared_default_is_reported() -> None:
    decls = {"n": {"type": "uint8", "default": "300"}}
    d = validate_inputs(decls, {})
    assert _codes(d) == [("AISC-INPUT-006", "$.n")] and "(declared default)" in d[0].message


def test_missing_optional_input_is_fine() -> None:
    assert validate_inputs({"x": {"type": "uint8"}, "y": {"type": "bool", "required": False}}, {}) == []


def test_allow_unknown_inputs() -> None:
    assert validate_inputs(DECLS, {**GOOD_INPUTS, "extra": 1}, allow_unknown=True) == []


def test_spans_point_into_the_inputs_file(tmp_path: Path) -> None:
    from aisc.commands._inputs import load_values

    f = tmp_path / "inputs.yaml"
    f.write_text('amount: "1000"\ntoken:\n  chain_id: "eip155:1"\n  address: "0x12"\n')
    data, spans, diags = load_values(str(f))
    assert diags == [] and data["amount"] == "1000"
    found = validate_inputs(DECLS, data, source_spans=spans)
    assert _codes(found) == [("AISC-INPUT-007", "$.token.address")]
    span = found[0].span
    assert span is not None and (span.file, span.line, span.col) == (str(f), 4, 12)


def test_spans_fall_back_to_the_nearest_ancestor(tmp_path: Path) -> None:
    from aisc.commands._inputs import load_values

    f = tmp_path / "inputs.json"
    f.write_text('{\n  "token": {"chain_id": "eip155:1"},\n  "amount": "1"\n}\n')
    data, spans, _ = load_values(str(f))
    found = validate_inputs(DECLS, data, source_spans=spans)
    assert _codes(found) == [("AISC-INPUT-013", "$.token")]
    assert found[0].span is not None and found[0].span.line == 2


def test_yaml_fraction_in_inputs_is_exact_and_rejected_for_integers(tmp_path: Path) -> None:
    """R115/R117: a YAML 1.5 becomes an exact decimal, never a float, and is not an integer."""
    from aisc.commands._inputs import load_values

    f = tmp_path / "inputs.yaml"
    f.write_text("amount: 1.5\ntoken: {chain_id: 'eip155:1', address: '" + EVM + "'}\n")
    data, spans, _ = load_values(str(f))
    assert data["amount"] == Dec(15, 1)
    assert _codes(validate_inputs(DECLS, data, source_spans=spans)) == [("AISC-INPUT-005", "$.amount")]


# ------------------------------------------------------------------ params


PARAMS = [
    {"name": "token", "type": "asset", "required": True},
    {"name": "amount", "type": "token_amount", "required": True, "asset_ref": "token"},
    {"name": "to", "type": "address", "required": True},
]


@pytest.mark.parametrize(("given", "expected"), [
    ({"token": ASSET, "amount": "1.0000001", "to": EVM}, [("AISC-INPUT-012", "$.amount")]),
    ({"token": ASSET, "amount": "1", "to": SOL}, [("AISC-INPUT-007", "$.to")]),
    ({"token": ASSET, "to": EVM}, [("AISC-INPUT-001", "$.amount")]),
    ({"token": {**ASSET, "decimals": None}, "amount": "1.0000001", "to": EVM},
     [("AISC-INPUT-015", "$.token.decimals")]),
], ids=["r114_asset_ref_decimals", "r110_family_from_chain", "missing", "r121_unknown_decimals_not_guessed"])
def test_r114_validate_params(given: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    found = validate_params(PARAMS, given, owner="demo@0.0.1/pay", chain_family="evm")
    assert _codes(found) == expected
    assert 'param "' in found[0].message and "of demo@0.0.1/pay" in found[0].message


def test_params_from_protocol_ir() -> None:
    from aisc.frontend import load_text

    doc = load_text(
        'schema: "ais/0.0.2"\nmeta: {protocol: "demo", version: "0.0.1"}\n'
        'deployments: [{chain: "eip155:1", contracts: {}}]\n'
        "actions:\n  pay:\n    description: d\n    risk_level: 1\n    params:\n"
        '      - {name: n, type: uint8, description: d, required: true, constraints: {enum: ["1", "2"]}}\n'
        "    execution:\n      \"eip155:*\": {type: evm_call, to: {lit: \"0x00\"}, "
        "abi: {type: function, name: f, inputs: [], outputs: []}, args: {}}\n",
        "demo.ais.yaml")
    assert doc.document is not None, doc.diagnostics
    params = doc.document.actions["pay"].params
    assert validate_params(params, {"n": "2"}) == []
    assert _codes(validate_params(params, {"n": "3"})) == [("AISC-INPUT-020", "$.n")]


# ------------------------------------------------------------------ declarations in plans


def test_input_declarations_from_workflow_ir() -> None:
    from aisc.frontend import load_text

    doc = load_text(
        'schema: "ais-flow/0.0.3"\nmeta: {name: w, version: "0.0.1"}\n'
        'inputs:\n  b: {type: uint8, required: true}\n  a: {type: bool, default: false}\n  c: {type: string}\n'
        '  d: {type: uint256, required: false, description: "d"}\n'
        '  e: {type: string, default: "x", example: "y"}\n'
        "nodes: []\n", "w.ais-flow.yaml")
    assert doc.document is not None, doc.diagnostics
    expected = {"a": {"type": "bool", "default": False}, "b": {"type": "uint8", "required": True},
                "c": {"type": "string"}, "d": {"type": "uint256"}, "e": {"type": "string", "default": "x"}}
    assert input_declarations(doc.document.inputs) == expected
    assert input_declarations(doc.raw["inputs"]) == expected
    assert list(input_declarations(doc.raw["inputs"])) == ["a", "b", "c", "d", "e"]


def test_plan_input_declarations_infers_chain_family() -> None:
    def node(nid: str, chain: str, ref: str) -> dict[str, Any]:
        return {"id": nid, "chain": chain, "kind": "query_ref", "bindings": {"params": {"p": {"ref": ref}}},
                "execution": {"type": "solana_read", "method": "getBalance", "params": {}}}

    plan = {"schema": "ais-plan/0.0.3", "nodes": [
        node("a", "solana:x", "inputs.sol"), node("b", "eip155:1", "inputs.both"),
        node("c", "solana:x", "inputs.both"), node("d", "eip155:1", "inputs.evm.sub")],
        "extensions": {"aisc": {"inputs": {"sol": {"type": "address"}, "both": {"type": "address"},
                                           "evm": {"type": "asset"}}}}}
    got = plan_input_declarations(plan)
    assert got == {"sol": {"type": "address", "chain_family": "solana"}, "both": {"type": "address"},
                   "evm": {"type": "asset"}}
    assert plan_input_declarations({"schema": "ais-plan/0.0.3", "nodes": []}) is None
    # the family is then enforced
    assert _codes(validate_inputs(got, {"sol": EVM})) == [("AISC-INPUT-007", "$.sol")]


def test_docs_list_every_code() -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "inputs.md").read_text()
    documented = set(re.findall(r"AISC-INPUT-\d{3}", text))
    assert documented == set(CODES)
