"""Workspace: imports, the pack boundary, provider and plugin allowlists (R022–R028, R074–R080, R144, R145, R321)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aisc.diagnostics import Diagnostic, Related
from aisc.ir.execution import CORE_EXECUTION_TYPES
from aisc.passes import _refs
from aisc.passes.integrity import check_import_integrity
from aisc.passes.model import Analysis, Doc, NodeInfo, Workspace, pack_identity, pk, protocol_key


def check_workspace(ws: Workspace, an: Analysis) -> list[Diagnostic]:
    """Check imports and every pack rule the workflow and its protocols must respect."""
    c = _Checker(ws, an)
    c.imports()
    c.diags.extend(check_import_integrity(ws.workflow, {i.index: i.resolved for i in ws.imports}))
    c.duplicates()
    c.pack_selection()
    if ws.pack is not None:
        c.pack_rules(ws.pack)
    return c.diags


class _Checker:
    def __init__(self, ws: Workspace, an: Analysis) -> None:
        self.ws = ws
        self.an = an
        self.wf = ws.workflow
        self.diags: list[Diagnostic] = []

    def err(self, code: str, msg: str, doc: Doc, path: str, hint: str | None = None, *,
            severity: str = "error", related: tuple[Related, ...] = ()) -> None:
        self.diags.append(Diagnostic(code=code, message=msg, severity=severity,  # type: ignore[arg-type]
                                     path=path, span=doc.span(path), hint=hint, related=related))

    # ------------------------------------------------------------------ imports (R144, R145, R321)

    def imports(self) -> None:
        ws = self.ws
        imported: set[str] = set()
        for imp in ws.imports:
            p = f"$.imports.protocols[{imp.index}]"
            imported.add(imp.protocol)
            if imp.doc is None:
                self.err("AISC-WS-001", f"imported file {imp.path!r} for {imp.protocol} not found (R145)", self.wf,
                         f"{p}.path", "import paths are relative to the workflow file")
                continue
            if imp.via_fallback:
                self.err("AISC-WS-014", f"import path {imp.path!r} is not relative to the workflow file; "
                         f"resolved against an ancestor directory as {imp.resolved} (compatibility rule, D10)",
                         self.wf, f"{p}.path", "write the path relative to the workflow file",
                         severity="warning")
            got = protocol_key(imp.doc) if imp.doc.kind == "protocol" else None
            if got != imp.protocol:
                what = f"defines {got}" if got else f"is a {imp.doc.kind} document, not a protocol"
                self.err("AISC-WS-002", f"imported file {imp.path!r} {what}, but the import declares "
                         f"{imp.protocol} (R145)", self.wf, f"{p}.protocol",
                         "fix the protocol@version or the path")
        if ws.imports and ws.enforce_imports:
            for n in ws.nodes:
                if n.protocol not in imported:
                    self.err("AISC-WS-003", f'node "{n.id}" uses {n.protocol}, which is not in imports.protocols '
                             "(R321)", self.wf, f"{n.path}.protocol",
                             f'add {{protocol: "{n.protocol}", path: <file>}} to imports.protocols')
        by_name: dict[str, set[str]] = {}
        for n in ws.targets:
            name, _, version = n.protocol.partition("@")
            by_name.setdefault(name, set()).add(version)
        for name, versions in sorted(by_name.items()):
            if len(versions) > 1:
                self.err("AISC-WS-015", f"the workflow uses several versions of {name}: "
                         f"{', '.join(sorted(versions))}", self.wf, "$.nodes",
                         "use one version of each protocol", severity="warning")

    def duplicates(self) -> None:
        for key, first, second in self.ws.duplicate_protocols:
            self.err("AISC-WS-004", f"{key} is defined twice in the workspace: {first.file} and {second.file}",
                     second, "$.meta", "keep one document per protocol@version",
                     related=(Related("first definition", first.span("$.meta")),))

    # ------------------------------------------------------------------ pack selection (R074, R076)

    def pack_selection(self) -> None:
        ws = self.ws
        req = self.wf.get("requires_pack")
        if ws.pack is not None and pack_identity(ws.pack) is None:
            self.err("AISC-WS-006", "the pack has no name+version (R074)", ws.pack, "$",
                     "set meta: {name, version} (or top-level name and version)")
        if not isinstance(req, dict):
            return
        want = (req.get("name"), req.get("version"))
        if ws.pack is None:
            have = sorted(f"{i[0]}@{i[1]}" for i in (pack_identity(p) for p in ws.packs) if i)
            self.err("AISC-WS-005", f"requires_pack {want[0]}@{want[1]} not found in the workspace (R076)", self.wf,
                     "$.requires_pack", "pass --pack FILE or --workspace DIR containing it"
                     + (f"; packs found: {', '.join(have)}" if have else ""))
            return
        ident = pack_identity(ws.pack)
        if ident is not None and ident != want:
            self.err("AISC-WS-013", f"the workflow requires pack {want[0]}@{want[1]} but the pack given is "
                     f"{ident[0]}@{ident[1]} (R076)", self.wf, "$.requires_pack",
                     "pass the required pack, or change requires_pack")

    # ------------------------------------------------------------------ pack rules (R022-R028, R075, R077-R080)

    def pack_rules(self, pack: Doc) -> None:
        includes = pack.get("includes")
        includes = includes if isinstance(includes, list) else []
        by_key: dict[str, tuple[int, Mapping[str, Any]]] = {}
        for j, inc in enumerate(includes):
            if not isinstance(inc, dict):
                continue
            key = f"{inc.get('protocol')}@{inc.get('version')}"
            by_key.setdefault(key, (j, inc))
            if key not in self.ws.protocols:
                self.err("AISC-WS-007", f"pack include {key} does not resolve to a protocol in the workspace (R075)",
                         pack, f"$.includes[{j}]", "add the protocol document to the workspace (--workspace DIR)")
        detect_enabled = _enabled(pack, "providers", "detect")
        plugins_enabled = _enabled(pack, "plugins", "execution")
        # only a node with an argument beyond one ref or cel can hold a detect (Analysis.rich_args)
        rich = {n.index for n in self.an.rich_args}
        for n in self.ws.nodes:
            inc_entry = by_key.get(n.protocol)
            if inc_entry is None:
                self.err("AISC-WS-008", f'node "{n.id}" uses {n.protocol}, which the pack does not include (R077)',
                         self.wf, f"{n.path}.protocol",
                         "use a protocol the pack includes: " + (", ".join(sorted(by_key)) or "none"))
            elif n.chain is not None:
                j, inc = inc_entry
                scope = inc.get("chain_scope")
                if isinstance(scope, list) and scope and n.chain not in scope:
                    where = f"{n.path}.chain" if n.chain_source == "node" else (
                        "$.default_chain" if n.chain_source == "workflow" else n.path)
                    self.err("AISC-WS-009", f'node "{n.id}" runs {n.protocol} on {n.chain}, outside the pack\'s '
                             f"chain_scope {', '.join(map(str, scope))} (R078)", self.wf, where,
                             "run it on a chain in the scope",
                             related=(Related("chain_scope declared here",
                                              pack.span(f"$.includes[{j}].chain_scope")),))
            self.node_detects(n, detect_enabled, n.index in rich)
            self.node_plugins(n, plugins_enabled, pack)
        self.protocol_contradictions(by_key, detect_enabled, plugins_enabled, pack)
        self.quote_providers(pack)

    def node_detects(self, n: NodeInfo, enabled: list[Mapping[str, Any]], rich: bool) -> None:
        """R022-R024, R079: workflow detects are covered; protocol detects of the used target too.

        ``rich``: whether the node is in ``Analysis.rich_args`` (otherwise its arguments are single
        refs and cels, and hold no detect)."""
        found: list[tuple[Doc, str, Mapping[str, Any], bool]] = []
        if rich:
            found.extend((self.wf, path, val, True) for path, val in _refs.arg_detects(n))
        doc = n.protocol_doc
        if doc is not None and n.target is not None:
            # the target's detects: the same for every node that runs it, found once per document
            for path, val in doc.remember(("target_detects", n.is_action, n.target_name), _target_detects, n):
                found.append((doc, path, val, False))
        for doc, path, d, from_workflow in found:
            kind, provider = d.get("kind"), d.get("provider")
            cands = [e for e in enabled if e.get("kind") == kind and _chain_ok(e, n.chain)]
            if isinstance(provider, str):
                match = [e for e in cands if e.get("provider") == provider]
                if not match:
                    self.err("AISC-WS-010", f'detect {kind}/{provider} used by node "{n.id}" on {n.chain} is not '
                             "enabled by the pack (R023, R079)", doc, path,
                             "enable it under providers.detect.enabled (kind, provider, chains)")
                    continue
                choice = match[0]
            else:
                if not cands:
                    if kind == "choose_one":
                        continue  # deterministic fallback every engine supports (R019)
                    self.err("AISC-WS-010", f'no detect provider for kind "{kind}" on {n.chain} is enabled by the '
                             f'pack (node "{n.id}") (R022, R024, R079)', doc, path,
                             "enable a provider for this kind and chain under providers.detect.enabled")
                    continue
                choice = sorted(cands, key=lambda e: (-_prio(e), str(e.get("provider"))))[0]
            self.an.detect_providers.setdefault(n.id, []).append({
                "path": path if from_workflow else f"{n.protocol}:{path}",
                "kind": kind, "provider": choice.get("provider"), "priority": _prio(choice)})

    def node_plugins(self, n: NodeInfo, enabled: list[Mapping[str, Any]], pack: Doc) -> None:
        """R027, R028: with an active pack a plugin execution type must be allowlisted for the chain."""
        if n.spec is None:
            return
        specs = [(n.spec, n.chain)]
        if n.spec.get("type") == "composite":
            specs = [(s.get("execution") or {}, s.get("chain") or n.chain)
                     for s in n.spec.get("steps") or [] if isinstance(s, dict)]
        for spec, chain in specs:
            t = spec.get("type") if isinstance(spec, dict) else None
            if not isinstance(t, str) or t in CORE_EXECUTION_TYPES:
                continue
            if not any(e.get("type") == t and _chain_ok(e, chain) for e in enabled):
                self.err("AISC-WS-012", f'node "{n.id}" uses plugin execution type "{t}" on {chain}, which the pack '
                         "does not allowlist (R027, R028)", self.wf, f"{n.path}.protocol",
                         f'add {{type: "{t}", chains: ["{chain}"]}} to plugins.execution.enabled, '
                         "or use a core execution type")

    def protocol_contradictions(self, by_key: Mapping[str, tuple[int, Mapping[str, Any]]],
                                detect_enabled: list[Mapping[str, Any]],
                                plugins_enabled: list[Mapping[str, Any]], pack: Doc) -> None:
        """R080: an included protocol must not need a detect pair or plugin type the pack disables."""
        pairs = {(e.get("kind"), e.get("provider")) for e in detect_enabled}
        types = {e.get("type") for e in plugins_enabled}
        for key in sorted(by_key):
            doc = self.ws.protocols.get(key)
            if doc is None:
                continue
            j = by_key[key][0]
            for _path, d in doc.remember("detects", _doc_detects, doc):
                if isinstance(d.get("provider"), str) and (d.get("kind"), d["provider"]) not in pairs:
                    self.err("AISC-WS-011", f"included protocol {key} references detect "
                             f"{d.get('kind')}/{d['provider']}, which the pack does not enable (R080)",
                             pack, f"$.includes[{j}]", "enable the pair under providers.detect.enabled or "
                             "drop the include")
            if plugins_enabled:
                for _path, t in _plugin_types(doc.raw):
                    if t not in types:
                        self.err("AISC-WS-012", f"included protocol {key} uses plugin execution type \"{t}\", "
                                 "which plugins.execution.enabled does not list (R080)", pack, f"$.includes[{j}]",
                                 f"allowlist {t} or drop the include")

    def quote_providers(self, pack: Doc) -> None:
        """R025: quote providers are an allowlist; duplicates make the choice ambiguous."""
        seen: dict[str, int] = {}
        for j, e in enumerate(_enabled(pack, "providers", "quote")):
            name = str(e.get("provider"))
            if name in seen:
                self.err("AISC-WS-016", f'quote provider "{name}" is listed twice', pack,
                         f"$.providers.quote.enabled[{j}]", "list each quote provider once", severity="warning")
            seen.setdefault(name, j)


# ---------------------------------------------------------------------- helpers


def _enabled(pack: Doc, group: str, sub: str) -> list[Mapping[str, Any]]:
    g = pack.get(group)
    s = g.get(sub) if isinstance(g, dict) else None
    e = s.get("enabled") if isinstance(s, dict) else None
    return [x for x in e if isinstance(x, dict)] if isinstance(e, list) else []


def _chain_ok(entry: Mapping[str, Any], chain: str | None) -> bool:
    chains = entry.get("chains")
    if not isinstance(chains, list) or not chains:
        return True
    return chain in chains


def _prio(e: Mapping[str, Any]) -> int:
    p = e.get("priority")
    return p if isinstance(p, int) and not isinstance(p, bool) else 0


def _detects(obj: Any, path: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """Every ``{detect: {...}}`` anywhere inside a protocol object."""
    if isinstance(obj, dict):
        if len(obj) == 1 and "detect" in obj and isinstance(obj["detect"], dict):
            yield f"{path}.detect", obj["detect"]
            return
        for k, v in obj.items():
            yield from _detects(v, pk(path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _detects(v, f"{path}[{i}]")


def _doc_detects(doc: Doc) -> list[tuple[str, Mapping[str, Any]]]:
    return list(_detects(doc.raw, "$"))


def _target_detects(n: NodeInfo) -> list[tuple[str, Mapping[str, Any]]]:
    return list(_detects(n.target, n.target_path or "$"))


def _plugin_types(proto: Any) -> Iterable[tuple[str, str]]:
    for group in ("actions", "queries"):
        block = proto.get(group) if isinstance(proto, dict) else None
        if not isinstance(block, dict):
            continue
        for tid, target in block.items():
            ex = target.get("execution") if isinstance(target, dict) else None
            if not isinstance(ex, dict):
                continue
            for key, spec in ex.items():
                specs = [spec]
                if isinstance(spec, dict) and spec.get("type") == "composite":
                    specs = [s.get("execution") for s in spec.get("steps") or [] if isinstance(s, dict)]
                for s in specs:
                    t = s.get("type") if isinstance(s, dict) else None
                    if isinstance(t, str) and t not in CORE_EXECUTION_TYPES:
                        yield pk(pk(f"$.{group}", tid) + ".execution", key), t
