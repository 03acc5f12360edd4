"""Workspace, pack boundary, capabilities and numeric literals (SPEC-MAP §1.5, §1.2, R144/R145/R321)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from aisc.passes.capabilities import ALIASES, canonical

from .conftest import PACK, PROTOCOL, Result, deep, lit_asset, node, workflow

B = {"ref": "inputs.who"}
BAL = node("q", query="balance", args={"owner": B})


def _pack(**changes: Any) -> dict[str, Any]:
    p = deep(PACK)
    for k, v in changes.items():
        if v is None:
            p.pop(k, None)
        else:
            p[k] = v
    return p


def _proto(mutate: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    p = deep(PROTOCOL)
    mutate(p)
    return p


RPC = node("r", "rpc", args={"address": B})
QUOTE = node("qq", query="quote", args={"owner": B})

# (id, kwargs for compile_ws, expected error code or None)
CASES: list[tuple[str, dict[str, Any], str | None]] = [
    # R070/R071 strict pack, extensions
    ("r070-r071-pass-pack-extensions", {"wf": workflow(BAL), "pack": _pack(extensions={"x": 1})}, None),
    ("r070-fail-pack-unknown-field", {"wf": workflow(BAL), "pack": _pack(bogus=1)}, "AISC-SCHEMA"),
    ("r072-fail-include-bad-source", {"wf": workflow(BAL), "pack": _pack(includes=[
        {"protocol": "demo", "version": "0.0.2", "source": "ftp"}])}, "AISC-SCHEMA"),
    ("r072-pass-include-source-local", {"wf": workflow(BAL), "pack": _pack(includes=[
        {"protocol": "demo", "version": "0.0.2", "source": "local"}])}, None),
    # R074 pack identity
    ("r074-pass-top-level-identity", {"wf": workflow(BAL), "pack": {**_pack(meta=None), "name": "guard-pack",
                                                                    "version": "1.0.0"}}, None),
    ("r074-fail-no-identity", {"wf": workflow(BAL), "pack": _pack(meta=None), "explicit_pack": True}, "AISC-WS-006"),
    # R075 includes resolve
    ("r075-fail-include-unresolved", {"wf": workflow(BAL), "pack": _pack(includes=[
        {"protocol": "demo", "version": "0.0.2"}, {"protocol": "ghost", "version": "1.0.0"}])}, "AISC-WS-007"),
    # R076 requires_pack exists
    ("r076-fail-required-pack-missing", {"wf": workflow(BAL, requires_pack={"name": "nope", "version": "1.0.0"})},
     "AISC-WS-005"),
    ("r076-fail-explicit-pack-mismatch", {"wf": workflow(BAL, requires_pack={"name": "other", "version": "1.0.0"}),
                                          "explicit_pack": True}, "AISC-WS-013"),
    # R077 node protocol in includes
    ("r077-fail-protocol-not-included", {"wf": workflow(BAL), "pack": _pack(includes=[
        {"protocol": "demo", "version": "9.9.9"}])}, "AISC-WS-008"),
    # R078 chain_scope
    ("r078-r322-fail-chain-outside-scope", {"wf": workflow(node("q", query="balance", chain="eip155:8453",
                                                                args={"owner": B}))}, "AISC-WS-009"),
    ("r078-r322-pass-chain-in-scope", {"wf": workflow(BAL)}, None),
    # R079 / R022-R024 detect coverage
    ("r079-r023-pass-detect-pair-enabled", {"wf": workflow(node("q", query="balance", args={"owner": {"detect": {
        "kind": "best_quote", "provider": "p1", "candidates": [{"lit": "0x"}]}}}))}, None),
    ("r079-r023-fail-detect-provider-not-enabled", {"wf": workflow(node("q", query="balance", args={"owner": {
        "detect": {"kind": "best_quote", "provider": "evil"}}}))}, "AISC-WS-010"),
    ("r022-r024-fail-detect-kind-not-enabled", {"wf": workflow(node("q", query="balance", args={"owner": {
        "detect": {"kind": "best_path"}}}))}, "AISC-WS-010"),
    # the pack's detect check reads only nodes in Analysis.rich_args: a detect nested in an object, and
    # one after a plain ref (the transfer's first argument)
    ("r079-fail-detect-inside-object", {"wf": workflow(node("q", query="balance", args={"owner": {"object": {
        "inner": {"detect": {"kind": "best_quote", "provider": "evil"}}}}}))}, "AISC-WS-010"),
    ("r079-fail-detect-after-ref", {"wf": workflow(node("t", "transfer", args={
        "to": B, "token": lit_asset(), "amount": {"detect": {"kind": "best_quote", "provider": "evil"}}}))},
     "AISC-WS-010"),
    ("r024-pass-provider-picked-by-priority", {"wf": workflow(QUOTE)}, None),
    ("r023-fail-provider-wrong-chain", {"wf": workflow(QUOTE), "pack": _pack(providers={"detect": {"enabled": [
        {"kind": "best_quote", "provider": "p1", "chains": ["eip155:8453"]}]}})}, "AISC-WS-010"),
    # R080 pack vs included protocol
    ("r080-fail-protocol-detect-pair-disabled", {"wf": workflow(BAL), "protocol": _proto(
        lambda p: p["queries"]["quote"]["execution"]["eip155:*"]["args"]["fee"]["detect"].update(provider="x"))},
     "AISC-WS-011"),
    ("r080-fail-protocol-plugin-not-listed", {"wf": workflow(BAL), "pack": _pack(plugins={"execution": {"enabled": [
        {"type": "other_plugin"}]}})}, "AISC-WS-012"),
    # R025 quote providers allowlist: duplicates are flagged
    ("r025-pass-quote-providers", {"wf": workflow(BAL), "pack": _pack(providers={
        "quote": {"enabled": [{"provider": "q1", "chains": ["eip155:1"], "priority": 1}]},
        "detect": PACK["providers"]["detect"]})}, None),
    ("r025-fail-quote-provider-bad-chain", {"wf": workflow(BAL), "pack": _pack(providers={
        "quote": {"enabled": [{"provider": "q1", "chains": ["mainnet"]}]}})}, "AISC-SCHEMA"),
    # R027/R028 plugin execution types
    ("r027-pass-plugin-allowlisted", {"wf": workflow(RPC)}, None),
    ("r027-r028-fail-plugin-not-allowlisted", {"wf": workflow(RPC), "pack": _pack(plugins=None)}, "AISC-WS-012"),
    ("r028-fail-plugin-wrong-chain", {"wf": workflow(RPC), "pack": _pack(plugins={"execution": {"enabled": [
        {"type": "evm_rpc", "chains": ["eip155:8453"]}]}})}, "AISC-WS-012"),
    ("r026-pass-plugin-without-pack", {"wf": workflow(RPC, pack=False)}, None),
    # R081 structural pack rules
    ("r081-fail-pack-meta-version-not-semver", {"wf": workflow(BAL), "pack": _pack(meta={"name": "guard-pack",
                                                                                       "version": "1"})},
     "AISC-SCHEMA"),
    ("r081-fail-detect-kind-enum", {"wf": workflow(BAL), "pack": _pack(providers={"detect": {"enabled": [
        {"kind": "psychic", "provider": "p"}]}})}, "AISC-SCHEMA"),
    # R144/R145/R321 imports
    ("r144-pass-import-relative", {"wf": workflow(BAL)}, None),
    ("r145-fail-import-missing-file", {"wf": workflow(BAL, imports={"protocols": [
        {"protocol": "demo@0.0.2", "path": "nope.ais.yaml"}]})}, "AISC-WS-001"),
    ("r145-fail-import-wrong-protocol", {"wf": workflow(BAL, imports={"protocols": [
        {"protocol": "demo@0.0.3", "path": "demo.ais.yaml"}]})}, "AISC-WS-002"),
    ("r321-fail-node-protocol-not-imported", {"wf": workflow(BAL, imports={"protocols": [
        {"protocol": "other@0.0.1", "path": "other.ais.yaml"}]}),
        "extra": {"other.ais.yaml": json.dumps({**PROTOCOL, "meta": {"protocol": "other", "version": "0.0.1"}})}},
     "AISC-WS-003"),
    ("r144-fail-import-protocol-format", {"wf": workflow(BAL, imports={"protocols": [
        {"protocol": "demo", "path": "demo.ais.yaml"}]})}, "AISC-SCHEMA"),
    # duplicate protocol@version
    ("ws-fail-duplicate-protocol", {"wf": workflow(BAL), "extra": {"copy.ais.yaml": json.dumps(
        {**PROTOCOL, "actions": {}})}}, "AISC-WS-004"),
    # R014/R029 capabilities
    ("r014-r029-pass-capabilities", {"wf": workflow(BAL)}, None),
    ("r014-r029-fail-missing-capability", {"wf": workflow(BAL), "protocol": _proto(
        lambda p: p["capabilities_required"].append("bitcoin:psbt"))}, "AISC-CAP-001"),
    ("r015-fail-action-capability", {"wf": workflow(node("t", "transfer", args={"token": lit_asset(), "to": B,
                                                                                 "amount": {"lit": "1"}})),
                                     "protocol": _proto(lambda p: p["actions"]["transfer"].update(
                                         capabilities_required=["evm:teleport"]))}, "AISC-CAP-001"),
    ("r017-fail-detect-capability", {"wf": workflow(node("q", query="balance", args={"owner": {"detect": {
        "kind": "choose_one", "candidates": [{"lit": "0x"}], "requires_capabilities": ["detect:oracle"]}}}))},
     "AISC-CAP-001"),
    # the capability and numeric-literal passes read only nodes with an argument that is more than one
    # ref or cel (Analysis.rich_args): a detect nested in an object, and a literal after such arguments
    ("r017-fail-detect-inside-object", {"wf": workflow(node("q", query="balance", args={"owner": {"object": {
        "inner": {"detect": {"kind": "choose_one", "candidates": [{"lit": "0x"}],
                             "requires_capabilities": ["detect:oracle"]}}}}}))}, "AISC-CAP-001"),
    ("r011-fail-capability-case-sensitive", {"wf": workflow(BAL), "protocol": _proto(
        lambda p: p.update(capabilities_required=["EVM:CALL"]))}, "AISC-CAP-001"),
    ("d2-pass-legacy-alias", {"wf": workflow(BAL), "protocol": _proto(
        lambda p: p.update(capabilities_required=["cel_v1", "evm_read", "evm_call"]))}, None),
    ("d11-fail-max-uint256-identifier", {"wf": workflow(node("t", "transfer", args={
        "token": lit_asset(), "to": B, "amount": {"lit": "1"}})), "protocol": _proto(
        lambda p: p["actions"]["transfer"].update(calculated_fields={"x": {"expr": {"cel": "MAX_UINT256"}}}))},
     "AISC-CAP-004"),
    # R054/R117 numeric literals
    ("r054-r117-pass-integer-string", {"wf": workflow(node("t", "transfer", args={
        "token": lit_asset(), "to": B, "amount": {"lit": "2"}}))}, None),
    ("r054-r117-fail-yaml-number-uint", {"wf": workflow(node("t", "transfer", args={
        "token": lit_asset(), "to": B, "amount": {"lit": 2}}))}, "AISC-NUM-001"),
    ("r054-r117-fail-yaml-number-after-ref-and-cel", {"wf": workflow(node("t", "transfer", args={
        "to": {"ref": "inputs.who"}, "token": {"cel": "inputs.who"}, "amount": {"lit": 2}}))}, "AISC-NUM-001"),
    ("r117-fail-input-default-number", {"wf": workflow(BAL, inputs={"amount": {"type": "uint256", "default": 5},
                                                                     "who": {"type": "address"}})}, "AISC-NUM-003"),
    ("r119-fail-exponent-string", {"wf": workflow(node("t", "transfer", args={
        "token": lit_asset(), "to": B, "amount": {"lit": "1e6"}}))}, "AISC-NUM-004"),
    ("r113-fail-token-amount-number", {"wf": workflow(node("s", "swap", args={
        "token": lit_asset(), "amount": {"lit": 1.5}}))}, "AISC-NUM-002"),
    ("r113-pass-token-amount-decimal-string", {"wf": workflow(node("s", "swap", args={
        "token": lit_asset(), "amount": {"lit": "0.5"}}))}, None),
    ("r054-fail-protocol-abi-literal-number", {"wf": workflow(node("t", "transfer", args={
        "token": lit_asset(), "to": B, "amount": {"lit": "1"}})), "protocol": _proto(
        lambda p: p["actions"]["transfer"]["execution"]["eip155:*"]["args"].update(amount={"lit": 7}))},
     "AISC-NUM-001"),
    ("r117-fail-solana-u64-data-number", {"wf": workflow(node("d", "deposit", chain="solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
                                                              args={"amount": {"lit": "1"}}), pack=False),
                                          "protocol": _proto(lambda p: p["actions"]["deposit"]["execution"]["solana:*"][
                                              "data"]["object"].update(amount={"lit": 1}))}, "AISC-NUM-001"),
]


@pytest.mark.parametrize("kw,code", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_workspace_table(compile_ws: Callable[..., Result], kw: dict[str, Any], code: str | None) -> None:
    r = compile_ws(**kw)
    if code is None:
        assert r.plan is not None, [d.to_json() for d in r.diags if d.is_error]
    else:
        assert r.plan is None
        assert r.has(code), sorted(r.codes)


def test_r024_detect_choice_recorded(compile_ws: Callable[..., Result]) -> None:
    """R024: without a provider the highest-priority enabled provider for the kind and chain is chosen."""
    pack = _pack(providers={"detect": {"enabled": [
        {"kind": "best_quote", "provider": "low", "chains": ["eip155:1"], "priority": 1},
        {"kind": "best_quote", "provider": "high", "chains": ["eip155:1"], "priority": 9},
        {"kind": "best_quote", "provider": "other-chain", "chains": ["eip155:8453"], "priority": 99}]}})
    r = compile_ws(workflow(QUOTE), pack=pack)
    assert r.plan is not None
    choices = r.plan["nodes"][0]["extensions"]["aisc"]["detect_providers"]
    assert [c["provider"] for c in choices] == ["high"]


def test_d2_alias_table_is_exact() -> None:
    """D2: the alias table maps exactly the legacy spellings; canonical ids map to themselves (R011)."""
    assert ALIASES["cel_v1"] == "cel:v1"
    assert ALIASES["solana_instruction"] == "solana:instruction"
    assert canonical("evm:read") == "evm:read"
    assert canonical("EVM_READ") == "EVM_READ"


def test_d2_alias_warns_with_canonical_spelling(compile_ws: Callable[..., Result]) -> None:
    r = compile_ws(workflow(BAL), protocol=_proto(lambda p: p.update(capabilities_required=["evm_read"])))
    w = [d for d in r.diags if d.code == "AISC-CAP-002"]
    assert r.plan is not None and w and w[0].hint == 'write "evm:read"' and w[0].severity == "warning"


def test_r054_numeric_diagnostic_has_span_and_hint(compile_ws: Callable[..., Result]) -> None:
    """R054: the error points at the literal and says how to write it."""
    r = compile_ws(workflow(node("t", "transfer", args={"token": lit_asset(), "to": B, "amount": {"lit": 2}})))
    d = next(x for x in r.diags if x.code == "AISC-NUM-001")
    assert d.hint == 'write it as a decimal string: {lit: "2"}'
    assert d.span is not None and d.path == "$.nodes[0].args.amount.lit"
