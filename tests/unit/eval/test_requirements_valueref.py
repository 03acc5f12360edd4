"""Spec requirements on documents, ValueRefs, the runtime root and CEL that had no named test
(SPEC-MAP §1.1, §1.4): R001, R002, R004, R006, R050, R052, R055, R057, R059, R061.

Expected values come from the spec text, never from the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aisc.eval import CelError, evaluate_cel
from aisc.eval.valueref import MissingRef, ValueRefEvalError, evaluate_value_ref
from aisc.frontend import load_text
from aisc.ir.valueref import ValueRefError
from aisc.numeric import Dec
from aisc.runtime.engine import new_root

from ._helpers import make_root

# ------------------------------------------------------------------ R001 document schema ids

SCHEMA_IDS = [
    ("r001-protocol", 'schema: "ais/0.0.2"\n', "p.ais.yaml", "protocol"),
    ("r001-pack", 'schema: "ais-pack/0.0.2"\n', "k.ais-pack.yaml", "pack"),
    ("r001-workflow", 'schema: "ais-flow/0.0.3"\n', "w.ais-flow.yaml", "workflow"),
]


@pytest.mark.parametrize(("text", "file", "kind"), [c[1:] for c in SCHEMA_IDS], ids=[c[0] for c in SCHEMA_IDS])
def test_r001_schema_id_selects_document_kind(text: str, file: str, kind: str) -> None:
    """R001: the three document schema ids are recognised as protocol, pack and workflow."""
    assert load_text(text, file).kind == kind


@pytest.mark.parametrize("schema", ["ais/0.0.3", "ais-pack/0.0.1", "ais-flow/0.0.2", "AIS/0.0.2"])
def test_r001_other_schema_ids_are_rejected(schema: str) -> None:
    """R001: a near-miss schema id is an error, never silently accepted as one of the three."""
    doc = load_text(f'schema: "{schema}"\n', "x.yaml")
    assert any(d.is_error for d in doc.diagnostics), schema


# ------------------------------------------------------------------ R002 / R050 / R052: ValueRef only


@pytest.mark.parametrize("text", ["inputs.amount", "ctx.wallet_address", "{{ inputs.amount }}", "${inputs.amount}",
                                  "nodes.q.outputs.amount_out"])
def test_r002_r050_lit_string_is_never_a_reference(text: str) -> None:
    """R002/R050: a literal that looks like a path or a template stays the literal string."""
    assert evaluate_value_ref({"lit": text}, make_root()) == text


def test_r052_lit_object_is_opaque_and_object_form_evaluates_leaves() -> None:
    """R052: a ValueRef inside ``lit`` is data; only ``object``/``array`` evaluate nested ValueRefs."""
    inner = {"ref": "inputs.amount"}
    assert evaluate_value_ref({"lit": {"a": inner, "b": [inner]}}, make_root()) == {"a": inner, "b": [inner]}
    got = evaluate_value_ref({"object": {"a": {"ref": "inputs.amount"}, "b": {"array": [{"lit": "x"},
                                                                                         {"ref": "params.x"}]}}},
                             make_root())
    assert got == {"a": 1000000, "b": ["x", 2]}


def test_r052_object_leaves_must_be_valuerefs() -> None:
    """R052: a bare value inside ``object`` is not wrapped implicitly (it must be a ValueRef)."""
    with pytest.raises(ValueRefError, match="expected a ValueRef object"):
        evaluate_value_ref({"object": {"a": 5}}, make_root())


# ------------------------------------------------------------------ R004: no IEEE754 on value paths


def _walk(v: Any) -> Iterator[Any]:
    yield v
    if isinstance(v, dict):
        for x in v.values():
            yield from _walk(x)
    elif isinstance(v, list | tuple):
        for x in v:
            yield from _walk(x)


def test_r004_yaml_numbers_load_as_int_or_exact_decimal() -> None:
    """R004: YAML numbers never become a binary float (1.5 → Dec, 2 → int)."""
    doc = load_text('schema: "ais-flow/0.0.3"\nmeta: {name: w, version: "0.0.3"}\nnodes: []\n'
                    "extensions: {x: 1.5, y: 2, z: [0.1, 1e-7, 123456789012345678901234567890.5]}\n", "w.ais-flow.yaml")
    assert not [v for v in _walk(doc.raw) if isinstance(v, float)]
    ext = doc.raw["extensions"]
    assert ext["x"] == Dec(15, 1) and type(ext["y"]) is int
    assert ext["z"] == [Dec(1, 1), Dec(1, 7), Dec(1234567890123456789012345678905, 1)]


@pytest.mark.parametrize(("expr", "want"), [
    ("0.1 + 0.2", Dec(3, 1)),               # 0.30000000000000004 with IEEE754
    ("to_atomic('0.29', 2)", 29),           # 28 with float multiplication
    ("10000000000000000000001 + 1", 10000000000000000000002),
])
def test_r004_cel_arithmetic_is_exact(expr: str, want: Any) -> None:
    """R004: CEL arithmetic on amounts is exact (no binary floating point)."""
    got = evaluate_cel(expr, {})
    assert got == want and type(got) is type(want)


# ------------------------------------------------------------------ R006 / R055 / R057: the runtime root

ROOTS = ("inputs", "params", "ctx", "contracts", "nodes", "query", "calculated", "policy")


def test_r006_runtime_root_has_exactly_the_eight_roots() -> None:
    """R006/R057: the engine supplies exactly these root objects, no more and no fewer."""
    assert set(new_root()) == set(ROOTS)


@pytest.mark.parametrize(("path", "want"), [
    ("params.x", 2), ("ctx.wallet_address", "0x1111"), ("query.quote.amount_out", 995000),
    ("contracts.router", "0x2222"), ("calculated.min_out_atomic", 990000), ("policy.max_slippage_bps", 100),
    ("inputs.amount", 1000000), ("nodes.q.outputs.amount_out", 1000000),
])
def test_r055_every_root_is_readable_by_ref_and_cel(path: str, want: Any) -> None:
    """R055/R006: params, ctx, query, contracts, calculated and policy (and inputs, nodes) are readable."""
    root = make_root()
    assert evaluate_value_ref({"ref": path}, root) == want
    assert evaluate_value_ref({"cel": path}, root) == want


@pytest.mark.parametrize("path", ["env.HOME", "globals.x", "self.x", "wallet.address"])
def test_r057_unknown_root_is_an_error(path: str) -> None:
    """R057: a reference outside the roots the engine defines fails; nothing else is reachable."""
    with pytest.raises(ValueRefEvalError):
        evaluate_value_ref({"ref": path}, make_root())


def test_r057_missing_path_under_known_root_is_missing_ref() -> None:
    with pytest.raises(MissingRef):
        evaluate_value_ref({"ref": "ctx.nope"}, make_root())


# ------------------------------------------------------------------ R059: deterministic, pure CEL


@pytest.mark.parametrize("expr", ["eval('1 + 1')", "now()", "random()", "env('HOME')", "dyn(1)", "exec('x')"])
def test_r059_no_dynamic_eval_reflection_or_clock(expr: str) -> None:
    """R059: no dynamic evaluation, reflection, clock or randomness builtins exist."""
    with pytest.raises(CelError):
        evaluate_cel(expr, {})


def test_r059_same_input_same_result() -> None:
    """R059: evaluation is a pure function of the expression and the root."""
    expr = "mul_div(inputs.amount, 10000 - policy.max_slippage_bps, 10000)"
    results = {evaluate_value_ref({"cel": expr}, make_root()) for _ in range(5)}
    assert results == {990000}


# ------------------------------------------------------------------ R061: to_atomic then integer helpers


def test_r061_to_atomic_then_integer_slippage_math() -> None:
    """R061: convert a token amount with to_atomic(), then apply slippage with mul_div (all integers)."""
    got = evaluate_cel("mul_div(to_atomic('1.5', 6), 10000 - 50, 10000)", {})
    assert got == 1492500 and type(got) is int
