"""Table tests of the AIS CEL evaluator (SPEC-MAP §3.3–§3.5).

Each row is (expression, expected value) or (expression, expected error substring), evaluated
against the runtime-shaped root of ``_helpers.make_root``. Expected values are written out by hand.
"""

from __future__ import annotations

from typing import Any

import pytest

from aisc.eval import CelError, CelEvalError, CelSyntaxError, EvalOptions, evaluate_cel
from aisc.numeric import Dec

from ._helpers import make_root, same

U256 = 2**256
MAXU = 2**256 - 1

# ------------------------------------------------------------------ values

LITERALS: list[tuple[str, Any]] = [
    ("0", 0),
    ("42", 42),
    ("007", 7),
    ("1.5", Dec(15, 1)),
    ("1.50", Dec(15, 1)),
    ("2.0", 2),
    ("0.000001", Dec(1, 6)),
    ("true", True),
    ("false", False),
    ("null", None),
    ('"abc"', "abc"),
    ("'abc'", "abc"),
    ('""', ""),
    (r'"a\nb"', "a\nb"),
    (r'"a\tb"', "a\tb"),
    (r'"a\rb"', "a\rb"),
    (r'"q\"q"', 'q"q'),
    (r"'q\'q'", "q'q"),
    (r'"back\\slash"', "back\\slash"),
    (r'"\x"', "x"),
    ('"it\'s"', "it's"),
    ("'say \"hi\"'", 'say "hi"'),
    ("[]", []),
    ("[1, 2, 3]", [1, 2, 3]),
    ('[1, "a", null, true, 1.5]', [1, "a", None, True, Dec(15, 1)]),
    ("[[1], []]", [[1], []]),
    ("115792089237316195423570985008687907853269984665640564039457584007913129639935", MAXU),
    ("-5", -5),
    ("-1.25", Dec(-125, 2)),
    ("  7  ", 7),
    ("\n7\t", 7),
]

PRECEDENCE: list[tuple[str, Any]] = [
    ("1 + 2 * 3", 7),
    ("(1 + 2) * 3", 9),
    ("10 - 4 - 3", 3),
    ("10 - (4 - 3)", 9),
    ("2 * 3 % 4", 2),
    ("2 * (3 % 4)", 6),
    ("100 / 10 / 5", 2),
    ("100 / (10 / 5)", 50),
    ("1 + 2 * 3 < 10", True),
    ("1 + 2 * 3 < 7", False),
    ("1 < 2 == true", True),
    ("1 < 2 == 2 < 1", False),
    ("true || false && false", True),
    ("(true || false) && false", False),
    ("false && true || true", True),
    ("!true || true", True),
    ("!(true || true)", False),
    ("!false && false", False),
    ("-2 * 3", -6),
    ("-(2 * 3)", -6),
    ("- -3", 3),
    ("--3", 3),
    ("!!1", True),
    ("!!0", False),
    ("1 + 2 in [3]", True),
    ("1 + 2 in [1, 2]", False),
    ("2 * 3 in [6]", True),
    ('"a" + "b" in "xaby"', True),
    ("3 in [3] == true", True),
    ("true ? 1 : 2", 1),
    ("false ? 1 : 2", 2),
    ("false ? 1 : true ? 2 : 3", 2),
    ("false ? 1 : false ? 2 : 3", 3),
    ("true ? false ? 1 : 2 : 3", 2),
    ("1 + 1 == 2 ? 'y' : 'n'", "y"),
    ("true || false ? 'a' : 'b'", "a"),
    ("false && true ? 'a' : 'b'", "b"),
    ("(false ? 1 : 2) + 10", 12),
    ("[1, 2][1] + 1", 3),
    ("-[5][0]", -5),
    ("inputs.list[0] * 10", 10),
    ("1 - -1", 2),
    ("2 * -3", -6),
    ("10 % 3 * 2", 2),
    ("1 + 2 == 3 && 4 > 3", True),
    ("1 == 1 != false", True),
    ("1 <= 1 && 2 >= 2 && 1 < 2 && 2 > 1", True),
]

