"""Compile expression IR to Python closures; evaluate AIS CEL.

A compiled expression is a plain function ``f(root) -> value``. It never copies the root: identifiers
are looked up with ``root[name]`` and member chains (``nodes.q.outputs.amount_out``) walk the maps
in place, so evaluation cost does not depend on how much the runtime holds. Compiled functions are
cached by (source text, function table, enabled extras).

Errors raised while evaluating carry the offsets of the sub-expression that failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from aisc.grammar.errors import CelError, CelEvalError
from aisc.grammar.parser import parse
from aisc.ir import expr as ir
from aisc.numeric import Dec, NumericError
from aisc.numeric import add as _num_add
from aisc.numeric import div as _num_div
from aisc.numeric import mul as _num_mul
from aisc.numeric import neg as _num_neg
from aisc.numeric import sub as _num_sub
from aisc.reprs import install_reprs

from .builtins import BUILTINS, EXTRA_CONSTANTS, EXTRA_FUNCTIONS, POW_MAX_RESULT_BITS, Builtin, check_arity
from .values import FLOAT_MESSAGE, cel_cmp, cel_eq, is_num, js_string, truthy, type_name

if TYPE_CHECKING:
    from .valueref import DetectResolver

Compiled = Callable[[Mapping[str, Any]], Any]


def _cel_key(functions: Mapping[str, Callable[..., Any]], capabilities: frozenset[str] | None) -> Any:
    extras = frozenset(c for c in (capabilities or ()) if c in EXTRA_CONSTANTS or c in EXTRA_FUNCTIONS)
    return (tuple(sorted(functions.items(), key=lambda kv: kv[0])), extras)


@attrs.frozen(slots=True, eq=False, repr=False)
class EvalOptions:
    """How to evaluate.

    - ``functions``: engine functions ``name -> callable(*args)``; they override builtins.
    - ``capabilities``: the engine's capability set. It enables the CEL extras
      (``cel:max_uint256`` → identifier ``MAX_UINT256``; ``cel_builtin:derive_ata`` → function
      ``derive_ata``; map aliases before building the options) and is what
      ``detect.requires_capabilities`` is checked against (``None``: use ``ctx.capabilities`` of the
      root for detect, and no CEL extras).
    - ``detect_resolver``/``chain``: resolve detect kinds other than ``choose_one``.
    """

    functions: Mapping[str, Callable[..., Any]] = attrs.field(factory=dict)
    capabilities: frozenset[str] | None = None
    detect_resolver: DetectResolver | None = None
    chain: str | None = None
    cel_key: Any = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "cel_key", _cel_key(self.functions, self.capabilities))


DEFAULT_OPTIONS = EvalOptions()

_COMPILED: dict[tuple[str, Any], Compiled] = {}
_COMPILED_MAX = 8192


def compile_cel(expr: str, options: EvalOptions | None = None) -> Compiled:
    """Parse (cached) and compile ``expr``. Raises :class:`CelSyntaxError` for bad text.

    Unknown functions and identifiers are reported when (and if) evaluation reaches them."""
    key = (expr, (options or DEFAULT_OPTIONS).cel_key)
    hit = _COMPILED.get(key)
    if hit is not None:
        return hit
    tree = parse(expr)
    env = _Env(options or DEFAULT_OPTIONS)
    try:
        fn = _compile(tree, env)
    except RecursionError:
        from aisc.grammar.errors import CelSyntaxError

        raise CelSyntaxError("Expression nests too deeply", 0, len(expr)) from None
    if len(_COMPILED) >= _COMPILED_MAX:
        _COMPILED.clear()
    _COMPILED[key] = fn
    return fn


def evaluate_cel(expr: str, root: Mapping[str, Any], options: EvalOptions | None = None) -> Any:
    """Evaluate ``expr`` against ``root`` (the runtime root, or any mapping of identifiers)."""
    return compile_cel(expr, options)(root)


def compile_ir(tree: ir.Expr, options: EvalOptions | None = None) -> Compiled:
    """Compile an already parsed expression (not cached)."""
    return _compile(tree, _Env(options or DEFAULT_OPTIONS))


class _Env:
    __slots__ = ("constants", "functions")

    def __init__(self, options: EvalOptions) -> None:
        self.functions: dict[str, Builtin | Callable[..., Any]] = dict(BUILTINS)
        self.constants: dict[str, Any] = {}
        for cap in options.capabilities or ():
            if cap in EXTRA_FUNCTIONS:
                name, b = EXTRA_FUNCTIONS[cap]
                self.functions[name] = b
            if cap in EXTRA_CONSTANTS:
                cname, value = EXTRA_CONSTANTS[cap]
                self.constants[cname] = value
        self.functions.update(options.functions)


# ------------------------------------------------------------------ slow paths (errors, decimals)


def _err(msg: str, node: ir.Expr) -> CelEvalError:
    return CelEvalError(msg, node.start, node.end)


_TOO_LARGE = f"product too large: results are limited to {POW_MAX_RESULT_BITS} bits"


def _num_op(op: str, a: Any, b: Any, node: ir.Expr) -> Any:
    if is_num(a) and is_num(b):
        if op == "*" and _mantissa_bits(a) + _mantissa_bits(b) > POW_MAX_RESULT_BITS:
            raise _err(_TOO_LARGE, node)
        try:
            if op == "+":
                return _num_add(a, b)
            if op == "-":
                return _num_sub(a, b)
            if op == "*":
                return _num_mul(a, b)
            return _num_div(a, b)
        except NumericError as e:
            raise _err(str(e), node) from None
    if type(a) is float or type(b) is float:
        raise _err(FLOAT_MESSAGE, node)
    verb = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[op]
    raise _err(f"Cannot {verb} {type_name(a)} and {type_name(b)}", node)


def _mantissa_bits(v: Any) -> int:
    return int(v.bit_length()) if type(v) is int else int(v.mantissa.bit_length())


def _add_slow(a: Any, b: Any, node: ir.Expr) -> Any:
    ta, tb = type(a), type(b)
    if ta is str or tb is str:
        try:
            return js_string(a) + js_string(b)
        except CelEvalError as e:
            raise _err(e.message, node) from None
    if (ta is list or ta is tuple) and (tb is list or tb is tuple):
        return [*a, *b]
    return _num_op("+", a, b, node)


def _cmp(a: Any, b: Any, node: ir.Expr) -> int:
    try:
        return cel_cmp(a, b)
    except CelEvalError as e:
        raise _err(e.message, node) from None


def _eq(a: Any, b: Any, node: ir.Expr) -> bool:
    try:
        return cel_eq(a, b)
    except CelEvalError as e:
        raise _err(e.message, node) from None


def _truthy(v: Any, node: ir.Expr) -> bool:
    try:
        return truthy(v)
    except CelEvalError as e:
        raise _err(e.message, node) from None


def _mod(a: Any, b: Any, node: ir.Expr) -> int:
    if type(a) is not int or type(b) is not int:
        raise _err(f"'%' requires int operands (got {type_name(a)} and {type_name(b)})", node)
    if b == 0:
        raise _err("Division by zero", node)
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _in(a: Any, b: Any, node: ir.Expr) -> bool:
    tb = type(b)
    if tb is list or tb is tuple:
        return any(_eq(a, x, node) for x in b)
    if tb is str:
        if type(a) is not str:
            raise _err(f"'in' on a string needs a string on the left, got {type_name(a)}", node)
        return a in b
    if isinstance(b, Mapping):
        if type(a) is not str:
            raise _err(f"'in' on a map needs a string key, got {type_name(a)}", node)
        return a in b
    raise _err(f"'in' requires a list, string or map on the right, got {type_name(b)}", node)


def _member(v: Any, name: str, node: ir.Expr) -> Any:
    if isinstance(v, Mapping):
        return v.get(name)
    if v is None:
        raise _err(f"Cannot access property '{name}' of null", node)
    raise _err(f"Cannot access property '{name}' of {type_name(v)}", node)


def _index(v: Any, i: Any, node: ir.Expr) -> Any:
    tv = type(v)
    if tv is list or tv is tuple or tv is str:
        if type(i) is not int:
            raise _err(f"List index must be an int, got {type_name(i)}", node)
        if i < 0:
            raise _err(f"Index out of range: {i}", node)
        if tv is str:
            if v.isascii():
                return v[i] if i < len(v) else None
            units = v.encode("utf-16-be", "surrogatepass")
            if 2 * i >= len(units):
                return None
            return units[2 * i : 2 * i + 2].decode("utf-16-be", "surrogatepass")
        return v[i] if i < len(v) else None
    if isinstance(v, Mapping):
        if type(i) is not str:
            raise _err(f"Map key must be a string, got {type_name(i)}", node)
        return v.get(i)
    if v is None:
        raise _err("Cannot index null", node)
    raise _err(f"Cannot index {type_name(v)}", node)


def _check_leaf(v: Any, node: ir.Expr) -> Any:
    if type(v) is float:
        raise _err(FLOAT_MESSAGE, node)
    return v


# ------------------------------------------------------------------ the closure compiler


def _compile(e: ir.Expr, env: _Env) -> Compiled:
    if isinstance(e, ir.Literal):
        value = e.value
        return lambda root: value
    if isinstance(e, ir.Ident | ir.Member):
        chain = _member_chain(e)
        if chain is not None:
            return _compile_path(chain[0], chain[1], env)
        assert isinstance(e, ir.Member)
        obj = _compile(e.obj, env)
        name = e.name
        node = e

        def member(root: Mapping[str, Any]) -> Any:
            v = obj(root)
            if type(v) is dict:
                r = v.get(name)
            else:
                r = _member(v, name, node)
            if type(r) is float:
                raise _err(FLOAT_MESSAGE, node)
            return r

        return member
    if isinstance(e, ir.Binary):
        return _compile_binary(e, env)
    if isinstance(e, ir.Unary):
        operand = _compile(e.operand, env)
        node_u = e
        if e.op == "!":
            return lambda root: not _truthy(operand(root), node_u)
        inner = e.operand
        if isinstance(inner, ir.Literal) and is_num(inner.value):
            folded = _num_neg(inner.value)
            return lambda root: folded

        def negate(root: Mapping[str, Any]) -> Any:
            v = operand(root)
            if type(v) is int:
                return -v
            if type(v) is Dec:
                return _num_neg(v)
            raise _err(f"Unary '-' requires a number, got {type_name(v)}", node_u)

        return negate
    if isinstance(e, ir.Ternary):
        c = _compile(e.cond, env)
        t = _compile(e.then, env)
        f = _compile(e.otherwise, env)
        cnode = e.cond

        def ternary(root: Mapping[str, Any]) -> Any:
            cv = c(root)
            if cv is True or (cv is not False and _truthy(cv, cnode)):
                return t(root)
            return f(root)

        return ternary
    if isinstance(e, ir.Index):
        o = _compile(e.obj, env)
        i = _compile(e.index, env)
        node_i = e

        def index(root: Mapping[str, Any]) -> Any:
            r = _index(o(root), i(root), node_i)
            if type(r) is float:
                raise _err(FLOAT_MESSAGE, node_i)
            return r

        return index
    if isinstance(e, ir.ListExpr):
        items = tuple(_compile(x, env) for x in e.items)
        return lambda root: [f(root) for f in items]
    if isinstance(e, ir.Call):
        return _compile_call(e, env)
    raise AssertionError(f"unhandled IR node {type(e).__name__}")  # pragma: no cover


def _member_chain(e: ir.Expr) -> tuple[ir.Ident, list[ir.Member]] | None:
    """``ident.a.b.c`` as (ident, [members]); None when the chain does not start at an identifier."""
    members: list[ir.Member] = []
    while isinstance(e, ir.Member):
        members.append(e)
        e = e.obj
    if not isinstance(e, ir.Ident):
        return None
    members.reverse()
    return e, members


def _compile_path(ident: ir.Ident, members: list[ir.Member], env: _Env) -> Compiled:
    name = ident.name
    pairs = tuple((m.name, m) for m in members)
    last: ir.Expr = members[-1] if members else ident
    if name in env.constants:
        const = env.constants[name]

        def const_path(root: Mapping[str, Any]) -> Any:
            v = const
            for k, nd in pairs:
                v = _member(v, k, nd)
            return _check_leaf(v, last)

        return const_path
    undefined = f"Undefined variable: {name}"
    istart, iend = ident.start, ident.end
    if not pairs:

        def ident_only(root: Mapping[str, Any]) -> Any:
            try:
                v = root[name]
            except KeyError:
                raise CelEvalError(undefined, istart, iend) from None
            if type(v) is float:
                raise CelEvalError(FLOAT_MESSAGE, istart, iend)
            return v

        return ident_only

    def path(root: Mapping[str, Any]) -> Any:
        try:
            v = root[name]
        except KeyError:
            raise CelEvalError(undefined, istart, iend) from None
        for k, nd in pairs:
            if type(v) is dict:
                v = v.get(k)
            else:
                v = _member(v, k, nd)
        if type(v) is float:
            raise _err(FLOAT_MESSAGE, last)
        return v

    return path


def _compile_call(e: ir.Call, env: _Env) -> Compiled:
    args = tuple(_compile(a, env) for a in e.args)
    node = e
    name = e.name
    target = env.functions.get(name)
    if target is None:
        msg = f"Unknown function: {name}"

        def unknown(root: Mapping[str, Any]) -> Any:
            raise CelEvalError(msg, node.start, node.end)

        return unknown
    n = len(args)
    if isinstance(target, Builtin):
        b = target
        fn = b.fn
        arity_error: CelEvalError | None = None
        try:
            check_arity(name, b, n)
        except CelEvalError as err:
            arity_error = _err(err.message, node)
        if arity_error is not None:
            ae = arity_error

            def bad_arity(root: Mapping[str, Any]) -> Any:
                raise ae

            return bad_arity
    else:
        fn = target

    def call(root: Mapping[str, Any]) -> Any:
        vals = [a(root) for a in args]
        try:
            return fn(*vals)
        except CelError as err:
            if err.start is None:
                raise CelEvalError(err.message, node.start, node.end) from None
            raise
        except NumericError as err:
            raise CelEvalError(str(err), node.start, node.end) from None
        except Exception as err:  # engine functions: report, do not crash
            raise CelEvalError(f"{name}() failed: {err}", node.start, node.end) from err

    return call


def _compile_binary(e: ir.Binary, env: _Env) -> Compiled:
    op = e.op
    lf = _compile(e.left, env)
    rf = _compile(e.right, env)
    node = e
    if op == "&&":
        lnode, rnode = e.left, e.right

        def and_(root: Mapping[str, Any]) -> bool:
            a = lf(root)
            if not (a is True or (a is not False and _truthy(a, lnode))):
                return False
            b = rf(root)
            return b is True or (b is not False and _truthy(b, rnode))

        return and_
    if op == "||":
        lnode, rnode = e.left, e.right

        def or_(root: Mapping[str, Any]) -> bool:
            a = lf(root)
            if a is True or (a is not False and _truthy(a, lnode)):
                return True
            b = rf(root)
            return b is True or (b is not False and _truthy(b, rnode))

        return or_
    if op == "+":

        def add(root: Mapping[str, Any]) -> Any:
            a = lf(root)
            b = rf(root)
            if type(a) is int and type(b) is int:
                return a + b
            return _add_slow(a, b, node)

        return add
    if op == "-":

        def sub(root: Mapping[str, Any]) -> Any:
            a = lf(root)
            b = rf(root)
            if type(a) is int and type(b) is int:
                return a - b
            return _num_op("-", a, b, node)

        return sub
    if op == "*":

        def mul(root: Mapping[str, Any]) -> Any:
            a = lf(root)
            b = rf(root)
            if type(a) is int and type(b) is int:
                if a.bit_length() + b.bit_length() > POW_MAX_RESULT_BITS:
                    raise _err(_TOO_LARGE, node)
                return a * b
            return _num_op("*", a, b, node)

        return mul
    if op == "/":

        def div(root: Mapping[str, Any]) -> Any:
            a = lf(root)
            b = rf(root)
            if type(a) is int and type(b) is int and b and not a % b:
                return a // b
            return _num_op("/", a, b, node)

        return div
    if op == "%":
        return lambda root: _mod(lf(root), rf(root), node)
    if op == "==":

        def eq(root: Mapping[str, Any]) -> bool:
            a = lf(root)
            b = rf(root)
            ta = type(a)
            if ta is type(b) and (ta is int or ta is str or ta is bool):
                return bool(a == b)
            return _eq(a, b, node)

        return eq
    if op == "!=":

        def ne(root: Mapping[str, Any]) -> bool:
            a = lf(root)
            b = rf(root)
            ta = type(a)
            if ta is type(b) and (ta is int or ta is str or ta is bool):
                return bool(a != b)
            return not _eq(a, b, node)

        return ne
    if op == "<":

        def lt(root: Mapping[str, Any]) -> bool:
            a = lf(root)
            b = rf(root)
            if type(a) is int and type(b) is int:
                return bool(a < b)
            return _cmp(a, b, node) < 0

        return lt
    if op == "<=":

        def le(root: Mapping[str, Any]) -> bool:
            a = lf(root)
            b = rf(root)
            if type(a) is int and type(b) is int:
                return bool(a <= b)
            return _cmp(a, b, node) <= 0

        return le
    if op == ">":

        def gt(root: Mapping[str, Any]) -> bool:
            a = lf(root)
            b = rf(root)
            if type(a) is int and type(b) is int:
                return bool(a > b)
            return _cmp(a, b, node) > 0

        return gt
    if op == ">=":

        def ge(root: Mapping[str, Any]) -> bool:
            a = lf(root)
            b = rf(root)
            if type(a) is int and type(b) is int:
                return bool(a >= b)
            return _cmp(a, b, node) >= 0

        return ge
    if op == "in":
        return lambda root: _in(lf(root), rf(root), node)
    raise AssertionError(f"unhandled operator {op!r}")  # pragma: no cover


__all__ = ["Compiled", "EvalOptions", "compile_cel", "compile_ir", "evaluate_cel"]


install_reprs(__name__)
