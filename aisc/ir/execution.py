"""ExecutionSpec: the tagged union on ``type`` (AIS-2 EVM, Solana, composite, plugins).

Core types (:data:`CORE_EXECUTION_TYPES`) have strict classes; any other ``type`` is a
:class:`PluginExecution` with open fields (SPEC-MAP D3: dispatch on ``type``, so a core name can
never fall back to the permissive plugin shape). Every spec keeps ``raw``, its plain-JSON form as
written in the source document, so the compiler can copy it verbatim into a plan. ``raw`` and
``span`` take no part in equality.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from aisc.diagnostics import Span
from aisc.ir.exectypes import CORE_EXECUTION_TYPES as CORE_EXECUTION_TYPES
from aisc.ir.exectypes import READ_EXECUTION_TYPES as READ_EXECUTION_TYPES
from aisc.ir.valueref import ValueRef
from aisc.reprs import install_reprs

STEP_ID_PATTERN = r"^[a-zA-Z0-9_-]+$"






@attrs.frozen(slots=True, kw_only=True, repr=False)
class AbiParam:
    """A JSON ABI parameter ``{name, type, components?}`` (strict, R195)."""

    name: str
    type: str
    components: tuple[AbiParam, ...] | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class AbiFunction:
    """``{type: "function", name, inputs, outputs?}``."""

    name: str
    inputs: tuple[AbiParam, ...]
    outputs: tuple[AbiParam, ...] | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def type(self) -> str:
        return "function"


class _Core:
    TYPE: ClassVar[str]

    @property
    def type(self) -> str:
        return self.TYPE


@attrs.frozen(slots=True, kw_only=True, repr=False)
class EvmCall(_Core):
    TYPE: ClassVar[str] = "evm_call"
    to: ValueRef
    abi: AbiFunction
    args: Mapping[str, ValueRef]
    value: ValueRef | None = None
    extensions: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class EvmRead(_Core):
    TYPE: ClassVar[str] = "evm_read"
    to: ValueRef
    abi: AbiFunction
    args: Mapping[str, ValueRef]
    extensions: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class MultireadCall:
    id: str
    to: ValueRef
    abi: AbiFunction
    args: Mapping[str, ValueRef]
    extensions: Mapping[str, Any] | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class EvmMultiread(_Core):
    TYPE: ClassVar[str] = "evm_multiread"
    method: str
    calls: tuple[MultireadCall, ...]
    extensions: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class MulticallCall:
    abi: AbiFunction
    args: Mapping[str, ValueRef]
    condition: ValueRef | None = None
    extensions: Mapping[str, Any] | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class EvmMulticall(_Core):
    TYPE: ClassVar[str] = "evm_multicall"
    to: ValueRef
    calls: tuple[MulticallCall, ...]
    deadline: ValueRef | None = None
    extensions: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class SolanaAccount:
    name: str
    pubkey: ValueRef
    signer: ValueRef
    writable: ValueRef
    extensions: Mapping[str, Any] | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class SolanaInstruction(_Core):
    TYPE: ClassVar[str] = "solana_instruction"
    program: ValueRef
    instruction: str
    accounts: tuple[SolanaAccount, ...]
    data: ValueRef
    discriminator: ValueRef | None = None
    compute_units: ValueRef | None = None
    lookup_tables: ValueRef | None = None
    extensions: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class SolanaRead(_Core):
    TYPE: ClassVar[str] = "solana_read"
    method: str
    params: ValueRef | None = None
    extensions: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class BitcoinPsbt(_Core):
    TYPE: ClassVar[str] = "bitcoin_psbt"
    script_type: str
    mapping: Mapping[str, ValueRef]
    extensions: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class CompositeStep:
    """One step of a composite (R170): its ``execution`` is a plain spec, never a composite."""

    id: str
    execution: ExecutionSpec
    description: str | None = None
    condition: ValueRef | None = None
    chain: str | None = None
    extensions: Mapping[str, Any] | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Composite(_Core):
    TYPE: ClassVar[str] = "composite"
    steps: tuple[CompositeStep, ...]
    extensions: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class PluginExecution:
    """A non-core execution type; ``fields`` holds every key except ``type`` as plain JSON."""

    type: str
    fields: Mapping[str, Any]
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


ExecutionSpec = (
    EvmCall
    | EvmRead
    | EvmMultiread
    | EvmMulticall
    | SolanaInstruction
    | SolanaRead
    | BitcoinPsbt
    | Composite
    | PluginExecution
)

#: An execution block: chain pattern (exact CAIP-2, ``"<ns>:*"`` or ``"*"``) → spec (R190).
ExecutionBlock = Mapping[str, ExecutionSpec]


def is_read_type(execution_type: str) -> bool:
    return execution_type in READ_EXECUTION_TYPES


install_reprs(__name__)
