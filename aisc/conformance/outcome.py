"""The result of checking one conformance case."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from aisc.reprs import install_reprs


@attrs.frozen(repr=False)
class Outcome:
    """``passed`` plus evidence for a readable diff when it did not."""

    passed: bool
    expected: Any = None
    actual: Any = None
    message: str = ""
    relation: Literal["equal", "substring"] = "equal"
    """How ``expected`` relates to ``actual`` when the case passes: equal values, or ``expected`` is a
    substring of ``actual`` (error-message checks). Only used to label the failure report."""


KindHandler = Callable[[Mapping[str, Any], Mapping[str, Any] | None], Outcome]
"""``handler(case_input, case_expect) -> Outcome``. Raise nothing: report failures as Outcomes."""


install_reprs(__name__)
