"""Parse AIS CEL text into expression IR (:mod:`aisc.ir.expr`).

The grammar (``cel.lark``) is loaded once, lazily, on the first parse. Parsed expressions are cached
by source text. Nothing outside this module sees a ``lark.Tree``.
"""

from __future__ import annotations

import threading
from typing import Any

from aisc.grammar.errors import CelSyntaxError
from aisc.ir import expr as ir
from aisc.numeric import NumericError, parse_decimal_string

_LOCK = threading.Lock()
_PARSER: Any = None
_CACHE: dict[str, ir.Expr] = {}
_CACHE_MAX = 8192

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}

_TOKEN_NAMES = {
    "$END": "end of expression",
    "RPAR": "')'",
    "LPAR": "'('",
    "RSQB": "']'",
    "LSQB": "'['",
    "COMMA": "','",
    "COLON": "':'",
    "QMARK": "'?'",
    "DOT": "'.'",
}


# ``strict=True`` (no terminal collisions, no shift/reduce conflicts) is verified by a unit test that
# builds the parser with it (it needs the ``interegular`` package, a dev dependency). At run time the
# LALR tables come from lark's cache file (``cache=True``: a file in the temp dir keyed by the grammar
# text, the options and the lark version), which turns a ~250 ms build into a ~3 ms load.
LARK_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "lexer": "basic",
    "propagate_positions": True,
    "maybe_placeholders": True,
}


def _get_parser() -> Any:
    global _PARSER
    if _PARSER is None:
        with _LOCK:
            if _PARSER is None:
                from lark import Lark

                try:
                    _PARSER = Lark.open_from_package("aisc.grammar", "cel.lark", cache=True, **LARK_OPTIONS)
                except OSError:  # pragma: no cover - unusable temp dir: build without the cache
                    _PARSER = Lark.open_from_package("aisc.grammar", "cel.lark", **LARK_OPTIONS)
    return _PARSER


def preload() -> None:
    """Load the parser tables now rather than on the first parse (a process about to parse)."""
    _get_parser()


def parse(text: str) -> ir.Expr:
    """Parse ``text``; raises :class:`CelSyntaxError` with the offsets of the offending characters."""
    hit = _CACHE.get(text)
    if hit is not None:
        return hit
    if not isinstance(text, str):
        raise CelSyntaxError(f"expression must be a string, got {type(text).__name__}")
    result = _parse_uncached(text)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[text] = result
    return result


def _parse_uncached(text: str) -> ir.Expr:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

    try:
        tree = _get_parser().parse(text)
    except UnexpectedCharacters as e:
        pos = int(e.pos_in_stream or 0)
        ch = text[pos] if pos < len(text) else ""
        if ch in "\"'":
            raise CelSyntaxError("Unterminated string literal", pos, len(text)) from None
        raise CelSyntaxError(f"Unexpected character {ch!r}", pos, pos + 1) from None
    except UnexpectedToken as e:
        tok = e.token
        if tok.type == "$END":
            end = len(text)
            raise CelSyntaxError("Unexpected end of expression", end, end) from None
        start = tok.start_pos if tok.start_pos is not None else 0
        end = tok.end_pos if tok.end_pos is not None else start + 1
        raise CelSyntaxError(f"Unexpected token {str(tok)!r}", start, end) from None
    except UnexpectedEOF:
        end = len(text)
        raise CelSyntaxError("Unexpected end of expression", end, end) from None
    except UnexpectedInput as e:  # pragma: no cover - other lark input errors
        pos = getattr(e, "pos_in_stream", None) or 0
        raise CelSyntaxError(f"Syntax error: {e}", pos, pos + 1) from None
    except RecursionError:
        raise CelSyntaxError("Expression nests too deeply", 0, len(text)) from None
    try:
        return _build(tree)
    except RecursionError:
        raise CelSyntaxError("Expression nests too deeply", 0, len(text)) from None


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c == "\\" and i + 1 < n:
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _build(node: Any) -> ir.Expr:
    """Turn a lark tree/token into IR (one function, dispatched on the rule name)."""
    from lark import Token

    if isinstance(node, Token):  # pragma: no cover - every token is wrapped by a rule alias
        raise CelSyntaxError(f"Unexpected token {str(node)!r}", node.start_pos, node.end_pos)
    kind = node.data
    ch = node.children
    meta = node.meta
    s, e = meta.start_pos, meta.end_pos
    if kind == "binary":
        left, op, right = ch
        return ir.Binary(str(op), _build(left), _build(right), s, e)  # type: ignore[arg-type]
    if kind == "member":
        return ir.Member(_build(ch[0]), str(ch[1]), s, e)
    if kind == "ident":
        return ir.Ident(str(ch[0]), s, e)
    if kind == "number":
        raw = str(ch[0])
        try:
            value = parse_decimal_string(raw)
        except NumericError as err:
            raise CelSyntaxError(str(err), s, e) from None
        return ir.Literal(value, s, e)
    if kind == "string":
        raw = str(ch[0])
        return ir.Literal(_unescape(raw[1:-1]), s, e)
    if kind == "call":
        return ir.Call(str(ch[0]), _args(ch[1]), False, s, e)
    if kind == "method":
        recv = _build(ch[0])
        return ir.Call(str(ch[1]), (recv, *_args(ch[2])), True, s, e)
    if kind == "index":
        return ir.Index(_build(ch[0]), _build(ch[1]), s, e)
    if kind == "unary":
        return ir.Unary(str(ch[0]), _build(ch[1]), s, e)  # type: ignore[arg-type]
    if kind == "ternary":
        return ir.Ternary(_build(ch[0]), _build(ch[1]), _build(ch[2]), s, e)
    if kind == "list":
        return ir.ListExpr(_args(ch[0]), s, e)
    if kind == "true":
        return ir.Literal(True, s, e)
    if kind == "false":
        return ir.Literal(False, s, e)
    if kind == "null":
        return ir.Literal(None, s, e)
    raise AssertionError(f"unhandled CEL rule {kind!r}")  # pragma: no cover


def _args(node: Any) -> tuple[ir.Expr, ...]:
    if node is None:
        return ()
    return tuple(_build(c) for c in node.children)
