"""Plan skeletons (``ais-plan-skeleton/0.0.1``): a lightweight node list an agent proposes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from aisc.diagnostics import Span
from aisc.ir.valueref import ValueRef
from aisc.reprs import install_reprs

SCHEMA = "ais-plan-skeleton/0.0.1"



Ext = Mapping[str, Any] | None


@attrs.frozen(slots=True, kw_only=True, repr=False)
class SkeletonMeta:
    name: str | None = None
    description: str | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class SkeletonRetry:
    interval_ms: int
    max_attempts: int | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class SkeletonNode:
    """``type`` is ``action_ref`` (needs ``action``) or ``query_ref`` (needs ``query``)."""

    id: str
    type: str
    protocol: str
    action: str | None = None
    query: str | None = None
    chain: str | None = None
    deps: tuple[str, ...] | None = None
    args: Mapping[str, ValueRef] | None = None
    condition: ValueRef | None = None
    until: ValueRef | None = None
    retry: SkeletonRetry | None = None
    timeout_ms: int | None = None
    extensions: Ext = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class PlanSkeleton:
    schema: str
    nodes: tuple[SkeletonNode, ...]
    meta: SkeletonMeta | None = None
    default_chain: str | None = None
    policy_hints: Mapping[str, Any] | None = None
    extensions: Ext = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


install_reprs(__name__)
