"""A compilation: named phases, each computed once from the one before it.

``sources → documents → workspace → checked → plan``

- ``sources``: the files that take part (the entry workflow or plan skeleton, an explicit pack, the
  workspace folder's AIS documents).
- ``documents``: the front end's LoadedDocuments for the sources plus the ``imports.protocols``
  closure (paths relative to the workflow file).
- ``workspace``: the :class:`~aisc.passes.model.Workspace` (protocols by ``protocol@version``, the
  active pack, every node with its target and chain looked up).
- ``checked``: the analysis the passes of :data:`aisc.passes.PIPELINE` fill in, and their diagnostics.
- ``plan``: the ``ais-plan/0.0.3`` JSON (canonical text via :func:`plan_text`), with its hash.

The CLI maps ``--emit NAME`` onto these names and holds no logic. Entry points:
:func:`compile_workflow` (raises :class:`CompilationFailed`) and :func:`plan_from_yaml_texts` (the
conformance runner's ``workflow_plan`` kind).
"""

from __future__ import annotations

import functools
import os
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from aisc import gcpause
from aisc.diagnostics import CompilationFailed, Diagnostic, has_errors, register_source, sort_diagnostics
from aisc.frontend import LoadedDocument, collect_paths, load_file, load_text, span_at
from aisc.ir.chains import NoExecutionMatch, is_caip2, select_execution, selected_key
from aisc.ir.plan import (
    CheckedNodes,
    Plan,
    PlanError,
    check_execution,
    check_plan_json,
    check_plan_node,
    exact_json,
    plan_from_json,
    plan_hash,
)
from aisc.passes import PIPELINE
from aisc.passes.model import (
    Analysis,
    Doc,
    ImportInfo,
    NodeInfo,
    Options,
    Workspace,
    pack_identity,
    protocol_key,
)
from aisc.passes.protocol_semantics import check_protocol
from aisc.reprs import install_reprs

PHASES = ("sources", "documents", "workspace", "checked", "plan")
WORKSPACE_ENV = "AISC_WORKSPACE"
IMPORT_FALLBACK_LEVELS = 4

__all__ = [
    "PHASES",
    "Checked",
    "Compilation",
    "CompilationFailed",
    "Options",
    "compile_workflow",
    "plan_from_yaml_texts",
    "plan_hash",
    "plan_text",
]


@attrs.frozen(repr=False)
class Checked:
    """The ``checked`` phase: the analysis and every diagnostic so far (front end included)."""

    analysis: Analysis
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


