"""YAML text → positioned nodes (:mod:`aisc.ir.codec` node types), strict and bounded.

The event stream comes from libyaml through PyYAML's ``CParser`` (pure-Python parser when libyaml
is missing); only the *parser* is used: tags are never resolved by PyYAML (its resolver is YAML
1.1), nodes are built here with YAML 1.2 core scalars (:mod:`aisc.frontend.scalars`), duplicate
keys are rejected (R194), explicit tags other than ``!!str``/``!!map``/``!!seq`` are rejected,
and alias expansion and nesting depth are bounded.
"""

from __future__ import annotations

import sys
from typing import Any

from aisc.diagnostics import Diagnostic, Related, Span
from aisc.frontend.scalars import ScalarError, resolve_plain
from aisc.ir.codec import YMap, YNode, YScalar, YSeq
from aisc.ir.codec import path_key as _pk

MAX_DEPTH = 100
MAX_EXPANDED_NODES = 100_000

_STR_TAG = "tag:yaml.org,2002:str"
_OK_CONTAINER_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")

_parser_cls: Any = None
intern = sys.intern


def _parser() -> Any:
    global _parser_cls
    if _parser_cls is None:
        import yaml  # type: ignore[import-untyped]

        try:
            from yaml._yaml import CParser  # type: ignore[import-untyped]

            class _C(CParser):  # type: ignore[misc, valid-type]
                def resolve(self, kind: Any, value: Any, implicit: Any) -> str:  # pragma: no cover - unused
                    return ""

            _parser_cls = _C
        except ImportError:  # pragma: no cover - libyaml missing
            from yaml.parser import Parser  # type: ignore[import-untyped]
            from yaml.reader import Reader  # type: ignore[import-untyped]
            from yaml.scanner import Scanner  # type: ignore[import-untyped]

            class _P(Reader, Scanner, Parser):  # type: ignore[misc]
                def __init__(self, stream: str) -> None:
                    Reader.__init__(self, stream)
                    Scanner.__init__(self)
                    Parser.__init__(self)

                def dispose(self) -> None:
                    pass

            _parser_cls = _P
        _ = yaml
    return _parser_cls


class _Abort(Exception):
    pass


def _diag(code: str, msg: str, file: str, line: int, col: int, end_line: int | None = None,
          end_col: int | None = None, hint: str | None = None, path: str | None = None,
          related: tuple[Related, ...] = ()) -> Diagnostic:
    span = Span(file, line, col, end_line if end_line is not None else line,
                end_col if end_col is not None else col + 1)
    return Diagnostic(f"AISC-LOAD-{code}", msg, span=span, hint=hint, path=path, related=related)


