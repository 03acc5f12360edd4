"""Policy gate matrix: every decision rule of SPEC-MAP §7.4, the §7.6 gaps, §7.3 extraction, §7.5 wrapper."""

from __future__ import annotations

from typing import Any

import pytest

from aisc.runtime.policy import (
    check_detect_allowed,
    check_execution_plugin_allowed,
    enforce_policy_gate,
    extract_gate_input,
    gate_write_node,
    pick_detect_provider,
)

USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
BASE = "eip155:8453"


def pack(**policy: Any) -> dict[str, Any]:
    tp = policy.pop("token_policy", None)
    p: dict[str, Any] = {"name": "safe", "version": "0.0.2", "policy": policy}
    if tp is not None:
        p["token_policy"] = tp
    overrides = policy.pop("overrides", None)
    if overrides is not None:
        p["overrides"] = overrides
    return p


ALLOW = {"allowlist": [{"chain": BASE, "symbol": "USDC", "address": USDC, "decimals": 6}]}
STRICT = {**ALLOW, "resolution": {"require_allowlist_for_symbol_resolution": True}}


def gi(**over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"node_id": "n", "chain": BASE, "action_ref": "uniswap-v3@0.0.2/swap",
                         "action_key": "uniswap-v3.swap", "token_address": USDC, "risk_level": 1}
    d.update(over)
    return d


