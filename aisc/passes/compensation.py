"""Compensations: check a workflow node's ``extensions.aisc.compensate`` and lower it into the plan.

A workflow node may name actions that undo it when the run fails later (docs/durability.md)::

    extensions:
      aisc:
        compensate:
          - {protocol: "erc20@0.0.2", action: approve, args: {...ValueRefs...}, chain: "eip155:1"}

The runtime never compiles, so each entry reaches the plan node's ``extensions.aisc.compensate``
with the action's ``execution`` selected for its chain (the entry's ``chain``, else the node's) and
its ``action_meta`` (ref, risk level and tags) for the policy gate. The checks mirror the ones a
workflow node gets: the protocol is known, imported (R321), included by the pack and inside its
chain scope (R077/R078); the action exists and has a non-composite execution for the chain (R192);
args are ValueRefs naming declared params, required params are set, refs and CEL are checked, and
literals follow the numeric rules (R054/R117/R113). Codes: ``AISC-WF-030`` … ``AISC-WF-038``.

``check_compensations`` is the pipeline pass; ``lower`` puts what ``compensations_by_node`` gives on
the plan nodes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from aisc.diagnostics import Diagnostic, Related
from aisc.ir.chains import NoExecutionMatch, is_caip2, select_execution, selected_key
from aisc.passes import _refs
from aisc.passes.model import Analysis, Doc, NodeInfo, Workspace, action_meta, pk
from aisc.reprs import install_reprs

ENTRY_KEYS = ("protocol", "action", "args", "chain")


@attrs.frozen(repr=False)
class _Entry:
    """One compensation entry whose lookups succeeded."""

    node: NodeInfo
    index: int
    path: str  # $.nodes[i].extensions.aisc.compensate[j]
    raw: Mapping[str, Any]
    info: NodeInfo  # the entry seen as an action node (reuses the workflow checks)


def check_compensations(ws: Workspace, an: Analysis) -> list[Diagnostic]:
    """Check every node's declared compensations (shape, protocol, action, execution, args, literals)."""
    diags: list[Diagnostic] = []
    entries = list(_entries(ws, diags))
    if not entries:
        return diags
    from aisc.passes.numeric_literals import _node_args, protocol_target_diags
    from aisc.passes.workflow_semantics import _Checker

    wf = ws.workflow
    checker = _Checker(ws, an)
    seen_targets: set[tuple[str, str | None, str | None]] = set()
    for e in entries:
        info = e.info
        checker.check_args(info)
        checker.check_arg_cel(info)
        for name, vr in (e.raw.get("args") or {}).items():
            checker.check_valueref_paths(vr, f"{e.path}.args", key=name, self_id=e.node.id, allow_self=True)
        diags.extend(_node_args(info, wf))
        key = (info.protocol, info.target_name, info.spec_key)
        if key not in seen_targets and info.protocol_doc is not None:
            seen_targets.add(key)
            diags.extend(protocol_target_diags(info))
    diags.extend(checker.diags)
    return diags


def compensations_by_node(ws: Workspace) -> dict[str, list[dict[str, Any]]]:
    """Each workflow node's lowered compensations, by node id: what goes on its plan node as
    ``extensions.aisc.compensate``. A composite action node expands into several plan nodes; they go
    on the last one (the plan node that carries the workflow node's id), which completes when the
    whole action did."""
    by_node: dict[str, list[dict[str, Any]]] = {}
    for e in _entries(ws, []):
        by_node.setdefault(e.node.id, []).append(lower_entry(e))
    return by_node


def lower_entry(e: _Entry) -> dict[str, Any]:
    """The plan form of one compensation (docs/durability.md, *Compensation*)."""
    info = e.info
    assert info.target is not None and info.spec is not None
    out: dict[str, Any] = {"protocol": info.protocol, "action": info.target_name,
                           "args": dict(e.raw.get("args") or {})}
    if isinstance(e.raw.get("chain"), str):
        out["chain"] = e.raw["chain"]
    out["execution"] = info.spec
    out["action_meta"] = action_meta(info.protocol, info.target_name, info.target)
    return out


