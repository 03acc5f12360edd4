"""Lowering (SPEC-MAP §5.7): the checked workflow becomes ``ais-plan/0.0.3`` JSON."""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable
from typing import Any

import attrs

from aisc import __version__
from aisc.diagnostics import Diagnostic
from aisc.ir.amounts import format_multiplier
from aisc.ir.values import input_declarations
from aisc.numeric import is_number
from aisc.passes.compensation import compensations_by_node
from aisc.passes.model import Analysis, Doc, NodeInfo, Options, Workspace, action_meta, pack_identity
from aisc.reprs import install_reprs

PLAN_SCHEMA = "ais-plan/0.0.3"


@attrs.frozen(repr=False)
class Lowered:
    plan: dict[str, Any]
    diagnostics: tuple[Diagnostic, ...] = ()


def lower(ws: Workspace, an: Analysis, options: Options,
          on_node: Callable[[dict[str, Any], int], None] | None = None) -> Lowered:
    """Build the plan JSON: topological order, composite expansion, writes, bindings, provenance.

    ``on_node(node, index)`` (if given) sees every plan node as soon as it is complete, while it is
    still in the CPU caches: the compiler's self-check runs there (nothing changes a node later).
    """
    wf = ws.workflow
    meta_raw = wf.get("meta") or {}
    wf_name = str(meta_raw.get("name", ""))
    wf_version = str(meta_raw.get("version", ""))
    diags: list[Diagnostic] = []
    nodes_out: list[dict[str, Any]] = []
    # one object for every node's source.workflow: it is the same JSON value in each, and a
    # 10,000-node plan is smaller (and walks faster) without 10,000 copies of it
    wf_source = {"name": wf_name, "version": wf_version}
    compensate: dict[str, list[dict[str, Any]]] = {}
    if options.aisc_extensions:  # extensions.aisc.compensate, lowered (docs/durability.md)
        compensate = compensations_by_node(ws)
    for i in an.order:
        n = ws.nodes[i]
        if n.chain is None or n.spec is None or n.target is None:
            continue  # already reported by the workflow pass; lowering never runs on errors
        deps = an.deps[i] if i < len(an.deps) else []
        source: dict[str, Any] = {
            "workflow": wf_source,
            "node_id": n.id,
            "protocol": n.protocol,
            ("action" if n.is_action else "query"): n.target_name,
        }
        ext = _node_ext(n, an, options) if options.aisc_extensions else {}
        if n.is_action and n.spec.get("type") == "composite":
            steps = _expand(n, _base_node(n, deps), deps, source, ext, compensate.get(n.id), an, options, diags, ws)
        else:
            steps = [_plain_node(n, deps, source, _aisc_ext(ext, an, options, n.id, compensate.get(n.id)))]
        for node in steps:
            nodes_out.append(node)
            if on_node is not None:
                on_node(node, len(nodes_out) - 1)
    meta: dict[str, Any] = {"created_at": created_at(options)}
    _put(meta, "name", meta_raw.get("name"))
    _put(meta, "description", meta_raw.get("description"))
    plan: dict[str, Any] = {"schema": PLAN_SCHEMA, "meta": meta, "nodes": nodes_out}
    extensions: dict[str, Any] = {}
    if ws.is_skeleton and ws.skeleton is not None:
        sk: dict[str, Any] = {"schema": ws.skeleton.get("schema")}
        if "policy_hints" in (ws.skeleton.raw or {}):
            sk["policy_hints"] = ws.skeleton.get("policy_hints")
        extensions["plan_skeleton"] = sk
    if options.aisc_extensions:
        extensions["aisc"] = _plan_ext(ws, an)
    if extensions:
        plan["extensions"] = extensions
    return Lowered(plan, tuple(diags))


def _base_node(n: NodeInfo, deps: list[str], description: Any = None) -> dict[str, Any]:
    """``id`` … ``bindings`` of a node, in plan key order."""
    raw = n.raw
    out: dict[str, Any] = {"id": n.id, "chain": n.chain, "kind": n.type}
    if description is not None:
        out["description"] = description
    if deps:
        out["deps"] = deps  # the analysis' sorted list itself (neither changes it once built)
    for key in ("condition", "assert", "assert_message", "until", "retry", "timeout_ms"):
        if key in raw and raw[key] is not None:
            out[key] = raw[key]
    if "args" in raw and raw["args"] is not None:
        out["bindings"] = {"params": raw["args"]}
    return out