HC = "hard_constraints_defaults"
# (id, pack, gate input, expected kind, reason substring)
MATRIX = [
    ("r270-no-policy-ok", {"name": "p"}, gi(hard_block_fields=["preview_compile"]), "ok", None),
    ("r278-hard-block-fields", pack(), gi(hard_block_fields=["preview_compile"]), "hard_block",
     "required fields are missing"),
    ("r278-hard-beats-missing", pack(), gi(hard_block_fields=["x"], missing_fields=["y"]), "hard_block", "required"),
    ("r279-missing-fields", pack(), gi(missing_fields=["slippage_bps"]), "need_user_confirm", "incomplete"),
    ("r279-missing-beats-violation", pack(**{HC: {"max_slippage_bps": 1}}), gi(missing_fields=["a"], slippage_bps=99),
     "need_user_confirm", "incomplete"),
    ("r279-unknown-fields", pack(), gi(unknown_fields=["token_identity"]), "need_user_confirm", "unknown fields"),
    ("allowlist-strict-violation", pack(token_policy=STRICT), gi(token_address="0xdead"), "hard_block",
     "hard constraint violation"),
    ("allowlist-strict-key-violation", pack(token_policy={**ALLOW, "resolution": {"strict": False}}),
     gi(token_address="0xdead"), "hard_block", "hard constraint"),
    ("allowlist-soft-approval", pack(token_policy=ALLOW), gi(token_address="0xdead"), "need_user_confirm",
     "approval required"),
    ("allowlist-case-insensitive-ok", pack(token_policy=STRICT), gi(token_address=USDC.lower()), "ok", None),
    ("allowlist-symbol-ok", pack(token_policy=STRICT), gi(token_address=None, token_symbol="usdc"), "ok", None),
    ("allowlist-chain-mismatch", pack(token_policy=STRICT), gi(chain="eip155:1"), "hard_block", "violation"),
    ("slippage-over-max", pack(**{HC: {"max_slippage_bps": 50}}), gi(slippage_bps=51), "hard_block", "violation"),
    ("slippage-at-max-ok", pack(**{HC: {"max_slippage_bps": 50}}), gi(slippage_bps=50), "ok", None),
    ("legacy-hard-constraints-key", pack(hard_constraints={"max_slippage_bps": 10}), gi(slippage_bps=11),
     "hard_block", "violation"),
    ("unlimited-approval-blocked", pack(**{HC: {"allow_unlimited_approval": False}}), gi(unlimited_approval=True),
     "hard_block", "violation"),
    ("unlimited-approval-allowed", pack(**{HC: {"allow_unlimited_approval": True}}), gi(unlimited_approval=True),
     "ok", None),
    ("auto-execute-max-risk", pack(approvals={"auto_execute_max_risk_level": 2}), gi(risk_level=3),
     "need_user_confirm", "approval required"),
    ("auto-execute-within", pack(approvals={"auto_execute_max_risk_level": 2}), gi(risk_level=2), "ok", None),
    ("require-approval-min-risk", pack(approvals={"require_approval_min_risk_level": 3}), gi(risk_level=3),
     "need_user_confirm", "approval required"),
    ("legacy-risk-threshold", pack(risk_threshold=2), gi(risk_level=3), "need_user_confirm", "approval"),
    ("legacy-approval-required-tags", pack(approval_required=["bridge"]), gi(risk_tags=["defi", "bridge"]),
     "need_user_confirm", "approval"),
    ("violation-beats-approval", pack(approvals={"auto_execute_max_risk_level": 1}, **{HC: {"max_slippage_bps": 1}}),
     gi(risk_level=5, slippage_bps=2), "hard_block", "violation"),
    # §7.6: enforced here although the reference SDK does not
    ("r083-max-spend-over", pack(**{HC: {"max_spend": "1000000"}}), gi(spend_amount="1000001"), "hard_block",
     "violation"),
    ("r083-max-spend-at", pack(**{HC: {"max_spend": "1000000"}}), gi(spend_amount="1000000"), "ok", None),
    ("r083-max-spend-human-units", pack(token_policy=ALLOW, **{HC: {"max_spend": "1.5 USDC"}}),
     gi(spend_amount="1500001"), "hard_block", "violation"),
    ("r083-max-spend-human-units-ok", pack(token_policy=ALLOW, **{HC: {"max_spend": "1.5"}}),
     gi(spend_amount="1500000"), "ok", None),
    ("r083-max-spend-unknown-decimals", pack(**{HC: {"max_spend": "1.5"}}), gi(spend_amount="1"),
     "need_user_confirm", "approval required"),
    ("r083-max-approval-over", pack(**{HC: {"max_approval": "500"}}), gi(approval_amount="501"), "hard_block",
     "violation"),
    ("r083-max-approval-unlimited", pack(**{HC: {"max_approval": "500"}}), gi(unlimited_approval=True),
     "hard_block", "violation"),
    ("r083-multiplier-at-limit", pack(**{HC: {"max_approval_multiplier": "1.05"}}),
     gi(spend_amount="1000000", approval_amount="1050000"), "ok", None),
    ("r083-multiplier-one-over", pack(**{HC: {"max_approval_multiplier": "1.05"}}),
     gi(spend_amount="1000000", approval_amount="1050001"), "hard_block", "violation"),
    ("r083-multiplier-no-spend", pack(**{HC: {"max_approval_multiplier": "1.05"}}), gi(approval_amount="10"),
     "need_user_confirm", "approval required"),
    ("r083-multiplier-float-rejected", pack(**{HC: {"max_approval_multiplier": 1.05}}),
     gi(spend_amount="100", approval_amount="100"), "need_user_confirm", "approval required"),
    ("r083-override-tightens", pack(**{HC: {"max_slippage_bps": 100}},
                                    overrides={"actions": {"uniswap-v3.swap": {"hard_constraints": {"max_slippage_bps": 30}}}}),
     gi(slippage_bps=50), "hard_block", "violation"),
    ("r083-override-versioned-key", pack(overrides={"actions": {"uniswap-v3@0.0.2.swap": {
        "hard_constraints": {"max_spend": "10"}}}}), gi(spend_amount="11"), "hard_block", "violation"),
    ("r083-override-other-action-ignored", pack(overrides={"actions": {"uniswap-v3.quote": {
        "hard_constraints": {"max_spend": "10"}}}}), gi(spend_amount="11"), "ok", None),
    ("auto-execute-low-risk-ok", pack(approvals={"auto_execute_max_risk_level": 2}), gi(risk_level=1),
     "ok", None),
]


@pytest.mark.parametrize(("p", "g", "kind", "reason"), [m[1:] for m in MATRIX], ids=[m[0] for m in MATRIX])
def test_gate_matrix(p: dict[str, Any], g: dict[str, Any], kind: str, reason: str | None) -> None:
    g = {k: v for k, v in g.items() if v is not None}
    out = enforce_policy_gate(p, g)
    assert out["kind"] == kind, out
    assert out["ok"] is (kind == "ok")
    if reason is not None:
        assert reason in out["reason"]


GUARDS = [
    ("guard-max-spend", [{"kind": "max_spend", "limit_atomic": "100"}], gi(spend_amount="101"), "hard_block"),
    ("guard-max-spend-other-token", [{"kind": "max_spend", "limit_atomic": "100", "token": "0xother"}],
     gi(spend_amount="101"), "ok"),
    ("guard-max-approval", [{"kind": "max_approval", "limit_atomic": "5"}], gi(approval_amount="6"), "hard_block"),
    ("guard-multiplier-spend-ref", [{"kind": "max_approval_multiplier", "multiplier": "2", "spend_atomic": "10"}],
     gi(approval_amount="21"), "hard_block"),
    ("guard-multiplier-ok", [{"kind": "max_approval_multiplier", "multiplier": "2", "spend_atomic": "10"}],
     gi(approval_amount="20"), "ok"),
    ("guard-slippage", [{"kind": "max_slippage_bps", "limit": 10}], gi(slippage_bps=11), "hard_block"),
    ("guard-unlimited", [{"kind": "allow_unlimited_approval", "allow": False}], gi(unlimited_approval=True),
     "hard_block"),
    ("guard-unknown-kind", [{"kind": "frobnicate"}], gi(), "need_user_confirm"),
]


