"""Typed validation of user-supplied values (workflow ``inputs``, action/query ``params``) against AIS types.

Usable by the runtime without the front end: it works on plain JSON-like data (``int``, ``Dec``,
``str``, ``bool``, ``None``, ``list``, ``dict``) and on declarations given either as front-end IR
(:class:`aisc.ir.workflow.WorkflowInput`, :class:`aisc.ir.protocol.Param`) or as plain mappings (the
form a plan carries in ``extensions.aisc.inputs``, see docs/inputs.md).

Entry points:

- :func:`validate_value` — one value against one type (R110–R114); returns :class:`ValueProblem`\\ s.
- :func:`validate_inputs` — a workflow's declared inputs against the given inputs object.
- :func:`validate_params` — an action's or query's declared params against the given params object.
- :func:`input_declarations` — the plain ``{name: {type, required?, default?, constraints?}}`` form
  of a workflow's ``inputs`` (what the compiler records in the plan).
- :func:`plan_input_declarations` — that form read back from a plan, with each input's chain family
  (inferred from the nodes that bind it).
- :func:`apply_defaults` — the given values plus the declared defaults of the missing ones.
- :func:`normalize_value` / :func:`normalize_inputs` — (validated) values in their run-time form:
  ``intN``/``uintN`` IntegerStrings become ``int`` so CEL compares them with integers.

Every problem has a stable code ``AISC-INPUT-NNN`` (table in docs/inputs.md).

May import: aisc.ir, aisc.diagnostics, aisc.numeric, aisc.addresses, aisc.safe_regex.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from aisc import safe_regex
from aisc.addresses import is_checksum_address, is_evm_address, is_solana_address
from aisc.diagnostics import Diagnostic, Severity, Span
from aisc.ir.chains import chain_namespace, is_caip2
from aisc.ir.types import (
    AisType,
    ArrayType,
    FixedBytes,
    IntType,
    Simple,
    TupleType,
    TypeParseError,
    format_type,
    parse_type,
)
from aisc.numeric import DECIMAL_STRING, INTEGER_STRING, Dec, Number, compare, format_decimal, is_int, parts
from aisc.reprs import install_reprs

ChainFamily = Literal["evm", "solana"]

__all__ = [
    "CODES",
    "ChainFamily",
    "ValueProblem",
    "apply_defaults",
    "chain_family_of",
    "input_declarations",
    "normalize_inputs",
    "normalize_value",
    "plan_input_declarations",
    "validate_inputs",
    "validate_params",
    "validate_value",
]

# code -> one-line meaning (docs/inputs.md carries the same table; a unit test compares them)
CODES: dict[str, str] = {
    "AISC-INPUT-001": "a required input/param is missing",
    "AISC-INPUT-002": "an input/param that is not declared",
    "AISC-INPUT-003": "wrong kind of value (string, number, object, list expected)",
    "AISC-INPUT-004": "bool expected",
    "AISC-INPUT-005": "integer expected (int or IntegerString; never bool, float or decimal)",
    "AISC-INPUT-006": "integer outside the range of its intN/uintN type",
    "AISC-INPUT-007": "malformed address for the chain family",
    "AISC-INPUT-008": "EVM address with a wrong EIP-55 checksum",
    "AISC-INPUT-009": "bytes: not 0x-prefixed hex with an even number of digits",
    "AISC-INPUT-010": "bytesN: wrong length",
    "AISC-INPUT-011": "token_amount: not a non-negative DecimalString",
    "AISC-INPUT-012": "token_amount: more fractional digits than the asset's decimals",
    "AISC-INPUT-013": "asset: missing or unknown field",
    "AISC-INPUT-014": "asset: chain_id is not a CAIP-2 chain id",
    "AISC-INPUT-015": "asset: decimals is not an integer in 0..77",
    "AISC-INPUT-016": "tuple: wrong number of items",
    "AISC-INPUT-017": "float: not a DecimalString",
    "AISC-INPUT-018": "below the declared minimum",
    "AISC-INPUT-019": "above the declared maximum",
    "AISC-INPUT-020": "not one of the declared enum values",
    "AISC-INPUT-021": "does not match the declared pattern",
    "AISC-INPUT-022": "the declared type is not an AIS type (value not checked)",
    "AISC-INPUT-023": "the declared constraint is unusable (bad number or regex)",
    "AISC-INPUT-024": "the inputs/params value is not an object",
}

_ASSET_KEYS = ("chain_id", "address", "symbol", "decimals")
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_MAX_SHOWN = 60


@attrs.frozen(slots=True, repr=False)
class ValueProblem:
    """One problem with a value. ``path`` is the ``$``-path of the offending value."""

    code: str
    path: str
    message: str
    hint: str
    severity: Severity = "error"


# ---------------------------------------------------------------------------------- helpers


def _show(value: Any) -> str:
    """A short, unambiguous rendering of a value for messages (JSON-like, truncated)."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, Dec):
        text = format_decimal(value)
    elif isinstance(value, float):
        text = f"{value!r} (binary float)"
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, Mapping):
        text = "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
    else:
        text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a bool"
    if is_int(value):
        return "an integer"
    if isinstance(value, Dec):
        return "a decimal number"
    if isinstance(value, float):
        return "a binary float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _key(path: str, key: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}"
    esc = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{path}["{esc}"]'


