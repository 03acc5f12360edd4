"""The result of checking one conformance case."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs


@attrs.frozen
class Outcome:
    """``passed`` plus evidence for a readable diff when it did not."""

    passed: bool
    expected: Any = None
    actual: Any = None
    message: str = ""


KindHandler = Callable[[Mapping[str, Any], Mapping[str, Any] | None], Outcome]
"""``handler(case_input, case_expect) -> Outcome``. Raise nothing: report failures as Outcomes."""