ARITH: list[tuple[str, Any]] = [
    ("7 / 2", Dec(35, 1)),
    ("6 / 2", 3),
    ("1 / 4", Dec(25, 2)),
    ("1 / 8", Dec(125, 3)),
    ("1 / 1024", Dec(9765625, 10)),
    ("-7 / 2", Dec(-35, 1)),
    ("7 / -2", Dec(-35, 1)),
    ("-8 / -2", 4),
    ("1.5 / 0.5", 3),
    ("1 / 0.5", 2),
    ("0.3 / 0.1", 3),
    ("1 / 20", Dec(5, 2)),
    ("3 / 6", Dec(5, 1)),
    ("0.1 + 0.2", Dec(3, 1)),
    ("0.1 + 0.2 == 0.3", True),
    ("1.5 + 1.5", 3),
    ("1.25 - 0.25", 1),
    ("0.5 - 1", Dec(-5, 1)),
    ("1.5 * 2", 3),
    ("1.5 * 1.5", Dec(225, 2)),
    ("0.001 * 1000", 1),
    ("10 - 20", -10),
    ("7 % 3", 1),
    ("-7 % 3", -1),
    ("7 % -3", 1),
    ("-7 % -3", -1),
    ("0 % 5", 0),
    ("2 * 2 * 2 * 2", 16),
    ("1000000 * 9950 / 10000", 995000),
    ("1000001 * 9950 / 10000", Dec(995000995, 3)),
    ("nodes.q.outputs.amount_out * (10000 - inputs.bps) / 10000", 995000),
    (f"{MAXU} + 1", U256),
    (f"{U256} - 1", MAXU),
    (f"{MAXU} * {MAXU}", MAXU * MAXU),
    (f"{MAXU} * {MAXU} / {MAXU}", MAXU),
    (f"{U256} * {U256} * {U256}", U256**3),
    (f"{U256} / 2", 2**255),
    (f"{U256} / 1024", 2**246),
    (f"1 / {2**64}", Dec(5**64, 64)),
    (f"{MAXU} % 1000", MAXU % 1000),
    (f"-{MAXU} % 1000", -(MAXU % 1000)),
    ("inputs.big + inputs.big", 2**257),
    ("inputs.big * inputs.big", 2**512),
    ("inputs.big / inputs.big", 1),
    ("inputs.big > 115792089237316195423570985008687907853269984665640564039457584007913129639935", True),
    ("inputs.dec * 2", 3),
    ("inputs.dec + 0.5", 2),
    ("inputs.dec - inputs.dec", 0),
    ("0.1 * 0.1", Dec(1, 2)),
    ("12345678901234567890.123456789 * 10", Dec(12345678901234567890123456789, 8)),
    ("0.000000000000000001 * 1000000000000000000", 1),
    ("1.1 + 2.2", Dec(33, 1)),
]

COMPARE: list[tuple[str, Any]] = [
    ("1 == 1", True),
    ("1 == 2", False),
    ("1 != 2", True),
    ("1 == 1.0", True),
    ("1.5 == 1.50", True),
    ("1.5 != 1.6", True),
    ('"1" == 1', False),
    ('"1" != 1', True),
    ("null == null", True),
    ("null != null", False),
    ("null == 0", False),
    ('null == ""', False),
    ("null == false", False),
    ("true == 1", False),
    ("false == 0", False),
    ("true == true", True),
    ("true != false", True),
    ("[1, 2] == [1, 2]", True),
    ("[1, 2] == [2, 1]", False),
    ("[1, 2] == [1, 2, 3]", False),
    ("[1, 2.0] == [1, 2]", True),
    ("[[1]] == [[1]]", True),
    ("[] == []", True),
    ("inputs.map == inputs.map", True),
    ("inputs.empty_map == inputs.map", False),
    ("inputs.map.nested == nodes.q.outputs.m", False),
    ("inputs.list == [1, 2, 3]", True),
    ("inputs.tuple == [4, 5]", True),
    ('"a" == "a"', True),
    ('"a" == "A"', False),
    ("1 < 2", True),
    ("2 < 1", False),
    ("1 <= 1", True),
    ("1 >= 2", False),
    ("1.5 < 2", True),
    ("2 > 1.5", True),
    ("1.5 >= 1.5", True),
    ("-1 < 0", True),
    ("0.1 < 0.10000000000000000000000000000000000000001", True),
    ('"a" < "b"', True),
    ('"b" < "a"', False),
    ('"a" < "ab"', True),
    ('"B" < "a"', True),
    ('"" < "a"', True),
    ('"abc" >= "abc"', True),
    ('"\uffff" < "\U0001F600"', False),
    (f"{U256} > {MAXU}", True),
    (f"{MAXU} < {U256}", True),
    (f"{MAXU}.5 > {MAXU}", True),
]

