"""Pack allowlist and provider choice for detect (R021–R024; SPEC-MAP §7.5)."""

from __future__ import annotations

from typing import Any

import pytest

from aisc.eval.detect import chain_matches, check_detect_allowed, pick_detect_provider

ENABLED: list[dict[str, Any]] = [
    {"kind": "best_quote", "provider": "zeta", "priority": 5},
    {"kind": "best_quote", "provider": "alpha", "priority": 5, "chains": ["eip155:1"]},
    {"kind": "best_quote", "provider": "low", "chains": ["eip155:*"]},
    {"kind": "protocol_specific", "provider": "uni-fee", "chains": ["eip155:1", "eip155:10"], "priority": 1},
    {"kind": "best_path", "provider": "sol-router", "chains": ["solana:*"]},
]

CHECKS = [
    # kind, provider, chain, ok, reason
    ("best_quote", "zeta", "eip155:1", True, None),
    ("best_quote", "alpha", "eip155:1", True, None),
    ("best_quote", "alpha", "eip155:10", False, "detect provider is not allowlisted by pack"),
    ("best_quote", "nobody", "eip155:1", False, "detect provider is not allowlisted by pack"),
    ("best_quote", None, "eip155:8453", True, None),
    ("best_path", None, "eip155:1", False, "detect kind is not allowlisted by pack"),
    ("best_path", "sol-router", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", True, None),
    ("choose_one", None, "eip155:1", False, "detect kind is not allowlisted by pack"),
    ("protocol_specific", "uni-fee", "eip155:137", False, "detect kind is not allowlisted by pack"),
]


@pytest.mark.parametrize(("kind", "provider", "chain", "ok", "reason"), CHECKS)
def test_r022_r023_check_detect_allowed(kind: str, provider: str | None, chain: str, ok: bool,
                                        reason: str | None) -> None:
    d = check_detect_allowed(ENABLED, kind, provider, chain)
    assert (d.ok, d.reason) == (ok, reason)
    assert d.status == ("ok" if ok else "hard_block")


def test_r022_empty_allowlist() -> None:
    assert check_detect_allowed([], "best_quote", "x", "eip155:1").ok
    assert check_detect_allowed(None, "best_quote", None, None).ok
    strict = check_detect_allowed([], "best_quote", "x", "eip155:1", strict_allowlist=True)
    assert (strict.ok, strict.reason) == (False, "detect allowlist is empty")


PICKS = [
    # kind, chain, provider, candidates, expected provider or None (hard block)
    ("best_quote", "eip155:1", None, None, "alpha"),  # priority tie 5/5 -> name order
    ("best_quote", "eip155:10", None, None, "zeta"),  # alpha is chain-scoped to eip155:1
    ("best_quote", "eip155:1", None, ["low"], "low"),
    ("best_quote", "eip155:1", None, ["zeta", "low"], "zeta"),
    ("best_quote", "eip155:1", "low", None, "low"),
    ("best_quote", "eip155:1", None, ["nobody"], None),
    ("protocol_specific", "eip155:10", None, None, "uni-fee"),
    ("protocol_specific", "eip155:137", None, None, None),
    ("best_path", "eip155:1", None, None, None),
]


@pytest.mark.parametrize(("kind", "chain", "provider", "cands", "want"), PICKS)
def test_r024_pick_detect_provider(kind: str, chain: str, provider: str | None, cands: list[str] | None,
                                   want: str | None) -> None:
    d = pick_detect_provider(ENABLED, kind, chain, provider=provider, candidates=cands)
    if want is None:
        assert not d.ok
        assert d.reason in ("no detect provider available for kind/chain in pack allowlist",
                            "detect kind is not allowlisted by pack")
    else:
        assert d.ok and d.provider == want


def test_pick_strict_empty_allowlist_blocks() -> None:
    d = pick_detect_provider([], "best_quote", "eip155:1", strict_allowlist=True)
    assert (d.ok, d.reason) == (False, "detect allowlist is empty")


@pytest.mark.parametrize(("chains", "chain", "want"), [
    (None, "eip155:1", True), ([], "eip155:1", True), (["*"], "solana:x", True),
    (["eip155:*"], "eip155:42161", True), (["eip155:1"], "eip155:10", False), (["eip155:1"], None, False)])
def test_chain_matches(chains: list[str] | None, chain: str | None, want: bool) -> None:
    assert chain_matches(chains, chain) is want
