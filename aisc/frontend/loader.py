"""Files → :class:`LoadedDocument`: read, decode, parse, classify, structure. Never raises for bad input."""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence
from typing import Any

import attrs

from aisc.diagnostics import Diagnostic, Span, register_source
from aisc.ir.codec import YMap, YNode, YScalar, node_at, structure
from aisc.reprs import install_reprs

#: schema string → document kind (the only versions aisc accepts).
SUPPORTED_SCHEMAS: dict[str, str] = {
    "ais/0.0.2": "protocol",
    "ais-pack/0.0.2": "pack",
    "ais-flow/0.0.3": "workflow",
    "ais-plan/0.0.3": "plan",
    "ais-plan-skeleton/0.0.1": "plan_skeleton",
    "ais-conformance/0.0.2": "conformance",
    "ais-catalog/0.0.1": "catalog",
}
KINDS = ("protocol", "pack", "workflow", "plan", "plan_skeleton", "conformance", "catalog")

#: file suffix → kind (None = decided by the ``schema`` string only).
SUFFIXES: dict[str, str | None] = {}
for _ext in ("yaml", "yml", "json"):
    SUFFIXES[f".ais.{_ext}"] = "protocol"
    SUFFIXES[f".ais-pack.{_ext}"] = "pack"
    SUFFIXES[f".ais-flow.{_ext}"] = "workflow"
    SUFFIXES[f".ais-plan.{_ext}"] = "plan"
    SUFFIXES[f".ais-plan-skeleton.{_ext}"] = "plan_skeleton"
    SUFFIXES[f".ais-catalog.{_ext}"] = "catalog"
SUFFIXES[".json"] = None

#: kinds with a typed IR built by :mod:`aisc.ir.codec` (plans/catalogs are kept as raw data here).
STRUCTURED_KINDS = ("protocol", "pack", "workflow", "plan_skeleton", "conformance")

MAX_FILE_BYTES = 16 * 1024 * 1024

# load errors after which the node tree is still complete enough to structure (first key wins,
# tagged/refused scalars stay strings), so the user sees schema errors in the same run.
_STRUCTURABLE = ("AISC-LOAD-006", "AISC-LOAD-008", "AISC-LOAD-012", "AISC-LOAD-018")


@attrs.define(slots=True, repr=False)
class LoadedDocument:
    """One loaded file. ``document`` is the typed IR (None on error or for untyped kinds)."""

    file: str
    kind: str | None
    document: Any
    raw: Any
    node: YNode | None
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def suffix_kind(path: str) -> tuple[bool, str | None]:
    """``(is_ais_suffix, kind)`` for a file name."""
    name = os.path.basename(path).lower()
    for suf in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suf):
            return True, SUFFIXES[suf]
    return False, None


def _is_json(file: str, text: str) -> bool:
    return file.lower().endswith(".json")


def parse_data(text: str, file: str) -> tuple[YNode | None, list[Diagnostic]]:
    """Parse JSON or YAML 1.2 text into positioned nodes, with no AIS document rules.

    The same reader as documents: duplicate keys rejected, YAML 1.1 traps stay strings, fractional
    numbers exact (``Dec``), alias expansion bounded. Used for ``--inputs``/``--ctx``/``--context``
    values; ``node.value`` is the plain data.
    """
    register_source(file, text)
    if text.startswith("\ufeff"):
        text = text[1:]
    if _is_json(file, text):
        from aisc.frontend.json_reader import parse_json

        return parse_json(text, file)
    from aisc.frontend.yaml_reader import parse_yaml

    return parse_yaml(text, file)


def load_text(text: str, file: str, *, kind_hint: str | None = None) -> LoadedDocument:
    """Load a document from text (``file`` names it in diagnostics)."""
    # The node tree and the typed IR are many small long-lived objects without reference cycles;
    # with the cyclic GC running, its repeated scans of the growing tree cost more than the parsing
    # itself on large documents (a 10,000-node workflow: ~3x). Pause it while loading, then move the
    # new objects to the oldest generation without a scan (``gc.freeze(); gc.unfreeze()``; skipped
    # when the host process keeps frozen objects of its own). Cyclic garbage is still collected by
    # the next full collection.
    was = gc.isenabled()
    gc.disable()
    try:
        return _load_text(text, file, kind_hint)
    finally:
        if was:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _load_text(text: str, file: str, kind_hint: str | None) -> LoadedDocument:
    node, diags = parse_data(text, file)
    if node is None:
        return LoadedDocument(file, None, None, None, None, diags)
    raw = node.value  # type: ignore[attr-defined]
    _, skind = suffix_kind(file)
    expected = kind_hint or skind
    if type(node) is not YMap:
        diags.append(Diagnostic("AISC-LOAD-015", f"the top level must be a mapping, got {_describe(node)}",
                                path="$", span=node.span, hint="an AIS document is a mapping with a 'schema' key"))
        return LoadedDocument(file, expected, None, raw, node, diags)
    kind = _classify(node, expected, file, diags)
    doc = None
    if kind in STRUCTURED_KINDS and not any(d.is_error and d.code not in _STRUCTURABLE for d in diags):
        doc, sdiags = structure(kind, node)
        diags.extend(sdiags)
    return LoadedDocument(file, kind, doc, raw, node, diags)