class Compilation:
    """One workflow (or plan skeleton) compiled against a workspace. Phases are cached properties."""

    def __init__(
        self,
        entry: str | os.PathLike[str] | None = None,
        *,
        pack: str | os.PathLike[str] | None = None,
        workspace: str | os.PathLike[str] | None = None,
        options: Options | None = None,
        preloaded: Sequence[LoadedDocument] | None = None,
        entry_document: LoadedDocument | None = None,
        shared: WorkspaceCache | None = None,
    ) -> None:
        self.entry = os.fspath(entry) if entry is not None else None
        self.pack_path = os.fspath(pack) if pack is not None else None
        ws = workspace if workspace is not None else os.environ.get(WORKSPACE_ENV) or None
        self.workspace_dir = os.fspath(ws) if ws is not None else None
        self.options = options or Options()
        self._preloaded = list(preloaded or ())
        self._entry_document = entry_document
        self._shared = shared
        self._front: list[Diagnostic] = []

    # ------------------------------------------------------------------ phase 1: sources

    @functools.cached_property
    def sources(self) -> list[str]:
        """Files that take part, in a stable order: entry, pack, then the workspace folder."""
        files: list[str] = []
        if self.entry is not None:
            files.append(self.entry)
        if self.pack_path is not None:
            files.append(self.pack_path)
        if self._shared is None:
            root = self._workspace_root()
            if root is not None:
                found, diags = collect_paths([root])
                self._front.extend(diags)
                files.extend(found)
        return _dedupe(files)

    def _workspace_root(self) -> str | None:
        if self.workspace_dir is not None:
            return self.workspace_dir
        if self.entry is not None:
            return os.path.dirname(os.path.abspath(self.entry))
        return None

    # ------------------------------------------------------------------ phase 2: documents

    @functools.cached_property
    def documents(self) -> list[LoadedDocument]:
        """LoadedDocuments: the entry first, then the pack, the workspace and the imports closure."""
        docs: list[LoadedDocument] = []
        if self._entry_document is not None:
            docs.append(self._entry_document)
        docs.extend(self._preloaded)
        loaded = {_real(d.file) for d in docs}
        for f in self.sources:
            r = _real(f)
            if r in loaded:
                continue
            loaded.add(r)
            if self._shared is not None and r in self._shared.by_real:
                docs.append(self._shared.by_real[r])
            else:
                docs.append(load_file(f))
        if self._shared is not None:
            for d in self._shared.documents:
                if _real(d.file) not in loaded:
                    loaded.add(_real(d.file))
                    docs.append(d)
        entry = docs[0] if docs else None
        if entry is not None and entry.kind == "workflow" and isinstance(entry.raw, dict):
            for imp in _import_list(entry.raw):
                path = imp.get("path")
                if not isinstance(path, str):
                    continue
                target, _ = _resolve_import(entry.file, path)
                if target is not None and _real(target) not in loaded:
                    loaded.add(_real(target))
                    docs.append(load_file(target, kind_hint="protocol"))
        return docs

    # ------------------------------------------------------------------ phase 3: workspace

    @functools.cached_property
    def workspace(self) -> Workspace:
        with gcpause.paused():
            return self._workspace()

    def _workspace(self) -> Workspace:
        docs = self.documents
        if not docs:
            raise CompilationFailed([Diagnostic("AISC-PLAN-003", "nothing to compile",
                                                hint="pass a workflow file")])
        entry = docs[0]
        by_real = {_real(d.file): d for d in docs}
        wrapped = {id(d): _wrap(d) for d in docs}
        entry_doc = wrapped[id(entry)]
        skeleton = None
        if entry.kind == "plan_skeleton" and isinstance(entry.raw, dict):
            skeleton = entry_doc
            entry_doc = _skeleton_workflow(entry_doc)
        ws = Workspace(workflow=entry_doc, is_skeleton=skeleton is not None, skeleton=skeleton,
                       enforce_imports=self.options.enforce_imports)
        # protocols: imports first (they win), then the rest of the workspace
        if entry.kind == "workflow" and isinstance(entry.raw, dict):
            for i, imp in enumerate(_import_list(entry.raw)):
                path = imp.get("path")
                declared = imp.get("protocol")
                if not isinstance(path, str) or not isinstance(declared, str):
                    continue
                target, fallback = _resolve_import(entry.file, path)
                d = by_real.get(_real(target)) if target is not None else None
                ws.imports.append(ImportInfo(i, declared, path, target, wrapped[id(d)] if d else None, fallback))
        ordered: list[Doc] = [imp.doc for imp in ws.imports if imp.doc is not None]
        ordered += [wrapped[id(ld)] for ld in docs[1:]]
        seen_docs: set[int] = set()
        for pdoc in ordered:
            if id(pdoc) in seen_docs or pdoc.kind != "protocol" or not _usable(pdoc):
                continue
            seen_docs.add(id(pdoc))
            key = protocol_key(pdoc)
            if key is None:
                continue
            first = ws.protocols.get(key)
            if first is None:
                ws.protocols[key] = pdoc
            elif first.raw != pdoc.raw:
                ws.duplicate_protocols.append((key, first, pdoc))
        ws.packs = [wrapped[id(ld)] for ld in docs[1:] if ld.kind == "pack" and isinstance(ld.raw, dict)]
        ws.pack = self._select_pack(ws)
        _fill_nodes(ws, self.options)
        return ws

    def _select_pack(self, ws: Workspace) -> Doc | None:
        if self.pack_path is not None:
            for p in ws.packs:
                if _real(p.file) == _real(self.pack_path):
                    ws.pack_explicit = True
                    return p
            return None
        req = ws.workflow.get("requires_pack")
        if isinstance(req, dict):
            want = (req.get("name"), req.get("version"))
            for p in ws.packs:
                if pack_identity(p) == want and _usable(p):
                    return p
            # a broken pack that is meant to be this one: select it so its own errors are reported
            for p in ws.packs:
                ident = pack_identity(p)
                meta = p.get("meta")
                name = ident[0] if ident else (meta.get("name") if isinstance(meta, dict) else p.get("name"))
                if name == want[0] and not _usable(p):
                    return p
        return None

    # ------------------------------------------------------------------ phase 4: checked

    @functools.cached_property
    def checked(self) -> Checked:
        with gcpause.paused():
            return self._checked()

    def _checked(self) -> Checked:
        ws = self.workspace
        diags: list[Diagnostic] = list(self._front)
        diags.extend(self._document_diagnostics(ws))
        an = Analysis()
        if not has_errors(diags):
            for step in PIPELINE:
                if step.name == "lower":
                    break
                found = step.run(ws, an, self.options)
                diags.extend(found)
                if step.stop_on_error and has_errors(found):
                    break
        return Checked(an, tuple(sort_diagnostics(_dedupe_diags(diags))))

    def _document_diagnostics(self, ws: Workspace) -> list[Diagnostic]:
        """Front-end diagnostics of the documents this compilation uses (not of unrelated files)."""
        used: list[Doc] = [ws.skeleton or ws.workflow]
        if ws.pack is not None:
            used.append(ws.pack)
        elif self.pack_path is not None:
            used.extend(_wrap(d) for d in self.documents if _real(d.file) == _real(self.pack_path))
        used += [imp.doc for imp in ws.imports if imp.doc is not None]
        used += [n.protocol_doc for n in ws.targets if n.protocol_doc is not None]
        out: list[Diagnostic] = []
        seen: set[int] = set()
        for d in used:
            if id(d) in seen:
                continue
            seen.add(id(d))
            ld = d.loaded
            if isinstance(ld, LoadedDocument):
                if ld.diagnostics:
                    out.extend(ld.diagnostics)
                if ld.kind == "protocol" and ld.document is not None:
                    out.extend(d.remember("protocol_semantics", _protocol_semantics, ld))
        if self.pack_path is not None and ws.pack is None and not any(
            _real(d.file) == _real(self.pack_path) for d in self.documents if d.kind == "pack"
        ):
            out.append(Diagnostic("AISC-WS-017", f"{self.pack_path} is not a pack document",
                                  hint="pass an .ais-pack.yaml file to --pack"))
        return out

    # ------------------------------------------------------------------ phase 5: plan

    @functools.cached_property
    def plan(self) -> dict[str, Any]:
        """The plan JSON. Raises :class:`CompilationFailed` when any phase found an error."""
        with gcpause.paused():
            return self._plan()

    def _plan(self) -> dict[str, Any]:
        checked = self.checked
        if not checked.ok:
            raise CompilationFailed(checked.diagnostics)
        lower_step = next(s for s in PIPELINE if s.name == "lower")
        # The self-check: each node through the runtime's plan decoder as lowering completes it,
        # while it is still in the CPU caches; then the rest of the plan and the checks across nodes.
        nodes_checked = CheckedNodes()
        node_error: PlanError | None = None

        def check_node(node: dict[str, Any], index: int) -> None:
            nonlocal node_error
            if node_error is None:
                try:
                    nodes_checked.add(*_self_check_node(node, index))
                except PlanError as e:  # reported after lowering's own diagnostics, which come first
                    node_error = e

        lowered = lower_step.lower(self.workspace, checked.analysis, self.options, check_node)
        if has_errors(lowered.diagnostics):
            raise CompilationFailed([*checked.diagnostics, *lowered.diagnostics])
        plan = lowered.plan
        try:
            if node_error is not None:
                raise node_error
            check_plan_json(plan, check_executions=False, checked_nodes=nodes_checked)
        except PlanError as e:
            raise CompilationFailed([e.to_diagnostic(self.entry)]) from None
        out: dict[str, Any] = plan
        return out

    @property
    def artifact(self) -> str:
        """The plan as written to disk: canonical text with ``extensions.aisc.plan_hash``."""
        return plan_text(self.plan)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.checked.diagnostics

    def emit(self, name: str) -> Any:
        """The JSON-able view of one phase (``aisc compile --emit NAME``)."""
        if name not in PHASES:
            raise ValueError(f"unknown phase {name!r}; phases: {', '.join(PHASES)}")
        if name == "sources":
            return {"sources": list(self.sources)}
        if name == "documents":
            return {"documents": [{"file": d.file, "kind": d.kind,
                                   "diagnostics": [x.to_json() for x in d.diagnostics]}
                                  for d in self.documents]}
        if name == "workspace":
            return _workspace_json(self.workspace)
        if name == "checked":
            c = self.checked
            an = c.analysis
            ws = self.workspace
            return {
                "ok": c.ok,
                "order": [ws.nodes[i].id for i in an.order],
                "deps": {ws.nodes[i].id: d for i, d in enumerate(an.deps) if d},
                "calculated_order": an.calculated_order,
                "runtime_guards": an.runtime_guards,
                "detect_providers": an.detect_providers,
                "capabilities_used": an.capabilities_used,
                "policy": an.policy_summary,
                "diagnostics": [d.to_json() for d in c.diagnostics],
            }
        return self.plan


