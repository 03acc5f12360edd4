"""Names of the core execution types, kept apart from :mod:`aisc.ir.execution` so that cheap
importers (the backend interface) need not load the attrs classes."""

from __future__ import annotations

#: The execution ``type`` values with strict classes; any other ``type`` is a plugin.
CORE_EXECUTION_TYPES = (
    "evm_call",
    "evm_read",
    "evm_multiread",
    "evm_multicall",
    "solana_instruction",
    "solana_read",
    "bitcoin_psbt",
    "composite",
)

#: Execution types that only read (scheduling and policy classification, SPEC-MAP §5.1).
READ_EXECUTION_TYPES = ("evm_read", "evm_rpc", "evm_multiread", "solana_read")
