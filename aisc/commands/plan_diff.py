"""``aisc plan-diff A B``: node-level difference between two plans."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

HELP = "compare two plans"
DESCRIPTION = (
    "Compare two ais-plan/0.0.3 files node by node (matched by node id): nodes added, removed, and\n"
    "changed, with the field paths that differ (for example execution.args.amount). Plan-level\n"
    "fields (meta, extensions) are compared too. meta.created_at is ignored."
)
EPILOG = "exit codes: 0 same, 1 different, 2 usage error, 3 unreadable or invalid plan"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A", help="the old plan JSON")
    parser.add_argument("b", metavar="B", help="the new plan JSON")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def _paths(a: Any, b: Any, prefix: str, out: list[dict[str, Any]]) -> None:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for k in sorted(set(a) | set(b), key=str):
            p = f"{prefix}.{k}" if prefix else str(k)
            if k not in a:
                out.append({"path": p, "change": "added", "new": b[k]})
            elif k not in b:
                out.append({"path": p, "change": "removed", "old": a[k]})
            else:
                _paths(a[k], b[k], p, out)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _paths(x, y, f"{prefix}[{i}]", out)
        return
    if a != b or type(a) is not type(b):
        out.append({"path": prefix or "$", "change": "changed", "old": a, "new": b})


def diff_plans(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """``{same, added, removed, changed: [{node, fields}], order_changed, plan_fields}``."""
    an = {n["id"]: n for n in a.get("nodes") or []}
    bn = {n["id"]: n for n in b.get("nodes") or []}
    changed = []
    for nid in [n for n in an if n in bn]:
        fields: list[dict[str, Any]] = []
        _paths(an[nid], bn[nid], "", fields)
        if fields:
            changed.append({"node": nid, "fields": fields})
    common_a = [n for n in an if n in bn]
    common_b = [n for n in bn if n in an]
    top: list[dict[str, Any]] = []

    def strip(p: Mapping[str, Any]) -> dict[str, Any]:
        d = {k: v for k, v in p.items() if k != "nodes"}
        if isinstance(d.get("meta"), Mapping):
            d["meta"] = {k: v for k, v in d["meta"].items() if k != "created_at"}
        return d

    _paths(strip(a), strip(b), "", top)
    out = {"added": [n for n in bn if n not in an], "removed": [n for n in an if n not in bn], "changed": changed,
           "order_changed": common_a != common_b, "plan_fields": top}
    out["same"] = not (out["added"] or out["removed"] or changed or out["order_changed"] or top)
    return out


def _load(path: str) -> dict[str, Any]:
    from aisc import aisjson
    from aisc.ir.plan import plan_from_json, plan_to_json

    with open(path, encoding="utf-8") as fh:
        obj = aisjson.loads(fh.read())
    return plan_to_json(plan_from_json(obj))


def run(args: argparse.Namespace) -> int:
    from aisc import aisjson, exitcodes
    from aisc.diagnostics import Diagnostic, render
    from aisc.ir.plan import PlanError

    plans = []
    for path in (args.a, args.b):
        try:
            plans.append(_load(path))
        except OSError as e:
            d = Diagnostic(code="AISC-DIFF-001", message=f"cannot read {path}: {e.strerror}", hint="check the path")
            print(render([d], "text"), file=sys.stderr)
            return exitcodes.INPUT
        except ValueError as e:
            d = (e.to_diagnostic(path) if isinstance(e, PlanError) else
                 Diagnostic(code="AISC-DIFF-002", message=f"{path} is not JSON: {e}", hint="pass plan JSON files"))
            print(render([d], "text"), file=sys.stderr)
            return exitcodes.INPUT
    res = diff_plans(plans[0], plans[1])
    if args.format == "json":
        print(aisjson.dumps(res, pretty=True))
    else:
        if res["same"]:
            print("plans are the same")
        for n in res["added"]:
            print(f"+ node {n}")
        for n in res["removed"]:
            print(f"- node {n}")
        for c in res["changed"]:
            print(f"~ node {c['node']}")
            for f in c["fields"]:
                print(f"    {f['change']:<8} {f['path']}" + _vals(f))
        if res["order_changed"]:
            print("~ node order changed")
        for f in res["plan_fields"]:
            print(f"~ plan {f['change']:<8} {f['path']}" + _vals(f))
    return exitcodes.OK if res["same"] else exitcodes.FAILED


def _vals(f: Mapping[str, Any]) -> str:
    from aisc import aisjson

    def short(v: Any) -> str:
        s = str(aisjson.dumps(v))
        return s if len(s) <= 60 else s[:57] + "..."

    if f["change"] == "changed":
        return f": {short(f['old'])} -> {short(f['new'])}"
    if f["change"] == "added":
        return f": {short(f['new'])}"
    return f": {short(f['old'])}"