class WorkspaceCache:
    """Documents loaded once and shared by several compilations (``aisc compile DIR``)."""

    def __init__(self, documents: Sequence[LoadedDocument]) -> None:
        self.documents = list(documents)
        self.by_real = {_real(d.file): d for d in self.documents}


# ---------------------------------------------------------------------- public helpers


def compile_workflow(
    path: str | os.PathLike[str],
    *,
    pack: str | os.PathLike[str] | None = None,
    workspace: str | os.PathLike[str] | None = None,
    options: Options | None = None,
) -> Plan:
    """Compile one workflow (or plan skeleton) file to a :class:`~aisc.ir.plan.Plan`.

    Raises :class:`CompilationFailed` with every diagnostic when the input has an error.
    """
    c = Compilation(path, pack=pack, workspace=workspace, options=options)
    return plan_from_json(c.plan)


_TEXT_CACHE: dict[tuple[str, str, str | None], LoadedDocument] = {}
_TEXT_CACHE_MAX = 64


def _load_text_cached(text: str, file: str, kind_hint: str | None) -> LoadedDocument:
    """:func:`load_text`, remembered: a conformance suite hands the same protocol text to many cases
    (loaded documents are not changed by compiling them). A hit registers the text again, so that
    diagnostics render against it."""
    key = (text, file, kind_hint)
    doc = _TEXT_CACHE.get(key)
    if doc is None:
        if len(_TEXT_CACHE) >= _TEXT_CACHE_MAX:
            _TEXT_CACHE.clear()
        doc = _TEXT_CACHE[key] = load_text(text, file, kind_hint=kind_hint)
    else:
        register_source(file, text)
    return doc


