"""The backend interface: what the runtime hands a chain backend, and what it gets back.

A backend executes one plan node's ``execution`` spec on one chain. The runtime never looks inside
chain specifics; the backend never schedules, retries ``until`` loops or applies policy.

The execution spec is passed as the plain JSON object the plan carries (ValueRefs unevaluated);
the backend calls :meth:`NodeCall.evaluate` on each ValueRef it needs, so evaluation happens against
the live runtime root (with ``params`` = the node's resolved params) and is never copied.

Durability contract (no double broadcast): before a write is broadcast the backend calls
:meth:`NodeCall.record_intent` with everything needed to find the transaction again (signed tx hash
or signature, nonce or blockhash, raw signed bytes). The runtime persists it atomically before the
call returns. On resume the runtime calls :meth:`Backend.reconcile` with that intent before anything
is re-sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import attrs

from aisc.ir.exectypes import CORE_EXECUTION_TYPES as CORE_EXECUTION_TYPES
from aisc.ir.exectypes import READ_EXECUTION_TYPES as READ_EXECUTION_TYPES
from aisc.reprs import install_reprs

IoKind = Literal["read", "write"]


def io_kind(execution_type: str) -> IoKind:
    """Reads are evm_read, evm_rpc, evm_multiread and solana_read; everything else writes."""
    return "read" if execution_type in READ_EXECUTION_TYPES else "write"


class BackendError(Exception):
    """A failure a backend reports on purpose.

    ``category`` is one of the failure categories of the bridge table (``execution_failed``,
    ``timeout``, ``rpc_unavailable``, ``validation``, ``policy_blocked``, ...). ``retryable`` says
    whether the same attempt may be tried again without risk (never true after a broadcast whose
    fate is unknown). ``details`` is JSON-able evidence (revert reason, logs, RPC error code).
    ``events`` are engine events that happened before the failure, like :attr:`ExecResult.events`
    (e.g. ``("tx_sent", {"tx_hash": ...})`` for a transaction that was broadcast and then reverted);
    the engine emits them before its ``error`` event.
    """

    def __init__(
        self,
        message: str,
        *,
        category: str = "execution_failed",
        retryable: bool = False,
        details: Mapping[str, Any] | None = None,
        events: Sequence[tuple[str, Mapping[str, Any]]] = (),
    ) -> None:
        super().__init__(message)
        self.category = category
        self.retryable = retryable
        self.details: dict[str, Any] = dict(details or {})
        self.events: tuple[tuple[str, Mapping[str, Any]], ...] = tuple(events)

    def with_events(self, events: Sequence[tuple[str, Mapping[str, Any]]]) -> BackendError:
        """The same failure, reporting ``events`` first (e.g. ``tx_sent`` of a broadcast transaction
        whose receipt or confirmation then failed)."""
        return BackendError(str(self), category=self.category, retryable=self.retryable, details=self.details,
                            events=events)


@attrs.frozen(repr=False)
class TxIntent:
    """What is persisted before a broadcast. JSON-able values only; never a private key."""

    chain: str
    account: str
    tx_id: str  # EVM: signed tx hash (0x…); Solana: base58 signature
    nonce: int | None = None  # EVM nonce
    blockhash: str | None = None  # Solana recent blockhash
    raw: str | None = None  # signed transaction bytes (hex or base64), for re-broadcast of the same bytes
    extra: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(repr=False)
class ExecResult:
    """The outcome of one successful execution.

    ``outputs`` is written to the plan node's ``writes`` targets (or ``nodes.<id>.outputs``).
    ``events`` are extra engine events ``(type, data)`` such as ``tx_sent``/``tx_confirmed``; the
    runtime adds run_id/seq/ts. ``need_user_confirm`` (reason, details) pauses the node instead
    (for example: no signer configured).
    """

    outputs: Mapping[str, Any] = attrs.field(factory=dict)
    events: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    need_user_confirm: tuple[str, Mapping[str, Any]] | None = None


@attrs.frozen(repr=False)
class NodeCall:
    """One execution request for one plan node attempt."""

    node_id: str
    chain: str
    execution: Mapping[str, Any]
    evaluate: Callable[[Any], Any]
    """Evaluate a ValueRef (``{lit|ref|cel|detect|object|array}``) against the live runtime root."""
    ctx: Mapping[str, Any] = attrs.field(factory=dict)
    attempt: int = 1
    record_intent: Callable[[TxIntent], None] = lambda intent: None
    simulate: bool = False
    """Preflight: simulate every write before broadcast; a failing simulation raises BackendError."""

    @property
    def execution_type(self) -> str:
        return str(self.execution.get("type", ""))

    @property
    def io(self) -> IoKind:
        return io_kind(self.execution_type)


@runtime_checkable
class Backend(Protocol):
    """A chain backend. Implementations: ``aisc.backends.evm``, ``aisc.backends.solana``, fakes."""

    name: str

    def supports(self, chain: str, execution_type: str) -> bool:
        """True when this backend can execute ``execution_type`` on ``chain``."""
        ...

    def execute(self, call: NodeCall) -> ExecResult:
        """Run one node attempt. Raise :class:`BackendError` on failure."""
        ...

    def preview(self, call: NodeCall) -> dict[str, Any]:
        """The write preview the policy gate reads (SPEC-MAP §7.2); no side effects."""
        ...

    def reconcile(self, intent: TxIntent) -> ExecResult | None:
        """After a crash: the result if the intent's transaction landed, None if it surely did not.

        Raise :class:`BackendError` (retryable) when the fate cannot be decided yet.
        """
        ...

    def signer_address(self, chain: str) -> str | None:
        """The account writes on ``chain`` are signed by, or None (→ need_user_confirm)."""
        ...

    def close(self) -> None: ...


install_reprs(__name__)