def parse_yaml(text: str, file: str) -> tuple[YNode | None, list[Diagnostic]]:
    """Parse one YAML document; never raises for bad input."""
    import yaml  # type: ignore[import-untyped]
    from yaml import events as ev  # type: ignore[import-untyped]

    diags: list[Diagnostic] = []
    try:
        parser = _parser()(text)
    except (yaml.YAMLError, ValueError, TypeError) as e:  # pragma: no cover - defensive
        return None, [_yaml_error(e, text, file)]
    Scalar, Alias = ev.ScalarEvent, ev.AliasEvent
    MapStart, MapEnd = ev.MappingStartEvent, ev.MappingEndEvent
    SeqStart, SeqEnd = ev.SequenceStartEvent, ev.SequenceEndEvent
    DocStart, StreamEnd = ev.DocumentStartEvent, ev.StreamEndEvent

    root: YNode | None = None
    # frame: [container, pending_key (YScalar|None), path, weight, height]
    stack: list[list[Any]] = []
    anchors: dict[str, YNode] = {}
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded weight, height) for anchored nodes
    in_progress: set[str] = set()
    docs = 0
    total = 0

    def path_of() -> str:
        p = "$"
        for fr in stack:
            c = fr[0]
            if type(c) is YMap:
                if fr[1] is not None:
                    p = _pk(p, fr[1].value)
            else:
                p = f"{p}[{len(c.items)}]"
        return p

    def attach(node: YNode, weight: int, height: int) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        fr = stack[-1]
        c = fr[0]
        fr[3] += weight
        if height + 1 > fr[4]:
            fr[4] = height + 1
        if type(c) is YSeq:
            c.items.append(node)
            return
        key = fr[1]
        fr[1] = None
        k = key.value
        if k in c.entries:
            first = c.keys[k]
            diags.append(Diagnostic(
                "AISC-LOAD-006", f"duplicate key {k!r} in mapping (R194)", path=_pk(path_of(), k),
                span=key.span, hint="remove or rename one of the two keys; YAML 'last one wins' is not allowed",
                related=(Related(f"first occurrence of {k!r}", first.span),)))
            return
        c.entries[k] = node
        c.keys[k] = key

    try:
        while True:
            ev_ = parser.get_event()
            t = type(ev_)
            sm = ev_.start_mark
            if t is Scalar:
                em = ev_.end_mark
                if stack and type(stack[-1][0]) is YMap and stack[-1][1] is None:
                    if ev_.anchor is not None:
                        raise _Abort(_diag("007", "anchors on mapping keys are not supported", file,
                                           sm.line + 1, sm.column + 1, em.line + 1, em.column + 1))
                    stack[-1][1] = YScalar(intern(ev_.value), file, sm.line + 1, sm.column + 1, em.line + 1, em.column + 1)
                    continue
                total += 1
                style = ev_.style
                tag = ev_.tag
                fl = False
                if tag is None or tag == "!":
                    if style is None or style == "":
                        try:
                            value, fl = resolve_plain(ev_.value)
                        except ScalarError as se:
                            diags.append(_diag("012", str(se), file, sm.line + 1, sm.column + 1, em.line + 1,
                                               em.column + 1, hint="quote it to keep it as a string"))
                            value = ev_.value
                    else:
                        value = ev_.value
                elif tag == _STR_TAG:
                    value = ev_.value
                else:
                    diags.append(_diag("008", f"explicit YAML tag {tag!r} is not supported", file, sm.line + 1,
                                       sm.column + 1, em.line + 1, em.column + 1,
                                       hint="remove the tag; AIS documents use plain JSON-compatible values"))
                    value = ev_.value
                node = YScalar(value, file, sm.line + 1, sm.column + 1, em.line + 1, em.column + 1, fl)
                if ev_.anchor is not None:
                    anchors[ev_.anchor] = node
                    sizes[id(node)] = (1, 0)
                attach(node, 1, 0)
            elif t is MapStart or t is SeqStart:
                if stack and type(stack[-1][0]) is YMap and stack[-1][1] is None:
                    raise _Abort(_diag("007", "mapping keys must be plain strings, not mappings or lists", file,
                                       sm.line + 1, sm.column + 1))
                if ev_.tag not in _OK_CONTAINER_TAGS:
                    diags.append(_diag("008", f"explicit YAML tag {ev_.tag!r} is not supported", file, sm.line + 1,
                                       sm.column + 1, hint="remove the tag"))
                if len(stack) >= MAX_DEPTH:
                    raise _Abort(_diag("010", f"nesting is deeper than {MAX_DEPTH} levels", file, sm.line + 1,
                                       sm.column + 1, hint="flatten the document"))
                total += 1
                c: YNode = (YMap if t is MapStart else YSeq)(file, sm.line + 1, sm.column + 1)
                stack.append([c, None, ev_.anchor, 1, 0])
                if ev_.anchor is not None:
                    in_progress.add(ev_.anchor)
                    anchors[ev_.anchor] = c
            elif t is MapEnd or t is SeqEnd:
                fr = stack.pop()
                c = fr[0]
                em = ev_.end_mark
                c.end_line, c.end_col = em.line + 1, em.column + 1
                if fr[2] is not None:
                    in_progress.discard(fr[2])
                    sizes[id(c)] = (fr[3], fr[4])
                attach(c, fr[3], fr[4])
            elif t is Alias:
                em = ev_.end_mark
                if stack and type(stack[-1][0]) is YMap and stack[-1][1] is None:
                    raise _Abort(_diag("007", "aliases cannot be used as mapping keys", file, sm.line + 1,
                                       sm.column + 1, em.line + 1, em.column + 1))
                target = anchors.get(ev_.anchor)
                if target is None:
                    raise _Abort(_diag("003", f"unknown alias *{ev_.anchor}", file, sm.line + 1, sm.column + 1,
                                       em.line + 1, em.column + 1, hint="define the anchor (&name) before using it"))
                if ev_.anchor in in_progress:
                    raise _Abort(_diag("011", f"recursive alias *{ev_.anchor} (a node cannot contain itself)", file,
                                       sm.line + 1, sm.column + 1, em.line + 1, em.column + 1))
                w, h = sizes.get(id(target), (1, 0))
                total += w
                if total > MAX_EXPANDED_NODES:
                    raise _Abort(_diag("009", f"alias expansion exceeds {MAX_EXPANDED_NODES} nodes", file,
                                       sm.line + 1, sm.column + 1, em.line + 1, em.column + 1,
                                       hint="aliases multiply the document size; write the data out or use fewer"))
                if len(stack) + h > MAX_DEPTH:
                    raise _Abort(_diag("010", f"alias expansion nests deeper than {MAX_DEPTH} levels", file,
                                       sm.line + 1, sm.column + 1))
                attach(target, w, h)
            elif t is DocStart:
                docs += 1
                if docs > 1:
                    raise _Abort(_diag("005", "a file holds exactly one YAML document; found a second one", file,
                                       sm.line + 1, sm.column + 1, hint="split the documents into separate files"))
            elif t is StreamEnd:
                break
    except _Abort as a:
        diags.append(a.args[0])
        return None, diags
    except yaml.YAMLError as ye:
        diags.append(_yaml_error(ye, text, file))
        return None, diags
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()
    if root is not None:
        _settle(root, set(sizes))
    if root is None:
        diags.append(_diag("004", "the file is empty (no YAML document)", file, 1, 1,
                           hint="an AIS document is a mapping starting with 'schema: ...'"))
    return root, diags