def _classify(node: YMap, expected: str | None, file: str, diags: list[Diagnostic]) -> str | None:
    supported = ", ".join(SUPPORTED_SCHEMAS)
    sn = node.entries.get("schema")
    if sn is None:
        diags.append(Diagnostic("AISC-LOAD-016", "missing 'schema' (the document type and version)", path="$",
                                span=node.span, hint=f"add e.g. schema: \"ais/0.0.2\"; supported: {supported}"))
        return expected
    val = sn.value if type(sn) is YScalar else None
    if type(val) is not str or val not in SUPPORTED_SCHEMAS:
        shown = repr(val) if type(val) is str else "a non-string value"
        diags.append(Diagnostic("AISC-LOAD-017", f"unsupported schema {shown}", path="$.schema", span=sn.span,
                                hint=f"supported schemas: {supported}"))
        return expected
    kind = SUPPORTED_SCHEMAS[val]
    if expected is not None and expected != kind:
        diags.append(Diagnostic(
            "AISC-LOAD-018", f"the file is expected to hold a {expected} document but its schema {val!r} is a {kind}",
            path="$.schema", span=sn.span,
            hint="rename the file to the matching suffix (.ais.yaml, .ais-pack.yaml, .ais-flow.yaml, ...) "
                 "or fix the schema"))
    return kind


def _describe(node: YNode) -> str:
    from aisc.ir.codec import describe

    return describe(node)


def load_file(path: str | os.PathLike[str], *, kind_hint: str | None = None) -> LoadedDocument:
    """Read and load one file; I/O and decoding problems become diagnostics."""
    file = os.fspath(path)
    try:
        with open(file, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        return LoadedDocument(file, None, None, None, None, [Diagnostic(
            "AISC-LOAD-001", f"cannot read file: {e.strerror or e}", span=None, path=None,
            hint="check the path and its permissions")])
    if len(data) > MAX_FILE_BYTES:
        return LoadedDocument(file, None, None, None, None, [Diagnostic(
            "AISC-LOAD-001", f"file is larger than {MAX_FILE_BYTES} bytes", span=Span(file, 1, 1, 1, 2))])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = data[: e.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
        return LoadedDocument(file, None, None, None, None, [Diagnostic(
            "AISC-LOAD-002", f"the file is not valid UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start})",
            span=Span(file, line, col, line, col + 1), hint="save the file as UTF-8")])
    if "\x00" in text:
        i = text.index("\x00")
        line = text.count("\n", 0, i) + 1
        col = i - (text.rfind("\n", 0, i) + 1) + 1
        return LoadedDocument(file, None, None, None, None, [Diagnostic(
            "AISC-LOAD-002", "the file contains NUL characters (is it binary?)", span=Span(file, line, col, line, col + 1),
            hint="AIS documents are UTF-8 YAML or JSON text")])
    return load_text(text, file, kind_hint=kind_hint)


def collect_paths(paths: Sequence[str]) -> tuple[list[str], list[Diagnostic]]:
    """Expand directories (recursive, sorted, AIS suffixes only); missing paths become diagnostics."""
    out: list[str] = []
    diags: list[Diagnostic] = []
    for p in paths:
        if os.path.isdir(p):
            found: list[str] = []
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for fn in filenames:
                    if suffix_kind(fn)[0]:
                        found.append(os.path.join(dirpath, fn))
            out.extend(sorted(found))
        elif os.path.exists(p):
            out.append(p)
        else:
            diags.append(Diagnostic("AISC-LOAD-001", f"no such file or directory: {p}",
                                    hint="check the path"))
    return out, diags


def load_paths(paths: Sequence[str]) -> list[LoadedDocument]:
    """Load files and directories (recursive, sorted, AIS suffixes only). A missing path yields a
    LoadedDocument with ``kind=None`` and an AISC-LOAD-001 diagnostic."""
    files, diags = collect_paths(paths)
    docs = [load_file(f) for f in files]
    for d in diags:
        docs.append(LoadedDocument(d.message.split(": ", 1)[-1], None, None, None, None, [d]))
    return docs


def span_at(doc: LoadedDocument, path: str, *, nearest: bool = False) -> Span | None:
    """The span of the node at ``path`` (``$.actions.swap.params[0].type``) in a loaded document.

    With ``nearest=True`` a missing path falls back to its closest existing ancestor.
    """
    if doc.node is None:
        return None
    n = node_at(doc.node, path)
    if n is not None or not nearest:
        return n.span if n is not None else None
    from aisc.ir.codec import parse_path

    segs = parse_path(path)
    if segs is None:
        return doc.node.span
    cur: Any = doc.node
    from aisc.ir.codec import YSeq

    for seg in segs:
        nxt = None
        if type(cur) is YMap and isinstance(seg, str):
            nxt = cur.entries.get(seg)
        elif type(cur) is YSeq and isinstance(seg, int) and seg < len(cur.items):
            nxt = cur.items[seg]
        if nxt is None:
            break
        cur = nxt
    return cur.span  # type: ignore[no-any-return]


install_reprs(__name__)
