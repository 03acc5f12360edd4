"""Pack documents (``ais-pack/0.0.2``, AIS-1B): allowlists and policy, strict (R070)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from aisc.diagnostics import Span
from aisc.reprs import install_reprs

SCHEMA = "ais-pack/0.0.2"



Ext = Mapping[str, Any] | None


@attrs.frozen(slots=True, kw_only=True, repr=False)
class PackMeta:
    name: str
    version: str
    description: str | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class PackInclude:
    protocol: str
    version: str
    source: str | None = None
    uri: str | None = None
    chain_scope: tuple[str, ...] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Approvals:
    auto_execute_max_risk_level: int | None = None
    require_approval_min_risk_level: int | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class HardConstraintsDefaults:
    """Pack-level limits. ``max_spend``/``max_approval`` are decimal strings (R117), never YAML numbers."""

    max_spend: str | None = None
    max_approval: str | None = None
    max_slippage_bps: int | None = None
    allow_unlimited_approval: bool | None = None
    max_approval_multiplier: Any = None  # int | Dec, exact
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class PackPolicy:
    approvals: Approvals | None = None
    hard_constraints_defaults: HardConstraintsDefaults | None = None
    risk_threshold: int | None = None
    approval_required: tuple[str, ...] | None = None
    hard_constraints: HardConstraintsDefaults | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class TokenResolution:
    allow_symbol_input: bool | None = None
    require_user_confirm_asset_address: bool | None = None
    require_allowlist_for_symbol_resolution: bool | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class TokenAllowlistEntry:
    chain: str
    symbol: str
    address: str
    decimals: int | None = None
    tags: tuple[str, ...] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class TokenPolicy:
    resolution: TokenResolution | None = None
    allowlist: tuple[TokenAllowlistEntry, ...] | None = None
    strict: bool | None = None
    permissive: bool | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class QuoteProvider:
    provider: str
    chains: tuple[str, ...] | None = None
    priority: int | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class QuoteProviders:
    enabled: tuple[QuoteProvider, ...] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class DetectProvider:
    kind: str
    provider: str
    chains: tuple[str, ...] | None = None
    candidates: tuple[Any, ...] | None = None
    rule: str | None = None
    priority: int | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class DetectProviders:
    enabled: tuple[DetectProvider, ...] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Providers:
    quote: QuoteProviders | None = None
    detect: DetectProviders | None = None
    routing: tuple[str, ...] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class PluginAllow:
    type: str
    chains: tuple[str, ...] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class PluginExecutionAllowlist:
    enabled: tuple[PluginAllow, ...] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Plugins:
    execution: PluginExecutionAllowlist | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class ActionOverride:
    risk_tags: tuple[str, ...] | None = None
    hard_constraints: HardConstraintsDefaults | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Overrides:
    actions: Mapping[str, ActionOverride] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Pack:
    schema: str
    includes: tuple[PackInclude, ...]
    name: str | None = None
    version: str | None = None
    description: str | None = None
    meta: PackMeta | None = None
    policy: PackPolicy | None = None
    token_policy: TokenPolicy | None = None
    providers: Providers | None = None
    plugins: Plugins | None = None
    overrides: Overrides | None = None
    extensions: Ext = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def identity(self) -> tuple[str, str] | None:
        """``(name, version)`` from ``meta`` or the top level (R074, D5); None when absent."""
        if self.meta is not None:
            return self.meta.name, self.meta.version
        if self.name is not None and self.version is not None:
            return self.name, self.version
        return None


install_reprs(__name__)
