"""The Solana backend: ``solana_instruction`` writes and ``solana_read`` queries (SPEC-MAP §1.13, §5.4).

Entry points:

- :class:`aisc.backends.solana.backend.SolanaBackend` — the :class:`aisc.backends.base.Backend`
  implementation; config ``{chain, transport: litesvm|rpc, rpc_url?, signer?}``.
- :mod:`.instructions` — ``encode_instruction`` / ``decode_instruction`` (SPL Token, Token-2022,
  ATA, System, generic hex) and the ComputeBudget unit-limit instruction.
- :mod:`.reads` — ``execute_read`` for getBalance, getTokenAccountBalance, getAccountInfo,
  getSignatureStatuses.
- :mod:`.transport` — ``LiteSVMTransport`` (in process) and ``RpcTransport`` (JSON-RPC over httpx).
- :mod:`.local` — ``LocalChain``: LiteSVM with block heights, blockhash validity, status records and
  direct-state test helpers (mint, credit, lookup tables).
- :mod:`.devserver` — ``DevServer``: a LiteSVM-backed JSON-RPC server on 127.0.0.1 for tests.

May import: ``aisc.backends.base``, ``aisc.addresses``, ``aisc.numeric``, solders, httpx and the
standard library. Never the frontend, passes or compiler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aisc.backends.solana.backend import SolanaBackend


def make_backend(chain: str, **config: Any) -> SolanaBackend:
    """The ``backend: solana`` factory of the run config (a ``seed`` is applied, see :mod:`.seed`)."""
    from aisc.backends.solana.seed import make_backend as _make

    return _make(chain, **config)
