"""Differential test: aisc's strict loader vs the upstream JSON Schemas (schemas/0.0.2).

Over the examples and >= 2,000 hypothesis-mutated documents (fields added, removed, retyped),
aisc accepts exactly when the schema accepts, except for these listed, stricter refinements:

* D3 — core execution types are strict (the schema's plugin catch-all arm accepts e.g. an
  ``evm_call`` with an unknown field); errors located inside an execution spec.
* integers written as float literals (``1.0``) are not integers (AISC-SCHEMA-011, SPEC-MAP §10).
* ``{ref: ""}`` / ``{cel: ""}`` are rejected (a ValueRef path/expression must be non-empty).
* composite step ids unique and no nested composite (AISC-SCHEMA-009/010, inside execution specs).
"""

from __future__ import annotations

import copy
import glob
import json
import re
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aisc.frontend import load_file, load_text
from aisc.numeric import Dec, format_decimal
from tests.support.jsontree import get, paths

SCHEMAS = "/work/shared/ais/schemas/0.0.2"
EX = "/work/shared/ais/examples"
KIND_SCHEMA = {"protocol": "protocol", "pack": "pack", "workflow": "workflow"}
SUFFIX = {"protocol": ".ais.json", "pack": ".ais-pack.json", "workflow": ".ais-flow.json"}

_VALIDATORS: dict[str, Any] = {}


def validator(kind: str) -> Any:
    if kind not in _VALIDATORS:
        with open(f"{SCHEMAS}/{KIND_SCHEMA[kind]}.schema.json") as fh:
            _VALIDATORS[kind] = jsonschema.Draft202012Validator(json.load(fh))
    return _VALIDATORS[kind]


class FloatOne:
    """A number written ``1.0`` in the JSON text."""


def dump(v: Any) -> str:
    if isinstance(v, FloatOne):
        return "1.0"
    if isinstance(v, Dec):
        return format_decimal(v)
    if isinstance(v, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dump(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(dump(x) for x in v) + "]"
    return json.dumps(v)


def seeds() -> list[tuple[str, Any]]:
    out = []
    for path in sorted(glob.glob(f"{EX}/*.yaml")):
        doc = load_file(path)
        assert doc.kind is not None
        out.append((doc.kind, doc.raw))
    return out


SEEDS = seeds()
STRICT_PATH = re.compile(r"\.execution(\.|\[)")
REPLACEMENTS: list[Any] = ["", "x", "eip155:1", "uint256", "0.0.2", "fixed", "function", "evm_call", "composite",
                           0, 1, -1, 7, Dec(15, 1), FloatOne(), True, False, None, [], {}, ["x"], {"lit": 1},
                           {"ref": ""}, {"cel": "1"}, {"type": "evm_read"}]
NEW_KEYS = ["foo", "extensions", "type", "name", "description", "steps", "value", "risk_level", "id"]


def aisc_verdict(kind: str, data: Any) -> tuple[bool, list[Any]]:
    doc = load_text(dump(data), "doc" + SUFFIX[kind])
    errs = [d for d in doc.diagnostics if d.is_error]
    return not errs, errs


def allowed_refinement(errs: list[Any]) -> bool:
    for d in errs:
        if d.code == "AISC-SCHEMA-011":
            continue
        if d.path and STRICT_PATH.search(d.path):
            continue
        if d.code == "AISC-SCHEMA-006" and d.message in ("ref must not be empty", "cel must not be empty"):
            continue
        return False
    return True


def compare(kind: str, data: Any) -> None:
    schema_ok = validator(kind).is_valid(json.loads(dump(data)))
    ok, errs = aisc_verdict(kind, data)
    if ok:
        assert schema_ok, f"aisc accepted a document the schema rejects: {dump(data)[:400]}"
    elif schema_ok:
        assert allowed_refinement(errs), [(d.code, d.path, d.message) for d in errs]


@pytest.mark.parametrize("i", range(len(SEEDS)))
def test_examples_agree(i: int) -> None:
    kind, data = SEEDS[i]
    assert validator(kind).is_valid(json.loads(dump(data)))
    assert aisc_verdict(kind, data)[0]


@st.composite
def mutated(draw: Any) -> tuple[str, Any]:
    kind, base = draw(st.sampled_from(SEEDS))
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        ps = paths(data)
        p = draw(st.sampled_from(ps))
        op = draw(st.sampled_from(["add", "remove", "retype", "retype"]))
        target = get(data, p)
        if op == "add" and isinstance(target, dict):
            target[draw(st.sampled_from(NEW_KEYS))] = draw(st.sampled_from(REPLACEMENTS))
        elif op == "remove" and p:
            parent = get(data, p[:-1])
            del parent[p[-1]]
        elif p:
            get(data, p[:-1])[p[-1]] = copy.deepcopy(draw(st.sampled_from(REPLACEMENTS)))
    return kind, data


@settings(max_examples=2000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_mutations_agree_with_schema(case: tuple[str, Any]) -> None:
    """R070/R090/R140: aisc accepts exactly what the schema accepts, modulo the listed refinements."""
    compare(*case)


REFINEMENTS = [
    ("d3_core_spec_extra_field", ["actions", "approve", "execution", "eip155:*"], "gas", "1"),
]


def test_listed_refinements_are_stricter() -> None:
    """Each listed refinement: the schema accepts, aisc rejects (so the exception list stays honest)."""
    kind, base = next(s for s in SEEDS if s[0] == "protocol" and "approve" in s[1]["actions"])
    d3 = copy.deepcopy(base)
    spec = next(iter(d3["actions"]["approve"]["execution"].values()))
    spec["gas"] = "1"
    one = copy.deepcopy(base)
    one["actions"]["approve"]["risk_level"] = FloatOne()
    empty_ref = copy.deepcopy(base)
    empty_ref["actions"]["approve"]["calculated_fields"] = {"c": {"expr": {"ref": ""}}}
    for data, code in ((d3, "AISC-SCHEMA-001"), (one, "AISC-SCHEMA-011"), (empty_ref, "AISC-SCHEMA-006")):
        assert validator(kind).is_valid(json.loads(dump(data)))
        ok, errs = aisc_verdict(kind, data)
        assert not ok and {d.code for d in errs} == {code}
