"""Static facts and checks about CEL expressions, for the compile passes.

- :func:`analyze_cel`: referenced roots, referenced ``nodes.<id>`` (implicit DAG edges), called
  functions, and the result type where it can be decided.
- :func:`check_cel`: diagnostics (``AISC-CEL-NNN``) with spans rebased onto the YAML scalar.
- :func:`ref_node_id`: the ``nodes.<id>`` a ``{ref: ...}`` path depends on.

Codes:
  AISC-CEL-001  syntax error
  AISC-CEL-002  unknown identifier (not a root available here)
  AISC-CEL-003  unknown function
  AISC-CEL-004  condition/assert that can only be non-boolean
  AISC-CEL-005  constant expression that always fails to evaluate
  AISC-CEL-006  builtin called with the wrong number of arguments
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from aisc.diagnostics import Diagnostic, Span
from aisc.grammar.errors import CelError, CelSyntaxError
from aisc.grammar.parser import parse
from aisc.grammar.spans import ScalarStyle, rebase_span
from aisc.ir import expr as ir
from aisc.numeric import Dec
from aisc.reprs import install_reprs

from .builtins import BUILTINS, EXTRA_FUNCTIONS, check_arity

CelType = Literal["bool", "number", "string", "list", "map", "null"]
ALL_TYPES: frozenset[str] = frozenset({"bool", "number", "string", "list", "map", "null"})

_NUM = frozenset({"number"})
_STR = frozenset({"string"})
_BOOL = frozenset({"bool"})

FUNCTION_RESULT: dict[str, frozenset[str]] = {
    **{f: _NUM for f in ("to_atomic", "mul_div", "pow", "abs", "min", "max", "floor", "ceil", "round",
                         "int", "uint", "double", "size")},
    **{f: _STR for f in ("to_human", "string", "type", "lower", "upper", "trim", "derive_ata")},
    **{f: _BOOL for f in ("bool", "contains", "startsWith", "endsWith", "matches", "exists", "all")},
}
"""Result types of the builtins (and extras)."""

STANDARD_FUNCTIONS: frozenset[str] = frozenset(BUILTINS)
EXTRA_FUNCTION_NAMES: frozenset[str] = frozenset(name for name, _ in EXTRA_FUNCTIONS.values())


@attrs.frozen(slots=True, repr=False)
class CelInfo:
    """What an expression refers to and, where decidable, what it yields.

    ``result_type`` is ``"bool"``, ``"number"``, ``"string"``, ``"list"``, ``"null"`` or
    ``"unknown"``; ``possible_types`` is the full set the analysis allows."""

    roots: frozenset[str]
    node_ids: frozenset[str]
    functions: frozenset[str]
    possible_types: frozenset[str]
    constant: bool

    @property
    def result_type(self) -> str:
        if len(self.possible_types) == 1:
            return next(iter(self.possible_types))
        return "unknown"


_INFO_CACHE: dict[str, CelInfo] = {}


def analyze_cel(expr: str) -> CelInfo:
    """Facts about ``expr`` (cached). Raises :class:`CelSyntaxError` when it does not parse."""
    hit = _INFO_CACHE.get(expr)
    if hit is not None:
        return hit
    tree = parse(expr)
    roots: set[str] = set()
    node_ids: set[str] = set()
    functions: set[str] = set()
    for n in ir.walk(tree):
        if isinstance(n, ir.Ident):
            roots.add(n.name)
        elif isinstance(n, ir.Call):
            functions.add(n.name)
        nid = _node_id_of(n)
        if nid is not None:
            node_ids.add(nid)
    info = CelInfo(frozenset(roots), frozenset(node_ids), frozenset(functions), _types(tree), not roots)
    if len(_INFO_CACHE) > 8192:
        _INFO_CACHE.clear()
    _INFO_CACHE[expr] = info
    return info


def _node_id_of(n: ir.Expr) -> str | None:
    if isinstance(n, ir.Member) and isinstance(n.obj, ir.Ident) and n.obj.name == "nodes":
        return n.name
    if (
        isinstance(n, ir.Index)
        and isinstance(n.obj, ir.Ident)
        and n.obj.name == "nodes"
        and isinstance(n.index, ir.Literal)
        and isinstance(n.index.value, str)
    ):
        return n.index.value
    return None


def ref_node_id(path: str) -> str | None:
    """``"nodes.q.outputs.x"`` → ``"q"``; None for refs outside ``nodes`` (or a bare ``nodes``)."""
    segs = [s for s in path.split(".") if s]
    if len(segs) >= 2 and segs[0] == "nodes":
        return segs[1]
    return None


def _lit_type(v: Any) -> frozenset[str]:
    if v is None:
        return frozenset({"null"})
    if isinstance(v, bool):
        return _BOOL
    if isinstance(v, int | Dec):
        return _NUM
    if isinstance(v, str):
        return _STR
    return ALL_TYPES  # pragma: no cover


def _types(e: ir.Expr) -> frozenset[str]:
    """Possible result types (over-approximation; errors are not a type)."""
    if isinstance(e, ir.Literal):
        return _lit_type(e.value)
    if isinstance(e, ir.ListExpr):
        return frozenset({"list"})
    if isinstance(e, ir.Unary):
        return _BOOL if e.op == "!" else _NUM
    if isinstance(e, ir.Binary):
        if e.op in ("&&", "||", "==", "!=", "<", "<=", ">", ">=", "in"):
            return _BOOL
        if e.op == "+":
            lt, rt = _types(e.left), _types(e.right)
            if lt == _STR or rt == _STR:
                return _STR
            out: set[str] = set()
            if "string" in lt or "string" in rt:
                out.add("string")
            if "number" in lt and "number" in rt:
                out.add("number")
            if "list" in lt and "list" in rt:
                out.add("list")
            return frozenset(out) or ALL_TYPES
        return _NUM
    if isinstance(e, ir.Ternary):
        return _types(e.then) | _types(e.otherwise)
    if isinstance(e, ir.Call):
        return FUNCTION_RESULT.get(e.name, ALL_TYPES)
    return ALL_TYPES


def _diag(code: str, message: str, hint: str, expr: str, start: int | None, end: int | None,
          span: Span | None, path: str | None, style: ScalarStyle, indent: int | None) -> Diagnostic:
    sp = None
    if span is not None:
        sp = rebase_span(expr, start or 0, end if end is not None else len(expr), span, style=style, indent=indent)
    return Diagnostic(code=code, message=message, path=path, span=sp, hint=hint)


def check_cel(
    expr: str,
    *,
    span: Span | None,
    path: str | None,
    allowed_roots: frozenset[str],
    known_functions: frozenset[str] | None = None,
    want_bool: bool = False,
    scalar_style: ScalarStyle = "plain",
    indent: int | None = None,
) -> list[Diagnostic]:
    """Check one expression found at ``path`` (its YAML scalar at ``span``).

    ``allowed_roots``: the identifiers available here (e.g. ``{"inputs", "nodes", "ctx"}`` in a
    workflow; add ``"MAX_UINT256"`` when that extra is enabled). ``known_functions``: callable
    names (default: the standard builtins; add ``"derive_ata"`` and engine functions as enabled).
    ``want_bool``: the expression is a ``condition``/``assert``/``until``."""
    fns = STANDARD_FUNCTIONS if known_functions is None else known_functions
    out: list[Diagnostic] = []

    def d(code: str, msg: str, hint: str, start: int | None, end: int | None) -> None:
        out.append(_diag(code, msg, hint, expr, start, end, span, path, scalar_style, indent))

    try:
        tree = parse(expr)
    except CelSyntaxError as e:
        d("AISC-CEL-001", f"CEL syntax error: {e.message}",
          "AIS CEL has no macros, map literals, exponents or hex numbers; check quotes and parentheses",
          e.start, e.end)
        return out
    seen_idents: set[str] = set()
    for n in ir.walk(tree):
        if isinstance(n, ir.Ident) and n.name not in allowed_roots and n.name not in seen_idents:
            seen_idents.add(n.name)
            allowed = ", ".join(sorted(allowed_roots)) or "none"
            d("AISC-CEL-002", f"unknown identifier '{n.name}' (available here: {allowed})",
              f"refer to a value through one of: {allowed}", n.start, n.end)
        elif isinstance(n, ir.Call):
            if n.name not in fns:
                d("AISC-CEL-003", f"unknown function '{n.name}'",
                  _fn_hint(n.name, fns), n.start, n.end)
            elif n.name in BUILTINS:
                try:
                    check_arity(n.name, BUILTINS[n.name], len(n.args))
                except CelError as err:
                    d("AISC-CEL-006", err.message, f"see the signature of {n.name}() in docs/cel.md",
                      n.start, n.end)
    if out:
        return out
    types = _types(tree)
    if want_bool and "bool" not in types:
        kinds = " or ".join(sorted(types))
        d("AISC-CEL-004", f"this condition can only evaluate to {kinds}, never to a boolean",
          "compare the value explicitly, e.g. `x > 0` or `x != \"\"`", tree.start, tree.end)
    if not any(isinstance(n, ir.Ident) for n in ir.walk(tree)) and all(
        not isinstance(n, ir.Call) or n.name in BUILTINS for n in ir.walk(tree)
    ):
        from .compiler import compile_ir

        try:
            compile_ir(tree)({})
        except CelError as err:
            d("AISC-CEL-005", f"this expression always fails: {err.message}",
              "fix the constant operands (it has no inputs that could change the result)", err.start, err.end)
    return out


@functools.lru_cache(maxsize=4096)
def uses_plus(expr: str) -> bool:
    """``expr`` uses ``+`` (False for text that does not parse, which is reported elsewhere). An
    address is never built with ``+`` (R059): in AIS CEL it would be string concatenation, and
    numbers added up are no address either."""
    if "+" not in expr:  # no operator without its character: most expressions need no parse
        return False
    try:
        tree = parse(expr)
    except CelSyntaxError:
        return False
    return any(isinstance(n, ir.Binary) and n.op == "+" for n in ir.walk(tree))


def _fn_hint(name: str, fns: frozenset[str]) -> str:
    if name in EXTRA_FUNCTION_NAMES:
        return f"'{name}' needs the engine capability cel_builtin:{name}"
    import difflib

    close = difflib.get_close_matches(name, sorted(fns), n=3)
    if close:
        return f"did you mean {', '.join(close)}? Macros such as has() or map() are not part of AIS CEL"
    return "AIS CEL has a fixed set of builtins (docs/cel.md); macros such as has() or map() are not supported"


def value_ref_node_ids(vr: Mapping[str, Any] | Any) -> frozenset[str]:
    """``nodes.<id>`` dependencies of a JSON or IR ValueRef (refs, cel, nested object/array/detect
    candidates). Syntax errors in ``cel`` are ignored here (``check_cel`` reports them)."""
    from aisc.ir.valueref import ArrayRef, Cel, Detect, ObjectRef, Ref, from_json, is_valueref_json

    out: set[str] = set()
    stack: list[Any] = [vr]
    while stack:
        v = stack.pop()
        if isinstance(v, Mapping):
            if not is_valueref_json(v):
                continue
            v = from_json(v)
        if isinstance(v, Ref):
            nid = ref_node_id(v.path)
            if nid:
                out.add(nid)
        elif isinstance(v, Cel):
            with contextlib.suppress(CelSyntaxError):
                out |= analyze_cel(v.expr).node_ids
        elif isinstance(v, ObjectRef):
            stack.extend(v.entries.values())
        elif isinstance(v, ArrayRef):
            stack.extend(v.items)
        elif isinstance(v, Detect):
            stack.extend(c for c in (v.candidates or ()) if is_valueref_json(c) or not isinstance(c, Mapping))
    return frozenset(out)


install_reprs(__name__)
