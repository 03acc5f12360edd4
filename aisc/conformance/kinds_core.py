"""Handlers for the core kinds: JCS, CEL evaluation, chain pattern selection, workflow plan (upstream),
and aisc's own ``workflow_plan_error``, ``valueref_eval`` and ``ais_value_validate``.

Each handler imports the feature it checks on first use, and reports a missing or broken feature
as a failed :class:`Outcome` (``not implemented yet: aisc.compiler missing``), never an exception.
Shapes of the inputs and expectations are documented in :mod:`aisc.conformance.kinds_doc`.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from aisc.conformance.outcome import KindHandler, Outcome


class _Unavailable(Exception):
    def __init__(self, outcome: Outcome):
        self.outcome = outcome


def _feature(module: str, *names: str) -> list[Any]:
    """``[module.name, ...]``; raises :class:`_Unavailable` with a clear outcome when absent."""
    try:
        mod: ModuleType = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is not None and (module == e.name or module.startswith(e.name + ".")):
            raise _Unavailable(Outcome(False, message=f"not implemented yet: {module} missing"))
        raise _Unavailable(Outcome(False, message=f"importing {module} failed: {type(e).__name__}: {e}"))
    except Exception as e:
        raise _Unavailable(Outcome(False, message=f"importing {module} failed: {type(e).__name__}: {e}"))
    out = []
    for name in names:
        if not hasattr(mod, name):
            raise _Unavailable(Outcome(False, message=f"not implemented yet: {module}.{name} missing"))
        out.append(getattr(mod, name))
    return out


def _guarded(fn: Callable[[Mapping[str, Any], Mapping[str, Any]], Outcome]) -> KindHandler:
    """Turn missing features and malformed cases into failed outcomes; ``expect`` defaults to {}."""

    def handler(case_input: Mapping[str, Any], case_expect: Mapping[str, Any] | None) -> Outcome:
        try:
            return fn(case_input, case_expect if case_expect is not None else {})
        except _Unavailable as e:
            return e.outcome
        except _Malformed as e:
            return Outcome(False, message=f"malformed case: {e}")

    handler.__name__ = fn.__name__
    handler.__doc__ = fn.__doc__
    return handler


class _Malformed(Exception):
    pass


def _field(obj: Mapping[str, Any], where: str, name: str, typ: type | tuple[type, ...],
           *, optional: bool = False) -> Any:
    if name not in obj:
        if optional:
            return None
        raise _Malformed(f"{where}.{name} is missing")
    v = obj[name]
    if not isinstance(v, typ) or (isinstance(v, bool) and typ is not bool):
        raise _Malformed(f"{where}.{name} must be a {_TYPE_NAMES.get(typ, str(typ))}, got {_type_name(v)}")
    return v


_TYPE_NAMES: dict[Any, str] = {str: "string", list: "list", Mapping: "object", bool: "bool"}


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, str):
        return "string"
    if isinstance(v, Mapping):
        return "object"
    if isinstance(v, list | tuple):
        return "list"
    name = type(v).__name__
    return "decimal" if name == "Dec" else name


def _unexpected(what: str, e: BaseException) -> Outcome:
    return Outcome(False, message=f"{what} raised an unexpected {type(e).__name__}: {e} (an aisc bug)")


# ------------------------------------------------------------------ JCS


@_guarded
def jcs_canonicalize(inp: Mapping[str, Any], exp: Mapping[str, Any]) -> Outcome:
    """canonicalize(value) == canonical and spec_hash(value) == specHashKeccak256."""
    if "value" not in inp:
        raise _Malformed("input.value is missing")
    want_text = _field(exp, "expect", "canonical", str)
    want_hash = _field(exp, "expect", "specHashKeccak256", str)
    canonicalize, spec_hash = _feature("aisc.jcs", "canonicalize", "spec_hash")
    try:
        text = canonicalize(inp["value"])
    except Exception as e:
        return _unexpected("aisc.jcs.canonicalize", e)
    if text != want_text:
        return Outcome(False, want_text, text, "canonical JSON differs")
    try:
        digest = spec_hash(inp["value"])
    except Exception as e:
        return _unexpected("aisc.jcs.spec_hash", e)
    if not isinstance(digest, str) or digest.lower() != want_hash.lower():
        return Outcome(False, want_hash, digest, "specHash (keccak256 of the canonical JSON) differs")
    return Outcome(True, want_text, text)


# ------------------------------------------------------------------ CEL


def _cel(inp: Mapping[str, Any]) -> tuple[Callable[..., Any], type[BaseException], str, Mapping[str, Any]]:
    expression = _field(inp, "input", "expression", str)
    context = _field(inp, "input", "context", Mapping, optional=True)
    evaluate_cel, cel_error = _feature("aisc.eval", "evaluate_cel", "CelError")
    return evaluate_cel, cel_error, expression, context if context is not None else {}


def _error_message(e: BaseException) -> str:
    msg = getattr(e, "message", None)
    return msg if isinstance(msg, str) else str(e)


@_guarded
def cel_eval(inp: Mapping[str, Any], exp: Mapping[str, Any]) -> Outcome:
    """The expression evaluates to an int (not bool, not decimal) whose decimal text is value_bigint."""
    want = _field(exp, "expect", "value_bigint", str)
    evaluate, cel_error, expression, root = _cel(inp)
    try:
        v = evaluate(expression, root)
    except cel_error as e:
        return Outcome(False, want, f"error: {_error_message(e)}", "evaluation failed, expected an integer")
    except Exception as e:
        return _unexpected("evaluate_cel", e)
    if type(v) is not int:
        return Outcome(False, want, v, f"expected an integer result, got a {_type_name(v)}")
    if str(v) != want:
        return Outcome(False, want, str(v), "integer result differs")
    return Outcome(True, want, str(v))


@_guarded
def cel_eval_string(inp: Mapping[str, Any], exp: Mapping[str, Any]) -> Outcome:
    """The expression evaluates to a string equal to value_string."""
    want = _field(exp, "expect", "value_string", str)
    evaluate, cel_error, expression, root = _cel(inp)
    try:
        v = evaluate(expression, root)
    except cel_error as e:
        return Outcome(False, want, f"error: {_error_message(e)}", "evaluation failed, expected a string")
    except Exception as e:
        return _unexpected("evaluate_cel", e)
    if not isinstance(v, str):
        return Outcome(False, want, v, f"expected a string result, got a {_type_name(v)}")
    if v != want:
        return Outcome(False, want, v, "string result differs")
    return Outcome(True, want, v)


@_guarded
def cel_eval_error(inp: Mapping[str, Any], exp: Mapping[str, Any]) -> Outcome:
    """Evaluation raises a CelError whose message contains message_includes."""
    want = _field(exp, "expect", "message_includes", str, optional=True)
    evaluate, cel_error, expression, root = _cel(inp)
    try:
        v = evaluate(expression, root)
    except cel_error as e:
        return _substring(want, _error_message(e))
    except Exception as e:
        return _unexpected("evaluate_cel", e)
    return Outcome(False, f"an error containing {want!r}" if want else "an error", v,
                   "expected evaluation to fail, it returned a value")


def _substring(want: str | None, message: str) -> Outcome:
    if want is None or want in message:
        return Outcome(True, want, message, relation="substring")
    return Outcome(False, want, message, "the error message does not contain the expected text",
                   relation="substring")


# ------------------------------------------------------------------ chain patterns


@_guarded
def select_execution_spec(inp: Mapping[str, Any], exp: Mapping[str, Any]) -> Outcome:
    """The spec selected for chain (exact, then '<namespace>:*', then '*') has type expect.type."""
    chain = _field(inp, "input", "chain", str)
    block = _field(inp, "input", "execution", Mapping)
    want = _field(exp, "expect", "type", str)
    (select,) = _feature("aisc.ir.chains", "select_execution")
    try:
        spec = select(block, chain)
    except LookupError as e:
        return Outcome(False, want, f"error: {e}", "selection failed, expected a spec")
    except Exception as e:
        return _unexpected("select_execution", e)
    got = spec.get("type") if isinstance(spec, Mapping) else None
    if got != want:
        return Outcome(False, want, got, "selected spec has another type")
    return Outcome(True, want, got)


@_guarded
def select_execution_spec_error(inp: Mapping[str, Any], exp: Mapping[str, Any]) -> Outcome:
    """Selection fails (no spec for the chain) with a message containing message_includes."""
    chain = _field(inp, "input", "chain", str)
    block = _field(inp, "input", "execution", Mapping)
    want = _field(exp, "expect", "message_includes", str, optional=True)
    (select,) = _feature("aisc.ir.chains", "select_execution")
    try:
        spec = select(block, chain)
    except LookupError as e:
        return _substring(want, str(e))
    except Exception as e:
        return _unexpected("select_execution", e)
    return Outcome(False, f"an error containing {want!r}" if want else "an error", spec,
                   "expected selection to fail, it returned a spec")


# ------------------------------------------------------------------ workflow → plan golden


@_guarded
def workflow_plan(inp: Mapping[str, Any], exp: Mapping[str, Any]) -> Outcome:
    """The compiled plan (JSON round-tripped, meta.created_at = "<ignored>") equals the golden file."""
    protocols = _field(inp, "input", "protocols_yaml", list)
    if not all(isinstance(p, str) for p in protocols):
        raise _Malformed("input.protocols_yaml must be a list of strings")
    workflow = _field(inp, "input", "workflow_yaml", str)
    golden_name = _field(inp, "input", "golden_file", str)

    from aisc.conformance.context import GoldenError, find_golden

    try:
        golden_path = find_golden(golden_name)
        golden = json.loads(golden_path.read_text(encoding="utf-8"))
    except GoldenError as e:
        return Outcome(False, message=str(e))
    except (OSError, ValueError) as e:
        return Outcome(False, message=f"cannot read golden file {golden_name!r}: {e}")

    (plan_from_yaml_texts,) = _feature("aisc.compiler", "plan_from_yaml_texts")
    from aisc.diagnostics import CompilationFailed, render_text

    try:
        plan = plan_from_yaml_texts(list(protocols), workflow)
    except CompilationFailed as e:
        return Outcome(False, message="compilation failed:\n" + render_text(e.diagnostics))
    except Exception as e:
        return _unexpected("plan_from_yaml_texts", e)
    try:
        plan = json.loads(json.dumps(plan, ensure_ascii=False))
    except (TypeError, ValueError) as e:
        return Outcome(False, message=f"the plan is not plain JSON: {e}")
    if isinstance(plan, dict) and isinstance(plan.get("meta"), dict):
        plan["meta"]["created_at"] = "<ignored>"
    if not json_equal(plan, golden):
        return Outcome(False, golden, plan, f"plan differs from golden {golden_name}")
    return Outcome(True, golden, plan)


@_guarded
def workflow_plan_error(inp: Mapping[str, Any], exp: Mapping[str, Any]) -> Outcome:
    """Compilation fails with an error diagnostic of code expect.code (message containing message_includes)."""
    protocols = _field(inp, "input", "protocols_yaml", list)
    if not all(isinstance(p, str) for p in protocols):
        raise _Malformed("input.protocols_yaml must be a list of strings")
    workflow = _field(inp, "input", "workflow_yaml", str)
    want_code = _field(exp, "expect", "code", str)
    want_text = _field(exp, "expect", "message_includes", str, optional=True)
    (plan_from_yaml_texts,) = _feature("aisc.compiler", "plan_from_yaml_texts")
    from aisc.diagnostics import CompilationFailed

    want = f"error {want_code}" + (f" with a message containing {want_text!r}" if want_text else "")
    try:
        plan_from_yaml_texts(list(protocols), workflow)
    except CompilationFailed as e:
        errors = [d for d in e.diagnostics if d.severity == "error"]
        got = [f"{d.code}: {d.message}" for d in errors]
        same_code = [d for d in errors if d.code == want_code]
        if not same_code:
            return Outcome(False, want, got, f"compilation failed, but without an error {want_code}")
        if want_text is not None and not any(want_text in d.message for d in same_code):
            return Outcome(False, want_text, [d.message for d in same_code],
                           f"no {want_code} message contains the expected text", relation="substring")
        return Outcome(True, want, got)
    except Exception as e:
        return _unexpected("plan_from_yaml_texts", e)
    return Outcome(False, want, "a plan", "expected compilation to fail, it produced a plan")


# ------------------------------------------------------------------ ValueRef evaluation


def _to_case_json(v: Any) -> Any:
    """An evaluation result in the vectors' JSON form: ints as tagged bigints, decimals exact."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return {"__ais_json_type": "bigint", "value": str(v)}
    if isinstance(v, Mapping):
        return {str(k): _to_case_json(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_to_case_json(x) for x in v]
    return v  # Dec (compared exactly with the JSON number of the vector); anything else fails to compare


def _plain_ints(v: Any, where: str) -> None:
    """expect.value writes every integer as a tagged bigint (one rule, readable by any JSON parser)."""
    if isinstance(v, bool):
        return
    if isinstance(v, int):
        raise _Malformed(f'{where} is a plain JSON integer; write integers as '
                         f'{{"__ais_json_type": "bigint", "value": "{v}"}}')
    if isinstance(v, Mapping):
        for k, x in v.items():
            _plain_ints(x, f"{where}.{k}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            _plain_ints(x, f"{where}[{i}]")


@_guarded
def valueref_eval(inp: Mapping[str, Any], exp: Mapping[str, Any]) -> Outcome:
    """evaluate_value_ref(value_ref, root, params=..., capabilities=...) equals expect.value, or fails
    with a message containing expect.error_includes (a MissingRef for expect.missing_ref)."""
    if "value_ref" not in inp:
        raise _Malformed("input.value_ref is missing")
    root = _field(inp, "input", "root", Mapping)
    params = _field(inp, "input", "params", Mapping, optional=True)
    caps = _field(inp, "input", "capabilities", list, optional=True)
    if caps is not None and not all(isinstance(c, str) for c in caps):
        raise _Malformed("input.capabilities must be a list of strings")
    has_value = "value" in exp
    want_error = _field(exp, "expect", "error_includes", str, optional=True)
    want_missing = _field(exp, "expect", "missing_ref", str, optional=True)
    if has_value == (want_error is not None or want_missing is not None):
        raise _Malformed("expect needs either value, or error_includes (and optionally missing_ref)")
    if has_value:
        _plain_ints(exp["value"], "expect.value")
    evaluate, eval_options, vr_error, missing_ref_cls = _feature(
        "aisc.eval", "evaluate_value_ref", "EvalOptions", "ValueRefEvalError", "MissingRef")
    from aisc.aisjson import revive
    from aisc.ir.valueref import ValueRefError

    options = eval_options(capabilities=frozenset(caps)) if caps is not None else None
    try:
        v = evaluate(revive(inp["value_ref"]), revive(dict(root)),
                     params=revive(dict(params)) if params is not None else None, options=options)
    except (vr_error, ValueRefError) as e:
        message = _error_message(e)
        if has_value:
            return Outcome(False, exp["value"], f"error: {message}", "evaluation failed, expected a value")
        if want_missing is not None:
            path = getattr(e, "path", None) if isinstance(e, missing_ref_cls) else None
            if path != want_missing:
                return Outcome(False, f"Missing ref: {want_missing}", message,
                               "expected a missing ref error for this path")
        return _substring(want_error, message)
    except Exception as e:
        return _unexpected("evaluate_value_ref", e)
    got = _to_case_json(v)
    if not has_value:
        what = want_error if want_error is not None else f"Missing ref: {want_missing}"
        return Outcome(False, f"an error containing {what!r}", got, "expected evaluation to fail, it returned a value")
    if not json_equal(got, exp["value"]):
        return Outcome(False, exp["value"], got, "value differs")
    return Outcome(True, exp["value"], got)


# ------------------------------------------------------------------ typed value validation


_FAMILIES = ("evm", "solana")


@_guarded
def ais_value_validate(inp: Mapping[str, Any], exp: Mapping[str, Any]) -> Outcome:
    """validate_value(type, value, ...) reports no problem (valid) or problems, one with code expect.code."""
    typ = _field(inp, "input", "type", str)
    if "value" not in inp:
        raise _Malformed("input.value is missing")
    family = inp.get("chain_family")
    if family is not None and family not in _FAMILIES:
        raise _Malformed('input.chain_family must be "evm", "solana" or null')
    decimals = inp.get("asset_decimals")
    if decimals is not None and (type(decimals) is not int):
        raise _Malformed("input.asset_decimals must be an integer")
    constraints = _field(inp, "input", "constraints", Mapping, optional=True)
    want_valid = _field(exp, "expect", "valid", bool)
    want_code = _field(exp, "expect", "code", str, optional=True)
    if want_valid and want_code is not None:
        raise _Malformed("expect.code only goes with valid: false")
    (validate_value,) = _feature("aisc.ir.values", "validate_value")
    try:
        problems = validate_value(typ, inp["value"], chain_family=family, path="$", asset_decimals=decimals,
                                  constraints=constraints)
    except Exception as e:
        return _unexpected("validate_value", e)
    got = [f"{p.code}: {p.message}" for p in problems]
    if want_valid:
        if problems:
            return Outcome(False, "valid (no problem)", got, "the value was rejected")
        return Outcome(True, "valid (no problem)", [])
    if not problems:
        return Outcome(False, f"a problem {want_code}" if want_code else "a problem", [], "the value was accepted")
    if want_code is not None and not any(p.code == want_code for p in problems):
        return Outcome(False, f"a problem {want_code}", got, f"the value was rejected, but not with {want_code}")
    return Outcome(True, want_code or "a problem", got)


def json_equal(a: Any, b: Any) -> bool:
    """Deep equality of JSON values that, unlike ``==``, tells ``true`` from ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(b, dict | list):
        return False
    return type(a) is type(b) and bool(a == b)


KINDS: dict[str, KindHandler] = {
    "jcs_canonicalize": jcs_canonicalize,
    "cel_eval": cel_eval,
    "cel_eval_string": cel_eval_string,
    "cel_eval_error": cel_eval_error,
    "select_execution_spec": select_execution_spec,
    "select_execution_spec_error": select_execution_spec_error,
    "workflow_plan": workflow_plan,
    "workflow_plan_error": workflow_plan_error,
    "valueref_eval": valueref_eval,
    "ais_value_validate": ais_value_validate,
}
