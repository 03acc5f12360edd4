"""Policy-gate consistency fixes (SPEC-MAP §7.3/§7.6, R083, R272): human token amounts are compared
in base units, one limit format shared with the compiler, DecimalString-only multipliers, and one
violation per fact."""

from __future__ import annotations

from typing import Any

import pytest

from aisc.runtime.policy import enforce_policy_gate, extract_gate_input, gate_write_node

CHAIN = "eip155:1"
TST = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
WETH = "0x4200000000000000000000000000000000000006"
ASSET = {"chain_id": CHAIN, "address": TST, "symbol": "TST", "decimals": 6}
ALLOW = {"allowlist": [{"chain": CHAIN, "symbol": "TST", "address": TST, "decimals": 6},
                      {"chain": CHAIN, "symbol": "WETH", "address": WETH, "decimals": 18}]}


def pack(hc: dict[str, Any], token_policy: dict[str, Any] | None = ALLOW) -> dict[str, Any]:
    p: dict[str, Any] = {"name": "p", "version": "1.0.0", "policy": {"hard_constraints_defaults": hc}}
    if token_policy is not None:
        p["token_policy"] = token_policy
    return p


def deposit_gi(p: dict[str, Any], amount: Any, *, token_amounts: dict[str, Any] | None = None,
               asset: dict[str, Any] | None = None, preview_amount: str | None = None) -> dict[str, Any]:
    """A write with a human ``amount`` param (the shape of aave supply / uniswap swap)."""
    preview: dict[str, Any] = {"kind": "evm_tx", "chain": CHAIN, "exec_type": "evm_call", "to": "0x" + "33" * 20,
                               "function_name": "deposit", "args": {}}
    if preview_amount is not None:
        preview = {**preview, "function_name": "swapExactIn", "args": {"amountIn": preview_amount, "slippageBps": "5"}}
    return extract_gate_input(node_id="d", chain=CHAIN, pack=p, protocol="demo@0.0.2", action="deposit",
                              params={"token": asset if asset is not None else dict(ASSET), "amount": amount},
                              preview=preview, action_risk_level=1,
                              token_amounts={"amount": "token"} if token_amounts is None else token_amounts)


# (id, max_spend, human amount, token_amounts hint, expected spend_amount in base units, expected kind)
HUMAN: list[tuple[str, str, str, dict[str, Any] | None, str, str]] = [
    ("r272-fraction-converted-ok", "13000000", "12.5", None, "12500000", "ok"),
    ("r272-fraction-converted-over", "12000000", "12.5", None, "12500000", "hard_block"),
    ("r272-declared-integer-token-amount-is-tokens", "13000000", "13", None, "13000000", "ok"),
    ("r272-declared-integer-token-amount-over", "12999999", "13", None, "13000000", "hard_block"),
    # without the compiler's hint a fraction still cannot be base units: converted with the asset
    ("r272-fraction-without-hint", "13000000", "12.5", {}, "12500000", "ok"),
    ("r083-token-units-limit", "12.5", "12.5", None, "12500000", "ok"),
    ("r083-symbol-limit", "12 TST", "12.000001", None, "12000001", "hard_block"),
]


@pytest.mark.parametrize(("limit", "amount", "hint", "atomic", "kind"), [h[1:] for h in HUMAN], ids=[h[0] for h in HUMAN])
def test_r272_human_token_amount_is_compared_in_base_units(limit: str, amount: str, hint: dict[str, Any] | None,
                                                           atomic: str, kind: str) -> None:
    """R083/R272: a token_amount param ("12.5" of a 6-decimals token) is gated as 12500000 base units."""
    p = pack({"max_spend": limit})
    gi = deposit_gi(p, amount, token_amounts=hint)
    assert gi["spend_amount"] == atomic
    assert gi["token_decimals"] == 6
    out = enforce_policy_gate(p, gi)
    assert out["kind"] == kind, out
    if kind == "ok":
        assert "approval_reasons" not in out.get("details", {})


def test_r272_decimals_from_the_allowlist_when_the_asset_has_none() -> None:
    p = pack({"max_spend": "12000000"})
    asset = {"chain_id": CHAIN, "address": TST.lower()}
    gi = deposit_gi(p, "12.5", asset=asset)
    assert gi["spend_amount"] == "12500000"
    assert enforce_policy_gate(p, gi)["kind"] == "hard_block"


def test_r272_unconvertible_human_amount_falls_back_to_the_preview() -> None:
    """No decimals anywhere: the write preview's decoded ABI amount (base units) is used."""
    p = pack({"max_spend": "12000000"}, token_policy=None)
    asset = {"chain_id": CHAIN, "address": TST}
    gi = deposit_gi(p, "12.5", asset=asset, preview_amount="12500000")
    assert gi["spend_amount"] == "12500000" and gi["field_sources"]["spend_amount"] == ["preview"]
    assert enforce_policy_gate(p, gi)["kind"] == "hard_block"