def chain_family_of(chain: str | None) -> ChainFamily | None:
    """``"evm"`` for ``eip155:*``, ``"solana"`` for ``solana:*``, else None."""
    if not isinstance(chain, str):
        return None
    ns = chain_namespace(chain)
    return "evm" if ns == "eip155" else "solana" if ns == "solana" else None


class _Checker:
    def __init__(self, family: ChainFamily | None, asset_decimals: int | None) -> None:
        self.family = family
        self.asset_decimals = asset_decimals
        self.out: list[ValueProblem] = []

    def add(self, code: str, path: str, expected: str, value: Any, why: str, hint: str) -> None:
        self.out.append(ValueProblem(code, path, f"expected {expected}, got {_show(value)}: {why}", hint))

    # -- dispatch

    def check(self, t: AisType, value: Any, path: str) -> None:
        if isinstance(t, Simple):
            getattr(self, f"_{t.name}")(value, path)
        elif isinstance(t, IntType):
            self._int(t, value, path)
        elif isinstance(t, FixedBytes):
            self._bytes_n(t, value, path)
        elif isinstance(t, ArrayType):
            self._array(t, value, path)
        else:
            self._tuple(t, value, path)

    # -- scalars

    def _string(self, value: Any, path: str) -> None:
        if not isinstance(value, str):
            self.add("AISC-INPUT-003", path, "string", value, f"{_kind(value)} is not a string",
                     "quote the value")

    def _bool(self, value: Any, path: str) -> None:
        if not isinstance(value, bool):
            self.add("AISC-INPUT-004", path, "bool", value, f"{_kind(value)} is not a bool",
                     "write true or false (unquoted in YAML, a JSON boolean)")

    def _address(self, value: Any, path: str, family: ChainFamily | None = None, what: str = "address") -> None:
        fam = family or self.family
        expected = f"{what} ({fam})" if fam else what
        if not isinstance(value, str):
            self.add("AISC-INPUT-003", path, expected, value, f"{_kind(value)} is not an address string",
                     "write the address as a quoted string")
            return
        evm_shape = is_evm_address(value)
        if fam in (None, "evm") and evm_shape:
            body = value[2:]
            if body != body.lower() and body != body.upper() and not is_checksum_address(value):
                self.add("AISC-INPUT-008", path, expected, value, "mixed-case EVM address with a wrong EIP-55 checksum",
                         "copy the address again from a trusted source, or write it all in lower case")
            return
        if fam in (None, "solana") and is_solana_address(value):
            return
        if fam == "evm":
            why = "not 0x followed by 40 hex digits"
            hint = "an EVM address is 0x + 40 hex digits (20 bytes)"
        elif fam == "solana":
            why = "not a base58 string of 32 bytes" + (" (this looks like an EVM address)" if evm_shape else "")
            hint = "a Solana address is a base58 public key (32 bytes, 32-44 characters)"
        else:
            why = "neither an EVM address (0x + 40 hex digits) nor a Solana base58 public key"
            hint = "check the address for the chain it is used on"
        self.add("AISC-INPUT-007", path, expected, value, why, hint)

    def _bytes(self, value: Any, path: str) -> None:
        self._hex(value, path, "bytes")

    def _hex(self, value: Any, path: str, expected: str) -> int | None:
        if not isinstance(value, str):
            self.add("AISC-INPUT-009", path, expected, value, f"{_kind(value)} is not a hex string",
                     'write bytes as a quoted 0x-prefixed hex string, e.g. "0x01ab"')
            return None
        if not _HEX.fullmatch(value):
            if not value.startswith("0x"):
                why = "missing the 0x prefix"
            elif len(value) % 2:
                why = "odd number of hex digits"
            else:
                why = "non-hex characters"
            self.add("AISC-INPUT-009", path, expected, value, why,
                     "write bytes as 0x followed by two hex digits per byte")
            return None
        return (len(value) - 2) // 2

    def _bytes_n(self, t: FixedBytes, value: Any, path: str) -> None:
        expected = format_type(t)
        n = self._hex(value, path, expected)
        if n is not None and n != t.size:
            self.add("AISC-INPUT-010", path, expected, value, f"{n} bytes instead of {t.size}",
                     f"give exactly {t.size} bytes ({2 * t.size} hex digits after 0x)")

    def _int(self, t: IntType, value: Any, path: str) -> int | None:
        expected = format_type(t)
        v: int | None = None
        if is_int(value) or (isinstance(value, str) and INTEGER_STRING.match(value)):
            v = int(value)
        if v is None:
            if isinstance(value, str):
                why = "not an IntegerString (digits with an optional leading '-'; no '+', exponent, '.' or spaces)"
            else:
                why = f"{_kind(value)} is not an integer"
            self.add("AISC-INPUT-005", path, expected, value, why,
                     'write integers as decimal digits, preferably quoted, e.g. "1000000" (R117)')
            return None
        lo, hi = (-(1 << (t.bits - 1)), (1 << (t.bits - 1)) - 1) if t.signed else (0, (1 << t.bits) - 1)
        if not lo <= v <= hi:
            self.add("AISC-INPUT-006", path, expected, value, f"outside {expected}'s range {lo}..{hi}",
                     f"give an integer between {lo} and {hi}")
            return None
        return v

    def _token_amount(self, value: Any, path: str) -> None:
        expected = "token_amount"
        if not isinstance(value, str) or not DECIMAL_STRING.match(value) or value.startswith("-"):
            if isinstance(value, str):
                why = "not a non-negative DecimalString (no sign, exponent or spaces; digits on both sides of '.')"
            else:
                why = f"{_kind(value)} is not a DecimalString"
            self.add("AISC-INPUT-011", path, expected, value, why,
                     'write token amounts as quoted human-unit decimals, e.g. "1.5" (R113)')
            return
        dec = self.asset_decimals
        if dec is not None:
            scale = parts(_dec_value(value))[1]
            if scale > dec:
                self.add("AISC-INPUT-012", path, f"token_amount with at most {dec} fractional digits", value,
                         f"{scale} fractional digits, but the asset has {dec} decimals (no rounding, R122)",
                         f"round the amount to {dec} decimal places yourself")

    def _float(self, value: Any, path: str) -> None:
        if not isinstance(value, str) or not DECIMAL_STRING.match(value):
            self.add("AISC-INPUT-017", path, "float (as a DecimalString)", value,
                     "aisc accepts float values only as DecimalStrings, never as binary floats",
                     'quote the number, e.g. "0.5" (R111: avoid float for amounts)')

    def _asset(self, value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            self.add("AISC-INPUT-003", path, "asset", value, f"{_kind(value)} is not an asset object",
                     "give {chain_id, address, symbol?, decimals?} (R112)")
            return
        unknown = sorted(str(k) for k in value if k not in _ASSET_KEYS)
        for k in unknown:
            self.add("AISC-INPUT-013", _key(path, k), "asset", value, f"unknown field {k!r}",
                     "an asset has only chain_id, address, symbol and decimals (R112)")
        for k in ("chain_id", "address"):
            if k not in value:
                self.add("AISC-INPUT-013", path, "asset", value, f"missing {k!r}",
                         "an asset needs chain_id (CAIP-2) and address (R112)")
        chain = value.get("chain_id")
        family: ChainFamily | None = None
        if "chain_id" in value:
            if not isinstance(chain, str) or not is_caip2(chain):
                self.add("AISC-INPUT-014", _key(path, "chain_id"), "CAIP-2 chain id", chain,
                         "not a CAIP-2 chain id", 'write e.g. "eip155:1" or "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"')
            else:
                family = chain_family_of(chain)
        if "address" in value:
            addr = value.get("address")
            if family is not None or chain is None or not isinstance(chain, str) or not is_caip2(chain):
                self._address(addr, _key(path, "address"), family, "asset address")
            elif not isinstance(addr, str) or not addr:
                self.add("AISC-INPUT-007", _key(path, "address"), "asset address", addr,
                         "not a non-empty string", "write the token address as a string")
        if "symbol" in value and not isinstance(value["symbol"], str):
            self.add("AISC-INPUT-003", _key(path, "symbol"), "string", value["symbol"],
                     f"{_kind(value['symbol'])} is not a string", "quote the symbol")
        if "decimals" in value:
            d = value["decimals"]
            if isinstance(d, str) and INTEGER_STRING.match(d):
                d = int(d)
            if not is_int(d) or not 0 <= d <= 77:
                self.add("AISC-INPUT-015", _key(path, "decimals"), "integer 0..77", value["decimals"],
                         "not an integer in 0..77 (R123)", "give the token's decimals, e.g. 6 or 18")

    # -- containers

    def _array(self, t: ArrayType, value: Any, path: str) -> None:
        if not isinstance(value, list | tuple):
            self.add("AISC-INPUT-003", path, format_type(t), value, f"{_kind(value)} is not a list",
                     "give a list, e.g. [a, b]")
            return
        for i, item in enumerate(value):
            self.check(t.item, item, f"{path}[{i}]")

    def _tuple(self, t: TupleType, value: Any, path: str) -> None:
        expected = format_type(t)
        if not isinstance(value, list | tuple):
            self.add("AISC-INPUT-003", path, expected, value, f"{_kind(value)} is not a list",
                     f"give a list of {len(t.items)} items")
            return
        if len(value) != len(t.items):
            self.add("AISC-INPUT-016", path, expected, value, f"{len(value)} items instead of {len(t.items)}",
                     f"give exactly {len(t.items)} items, in the declared order")
            return
        for i, (it, item) in enumerate(zip(t.items, value, strict=True)):
            self.check(it, item, f"{path}[{i}]")


def _dec_value(text: str) -> Number:
    if "." in text:
        ip, fp = text.lstrip("-").split(".", 1)
        m = int(ip + fp)
        from aisc.numeric import make_decimal

        return make_decimal(-m if text.startswith("-") else m, len(fp))
    return int(text)


def _as_type(type_str_or_ast: str | AisType) -> AisType:
    return parse_type(type_str_or_ast) if isinstance(type_str_or_ast, str) else type_str_or_ast


# ---------------------------------------------------------------------------------- constraints


def _number_of(t: AisType, value: Any) -> Number | None:
    """The exact number a (type-checked) value stands for, when its type is numeric."""
    if isinstance(t, IntType):
        return int(value) if is_int(value) or isinstance(value, str) else None
    if isinstance(t, Simple) and t.name in ("token_amount", "float") and isinstance(value, str):
        return _dec_value(value)
    return None


def _constraint_number(raw: Any) -> Number | None:
    if is_int(raw) or isinstance(raw, Dec):
        return raw  # type: ignore[no-any-return]
    if isinstance(raw, str) and DECIMAL_STRING.match(raw):
        return _dec_value(raw)
    return None


def _same(t: AisType, a: Any, b: Any) -> bool:
    """Enum equality: numbers by exact value, EVM addresses ignoring case, everything else exactly."""
    na = _number_of(t, a)
    nb = _constraint_number(b) if na is not None else None
    if na is not None and nb is not None:
        return compare(na, nb) == 0
    if isinstance(t, Simple) and t.name == "address" and is_evm_address(a) and is_evm_address(b):
        return str(a).lower() == str(b).lower()
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def _constraint_get(constraints: Any, key: str) -> Any:
    if constraints is None:
        return None
    if isinstance(constraints, Mapping):
        return constraints.get(key)
    return getattr(constraints, key, None)


def _check_constraints(t: AisType, value: Any, constraints: Any, path: str, out: list[ValueProblem]) -> None:
    tname = format_type(t)
    num = _number_of(t, value)
    for key, code, sign in (("min", "AISC-INPUT-018", -1), ("max", "AISC-INPUT-019", 1)):
        raw = _constraint_get(constraints, key)
        if raw is None:
            continue
        bound = _constraint_number(raw)
        if bound is None:
            out.append(ValueProblem("AISC-INPUT-023", path, f"constraint {key} {_show(raw)} is not a number",
                                    "fix the declaration: min/max are exact numbers", "error"))
            continue
        if num is not None and compare(num, bound) == sign:
            word = "below the minimum" if sign < 0 else "above the maximum"
            out.append(ValueProblem(code, path, f"expected {tname} with {key} {format_decimal(bound)}, got "
                                    f"{_show(value)}: {word} {format_decimal(bound)}",
                                    f"give a value {'>=' if sign < 0 else '<='} {format_decimal(bound)}"))
    enum = _constraint_get(constraints, "enum")
    if enum is not None:
        items = list(enum) if isinstance(enum, list | tuple) else [enum]
        if not any(_same(t, value, e) for e in items):
            shown = ", ".join(_show(e) for e in items)
            out.append(ValueProblem("AISC-INPUT-020", path, f"expected {tname} one of [{shown}], got {_show(value)}: "
                                    "not an allowed value", f"use one of: {shown}"))
    pattern = _constraint_get(constraints, "pattern")
    if pattern is not None:
        try:
            safe_regex.compile_pattern(str(pattern))
        except safe_regex.RegexPatternError as e:
            out.append(ValueProblem("AISC-INPUT-023", path, f"constraint pattern {_show(pattern)} is not a valid "
                                    f"regular expression ({e})", "fix the declaration's pattern"))
            return
        text = value if isinstance(value, str) else format_decimal(value) if (is_int(value) or isinstance(value, Dec)) else None
        if text is None:
            return
        try:
            matched = safe_regex.search(str(pattern), text)
        except safe_regex.RegexTimeout as e:
            out.append(ValueProblem("AISC-INPUT-023", path, f"constraint pattern {_show(pattern)} is unusable: {e}",
                                    "simplify the declaration's pattern (no nested or overlapping quantifiers)"))
            return
        if not matched:
            out.append(ValueProblem("AISC-INPUT-021", path, f"expected {tname} matching /{pattern}/, got "
                                    f"{_show(value)}: does not match the pattern",
                                    "give a value that matches the declared pattern"))


# ---------------------------------------------------------------------------------- public API


def validate_value(
    type_str_or_ast: str | AisType,
    value: Any,
    *,
    chain_family: ChainFamily | None,
    path: str,
    asset_decimals: int | None = None,
    constraints: Any = None,
) -> list[ValueProblem]:
    """Check ``value`` against an AIS type (R110–R114); an empty list means valid.

    ``chain_family`` selects the address rule (``None`` accepts either family). ``asset_decimals``
    bounds the fractional digits of a ``token_amount``. ``constraints`` (a mapping or
    :class:`~aisc.ir.protocol.ParamConstraints` with ``min``/``max``/``enum``/``pattern``) is checked
    only when the value has the right type. An unparsable type string gives one AISC-INPUT-022
    warning and no check.
    """
    try:
        t = _as_type(type_str_or_ast)
    except TypeParseError as e:
        return [ValueProblem("AISC-INPUT-022", path, f"cannot check the value: {e}",
                             "declare an AIS type (R110)", "warning")]
    c = _Checker(chain_family, asset_decimals)
    c.check(t, value, path)
    if not c.out and constraints is not None:
        _check_constraints(t, value, constraints, path, c.out)
    return c.out


@attrs.frozen(slots=True, repr=False)
class _Decl:
    name: str
    type: str
    required: bool
    has_default: bool
    default: Any
    constraints: Any
    asset_ref: str | None
    chain_family: ChainFamily | None


def _decl(name: str, d: Any, family: ChainFamily | None) -> _Decl:
    if isinstance(d, Mapping):
        get = d.get
        has_default = "default" in d
    else:
        def get(k: str, default: Any = None) -> Any:
            return getattr(d, k, default)

        has_default = bool(getattr(d, "has_default", False))
    fam = get("chain_family") or family
    return _Decl(name=name, type=str(get("type", "")), required=get("required") is True,
                 has_default=has_default, default=get("default"), constraints=get("constraints"),
                 asset_ref=get("asset_ref"), chain_family=fam if fam in ("evm", "solana") else None)


def input_declarations(inputs: Any) -> dict[str, dict[str, Any]]:
    """The plain form of a workflow's ``inputs`` (raw mapping or IR) for ``plan.extensions.aisc.inputs``.

    ``{name: {"type": str, "required"?: bool, "default"?: any, "constraints"?: {...}}}``, names sorted.
    """
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(inputs, dict | Mapping):
        return out
    for name in sorted(inputs):
        raw = inputs[name]
        if type(raw) is dict:  # the front end's plain data, read as _decl reads it (without building one)
            entry: dict[str, Any] = {"type": str(raw.get("type", ""))}
            if raw.get("required") is True:
                entry["required"] = True
            if "default" in raw:
                entry["default"] = raw["default"]
            c = raw.get("constraints")
        else:
            d = _decl(str(name), raw, None)
            entry = {"type": d.type}
            if d.required:
                entry["required"] = True
            if d.has_default:
                entry["default"] = d.default
            c = d.constraints
        if c is not None:
            cm = dict(c) if isinstance(c, dict | Mapping) else {
                k: getattr(c, k) for k in ("min", "max", "enum", "pattern") if getattr(c, k, None) is not None}
            cm = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cm.items() if v is not None}
            if cm:
                entry["constraints"] = cm
        out[str(name)] = entry
    return out