@pytest.mark.parametrize(("guards", "g", "kind"), [m[1:] for m in GUARDS], ids=[m[0] for m in GUARDS])
def test_runtime_guards_apply_without_policy(guards: list[dict[str, Any]], g: dict[str, Any], kind: str) -> None:
    assert enforce_policy_gate({"name": "nopolicy"}, g, guards=guards)["kind"] == kind


def test_violation_record_shape() -> None:
    out = enforce_policy_gate(pack(**{HC: {"max_slippage_bps": 50}}), gi(slippage_bps=70))
    assert out["details"]["violations"] == [{"field": "slippage_bps", "message": "slippage 70 bps exceeds max 50 bps",
                                             "constraint": "max_slippage_bps", "value": 70, "limit": 50}]


# ------------------------------------------------------------------ extraction (§7.3)


def test_extract_evm_approve_preview() -> None:
    """R317: an approve-like write yields approval_amount, spender_address and unlimited_approval."""
    preview = {"kind": "evm_tx", "chain": BASE, "exec_type": "evm_call", "to": USDC, "function_name": "approve",
               "args": {"spender": "0xsp", "amount": "0x" + "f" * 64}}
    d = extract_gate_input(node_id="a", chain=BASE, protocol="erc20@0.0.2", action="approve", preview=preview)
    assert d["token_address"] == USDC and d["spender_address"] == "0xsp"
    assert d["approval_amount"] == str((1 << 256) - 1) and d["unlimited_approval"] is True
    assert d["action_ref"] == "erc20@0.0.2/approve" and d["action_key"] == "erc20.approve"
    assert d["risk_level"] == 3 and d["field_sources"]["risk_level"] == ["default"]
    assert "missing_fields" not in d and "unknown_fields" not in d


def test_extract_swap_missing_and_params_priority() -> None:
    """R317: a swap-like write yields spend_amount; a missing slippage_bps is reported as missing."""
    preview = {"kind": "evm_tx", "function_name": "exactInputSingle", "args": {"params": {"amountIn": "5"}}}
    d = extract_gate_input(node_id="s", chain=BASE, params={"amount_in": 7, "token_in": {"address": USDC}},
                           preview=preview)
    assert d["spend_amount"] == "7" and d["field_sources"]["spend_amount"] == ["params"]
    assert d["missing_fields"] == ["slippage_bps"]


def test_extract_swap_unknown_spend_and_token() -> None:
    d = extract_gate_input(node_id="s", chain=BASE, preview={"kind": "evm_tx", "function_name": "swap", "args": {}})
    assert d["missing_fields"] == ["spend_amount", "slippage_bps"]
    assert d["unknown_fields"] == ["token_identity", "spend_amount"]


def test_extract_priority_calculated_then_detect() -> None:
    d = extract_gate_input(node_id="s", chain=BASE, calculated={"slippage_bps": 30}, detect_result={"slippage_bps": 99})
    assert d["slippage_bps"] == 30 and d["field_sources"]["slippage_bps"] == ["calculated"]
    d = extract_gate_input(node_id="s", chain=BASE, detect_result={"max_slippage_bps": "12"})
    assert d["slippage_bps"] == 12 and d["field_sources"]["slippage_bps"] == ["detect_result"]


def test_extract_solana_transfer() -> None:
    preview = {"kind": "solana_instruction", "instruction": "transfer_checked",
               "accounts": [{"name": "source", "pubkey": "Src"}, {"name": "mint", "pubkey": "Mint"},
                            {"name": "authority", "pubkey": "Own"}], "data_fields": {"amount": 10}}
    d = extract_gate_input(node_id="t", chain="solana:devnet", preview=preview)
    assert (d["spend_amount"], d["mint_address"], d["token_address"], d["owner_address"]) == ("10", "Mint", "Mint", "Own")
    assert "missing_fields" not in d


def test_extract_preview_compile_error_is_hard_block() -> None:
    """R318: a preview compile failure is a hard_block."""
    d = extract_gate_input(node_id="x", chain=BASE, preview={"kind": "execution", "compile_error": "bad abi"})
    assert d["hard_block_fields"] == ["preview_compile"]
    assert enforce_policy_gate(pack(), d)["kind"] == "hard_block"


