"""Test-side run-config factory for the EVM chain: ``backends: {anvil: {factory: "xc_evm_backend:make_backend"}}``.

The built-in ``backend: evm`` of :mod:`aisc.backends.registry` names ``aisc.backends.evm:make_backend``,
which the EVM package does not define yet; this builds the same :class:`EvmBackend` from the same keys.
"""

from __future__ import annotations

from typing import Any

from aisc.backends.evm.backend import EvmBackend


def make_backend(chain: str, **config: Any) -> EvmBackend:
    return EvmBackend({"chain": chain, **config})
