"""What the passes read and record: the resolved workspace and the analysis context.

The passes work on the plain JSON form of each document (``raw``, the data model the JSON schemas
describe) and ask the front end for spans by ``$``-path. Execution specs must reach the plan
verbatim, and dict walks over 10,000 nodes are cheap, so nothing here re-wraps the typed IR.

:class:`Workspace` is built once by the compiler (``workspace`` phase): the workflow, the protocols
it may use (by ``protocol@version``), the packs, the active pack, and one :class:`NodeInfo` per
workflow node with its protocol, target (action or query) and chain already looked up. Lookup
*failures* are recorded here as data and reported as diagnostics by the passes.

:class:`Analysis` is the context the passes fill in order (topological order, dependencies,
calculated-field orders, runtime guards, detect provider choices); the lowering pass reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

import attrs

from aisc.diagnostics import Span
from aisc.ir.codec import path_key
from aisc.reprs import install_reprs

SpanLookup = Callable[[str], Span | None]
_T = TypeVar("_T")


def pk(path: str, key: object) -> str:
    """``$.a`` + ``b`` → ``$.a.b``; keys that are not identifiers use ``["..."]`` (front-end syntax)."""
    return path_key(path, str(key))


def _no_span(path: str) -> Span | None:
    return None


@attrs.define(eq=False, repr=False)
class Doc:
    """One loaded document: its file, kind, plain JSON data and a span lookup by ``$``-path."""

    file: str
    kind: str
    raw: Any
    span_lookup: SpanLookup = _no_span
    loaded: Any = None
    """The front end's LoadedDocument (None for documents built in code)."""

    _spans: dict[str, Span | None] = attrs.field(factory=dict, repr=False)
    _memo: dict[Hashable, Any] = attrs.field(factory=dict, repr=False, init=False)

    def span(self, path: str) -> Span | None:
        if path in self._spans:
            return self._spans[path]
        try:
            found = self.span_lookup(path)
        except Exception:  # a span is a convenience; never let a lookup failure hide a diagnostic
            found = None
        if len(self._spans) < 10_000:
            self._spans[path] = found
        return found

    def remember(self, key: Hashable, compute: Callable[..., _T], *args: Any) -> _T:
        """``compute(*args)``, once per document and ``key``: for results derived from this document
        alone (its data never changes once loaded). A compilation that reuses the loaded document
        (``aisc compile DIR``, the bridge, a compile server) gets them from here."""
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            got = self._memo[key] = compute(*args)
            return got

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default) if isinstance(self.raw, dict) else default


def protocol_key(doc: Doc) -> str | None:
    """``"<protocol>@<version>"`` of a protocol document, or None when its meta is unusable.

    Remembered on the document (a compiler reuses its Doc per loaded document, and asks often)."""
    return doc.remember("protocol_key", _protocol_key, doc)


def _protocol_key(doc: Doc) -> str | None:
    meta = doc.get("meta")
    if not isinstance(meta, dict):
        return None
    p, v = meta.get("protocol"), meta.get("version")
    if isinstance(p, str) and isinstance(v, str):
        return f"{p}@{v}"
    return None


def target_params(n: NodeInfo) -> dict[str, Mapping[str, Any]]:
    """The params of the action/query ``n`` uses, by name ({} without a target); remembered on its
    protocol document."""
    if n.target is None or n.protocol_doc is None:
        return {}
    return n.protocol_doc.remember(("params", n.is_action, n.target_name), _params_by_name, n.target)


def _params_by_name(target: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    params = target.get("params")
    return ({str(p["name"]): p for p in params if isinstance(p, dict) and "name" in p}
            if isinstance(params, list) else {})


def action_meta(protocol: str, name: str | None, target: Mapping[str, Any]) -> dict[str, Any]:
    """What the runtime needs to know of an action: ``{ref: "<protocol>/<name>", risk_level?,
    risk_tags?}`` (plan node ``extensions.aisc.action`` and a compensation's ``action_meta``)."""
    meta: dict[str, Any] = {"ref": f"{protocol}/{name}"}
    rl = target.get("risk_level")
    if isinstance(rl, int) and not isinstance(rl, bool):
        meta["risk_level"] = rl
    tags = target.get("risk_tags")
    if isinstance(tags, list) and tags:
        meta["risk_tags"] = list(tags)
    return meta


def pack_identity(doc: Doc) -> tuple[str, str] | None:
    """A pack's (name, version): ``meta`` first, then the top-level fields (R074, D5)."""
    meta = doc.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("name"), str) and isinstance(meta.get("version"), str):
        return str(meta["name"]), str(meta["version"])
    name, version = doc.get("name"), doc.get("version")
    if isinstance(name, str) and isinstance(version, str):
        return name, version
    return None


