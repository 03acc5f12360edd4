"""EVM backend: runs evm_read, evm_call, evm_multiread, evm_multicall and the evm_rpc plugin on an
EVM chain through JSON-RPC (SPEC-MAP §1.11, §5.3).

Entry points:

* :class:`aisc.backends.evm.backend.EvmBackend` — the :class:`aisc.backends.base.Backend`
  implementation, built from ``{chain: "eip155:<id>", rpc_url, signer: {...}}``;
* :mod:`aisc.backends.evm.abi` — AIS JSON ABI encoding/decoding (``encode_call``,
  ``decode_outputs``, ``function_selector``, ``AbiError``);
* :mod:`aisc.backends.evm.rpc` — JSON-RPC client (keep-alive, batching, retries), fees, nonces;
* :mod:`aisc.backends.evm.signers` — env-var key, keystore and node-unlocked signers.

May import: ``aisc.backends.base``, ``aisc.numeric``, ``aisc.diagnostics`` and third-party
eth-abi, eth-account, pycryptodome, httpx. Never the frontend, passes, compiler or runtime.
User documentation: docs/evm.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EvmBackend", "make_backend"]


def make_backend(chain: str, **config: Any) -> Any:
    """The ``backend: evm`` factory of the run config: ``{rpc_url, signer, ...}`` for ``chain``."""
    from aisc.backends.evm.backend import EvmBackend

    return EvmBackend({"chain": chain, **config})


def __getattr__(name: str) -> Any:
    # Lazy: importing the package (e.g. for the ABI module) must not pull in eth-account.
    if name == "EvmBackend":
        from aisc.backends.evm.backend import EvmBackend

        return EvmBackend
    raise AttributeError(name)