def plan_from_yaml_texts(protocols_yaml: list[str], workflow_yaml: str) -> dict[str, Any]:
    """The conformance ``workflow_plan`` kind: protocols + workflow text → plan JSON (no extensions).

    The protocols get their semantic checks; imports are not enforced. Raises CompilationFailed.
    """
    protos = [_load_text_cached(t, f"<protocol-{i}>.ais.yaml", "protocol") for i, t in enumerate(protocols_yaml)]
    wf = _load_text_cached(workflow_yaml, "<workflow>.ais-flow.yaml", None)
    opts = Options(enforce_imports=False, aisc_extensions=False)
    c = Compilation(None, options=opts, preloaded=protos, entry_document=wf)
    return c.plan


def _self_check_node(node: Any, index: int) -> tuple[str, Sequence[str]]:
    """One plan node through the decoder's checks; its id and deps. Execution specs are shared
    between plan nodes (every node running one action holds the same spec object), so each distinct
    spec is checked once and then remembered; a non-object ``execution`` is left to the node check,
    which reports it."""
    ex = node.get("execution") if isinstance(node, dict) else None
    if isinstance(ex, dict):
        hit = _CHECKED_SPECS.get(id(ex))
        if hit is None or hit is not ex:
            check_execution(ex, f"$.nodes[{index}].execution")
            if len(_CHECKED_SPECS) > 20_000:
                _CHECKED_SPECS.clear()
            _CHECKED_SPECS[id(ex)] = ex  # holding the spec keeps its id from being reused
    return check_plan_node(node, index, check_execution_spec=False)


_CHECKED_SPECS: dict[int, Any] = {}


def plan_text(plan: Mapping[str, Any]) -> str:
    """Canonical text: sorted keys, two-space indent, UTF-8, trailing newline; exact decimals.

    When the plan carries ``extensions.aisc`` its ``plan_hash`` is (re)computed first.
    """
    ext = plan.get("extensions")
    if isinstance(ext, dict) and isinstance(ext.get("aisc"), Mapping):
        plan = {**plan, "extensions": {**ext, "aisc": {**ext["aisc"], "plan_hash": plan_hash(plan)}}}
    return exact_json(plan, indent=2) + "\n"


