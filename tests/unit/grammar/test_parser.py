"""The AIS CEL grammar: precedence shape, positions, lexer rules, span rebasing (SPEC-MAP §3.2/§3.3)."""

from __future__ import annotations

import pytest

from aisc.diagnostics import Span
from aisc.grammar import CelSyntaxError, parse, rebase_span
from aisc.grammar.parser import LARK_OPTIONS
from aisc.ir import expr as ir
from aisc.numeric import Dec, format_decimal


def test_grammar_builds_with_lark_strict_mode() -> None:
    """No terminal collisions and no shift/reduce conflicts (lark ``strict=True``)."""
    from lark import Lark

    parser = Lark.open_from_package("aisc.grammar", "cel.lark", strict=True, **LARK_OPTIONS)
    assert parser.parse("a.b(1) ? [1, 2][0] : -x in y").data == "ternary"


def _shape(e: ir.Expr) -> str:
    """A parenthesized rendering of the tree, to check grouping."""
    if isinstance(e, ir.Literal):
        return repr(e.value) if not isinstance(e.value, Dec) else format_decimal(e.value)
    if isinstance(e, ir.Ident):
        return e.name
    if isinstance(e, ir.Member):
        return f"{_shape(e.obj)}.{e.name}"
    if isinstance(e, ir.Index):
        return f"{_shape(e.obj)}[{_shape(e.index)}]"
    if isinstance(e, ir.Call):
        return f"{e.name}({', '.join(_shape(a) for a in e.args)})"
    if isinstance(e, ir.ListExpr):
        return f"[{', '.join(_shape(a) for a in e.items)}]"
    if isinstance(e, ir.Unary):
        return f"({e.op}{_shape(e.operand)})"
    if isinstance(e, ir.Binary):
        return f"({_shape(e.left)} {e.op} {_shape(e.right)})"
    assert isinstance(e, ir.Ternary)
    return f"({_shape(e.cond)} ? {_shape(e.then)} : {_shape(e.otherwise)})"


SHAPES = [
    ("a || b && c", "(a || (b && c))"),
    ("a && b || c", "((a && b) || c)"),
    ("a == b && c != d", "((a == b) && (c != d))"),
    ("a < b == c > d", "((a < b) == (c > d))"),
    ("a + b in xs", "((a + b) in xs)"),
    ("a < b in xs", "(a < (b in xs))"),
    ("a in xs == true", "((a in xs) == True)"),
    ("a + b * c", "(a + (b * c))"),
    ("a - b - c", "((a - b) - c)"),
    ("a / b % c", "((a / b) % c)"),
    ("-a * b", "((-a) * b)"),
    ("!a && b", "((!a) && b)"),
    ("!!a", "(!(!a))"),
    ("- -a", "(-(-a))"),
    ("-a.b", "(-a.b)"),
    ("a ? b : c ? d : e", "(a ? b : (c ? d : e))"),
    ("a ? b ? c : d : e", "(a ? (b ? c : d) : e)"),
    ("a || b ? c : d", "((a || b) ? c : d)"),
    ("x.f(a, b)", "f(x, a, b)"),
    ("x.y.f()", "f(x.y)"),
    ("f(x).g(1)[0]", "g(f(x), 1)[0]"),
    ("s.startsWith('0x')", "startsWith(s, '0x')"),
    ("xs.size() > 0", "(size(xs) > 0)"),
    ("a[0].b[c]", "a[0].b[c]"),
    ("[a, [b]]", "[a, [b]]"),
    ("(a + b) * c", "((a + b) * c)"),
    ("1.50", "1.5"),
    ("intx + inx + nullx + truex", "(((intx + inx) + nullx) + truex)"),
]


@pytest.mark.parametrize(("src", "shape"), SHAPES, ids=[s for s, _ in SHAPES])
def test_precedence_shape(src: str, shape: str) -> None:
    assert _shape(parse(src)) == shape


def test_method_sugar_is_marked() -> None:
    call = parse("x.f(1)")
    assert isinstance(call, ir.Call) and call.method and call.name == "f"
    assert isinstance(parse("f(x, 1)"), ir.Call) and not parse("f(x, 1)").method  # type: ignore[union-attr]
    assert parse("x.f(1)") != parse("f(x, 1)")


def test_positions_cover_source_text() -> None:
    src = "inputs.a + foo(1, 'x')"
    tree = parse(src)
    assert isinstance(tree, ir.Binary)
    assert src[tree.start : tree.end] == src
    assert src[tree.left.start : tree.left.end] == "inputs.a"
    assert src[tree.right.start : tree.right.end] == "foo(1, 'x')"
    call = tree.right
    assert isinstance(call, ir.Call)
    assert src[call.args[1].start : call.args[1].end] == "'x'"


def test_parse_is_cached_by_text() -> None:
    assert parse("1 + 2") is parse("1 + 2")


def test_positions_do_not_take_part_in_equality() -> None:
    assert parse("1+2") == parse("1 + 2")


SYNTAX_POSITIONS = [
    ("1e2", 1, 3),
    ("0x10", 1, 4),
    ("a in b in c", 7, 9),
    ("1 +", 3, 3),
    ("a $ b", 2, 3),
    ('x + "abc', 4, 8),
    ("f(1,)", 4, 5),
    (".5 + 1", 0, 2),
]


@pytest.mark.parametrize(("src", "start", "end"), SYNTAX_POSITIONS, ids=[s for s, _, _ in SYNTAX_POSITIONS])
def test_syntax_error_offsets(src: str, start: int, end: int) -> None:
    with pytest.raises(CelSyntaxError) as ei:
        parse(src)
    assert (ei.value.start, ei.value.end) == (start, end)


def test_deep_nesting_is_a_positioned_error_not_a_crash() -> None:
    src = "(" * 5000 + "1" + ")" * 5000
    try:
        tree = parse(src)
    except CelSyntaxError as e:
        assert e.start is not None
    else:
        assert isinstance(tree, ir.Literal)


SCALAR = Span("f.yaml", 10, 12, 10, 40)
REBASE = [
    # expr, start, end, style, (line, col, end_line, end_col)
    ("a + b", 4, 5, "plain", (10, 16, 10, 17)),
    ("a + b", 4, 5, "double", (10, 17, 10, 18)),
    ("a + b", 4, 5, "single", (10, 17, 10, 18)),
    ("a + b", 5, 5, "plain", (10, 17, 10, 18)),
    ("a +\nb", 4, 5, "literal", (12, 14, 12, 15)),
    ("a +\nb", 0, 1, "literal", (11, 14, 11, 15)),
    ("a +\n  b", 6, 7, "plain", (11, 14, 11, 15)),
]


@pytest.mark.parametrize(("expr", "start", "end", "style", "want"), REBASE)
def test_rebase_span(expr: str, start: int, end: int, style: str, want: tuple[int, int, int, int]) -> None:
    sp = rebase_span(expr, start, end, SCALAR, style=style)  # type: ignore[arg-type]
    assert (sp.line, sp.col, sp.end_line, sp.end_col) == want
    assert sp.file == "f.yaml"


def test_rebase_span_block_with_known_indent() -> None:
    sp = rebase_span("x\nyy z", 5, 6, SCALAR, style="literal", indent=5)
    assert (sp.line, sp.col) == (12, 8)
