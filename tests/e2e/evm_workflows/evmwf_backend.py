"""Test-side factory for the run config: ``backends: {anvil: {factory: "evmwf_backend:make_backend"}}``.

The built-in ``backend: evm`` of :mod:`aisc.backends.registry` points at
``aisc.backends.evm:make_backend``, which does not exist (see test_builtin_evm_backend_in_run_config
in test_evm_workflows_cli.py). Until it does, the workflow tests route the chain through this
two-line factory, which builds the real :class:`EvmBackend` from the same keys.
"""

from __future__ import annotations

from typing import Any

from aisc.backends.evm.backend import EvmBackend


def make_backend(chain: str, **config: Any) -> EvmBackend:
    return EvmBackend({"chain": chain, **config})