def _expand(n: NodeInfo, base: dict[str, Any], deps: list[str], source: dict[str, Any],
            ext: dict[str, Any], compensate: list[dict[str, Any]] | None, an: Analysis, options: Options,
            diags: list[Diagnostic], ws: Workspace) -> list[dict[str, Any]]:
    """A composite action: one ``kind: execution`` node per step, chained by deps (§5.7 step 3)."""
    assert n.spec is not None
    steps = [s for s in n.spec.get("steps") or [] if isinstance(s, dict)]
    out_nodes: list[dict[str, Any]] = []
    prev: str | None = None
    parent_cond = n.raw.get("condition")
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        sid = str(step.get("id"))
        pid = n.id if last else f"{n.id}__{sid}"
        node: dict[str, Any] = {"id": pid, "chain": step.get("chain") or n.chain, "kind": "execution"}
        _put(node, "description", step.get("description"))
        if i == 0:
            if deps:
                node["deps"] = list(deps)
        else:
            node["deps"] = [prev]
        cond = _combine(parent_cond, step.get("condition"), n, i, diags, ws)
        if cond is not None:
            node["condition"] = cond
        if last:
            for key in ("assert", "assert_message"):
                if key in n.raw and n.raw[key] is not None:
                    node[key] = n.raw[key]
        if "bindings" in base:
            node["bindings"] = base["bindings"]
        node["execution"] = step.get("execution")
        step_write = {"path": f"nodes.{n.id}.outputs.steps.{sid}", "mode": "set"}
        node["writes"] = ([{"path": f"nodes.{n.id}.outputs", "mode": "merge"}, step_write] if last
                          else [step_write])
        node["source"] = {**source, "step_id": sid}
        node_ext = _aisc_ext(ext, an, options, pid, compensate if last else None)
        if node_ext:
            node["extensions"] = {"aisc": node_ext}
        out_nodes.append(_ordered(node))
        prev = pid
    return out_nodes


def _plain_node(n: NodeInfo, deps: list[str], source: dict[str, Any], ext: dict[str, Any]) -> dict[str, Any]:
    """The plan node of a non-composite workflow node, built in the plan's key order (_KEY_ORDER), so
    no reordered copy is needed."""
    assert n.target is not None
    out = _base_node(n, deps, n.target.get("description"))
    out["execution"] = n.spec
    if not n.is_action:
        out["writes"] = [{"path": f"nodes.{n.id}.outputs", "mode": "set"}]
    out["source"] = source
    if ext:
        out["extensions"] = {"aisc": ext}
    return out


def _aisc_ext(ext: dict[str, Any], an: Analysis, options: Options, plan_id: str,
              compensate: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A plan node's ``extensions.aisc``: the workflow node's ``ext`` plus the runtime guards of this
    plan node and, on the node that completes the action, its compensations (``ext`` is not changed:
    the steps of a composite share it)."""
    out = ext
    guards = an.runtime_guards.get(plan_id)
    if guards and options.aisc_extensions:
        out = {**out, "runtime_guards": guards}
    if compensate is not None:
        out = {**out, "compensate": compensate}
    return out


def _combine(parent: Any, step: Any, n: NodeInfo, i: int, diags: list[Diagnostic],
             ws: Workspace) -> Any:
    """Parent and step conditions: one present → that one; both → ``{cel: "((A) && (B))"}``."""
    if parent is None:
        return step
    if step is None:
        return parent
    a = _as_cel(parent)
    b = _as_cel(step)
    if a is None or b is None:
        bad = "node" if a is None else f"step {i}"
        path = f"{n.path}.condition"
        diags.append(Diagnostic(
            code="AISC-PLAN-002",
            message=f'cannot combine the {bad} condition of composite node "{n.id}" with its step condition: '
            "only cel, ref and boolean lit conditions combine",
            path=path, span=ws.workflow.span(path),
            hint="write the node condition as a cel expression"))
        return parent
    return {"cel": f"(({a}) && ({b}))"}


def _as_cel(cond: Any) -> str | None:
    if not isinstance(cond, dict) or len(cond) != 1:
        return None
    tag, val = next(iter(cond.items()))
    if tag == "cel" and isinstance(val, str):
        return val
    if tag == "ref" and isinstance(val, str):
        return val
    if tag == "lit" and isinstance(val, bool):
        return "true" if val else "false"
    return None


def _node_ext(n: NodeInfo, an: Analysis, options: Options) -> dict[str, Any]:
    """``node.extensions.aisc``: what the runtime needs beyond the plan schema (docs/compiler.md)."""
    if n.target is None:
        return {}
    ext: dict[str, Any] = (dict(n.protocol_doc.remember(("plan_action_ext", n.target_name), _action_ext, n))
                           if n.is_action and n.protocol_doc is not None else {})
    order = an.calculated_order.get(n.id)
    if order:
        fields = n.target.get("calculated_fields") or {}
        overrides = n.raw.get("calculated_overrides") or {}
        cf: list[dict[str, Any]] = []
        for name in order:
            if name in overrides:
                cf.append({"name": name, "expr": overrides[name].get("expr"), "source": "override"})
            else:
                fdef = fields.get(name) or {}
                entry: dict[str, Any] = {"name": name, "expr": fdef.get("expr"), "source": "protocol"}
                if isinstance(fdef.get("inputs"), list):
                    entry["inputs"] = list(fdef["inputs"])
                cf.append(entry)
        ext["calculated_fields"] = cf
        ov = an.override_order.get(n.id)
        if ov:
            ext["calculated_overrides"] = list(ov)
    requires = n.target.get("requires_queries")
    if isinstance(requires, list) and requires:
        ext["requires_queries"] = list(requires)
    detect = an.detect_providers.get(n.id)
    if detect:
        ext["detect_providers"] = detect
    return ext


def _action_ext(n: NodeInfo) -> dict[str, Any]:
    """The part of an action node's ``extensions.aisc`` that comes from the protocol alone (remembered
    on its document; plan nodes share these objects, which nothing changes): ``action`` and which
    params are human token amounts (with their asset param), so the gate converts them to base units
    with the asset's decimals instead of reading "12" as 12 base units."""
    assert n.target is not None
    ext: dict[str, Any] = {"action": action_meta(n.protocol, n.target_name, n.target)}
    token_amounts = {str(p["name"]): (p["asset_ref"] if isinstance(p.get("asset_ref"), str) else None)
                     for p in n.target.get("params") or ()
                     if isinstance(p, dict) and p.get("type") == "token_amount" and "name" in p}
    if token_amounts:
        ext["token_amounts"] = dict(sorted(token_amounts.items()))
    return ext


