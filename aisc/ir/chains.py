"""Chain ids (CAIP-2) and execution-block pattern selection (R190–R193, R230)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TypeVar

CAIP2 = re.compile(r"^(eip155|solana|cosmos|bip122|aptos|sui):[a-zA-Z0-9._-]+$")

T = TypeVar("T")


class NoExecutionMatch(LookupError):
    """No key of an execution block matches the chain (R192: no implicit default)."""


@functools.lru_cache(maxsize=1024)
def is_caip2(chain: str) -> bool:
    """Whether ``chain`` is a CAIP-2 id (remembered: documents repeat a handful of chains)."""
    return bool(CAIP2.match(chain))


def chain_namespace(chain: str) -> str:
    return chain.split(":", 1)[0]


def select_execution(block: Mapping[str, T], chain: str) -> T:
    """Pick the spec for ``chain``: exact key, then ``"<namespace>:*"``, then ``"*"``."""
    if chain in block:
        return block[chain]
    ns_key = f"{chain_namespace(chain)}:*"
    if ns_key in block:
        return block[ns_key]
    if "*" in block:
        return block["*"]
    keys = ", ".join(sorted(block)) or "none"
    raise NoExecutionMatch(f'No execution matches chain "{chain}" (execution keys: {keys})')


def selected_key(block: Mapping[str, object], chain: str) -> str:
    """The key :func:`select_execution` would use."""
    for key in (chain, f"{chain_namespace(chain)}:*", "*"):
        if key in block:
            return key
    raise NoExecutionMatch(f'No execution matches chain "{chain}"')