def test_r280_risk_level_priority() -> None:
    p = pack(overrides={"actions": {"erc20.approve": {"risk_level": 4, "risk_tags": ["approval"]}}})
    d = extract_gate_input(node_id="a", chain=BASE, pack=p, protocol="erc20@0.0.2", action="approve",
                           action_risk_level=2, action_risk_tags=["token"])
    assert d["risk_level"] == 4 and d["risk_tags"] == ["token", "approval"]
    d = extract_gate_input(node_id="a", chain=BASE, pack=p, protocol="erc20@0.0.2", action="approve",
                           action_risk_level=2, runtime_risk_level=9)
    assert d["risk_level"] == 5 and d["field_sources"]["risk_level"] == ["runtime"]


# ------------------------------------------------------------------ allowlists and wrapper (§7.5)

PLUGIN = [
    ("core-type", {}, "evm_call", "eip155:1", True),
    ("empty-allowlist", {}, "evm_rpc", "eip155:1", True),
    ("strict-empty", {"extensions": {"strict_allowlist": True}}, "evm_rpc", "eip155:1", False),
    ("listed-any-chain", {"plugins": {"execution": {"enabled": [{"type": "evm_rpc"}]}}}, "evm_rpc", "eip155:1", True),
    ("listed-other-chain", {"plugins": {"execution": {"enabled": [{"type": "evm_rpc", "chains": ["eip155:2"]}]}}},
     "evm_rpc", "eip155:1", False),
    ("not-listed", {"plugins": {"execution": {"enabled": [{"type": "x"}]}}}, "evm_rpc", "eip155:1", False),
]


@pytest.mark.parametrize(("p", "t", "chain", "ok"), [m[1:] for m in PLUGIN], ids=[m[0] for m in PLUGIN])
def test_plugin_allowlist(p: dict[str, Any], t: str, chain: str, ok: bool) -> None:
    assert check_execution_plugin_allowed(p, t, chain)["ok"] is ok


def test_detect_allowlist_and_pick() -> None:
    p = {"providers": {"detect": {"enabled": [
        {"kind": "best_quote", "provider": "b", "priority": 5},
        {"kind": "best_quote", "provider": "a", "priority": 5},
        {"kind": "best_quote", "provider": "z", "priority": 9, "chains": ["eip155:2"]}]}}}
    assert check_detect_allowed(p, "best_path", "eip155:1")["reason"] == "detect kind is not allowlisted by pack"
    assert check_detect_allowed(p, "best_quote", "eip155:1", "z")["reason"] == "detect provider is not allowlisted by pack"
    assert pick_detect_provider(p, "best_quote", "eip155:1")["provider"] == "a"
    assert pick_detect_provider(p, "best_quote", "eip155:2")["provider"] == "z"
    assert pick_detect_provider(p, "best_path", "eip155:1")["kind"] == "hard_block"


def test_r284_r285_confirmation_details() -> None:
    p = pack(approvals={"auto_execute_max_risk_level": 2})
    out = gate_write_node(p, gi(risk_level=3, workflow_node_id="swap1"), execution_type="evm_call")
    assert out["kind"] == "need_user_confirm"
    d = out["details"]
    assert d["confirmation_scope"] == {"mode": "workflow_node", "key": "swap1:uniswap-v3.swap",
                                       "alternatives": ["action_key", "tx_hash"]}
    t = d["confirmation_template"]
    assert set(t) == {"title", "summary", "action", "risk", "recommendation"}
    assert t["action"]["workflow_node_id"] == "swap1" and t["risk"]["level"] == 3
    assert t["risk"]["thresholds"] == {"auto_execute_max_risk_level": 2}
    assert d["hit_reasons"][0] == "policy approval required" and d["can_confirm"] is True
    assert d["pack"] == {"name": "safe", "version": "0.0.2"}


def test_r286_allowlist_miss_is_confirmable_hard_block_is_not() -> None:
    p = {**pack(), "plugins": {"execution": {"enabled": [{"type": "other"}]}}}
    out = gate_write_node(p, gi(), execution_type="evm_rpc")
    assert out["kind"] == "need_user_confirm" and out["details"]["kind"] == "policy_allowlist"
    out = gate_write_node(pack(**{HC: {"max_slippage_bps": 1}}), gi(slippage_bps=5), execution_type="evm_call")
    assert out["kind"] == "hard_block" and out["details"]["can_confirm"] is False
    assert "slippage 5 bps exceeds max 1 bps" in out["details"]["hit_reasons"]
