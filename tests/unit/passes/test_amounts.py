"""One format for pack amount limits and multipliers, shared by the compiler and the runtime
(aisc.ir.amounts; docs/runtime.md "Amount limits"). R083 (§7.6 gaps), R272 (base-unit amounts)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from aisc.ir import amounts
from aisc.numeric import Dec
from aisc.runtime import policy as gate

from .conftest import ASSET, PACK, SPENDER, TOKEN, Result, deep, lit_asset, node, workflow

# ------------------------------------------------------------------ the parser (aisc.ir.amounts)

GOOD = [
    ("1000000", 1000000, True, None),
    ("0", 0, True, None),
    ("1.5", Dec(15, 1), False, None),
    ("1.0", 1, False, None),  # a fraction written out: token units, not base units
    ("1000 USDC", 1000, False, "USDC"),
    ("0.25 USDC.e", Dec(25, 2), False, "USDC.e"),
]


@pytest.mark.parametrize(("raw", "value", "base_units", "symbol"), GOOD, ids=[g[0] for g in GOOD])
def test_r083_parse_amount_limit(raw: str, value: Any, base_units: bool, symbol: str | None) -> None:
    lim = amounts.parse_amount_limit(raw)
    assert (lim.value, lim.base_units, lim.symbol) == (value, base_units, symbol)


BAD = [
    ("-1", "not a non-negative decimal number"),
    ("1e6", "not a non-negative decimal number"),
    (".5", "not a non-negative decimal number"),
    ("1.", "not a non-negative decimal number"),
    (" 5", "is not '<amount>' or '<amount> <SYMBOL>'"),
    ("5 USDC extra", "is not '<amount>' or '<amount> <SYMBOL>'"),
    ("5  USDC", "is not a token symbol"),
    ("5 $USD", "is not a token symbol"),
    ("", "is not '<amount>' or '<amount> <SYMBOL>'"),
    (True, "is a boolean"),
    (Dec(15, 1), "is not a string"),
    (-3, "is negative"),
]


@pytest.mark.parametrize(("raw", "fragment"), BAD, ids=[repr(b[0]) for b in BAD])
def test_r083_parse_amount_limit_rejects(raw: Any, fragment: str) -> None:
    with pytest.raises(amounts.AmountFormatError) as ei:
        amounts.parse_amount_limit(raw)
    assert fragment in ei.value.message


ALLOW = [{"chain": "eip155:1", "symbol": "USDC", "address": TOKEN, "decimals": 6},
         {"chain": "eip155:8453", "symbol": "USDC", "address": "0x" + "83" * 20, "decimals": 18}]

RESOLVE = [
    ("base-units", "1000", TOKEN, None, (True, 1000, None)),
    ("token-units-from-given-decimals", "1.5", None, 6, (True, 1500000, None)),
    ("token-units-from-allowlist", "1.5", TOKEN.lower(), None, (True, 1500000, None)),
    ("token-units-unknown", "1.5", None, None,
     (True, None, "limit '1.5' is in token units but the decimals of the token being spent are unknown")),
    ("too-many-digits", "1.0000001", None, 6,
     (True, None, "limit '1.0000001' has more fractional digits than the token's 6 decimals")),
    ("symbol-same-token", "2 USDC", TOKEN, None, (True, 2000000, None)),
    ("symbol-unknown-token", "2 USDC", None, None, (True, 2000000, None)),
    ("symbol-other-token", "2 USDC", "0x" + "99" * 20, None, (False, None, None)),
    ("symbol-not-allowlisted", "2 DAI", TOKEN, None,
     (True, None, "limit '2 DAI' names DAI, which is not in the pack's token allowlist on eip155:1")),
]


@pytest.mark.parametrize(("raw", "token", "decimals", "expected"), [r[1:] for r in RESOLVE], ids=[r[0] for r in RESOLVE])
def test_r083_resolve_amount_limit(raw: str, token: str | None, decimals: int | None,
                                   expected: tuple[bool, int | None, str | None]) -> None:
    res = amounts.resolve_amount_limit(raw, chain="eip155:1", token=token, decimals=decimals, allowlist=ALLOW)
    assert (res.applies, res.atomic, res.problem) == expected


def test_r083_symbol_limit_uses_the_chain_s_allowlist_entry() -> None:
    res = amounts.resolve_amount_limit("2 USDC", chain="eip155:8453", token=None, decimals=None, allowlist=ALLOW)
    assert res.atomic == 2 * 10**18 and res.token == "0x" + "83" * 20


@pytest.mark.parametrize(("raw", "allow_number", "value"), [
    ("1.05", False, Dec(105, 2)), ("1", False, 1), ("2.50", False, Dec(25, 1)),
    (Dec(105, 2), True, Dec(105, 2)), (3, True, 3),
])
def test_r083_parse_multiplier(raw: Any, allow_number: bool, value: Any) -> None:
    assert amounts.parse_multiplier(raw, allow_number=allow_number) == value


@pytest.mark.parametrize(("raw", "allow_number", "fragment"), [
    (Dec(105, 2), False, "is not a DecimalString"),
    (2, False, "is not a DecimalString"),
    ("0.99", False, "is below 1"),
    (Dec(5, 1), True, "is below 1"),
    ("1e2", False, "is not a non-negative DecimalString"),
    (True, True, "is a boolean"),
    (" 1.05", False, "is not a non-negative DecimalString"),
])
def test_r083_parse_multiplier_rejects(raw: Any, allow_number: bool, fragment: str) -> None:
    with pytest.raises(amounts.AmountFormatError) as ei:
        amounts.parse_multiplier(raw, allow_number=allow_number)
    assert fragment in ei.value.message


# ------------------------------------------------------------------ the compiler side


def _pack(**hc: Any) -> dict[str, Any]:
    p = deep(PACK)
    p["policy"]["hard_constraints_defaults"] = {"allow_unlimited_approval": False, **hc}
    return p


def _approve(amount: Any) -> dict[str, Any]:
    return workflow(node("ap", "approve", args={"token": lit_asset(), "spender": {"lit": SPENDER}, "amount": amount}))


PACK_LIMITS = [
    ("base-units-ok", {"max_approval": "5000000"}, None),
    ("token-units-ok", {"max_approval": "5.5"}, None),
    ("symbol-ok", {"max_approval": "5 USDC"}, None),
    ("symbol-not-allowlisted", {"max_approval": "5 DAI"}, "AISC-POL-010"),
    ("exponent", {"max_approval": "5e6"}, "AISC-POL-010"),
    ("negative", {"max_approval": "-5"}, "AISC-POL-010"),
    ("two-spaces", {"max_spend": "5  USDC"}, "AISC-POL-010"),
    ("multiplier-number-ok", {"max_approval_multiplier": Dec(105, 2)}, None),
    ("multiplier-integer-ok", {"max_approval_multiplier": 2}, None),
    ("multiplier-below-one", {"max_approval_multiplier": Dec(5, 1)}, "AISC-POL-010"),
    ("multiplier-bool", {"max_approval_multiplier": True}, "AISC-SCHEMA-003"),
    # the pack schema types it as a number: a quoted multiplier is a schema error in the source
    ("multiplier-string-in-source", {"max_approval_multiplier": "1.05"}, "AISC-SCHEMA-003"),
]


def _yaml_pack(p: dict[str, Any]) -> str:
    """JSON text, except Dec values written as YAML decimal numbers (1.05, not "1.05")."""
    def enc(o: Any) -> Any:
        if isinstance(o, Dec):
            return f"@@{o.mantissa}@{o.scale}@@"
        raise TypeError(o)
    text = json.dumps(p, default=enc)
    return re.sub(r'"@@(\d+)@(\d+)@@"', lambda m: _dec_text(int(m.group(1)), int(m.group(2))), text)


def _dec_text(m: int, s: int) -> str:
    digits = str(m).rjust(s + 1, "0")
    return f"{digits[:-s]}.{digits[-s:]}"


@pytest.mark.parametrize(("hc", "code"), [x[1:] for x in PACK_LIMITS], ids=[x[0] for x in PACK_LIMITS])
def test_r083_pack_limit_format_at_compile_time(compile_ws: Callable[..., Result], hc: dict[str, Any],
                                                code: str | None) -> None:
    """R083: the compiler accepts exactly the format the runtime reads (AISC-POL-010 otherwise)."""
    r = compile_ws(_approve({"lit": "1"}), pack=_yaml_pack(_pack(**hc)))
    if code is None:
        assert not r.error_codes, [d.to_json() for d in r.diags if d.is_error]
    else:
        assert code in r.error_codes


def test_r083_multiplier_is_a_decimal_string_in_the_plan(compile_ws: Callable[..., Result]) -> None:
    """The pack's YAML number 1.05 is emitted as the DecimalString "1.05", never a JSON number."""
    r = compile_ws(_approve({"lit": "1"}), pack=_yaml_pack(_pack(max_approval_multiplier=Dec(105, 2))))
    assert r.plan is not None, [d.to_json() for d in r.diags if d.is_error]
    hc = r.plan["extensions"]["aisc"]["pack"]["policy"]["hard_constraints_defaults"]
    assert hc["max_approval_multiplier"] == "1.05"
    assert '"max_approval_multiplier": "1.05"' in r.comp.artifact


