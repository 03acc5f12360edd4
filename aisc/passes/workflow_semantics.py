"""Workflow semantics: chains, targets, the DAG, references, condition/assert/until, overrides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aisc.diagnostics import Diagnostic, Related
from aisc.passes import _refs
from aisc.passes._dag import topo_order
from aisc.passes.model import Analysis, Doc, NodeInfo, Workspace, pk, target_params

RUNTIME_ROOTS = ("inputs", "params", "ctx", "contracts", "nodes", "query", "calculated", "policy")
_ROOTS_SET = frozenset(RUNTIME_ROOTS)
NODE_STATE_KEYS = ("outputs", "calculated", "args")
# Output keys the core executors write besides a target's declared ``returns`` (SPEC-MAP §5.3/5.4).
EXECUTOR_OUTPUT_KEYS = frozenset({"tx_hash", "receipt", "signature", "confirmation"})


def check_workflow(ws: Workspace, an: Analysis) -> list[Diagnostic]:
    """Check the workflow against itself and its protocols; record the DAG and calculated orders."""
    return _Checker(ws, an).run()


class _Checker:
    def __init__(self, ws: Workspace, an: Analysis) -> None:
        self.ws = ws
        self.an = an
        self.wf = ws.workflow
        self.diags: list[Diagnostic] = []
        self.index = ws.index  # id -> index of the first node with it (read only)
        self._params: dict[int, Mapping[str, Mapping[str, Any]]] = {}  # id(target) -> target_params
        inputs = self.wf.get("inputs")
        self.inputs: Mapping[str, Any] = inputs if isinstance(inputs, dict) else {}

    def err(self, code: str, msg: str, path: str, hint: str | None = None, *,
            severity: str = "error", related: tuple[Related, ...] = ()) -> None:
        self.diags.append(Diagnostic(code=code, message=msg, severity=severity,  # type: ignore[arg-type]
                                     path=path, span=self.wf.span(path), hint=hint, related=related))

    # ------------------------------------------------------------------ driver

    def run(self) -> list[Diagnostic]:
        nodes = self.ws.nodes
        for n in self.ws.repeated_ids:
            first = nodes[self.index[n.id]]
            self.err("AISC-WF-001", f'duplicate node id "{n.id}"', f"{n.path}.id",
                     "give every node a unique id",
                     related=(Related(f'first defined at {first.path}', self.wf.span(f"{first.path}.id")),))
        # one walk over the nodes for everything checked node by node (a 10,000-node workflow's data
        # does not fit in the CPU caches: each extra walk reads it from memory again)
        deps_ids: list[list[str]] = []
        for n in nodes:
            self.check_target(n)
            deps_ids.append(self.node_deps(n))
            self.note_rich_args(n)
            self.check_node_refs(n)
            self.check_control(n)
            self.check_arg_cel(n)
            self.check_args(n)
            self.check_calculated(n)
        self.order_dag(deps_ids)
        self.check_outputs()
        return self.diags

    # ------------------------------------------------------------------ chain + target (R150-R152)

    def check_target(self, n: NodeInfo) -> None:
        kind = "action" if n.is_action else "query"
        if n.chain is None:
            self.err("AISC-WF-005", f'node "{n.id}" has no chain (R152)', n.path,
                     "set nodes[].chain or the workflow's default_chain (a CAIP-2 id such as eip155:1)")
        if n.target_name is None:
            self.err("AISC-WF-008", f'{n.type} node "{n.id}" needs a "{kind}" field', n.path,
                     f"name the {kind} of {n.protocol} this node uses")
            return
        if n.protocol_doc is None:
            self.err("AISC-WF-006", f"protocol {n.protocol} not found in the workspace", f"{n.path}.protocol",
                     "import it under imports.protocols (path relative to the workflow file) or pass "
                     "--workspace DIR with the protocol document")
            return
        if n.target is None:
            label = "Action" if n.is_action else "Query"
            self.err("AISC-WF-007", f"{label} not found: {n.protocol}/{n.target_name}", f"{n.path}.{kind}",
                     f"use one of the {kind} ids defined by {n.protocol}: "
                     + (", ".join(sorted(self._target_ids(n))) or "none"))
            return
        if n.chain is not None and n.spec is None:
            block = n.target.get("execution")
            keys = ", ".join(sorted(block)) if isinstance(block, dict) else "none"
            self.err("AISC-WF-009", f'No execution matches chain "{n.chain}" for {n.protocol}/{n.target_name} '
                     f"(execution keys: {keys}) (R192)", n.path,
                     "run the node on a chain the protocol supports, or add an execution for it")
            return
        if n.spec is not None and n.spec.get("type") == "composite":
            if not n.is_action:
                self.err("AISC-WF-010", f'query {n.protocol}/{n.target_name} has a composite execution; '
                         "queries must be single reads", f"{n.path}.query")
            else:
                for key in ("until", "retry", "timeout_ms"):
                    if key in n.raw:
                        self.err("AISC-WF-011", f'"{key}" is not allowed on composite action node "{n.id}"',
                                 f"{n.path}.{key}",
                                 "poll with a separate query_ref node that depends on this node")
                for i, step in enumerate(n.spec.get("steps") or []):
                    ex = step.get("execution") if isinstance(step, dict) else None
                    if isinstance(ex, dict) and ex.get("type") == "composite":
                        self.err("AISC-WF-010", f"{n.protocol}/{n.target_name} step {i} nests a composite; "
                                 "composites cannot be nested", f"{n.path}.action")

    def _target_ids(self, n: NodeInfo) -> list[str]:
        assert n.protocol_doc is not None
        block = n.protocol_doc.get("actions" if n.is_action else "queries")
        return [str(k) for k in block] if isinstance(block, dict) else []

    # ------------------------------------------------------------------ DAG (R153, R154, §5.7)

    def node_deps(self, n: NodeInfo) -> list[str]:
        """The ids ``n`` depends on, sorted: its ``deps`` and the nodes its values read (§5.7). Each id
        is the node's own ``id`` string, not the copy a reference was split into: the lists live in
        the analysis and the plan until the compile is dropped."""
        index = self.index
        nodes = self.ws.nodes
        ids: set[str] = set()
        explicit = n.raw.get("deps")
        if isinstance(explicit, list):
            for j, d in enumerate(explicit):
                if not isinstance(d, str):
                    continue
                if d == n.id:
                    self.err("AISC-WF-003", f'node "{n.id}" depends on itself', f"{n.path}.deps[{j}]",
                             "remove the self-dependency")
                elif d not in index:
                    self.err("AISC-WF-002", f'node "{n.id}" depends on unknown node "{d}"',
                             f"{n.path}.deps[{j}]", _suggest(d, index))
                else:
                    ids.add(nodes[index[d]].id)
        for key in ("args", "calculated_overrides", "condition", "until"):
            val = n.raw.get(key)
            if val is None:
                continue
            for target in _implicit(key, val):
                if target != n.id and target in index:
                    ids.add(nodes[index[target]].id)
        return sorted(ids)

    def note_rich_args(self, n: NodeInfo) -> None:
        """Record ``n`` in ``Analysis.rich_args`` when an argument is more than one ref or cel."""
        args = n.raw.get("args")
        if not isinstance(args, dict):
            return
        for vr in args.values():
            if not (type(vr) is dict and len(vr) == 1 and ("ref" in vr or "cel" in vr)):
                self.an.rich_args.append(n)
                return

    def order_dag(self, deps_ids: list[list[str]]) -> None:
        """The topological order (R153) from every node's dependencies, or the cycle (R154)."""
        nodes = self.ws.nodes
        index = self.index
        deps_idx = [[index[d] for d in ds] for ds in deps_ids]
        result = topo_order(deps_idx)
        self.an.deps = deps_ids
        if result.cycle:
            self.an.dag_ok = False
            cyc = [nodes[i] for i in result.cycle]
            names = " -> ".join(f'"{c.id}"' for c in [*cyc, cyc[0]])
            first = cyc[0]
            self.err("AISC-WF-004", f"dependency cycle (R154): {names}", first.path,
                     "break the cycle: remove a deps entry or a nodes.<id> reference",
                     related=tuple(Related(f'"{c.id}" is part of the cycle', self.wf.span(f"{c.path}.id"))
                                   for c in cyc[1:]))
            self.an.order = result.order + result.stuck
        else:
            self.an.order = result.order

    # ------------------------------------------------------------------ references

    def check_node_refs(self, n: NodeInfo) -> None:
        for key in ("args", "calculated_overrides", "condition", "assert", "until"):
            val = n.raw.get(key)
            if val is None:
                continue
            allow_self = key in ("assert", "until")
            base = f"{n.path}.{key}"
            if key == "args" and isinstance(val, dict):
                for name, vr in val.items():
                    self.check_valueref_paths(vr, base, key=name, self_id=n.id, allow_self=allow_self)
            elif key == "calculated_overrides" and isinstance(val, dict):
                for name, ov in val.items():
                    if isinstance(ov, dict):
                        self.check_valueref_paths(ov.get("expr"), base, key=name, suffix=".expr", self_id=n.id,
                                                  allow_self=allow_self)
            else:
                self.check_valueref_paths(val, base, self_id=n.id, allow_self=allow_self)

    def check_valueref_paths(self, vr: Any, base: str, *, key: str | None = None, suffix: str = "",
                             self_id: str | None, allow_self: bool) -> None:
        """Check the paths ``vr`` reads. ``vr`` sits at ``base`` (+ ``[key]`` + ``suffix``); that
        path is only built for a diagnostic."""
        for dotted, tag, p in _refs.ref_paths(vr):
            parts = dotted.split(".")
            root = parts[0]
            if tag == "ref" and root not in RUNTIME_ROOTS:
                self.err("AISC-WF-023", f'ref "{dotted}" starts with unknown root "{root}"',
                         _at(base, key, suffix, p), "a ref starts with one of: " + ", ".join(RUNTIME_ROOTS))
                continue
            if root == "inputs" and len(parts) >= 2 and parts[1] not in self.inputs:
                sev = "warning" if self.ws.is_skeleton else "error"
                self.err("AISC-WF-012", f'Input not declared: "inputs.{parts[1]}"', _at(base, key, suffix, p),
                         f'declare it under the workflow\'s inputs (inputs: {{{parts[1]}: {{type: ...}}}})',
                         severity=sev)
            elif root == "nodes" and len(parts) >= 2:
                self.check_node_path(parts, (base, key, suffix, p), self_id=self_id, allow_self=allow_self)

    def check_node_path(self, parts: list[str], where: tuple[str, str | None, str, str], *, self_id: str | None,
                        allow_self: bool) -> None:
        """Check a ``nodes.<id>...`` path read at ``_at(*where)`` (built only for a diagnostic)."""
        target_id = parts[1]
        if target_id not in self.index:
            self.err_at(where, "AISC-WF-013", f'reference to unknown node "{target_id}"', _suggest(target_id, self.index))
            return
        if target_id == self_id and not allow_self:
            self.err_at(where, "AISC-WF-021", f'node "{self_id}" reads its own state before it runs',
                        "only assert and until may read the node's own outputs")
            return
        if len(parts) < 3:
            return
        if parts[2] not in NODE_STATE_KEYS:
            self.err_at(where, "AISC-WF-014", f'"nodes.{target_id}.{parts[2]}" is not node state; '
                        "use nodes.<id>.outputs.*, nodes.<id>.calculated.* or nodes.<id>.args.*",
                        f'did you mean "nodes.{target_id}.outputs.{parts[2]}"?')
            return
        if len(parts) < 4:
            return
        target = self.ws.nodes[self.index[target_id]]
        field = parts[3]
        if parts[2] == "outputs":
            allowed = _output_keys(target)
            if allowed is not None and field not in allowed:
                self.err_at(where, "AISC-WF-014", f'{target.protocol}/{target.target_name} has no output "{field}" '
                            f'(node "{target_id}")',
                            "outputs available: " + (", ".join(sorted(allowed)) or "none"))
        elif parts[2] == "calculated" and target.target is not None:
            names = set(_calc_fields(target.target)) | set(_overrides(target.raw))
            if field not in names:
                self.err_at(where, "AISC-WF-014", f'node "{target_id}" has no calculated field "{field}"',
                            "calculated fields: " + (", ".join(sorted(names)) or "none"))
        elif parts[2] == "args" and field not in (target.raw.get("args") or {}):
            self.err_at(where, "AISC-WF-014", f'node "{target_id}" has no arg "{field}"',
                        "args set on that node: " + (", ".join(sorted(target.raw.get("args") or {})) or "none"))

    def err_at(self, where: tuple[str, str | None, str, str], code: str, msg: str, hint: str) -> None:
        """:meth:`err` at the path ``_at(*where)``, built here, for a diagnostic only."""
        self.err(code, msg, _at(*where), hint)

    # ------------------------------------------------------------------ condition / assert / until (R323)

    def check_control(self, n: NodeInfo) -> None:
        for key in ("condition", "assert", "until"):
            val = n.raw.get(key)
            if val is None:
                continue
            p = f"{n.path}.{key}"
            tag = _refs.tag_of(val)
            if tag == "lit":
                if not isinstance(val["lit"], bool):
                    self.err("AISC-WF-015", f'a lit {key} must be a boolean (R323), got {_kind(val["lit"])}',
                             f"{p}.lit", "write {lit: true} or {lit: false}, or use a cel expression")
            elif tag == "cel" and isinstance(val["cel"], str):
                self.diags.extend(_cel_diags(val["cel"], self.wf, f"{p}.cel", want_bool=True))
            elif tag in ("object", "array", "detect"):
                self.err("AISC-WF-015", f"{key} must be a boolean; {tag} can never be one (R323)", p,
                         "use a cel expression or a ref to a boolean")
        if "until" in n.raw and "retry" not in n.raw:
            self.err("AISC-WF-020", f'node "{n.id}" has until but no retry', f"{n.path}.until",
                     "add retry: {interval_ms: <ms>, max_attempts: <n>} so polling is bounded (R161/R162)")
        if "assert_message" in n.raw and "assert" not in n.raw:
            self.err("AISC-WF-022", f'node "{n.id}" has assert_message but no assert', f"{n.path}.assert_message",
                     "add an assert or remove assert_message", severity="warning")

    # ------------------------------------------------------------------ args vs params

    def check_arg_cel(self, n: NodeInfo) -> None:
        """The CEL in a node's arguments, one walk per argument: every expression is checked (syntax,
        roots, functions), and one feeding an ``address`` param must not be built with ``+`` (R059:
        it would be string concatenation)."""
        args = n.raw.get("args")
        if not isinstance(args, dict):
            return
        declared = self._declared(n)
        for name, vr in args.items():
            if type(vr) is dict and len(vr) == 1 and ("ref" in vr or "lit" in vr):
                continue  # no CEL in a single ref or literal
            param = declared.get(name)
            is_address = param is not None and param.get("type") == "address"
            for tag, val, p in _refs.leaves(vr, "$"):
                if tag != "cel" or not isinstance(val, str):
                    continue
                full = pk(f"{n.path}.args", name) + p[1:]
                self.diags.extend(_cel_diags(val, self.wf, full, want_bool=False))
                if not is_address:
                    continue
                from aisc.eval.static import uses_plus

                if uses_plus(val):
                    self.err("AISC-WF-039", f'address param "{name}" of {n.protocol}/{n.target_name} is built '
                             f"with '+' here: {val!r} (R059)", full,
                             "pass the address itself (a ref to an input or a node output, or a literal); AIS "
                             "CEL does not build addresses by concatenation")

    def check_args(self, n: NodeInfo) -> None:
        if n.target is None:
            return
        declared = self._declared(n)
        args = n.raw.get("args")
        args = args if isinstance(args, dict) else {}
        for name in args:
            if name not in declared:
                self.err("AISC-WF-026", f'{n.protocol}/{n.target_name} has no param "{name}"',
                         pk(f"{n.path}.args", name),
                         "params: " + (", ".join(sorted(str(k) for k in declared)) or "none"))
        for name, p in declared.items():
            if p.get("required") is True and "default" not in p and name not in args:
                self.err("AISC-WF-027", f'required param "{name}" of {n.protocol}/{n.target_name} is not set',
                         f"{n.path}.args", f"add args.{name}: {{ref: ...}} or {{lit: ...}}")

    def _declared(self, n: NodeInfo) -> Mapping[str, Mapping[str, Any]]:
        """:func:`target_params`, looked up once per target in this pass (it is asked twice per node)."""
        key = id(n.target)
        hit = self._params.get(key)
        if hit is None:
            hit = self._params[key] = target_params(n)
        return hit

    # ------------------------------------------------------------------ calculated fields + overrides (R324)

    def check_calculated(self, n: NodeInfo) -> None:
        overrides = _overrides(n.raw)
        fields = _calc_fields(n.target) if n.target is not None else {}
        if not overrides and not fields:
            return
        names: list[str] = list(fields)
        origin: dict[str, str] = dict.fromkeys(fields, "protocol")
        for name in overrides:
            if name not in origin:
                names.append(name)
                if n.target is not None:
                    self.err("AISC-WF-025", f'calculated override "{name}" does not replace a calculated field of '
                             f"{n.protocol}/{n.target_name}", pk(f"{n.path}.calculated_overrides", name),
                             "fields: " + (", ".join(fields) or "none"), severity="warning")
            origin[name] = "override"
        pos = {name: i for i, name in enumerate(names)}
        deps: list[list[int]] = []
        for name in names:
            if origin[name] == "override":
                expr = overrides[name].get("expr") if isinstance(overrides[name], dict) else None
                base = pk(f"{n.path}.calculated_overrides", name) + ".expr"
                needed = _calc_refs(expr)
                where, doc_path = self.wf, base
            else:
                fdef = fields[name]
                expr = fdef.get("expr") if isinstance(fdef, dict) else None
                needed = _calc_refs(expr)
                inputs = fdef.get("inputs") if isinstance(fdef, dict) else None
                if isinstance(inputs, list):
                    needed |= {s.split(".", 2)[1] for s in inputs
                               if isinstance(s, str) and s.startswith("calculated.") and s.count(".") >= 1}
                where = n.protocol_doc or self.wf
                doc_path = pk(f"{n.target_path}.calculated_fields", name)
            ds: list[int] = []
            for dep in sorted(needed):
                if dep not in pos:
                    code = "AISC-WF-017" if origin[name] == "override" else "AISC-WF-019"
                    self.diags.append(Diagnostic(
                        code=code, message=f'calculated field "{name}" of node "{n.id}" needs "calculated.{dep}", '
                        "which is not defined (R324)", path=doc_path, span=where.span(doc_path),
                        hint=f"define calculated.{dep} (a protocol calculated field or a calculated override)"))
                else:
                    ds.append(pos[dep])
            deps.append(ds)
        result = topo_order(deps)
        if result.cycle:
            cyc = " -> ".join(names[i] for i in [*result.cycle, result.cycle[0]])
            code = "AISC-WF-018" if any(origin[names[i]] == "override" for i in result.cycle) else "AISC-WF-019"
            first = names[result.cycle[0]]
            doc_path = (pk(f"{n.path}.calculated_overrides", first) if origin[first] == "override"
                        else pk(f"{n.target_path}.calculated_fields", first))
            where = self.wf if origin[first] == "override" else (n.protocol_doc or self.wf)
            self.diags.append(Diagnostic(code=code, message=f'calculated fields of node "{n.id}" form a cycle (R324): '
                                         f"{cyc}", path=doc_path, span=where.span(doc_path),
                                         hint="break the cycle between these calculated fields"))
            return
        ordered = [names[i] for i in result.order]
        self.an.calculated_order[n.id] = ordered
        self.an.override_order[n.id] = [x for x in ordered if x in overrides]
        for name, ov in overrides.items():
            expr = ov.get("expr") if isinstance(ov, dict) else None
            base = pk(f"{n.path}.calculated_overrides", name) + ".expr"
            for tag, val, p in _refs.leaves(expr, "$"):
                if tag == "cel" and isinstance(val, str):
                    full = base + p[1:]
                    self.diags.extend(_cel_diags(val, self.wf, full, want_bool=False))

    # ------------------------------------------------------------------ outputs

    def check_outputs(self) -> None:
        outputs = self.wf.get("outputs")
        if not isinstance(outputs, dict):
            return
        for name, val in outputs.items():
            self.check_valueref_paths(val, "$.outputs", key=name, self_id=None, allow_self=True)