# ---------------------------------------------------------------------- lookups


def _entries(ws: Workspace, diags: list[Diagnostic]) -> Iterator[_Entry]:
    """Every well-formed compensation entry with its lookups done; problems go to ``diags``."""
    wf = ws.workflow
    imported = {imp.protocol for imp in ws.imports}
    check_imports = bool(ws.imports) and ws.enforce_imports
    includes = _pack_includes(ws.pack)

    def err(code: str, msg: str, path: str, hint: str, related: tuple[Related, ...] = ()) -> None:
        diags.append(Diagnostic(code=code, message=msg, path=path, span=wf.span(path), hint=hint, related=related))

    for n in ws.with_extensions:  # the only nodes that can declare compensations
        ext = n.raw.get("extensions")
        aisc = ext.get("aisc") if isinstance(ext, dict) else None
        if not isinstance(aisc, dict) or "compensate" not in aisc:
            continue
        base = f"{n.path}.extensions.aisc.compensate"
        comp = aisc["compensate"]
        if not isinstance(comp, list):
            err("AISC-WF-030", f'compensate of node "{n.id}" must be a list of compensating actions', base,
                "write compensate: [{protocol: <p@v>, action: <id>, args: {...}}]")
            continue
        if not n.is_action:
            err("AISC-WF-031", f'query node "{n.id}" declares compensations; only writes are compensated', base,
                "move compensate to the action node whose effect it undoes")
            continue
        for j, raw in enumerate(comp):
            p = f"{base}[{j}]"
            if not _shape_ok(raw, p, err):
                continue
            proto, action = str(raw["protocol"]), str(raw["action"])
            chain = raw.get("chain", n.chain)
            if chain is None:
                continue  # the node has no chain: AISC-WF-005 is reported for it
            pdoc = ws.protocols.get(proto)
            if pdoc is None:
                err("AISC-WF-032", f"compensation protocol {proto} not found in the workspace", f"{p}.protocol",
                    "import it under imports.protocols (path relative to the workflow file) or pass "
                    "--workspace DIR with the protocol document")
                continue
            if check_imports and proto not in imported:
                err("AISC-WF-033", f"compensation of node \"{n.id}\" uses {proto}, which is not in "
                    "imports.protocols (R321)", f"{p}.protocol",
                    f'add {{protocol: "{proto}", path: <file>}} to imports.protocols')
            if includes is not None:
                scope_err = _pack_error(includes, proto, str(chain))
                if scope_err is not None:
                    err("AISC-WF-034", f"compensation of node \"{n.id}\": {scope_err}", f"{p}.protocol",
                        "use a protocol the pack includes, on a chain inside its chain_scope",
                        (Related("the active pack", ws.pack.span("$.includes") if ws.pack else None),))
            actions = pdoc.get("actions")
            target = actions.get(action) if isinstance(actions, dict) else None
            if not isinstance(target, dict):
                known = ", ".join(sorted(str(k) for k in actions)) if isinstance(actions, dict) else "none"
                err("AISC-WF-035", f"compensation action not found: {proto}/{action}", f"{p}.action",
                    f"use one of the actions defined by {proto}: {known or 'none'}")
                continue
            execution = target.get("execution")
            spec: Any = None
            if isinstance(execution, dict):
                try:
                    spec = select_execution(execution, str(chain))
                except NoExecutionMatch:
                    spec = None
            if not isinstance(spec, dict):
                keys = ", ".join(sorted(execution)) if isinstance(execution, dict) else "none"
                err("AISC-WF-036", f'No execution matches chain "{chain}" for compensation {proto}/{action} '
                    f"(execution keys: {keys}) (R192)", p,
                    "compensate on a chain the protocol supports (set chain:), or add an execution for it")
                continue
            if spec.get("type") == "composite":
                err("AISC-WF-036", f"compensation {proto}/{action} has a composite execution on {chain}; "
                    "a compensation must be a single execution", f"{p}.action",
                    "compensate with one action per step: list them in the order they must run")
                continue
            unsupported = [k for k in ("calculated_fields", "requires_queries") if target.get(k)]
            if unsupported:
                err("AISC-WF-038", f"compensation {proto}/{action} uses {' and '.join(unsupported)}, which a "
                    "compensation cannot evaluate (it runs with its args only)", f"{p}.action",
                    "compensate with an action whose execution reads only params.*, contracts.* and ctx.*")
                continue
            assert isinstance(execution, dict)
            info = NodeInfo(index=n.index, id=n.id, raw={"args": raw.get("args") or {}}, path=p,
                            type="action_ref", protocol=proto, target_name=action, chain=str(chain),
                            chain_source="node" if "chain" in raw else n.chain_source, protocol_doc=pdoc,
                            target=target, spec_key=selected_key(execution, str(chain)), spec=spec)
            yield _Entry(node=n, index=j, path=p, raw=raw, info=info)