def _settle(node: YNode, shared: set[int]) -> Any:
    """Build the plain data of ``node``'s containers, bottom-up, once the whole tree is parsed.

    Building it here rather than while parsing puts each document's dicts and lists next to each
    other in memory instead of between the parser's short-lived objects; the passes walk this data
    several times, and on large workflows that locality is measurable (docs/compiler.md, "Memory
    layout"). Mapping keys are interned (see the key scalars above), so lookups such as
    ``raw.get("type")`` match by identity. ``shared`` holds the ids of anchored nodes, which aliases
    attach more than once: their data is built once and shared, as before.
    """
    t = type(node)
    if t is YScalar or (id(node) in shared and node.value):  # a scalar, or built at its first attachment
        return node.value  # type: ignore[attr-defined]
    if t is YMap:
        node.value = {k: _settle(v, shared) for k, v in node.entries.items()}  # type: ignore[attr-defined]
    else:
        node.value = [_settle(v, shared) for v in node.items]  # type: ignore[attr-defined]
    return node.value  # type: ignore[attr-defined]


def _yaml_error(e: Exception, text: str, file: str) -> Diagnostic:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    context = getattr(e, "context", None)
    msg = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    if mark is not None:
        return _diag("003", msg, file, mark.line + 1, mark.column + 1)
    pos = getattr(e, "position", None)
    if isinstance(pos, int):
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        return _diag("003", msg, file, line, col)
    return Diagnostic("AISC-LOAD-003", msg, span=Span(file, 1, 1, 1, 2))
