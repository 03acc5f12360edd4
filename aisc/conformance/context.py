"""The file of the case being checked, for handlers that read files stored next to it (goldens).

The runner sets :data:`CASE_FILE` around each handler call; handlers keep the fixed signature
``handler(case_input, case_expect)`` and ask :func:`find_golden` for sibling files.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path, PurePosixPath

CASE_FILE: ContextVar[Path | None] = ContextVar("aisc_conformance_case_file", default=None)
"""Path of the vector file whose case is running (``None`` outside a run)."""


class GoldenError(LookupError):
    """A golden file name that is unsafe, or that names no file near the vector file."""


def golden_candidates(vector_file: Path, name: str) -> list[Path]:
    """Where a golden named ``name`` may live, in lookup order.

    The upstream layout keeps ``vectors/`` and ``golden/`` side by side, so ``<dir>/../golden`` comes
    first; ``<dir>/golden`` serves suites that keep their goldens in a subfolder.
    """
    pure = PurePosixPath(name)
    if not name or pure.is_absolute() or "\\" in name or any(p in ("..", "") for p in pure.parts):
        raise GoldenError(f"golden_file {name!r} must be a relative path without '..'")
    here = vector_file.parent
    return [here.parent / "golden" / pure, here / "golden" / pure]


def find_golden(name: str) -> Path:
    """The golden file ``name`` for the running case; :class:`GoldenError` when absent or unsafe."""
    vector_file = CASE_FILE.get()
    if vector_file is None:
        raise GoldenError("no vector file is set (find_golden is only usable during a run)")
    candidates = golden_candidates(vector_file, name)
    for c in candidates:
        if c.is_file():
            return c
    tried = ", ".join(str(c) for c in candidates)
    raise GoldenError(f"golden file {name!r} not found (looked at {tried})")
