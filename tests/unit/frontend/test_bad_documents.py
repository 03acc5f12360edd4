"""One bad document per rule → the expected diagnostic code at the expected line:column.

The « marker in each document is placed by hand where the diagnostic must point; it is removed
before loading.
"""

from __future__ import annotations

import pytest

from aisc.frontend import load_text
from aisc.passes.protocol_semantics import check_protocol

from ._docs import CALL, NODE, PACK_HEAD, PROTOCOL_HEAD, action, locate, protocol, query, workflow

P = "p.ais.yaml"
W = "w.ais-flow.yaml"
K = "k.ais-pack.yaml"
J = "s.json"

_OUT_X = "[{name: x, type: uint256}]"
_RET_X = "[{name: x, type: uint256}]"

CASES: list[tuple[str, str, str, str]] = [
    # ---------------------------------------------------------------- load (AISC-LOAD)
    ("r194_duplicate_key_yaml", P, 'schema: "ais/0.0.2"\nmeta: {protocol: a, version: "1.0.0", «protocol: b}\n',
     "AISC-LOAD-006"),
    ("r194_duplicate_key_block", P, 'schema: "ais/0.0.2"\nactions: {}\n«actions: {}\n', "AISC-LOAD-006"),
    ("r194_duplicate_key_json", J, '{"schema": "ais-plan-skeleton/0.0.1",\n «"schema": "x"}', "AISC-LOAD-006"),
    ("yaml_syntax_error", P, 'schema: "ais/0.0.2"\nmeta: [a, b\n«', "AISC-LOAD-003"),
    ("yaml_bad_indent", P, 'schema: "ais/0.0.2"\nmeta:\n  a: 1\n «b: 2\n', "AISC-LOAD-003"),
    ("empty_file", P, "«", "AISC-LOAD-004"),
    ("comment_only_file", P, "«# nothing here\n", "AISC-LOAD-004"),
    ("two_documents", P, 'schema: "ais/0.0.2"\n«---\nschema: "ais/0.0.2"\n', "AISC-LOAD-005"),
    ("complex_key", P, 'schema: "ais/0.0.2"\n? «[a, b]\n: 1\n', "AISC-LOAD-007"),
    ("alias_as_key", P, 'schema: &s "ais/0.0.2"\n«*s : 1\n', "AISC-LOAD-007"),
    ("explicit_tag", P, 'schema: "ais/0.0.2"\nextensions: {x: «!!binary aGVsbG8=}\n', "AISC-LOAD-008"),
    ("python_tag", P, 'schema: "ais/0.0.2"\nextensions: {x: «!!python/name:os.system a}\n', "AISC-LOAD-008"),
    ("alias_bomb", P, "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
     "e: [*d,*d,*d,*d,*d,*d,*d,«*d,*d,*d]\n", "AISC-LOAD-009"),
    ("deep_nesting_yaml", P, "a: " + "[" * 99 + "«[" + "]" * 100 + "\n", "AISC-LOAD-010"),
    ("deep_nesting_json", J, "[" * 100 + "«[" + "]" * 101, "AISC-LOAD-010"),
    ("recursive_alias", P, "a: &a [1, «*a]\n", "AISC-LOAD-011"),
    ("unknown_alias", P, "a: «*nope\n", "AISC-LOAD-003"),
    ("non_finite_number", P, 'schema: "ais/0.0.2"\nextensions: {x: «.inf}\n', "AISC-LOAD-012"),
    ("nan_number", P, 'schema: "ais/0.0.2"\nextensions: {x: «.nan}\n', "AISC-LOAD-012"),
    ("huge_exponent_yaml", P, 'schema: "ais/0.0.2"\nextensions: {x: «1e99999}\n', "AISC-LOAD-012"),
    ("huge_exponent_json", J, '{"schema": «1e99999}', "AISC-LOAD-012"),
    ("json_trailing_comma", J, '{"schema": "ais-plan-skeleton/0.0.1",«}', "AISC-LOAD-014"),
    ("json_single_quotes", J, "{«'schema': 1}", "AISC-LOAD-014"),
    ("json_comment", J, '{"a": 1}\n«// no comments\n', "AISC-LOAD-014"),
    ("json_nan", J, '{"a": «NaN}', "AISC-LOAD-014"),
    ("top_level_list", P, "«- a\n- b\n", "AISC-LOAD-015"),
    ("top_level_scalar", J, '«"just a string"', "AISC-LOAD-015"),
    ("missing_schema", P, "«meta: {protocol: a, version: 1.0.0}\n", "AISC-LOAD-016"),
    ("legacy_schema_ais_1_0", P, "schema: «ais/1.0\n", "AISC-LOAD-017"),
    ("legacy_schema_ais_0_0_1", P, 'schema: «"ais/0.0.1"\n', "AISC-LOAD-017"),
    ("legacy_schema_plan_0_0_2", J, '{"schema": «"ais-plan/0.0.2", "nodes": []}', "AISC-LOAD-017"),
    ("legacy_schema_flow_1_0", W, "schema: «ais-flow/1.0\n", "AISC-LOAD-017"),
    ("schema_not_string", P, "schema: «2\n", "AISC-LOAD-017"),
    ("suffix_schema_mismatch", P, 'schema: «"ais-flow/0.0.3"\nmeta: {name: w, version: "0.0.3"}\nnodes: []\n',
     "AISC-LOAD-018"),
    # ---------------------------------------------------------------- schema (AISC-SCHEMA)
    ("r090_unknown_root_field", P, protocol(tail="«foo: 1\n"), "AISC-SCHEMA-001"),
    ("r090_unknown_action_field", P, protocol(action("    «colour: red\n")), "AISC-SCHEMA-001"),
    ("d3_unknown_field_in_core_execution", P,
     protocol(action(execution='      "eip155:*": {type: evm_read, to: {ref: a}, abi: {type: function, name: f, '
                               'inputs: []}, args: {}, «gas: "1"}\n')), "AISC-SCHEMA-001"),
    ("r098_query_with_risk_level", P,
     protocol(queries='  q:\n    description: d\n    «risk_level: 1\n    execution: {"*": {type: x}}\n'),
     "AISC-SCHEMA-001"),
    ("r070_unknown_pack_field", K, PACK_HEAD + "«allow_everything: true\n", "AISC-SCHEMA-001"),
    ("r140_unknown_workflow_node_field", W, workflow("  - {id: n1, type: action_ref, protocol: demo@0.0.2, "
                                                     "action: do, «retries: 3}\n"), "AISC-SCHEMA-001"),
    ("unknown_detect_field", W, workflow(NODE % ", args: {x: {detect: {kind: choose_one, «best: true}}}"),
     "AISC-SCHEMA-001"),
    ("yaml_merge_key_is_unknown_field", P, protocol(tail="«<<: {foo: 1}\n"), "AISC-SCHEMA-001"),
    ("r094_missing_actions", P, "«" + PROTOCOL_HEAD, "AISC-SCHEMA-002"),
    ("missing_meta_version", P, 'schema: "ais/0.0.2"\nmeta: «{protocol: demo}\ndeployments: []\nactions: {}\n',
     "AISC-SCHEMA-002"),
    ("missing_execution_type", P, protocol(action(execution='      "*": «{to: {ref: a}}\n')), "AISC-SCHEMA-002"),
    ("missing_param_description", P, protocol(action("    params: [«{name: a, type: address}]\n")),
     "AISC-SCHEMA-002"),
    ("risk_level_string", P, protocol(action().replace("risk_level: 1", 'risk_level: «"1"')), "AISC-SCHEMA-003"),
    ("risk_level_bool_is_not_int", P, protocol(action().replace("risk_level: 1", "risk_level: «true")),
     "AISC-SCHEMA-003"),
    ("risk_level_fraction", P, protocol(action().replace("risk_level: 1", "risk_level: «1.5")), "AISC-SCHEMA-003"),
    ("risk_level_float_literal", P, protocol(action().replace("risk_level: 1", "risk_level: «1.0")),
     "AISC-SCHEMA-011"),
    ("yaml11_yes_is_a_string", P, protocol(action("    params: [{name: a, type: address, description: d, "
                                                  "required: «yes}]\n")), "AISC-SCHEMA-003"),
    ("version_as_number", W, 'schema: "ais-flow/0.0.3"\nmeta: {name: wf, version: «1.5}\nnodes: []\n',
     "AISC-SCHEMA-003"),
    ("actions_is_a_list", P, PROTOCOL_HEAD + "actions: «[]\n", "AISC-SCHEMA-003"),
    ("r095_protocol_not_kebab", P, 'schema: "ais/0.0.2"\nmeta: {protocol: «Demo, version: "0.0.2"}\n'
     "deployments: []\nactions: {}\n", "AISC-SCHEMA-004"),
    ("r095_version_not_semver", P, 'schema: "ais/0.0.2"\nmeta: {protocol: demo, version: «"1.0"}\n'
     "deployments: []\nactions: {}\n", "AISC-SCHEMA-004"),
    ("r096_chain_not_caip2", P, 'schema: "ais/0.0.2"\nmeta: {protocol: demo, version: "0.0.2"}\n'
     "deployments: [{chain: «ethereum, contracts: {}}]\nactions: {}\n", "AISC-SCHEMA-004"),
    ("param_type_not_ais_type", P, protocol(action("    params: [{name: a, type: «uint, description: d}]\n")),
     "AISC-SCHEMA-004"),
    ("composite_step_id_pattern", P,
     protocol(action(execution=f'      "*": {{type: composite, steps: [{{id: «"a b", execution: {CALL}}}]}}\n')),
     "AISC-SCHEMA-004"),
    ("r148_node_protocol_without_version", W, workflow("  - {id: n1, type: action_ref, protocol: «demo}\n"),
     "AISC-SCHEMA-004"),
    ("risk_level_enum", P, protocol(tail="risks: [{level: «high, text: t}]\n"), "AISC-SCHEMA-005"),
    ("r162_backoff_enum", W, workflow(NODE % ", retry: {interval_ms: 10, backoff: «exponential}"),
     "AISC-SCHEMA-005"),
    ("r148_node_type_enum", W, workflow("  - {id: n1, type: «call_ref, protocol: demo@0.0.2}\n"), "AISC-SCHEMA-005"),
    ("abi_type_const", P, protocol(action(execution='      "*": {type: evm_call, to: {ref: a}, '
                                                    'abi: {type: «event, name: f, inputs: []}, args: {}}\n')),
     "AISC-SCHEMA-005"),
    ("r062_detect_kind_enum", W, workflow(NODE % ", args: {x: {detect: {kind: «cheapest}}}"), "AISC-SCHEMA-005"),
    ("risk_level_range", P, protocol(action().replace("risk_level: 1", "risk_level: «6")), "AISC-SCHEMA-006"),
    ("r162_interval_positive", W, workflow(NODE % ", retry: {interval_ms: «0}"), "AISC-SCHEMA-006"),
    ("r163_timeout_positive", W, workflow(NODE % ", timeout_ms: «-5"), "AISC-SCHEMA-006"),
    ("r170_composite_needs_steps", P, protocol(action(execution='      "*": {type: composite, steps: «[]}\n')),
     "AISC-SCHEMA-006"),
    ("ref_must_not_be_empty", W, workflow(NODE % ', args: {x: {ref: «""}}'), "AISC-SCHEMA-006"),
    ("r300_skeleton_needs_nodes", J, '{"schema": "ais-plan-skeleton/0.0.1", "nodes": «[]}', "AISC-SCHEMA-006"),
    ("r117_pack_max_spend_number", K, PACK_HEAD + "policy: {hard_constraints_defaults: {max_spend: «1000}}\n",
     "AISC-SCHEMA-007"),
    ("r117_pack_max_approval_decimal", K, PACK_HEAD + "policy: {hard_constraints: {max_approval: «2.5}}\n",
     "AISC-SCHEMA-007"),
    ("r053_bare_scalar_arg", W, workflow(NODE % ", args: {x: «5}"), "AISC-SCHEMA-008"),
    ("r051_two_valueref_keys", W, workflow(NODE % ', args: {x: «{lit: 1, ref: "a"}}'), "AISC-SCHEMA-008"),
    ("r053_bare_condition", W, workflow(NODE % ", condition: «true"), "AISC-SCHEMA-008"),
    ("r170_nested_composite", P, protocol(action(
        execution='      "*": {type: composite, steps: [{id: a, execution: {type: «composite, steps: []}}]}\n')),
     "AISC-SCHEMA-009"),
    ("composite_duplicate_step_id", P, protocol(action(
        execution=f'      "*": {{type: composite, steps: [{{id: a, execution: {CALL}}}, '
                  f'{{id: «a, execution: {CALL}}}]}}\n')), "AISC-SCHEMA-010"),
    ("r301_skeleton_action_missing", J, '{"schema": "ais-plan-skeleton/0.0.1", "nodes": '
     '[«{"id": "a", "type": "action_ref", "protocol": "demo@0.0.2"}]}', "AISC-SCHEMA-002"),
    ("r250_conformance_unknown_kind", J, '{"schema": "ais-conformance/0.0.2", "cases": '
     '[{"id": "x", "kind": «"cel_magic", "input": {}}]}', "AISC-SCHEMA-005"),
    ("r250_conformance_missing_expect", J, '{"schema": "ais-conformance/0.0.2", "cases": '
     '[«{"id": "x", "kind": "cel_eval", "input": {"expression": "1"}}]}', "AISC-SCHEMA-002"),
    ("r146_requires_pack_needs_version", W, 'schema: "ais-flow/0.0.3"\nmeta: {name: wf, version: "0.0.3"}\n'
     "requires_pack: «{name: p}\nnodes: []\n", "AISC-SCHEMA-002"),
    # ---------------------------------------------------------------- protocol semantics (AISC-PROTO)
    ("r101_returns_length", P, protocol(queries=query("[{name: x, type: uint256}, {name: y, type: uint256}]",
                                                      _OUT_X).replace("abi: {", "abi: «{")), "AISC-PROTO-001"),
    ("r101_outputs_without_returns", P, protocol(queries=query("[]", _OUT_X).replace("abi: {", "abi: «{")),
     "AISC-PROTO-001"),
    ("r102_returns_order", P, protocol(queries=query(
        "[{name: y, type: uint256}, {name: x, type: uint256}]",
        "[«{name: x, type: uint256}, {name: y, type: uint256}]")), "AISC-PROTO-002"),
    ("r103_returns_names", P, protocol(queries=query("[{name: z, type: uint256}]", "[«{name: x, type: uint256}]")),
     "AISC-PROTO-002"),
    ("r104_returns_types", P, protocol(queries=query("[{name: x, type: uint128}]", "[«{name: x, type: uint256}]")),
     "AISC-PROTO-003"),
    ("r105_empty_outputs_with_returns", P, protocol(queries=query(_RET_X, "[]").replace("abi: {", "abi: «{")),
     "AISC-PROTO-004"),
    ("r105_unnamed_output", P, protocol(queries=query('[{name: "", type: uint256}]', '[«{name: "", type: uint256}]')),
     "AISC-PROTO-004"),
    ("r203_duplicate_output_names", P, protocol(queries=query(
        "[{name: x, type: uint256}, {name: x, type: uint256}]", "[{name: x, type: uint256}, «{name: x, type: uint256}]")),
     "AISC-PROTO-005"),
    ("duplicate_param_name", P, protocol(action("    params: [{name: a, type: address, description: d}, "
                                                "«{name: a, type: bool, description: d}]\n")), "AISC-PROTO-006"),
    ("duplicate_return_name", P, protocol(action("    returns: [{name: r, type: bool}, «{name: r, type: bool}]\n")),
     "AISC-PROTO-006"),
    ("r114_token_amount_without_asset_ref", P,
     protocol(action("    params: [«{name: amt, type: token_amount, description: d}]\n")), "AISC-PROTO-007"),
    ("r114_asset_ref_not_an_asset", P, protocol(action(
        "    params: [{name: t, type: address, description: d}, "
        "«{name: amt, type: token_amount, description: d, asset_ref: t}]\n")), "AISC-PROTO-008"),
    ("r110_uint7", P, protocol(action("    params: [{name: a, type: «uint7, description: d}]\n")), "AISC-PROTO-010"),
    ("r110_bytes33", P, protocol(action("    params: [{name: a, type: «bytes33, description: d}]\n")),
     "AISC-PROTO-010"),
    ("r110_int512", P, protocol(action("    params: [{name: a, type: «int512, description: d}]\n")),
     "AISC-PROTO-010"),
    ("r110_array_of_bad_type", P, protocol(action("    params: [{name: a, type: «array<uint9>, description: d}]\n")),
     "AISC-PROTO-010"),
]