def test_r272_unconvertible_human_amount_without_other_source_asks() -> None:
    p = pack({"max_spend": "12000000"}, token_policy=None)
    gi = deposit_gi(p, "12.5", asset={"chain_id": CHAIN, "address": TST})
    assert gi["spend_amount"] == "12.5"
    out = enforce_policy_gate(p, gi)
    assert out["kind"] == "need_user_confirm"
    assert out["details"]["approval_reasons"] == [
        "cannot check max_spend: spend_amount '12.5' is a token amount whose decimals are unknown"]


def test_r272_too_many_fraction_digits_is_not_rounded() -> None:
    p = pack({"max_spend": "12000000"}, token_policy=None)
    gi = deposit_gi(p, "1.0000001")  # 7 fractional digits, 6 decimals
    assert gi["spend_amount"] == "1.0000001"
    assert enforce_policy_gate(p, gi)["kind"] == "need_user_confirm"


# ------------------------------------------------------------------ the limit format (shared with the compiler)

LIMITS = [
    ("base-units", "1000", TST, "1001", "hard_block"),
    ("base-units-at", "1000", TST, "1000", "ok"),
    ("symbol-applies", "1000 TST", TST, "1000000001", "hard_block"),
    ("symbol-applies-at", "1000 TST", TST, "1000000000", "ok"),
    ("symbol-case-insensitive", "1000 tst", TST, "1000000001", "hard_block"),
    ("symbol-other-token-does-not-apply", "1000 TST", WETH, str(10**30), "ok"),
    ("token-units-use-the-spent-token", "1.5", WETH, "1500000000000000001", "hard_block"),
]


@pytest.mark.parametrize(("limit", "token", "spend", "kind"), [x[1:] for x in LIMITS], ids=[x[0] for x in LIMITS])
def test_r083_limit_format(limit: str, token: str, spend: str, kind: str) -> None:
    """R083: max_spend "<amount>", "<decimal>" and "<amount> <SYMBOL>" at run time (docs/runtime.md)."""
    p = pack({"max_spend": limit})
    gi = {"node_id": "n", "chain": CHAIN, "token_address": token, "risk_level": 1, "spend_amount": spend}
    assert enforce_policy_gate(p, gi)["kind"] == kind


@pytest.mark.parametrize(("limit", "why"), [
    ("1000 XYZ", "names XYZ, which is not in the pack's token allowlist on eip155:1"),
    ("1e3", "is not a non-negative decimal number"),
    ("-5", "is not a non-negative decimal number"),
    ("1000  TST", "is not a token symbol"),
])
def test_r083_bad_limit_asks_for_confirmation(limit: str, why: str) -> None:
    p = pack({"max_spend": limit})
    gi = {"node_id": "n", "chain": CHAIN, "token_address": TST, "risk_level": 1, "spend_amount": "5"}
    out = enforce_policy_gate(p, gi)
    assert out["kind"] == "need_user_confirm"
    assert any(why in r for r in out["details"]["approval_reasons"]), out


@pytest.mark.parametrize(("multiplier", "kind"), [
    ("1.05", "hard_block"),
    ("2", "ok"),
    (2, "need_user_confirm"),        # a JSON number: not the plan's format
    ("0.5", "need_user_confirm"),    # below 1
    ("1.05 ", "need_user_confirm"),
])
def test_r083_multiplier_is_a_decimal_string(multiplier: Any, kind: str) -> None:
    """R083: max_approval_multiplier is a DecimalString ≥ 1 in a plan, nothing else."""
    p = pack({"max_approval_multiplier": multiplier})
    gi = {"node_id": "n", "chain": CHAIN, "token_address": TST, "risk_level": 1, "spend_amount": "100",
          "approval_amount": "106"}
    assert enforce_policy_gate(p, gi)["kind"] == kind


# ------------------------------------------------------------------ one violation per fact


def test_r083_pack_limit_and_identical_guard_report_once() -> None:
    p = pack({"max_spend": "12"})
    gi = {"node_id": "n", "workflow_node_id": "n", "chain": CHAIN, "token_address": TST, "risk_level": 1,
          "spend_amount": "13", "action_key": "demo.deposit", "action_ref": "demo@0.0.2/deposit"}
    guards = [{"kind": "max_spend", "limit_atomic": "12", "amount": "13", "token": TST, "source": "pack"}]
    out = gate_write_node(p, gi, execution_type="evm_call", guards=guards)
    assert out["kind"] == "hard_block"
    violations = out["gate"]["details"]["violations"]
    assert [v["constraint"] for v in violations] == ["max_spend"]
    assert out["details"]["hit_reasons"] == ["policy hard constraint violation", "spend_amount 13 exceeds max_spend 12"]


def test_r083_different_limits_stay_separate() -> None:
    p = pack({"max_spend": "12"})
    gi = {"node_id": "n", "chain": CHAIN, "token_address": TST, "risk_level": 1, "spend_amount": "13"}
    out = enforce_policy_gate(p, gi, guards=[{"kind": "max_spend", "limit_atomic": "10"}])
    assert [v["limit"] for v in out["details"]["violations"]] == ["12", "10"]
