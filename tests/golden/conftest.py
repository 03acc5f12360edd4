"""Golden files: the compatibility contract's observable surface (docs/compat.md).

A golden test compares text with ``tests/golden/files/<name>``. When a change is deliberate, regenerate
with ``pytest tests/golden --update-goldens`` (or ``AISC_UPDATE_GOLDENS=1``), review the diff, and
record the change in the changelog as docs/compat.md requires.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

FILES = Path(__file__).resolve().parent / "files"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite tests/golden/files/* from the current output instead of comparing")


@pytest.fixture(autouse=True)
def _private_aisc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs made by these tests go to a throw-away run store, never ~/.aisc."""
    monkeypatch.setenv("AISC_HOME", str(tmp_path / "aisc-home"))


@pytest.fixture()
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    update = bool(request.config.getoption("--update-goldens")) or os.environ.get("AISC_UPDATE_GOLDENS") == "1"

    def check(name: str, text: str) -> None:
        path = FILES / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"missing golden {path}; create it with: pytest tests/golden --update-goldens"
        want = path.read_text(encoding="utf-8")
        if text != want:
            diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                                f"golden/{name}", "current", n=2))
            pytest.fail(f"{name} changed (a compatibility surface, docs/compat.md). If deliberate, run "
                        f"'pytest tests/golden --update-goldens' and note it in the changelog.\n{diff}")

    return check
