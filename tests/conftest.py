"""Suite-wide checks: every engine event emitted by any test is valid (R189).

- In-process: :class:`aisc.runtime.events.Emitter` is wrapped for every test; each record is
  validated against ``schemas/0.0.2/engine-event.schema.json`` (through
  :func:`aisc.runtime.testing.validate_event`, i.e. after an ais-json round trip). A violation fails
  the test even when it happened on a worker thread whose exception the engine swallowed.
- Subprocesses (``aisc run --events-jsonl FILE``): the ``events_jsonl`` fixture reads such a file and
  validates every line; after each test, every ``*.jsonl`` file of engine events left in the test's
  ``tmp_path`` is validated as well, so a functional test that forgets the helper is still checked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aisc.runtime import events
from aisc.runtime.testing import validate_event

EventsReader = Callable[[Path | str], list[dict[str, Any]]]


def pytest_configure(config: pytest.Config) -> None:
    """Keep every run store (``$AISC_HOME/runs.db``) of the suite out of the user's home."""
    import os
    import tempfile

    os.environ["AISC_HOME"] = tempfile.mkdtemp(prefix="aisc-test-home-")


def read_events_jsonl(source: Path | str) -> list[dict[str, Any]]:
    """Validate every line of an ``--events-jsonl`` output (a path, or the text itself) and return
    the parsed records. Also checks ``seq`` runs 0, 1, 2, ... and one run id per file (R181)."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    lines = [ln for ln in text.splitlines() if ln.strip()]
    records = [validate_event(ln) for ln in lines]
    assert [r["seq"] for r in records] == list(range(len(records))), "seq must be 0, 1, 2, ... per run"
    assert len({r["run_id"] for r in records}) <= 1, "one run id per events file"
    return records


@pytest.fixture
def events_jsonl() -> EventsReader:
    """``events_jsonl(path_or_text)`` → validated records of an events JSON-lines output."""
    return read_events_jsonl


def _engine_event_files(root: Path) -> Iterator[Path]:
    for p in sorted(root.rglob("*.jsonl")):
        try:
            with p.open(encoding="utf-8") as fh:
                first = fh.readline()
            if json.loads(first).get("schema") == events.EVENT_SCHEMA:
                yield p
        except (OSError, ValueError, AttributeError):
            continue


@pytest.fixture(autouse=True)
def _validate_engine_events(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    failures: list[str] = []
    original = events.Emitter.emit

    def emit(self: events.Emitter, *args: Any, **kwargs: Any) -> dict[str, Any]:
        record = original(self, *args, **kwargs)
        try:
            validate_event(record)
        except AssertionError as e:
            failures.append(str(e))
            raise
        return record

    monkeypatch.setattr(events.Emitter, "emit", emit)
    yield
    assert not failures, "invalid engine events:\n" + "\n".join(failures)
    tmp = request.node.funcargs.get("tmp_path") if hasattr(request.node, "funcargs") else None
    if isinstance(tmp, Path) and tmp.is_dir():
        for p in _engine_event_files(tmp):
            read_events_jsonl(p)
