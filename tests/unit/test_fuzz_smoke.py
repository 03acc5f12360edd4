"""Each fuzz target runs a few thousand inputs in process (seeds first, then seeded mutations), so CI
exercises the targets and their oracles; the coverage-guided runs are ``python fuzz/run.py``
(docs/fuzzing.md). Fails with the offending input when a target finds a crash or a hang."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from fuzz.engine import Crash, run_random  # noqa: E402
from fuzz.oracle import OracleViolation  # noqa: E402
from fuzz.targets import TARGETS, load  # noqa: E402

RUNS = {"yaml": 1000, "cel": 3000, "abi": 2000, "solana": 3000}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_target_smoke(name: str) -> None:
    mod = load(name)
    try:
        stats = run_random(mod, runs=RUNS[name], seed=20240611)
    except Crash as c:
        pytest.fail(str(c))
    assert stats.runs == RUNS[name]
    assert stats.slowest < 2.0


def test_oracles_can_fail() -> None:
    """The harness reports an oracle violation as a crash with the input (a target that cannot
    fail would make the smoke test meaningless)."""

    class Broken:
        NAME = "broken"
        DICTIONARY = ()

        @staticmethod
        def seeds() -> list[bytes]:
            return [b"ok", b"boom"]

        @staticmethod
        def test_one(data: bytes) -> None:
            if data == b"boom":
                raise OracleViolation("boom")

    with pytest.raises(Crash) as ei:
        run_random(Broken, runs=10)  # type: ignore[arg-type]
    assert ei.value.data == b"boom" and "OracleViolation" in ei.value.error
