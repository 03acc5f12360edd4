"""Properties of the bundled conformance vectors: R251 (deterministic, portable, no network or clock)
and R255 (the planned conformance areas are present)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from aisc.conformance import runner

ROOT = Path(__file__).resolve().parents[2] / "conformance"
OWN = sorted((ROOT / "aisc").glob("*.json"))
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
URL = re.compile(r"(?i)\b(?:https?|wss?)://")
ABS_PATH = re.compile(r'"(?:/(?:home|tmp|usr|work|Users)/|[A-Za-z]:\\\\)')


def test_r251_own_vectors_have_no_timestamps_urls_or_local_paths() -> None:
    """R251: vectors are portable and need no clock or network: no RFC3339 timestamps, URLs or
    absolute local paths anywhere in the files."""
    assert OWN, "no own vector files found"
    for f in OWN:
        text = f.read_text(encoding="utf-8")
        json.loads(text)
        assert not TIMESTAMP.search(text), f.name
        assert not URL.search(text), f.name
        assert not ABS_PATH.search(text), f.name


def test_r251_every_case_gives_the_same_outcome_twice() -> None:
    """R251: running a case is deterministic (same status and message on a second run)."""
    cases = [c for s in runner.load() for c in s.cases]

    def outcomes() -> list[tuple[str, str, str]]:
        return [(c.id, r.status, r.outcome.message) for c in cases for r in [runner.run_case(c)]]

    assert outcomes() == outcomes()


def test_r255_planned_areas_have_vectors() -> None:
    """R255: ValueRef evaluation, numeric, EVM ABI (including tuples), chain patterns and specHash each
    have vectors."""
    cases = [c for s in runner.load() for c in s.cases]
    kinds = {c.kind for c in cases}
    assert "valueref_eval" in kinds                                                      # ValueRef eval
    assert {"cel_eval", "cel_eval_string", "cel_eval_error"} <= kinds                   # numeric
    assert {"evm_json_abi_encode", "evm_json_abi_decode"} <= kinds                       # EVM ABI
    assert {"select_execution_spec", "select_execution_spec_error"} <= kinds             # chain patterns
    assert "jcs_canonicalize" in kinds                                                   # specHash
    abi_inputs = [json.dumps(c.input) for c in cases if c.kind.startswith("evm_json_abi")]
    assert any('"tuple' in x for x in abi_inputs)                                        # tuples


def test_r058_r017_valueref_vectors_cover_the_required_behaviours() -> None:
    """R058 (missing refs carry their path), R017 (detect capabilities), R051 (every ValueRef form) and
    R019 (choose_one) each have at least one valueref_eval vector."""
    cases = [c for s in runner.load() for c in s.cases if c.kind == "valueref_eval"]
    ids = " ".join(c.id for c in cases)
    for prefix in ("r058-", "r017-", "r051-", "r052-", "r019-", "r063-"):
        assert prefix in ids, prefix
    tags = {next(iter(c.input["value_ref"])) for c in cases if isinstance(c.input.get("value_ref"), dict)}
    assert {"lit", "ref", "cel", "object", "array", "detect"} <= tags
    assert any("missing_ref" in (c.expect or {}) for c in cases)


def test_own_suites_have_at_least_80_cases_for_valueref_lowering_and_values() -> None:
    """The ValueRef, lowering and typed-value suites (R110-R119, R152-R154, D12) stay load-bearing."""
    names = {"valueref.json", "lowering.json", "values.json"}
    n = sum(len(json.loads(f.read_text(encoding="utf-8"))["cases"]) for f in OWN if f.name in names)
    assert n >= 80
