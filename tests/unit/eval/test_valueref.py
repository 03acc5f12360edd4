"""ValueRef evaluation over the runtime root (SPEC-MAP §4.2–§4.4; R017, R019, R051–R058, R063)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from aisc.eval import (
    CelEvalError,
    CelEvalFailed,
    DetectCapabilitiesMissing,
    DetectError,
    DetectUnsupported,
    EvalOptions,
    MissingRef,
    evaluate_value_ref,
    resolve_ref,
)
from aisc.ir.valueref import Cel, Detect, Lit, ObjectRef, Ref, ValueRefError

from ._helpers import make_root

OK = [
    ({"lit": "100"}, "100"),
    ({"lit": {"a": [1, None]}}, {"a": [1, None]}),
    ({"lit": None}, None),
    ({"ref": "inputs.amount"}, 1000000),
    ({"ref": "inputs.map.n"}, None),
    ({"ref": "inputs.list.0"}, 1),
    ({"ref": "inputs.list.2"}, 3),
    ({"ref": "nodes.q.outputs.list.1"}, 20),
    ({"ref": "inputs..amount"}, 1000000),
    ({"ref": "query.allowance-token.allowance_atomic"}, 0),
    ({"ref": "params.amount_in"}, "2500000"),
    ({"cel": "inputs.amount * 2"}, 2000000),
    ({"cel": "inputs.missing"}, None),
    ({"object": {"a": {"lit": 1}, "b": {"ref": "params.x"}}}, {"a": 1, "b": 2}),
    ({"array": [{"lit": 1}, {"cel": "1 + 1"}, {"array": []}]}, [1, 2, []]),
    ({"detect": {"kind": "choose_one", "candidates": [{"lit": "100"}, {"lit": "200"}]}}, "100"),
    ({"detect": {"kind": "choose_one", "candidates": ["plain", "other"]}}, "plain"),
    ({"detect": {"kind": "choose_one", "candidates": [{"ref": "params.x"}]}}, 2),
    ({"detect": {"kind": "choose_one", "candidates": [{"a": 1, "b": 2}]}}, {"a": 1, "b": 2}),
]


@pytest.mark.parametrize(("vr", "want"), OK, ids=[repr(v) for v, _ in OK])
def test_r051_value_ref_forms(vr: Mapping[str, Any], want: Any) -> None:
    assert evaluate_value_ref(vr, make_root()) == want


def test_ir_objects_are_accepted() -> None:
    root = make_root()
    assert evaluate_value_ref(Lit(5), root) == 5
    assert evaluate_value_ref(Ref("params.x"), root) == 2
    assert evaluate_value_ref(ObjectRef({"c": Cel("params.x + 1")}), root) == {"c": 3}


MISSING = ["inputs.nope", "inputs.map.n.deeper", "inputs.amount.x", "inputs.list.3", "inputs.list.x",
           "nodes.zz.outputs", "unknown_root.a", "", "..."]


@pytest.mark.parametrize("path", MISSING)
def test_r058_missing_ref_carries_path(path: str) -> None:
    with pytest.raises(MissingRef) as ei:
        evaluate_value_ref({"ref": path} if path else Ref(path), make_root())
    assert ei.value.path == path
    assert str(ei.value) == f"Missing ref: {path}"


def test_resolve_ref_returns_present_null() -> None:
    assert resolve_ref("inputs.nul", make_root()) is None


def test_params_override_without_copy() -> None:
    root = make_root()
    assert evaluate_value_ref({"ref": "params.x"}, root, params={"x": 9}) == 9
    assert evaluate_value_ref({"cel": "params.x + inputs.bps"}, root, params={"x": 9}) == 59
    with pytest.raises(MissingRef):
        evaluate_value_ref({"ref": "params.amount_in"}, root, params={"x": 9})
    assert root["params"] == {"x": 2, "amount_in": "2500000"}


def test_params_override_when_root_has_no_params() -> None:
    assert evaluate_value_ref({"cel": "params.a"}, {"inputs": {}}, params={"a": 1}) == 1


def test_cel_failure_is_wrapped_with_cause() -> None:
    with pytest.raises(CelEvalFailed) as ei:
        evaluate_value_ref({"cel": "1 / 0"}, make_root())
    assert str(ei.value) == "CEL eval failed: 1 / 0: Division by zero"
    assert isinstance(ei.value.__cause__, CelEvalError)
    assert ei.value.__cause__.start == 0


def test_cel_syntax_failure_is_wrapped() -> None:
    with pytest.raises(CelEvalFailed, match=r"CEL eval failed: 1 \+: Unexpected end of expression"):
        evaluate_value_ref({"cel": "1 +"}, make_root())


def test_r053_bare_scalar_is_rejected() -> None:
    with pytest.raises(ValueRefError):
        evaluate_value_ref({"lit": 1, "ref": "x"}, make_root())


def test_r017_requires_capabilities_checked_before_resolution() -> None:
    """R016/R017: a detect may declare requires_capabilities; they are checked before resolving."""
    vr = {"detect": {"kind": "choose_one", "candidates": [{"lit": 1}],
                     "requires_capabilities": ["detect:x", "cel:v1", "detect:y"]}}
    with pytest.raises(DetectCapabilitiesMissing) as ei:
        evaluate_value_ref(vr, make_root())
    assert str(ei.value) == "Detect requires missing capabilities: detect:x, detect:y"
    assert ei.value.missing == ("detect:x", "detect:y")


def test_r017_capabilities_from_options_override_ctx() -> None:
    vr = {"detect": {"kind": "choose_one", "candidates": [{"lit": 1}], "requires_capabilities": ["detect:x"]}}
    assert evaluate_value_ref(vr, make_root(), options=EvalOptions(capabilities=frozenset({"detect:x"}))) == 1
    with pytest.raises(DetectCapabilitiesMissing):
        evaluate_value_ref(vr, make_root(), options=EvalOptions(capabilities=frozenset()))


def test_r019_choose_one_needs_candidates() -> None:
    with pytest.raises(DetectError, match=r"detect\.choose_one requires non-empty candidates"):
        evaluate_value_ref({"detect": {"kind": "choose_one", "candidates": []}}, make_root())
    with pytest.raises(DetectError, match="non-empty candidates"):
        evaluate_value_ref(Detect(kind="choose_one"), make_root())


@pytest.mark.parametrize(("kind", "provider", "shown"), [
    ("best_quote", None, "auto"), ("best_path", "p1", "p1"), ("protocol_specific", "uni", "uni")])
def test_r063_unsupported_kind_without_resolver(kind: str, provider: str | None, shown: str) -> None:
    d: dict[str, Any] = {"kind": kind}
    if provider:
        d["provider"] = provider
    with pytest.raises(DetectUnsupported) as ei:
        evaluate_value_ref({"detect": d}, make_root())
    assert str(ei.value) == f'Detect kind "{kind}" unsupported without resolver (provider: {shown})'
    assert ei.value.detect.kind == kind


class _Resolver:
    def __init__(self, result: Any) -> None:
        self.result = result
        self.calls: list[tuple[str, str | None]] = []

    def resolve(self, detect: Detect, root: Mapping[str, Any], chain: str | None) -> Any:
        self.calls.append((detect.kind, chain))
        return self.result


def test_r020_resolver_value_and_valueref_results() -> None:
    r = _Resolver({"cel": "params.x * 10"})
    opts = EvalOptions(detect_resolver=r, chain="eip155:1")
    assert evaluate_value_ref({"detect": {"kind": "best_quote"}}, make_root(), options=opts) == 20
    assert r.calls == [("best_quote", "eip155:1")]
    r2 = _Resolver(12345)
    assert evaluate_value_ref({"detect": {"kind": "best_path"}}, make_root(),
                              options=EvalOptions(detect_resolver=r2)) == 12345


def test_value_ref_nested_errors_propagate() -> None:
    with pytest.raises(MissingRef, match=r"Missing ref: inputs\.zz"):
        evaluate_value_ref({"object": {"a": {"array": [{"ref": "inputs.zz"}]}}}, make_root())