# ---------------------------------------------------------------------- helpers


def _implicit(key: str, val: Any) -> list[str]:
    if key == "args" and isinstance(val, dict):
        out: list[str] = []
        for v in val.values():
            out.extend(_refs.node_refs(v))
        return out
    if key == "calculated_overrides" and isinstance(val, dict):
        out = []
        for ov in val.values():
            if isinstance(ov, dict):
                out.extend(_refs.node_refs(ov.get("expr")))
        return out
    return list(_refs.node_refs(val))


def _at(base: str, key: str | None, suffix: str, p: str) -> str:
    """The $-path of a ValueRef leaf: ``base`` + ``[key]`` + ``suffix`` + its path inside the ValueRef."""
    return (base if key is None else pk(base, key)) + suffix + p[1:]


def _overrides(raw: Mapping[str, Any]) -> dict[str, Any]:
    ov = raw.get("calculated_overrides")
    return dict(ov) if isinstance(ov, dict) else {}


def _calc_fields(target: Mapping[str, Any]) -> dict[str, Any]:
    cf = target.get("calculated_fields")
    return dict(cf) if isinstance(cf, dict) else {}


def _calc_refs(expr: Any) -> set[str]:
    out: set[str] = set()
    for dotted, _tag, _p in _refs.ref_paths(expr):
        parts = dotted.split(".")
        if parts[0] == "calculated" and len(parts) >= 2:
            out.add(parts[1])
    return out


