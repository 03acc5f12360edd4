"""Conformance kinds owned by the runtime: ``policy_gate``, ``patch_guard``, ``json_codec``.

- ``policy_gate``: input ``{pack, gate_input, guards?}``; expect ``{kind, reason_includes?,
  violations?: [constraint...], approval_reasons_count?}``.
- ``patch_guard``: input ``{patches, guard?, root?, continue_on_error?}``; expect ``{applied?,
  rejected?, error_code?, affected_paths?, partial_success?, hash?, root?}`` (``root`` compares only
  the keys given).
- ``json_codec``: input ``{value}`` → expect ``{text}`` (ais-json/1 encoding), or input ``{text}`` →
  expect ``{value}`` (decoding) or ``{error_includes}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aisc.conformance.outcome import KindHandler, Outcome


def policy_gate(case_input: Mapping[str, Any], expect: Mapping[str, Any] | None) -> Outcome:
    from aisc.runtime.policy import enforce_policy_gate

    exp = dict(expect or {})
    try:
        out = enforce_policy_gate(case_input.get("pack"), case_input.get("gate_input") or {},
                                  guards=case_input.get("guards") or ())
    except Exception as e:  # a crash is a failed case, never an exception out of the runner
        return Outcome(False, exp, None, f"policy gate raised {type(e).__name__}: {e}")
    actual: dict[str, Any] = {"kind": out["kind"]}
    if "reason" in out:
        actual["reason"] = out["reason"]
    details = out.get("details") or {}
    if "violations" in exp:
        actual["violations"] = [v.get("constraint") for v in details.get("violations") or ()]
    if "approval_reasons_count" in exp:
        actual["approval_reasons_count"] = len(details.get("approval_reasons") or ())
    ok = actual["kind"] == exp.get("kind")
    if ok and "reason_includes" in exp:
        ok = str(exp["reason_includes"]) in str(actual.get("reason", ""))
    for key in ("violations", "approval_reasons_count"):
        if ok and key in exp:
            ok = actual[key] == exp[key]
    return Outcome(ok, exp, actual, "" if ok else "policy decision differs")


def patch_guard(case_input: Mapping[str, Any], expect: Mapping[str, Any] | None) -> Outcome:
    import copy

    from aisc.runtime.evaluator import new_root
    from aisc.runtime.patch import RuntimePatchError, apply_patches, build_guard_policy

    exp = dict(expect or {})
    root = new_root()
    for k, v in dict(case_input.get("root") or {}).items():
        root[k] = copy.deepcopy(v)
    actual: dict[str, Any] = {}
    try:
        guard = build_guard_policy(case_input.get("guard"))
        res = apply_patches(root, case_input.get("patches"), guard=guard,
                            continue_on_error=bool(case_input.get("continue_on_error", False)))
        audit = res.audit
    except RuntimePatchError as e:
        actual["error_code"] = e.code
        audit = e.details.get("audit") or {}
    if audit:
        actual.update(applied=audit["applied_count"], rejected=audit["rejected_count"],
                      affected_paths=audit["affected_paths"], partial_success=audit["partial_success"],
                      hash=audit["hash"])
    problems: list[str] = [k for k in ("applied", "rejected", "error_code", "affected_paths", "partial_success", "hash")
                if k in exp and actual.get(k) != exp[k]]
    if "error_code" not in exp and "error_code" in actual:
        problems.append("error_code")
    if "root" in exp:
        got = {k: root.get(k) for k in exp["root"]}
        actual["root"] = got
        if got != exp["root"]:
            problems.append("root")
    return Outcome(not problems, exp, actual, f"differs in: {', '.join(problems)}" if problems else "")


def json_codec(case_input: Mapping[str, Any], expect: Mapping[str, Any] | None) -> Outcome:
    from aisc import aisjson

    exp = dict(expect or {})
    if "value" in case_input:
        try:
            text = aisjson.dumps(case_input["value"])
        except Exception as e:
            return Outcome(False, exp, None, f"encode raised {type(e).__name__}: {e}")
        return Outcome(text == exp.get("text"), exp, {"text": text}, "" if text == exp.get("text") else "encoding differs")
    if "text" in case_input:
        try:
            value = aisjson.loads(str(case_input["text"]))
        except ValueError as e:
            if "error_includes" in exp:
                ok = str(exp["error_includes"]) in str(e)
                return Outcome(ok, exp, {"error": str(e)}, "" if ok else "error message differs")
            return Outcome(False, exp, {"error": str(e)}, "decode failed")
        ok = "value" in exp and value == exp["value"] and type(value) is type(exp["value"])
        return Outcome(ok, exp, {"value": value}, "" if ok else "decoded value differs")
    return Outcome(False, exp, None, "json_codec input needs 'value' or 'text'")


KINDS: dict[str, KindHandler] = {
    "policy_gate": policy_gate,
    "patch_guard": patch_guard,
    "json_codec": json_codec,
}
