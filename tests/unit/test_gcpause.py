"""aisc.gcpause: the collector is off inside, restored after, and what was allocated meanwhile is
moved to the oldest generation instead of being scanned by the next young collection."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from aisc import gcpause


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_off_inside_and_restored_after() -> None:
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause found it off and leaves it off
    assert gc.isenabled()


def test_left_off_when_it_was_off() -> None:
    gc.disable()
    with gcpause.paused():
        pass
    assert not gc.isenabled()


def test_restored_after_an_exception() -> None:
    with pytest.raises(ValueError), gcpause.paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_no_young_collection_scans_what_was_allocated_while_paused() -> None:
    """Without the promotion, the first allocation after the block would run a collection over the
    5,000 lists (the young generation's count is past its threshold)."""
    runs: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    gc.callbacks.append(record)
    try:
        with gcpause.paused():
            made = [[i] for i in range(5_000)]
        after = [[i] for i in range(10)]  # allocations that would trigger it
    finally:
        gc.callbacks.remove(record)
    assert runs == []
    assert gc.get_count()[0] < gc.get_threshold()[0]
    assert len(made) + len(after) == 5_010


def test_a_hosts_frozen_objects_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gcpause.paused():
            keep = [[i] for i in range(100)]  # alive when the pause ends: frozen too if it froze
        # not unfrozen (0) and nothing added; the count may drop a little when another thread (the
        # test runner's) frees objects that were frozen
        assert 0 < gc.get_freeze_count() <= frozen
        assert len(keep) == 100
    finally:
        gc.unfreeze()
