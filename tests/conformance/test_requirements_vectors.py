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
    """R255: numeric, EVM ABI (including tuples), chain patterns and specHash each have vectors.
    (ValueRef evaluation has no vector kind; it is covered by tests/unit/eval.)"""
    cases = [c for s in runner.load() for c in s.cases]
    kinds = {c.kind for c in cases}
    assert {"cel_eval", "cel_eval_string", "cel_eval_error"} <= kinds                   # numeric
    assert {"evm_json_abi_encode", "evm_json_abi_decode"} <= kinds                       # EVM ABI
    assert {"select_execution_spec", "select_execution_spec_error"} <= kinds             # chain patterns
    assert "jcs_canonicalize" in kinds                                                   # specHash
    abi_inputs = [json.dumps(c.input) for c in cases if c.kind.startswith("evm_json_abi")]
    assert any('"tuple' in x for x in abi_inputs)                                        # tuples