_INPUT_REF = re.compile(r"^inputs\.([A-Za-z_][A-Za-z0-9_]*)")


def plan_input_declarations(plan: Any) -> dict[str, dict[str, Any]] | None:
    """The declared inputs a plan (JSON or :class:`~aisc.ir.plan.Plan`) carries in ``extensions.aisc.inputs``.

    None when the plan has none (e.g. a plan made by another AIS implementation).

    Each entry gets ``chain_family`` when every node that binds the input directly
    (``bindings.params.X = {ref: "inputs.NAME"}``) runs on chains of one family.
    """
    if not isinstance(plan, Mapping):
        from aisc.ir.plan import Plan, plan_to_json

        if not isinstance(plan, Plan):
            return None
        plan = plan_to_json(plan)
    ext = plan.get("extensions")
    aisc_ext = ext.get("aisc") if isinstance(ext, Mapping) else None
    decls = aisc_ext.get("inputs") if isinstance(aisc_ext, Mapping) else None
    if not isinstance(decls, Mapping):
        return None
    families: dict[str, set[str | None]] = {}
    nodes = plan.get("nodes")
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, Mapping):
            continue
        fam = chain_family_of(node.get("chain"))
        bindings = node.get("bindings")
        params = bindings.get("params") if isinstance(bindings, Mapping) else None
        for vr in params.values() if isinstance(params, Mapping) else ():
            ref = vr.get("ref") if isinstance(vr, Mapping) else None
            m = _INPUT_REF.match(ref) if isinstance(ref, str) else None
            if m and ref == f"inputs.{m.group(1)}":
                families.setdefault(m.group(1), set()).add(fam)
    out: dict[str, dict[str, Any]] = {}
    for name, d in decls.items():
        entry = dict(d) if isinstance(d, Mapping) else {"type": str(d)}
        fams = families.get(str(name), set())
        if len(fams) == 1 and None not in fams and "chain_family" not in entry:
            entry["chain_family"] = next(iter(fams))
        out[str(name)] = entry
    return out


