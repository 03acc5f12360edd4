"""Expression IR: the parsed form of an AIS CEL expression (frozen attrs classes).

Built by :mod:`aisc.grammar` (the only place that sees lark trees) and consumed by
:mod:`aisc.eval` (closure compiler, static analysis). Every node carries ``start``/``end``
character offsets into the expression text (``end`` exclusive); they take no part in equality.

Method-call sugar is already resolved here: ``x.f(a)`` is ``Call("f", (x, a), method=True)``.
"""

from __future__ import annotations

from typing import Any
from typing import Literal as TypingLiteral

import attrs

from aisc.reprs import install_reprs

_pos = attrs.field(default=0, eq=False, repr=False)

BinaryOp = TypingLiteral["||", "&&", "==", "!=", "<", "<=", ">", ">=", "in", "+", "-", "*", "/", "%"]
UnaryOp = TypingLiteral["!", "-"]


@attrs.frozen(slots=True, repr=False)
class Literal:
    """``null``, ``true``/``false``, an ``int``, a ``Dec`` or a ``str``."""

    value: Any
    start: int = _pos
    end: int = _pos


@attrs.frozen(slots=True, repr=False)
class Ident:
    name: str
    start: int = _pos
    end: int = _pos


@attrs.frozen(slots=True, repr=False)
class Member:
    """``obj.name``; ``start``/``end`` cover the whole ``obj.name``."""

    obj: Expr
    name: str
    start: int = _pos
    end: int = _pos


@attrs.frozen(slots=True, repr=False)
class Index:
    obj: Expr
    index: Expr
    start: int = _pos
    end: int = _pos


@attrs.frozen(slots=True, repr=False)
class Call:
    """``name(args)``, or ``recv.name(rest)`` with ``method=True`` and ``args = (recv, *rest)``."""

    name: str
    args: tuple[Expr, ...]
    method: bool = False
    start: int = _pos
    end: int = _pos


@attrs.frozen(slots=True, repr=False)
class ListExpr:
    items: tuple[Expr, ...]
    start: int = _pos
    end: int = _pos


@attrs.frozen(slots=True, repr=False)
class Unary:
    op: UnaryOp
    operand: Expr
    start: int = _pos
    end: int = _pos


@attrs.frozen(slots=True, repr=False)
class Binary:
    """Every binary operator, including the short-circuit ``&&``/``||`` and ``in``."""

    op: BinaryOp
    left: Expr
    right: Expr
    start: int = _pos
    end: int = _pos


@attrs.frozen(slots=True, repr=False)
class Ternary:
    cond: Expr
    then: Expr
    otherwise: Expr
    start: int = _pos
    end: int = _pos


Expr = Literal | Ident | Member | Index | Call | ListExpr | Unary | Binary | Ternary


def children(e: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``e``, left to right."""
    if isinstance(e, Member):
        return (e.obj,)
    if isinstance(e, Index):
        return (e.obj, e.index)
    if isinstance(e, Call | ListExpr):
        return e.args if isinstance(e, Call) else e.items
    if isinstance(e, Unary):
        return (e.operand,)
    if isinstance(e, Binary):
        return (e.left, e.right)
    if isinstance(e, Ternary):
        return (e.cond, e.then, e.otherwise)
    return ()


def walk(e: Expr) -> list[Expr]:
    """All nodes of ``e`` in pre-order (iterative: deep expressions do not hit the recursion limit)."""
    out: list[Expr] = []
    stack = [e]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(children(n)))
    return out


install_reprs(__name__)