def _deployments(pdoc: Doc) -> dict[str, Any] | None:
    """A protocol's contracts by chain, for ``plan.extensions.aisc.deployments`` (remembered on it);
    None without a ``deployments`` list."""
    deps = pdoc.get("deployments")
    if not isinstance(deps, list):
        return None
    return {str(d["chain"]): d.get("contracts") or {} for d in deps
            if isinstance(d, dict) and isinstance(d.get("chain"), str)}


def _plan_ext(ws: Workspace, an: Analysis) -> dict[str, Any]:
    """``plan.extensions.aisc``: pack policy data and deployments for the runtime and its solver."""
    ext: dict[str, Any] = {"compiler": {"name": "aisc", "version": __version__}}
    used: dict[str, Any] = {}
    for n in ws.targets:
        pdoc = n.protocol_doc
        if pdoc is not None and n.protocol not in used:
            found = pdoc.remember("plan_deployments", _deployments, pdoc)
            if found is not None:
                used[n.protocol] = found
    ext["deployments"] = dict(sorted(used.items()))
    ext["inputs"] = input_declarations(ws.workflow.get("inputs"))
    if ws.pack is not None:
        ident = pack_identity(ws.pack)
        pack: dict[str, Any] = {}
        if ident:
            pack["name"], pack["version"] = ident
        for key in ("policy", "token_policy", "providers", "plugins", "overrides", "extensions"):
            val = ws.pack.get(key)
            if val is not None:
                pack[key] = val
        _decimal_multipliers(pack)
        ext["pack"] = pack
    wf_policy = ws.workflow.get("policy")
    if wf_policy is not None:
        ext["workflow_policy"] = wf_policy
    preflight = ws.workflow.get("preflight")
    if preflight is not None:
        ext["preflight"] = preflight
    if an.policy_summary:
        ext["policy"] = an.policy_summary
    return ext


def _decimal_multipliers(pack: dict[str, Any]) -> None:
    """``max_approval_multiplier`` as a DecimalString in the plan (``1.05`` in the pack YAML is an
    exact number; the plan never carries a JSON number with a fraction). The policy pass has already
    rejected a value that is not an exact decimal ≥ 1."""

    def fix(hc: Any) -> Any:
        if isinstance(hc, dict) and "max_approval_multiplier" in hc:
            raw = hc["max_approval_multiplier"]
            if is_number(raw):
                return {**hc, "max_approval_multiplier": format_multiplier(raw)}
        return hc

    policy = pack.get("policy")
    if isinstance(policy, dict):
        pack["policy"] = {k: (fix(v) if k in ("hard_constraints_defaults", "hard_constraints") else v)
                          for k, v in policy.items()}
    overrides = pack.get("overrides")
    actions = overrides.get("actions") if isinstance(overrides, dict) else None
    if isinstance(overrides, dict) and isinstance(actions, dict):
        pack["overrides"] = {**overrides, "actions": {
            name: ({**body, "hard_constraints": fix(body["hard_constraints"])}
                   if isinstance(body, dict) and "hard_constraints" in body else body)
            for name, body in actions.items()}}


def created_at(options: Options) -> str:
    """``meta.created_at``: the fixed option, else SOURCE_DATE_EPOCH, else now (UTC, ISO 8601, ms)."""
    if options.created_at is not None:
        return options.created_at
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and epoch.strip().isdigit():
        t = _dt.datetime.fromtimestamp(int(epoch.strip()), tz=_dt.UTC)
    else:
        t = _dt.datetime.now(tz=_dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


_KEY_ORDER = ("id", "chain", "kind", "description", "deps", "condition", "assert", "assert_message", "until",
              "retry", "timeout_ms", "bindings", "execution", "writes", "source", "extensions")


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    return {k: node[k] for k in _KEY_ORDER if k in node}


def _put(d: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        d[key] = value


install_reprs(__name__)
