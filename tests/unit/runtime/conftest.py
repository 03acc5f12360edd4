"""Every engine event emitted by a test in this folder is validated against the
ais-engine-event/0.0.3 schema (R189), through ``aisc.runtime.testing.validate_event``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aisc.runtime import events
from aisc.runtime.testing import validate_event


@pytest.fixture(autouse=True)
def _validate_every_event(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    original = events.Emitter.emit

    def emit(self: events.Emitter, *args: Any, **kwargs: Any) -> dict[str, Any]:
        record = original(self, *args, **kwargs)
        validate_event(record)
        seen.append(record)
        return record

    monkeypatch.setattr(events.Emitter, "emit", emit)
    yield seen