def test_r083_override_multiplier_is_a_decimal_string(compile_ws: Callable[..., Result]) -> None:
    p = _pack()
    p["overrides"] = {"actions": {"demo.approve": {"hard_constraints": {"max_approval_multiplier": 2}}}}
    r = compile_ws(_approve({"lit": "1"}), pack=_yaml_pack(p))
    assert r.plan is not None, [d.to_json() for d in r.diags if d.is_error]
    ov = r.plan["extensions"]["aisc"]["pack"]["overrides"]["actions"]["demo.approve"]["hard_constraints"]
    assert ov["max_approval_multiplier"] == "2"


STATIC = [
    ("symbol-limit-over", "5 USDC", {"lit": "5000001"}, "AISC-POL-005"),
    ("symbol-limit-at", "5 USDC", {"lit": "5000000"}, None),
    ("token-units-over", "0.5", {"lit": "500001"}, "AISC-POL-005"),
    ("base-units-over", "10", {"lit": "11"}, "AISC-POL-005"),
]


@pytest.mark.parametrize(("limit", "amount", "code"), [s[1:] for s in STATIC], ids=[s[0] for s in STATIC])
def test_r083_static_check_uses_the_shared_format(compile_ws: Callable[..., Result], limit: str, amount: Any,
                                                  code: str | None) -> None:
    r = compile_ws(_approve(amount), pack=json.dumps(_pack(max_approval=limit)))
    if code is None:
        assert "AISC-POL-005" not in r.error_codes
    else:
        assert code in r.error_codes


