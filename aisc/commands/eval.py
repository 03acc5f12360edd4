"""``aisc eval EXPR``: evaluate one AIS CEL expression against a context."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HELP = "evaluate one AIS CEL expression against a context"
DESCRIPTION = """\
Evaluate one AIS CEL expression and print its value.

The context is a JSON or YAML mapping whose top-level keys are the identifiers the expression can
use (for a runtime-like context: inputs, params, ctx, query, contracts, calculated, policy, nodes).
Numbers are exact: JSON/YAML numbers with a fraction become exact decimals, never floats.
"""
EPILOG = """\
examples:
  aisc eval 'to_atomic("1.23", 6)'                      -> 1230000
  aisc eval 'mul_div(inputs.amount, 9950, 10000)' --context '{"inputs": {"amount": "1000000"}}'
  aisc eval 'MAX_UINT256' --capability cel:max_uint256
  aisc eval '7 / 2' --format text                       -> 3.5

output (--format json, the default): the value as JSON; integers beyond 2^53-1 and decimals are
written as strings so no JSON reader rounds them. On error: the message, the expression and a caret
under the offending characters on stderr, exit status 1.
"""

_MAX_SAFE = 2**53 - 1


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("expr", metavar="EXPR", help="the expression (quote it for your shell)")
    p.add_argument(
        "--context",
        "-c",
        metavar="FILE|JSON",
        help="a JSON/YAML file, or inline JSON starting with '{', holding the identifiers",
    )
    p.add_argument(
        "--capability",
        action="append",
        default=[],
        metavar="CAP",
        help="enable an engine capability (cel:max_uint256, cel_builtin:derive_ata); repeatable",
    )
    p.add_argument("--format", choices=("json", "text"), default="json", help="output format (default: json)")


def run(args: argparse.Namespace) -> int:
    from aisc import exitcodes

    try:
        context = _load_context(args.context)
    except ValueError as e:
        print(f"aisc eval: {e}", file=sys.stderr)
        return exitcodes.USAGE

    from aisc.eval import CelError, EvalOptions, evaluate_cel

    options = EvalOptions(capabilities=frozenset(args.capability))
    try:
        value = evaluate_cel(args.expr, context, options)
    except CelError as e:
        kind = "syntax" if type(e).__name__ == "CelSyntaxError" else "eval"
        if args.format == "json":
            err = {"error": {"kind": kind, "message": e.message, "start": e.start, "end": e.end}}
            print(json.dumps(err, ensure_ascii=False))
        print(render_error(args.expr, e.message, e.start, e.end, kind), file=sys.stderr)
        return exitcodes.FAILED
    try:
        out = format_value(value, args.format)
    except ValueError as e:
        print(f"aisc eval: the result cannot be printed: {e}", file=sys.stderr)
        return exitcodes.FAILED
    print(out)
    return exitcodes.OK


def render_error(expr: str, message: str, start: int | None, end: int | None, kind: str = "eval") -> str:
    """``error: message``, the expression, and a caret line under ``expr[start:end]``."""
    head = f"{'syntax error' if kind == 'syntax' else 'error'}: {message}"
    if start is None or "\n" in expr:
        if start is not None:
            line = expr.count("\n", 0, start) + 1
            col = start - (expr.rfind("\n", 0, start) + 1) + 1
            head += f" (line {line}, column {col} of the expression)"
        return f"{head}\n  {expr}" if "\n" not in expr else head
    end = start + 1 if end is None or end <= start else end
    width = max(1, min(end, len(expr) + 1) - start)
    return f"{head}\n  {expr}\n  {' ' * start}^{'~' * (width - 1)}"


def _json_safe(v: Any) -> Any:
    from aisc.numeric import Dec, format_decimal

    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, int):
        return str(v) if abs(v) > _MAX_SAFE else v
    if isinstance(v, Dec):
        return format_decimal(v)
    if isinstance(v, Mapping):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_safe(x) for x in v]
    if isinstance(v, bytes | bytearray):
        return "0x" + bytes(v).hex()
    raise ValueError(f"{type(v).__name__} value")


def format_value(v: Any, fmt: str) -> str:
    from aisc.numeric import Dec, format_decimal

    if fmt == "text":
        if isinstance(v, str):
            return v
        if isinstance(v, bool) or v is None:
            return json.dumps(v)
        if isinstance(v, int | Dec):
            return format_decimal(v)
    return json.dumps(_json_safe(v), ensure_ascii=False)


def _load_context(arg: str | None) -> Mapping[str, Any]:
    if arg is None:
        return {}
    stripped = arg.lstrip()
    if stripped.startswith("{"):
        return _as_mapping(_load_json(arg, "--context"), "--context")
    path = Path(arg)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"cannot read context file {arg}: {e.strerror or e}") from None
    if path.suffix.lower() == ".json":
        data = _load_json(text, arg)
    else:
        data = load_yaml(text, arg)
    return _as_mapping(data, arg)


def _as_mapping(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: the context must be a mapping of identifiers to values")
    return data


def _load_json(text: str, where: str) -> Any:
    from aisc.aisjson import AisJsonError, loads

    try:
        return loads(text)
    except AisJsonError as e:
        raise ValueError(f"{where}: {e}") from None


def load_yaml(text: str, where: str) -> Any:
    """YAML 1.2 through aisc's own reader: duplicate keys rejected, fractions exact decimals."""
    from aisc.frontend import parse_data

    node, diags = parse_data(text, where if where.endswith((".yaml", ".yml")) else f"{where}.yaml")
    errors = [d for d in diags if d.is_error]
    if errors:
        loc = f"{errors[0].span}: " if errors[0].span else f"{where}: "
        raise ValueError(f"{loc}invalid YAML: {errors[0].message}")
    return None if node is None else node.value  # type: ignore[attr-defined]