@attrs.define(eq=False, repr=False)
class NodeInfo:
    """One workflow node with its lookups done (failures are ``None`` plus a reason)."""

    index: int
    id: str
    raw: Mapping[str, Any]
    # the $-path of the node ("$.nodes[3]"); None = derived from ``index`` when asked (a workflow
    # node: that string is only needed for a diagnostic, and 10,000 nodes would keep 10,000 of them)
    _path: str | None
    type: str  # action_ref | query_ref
    protocol: str  # "p@v" as written
    target_name: str | None  # action or query id
    chain: str | None
    chain_source: str | None  # "node" | "workflow" | "option"
    protocol_doc: Doc | None = None
    target: Mapping[str, Any] | None = None  # the action or query definition (raw)
    spec_key: str | None = None  # the execution-block key selected for the chain
    spec: Mapping[str, Any] | None = None  # the selected execution spec (raw, verbatim)

    @property
    def path(self) -> str:
        p = self._path
        return p if p is not None else f"$.nodes[{self.index}]"

    @property
    def is_action(self) -> bool:
        return self.type == "action_ref"

    @property
    def target_path(self) -> str | None:
        if self.target_name is None:
            return None
        return pk(f"$.{'actions' if self.is_action else 'queries'}", self.target_name)


@attrs.define(eq=False, repr=False)
class ImportInfo:
    """One ``imports.protocols[]`` entry and what it resolved to."""

    index: int
    protocol: str
    path: str
    resolved: str | None  # absolute file path found, or None
    doc: Doc | None
    via_fallback: bool = False  # found by the repo-root-relative compatibility rule (D10)


@attrs.define(eq=False, repr=False)
class Workspace:
    """The documents one compilation sees."""

    workflow: Doc
    protocols: dict[str, Doc] = attrs.field(factory=dict)
    duplicate_protocols: list[tuple[str, Doc, Doc]] = attrs.field(factory=list)
    packs: list[Doc] = attrs.field(factory=list)
    pack: Doc | None = None
    pack_explicit: bool = False  # chosen with --pack (else by requires_pack)
    imports: list[ImportInfo] = attrs.field(factory=list)
    nodes: list[NodeInfo] = attrs.field(factory=list)
    # the first node of each distinct (protocol, node type, target, chain), in node order: what
    # depends on the target alone is looked at once per target, without walking every node (the
    # nodes after the first with a key hold the same lookups, see aisc.compiler._fill_nodes)
    targets: list[NodeInfo] = attrs.field(factory=list)
    # the nodes whose workflow data has an ``extensions`` key, in node order (compensations live
    # there): found while the workspace phase reads each node, so no pass walks every node for it
    with_extensions: list[NodeInfo] = attrs.field(factory=list)
    # node id -> index of the first node with that id, and the nodes whose id an earlier node has
    # (reported by the workflow pass); built in the same walk, while each id is in the CPU caches
    index: dict[str, int] = attrs.field(factory=dict)
    repeated_ids: list[NodeInfo] = attrs.field(factory=list)
    is_skeleton: bool = False
    skeleton: Doc | None = None
    enforce_imports: bool = True


@attrs.define(eq=False, repr=False)
class Analysis:
    """Facts the passes establish, in pipeline order, for the passes after them."""

    deps: list[list[str]] = attrs.field(factory=list)  # per node index: sorted dependency ids
    order: list[int] = attrs.field(factory=list)  # topological order (node indices)
    dag_ok: bool = True
    calculated_order: dict[str, list[str]] = attrs.field(factory=dict)  # node id -> protocol field names
    override_order: dict[str, list[str]] = attrs.field(factory=dict)  # node id -> override names
    runtime_guards: dict[str, list[dict[str, Any]]] = attrs.field(factory=dict)  # plan node id -> guards
    detect_providers: dict[str, list[dict[str, Any]]] = attrs.field(factory=dict)  # node id -> choices
    capabilities_used: list[str] = attrs.field(factory=list)
    # the nodes with an argument other than one ref or cel (a literal, a detect, an object or an
    # array), in order, noted by the workflow pass: only these can hold a detect (capabilities pass)
    # or a literal (numeric-literal pass), so those passes read no other node's arguments
    rich_args: list[NodeInfo] = attrs.field(factory=list)
    policy_summary: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen(repr=False)
class Options:
    """Compiler options (CLI flags map onto these)."""

    default_chain: str | None = None
    capabilities: tuple[str, ...] | None = None  # engine capabilities; None = aisc's own set
    enforce_imports: bool = True
    aisc_extensions: bool = True  # record extensions.aisc (guards, policy data, plan hash)
    created_at: str | None = None  # fixed meta.created_at; else SOURCE_DATE_EPOCH, else now


install_reprs(__name__)
