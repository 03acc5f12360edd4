"""The AIS CEL parser + evaluator: ``aisc.eval.compile_cel`` / ``evaluate_cel``.

Input: byte 0 picks the evaluation options (with or without the capability extras
``MAX_UINT256`` / ``derive_ata``); the rest is the expression text. It is parsed, compiled and
evaluated against a fixed runtime root holding every value kind (ints, decimals, strings, bools,
null, lists, nested maps, node outputs).

Oracle: only :class:`aisc.grammar.CelError` (syntax or evaluation) may escape; a syntax error's
``start``/``end`` offsets lie inside the text; a result stays in the value model (no floats, string
map keys); evaluating the same text twice gives the same result (the compile cache is transparent).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aisc.eval import CAP_DERIVE_ATA, CAP_MAX_UINT256, CelError, EvalOptions, compile_cel
from aisc.grammar import CelSyntaxError
from aisc.numeric import Dec
from fuzz.oracle import OracleViolation, check_value_model, text_of

NAME = "cel"
ALLOWED: tuple[type[BaseException], ...] = (CelError,)
MODULES = ("aisc.grammar.parser", "aisc.eval.compiler", "aisc.eval.builtins", "aisc.eval.values",
           "aisc.numeric")
INSTRUMENT = ("aisc", "lark")

OPTIONS = (
    EvalOptions(),
    EvalOptions(capabilities=frozenset({CAP_MAX_UINT256, CAP_DERIVE_ATA})),
)

ROOT: dict[str, Any] = {
    "inputs": {"amount": "1.5", "n": 10, "neg": -3, "big": (1 << 255) + 7, "flag": True, "none": None,
               "addr": "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913", "s": "Hello, wörld",
               "xs": [1, 2, 3], "ss": ["a", "b"], "d": Dec(12345, 3), "empty": [], "m": {"k": "v", "n": 2}},
    "params": {"amount": "2.25", "token": {"address": "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913",
                                           "decimals": 6, "symbol": "USDC"},
               "recipient": None, "slippage_bps": 50},
    "ctx": {"wallet_address": "3wpYnGqceZ8DzN3guiTd9rrYkWTwTHCChBSuo6cvkXTG", "now": 1_700_000_000,
            "capabilities": ["cel:max_uint256"]},
    "nodes": {"q": {"outputs": {"amount_out": 123456789, "path": ["0x01", "0x02"], "ok": True}}},
    "query": {"q": {"amount_out_atomic": "1000000"}},
    "calculated": {"amount_in_atomic": 2250000},
    "contracts": {"router": "0x2626664c2603336e57b271c5c0b26f421741e481"},
    "policy": {},
}

DICTIONARY = (
    "inputs", "params", "ctx", "nodes", "query", "calculated", "outputs", ".amount", ".xs", ".m",
    "to_atomic(", "to_human(", "mul_div(", "pow(", "abs(", "min(", "max(", "floor(", "ceil(", "round(",
    "int(", "uint(", "double(", "string(", "bool(", "type(", "size(", "contains(", "startsWith(",
    "endsWith(", "matches(", "lower(", "upper(", "trim(", "exists(", "all(", "derive_ata(", "MAX_UINT256",
    " in ", "&&", "||", "==", "!=", "<=", ">=", "?", ":", "[", "]", "(", ")", ",", ".", "!", "-", "*", "/",
    "%", "+", "true", "false", "null", "\"", "'", "\\", "1.5", "0.000001", "115792089237316195423570985008687907853269984665640564039457584007913129639935",
)

_CEL_IN_YAML = re.compile(r"""cel:\s*"((?:[^"\\]|\\.)*)\"""")
_BUILTIN_SEEDS = (
    "1 + 2 * 3", "inputs.n / 4", "7 / 2", "-inputs.neg % 2", "to_atomic(inputs.amount, 6)",
    "to_human(123456789, params.token)", "mul_div(nodes.q.outputs.amount_out, 10000 - params.slippage_bps, 10000)",
    "inputs.s.startsWith('He') && size(inputs.s) > 3", "matches(inputs.s, '^H.*d$')",
    "inputs.xs[1] in inputs.xs ? 'yes' : 'no'", "inputs.m['k'] == 'v'", "pow(2, 255) + inputs.big",
    "min(1, 2.5, inputs.d) + max(inputs.xs[0], 3)", "string(inputs.d) + type(inputs.flag)",
    "round(inputs.d) + floor(1.5) + ceil(-1.5) + int('12') + uint(-5)", "exists([false, 0, '']) || all(inputs.xs)",
    "derive_ata(ctx.wallet_address, ctx.wallet_address)", "MAX_UINT256 - 1", "trim('  a ').upper()",
    "ctx.now + 600 > 0", "params.recipient != null ? params.recipient : ctx.wallet_address",
    "query['q'].amount_out_atomic", "double('1.25') * 4", "bool('true') == true", "[1, [2, [3]]][1][1][0]",
)


def seeds() -> Iterator[bytes]:
    """Expressions from the bundled examples and CEL conformance vectors, plus a built-in list."""
    import aisc

    data = Path(aisc.__file__).parent / "data"
    found: set[str] = set(_BUILTIN_SEEDS)
    for p in sorted(data.rglob("*.yaml")):
        for m in _CEL_IN_YAML.finditer(p.read_text(encoding="utf-8")):
            found.add(m.group(1).encode().decode("unicode_escape"))
    for p in sorted(data.rglob("*.json")):
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except ValueError:
            continue
        for case in doc.get("cases", []) if isinstance(doc, dict) else []:
            expr = (case.get("input") or {}).get("expression") if isinstance(case, dict) else None
            if isinstance(expr, str):
                found.add(expr)
    for i, e in enumerate(sorted(found)):
        yield bytes([i % 2]) + e.encode()


def test_one(data: bytes) -> None:
    if not data:
        return
    options = OPTIONS[data[0] % len(OPTIONS)]
    text = text_of(data[1:])
    try:
        fn = compile_cel(text, options)
    except CelSyntaxError as e:
        _check_offsets(e, text)
        return
    except CelError:
        return
    results = []
    for _ in range(2):
        try:
            results.append(("ok", fn(ROOT)))
        except CelError as e:
            _check_offsets(e, text)
            results.append(("err", str(e)))
    kind, value = results[0]
    if kind == "ok":
        check_value_model(value)
    if results[0] != results[1]:
        raise OracleViolation(f"two evaluations of {text!r} differ: {results[0]!r} vs {results[1]!r}")
    again = compile_cel(text, options)
    if again is not fn:
        raise OracleViolation("the compile cache returned a different function for the same text")


def _check_offsets(e: CelError, text: str) -> None:
    if e.start is None:
        return
    end = e.end if e.end is not None else e.start
    if not (0 <= e.start <= end <= len(text)):
        raise OracleViolation(f"{type(e).__name__} offsets {e.start}..{e.end} outside the text (len {len(text)}): {e}")