def test_r083_workflow_limit_in_other_units_is_kept_and_guarded(compile_ws: Callable[..., Result]) -> None:
    """Pack "5 USDC" and workflow "4000000" (base units) cannot be ordered without the token: no
    false AISC-POL-001, and both limits are guarded at run time."""
    wf = _approve({"ref": "inputs.amount"})
    wf["policy"] = {"hard_constraints": {"max_approval": "4000000"}}
    r = compile_ws(wf, pack=json.dumps(_pack(max_approval="5 USDC")))
    assert r.plan is not None, [d.to_json() for d in r.diags if d.is_error]
    limits = sorted(g["limit_atomic"] for g in r.guards("ap") if g["kind"] == "max_approval")
    assert limits == ["4000000", "5000000"]


def test_r083_workflow_loosening_in_same_units_is_an_error(compile_ws: Callable[..., Result]) -> None:
    wf = _approve({"lit": "1"})
    wf["policy"] = {"hard_constraints": {"max_approval": "6 USDC"}}
    r = compile_ws(wf, pack=json.dumps(_pack(max_approval="5 USDC")))
    assert "AISC-POL-001" in r.error_codes


def test_r083_compiled_symbol_limit_drives_the_runtime_gate(compile_ws: Callable[..., Result]) -> None:
    """Both paths agree: the plan's pack limit "5 USDC" blocks 5000001 base units at run time."""
    r = compile_ws(_approve({"ref": "inputs.amount"}), pack=json.dumps(_pack(max_approval="5 USDC")))
    assert r.plan is not None
    pack = r.plan["extensions"]["aisc"]["pack"]
    for amount, kind in (("5000000", "need_user_confirm"), ("5000001", "hard_block")):  # risk 2 < 3: confirm only
        gi = gate.extract_gate_input(
            node_id="ap", chain="eip155:1", pack=pack, protocol="demo@0.0.2", action="approve",
            params={"token": dict(lit_asset()["lit"]), "spender": SPENDER, "amount": amount},
            preview={"kind": "evm_tx", "to": TOKEN, "function_name": "approve",
                     "args": {"spender": SPENDER, "amount": amount}}, action_risk_level=3)
        assert gate.enforce_policy_gate(pack, gi)["kind"] == kind


def test_r272_plan_records_token_amount_params(compile_ws: Callable[..., Result]) -> None:
    """The gate needs to know which params are human token amounts (and their asset param)."""
    r = compile_ws(workflow(node("sw", "swap", args={"token": lit_asset(), "amount": {"lit": "0.5"}})))
    assert r.plan is not None, [d.to_json() for d in r.diags if d.is_error]
    exts = [n["extensions"]["aisc"].get("token_amounts") for n in r.plan["nodes"]]
    assert exts and all(e == {"amount": "token"} for e in exts)


@pytest.mark.parametrize("first", ["eip155:1", "eip155:8453"])
def test_r083_limit_resolution_is_per_chain(compile_ws: Callable[..., Result], first: str) -> None:
    """The policy pass resolves a limit once per (limit, token, chain). One token address has 6
    decimals on eip155:1 and 18 on eip155:8453 in the allowlist: "5 USDC" is 5,000,000 base units on
    the first chain and 5 * 10**18 on the second, so approving 5,000,001 is over the limit on
    eip155:1 only, whichever node is checked first."""
    pack = _pack(max_approval="5 USDC")
    pack["includes"][0]["chain_scope"] = ["eip155:1", "eip155:8453"]
    pack["token_policy"]["allowlist"].append({"chain": "eip155:8453", "symbol": "USDC", "address": TOKEN,
                                              "decimals": 18})
    chains = [first, *({"eip155:1", "eip155:8453"} - {first})]
    nodes = [node(f"ap{c.split(':')[1]}", "approve", chain=c, args={
        "token": {"lit": {**ASSET, "chain_id": c}}, "spender": {"lit": SPENDER}, "amount": {"lit": "5000001"}})
        for c in chains]
    r = compile_ws(workflow(*nodes), pack=json.dumps(pack))
    over = [d.message for d in r.diags if d.code == "AISC-POL-005"]
    assert len(over) == 1 and over[0].startswith('node "ap1" approves 5000001'), over