LOGIC: list[tuple[str, Any]] = [
    ("true && true", True),
    ("true && false", False),
    ("false || false", False),
    ("false || true", True),
    ("1 && 2", True),
    ("1 && 0", False),
    ('"" || 0', False),
    ('"x" || 0', True),
    ("null || false", False),
    ("[] && true", True),
    ("inputs.empty_map && true", True),
    ("inputs.empty_list || false", True),
    ("0.5 && true", True),
    ("!0", True),
    ("!1", False),
    ('!""', True),
    ('!"a"', False),
    ("!null", True),
    ("![]", False),
    ("!inputs.empty_map", False),
    ("!0.0", True),
    ("!0.1", False),
    ("false && undefined_thing", False),
    ("true || undefined_thing", True),
    ("false && 1 / 0 == 1", False),
    ("true || 1 / 0 == 1", True),
    ("true ? 1 : 1 / 0", 1),
    ("false ? 1 / 0 : 2", 2),
    ("0 ? 'y' : 'n'", "n"),
    ("'' ? 'y' : 'n'", "n"),
    ("null ? 'y' : 'n'", "n"),
    ("[] ? 'y' : 'n'", "y"),
    ("'0' ? 'y' : 'n'", "y"),
    ("'false' ? 'y' : 'n'", "y"),
    ("inputs.zero ? 'y' : 'n'", "n"),
    ("inputs.nul ? 'y' : 'n'", "n"),
    ("inputs.missing ? 'y' : 'n'", "n"),
    ("inputs.t && !inputs.f", True),
]

ACCESS: list[tuple[str, Any]] = [
    ("inputs.amount", 1000000),
    ("inputs.map.k", "v"),
    ("inputs.map.n", None),
    ("inputs.map.missing", None),
    ("inputs.missing", None),
    ("inputs.map.nested.deep", 7),
    ("inputs.map['k']", "v"),
    ("inputs.map['missing']", None),
    ('inputs["map"]["nested"]["deep"]', 7),
    ("inputs.list[0]", 1),
    ("inputs.list[2]", 3),
    ("inputs.list[3]", None),
    ("inputs.list[100]", None),
    ("inputs.tuple[1]", 5),
    ("[1, 2, 3][1]", 2),
    ('"hello"[1]', "e"),
    ('"hello"[5]', None),
    ("inputs.s[0]", "h"),
    ("nodes.q.outputs.amount_out", 1000000),
    ("nodes.q.outputs.list[1]", 20),
    ("nodes.q.outputs.m.a", 1),
    ('nodes["q"].outputs.amount_out', 1000000),
    ("nodes.missing", None),
    ("nodes.empty.outputs", None),
    ('query["allowance-token"].allowance_atomic', 0),
    ("query.quote.amount_out", 995000),
    ("contracts.router", "0x2222"),
    ("calculated.min_out_atomic", 990000),
    ("policy.max_slippage_bps", 100),
    ("ctx.capabilities[0]", "cel:v1"),
    ("ctx.now", 1700000000),
    ("params.x", 2),
    ("inputs.map.n == null", True),
    ("inputs.missing == null", True),
    ("(inputs.map).k", "v"),
    ("[inputs.map][0].k", "v"),
]

IN_OP: list[tuple[str, Any]] = [
    ("1 in [1, 2]", True),
    ("3 in [1, 2]", False),
    ("1 in [1.0]", True),
    ('"1" in [1]', False),
    ("null in [null]", True),
    ("[1] in [[1]]", True),
    ("1 in []", False),
    ('"ell" in "hello"', True),
    ('"" in "hello"', True),
    ('"xyz" in "hello"', False),
    ('"k" in inputs.map', True),
    ('"n" in inputs.map', True),
    ('"zz" in inputs.map', False),
    ("2 in inputs.list", True),
    ("inputs.bps in [50, 100]", True),
    ('"cel:v1" in ctx.capabilities', True),
    ("true in [1]", False),
]

