"""Protocol documents (``ais/0.0.2``, AIS-1A): frozen attrs classes built by :mod:`aisc.ir.codec`.

Mappings keep document order. ``span`` (and ``raw`` on the root) take no part in equality.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from aisc.diagnostics import Span
from aisc.ir.execution import ExecutionBlock
from aisc.ir.valueref import ValueRef
from aisc.reprs import install_reprs

SCHEMA = "ais/0.0.2"



Ext = Mapping[str, Any] | None


@attrs.frozen(slots=True, kw_only=True, repr=False)
class ProtocolMeta:
    protocol: str
    version: str
    name: str | None = None
    homepage: str | None = None
    logo: str | None = None
    description: str | None = None
    tags: tuple[str, ...] | None = None
    maintainer: str | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Deployment:
    chain: str
    contracts: Mapping[str, str]
    rpc_hints: tuple[str, ...] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class ParamConstraints:
    min: Any = None  # int | Dec (exact), never float
    max: Any = None
    enum: tuple[Any, ...] | None = None
    pattern: str | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Param:
    """An action/query parameter. ``type`` is the AIS type string as written (see :mod:`aisc.ir.types`)."""

    name: str
    type: str
    description: str
    required: bool | None = None
    default: Any = None
    has_default: bool = False
    example: Any = None
    constraints: ParamConstraints | None = None
    asset_ref: str | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)
    type_span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Return:
    name: str
    type: str
    description: str | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class HardConstraints:
    max_slippage_bps: ValueRef | None = None
    max_spend: ValueRef | None = None
    max_approval: ValueRef | None = None
    allow_unlimited_approval: ValueRef | None = None
    max_price_impact_bps: ValueRef | None = None
    min_health_factor_after: ValueRef | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class CalculatedField:
    expr: ValueRef
    inputs: tuple[str, ...] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Action:
    description: str
    risk_level: int
    execution: ExecutionBlock
    risk_tags: tuple[str, ...] | None = None
    params: tuple[Param, ...] | None = None
    returns: tuple[Return, ...] | None = None
    requires_queries: tuple[str, ...] | None = None
    hard_constraints: HardConstraints | None = None
    calculated_fields: Mapping[str, CalculatedField] | None = None
    pre_conditions: tuple[str, ...] | None = None
    side_effects: tuple[str, ...] | None = None
    capabilities_required: tuple[str, ...] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Consistency:
    block_tag: str | int | None = None
    require_same_block: bool | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Query:
    description: str
    execution: ExecutionBlock
    params: tuple[Param, ...] | None = None
    returns: tuple[Return, ...] | None = None
    cache_ttl: int | None = None
    consistency: Consistency | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Risk:
    level: str
    text: str
    applies_to: tuple[str, ...] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class SupportedAsset:
    symbol: str
    decimals: Mapping[str, int]
    addresses: Mapping[str, str]
    name: str | None = None
    coingecko_id: str | None = None
    tags: tuple[str, ...] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class ProtocolTestExpect:
    calculated: Mapping[str, Any] | None = None
    execution_type: str | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class ProtocolTest:
    name: str
    action: str
    params: Mapping[str, Any]
    expect: ProtocolTestExpect | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Protocol:
    """An ``ais/0.0.2`` protocol spec. ``raw`` is the plain JSON data of the whole document."""

    schema: str
    meta: ProtocolMeta
    deployments: tuple[Deployment, ...]
    actions: Mapping[str, Action]
    queries: Mapping[str, Query] | None = None
    risks: tuple[Risk, ...] | None = None
    supported_assets: tuple[SupportedAsset, ...] | None = None
    capabilities_required: tuple[str, ...] | None = None
    tests: tuple[ProtocolTest, ...] | None = None
    extensions: Ext = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def ref(self) -> str:
        """``<protocol>@<version>``, the key workflows use."""
        return f"{self.meta.protocol}@{self.meta.version}"


install_reprs(__name__)