def _to_diag(p: ValueProblem, what: str, spans: Mapping[str, Span] | None, root_span: Span | None) -> Diagnostic:
    span = None
    if spans:
        probe = p.path
        while probe:
            if probe in spans:
                span = spans[probe]
                break
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
    return Diagnostic(code=p.code, message=f"{what}: {p.message}", severity=p.severity, path=p.path,
                      span=span or root_span, hint=p.hint)


def _validate_named(
    decls: list[_Decl],
    given: Any,
    *,
    noun: str,
    owner: str,
    source_spans: Mapping[str, Span] | None,
    root: str,
    allow_unknown: bool,
) -> list[Diagnostic]:
    root_span = source_spans.get(root) if source_spans else None
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        return [Diagnostic("AISC-INPUT-024", f"{noun}s{owner} must be an object mapping names to values, got "
                           f"{_kind(given)}", path=root, span=root_span, hint='write {"name": value, ...}')]
    out: list[Diagnostic] = []
    by_name = {d.name: d for d in decls}
    values = dict(given)
    for name in sorted(str(k) for k in values if k not in by_name):
        if allow_unknown:
            continue
        declared = ", ".join(sorted(by_name)) or "none"
        p = ValueProblem("AISC-INPUT-002", _key(root, name), f"not declared{owner}",
                         f"declared {noun}s: {declared}")
        out.append(_to_diag(p, f'{noun} "{name}"', source_spans, root_span))
    # asset values (given or defaulted) for token_amount asset_ref lookups
    for d in decls:
        what = f'{noun} "{d.name}"{owner}'
        path = _key(root, d.name)
        if d.name in values:
            value, shown_what = values[d.name], what
        elif d.has_default:
            value, shown_what = d.default, f"{what} (declared default)"
        else:
            if d.required:
                p = ValueProblem("AISC-INPUT-001", path, f"missing (required, type {d.type})",
                                 f"give {d.name} a value of type {d.type}")
                out.append(_to_diag(p, what, source_spans, root_span))
            continue
        decimals = None
        if d.asset_ref is not None:
            asset = values.get(d.asset_ref, by_name[d.asset_ref].default if d.asset_ref in by_name else None)
            if isinstance(asset, Mapping):
                raw = asset.get("decimals")
                if isinstance(raw, str) and INTEGER_STRING.match(raw):
                    raw = int(raw)
                if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 77:
                    decimals = raw
        for p in validate_value(d.type, value, chain_family=d.chain_family, path=path,
                                asset_decimals=decimals, constraints=d.constraints):
            out.append(_to_diag(p, shown_what, source_spans, root_span))
    return out


