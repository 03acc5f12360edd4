"""Numeric literals (R054, R113, R117–R119): YAML numbers never feed on-chain integers.

An integer target is an ``intN``/``uintN`` param, an ABI integer input (tuple components and array
elements included), an ``evm_call.value``, a Solana instruction ``data`` field or ``compute_units``.
A literal feeding one must be an IntegerString (``{lit: "2"}``); a YAML number (``{lit: 2}``,
``{lit: 1.5}``, ``{lit: 1e18}``) is an error. ``token_amount`` literals must be DecimalStrings
(no exponent, no sign, digits on both sides of a dot) or the sentinel ``"max"`` (D16).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from aisc.diagnostics import Diagnostic
from aisc.numeric import DECIMAL_STRING, INTEGER_STRING
from aisc.passes import _refs
from aisc.passes.model import Analysis, Doc, NodeInfo, Workspace, pk, target_params

INT_TYPE = re.compile(r"^u?int(\d*)$")
HINT = 'write it as a decimal string: {lit: "%s"}'


def check_numeric_literals(ws: Workspace, an: Analysis) -> list[Diagnostic]:
    """Reject YAML numbers feeding integer targets and malformed token_amount literals."""
    diags: list[Diagnostic] = []
    wf = ws.workflow
    inputs = wf.get("inputs")
    if isinstance(inputs, dict):
        for name, decl in inputs.items():
            if isinstance(decl, dict) and "default" in decl:
                diags.extend(_check_value(decl.get("type"), decl["default"], wf, pk("$.inputs", name) + ".default",
                                          "AISC-NUM-003", f'default of input "{name}"'))
    seen: set[tuple[str, str | None, str | None]] = set()
    for n in an.rich_args:  # the only nodes whose arguments can hold a literal
        diags.extend(_node_args(n, wf))
    for n in ws.targets:
        if n.protocol_doc is None or n.target is None:
            continue
        key = (n.protocol, n.target_name, n.spec_key)
        if key not in seen:
            seen.add(key)
            diags.extend(protocol_target_diags(n))
    return diags


def protocol_target_diags(n: NodeInfo) -> tuple[Diagnostic, ...]:
    """The literal checks of the action/query a node uses, in its protocol. They depend on the
    protocol document alone, so they are remembered on it (:meth:`Doc.remember`)."""
    doc = n.protocol_doc
    assert doc is not None and n.target is not None
    return doc.remember(("numeric_literals", n.is_action, n.target_name, n.spec_key), _protocol_target, n, doc)


def _node_args(n: NodeInfo, wf: Doc) -> list[Diagnostic]:
    if n.target is None:
        return []
    params = target_params(n)
    args = n.raw.get("args")
    if not isinstance(args, dict):
        return []
    out: list[Diagnostic] = []
    for name, v in args.items():
        if _refs.tag_of(v) != "lit":
            continue
        param = params.get(str(name))
        if param is None:
            continue
        t = str(param.get("type"))
        out.extend(_check_value(t, v["lit"], wf, pk(f"{n.path}.args", name) + ".lit", "AISC-NUM-001",
                               f'arg "{name}" ({t}) of node "{n.id}"'))
    return out


def _check_value(type_: Any, value: Any, doc: Doc, path: str, code: str, what: str) -> list[Diagnostic]:
    t = str(type_) if type_ is not None else ""
    m = INT_TYPE.match(t)
    if m:
        if _is_yaml_number(value):
            return [_diag(code, f"{what} is a YAML number; on-chain integers must be decimal strings (R054, R117)",
                          doc, path, HINT % _show_number(value))]
        if isinstance(value, str) and not INTEGER_STRING.match(value):
            return [_diag("AISC-NUM-004", f"{what} is {value!r}, not an integer string (R118, R119)", doc, path,
                          'write digits only, e.g. "1000000" (no exponent, sign "+", spaces or decimals)')]
        return []
    if t == "token_amount":
        if _is_yaml_number(value):
            return [_diag("AISC-NUM-002", f"{what} is a YAML number; a token_amount is a DecimalString "
                          "(R113, R115)", doc, path, HINT % _show_number(value))]
        if isinstance(value, str) and value != "max" and (not DECIMAL_STRING.match(value) or value.startswith("-")):
            return [_diag("AISC-NUM-002", f"{what} is {value!r}, not a non-negative DecimalString (R113, R119)",
                          doc, path, 'write e.g. "1.5" (digits, at most one dot with digits on both sides, '
                          "no exponent)")]
    return []


def _protocol_target(n: NodeInfo, doc: Doc) -> tuple[Diagnostic, ...]:
    """Literals inside the used action/query: param defaults and execution fields."""
    assert n.target is not None
    out: list[Diagnostic] = []
    base = n.target_path or "$"
    params = n.target.get("params")
    if isinstance(params, list):
        for j, p in enumerate(params):
            if isinstance(p, dict) and "default" in p:
                out.extend(_check_value(p.get("type"), p["default"], doc, f"{base}.params[{j}].default",
                                        "AISC-NUM-005", f'default of param "{p.get("name")}"'))
    if n.spec is not None:
        spec_path = pk(f"{base}.execution", n.spec_key)
        if n.spec.get("type") == "composite":
            for i, step in enumerate(n.spec.get("steps") or []):
                if isinstance(step, dict) and isinstance(step.get("execution"), Mapping):
                    out.extend(_spec(step["execution"], doc, f"{spec_path}.steps[{i}].execution"))
        else:
            out.extend(_spec(n.spec, doc, spec_path))
    return tuple(out)


def _spec(spec: Mapping[str, Any], doc: Doc, path: str) -> list[Diagnostic]:
    t = spec.get("type")
    out: list[Diagnostic] = []
    if t in ("evm_call", "evm_read"):
        abi = spec.get("abi")
        inputs = abi.get("inputs") if isinstance(abi, dict) else None
        args = spec.get("args")
        if isinstance(inputs, list) and isinstance(args, dict):
            for inp in inputs:
                if isinstance(inp, dict) and inp.get("name") in args:
                    out.extend(_abi_value(inp, args[inp["name"]], doc, pk(f"{path}.args", inp["name"])))
        if "value" in spec:
            out.extend(_abi_value({"type": "uint256"}, spec["value"], doc, f"{path}.value"))
    elif t == "solana_instruction":
        data = spec.get("data")
        if isinstance(data, dict) and _refs.tag_of(data) == "object":
            for k, v in data["object"].items():
                out.extend(_int_leaf(v, doc, pk(f"{path}.data.object", k), f"Solana data field {k!r}"))
        if "compute_units" in spec:
            out.extend(_int_leaf(spec["compute_units"], doc, f"{path}.compute_units", "compute_units"))
    return out


def _abi_value(param: Mapping[str, Any], vr: Any, doc: Doc, path: str) -> Iterable[Diagnostic]:
    t = str(param.get("type", ""))
    tag = _refs.tag_of(vr)
    if t.endswith("]") and tag == "array":
        elem = {**param, "type": t[: t.rindex("[")]}
        for i, item in enumerate(vr["array"]):
            yield from _abi_value(elem, item, doc, f"{path}.array[{i}]")
    elif t.startswith("tuple") and tag == "object" and isinstance(param.get("components"), list):
        entries = vr["object"]
        for comp in param["components"]:
            if isinstance(comp, dict) and comp.get("name") in entries:
                yield from _abi_value(comp, entries[comp["name"]], doc, pk(f"{path}.object", comp["name"]))
    elif INT_TYPE.match(t) and tag == "lit":
        yield from _check_value(t, vr["lit"], doc, f"{path}.lit", "AISC-NUM-001", f"ABI {t} input")


def _int_leaf(vr: Any, doc: Doc, path: str, what: str) -> list[Diagnostic]:
    if _refs.tag_of(vr) == "lit" and _is_yaml_number(vr["lit"]):
        return [_diag("AISC-NUM-001", f"{what} is a YAML number; on-chain integers must be decimal strings "
                      "(R054, R117)", doc, f"{path}.lit", HINT % _show_number(vr["lit"]))]
    return []


def _is_yaml_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int | float):
        return True
    return type(v).__name__ == "Dec"


def _show_number(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if type(v).__name__ == "Dec":
        from aisc.numeric import format_decimal

        return format_decimal(v)
    return "..."


def _diag(code: str, msg: str, doc: Doc, path: str, hint: str) -> Diagnostic:
    return Diagnostic(code=code, message=msg, path=path, span=doc.span(path), hint=hint)