STRINGS: list[tuple[str, Any]] = [
    ('"a" + "b"', "ab"),
    ('"a" + 1', "a1"),
    ('1 + "a"', "1a"),
    ('"v" + 1.5', "v1.5"),
    ('"x" + true', "xtrue"),
    ('"x" + null', "xnull"),
    ('"x" + [1, 2]', "x1,2"),
    ('"x" + [1, null, [2, 3]]', "x1,,2,3"),
    ('"x" + inputs.map', "x[object Object]"),
    (f'"n=" + {MAXU}', f"n={MAXU}"),
    ('"" + ""', ""),
    ("[1] + [2, 3]", [1, 2, 3]),
    ("[] + []", []),
    ("inputs.tuple + [6]", [4, 5, 6]),
]

BUILTINS_OK: list[tuple[str, Any]] = [
    ('to_atomic("1.23", 6)', 1230000),
    ("to_atomic(1, 18)", 10**18),
    ("to_atomic(1.5, 6)", 1500000),
    ("to_atomic(inputs.str_amount, inputs.asset)", 1230000),
    ('to_atomic("2", inputs.asset_str)', 2 * 10**18),
    ('to_atomic("1", "6")', 1000000),
    ('to_atomic("0", 77)', 0),
    ('to_atomic("1", 77)', 10**77),
    ('to_atomic("1.10", 1)', 11),
    ('to_atomic("-0", 6)', 0),
    ('to_human(1230000, 6)', "1.23"),
    ('to_human("1230000", 6)', "1.23"),
    ('to_human(1230000, inputs.asset)', "1.23"),
    ('to_human(0, 0)', "0"),
    ("to_human(100, 2)", "1"),
    (f'to_human({MAXU}, 18)', "115792089237316195423570985008687907853269984665640564039457.584007913129639935"),
    ("to_human(1, 77)", "0." + "0" * 76 + "1"),
    ("mul_div(100, 9950, 10000)", 99),
    ('mul_div("100", "9950", "10000")', 99),
    (f"mul_div({MAXU}, {MAXU}, {MAXU})", MAXU),
    (f"mul_div({MAXU}, 3, 2)", MAXU * 3 // 2),
    ("mul_div(7, 1, 2)", 3),
    ("mul_div(nodes.q.outputs.amount_out, 10000 - inputs.bps, 10000)", 995000),
    ("pow(10, 18)", 10**18),
    ("pow(2, 256)", U256),
    ("pow(2, 0)", 1),
    ("pow(-2, 3)", -8),
    ("pow(0, 0)", 1),
    ("abs(-5)", 5),
    ("abs(5)", 5),
    ("abs(-1.5)", Dec(15, 1)),
    ("abs(0)", 0),
    ("min(3, 1, 2)", 1),
    ("max(3, 1, 2)", 3),
    ("min(1.5, 2)", Dec(15, 1)),
    ("max(1.5, 2)", 2),
    ('min("a", 5, null)', 5),
    ('max(5, "zzz")', 5),
    (f"max(1, {U256})", U256),
    ("min(-1, -2.5)", Dec(-25, 1)),
    ("floor(1.5)", 1),
    ("floor(-1.5)", -2),
    ("floor(3)", 3),
    ("ceil(1.5)", 2),
    ("ceil(-1.5)", -1),
    ("ceil(1.000001)", 2),
    ("round(1.5)", 2),
    ("round(2.5)", 3),
    ("round(-1.5)", -2),
    ("round(-2.5)", -3),
    ("round(1.49)", 1),
    ("round(-1.49)", -1),
    ("round(7)", 7),
    ("int(1.9)", 1),
    ("int(-1.9)", -1),
    ('int("42")', 42),
    ('int("-42")', -42),
    ('int("1.9")', 1),
    ('int("-1.9")', -1),
    ("int(5)", 5),
    ('int("007")', 7),
    ("uint(-5)", 5),
    ("uint(5)", 5),
    ('uint("-2.5")', 2),
    ("double(1)", 1),
    ('double("1.50")', Dec(15, 1)),
    ("double(2.25)", Dec(225, 2)),
    ("string(42)", "42"),
    ("string(-1.50)", "-1.5"),
    ("string(true)", "true"),
    ("string(null)", "null"),
    ('string("s")', "s"),
    ("string([1, 2])", "1,2"),
    (f"string({U256})", str(U256)),
    ("bool(true)", True),
    ('bool("true")', True),
    ('bool("false")', False),
    ('bool("yes")', False),
    ("bool(1)", True),
    ("bool(0)", False),
    ("bool(0.5)", True),
    ("bool(null)", False),
    ("bool([])", True),
    ("type(1)", "int"),
    ("type(1.5)", "decimal"),
    ("type(1.0)", "int"),
    ('type("s")', "string"),
    ("type(true)", "bool"),
    ("type(null)", "null"),
    ("type([])", "list"),
    ("type(inputs.map)", "map"),
    ("type(inputs.tuple)", "list"),
    ('size("hello")', 5),
    ('size("")', 0),
    ('size("é")', 1),
    ('size("😀")', 2),
    ("size([1, 2, 3])", 3),
    ("size(inputs.map)", 3),
    ("inputs.list.size()", 3),
    ('"abc".size()', 3),
    ('contains("hello", "ell")', True),
    ('contains("hello", "xyz")', False),
    ('"hello".contains("lo")', True),
    ('startsWith("0xabc", "0x")', True),
    ('"0xabc".startsWith("0X")', False),
    ('endsWith("file.yaml", ".yaml")', True),
    ('"file.yaml".endsWith(".yml")', False),
    ('matches("0xAbC", "^0x[0-9a-fA-F]+$")', True),
    ('matches("hello", "ell")', True),
    ('matches("hello", "^ell")', False),
    ('inputs.addr.matches("[A-F]")', True),
    ('lower("AbC")', "abc"),
    ('upper("AbC")', "ABC"),
    ('inputs.addr.lower()', "0xabc"),
    ('trim("  x y  ")', "x y"),
    ('trim("\\n\\tx\\t")', "x"),
    ("exists([0, null, 1])", True),
    ('exists([0, null, ""])', False),
    ("exists([])", False),
    ("all([1, true, 'x'])", True),
    ("all([1, 0])", False),
    ("all([])", True),
    ("[1, 2].exists()", True),
    ("to_atomic(inputs.dec, 2) + 1", 151),
    ("to_human(to_atomic('1.5', 6), 6)", "1.5"),
]

OK_CASES = [
    *(("literal", e, v) for e, v in LITERALS),
    *(("precedence", e, v) for e, v in PRECEDENCE),
    *(("arith", e, v) for e, v in ARITH),
    *(("compare", e, v) for e, v in COMPARE),
    *(("logic", e, v) for e, v in LOGIC),
    *(("access", e, v) for e, v in ACCESS),
    *(("in", e, v) for e, v in IN_OP),
    *(("string", e, v) for e, v in STRINGS),
    *(("builtin", e, v) for e, v in BUILTINS_OK),
]


@pytest.mark.parametrize(("group", "expr", "want"), OK_CASES, ids=[f"{g}:{e}" for g, e, _ in OK_CASES])
def test_cel_value(group: str, expr: str, want: Any) -> None:
    got = evaluate_cel(expr, make_root())
    assert same(got, want), f"{expr!r}: got {got!r} ({type(got).__name__}), want {want!r}"


# ------------------------------------------------------------------ errors

EVAL_ERRORS: list[tuple[str, str]] = [
    # identifiers, members, indexes
    ("x", "Undefined variable: x"),
    ("undefined_thing + 1", "Undefined variable: undefined_thing"),
    ("MAX_UINT256", "Undefined variable: MAX_UINT256"),
    ("inputs.nul.b", "Cannot access property 'b' of null"),
    ("inputs.missing.b", "Cannot access property 'b' of null"),
    ("nodes.missing.outputs.amount_out", "Cannot access property 'outputs' of null"),
    ("nodes.empty.outputs.x", "Cannot access property 'x' of null"),
    ("inputs.amount.x", "Cannot access property 'x' of int"),
    ("inputs.s.length", "Cannot access property 'length' of string"),
    ("inputs.list.first", "Cannot access property 'first' of list"),
    ("(1).x", "Cannot access property 'x' of int"),
    ("inputs.list[-1]", "Index out of range"),
    ('inputs.list["0"]', "List index must be an int"),
    ("inputs.list[1.5]", "List index must be an int"),
    ("inputs.list[true]", "List index must be an int"),
    ("inputs.map[1]", "Map key must be a string"),
    ("inputs.map[null]", "Map key must be a string"),
    ("inputs.nul[0]", "Cannot index null"),
    ("inputs.amount[0]", "Cannot index int"),
    ("true[0]", "Cannot index bool"),
    # arithmetic
    ("1 / 0", "Division by zero"),
    ("1.5 / 0", "Division by zero"),
    ("1 / 0.0", "Division by zero"),
    ("5 % 0", "Division by zero"),
    ("1 / 3", "Non-terminating decimal division; use mul_div() for integer math"),
    ("2 / 3", "Non-terminating decimal division"),
    ("1 / 7", "Non-terminating decimal division"),
    ("100 / 3 * 3", "Non-terminating decimal division"),
    ("1.5 / 0.7", "Non-terminating decimal division"),
    ("1.5 % 1", "'%' requires int operands"),
    ('"a" % 2', "'%' requires int operands"),
    ('1 - "a"', "Cannot subtract int and string"),
    ('"a" - "b"', "Cannot subtract string and string"),
    ("true + 1", "Cannot add bool and int"),
    ("null + 1", "Cannot add null and int"),
    ("[1] + 1", "Cannot add list and int"),
    ("inputs.map + inputs.map", "Cannot add map and map"),
    ("true * 2", "Cannot multiply bool and int"),
    ("[1] * 2", "Cannot multiply list and int"),
    ('"6" / 2', "Cannot divide string and int"),
    ("-true", "Unary '-' requires a number"),
    ('-"a"', "Unary '-' requires a number"),
    ("-null", "Unary '-' requires a number"),
    # comparisons
    ('1 < "2"', "Comparison requires same types"),
    ("1 < 2 in [true]", "Comparison requires same types (got int and bool)"),
    ('"2" > 1', "Comparison requires same types"),
    ("true < false", "Comparison requires same types"),
    ("null < 1", "Comparison requires same types"),
    ("[1] < [2]", "Comparison requires same types"),
    ("1 <= null", "Comparison requires same types"),
    ("inputs.map >= inputs.map", "Comparison requires same types"),
    ("inputs.missing > 0", "Comparison requires same types"),
    # in
    ("1 in 1", "'in' requires a list, string or map on the right"),
    ("1 in null", "'in' requires a list, string or map on the right"),
    ('1 in "abc"', "'in' on a string needs a string on the left"),
    ("1 in inputs.map", "'in' on a map needs a string key"),
    # functions
    ("foo(1)", "Unknown function: foo"),
    ("inputs.list.map(1)", "Unknown function: map"),
    ("has(inputs.x)", "Unknown function: has"),
    ("derive_ata('a', 'b')", "Unknown function: derive_ata"),
    ("size()", "size() expects 1 argument(s), got 0"),
    ("size(1, 2)", "size() expects 1 argument(s), got 2"),
    ("mul_div(1, 2)", "mul_div() expects 3 argument(s), got 2"),
    ("min()", "min() expects at least 1 argument(s), got 0"),
    # builtin errors (R120-R132 wording)
    ('to_atomic("1.234", 2)', "too many fractional digits"),
    ('to_atomic("-1", 6)', "non-negative"),
    ("to_atomic(-1, 6)", "non-negative"),
    ("to_atomic(-0.5, 6)", "non-negative"),
    ('to_atomic("+1", 6)', "invalid decimal"),
    ('to_atomic("1,5", 6)', "invalid decimal"),
    ('to_atomic("1.5.5", 6)', "invalid decimal"),
    ('to_atomic("1\\n", 6)', "invalid decimal"),
    ('to_atomic("١", 6)', "invalid decimal"),
    ('to_atomic("1E2", 6)', "exponent"),
    ('to_atomic("", 6)', "empty"),
    ('to_atomic("1", -1)', "out of range"),
    ('to_atomic("1", 78)', "out of range"),
    ('to_atomic("1", "x")', "second arg must be asset with decimals or decimal count"),
    ('to_atomic("1", inputs.map)', "second arg must be asset with decimals or decimal count"),
    ('to_atomic("1", 1.5)', "second arg must be asset with decimals or decimal count"),
    ('to_atomic("1", true)', "second arg must be asset with decimals or decimal count"),
    ("to_atomic(true, 6)", "amount must be a decimal string or number"),
    ("to_atomic(null, 6)", "amount must be a decimal string or number"),
    ("to_human(-1, 6)", "non-negative"),
    ('to_human("-1", 6)', "non-negative"),
    ("to_human(1, 78)", "out of range"),
    ("to_human(1.5, 6)", "integer"),
    ('to_human("1.1", 6)', "integer"),
    ('to_human("abc", 6)', "integer"),
    ("to_human(null, 6)", "integer"),
    ("mul_div(1, 2, 0)", "denom"),
    ("mul_div(1, 2, -1)", "non-negative"),
    ("mul_div(-1, 2, 0)", "non-negative"),
    ("mul_div(1, -2, 3)", "non-negative"),
    ('mul_div(1, "1.1", 2)', "integer"),
    ("mul_div(1.5, 1, 2)", "integer"),
    ("mul_div(true, 1, 2)", "integer"),
    ("pow(2, -1)", "exponent must be an integer in 0..10000"),
    ("pow(2, 10001)", "exponent must be an integer in 0..10000"),
    ("pow(1.5, 2)", "base must be an integer"),
    ('pow(2, "3")', "exponent must be an integer"),
    ('abs("1")', "abs() requires a number"),
    ('min("a", null)', "min() requires at least one numeric argument"),
    ("max([1, 2])", "max() requires at least one numeric argument"),
    ("floor(null)", "floor() requires a number"),
    ('ceil("1.5")', "ceil() requires a number"),
    ("round(true)", "round() requires a number"),
    ('int("1e3")', "exponent"),
    ('int("abc")', "invalid decimal"),
    ("int(null)", "int() requires a number or numeric string"),
    ("int(true)", "int() requires a number or numeric string"),
    ('double("x")', "invalid decimal"),
    ("double(null)", "double() requires a number or decimal string"),
    ("size(1)", "size() requires a string, list or map"),
    ("size(null)", "size() requires a string, list or map"),
    ("contains([1], 1)", "contains() requires string arguments"),
    ('startsWith(1, "1")', "startsWith() requires string arguments"),
    ('endsWith("a", null)', "endsWith() requires string arguments"),
    ('matches("a", "(")', "matches() invalid regular expression"),
    ("lower(1)", "lower() requires string arguments"),
    ("upper(null)", "upper() requires string arguments"),
    ("trim([])", "trim() requires string arguments"),
    ('exists("abc")', "exists() requires a list"),
    ("all(null)", "all() requires a list"),
    # floats from the context are never values
    ("inputs.fl", "CEL disallows non-integer numbers"),
    ("inputs.fl + 1", "CEL disallows non-integer numbers"),
    ("inputs['fl']", "CEL disallows non-integer numbers"),
]


@pytest.mark.parametrize(("expr", "needle"), EVAL_ERRORS, ids=[e for e, _ in EVAL_ERRORS])
def test_cel_eval_error(expr: str, needle: str) -> None:
    with pytest.raises(CelEvalError) as ei:
        evaluate_cel(expr, make_root())
    assert needle in ei.value.message
    assert ei.value.start is not None and ei.value.end is not None
    assert 0 <= ei.value.start < ei.value.end <= len(expr)


SYNTAX_ERRORS: list[tuple[str, str]] = [
    ("1e2", "Unexpected token 'e2'"),
    ("0x10", "Unexpected token 'x10'"),
    ("1u", "Unexpected token 'u'"),
    ("1.", "invalid decimal: 1."),
    (".5", "invalid decimal: .5"),
    ("1.2.3", "Unexpected token '.3'"),
    ("{}", "Unexpected character '{'"),
    ('{"a": 1}', "Unexpected character '{'"),
    ("a in b in c", "Unexpected token 'in'"),
    ("1 +", "Unexpected end of expression"),
    ("", "Unexpected end of expression"),
    ("(1", "Unexpected end of expression"),
    ("1)", "Unexpected token ')'"),
    ("[1, 2", "Unexpected end of expression"),
    ("[1, ]", "Unexpected token ']'"),
    ("f(1,)", "Unexpected token ')'"),
    ("+1", "Unexpected token '+'"),
    ("a.", "Unexpected end of expression"),
    ("a.1", "Unexpected token '.1'"),
    ("a..b", "Unexpected token"),
    ("1 = 1", "Unexpected character '='"),
    ("a & b", "Unexpected character '&'"),
    ("a | b", "Unexpected character '|'"),
    ("a ? b", "Unexpected end of expression"),
    ("a : b", "Unexpected token ':'"),
    ('"abc', "Unterminated string literal"),
    ("'abc", "Unterminated string literal"),
    ('"abc\\"', "Unterminated string literal"),
    ("r'raw'", "Unexpected token"),
    ("b'bytes'", "Unexpected token"),
    ("x.(y)", "Unexpected token '('"),
    ("(f)(1)", "Unexpected token '('"),
    ("a[0](1)", "Unexpected token '('"),
    ("1 ^ 2", "Unexpected character '^'"),
    ("a @ b", "Unexpected character '@'"),
    ("a # comment", "Unexpected character '#'"),
    ("1 < 2 < 3 <", "Unexpected end of expression"),
    ("in", "Unexpected token 'in'"),
    ("true.false", "Unexpected token 'false'"),
    ("$x", "Unexpected character '$'"),
]


@pytest.mark.parametrize(("expr", "needle"), SYNTAX_ERRORS, ids=[repr(e) for e, _ in SYNTAX_ERRORS])
def test_cel_syntax_error(expr: str, needle: str) -> None:
    with pytest.raises(CelSyntaxError) as ei:
        evaluate_cel(expr, make_root())
    assert needle in ei.value.message
    assert ei.value.start is not None and 0 <= ei.value.start <= len(expr)


# ------------------------------------------------------------------ options and extras

CAPS = EvalOptions(capabilities=frozenset({"cel:max_uint256", "cel_builtin:derive_ata"}))


def test_max_uint256_extra_enabled() -> None:
    assert evaluate_cel("MAX_UINT256", {}, CAPS) == MAXU
    assert evaluate_cel("MAX_UINT256 + 1 == pow(2, 256)", {}, CAPS) is True


def test_max_uint256_member_of_constant_is_error() -> None:
    with pytest.raises(CelEvalError, match="Cannot access property 'x' of int"):
        evaluate_cel("MAX_UINT256.x", {}, CAPS)


def test_extras_disabled_by_default_even_with_other_caps() -> None:
    opts = EvalOptions(capabilities=frozenset({"cel:v1", "evm:read"}))
    with pytest.raises(CelEvalError, match="Undefined variable: MAX_UINT256"):
        evaluate_cel("MAX_UINT256", {}, opts)
    with pytest.raises(CelEvalError, match="Unknown function: derive_ata"):
        evaluate_cel("derive_ata('a', 'b')", {}, opts)


def test_derive_ata_extra_matches_solders_spl_helper() -> None:
    owner = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
    mint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
    from solders.pubkey import Pubkey

    ata_program = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
    token = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
    got = evaluate_cel(f"derive_ata('{owner}', '{mint}')", {}, CAPS)
    expected = str(
        Pubkey.find_program_address(
            [bytes(Pubkey.from_string(owner)), bytes(token), bytes(Pubkey.from_string(mint))], ata_program
        )[0]
    )
    assert got == expected
    assert got != evaluate_cel(
        f"derive_ata('{owner}', '{mint}', 'TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb')", {}, CAPS
    )


def test_derive_ata_bad_key() -> None:
    with pytest.raises(CelEvalError, match="owner is not a base58 public key"):
        evaluate_cel("derive_ata('not-a-key', 'So11111111111111111111111111111111111111112')", {}, CAPS)


def test_custom_function_overrides_builtin() -> None:
    opts = EvalOptions(functions={"size": lambda v: 99, "double_it": lambda v: v * 2})
    assert evaluate_cel("size([1])", {}, opts) == 99
    assert evaluate_cel("double_it(21)", {}, opts) == 42
    assert evaluate_cel("size([1])", {}) == 1  # the default table is untouched (separate cache entry)


def test_custom_function_failure_is_positioned_cel_error() -> None:
    def boom(*_: Any) -> Any:
        raise RuntimeError("kaput")

    with pytest.raises(CelEvalError) as ei:
        evaluate_cel("1 + boom()", {}, EvalOptions(functions={"boom": boom}))
    assert ei.value.message == "boom() failed: kaput"
    assert (ei.value.start, ei.value.end) == (4, 10)


def test_error_offsets_point_at_failing_subexpression() -> None:
    with pytest.raises(CelEvalError) as ei:
        evaluate_cel("inputs.amount + (1 / 0)", make_root())
    assert (ei.value.start, ei.value.end) == (17, 22)
    with pytest.raises(CelEvalError) as ei2:
        evaluate_cel("1 + nope", make_root())
    assert (ei2.value.start, ei2.value.end) == (4, 8)


def test_root_is_not_copied_or_mutated() -> None:
    root = make_root()
    before = repr(root)
    evaluate_cel("inputs.list + [4]", root)
    assert repr(root) == before


def test_errors_are_cel_errors() -> None:
    assert issubclass(CelEvalError, CelError) and issubclass(CelSyntaxError, CelError)