def validate_inputs(
    declared_inputs: Any,
    given: Any,
    *,
    source_spans: Mapping[str, Span] | None = None,
    chain_family: ChainFamily | None = None,
    root: str = "$",
    allow_unknown: bool = False,
) -> list[Diagnostic]:
    """Check the given workflow inputs against their declarations; an empty list means valid.

    ``declared_inputs`` is the workflow's ``inputs`` (IR :class:`WorkflowInput`\\ s or raw mappings)
    or the plan's ``extensions.aisc.inputs`` (from :func:`plan_input_declarations`, whose per-input
    ``chain_family`` wins over ``chain_family``). ``given`` is the ``--inputs`` object. Paths are
    ``$``-paths inside that object (``$.amount``, ``$.route[1]``); ``source_spans`` maps them to
    spans in the ``--inputs`` file (missing paths fall back to their nearest ancestor, then ``root``).
    Missing inputs with a declared default take the default (which is checked too); a missing
    input is an error only when declared ``required: true``.
    """
    decls = [_decl(str(n), d, chain_family) for n, d in (declared_inputs or {}).items()]
    return _validate_named(decls, given, noun="input", owner="", source_spans=source_spans, root=root,
                           allow_unknown=allow_unknown)


def validate_params(
    declared_params: Sequence[Any],
    given: Any,
    *,
    owner: str | None = None,
    chain_family: ChainFamily | None = None,
    source_spans: Mapping[str, Span] | None = None,
    root: str = "$",
    allow_unknown: bool = False,
) -> list[Diagnostic]:
    """Check action/query params (``Param`` IR or ``{name, type, ...}`` mappings) like :func:`validate_inputs`.

    ``owner`` names the action or query in messages (``"uniswap-v3@0.0.2/swap"``). A ``token_amount``
    param's fractional digits are bounded by the ``decimals`` of the asset its ``asset_ref`` names.
    """
    decls: list[_Decl] = []
    for p in declared_params or ():
        name = p.get("name") if isinstance(p, Mapping) else getattr(p, "name", None)
        decls.append(_decl(str(name), p, chain_family))
    return _validate_named(decls, given, noun="param", owner=f" of {owner}" if owner else "",
                           source_spans=source_spans, root=root, allow_unknown=allow_unknown)


