"""The upstream AIS conformance vectors for CEL and JCS, run unchanged (R252: all 34 numeric cases).

Read from the repository's copy of the upstream suite (``conformance/upstream``, identical to the
spec's ``specs/conformance``); ids are the case ids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aisc.eval import CelError, evaluate_cel
from aisc.jcs import canonicalize, spec_hash

VECTORS = Path(__file__).resolve().parents[3] / "conformance" / "upstream" / "vectors"
CEL_KINDS = ("cel_eval", "cel_eval_string", "cel_eval_error")


def _cases(name: str, kinds: tuple[str, ...]) -> list[Any]:
    data = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return [pytest.param(c, id=c["id"]) for c in data["cases"] if c["kind"] in kinds]


NUMERIC = _cases("numeric.json", CEL_KINDS)
CORE_CEL = _cases("core.json", CEL_KINDS)
CORE_JCS = _cases("core.json", ("jcs_canonicalize",))


def test_r252_numeric_vector_count() -> None:
    """R252: the numeric file has 34 cases and every one is a CEL kind run below."""
    data = json.loads((VECTORS / "numeric.json").read_text(encoding="utf-8"))
    assert len(data["cases"]) == 34
    assert len(NUMERIC) == 34


def _run_cel(case: dict[str, Any]) -> None:
    inp, expect = case["input"], case["expect"]
    ctx = inp.get("context") or {}
    if case["kind"] == "cel_eval_error":
        with pytest.raises(CelError) as ei:
            evaluate_cel(inp["expression"], ctx)
        if "message_includes" in expect:
            assert expect["message_includes"] in ei.value.message
        return
    value = evaluate_cel(inp["expression"], ctx)
    if case["kind"] == "cel_eval":
        assert type(value) is int
        assert str(value) == expect["value_bigint"]
    else:
        assert type(value) is str
        assert value == expect["value_string"]


@pytest.mark.parametrize("case", NUMERIC)
def test_r252_numeric_vectors(case: dict[str, Any]) -> None:
    _run_cel(case)


@pytest.mark.parametrize("case", CORE_CEL)
def test_core_cel_vectors(case: dict[str, Any]) -> None:
    _run_cel(case)


@pytest.mark.parametrize("case", CORE_JCS)
def test_core_jcs_vectors(case: dict[str, Any]) -> None:
    assert canonicalize(case["input"]["value"]) == case["expect"]["canonical"]
    assert spec_hash(case["input"]["value"]) == case["expect"]["specHashKeccak256"]
