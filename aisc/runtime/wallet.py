"""``ctx.wallet_address`` from the configured signers, when the run's ctx does not give it.

The runtime ctx is one object for the whole plan, while signers are configured per chain. The
address is filled only when it means the same account everywhere the plan runs:

* every node of the plan runs on chains of **one family** (all ``eip155:*``, or all ``solana:*``);
  a plan that mixes families never gets one (an EVM address means nothing on Solana), and
* the backends of those chains that have a signer (``Backend.signer_address(chain)``) all report
  the **same address** (EVM addresses compared ignoring case). Chains without a signer (read-only)
  do not count; two different signers leave it unset.

Otherwise nothing is filled, and a node that needs ``ctx.wallet_address`` pauses as a missing
runtime input (give it with ``--ctx``). A ``wallet_address`` given in the ctx always wins.

May import: aisc.backends.base, aisc.ir.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any, Protocol

from aisc.backends.base import Backend, BackendError


class _Router(Protocol):
    def for_node(self, chain: str, execution_type: str) -> Backend: ...


def _family(chain: str) -> str:
    return chain.split(":", 1)[0]


def infer_wallet_address(nodes: Iterable[tuple[str, str]], router: _Router) -> str | None:
    """The one signing address shared by the plan's chains, or None (see the module docstring).

    ``nodes`` are the plan's ``(chain, execution_type)`` pairs. A backend that cannot be built or
    asked (``BackendError``) counts as having no signer; the node reports that error when it runs.
    """
    pairs = sorted(set(nodes))
    if not pairs or len({_family(c) for c, _ in pairs}) != 1:
        return None
    found: dict[str, str] = {}
    asked: set[tuple[int, str]] = set()
    for chain, exec_type in pairs:
        try:
            backend = router.for_node(chain, exec_type)
            if (id(backend), chain) in asked:
                continue
            asked.add((id(backend), chain))
            addr = backend.signer_address(chain)
        except BackendError:
            continue
        if isinstance(addr, str) and addr:
            key = addr.lower() if addr.startswith("0x") else addr
            found.setdefault(key, addr)
    return next(iter(found.values())) if len(found) == 1 else None


def fill_wallet_address(ctx: MutableMapping[str, Any], nodes: Iterable[tuple[str, str]], router: _Router) -> None:
    """Set ``ctx["wallet_address"]`` from :func:`infer_wallet_address` unless the ctx already has one."""
    if ctx.get("wallet_address") is not None:
        return
    addr = infer_wallet_address(nodes, router)
    if addr is not None:
        ctx["wallet_address"] = addr
