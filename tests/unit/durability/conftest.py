"""Durability unit tests: every engine event they emit is validated against the event schema (R189)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aisc.runtime import events
from aisc.runtime.testing import validate_event


@pytest.fixture(autouse=True)
def _validate_every_event(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[None]:
    monkeypatch.setenv("AISC_HOME", str(tmp_path / "aisc-home"))
    original = events.Emitter.emit

    def emit(self: events.Emitter, *args: Any, **kwargs: Any) -> dict[str, Any]:
        record = original(self, *args, **kwargs)
        validate_event(record)
        return record

    monkeypatch.setattr(events.Emitter, "emit", emit)
    yield
