"""The runner's parts: kind routing, core handlers (against stand-in features), evidence, JSON reading.

The core handlers are exercised here with small stand-in modules for the features they call
(``aisc.eval``, ``aisc.jcs``, ``aisc.compiler``), so their checks are tested whether or not the
real features exist yet; the real features are checked by test_vectors.py.
"""

from __future__ import annotations

import json
import shutil
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from aisc.conformance import kinds_core, registry, runner
from aisc.conformance.context import CASE_FILE, GoldenError, golden_candidates
from aisc.conformance.outcome import Outcome
from aisc.conformance.report import evidence
from aisc.numeric import Dec

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "conformance" / "upstream" / "golden" / "plan-composite.json"


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    registry.clear_cache()
    yield
    registry.clear_cache()


def _module(monkeypatch: pytest.MonkeyPatch, name: str, **attrs: Any) -> types.ModuleType:
    mod = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(mod, k, v)
    monkeypatch.setitem(sys.modules, name, mod)
    return mod


def _ok(inp: Mapping[str, Any], exp: Mapping[str, Any] | None) -> Outcome:
    return Outcome(True)


# ------------------------------------------------------------------ routing


def test_static_kind_with_missing_module_fails_as_not_implemented(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.KIND_MODULES, "future_kind", "aisc.conformance.kinds_not_written")
    res = registry.resolve("future_kind")
    assert (res.status, res.detail) == ("unavailable", "not implemented yet: aisc.conformance.kinds_not_written missing")


def test_prefix_kind_routes_to_its_module(monkeypatch: pytest.MonkeyPatch) -> None:
    _module(monkeypatch, registry.SOLANA, KINDS={"solana_thing": _ok})
    assert registry.resolve("solana_thing").status == "ok"
    assert registry.resolve("solana_thing").module == registry.SOLANA
    other = registry.resolve("solana_other")
    assert other.status == "unknown"
    assert "has no handler for 'solana_other'" in other.detail


def test_prefix_kind_with_missing_module_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "PREFIX_MODULES", (("zz_", "aisc.conformance.kinds_zz_missing"),))
    res = registry.resolve("zz_kind")
    assert res.status == "unknown"
    assert "aisc.conformance.kinds_zz_missing missing" in res.detail


def test_scan_module_provides_other_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    _module(monkeypatch, "fake_runtime_kinds", KINDS={"policy_gate_demo": _ok})
    monkeypatch.setattr(registry, "SCAN_MODULES", ("fake_runtime_kinds",))
    assert registry.resolve("policy_gate_demo").handler is _ok
    assert registry.resolve("nobody_has_this").status == "unknown"


def test_broken_handler_module_is_a_failure_not_unknown(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "broken_kinds_mod.py").write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "PREFIX_MODULES", (("bk_", "broken_kinds_mod"),))
    res = registry.resolve("bk_kind")
    assert res.status == "unavailable"
    assert res.detail == "importing broken_kinds_mod failed: RuntimeError: boom at import"


def test_module_without_kinds_table(monkeypatch: pytest.MonkeyPatch) -> None:
    _module(monkeypatch, "no_table_mod")
    monkeypatch.setitem(registry.KIND_MODULES, "tk", "no_table_mod")
    assert registry.resolve("tk").detail == "no_table_mod has no KINDS table"


def _case(kind: str, inp: Any = None, expect: Any = None, path: Path = Path("v.json")) -> runner.Case:
    return runner.Case("c1", kind, inp if inp is not None else {}, expect, "v.json", path, 0)


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (lambda i, e: 1 / 0, "the k_fake handler (fake_mod) raised ZeroDivisionError: division by zero (an aisc bug)"),
        (lambda i, e: True, "the k_fake handler returned bool, not an Outcome (an aisc bug)"),
    ],
    ids=["raises", "returns-non-outcome"],
)
def test_misbehaving_handler_is_a_failed_case(monkeypatch: pytest.MonkeyPatch, handler: Callable[..., Any],
                                              message: str) -> None:
    _module(monkeypatch, "fake_mod", KINDS={"k_fake": handler})
    monkeypatch.setitem(registry.KIND_MODULES, "k_fake", "fake_mod")
    result = runner.run_case(_case("k_fake"))
    assert (result.status, result.outcome.message) == ("failed", message)