# ---------------------------------------------------------------------- workspace building


# The Doc of each loaded document (with what passes remember on it, Doc.remember), keyed by id() with
# a weak reference to confirm identity (LoadedDocument is an attrs class with value equality, so it
# cannot be a dict key itself).
_DOC_CACHE: dict[int, tuple[Any, Doc]] = {}


def _wrap(d: LoadedDocument) -> Doc:
    hit = _DOC_CACHE.get(id(d))
    if hit is not None and hit[0]() is d:
        return hit[1]
    doc = Doc(file=d.file, kind=d.kind or "unknown", raw=d.raw,
              span_lookup=functools.partial(_span_of, d), loaded=d)
    try:
        ref = weakref.ref(d)
    except TypeError:
        return doc
    if len(_DOC_CACHE) > 50_000:
        _DOC_CACHE.clear()
    _DOC_CACHE[id(d)] = (ref, doc)
    return doc


def _span_of(d: LoadedDocument, path: str) -> Any:
    return span_at(d, path, nearest=True)


def _usable(d: Doc) -> bool:
    ld = d.loaded
    return isinstance(d.raw, dict) and (not isinstance(ld, LoadedDocument) or ld.ok)


def _import_list(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    imports = raw.get("imports")
    protos = imports.get("protocols") if isinstance(imports, dict) else None
    return [p for p in protos if isinstance(p, dict)] if isinstance(protos, list) else []


@functools.lru_cache(maxsize=4096)
def _resolve_import(workflow_file: str, path: str) -> tuple[str | None, bool]:
    """(file, used_fallback): relative to the workflow file; else an ancestor folder (D10 rule)."""
    if os.path.isabs(path):
        return (path, False) if os.path.isfile(path) else (None, False)
    base = os.path.dirname(os.path.abspath(workflow_file))
    first = os.path.join(base, path)
    if os.path.isfile(first):
        return first, False
    cur = base
    for _ in range(IMPORT_FALLBACK_LEVELS):
        parent = os.path.dirname(cur)
        if parent == cur:
            break
        cur = parent
        cand = os.path.join(cur, path)
        if os.path.isfile(cand):
            return cand, True
    return None, False


def _skeleton_workflow(sk: Doc) -> Doc:
    """R302: the workflow a plan skeleton stands for (never written to disk)."""
    raw = sk.raw
    meta = raw.get("meta") if isinstance(raw.get("meta"), Mapping) else {}
    wmeta: dict[str, Any] = {"name": meta.get("name") or "plan-skeleton", "version": "0.0.1"}
    if isinstance(meta.get("description"), str):
        wmeta["description"] = meta["description"]
    wf: dict[str, Any] = {"schema": "ais-flow/0.0.3", "meta": wmeta, "inputs": {}, "nodes": raw.get("nodes") or []}
    if "default_chain" in raw:
        wf["default_chain"] = raw["default_chain"]
    return Doc(file=sk.file, kind="workflow", raw=wf, span_lookup=sk.span_lookup, loaded=sk.loaded)


def _fill_nodes(ws: Workspace, options: Options) -> None:
    """``ws.nodes``: the workflow's nodes with their lookups done; and from the same walk
    ``ws.targets`` (the first node of each distinct lookup), ``ws.with_extensions``, ``ws.index``
    and ``ws.repeated_ids``."""
    wf = ws.workflow
    nodes_raw = wf.get("nodes")
    default_chain = wf.get("default_chain")
    out, targets, extended, index, repeated = ws.nodes, ws.targets, ws.with_extensions, ws.index, ws.repeated_ids
    if not isinstance(nodes_raw, list):
        return
    # (protocol, type, target name, chain) -> (that key, (protocol doc, target, spec, spec key)):
    # nodes of one workflow use a few targets on a few chains, each looked up once. The nodes that
    # share a key also share its strings (the first node's): each pass reads a node's protocol,
    # type and target, and one string object stays in the CPU caches where 10,000 copies don't.
    Key = tuple[str, str, Any, str | None]
    lookups: dict[Key, tuple[Key, tuple[Doc | None, Any, Any, str | None]]] = {}
    for i, raw in enumerate(nodes_raw):
        if not isinstance(raw, dict):
            continue
        ntype = str(raw.get("type", ""))
        is_action = ntype == "action_ref"
        target_name = raw.get("action" if is_action else "query")
        if not isinstance(target_name, str):
            target_name = None
        chain, source = raw.get("chain"), None
        if isinstance(chain, str):
            source = "node"
        elif isinstance(default_chain, str):
            chain, source = default_chain, "workflow"
        elif options.default_chain is not None:
            chain, source = options.default_chain, "option"
        else:
            chain = None
        if chain is not None and not is_caip2(chain):
            chain = None
        protocol = str(raw.get("protocol", ""))
        key = (protocol, ntype, target_name, chain)
        hit = lookups.get(key)
        first = hit is None
        if hit is None:
            hit = lookups[key] = (key, _lookup_target(ws, protocol, is_action, target_name, chain))
        (protocol, ntype, target_name, chain), found = hit
        node_id = str(raw.get("id", ""))
        info = NodeInfo(index=i, id=node_id, raw=raw, path=None, type=ntype,
                        protocol=protocol, target_name=target_name, chain=chain, chain_source=source)
        info.protocol_doc, info.target, info.spec, info.spec_key = found
        out.append(info)
        if first:
            targets.append(info)
        if "extensions" in raw:
            extended.append(info)
        if node_id in index:
            repeated.append(info)
        else:
            index[node_id] = i


def _lookup_target(ws: Workspace, protocol: str, is_action: bool, target_name: str | None,
                   chain: str | None) -> tuple[Doc | None, Any, Any, str | None]:
    """A node's protocol document, target (action or query), execution spec for its chain and that
    spec's key in the execution block; None for each one not found."""
    pdoc = ws.protocols.get(protocol)
    if pdoc is None:
        return None, None, None, None
    block = pdoc.get("actions" if is_action else "queries")
    target = block.get(target_name) if isinstance(block, dict) and target_name else None
    if not isinstance(target, dict):
        return pdoc, None, None, None
    execution = target.get("execution")
    if chain is None or not isinstance(execution, dict):
        return pdoc, target, None, None
    try:
        spec = select_execution(execution, chain)
    except NoExecutionMatch:
        return pdoc, target, None, None
    if not isinstance(spec, dict):
        return pdoc, target, None, None
    return pdoc, target, spec, selected_key(execution, chain)


def _protocol_semantics(ld: LoadedDocument) -> tuple[Diagnostic, ...]:
    """The protocol checks of a loaded protocol, each with a span (remembered on its Doc); none when
    the front end already reported an error in it."""
    if not ld.ok:
        return ()
    return tuple(d if d.span is not None else attrs.evolve(d, span=span_at(ld, d.path or "$", nearest=True))
                 for d in check_protocol(ld.document))


def _workspace_json(ws: Workspace) -> dict[str, Any]:
    return {
        "workflow": ws.workflow.file,
        "skeleton": ws.is_skeleton,
        "protocols": {k: d.file for k, d in sorted(ws.protocols.items())},
        "packs": [{"file": p.file, "identity": "@".join(pack_identity(p) or ("?", "?"))} for p in ws.packs],
        "pack": ws.pack.file if ws.pack is not None else None,
        "imports": [{"protocol": i.protocol, "path": i.path, "resolved": i.resolved} for i in ws.imports],
        "nodes": [{"id": n.id, "type": n.type, "protocol": n.protocol, "target": n.target_name,
                   "chain": n.chain, "execution_key": n.spec_key} for n in ws.nodes],
    }


def _real(path: str | None) -> str:
    if path is None:
        return ""
    if path.startswith("<"):
        return path
    return _realpath(path)


@functools.lru_cache(maxsize=8192)
def _realpath(path: str) -> str:
    return os.path.realpath(path)


def _dedupe(files: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for f in files:
        r = _real(f)
        if r not in seen:
            seen.add(r)
            out.append(f)
    return out


def _dedupe_diags(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    out: list[Diagnostic] = []
    for d in diags:
        before = len(seen)
        seen.add(d)  # one hash per diagnostic (a span and the message are hashed each time)
        if len(seen) != before:
            out.append(d)
    return out


install_reprs(__name__)