def _output_keys(n: NodeInfo) -> frozenset[str] | None:
    """The output keys a node can have, or None when they are open (no declared returns); remembered
    on the protocol document per target and execution."""
    if n.target is None or n.protocol_doc is None:
        return None
    composite = n.spec is not None and n.spec.get("type") == "composite"
    return n.protocol_doc.remember(("output_keys", n.is_action, n.target_name, composite),
                                   _target_output_keys, n.target, n.is_action, composite)


def _target_output_keys(target: Mapping[str, Any], is_action: bool, composite: bool) -> frozenset[str] | None:
    returns = target.get("returns")
    if not isinstance(returns, list) or not returns:
        return None
    keys = {str(r["name"]) for r in returns if isinstance(r, dict) and isinstance(r.get("name"), str)}
    if is_action:
        keys |= EXECUTOR_OUTPUT_KEYS
        if composite:
            keys.add("steps")
    return frozenset(keys)


def _suggest(name: str, known: Mapping[str, Any]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return f'did you mean "{close[0]}"?' if close else "node ids: " + ", ".join(sorted(known)[:10])


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, str):
        return f"the string {v!r}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"the number {v}"
    return type(v).__name__


_CLEAN_CEL: set[tuple[str, bool]] = set()


def _cel_diags(expr: str, doc: Doc, path: str, *, want_bool: bool) -> list[Diagnostic]:
    """CEL checks of the expression at ``path`` in ``doc``; one found clean once is not re-checked. The
    span is looked up only for an expression that is checked (a clean one needs none: the lookup walks
    the document's position tree, which a large workflow would otherwise read once per expression)."""
    key = (expr, want_bool)
    if key in _CLEAN_CEL:
        return []
    from aisc.eval.static import check_cel

    found = list(check_cel(expr, span=doc.span(path), path=path, allowed_roots=_ROOTS_SET, want_bool=want_bool))
    if not found and len(_CLEAN_CEL) < 100_000:
        _CLEAN_CEL.add(key)
    return found
