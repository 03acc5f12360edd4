"""Pack allowlist checks and provider choice for ``detect`` (SPEC-MAP §4.4, §7.5; R021–R024).

Pure functions over plain data: ``enabled`` is the pack's ``providers.detect.enabled`` list, each
entry a mapping with ``kind``, ``provider``, optional ``chains`` (absent or empty: every chain;
entries may be exact CAIP-2 ids, ``"<namespace>:*"`` or ``"*"``), optional ``priority`` (int,
default 0) and optional ``candidates``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from aisc.reprs import install_reprs

HARD_BLOCK = "hard_block"


@attrs.frozen(slots=True, repr=False)
class DetectDecision:
    """``ok`` or a ``hard_block`` with a reason (no confirmation can clear it)."""

    ok: bool
    reason: str | None = None
    provider: str | None = None
    entry: Mapping[str, Any] | None = attrs.field(default=None, eq=False)

    @property
    def status(self) -> str:
        return "ok" if self.ok else HARD_BLOCK


def chain_matches(chains: Any, chain: str | None) -> bool:
    """Absent/empty ``chains`` match every chain; otherwise exact, ``ns:*`` or ``*``."""
    if not chains:
        return True
    if chain is None:
        return False
    ns = chain.split(":", 1)[0]
    return any(c == chain or c == "*" or c == f"{ns}:*" for c in chains)


def _entries(enabled: Sequence[Mapping[str, Any]] | None, kind: str, chain: str | None) -> list[Mapping[str, Any]]:
    return [e for e in (enabled or ()) if e.get("kind") == kind and chain_matches(e.get("chains"), chain)]


def check_detect_allowed(
    enabled: Sequence[Mapping[str, Any]] | None,
    kind: str,
    provider: str | None,
    chain: str | None,
    *,
    strict_allowlist: bool = False,
) -> DetectDecision:
    """Is ``(kind, provider)`` on ``chain`` allowed by the pack (R022/R023)?

    An empty allowlist allows everything unless ``strict_allowlist``."""
    if not enabled:
        if strict_allowlist:
            return DetectDecision(False, "detect allowlist is empty")
        return DetectDecision(True, provider=provider)
    matching = _entries(enabled, kind, chain)
    if not matching:
        return DetectDecision(False, "detect kind is not allowlisted by pack")
    if provider is not None:
        for e in matching:
            if e.get("provider") == provider:
                return DetectDecision(True, provider=provider, entry=e)
        return DetectDecision(False, "detect provider is not allowlisted by pack")
    return DetectDecision(True)


def _priority(e: Mapping[str, Any]) -> int:
    p = e.get("priority")
    return p if type(p) is int else 0


def pick_detect_provider(
    enabled: Sequence[Mapping[str, Any]] | None,
    kind: str,
    chain: str | None,
    *,
    provider: str | None = None,
    candidates: Sequence[str] | None = None,
    strict_allowlist: bool = False,
) -> DetectDecision:
    """Choose the provider for a detect (R024): the explicit ``provider`` when allowed, else the
    enabled entry for ``kind`` on ``chain`` with the highest ``priority`` (missing = 0), ties broken
    by provider name. ``candidates`` optionally restricts the provider names considered."""
    if provider is not None:
        return check_detect_allowed(enabled, kind, provider, chain, strict_allowlist=strict_allowlist)
    if not enabled and strict_allowlist:
        return DetectDecision(False, "detect allowlist is empty")
    pool = _entries(enabled, kind, chain)
    if candidates is not None:
        allowed = set(candidates)
        pool = [e for e in pool if e.get("provider") in allowed]
    if not pool:
        return DetectDecision(False, "no detect provider available for kind/chain in pack allowlist")
    best = sorted(pool, key=lambda e: (-_priority(e), str(e.get("provider", ""))))[0]
    return DetectDecision(True, provider=str(best.get("provider")), entry=best)


install_reprs(__name__)
