"""Handlers for the upstream core kinds: JCS, CEL evaluation, chain pattern selection, workflow plan.

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
}
