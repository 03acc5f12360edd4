"""Every case of every bundled conformance suite (R250, R252), one test per case (id = case id).

Cases whose feature is not written yet are marked ``xfail(strict=True)`` by :data:`PENDING`, an
explicit kind → reason table. Nothing is skipped: when the feature lands the case passes, the strict
xfail turns into a failure, and the entry must be removed from the table.
"""

from __future__ import annotations

import pytest

from aisc.conformance import runner

PENDING: dict[str, str] = {}

SUITES = runner.load()
CASES = [c for s in SUITES for c in s.cases]


def _param(case: runner.Case) -> object:
    marks = []
    if case.kind in PENDING:
        marks.append(pytest.mark.xfail(strict=True, reason=PENDING[case.kind]))
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_r250_vector(case: runner.Case) -> None:
    from aisc.conformance.report import evidence

    result = runner.run_case(case)
    assert result.status == "passed", "\n".join([f"{case.ref} [{case.kind}]", *evidence(result.outcome)])


def test_r252_all_upstream_cases_are_collected() -> None:
    """The 49 upstream cases (34 of them numeric, all mandatory per R252) are part of the run."""
    upstream = [c for c in CASES if c.file.startswith("upstream/")]
    assert len(upstream) == 49
    assert sum(1 for c in upstream if c.file == "upstream/vectors/numeric.json") == 34


def test_pending_table_has_no_stale_entries() -> None:
    kinds = {c.kind for c in CASES}
    assert sorted(set(PENDING) - kinds) == []