def test_handler_sees_the_case_file(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def spy(i: Mapping[str, Any], e: Mapping[str, Any] | None) -> Outcome:
        seen.append(CASE_FILE.get())
        return Outcome(True)

    _module(monkeypatch, "spy_mod", KINDS={"k_spy": spy})
    monkeypatch.setitem(registry.KIND_MODULES, "k_spy", "spy_mod")
    assert runner.run_case(_case("k_spy", path=Path("/x/vectors/a.json"))).status == "passed"
    assert seen == [Path("/x/vectors/a.json")]
    assert CASE_FILE.get() is None


# ------------------------------------------------------------------ CEL handlers against a stand-in engine


class FakeCelError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _cel_engine(monkeypatch: pytest.MonkeyPatch, result: Any) -> list[tuple[str, Any]]:
    calls: list[tuple[str, Any]] = []

    def evaluate_cel(expression: str, root: Mapping[str, Any]) -> Any:
        calls.append((expression, root))
        if isinstance(result, BaseException):
            raise result
        return result

    _module(monkeypatch, "aisc.eval", evaluate_cel=evaluate_cel, CelError=FakeCelError)
    return calls


CEL_TABLE = [
    # (id, kind, engine result, expect, passed, message)
    ("int-ok", "cel_eval", 1230000, {"value_bigint": "1230000"}, True, ""),
    ("int-differs", "cel_eval", 5, {"value_bigint": "6"}, False, "integer result differs"),
    ("bool-is-not-int", "cel_eval", True, {"value_bigint": "1"}, False, "expected an integer result, got a bool"),
    ("decimal-is-not-int", "cel_eval", Dec(15, 1), {"value_bigint": "1"}, False,
     "expected an integer result, got a decimal"),
    ("string-is-not-int", "cel_eval", "1", {"value_bigint": "1"}, False, "expected an integer result, got a string"),
    ("int-but-error", "cel_eval", FakeCelError("bad"), {"value_bigint": "1"}, False,
     "evaluation failed, expected an integer"),
    ("string-ok", "cel_eval_string", "1.23", {"value_string": "1.23"}, True, ""),
    ("string-differs", "cel_eval_string", "1.230", {"value_string": "1.23"}, False, "string result differs"),
    ("int-is-not-string", "cel_eval_string", 1, {"value_string": "1"}, False, "expected a string result, got a int"),
    ("error-ok", "cel_eval_error", FakeCelError("amount must be non-negative"), {"message_includes": "non-negative"},
     True, ""),
    ("error-no-substring-given", "cel_eval_error", FakeCelError("anything"), {}, True, ""),
    ("error-case-sensitive", "cel_eval_error", FakeCelError("Denom is zero"), {"message_includes": "denom"}, False,
     "the error message does not contain the expected text"),
    ("error-but-value", "cel_eval_error", 3, {"message_includes": "x"}, False,
     "expected evaluation to fail, it returned a value"),
    ("foreign-exception", "cel_eval_error", ZeroDivisionError("division by zero"), {"message_includes": "division"},
     False, "evaluate_cel raised an unexpected ZeroDivisionError: division by zero (an aisc bug)"),
]


@pytest.mark.parametrize(("kind", "result", "expect", "passed", "message"), [t[1:] for t in CEL_TABLE],
                         ids=[t[0] for t in CEL_TABLE])
def test_cel_handlers(monkeypatch: pytest.MonkeyPatch, kind: str, result: Any, expect: dict[str, Any],
                      passed: bool, message: str) -> None:
    calls = _cel_engine(monkeypatch, result)
    out = kinds_core.KINDS[kind]({"expression": "e()", "context": {"a": 1}}, expect)
    assert (out.passed, out.message) == (passed, message)
    assert calls == [("e()", {"a": 1})]


def test_cel_context_defaults_to_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _cel_engine(monkeypatch, 1)
    assert kinds_core.cel_eval({"expression": "1"}, {"value_bigint": "1"}).passed
    assert calls == [("1", {})]


@pytest.mark.parametrize(
    ("module", "kind", "inp", "expect", "message"),
    [
        ("aisc.eval", "cel_eval", {"expression": "1"}, {"value_bigint": "1"}, "not implemented yet: aisc.eval missing"),
        ("aisc.jcs", "jcs_canonicalize", {"value": 1}, {"canonical": "1", "specHashKeccak256": "0x"},
         "not implemented yet: aisc.jcs missing"),
        ("aisc.compiler", "workflow_plan",
         {"protocols_yaml": [], "workflow_yaml": "", "golden_file": "plan-composite.json"}, None,
         "not implemented yet: aisc.compiler missing"),
    ],
    ids=["cel", "jcs", "compiler"],
)
def test_missing_feature_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch, module: str, kind: str,
                                                inp: dict[str, Any], expect: Any, message: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes the import fail as a missing module
    token = CASE_FILE.set(REPO / "conformance" / "upstream" / "vectors" / "core.json")
    try:
        out = kinds_core.KINDS[kind](inp, expect)
    finally:
        CASE_FILE.reset(token)
    assert (out.passed, out.message) == (False, message)


def test_feature_without_the_function(monkeypatch: pytest.MonkeyPatch) -> None:
    _module(monkeypatch, "aisc.jcs", canonicalize=lambda v: "1")
    out = kinds_core.jcs_canonicalize({"value": 1}, {"canonical": "1", "specHashKeccak256": "0x00"})
    assert out.message == "not implemented yet: aisc.jcs.spec_hash missing"


def test_malformed_case_given_to_a_handler_directly() -> None:
    out = kinds_core.cel_eval({"expression": 3}, {"value_bigint": "1"})
    assert (out.passed, out.message) == (False, "malformed case: input.expression must be a string, got int")


@pytest.mark.parametrize(
    ("canonical", "digest", "expect", "passed", "message"),
    [
        ('{"a":1}', "0xAB", {"canonical": '{"a":1}', "specHashKeccak256": "0xab"}, True, ""),
        ('{"a": 1}', "0xab", {"canonical": '{"a":1}', "specHashKeccak256": "0xab"}, False, "canonical JSON differs"),
        ('{"a":1}', "0xcd", {"canonical": '{"a":1}', "specHashKeccak256": "0xab"}, False,
         "specHash (keccak256 of the canonical JSON) differs"),
    ],
    ids=["ok-hex-case-insensitive", "text-differs", "hash-differs"],
)
def test_r253_jcs_handler(monkeypatch: pytest.MonkeyPatch, canonical: str, digest: str, expect: dict[str, str],
                          passed: bool, message: str) -> None:
    _module(monkeypatch, "aisc.jcs", canonicalize=lambda v: canonical, spec_hash=lambda v: digest)
    out = kinds_core.jcs_canonicalize({"value": {"a": 1}}, expect)
    assert (out.passed, out.message) == (passed, message)


# ------------------------------------------------------------------ workflow_plan against a stand-in compiler


def _golden() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(GOLDEN.read_text())
    return doc


def _with_compiler(monkeypatch: pytest.MonkeyPatch, plan: Any) -> list[Any]:
    calls: list[Any] = []

    def plan_from_yaml_texts(protocols: list[str], workflow: str) -> Any:
        calls.append((protocols, workflow))
        if isinstance(plan, BaseException):
            raise plan
        return plan

    _module(monkeypatch, "aisc.compiler", plan_from_yaml_texts=plan_from_yaml_texts)
    return calls


def _run_plan(vector_file: Path, golden_file: str = "plan-composite.json") -> Outcome:
    token = CASE_FILE.set(vector_file)
    try:
        return kinds_core.workflow_plan(
            {"protocols_yaml": ["p: 1"], "workflow_yaml": "w: 1", "golden_file": golden_file}, None)
    finally:
        CASE_FILE.reset(token)


VECTOR = REPO / "conformance" / "upstream" / "vectors" / "core.json"


def test_workflow_plan_matches_golden_ignoring_created_at(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _golden()
    plan["meta"]["created_at"] = "2030-01-01T00:00:00Z"
    calls = _with_compiler(monkeypatch, plan)
    out = _run_plan(VECTOR)
    assert (out.passed, out.message) == (True, "")
    assert calls == [(["p: 1"], "w: 1")]


def _mutated(path: list[Any], value: Any) -> dict[str, Any]:
    plan = _golden()
    target: Any = plan
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    return plan


@pytest.mark.parametrize(
    "plan",
    [
        _mutated(["nodes", 0, "id"], "n1_approve"),
        _mutated(["nodes", 0, "extensions"], {}),
        _mutated(["nodes", 0, "deps"], []),
    ],
    ids=["id-differs", "extra-key", "empty-deps-added"],
)
def test_workflow_plan_differs(monkeypatch: pytest.MonkeyPatch, plan: dict[str, Any]) -> None:
    _with_compiler(monkeypatch, plan)
    out = _run_plan(VECTOR)
    assert (out.passed, out.message) == (False, "plan differs from golden plan-composite.json")
    diff = evidence(out)
    assert diff[1:3] == ["--- expected", "+++ actual"]
    assert any(ln.startswith("+") and not ln.startswith("+++") for ln in diff)


def test_json_equal_tells_true_from_one() -> None:
    assert kinds_core.json_equal({"a": [1, "x", None]}, {"a": [1, "x", None]})
    assert not kinds_core.json_equal({"a": 1}, {"a": True})
    assert not kinds_core.json_equal([0], [False])
    assert not kinds_core.json_equal({"a": 1}, {"a": 1, "b": 2})
    assert not kinds_core.json_equal([1, 2], [1])
    assert not kinds_core.json_equal("1", 1)


@pytest.mark.parametrize(
    ("golden_file", "needle"),
    [
        ("../vectors/core.json", "must be a relative path without '..'"),
        ("/etc/passwd", "must be a relative path without '..'"),
        ("nope.json", "golden file 'nope.json' not found"),
    ],
    ids=["dotdot", "absolute", "missing"],
)
def test_workflow_plan_golden_lookup_errors(monkeypatch: pytest.MonkeyPatch, golden_file: str, needle: str) -> None:
    _with_compiler(monkeypatch, _golden())
    out = _run_plan(VECTOR, golden_file)
    assert not out.passed
    assert needle in out.message


def test_golden_also_found_in_a_golden_subfolder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "golden").mkdir()
    shutil.copy(GOLDEN, tmp_path / "golden" / "plan-composite.json")
    assert golden_candidates(tmp_path / "v.json", "g.json") == [tmp_path.parent / "golden" / "g.json",
                                                                 tmp_path / "golden" / "g.json"]
    _with_compiler(monkeypatch, _golden())
    assert _run_plan(tmp_path / "v.json").passed
    with pytest.raises(GoldenError):
        golden_candidates(tmp_path / "v.json", "a/../b.json")


def test_workflow_plan_compile_errors_are_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    from aisc.diagnostics import CompilationFailed, Diagnostic

    _with_compiler(monkeypatch, CompilationFailed([Diagnostic("AISC-X-001", "bad workflow", hint="fix it")]))
    out = _run_plan(VECTOR)
    assert out.message.startswith("compilation failed:\nerror[AISC-X-001]: bad workflow")


def test_workflow_plan_must_be_plain_json(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_compiler(monkeypatch, {"schema": "ais-plan/0.0.3", "x": object()})
    assert _run_plan(VECTOR).message.startswith("the plan is not plain JSON")


# ------------------------------------------------------------------ evidence rendering


def test_evidence_for_structures_is_a_unified_diff() -> None:
    lines = evidence(Outcome(False, {"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 3]}, "plan differs"))
    assert lines[0] == "plan differs"
    assert "--- expected" in lines and "+++ actual" in lines
    assert "-    2" in lines and "+    3" in lines


def test_evidence_for_long_strings_points_at_first_difference() -> None:
    exp = "0x" + "00" * 40 + "01"
    act = "0x" + "00" * 40 + "02"
    lines = evidence(Outcome(False, exp, act, "calldata differs"))
    assert lines[-1] == "first difference at character 83: expected '1', actual '2'"


def test_evidence_for_same_text_different_type() -> None:
    lines = evidence(Outcome(False, {"a": 1}, {"a": 1}, "differs"))
    assert lines[-1] == "(the values print the same but differ in type)"


def test_evidence_of_exact_decimals_and_bytes() -> None:
    lines = evidence(Outcome(False, "1.5", Dec(15, 1), "x"))
    assert lines[1:] == ['expected: "1.5"', 'actual:   "1.5"']
    lines = evidence(Outcome(False, b"\x01", b"\x02", "x"))
    assert lines[1:] == ['expected: "0x01"', 'actual:   "0x02"']


# ------------------------------------------------------------------ JSON reading


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.50", Dec(15, 1)),
        ("1.0", 1),
        ("-0.25", Dec(-25, 2)),
        ("1e2", 100),
        ("25e-1", Dec(25, 1)),
        ("123456789012345678901234567890", 123456789012345678901234567890),
    ],
)
def test_json_numbers_are_exact(text: str, value: Any) -> None:
    got = runner.parse_json(text)
    assert got == value and type(got) is type(value)


def test_json_huge_exponent_rejected() -> None:
    with pytest.raises(ValueError, match="outside the supported range"):
        runner.parse_json("1e999999")


def test_select_filters() -> None:
    cases = tuple(runner.Case(cid, kind, {}, None, "f", Path("f"), i)
                  for i, (cid, kind) in enumerate([("a-1", "x"), ("b-1", "y"), ("a-2", "y")]))
    suite = runner.SuiteFile("f", Path("f"), cases)
    assert [c.id for c in runner.select([suite], ["y"])] == ["b-1", "a-2"]
    assert [c.id for c in runner.select([suite], [], ["a-"])] == ["a-1", "a-2"]
    assert [c.id for c in runner.select([suite], ["y"], ["a-", "zz"])] == ["a-2"]
    assert [c.id for c in runner.select([suite])] == ["a-1", "b-1", "a-2"]


# ------------------------------------------------------------------ documentation of kinds


def test_every_available_and_used_kind_is_documented() -> None:
    """kinds_doc lists every kind a handler module provides and every kind a bundled suite uses."""
    from aisc.conformance.kinds_doc import KIND_DOCS

    used = {c.kind for s in runner.load() for c in s.cases}
    provided = set(registry.available_kinds())
    assert sorted((used | provided) - set(KIND_DOCS)) == []


def test_every_documented_kind_is_in_the_guide() -> None:
    from aisc.conformance.kinds_doc import KIND_DOCS

    guide = (REPO / "docs" / "conformance.md").read_text()
    assert [k for k in KIND_DOCS if f"| `{k}` |" not in guide] == []


def test_strict_kinds_are_the_upstream_schema_kinds() -> None:
    """The load-time shape check (AISC-CONF-006) covers exactly the kinds of conformance.schema.json."""
    from aisc.conformance.kinds_doc import KIND_DOCS

    schema = json.loads((REPO / "aisc" / "data" / "schemas" / "conformance.schema.json").read_text())
    schema_kinds = {d["properties"]["kind"]["const"] for d in schema["$defs"].values()
                    if "kind" in d.get("properties", {})}
    assert {k for k, d in KIND_DOCS.items() if d.strict} == schema_kinds