@pytest.mark.parametrize(("file", "text", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_document(file: str, text: str, code: str) -> None:
    src, line, col = locate(text)
    doc = load_text(src, file)
    diags = list(doc.diagnostics)
    if doc.kind == "protocol" and doc.document is not None:
        diags += check_protocol(doc.document)
    found = [(d.code, d.span.line, d.span.col) for d in diags if d.span is not None]
    assert (code, line, col) in found, f"expected {code} at {line}:{col}; got {found} / {[d.message for d in diags]}"
    assert any(d.is_error for d in diags)


def test_table_size_and_distinct_rules() -> None:
    """The brief asks for at least 60 bad documents, one per rule."""
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES)


def test_r194_duplicate_names_both_occurrences() -> None:
    """R194: the duplicate-key diagnostic points at the second key and relates the first."""
    src, line, col = locate('schema: "ais/0.0.2"\nmeta: {protocol: a, version: "1.0.0"}\n«meta: {}\n')
    d = next(d for d in load_text(src, P).diagnostics if d.code == "AISC-LOAD-006")
    assert d.span is not None and (d.span.line, d.span.col) == (line, col)
    assert d.related[0].span is not None and (d.related[0].span.line, d.related[0].span.col) == (2, 1)
    assert d.path == "$.meta"


def test_invalid_utf8_file(tmp_path: object) -> None:
    import pathlib

    from aisc.frontend import load_file

    p = pathlib.Path(str(tmp_path)) / "bad.ais.yaml"
    p.write_bytes(b'schema: "ais/0.0.2"\nmeta: \xff\xfe\n')
    doc = load_file(p)
    assert [(d.code, d.span.line, d.span.col) for d in doc.diagnostics if d.span] == [("AISC-LOAD-002", 2, 7)]
    assert doc.document is None


def test_binary_file_with_nul(tmp_path: object) -> None:
    import pathlib

    from aisc.frontend import load_file

    p = pathlib.Path(str(tmp_path)) / "bin.ais.yaml"
    p.write_bytes(b"ab\x00cd")
    doc = load_file(p)
    assert [(d.code, d.span.line, d.span.col) for d in doc.diagnostics if d.span] == [("AISC-LOAD-002", 1, 3)]
