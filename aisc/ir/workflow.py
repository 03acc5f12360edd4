"""Workflow documents (``ais-flow/0.0.3``, AIS-1C)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from aisc.diagnostics import Span
from aisc.ir.valueref import ValueRef
from aisc.reprs import install_reprs

SCHEMA = "ais-flow/0.0.3"
NODE_TYPES = ("query_ref", "action_ref")



Ext = Mapping[str, Any] | None


@attrs.frozen(slots=True, kw_only=True, repr=False)
class WorkflowMeta:
    name: str
    version: str
    description: str | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class ProtocolImport:
    protocol: str
    path: str
    integrity: str | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Imports:
    protocols: tuple[ProtocolImport, ...] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class RequiresPack:
    name: str
    version: str
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class WorkflowInput:
    type: str
    required: bool | None = None
    default: Any = None
    has_default: bool = False
    example: Any = None
    description: str | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class CalculatedOverride:
    expr: ValueRef
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Retry:
    interval_ms: int
    max_attempts: int | None = None
    backoff: str | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class WorkflowNode:
    id: str
    type: str
    protocol: str
    chain: str | None = None
    query: str | None = None
    action: str | None = None
    args: Mapping[str, ValueRef] | None = None
    calculated_overrides: Mapping[str, CalculatedOverride] | None = None
    deps: tuple[str, ...] | None = None
    condition: ValueRef | None = None
    assert_: ValueRef | None = None
    assert_message: str | None = None
    until: ValueRef | None = None
    retry: Retry | None = None
    timeout_ms: int | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class WorkflowPolicy:
    approvals: Mapping[str, Any] | None = None
    hard_constraints: Mapping[str, Any] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Preflight:
    simulate: Mapping[str, bool] | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class Workflow:
    schema: str
    meta: WorkflowMeta
    nodes: tuple[WorkflowNode, ...]
    default_chain: str | None = None
    imports: Imports | None = None
    requires_pack: RequiresPack | None = None
    inputs: Mapping[str, WorkflowInput] | None = None
    policy: WorkflowPolicy | None = None
    preflight: Preflight | None = None
    outputs: Mapping[str, ValueRef] | None = None
    extensions: Ext = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


install_reprs(__name__)
