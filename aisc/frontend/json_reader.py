"""JSON text → positioned nodes, strictly (RFC 8259), exactly and bounded.

A small recursive-descent scanner (strings through the stdlib's C ``scanstring``): duplicate keys
are rejected (R194), numbers are exact (int, or :class:`~aisc.numeric.Dec` for fractions; never
``float``), nesting is bounded, and every error carries line:column.
"""

from __future__ import annotations

import json.decoder as _jd
import re
from bisect import bisect_right
from typing import Any

from aisc.diagnostics import Diagnostic, Related, Span
from aisc.frontend.scalars import ScalarError, parse_exact_number
from aisc.frontend.yaml_reader import MAX_DEPTH
from aisc.ir.codec import YMap, YNode, YScalar, YSeq, path_key

scanstring: Any = _jd.scanstring  # type: ignore[attr-defined]

_WS = re.compile(r"[ \t\n\r]*")
_NUM = re.compile(r"(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([-+]?[0-9]+))?")


class _JsonError(Exception):
    def __init__(self, code: str, msg: str, pos: int, hint: str | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.pos, self.hint = code, msg, pos, hint


class _Scanner:
    def __init__(self, text: str, file: str) -> None:
        self.s = text
        self.file = file
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.diags: list[Diagnostic] = []

    def lc(self, pos: int) -> tuple[int, int]:
        i = bisect_right(self.starts, pos) - 1
        return i + 1, pos - self.starts[i] + 1

    def place(self, node: YNode, start: int, end: int) -> None:
        node.file = self.file
        node.line, node.col = self.lc(start)
        node.end_line, node.end_col = self.lc(end)

    def ws(self, pos: int) -> int:
        return _WS.match(self.s, pos).end()  # type: ignore[union-attr]

    def value(self, pos: int, depth: int, path: str) -> tuple[YNode, int]:
        s = self.s
        if pos >= len(s):
            raise _JsonError("014", "unexpected end of JSON input", pos)
        ch = s[pos]
        if ch == "{":
            return self.obj(pos, depth + 1, path)
        if ch == "[":
            return self.arr(pos, depth + 1, path)
        if ch == '"':
            try:
                text, end = scanstring(s, pos + 1, True)
            except ValueError as e:
                raise _JsonError("014", f"invalid JSON string: {e.args[0].split(':')[0]}", pos) from None
            n = YScalar(text, None, 0, 0, 0, 0)
            self.place(n, pos, end)
            return n, end
        m = _NUM.match(s, pos)
        if m and m.end() > pos:
            try:
                if m.group(3) is None and m.group(4) is None:
                    if len(m.group(2)) > 4000:
                        raise ScalarError("integer literal has more than 4000 digits")
                    v: Any = int(m.group(0))
                    fl = False
                else:
                    v = parse_exact_number(m.group(1), m.group(2), m.group(3) or "", m.group(4))
                    fl = True
            except ScalarError as e:
                raise _JsonError("012", str(e), pos) from None
            n = YScalar(v, None, 0, 0, 0, 0, fl)
            self.place(n, pos, m.end())
            return n, m.end()
        for word, val in (("true", True), ("false", False), ("null", None)):
            if s.startswith(word, pos):
                n = YScalar(val, None, 0, 0, 0, 0)
                self.place(n, pos, pos + len(word))
                return n, pos + len(word)
        raise _JsonError("014", f"unexpected character {ch!r} in JSON", pos,
                         "JSON allows objects, arrays, double-quoted strings, numbers, true, false and null")

    def _depth(self, depth: int, pos: int) -> None:
        if depth > MAX_DEPTH:
            raise _JsonError("010", f"nesting is deeper than {MAX_DEPTH} levels", pos, "flatten the document")

    def obj(self, start: int, depth: int, path: str) -> tuple[YNode, int]:
        self._depth(depth, start)
        s = self.s
        node = YMap(None, 0, 0)
        pos = self.ws(start + 1)
        if pos < len(s) and s[pos] == "}":
            self.place(node, start, pos + 1)
            return node, pos + 1
        while True:
            if pos >= len(s) or s[pos] != '"':
                raise _JsonError("014", "expected a double-quoted property name", pos)
            try:
                key, kend = scanstring(s, pos + 1, True)
            except ValueError as e:
                raise _JsonError("014", f"invalid JSON string: {e.args[0].split(':')[0]}", pos) from None
            knode = YScalar(key, None, 0, 0, 0, 0)
            self.place(knode, pos, kend)
            pos = self.ws(kend)
            if pos >= len(s) or s[pos] != ":":
                raise _JsonError("014", "expected ':' after property name", pos)
            pos = self.ws(pos + 1)
            child, pos = self.value(pos, depth, path_key(path, key))
            if key in node.entries:
                first = node.keys[key]
                self.diags.append(Diagnostic(
                    "AISC-LOAD-006", f"duplicate key {key!r} in object (R194)", path=path_key(path, key),
                    span=knode.span, hint="remove or rename one of the two keys",
                    related=(Related(f"first occurrence of {key!r}", first.span),)))
            else:
                node.entries[key] = child
                node.keys[key] = knode
                node.value[key] = child.value  # type: ignore[attr-defined]
            pos = self.ws(pos)
            if pos < len(s) and s[pos] == ",":
                pos = self.ws(pos + 1)
                continue
            if pos < len(s) and s[pos] == "}":
                self.place(node, start, pos + 1)
                return node, pos + 1
            raise _JsonError("014", "expected ',' or '}' in object", pos)

    def arr(self, start: int, depth: int, path: str) -> tuple[YNode, int]:
        self._depth(depth, start)
        s = self.s
        node = YSeq(None, 0, 0)
        pos = self.ws(start + 1)
        if pos < len(s) and s[pos] == "]":
            self.place(node, start, pos + 1)
            return node, pos + 1
        while True:
            child, pos = self.value(pos, depth, f"{path}[{len(node.items)}]")
            node.items.append(child)
            node.value.append(child.value)  # type: ignore[attr-defined]
            pos = self.ws(pos)
            if pos < len(s) and s[pos] == ",":
                pos = self.ws(pos + 1)
                continue
            if pos < len(s) and s[pos] == "]":
                self.place(node, start, pos + 1)
                return node, pos + 1
            raise _JsonError("014", "expected ',' or ']' in array", pos)


def parse_json(text: str, file: str) -> tuple[YNode | None, list[Diagnostic]]:
    """Parse one JSON document; never raises for bad input."""
    sc = _Scanner(text, file)
    try:
        pos = sc.ws(0)
        if pos >= len(text):
            return None, [Diagnostic("AISC-LOAD-004", "the file is empty (no JSON value)", span=Span(file, 1, 1, 1, 2),
                                     hint="an AIS document is an object with a 'schema' key")]
        node, pos = sc.value(pos, 0, "$")
        pos = sc.ws(pos)
        if pos != len(text):
            raise _JsonError("014", "extra data after the JSON value", pos)
    except _JsonError as e:
        line, col = sc.lc(min(e.pos, len(text)))
        code = e.code
        msg = e.msg if code != "014" else f"JSON syntax error: {e.msg}"
        return None, [*sc.diags, Diagnostic(f"AISC-LOAD-{code}", msg, span=Span(file, line, col, line, col + 1),
                                             hint=e.hint)]
    return node, sc.diags
