"""Conformance vector files (``ais-conformance/0.0.2``, AIS-4).

``input`` and ``expect`` stay plain JSON (the vectors carry raw values, not ValueRefs); the codec
checks their shape per ``kind`` (:data:`CASE_KINDS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from aisc.diagnostics import Span
from aisc.reprs import install_reprs

SCHEMA = "ais-conformance/0.0.2"

CASE_KINDS = (
    "jcs_canonicalize",
    "cel_eval",
    "cel_eval_string",
    "cel_eval_error",
    "evm_json_abi_encode",
    "select_execution_spec",
    "select_execution_spec_error",
    "workflow_plan",
)



@attrs.frozen(slots=True, kw_only=True, repr=False)
class ConformanceCase:
    id: str
    kind: str
    input: Mapping[str, Any]
    expect: Mapping[str, Any] | None = None
    extensions: Mapping[str, Any] | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True, repr=False)
class ConformanceFile:
    schema: str
    cases: tuple[ConformanceCase, ...]
    extensions: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


install_reprs(__name__)
