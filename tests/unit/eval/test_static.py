"""Static CEL facts and checks for the passes (AISC-CEL-001..006)."""

from __future__ import annotations

import pytest

from aisc.diagnostics import Span
from aisc.eval.static import analyze_cel, check_cel, ref_node_id, value_ref_node_ids

WF_ROOTS = frozenset({"inputs", "nodes", "ctx"})


def test_analyze_roots_nodes_functions() -> None:
    info = analyze_cel('nodes.q.outputs.x > nodes["r"].y && to_atomic(inputs.a, 6) > 0 && s.size() > 0')
    assert info.roots == {"nodes", "inputs", "s"}
    assert info.node_ids == {"q", "r"}
    assert info.functions == {"to_atomic", "size"}
    assert info.result_type == "bool"
    assert not info.constant


TYPES = [
    ("1 + 2", "number"), ('"a" + 1', "string"), ("a + 1", "unknown"), ("!a", "bool"), ("a in b", "bool"),
    ("a ? 1 : 2", "number"), ("a ? 1 : 'x'", "unknown"), ("to_human(a, 6)", "string"), ("size(a)", "number"),
    ("[1]", "list"), ("null", "null"), ("a.b", "unknown"), ("custom(1)", "unknown"), ("-a", "number"),
    ("a.startsWith('x')", "bool"), ("7 / 2", "number"), ("[1] + [2]", "list"),
]


@pytest.mark.parametrize(("expr", "want"), TYPES)
def test_result_type(expr: str, want: str) -> None:
    assert analyze_cel(expr).result_type == want


DIAGS = [
    # expr, want_bool, expected codes
    ("inputs.a > 0", True, []),
    ("nodes.q.outputs.ok", True, []),
    ("1 +", False, ["AISC-CEL-001"]),
    ("1e2", False, ["AISC-CEL-001"]),
    ("params.x > 0", False, ["AISC-CEL-002"]),
    ("foo.x + bar.y", False, ["AISC-CEL-002", "AISC-CEL-002"]),
    ("has(inputs.a)", False, ["AISC-CEL-003"]),
    ("derive_ata(inputs.a, inputs.b)", False, ["AISC-CEL-003"]),
    ("1 + 2", True, ["AISC-CEL-004"]),
    ('"x"', True, ["AISC-CEL-004"]),
    ("to_atomic(inputs.a, 6)", True, ["AISC-CEL-004"]),
    ("inputs.a ? 1 : 'x'", True, ["AISC-CEL-004"]),
    ("inputs.a ? 1 : true", True, []),
    ("1 + 2", False, []),
    ("1 / 3 > 0", True, ["AISC-CEL-005"]),
    ('to_atomic("1.234", 2) > 0', True, ["AISC-CEL-005"]),
    ("size(1, 2) > 0", True, ["AISC-CEL-006"]),
    ("inputs.a.size()", False, []),
]


@pytest.mark.parametrize(("expr", "want_bool", "codes"), DIAGS, ids=[d[0] for d in DIAGS])
def test_check_cel_codes(expr: str, want_bool: bool, codes: list[str]) -> None:
    diags = check_cel(expr, span=None, path="$.x", allowed_roots=WF_ROOTS, want_bool=want_bool)
    assert [d.code for d in diags] == codes
    assert all(d.hint and d.path == "$.x" for d in diags)


def test_check_cel_spans_are_rebased_onto_the_scalar() -> None:
    scalar = Span("wf.ais-flow.yaml", 7, 15, 7, 40)
    (d,) = check_cel("inputs.a >> 2", span=scalar, path="$.nodes[0].assert", allowed_roots=WF_ROOTS,
                     scalar_style="double")
    assert d.code == "AISC-CEL-001"
    assert d.span is not None
    assert (d.span.line, d.span.col, d.span.end_col) == (7, 15 + 1 + 10, 15 + 1 + 11)


def test_check_cel_known_functions_and_extra_roots() -> None:
    diags = check_cel("derive_ata(inputs.a, inputs.b) == MAX_UINT256", span=None, path=None,
                      allowed_roots=WF_ROOTS | {"MAX_UINT256"},
                      known_functions=frozenset({"derive_ata"}))
    assert diags == []


def test_unknown_extra_function_hint_names_capability() -> None:
    (d,) = check_cel("derive_ata(inputs.a, inputs.b)", span=None, path=None, allowed_roots=WF_ROOTS)
    assert "cel_builtin:derive_ata" in (d.hint or "")


@pytest.mark.parametrize(("path", "want"), [
    ("nodes.q.outputs.x", "q"), ("nodes..q", "q"), ("nodes", None), ("inputs.a", None), ("nodes.a-b.outputs", "a-b")])
def test_ref_node_id(path: str, want: str | None) -> None:
    assert ref_node_id(path) == want


def test_value_ref_node_ids_implicit_edges() -> None:
    vr = {"object": {
        "a": {"ref": "nodes.q.outputs.amount"},
        "b": {"cel": "nodes.r.outputs.x + nodes['s'].outputs.y"},
        "c": {"array": [{"detect": {"kind": "choose_one", "candidates": [{"ref": "nodes.t.outputs.z"}]}}]},
        "d": {"cel": "broken ("},
        "e": {"lit": {"ref": "nodes.not_a_dep"}},
    }}
    assert value_ref_node_ids(vr) == {"q", "r", "s", "t"}