def apply_defaults(declared: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` plus the declared default of every missing input/param that has one."""
    out = dict(given)
    items = declared.items() if isinstance(declared, Mapping) else (
        ((p.get("name") if isinstance(p, Mapping) else getattr(p, "name", None)), p) for p in declared or ())
    for name, d in items:
        decl = _decl(str(name), d, None)
        if decl.name not in out and decl.has_default:
            out[decl.name] = decl.default
    return out


# ---------------------------------------------------------------------------------- normalization


def normalize_value(type_str_or_ast: str | AisType, value: Any) -> Any:
    """The run-time form of a value of an AIS type (the value is not validated here).

    ``intN``/``uintN``: an IntegerString becomes an ``int`` (an int stays; a bool is never an int);
    ``asset``: an IntegerString ``decimals`` becomes an ``int``; ``array<T>``/``tuple<...>``: item by
    item. Everything else is returned as is: ``token_amount`` and ``float`` stay DecimalStrings
    (exact; ``to_atomic`` converts them), ``bool`` stays a bool, addresses and bytes stay strings. A
    value that does not fit its type (or an unknown type) is returned unchanged, so validation, not
    normalization, reports it.
    """
    try:
        t = _as_type(type_str_or_ast)
    except TypeParseError:
        return value
    return _normalize(t, value)


def _normalize(t: AisType, value: Any) -> Any:
    if isinstance(t, IntType):
        if isinstance(value, str) and INTEGER_STRING.match(value):
            return int(value)
        return value
    if isinstance(t, ArrayType):
        return [_normalize(t.item, v) for v in value] if isinstance(value, list) else value
    if isinstance(t, TupleType):
        if isinstance(value, list) and len(value) == len(t.items):
            return [_normalize(it, v) for it, v in zip(t.items, value, strict=True)]
        return value
    if isinstance(t, Simple) and t.name == "asset" and isinstance(value, Mapping):
        dec = value.get("decimals")
        if isinstance(dec, str) and INTEGER_STRING.match(dec):
            return {**value, "decimals": int(dec)}
        return dict(value)
    return value


def normalize_inputs(declared: Any, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The inputs a run starts with: ``given`` plus the declared defaults of missing inputs, each
    value normalized by its declared type (:func:`normalize_value`).

    ``declared`` is the plan's ``extensions.aisc.inputs`` (or a workflow's ``inputs``); without
    declarations (a plan from another AIS implementation) ``given`` is returned as a plain copy.
    Undeclared names are kept unchanged (validation reports them before a run).
    """
    out = apply_defaults(declared, dict(given or {})) if isinstance(declared, Mapping) else dict(given or {})
    if not isinstance(declared, Mapping):
        return out
    for name, d in declared.items():
        key = str(name)
        if key in out:
            decl = _decl(key, d, None)
            if decl.type:
                out[key] = normalize_value(decl.type, out[key])
    return out


install_reprs(__name__)