def _shape_ok(raw: Any, p: str, err: Any) -> bool:
    if not isinstance(raw, dict):
        err("AISC-WF-030", "a compensation must be an object {protocol, action, args, chain?}", p,
            "write {protocol: <p@v>, action: <id>, args: {...}}")
        return False
    ok = True
    for k in raw:
        if k not in ENTRY_KEYS:
            err("AISC-WF-030", f'unknown compensation field "{k}"', pk(p, k),
                "a compensation has only protocol, action, args and chain")
            ok = False
    proto = raw.get("protocol")
    if not isinstance(proto, str) or "@" not in proto:
        err("AISC-WF-030", "compensation protocol must be a string <protocol>@<version>", f"{p}.protocol",
            'write e.g. protocol: "erc20@0.0.2"')
        ok = False
    if not isinstance(raw.get("action"), str):
        err("AISC-WF-030", "compensation action must be the id of a protocol action", f"{p}.action",
            "write e.g. action: approve")
        ok = False
    if "chain" in raw and not (isinstance(raw["chain"], str) and is_caip2(raw["chain"])):
        err("AISC-WF-030", f"compensation chain {raw['chain']!r} is not a CAIP-2 chain id", f"{p}.chain",
            'write e.g. chain: "eip155:1", or leave it out to use the node\'s chain')
        ok = False
    args = raw.get("args", {})
    if not isinstance(args, dict):
        err("AISC-WF-030", "compensation args must map param names to ValueRefs", f"{p}.args",
            'write args: {amount: {lit: "0"}, spender: {ref: "inputs.spender"}}')
        return False
    for name, v in args.items():
        if not _refs.is_vr(v):
            err("AISC-WF-037", f'compensation arg "{name}" is not a ValueRef', pk(f"{p}.args", name),
                'wrap the value: {lit: "0"}, {ref: "inputs.x"} or {cel: "..."}')
            ok = False
    return ok


def _pack_includes(pack: Doc | None) -> dict[str, Mapping[str, Any]] | None:
    if pack is None:
        return None
    inc = pack.get("includes")
    out: dict[str, Mapping[str, Any]] = {}
    for e in inc if isinstance(inc, list) else []:
        if isinstance(e, dict):
            out.setdefault(f"{e.get('protocol')}@{e.get('version')}", e)
    return out


def _pack_error(includes: Mapping[str, Mapping[str, Any]], proto: str, chain: str) -> str | None:
    entry = includes.get(proto)
    if entry is None:
        return f"{proto} is not included by the pack (R077)"
    scope = entry.get("chain_scope")
    if isinstance(scope, list) and scope and chain not in scope:
        return f"{proto} runs on {chain}, outside the pack's chain_scope {', '.join(map(str, scope))} (R078)"
    return None


install_reprs(__name__)
