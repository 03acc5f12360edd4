"""A seeded random mutation engine: the fallback when atheris is missing, and what the CI smoke
test (tests/unit/test_fuzz_smoke.py) runs in process.

Not coverage-guided: it mutates the target's seeds (bit flips, byte edits, inserts, deletes,
dictionary tokens, splices). A hang is detected with a ``SIGALRM`` timer on the main thread.
"""

from __future__ import annotations

import random
import signal
import threading
import time
import traceback
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import attrs

from fuzz.oracle import HANG_SECONDS


class Hang(BaseException):
    """An input ran longer than :data:`fuzz.oracle.HANG_SECONDS` (a BaseException, so that no
    ``except Exception`` in the code under test swallows it)."""


@attrs.define
class Crash(Exception):
    target: str
    data: bytes
    error: str
    trace: str

    def __str__(self) -> str:
        return f"{self.target}: {self.error} on input {self.data!r:.400}\n{self.trace}"


@attrs.define
class Stats:
    target: str
    runs: int = 0
    seconds: float = 0.0
    slowest: float = 0.0


def mutate(rng: random.Random, data: bytes, pool: Sequence[bytes], tokens: Sequence[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(1 + rng.randrange(4)):
        op = rng.randrange(8)
        pos = rng.randrange(len(b) + 1)
        if op == 0 and b:
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 2:
            b[pos:pos] = bytes(rng.randrange(256) for _ in range(1 + rng.randrange(8)))
        elif op == 3 and b:
            del b[pos : pos + 1 + rng.randrange(16)]
        elif op == 4 and tokens:
            b[pos:pos] = rng.choice(tokens)
        elif op == 5 and pool:
            other = rng.choice(pool)
            cut = rng.randrange(len(other) + 1)
            b[pos:] = other[cut:]
        elif op == 6 and b:
            i = rng.randrange(len(b))
            j = rng.randrange(len(b))
            b[i:i] = b[j : j + 1 + rng.randrange(32)]
        elif b:
            b[rng.randrange(len(b))] = rng.choice((0, 1, 0x7F, 0x80, 0xFF, 0x20, 0x22, 0x27))
    return bytes(b[:65536])


def _call(mod: ModuleType, data: bytes, use_alarm: bool) -> float:
    t0 = time.perf_counter()
    if use_alarm:
        signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        mod.test_one(data)
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
    dt = time.perf_counter() - t0
    if dt > HANG_SECONDS:
        raise Hang(f"input took {dt:.2f} s (limit {HANG_SECONDS:g} s)")
    return dt


def run_random(mod: ModuleType, *, runs: int | None = None, seconds: float | None = None, seed: int = 0) -> Stats:
    """Run the seeds, then mutants, until ``runs`` inputs or ``seconds`` passed. Raises :class:`Crash`."""
    rng = random.Random(seed)
    pool = list(mod.seeds()) or [b""]
    tokens = [t.encode() if isinstance(t, str) else t for t in getattr(mod, "DICTIONARY", ())]
    stats = Stats(mod.NAME)
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    old: Any = None
    if use_alarm:
        def on_alarm(signum: int, frame: Any) -> None:
            raise Hang(f"input still running after {HANG_SECONDS:g} s")

        old = signal.signal(signal.SIGALRM, on_alarm)
    start = time.perf_counter()
    try:
        i = 0
        while True:
            if runs is not None and i >= runs:
                break
            if seconds is not None and time.perf_counter() - start >= seconds:
                break
            data = pool[i] if i < len(pool) else mutate(rng, rng.choice(pool), pool, tokens)
            try:
                dt = _call(mod, data, use_alarm)
            except (Exception, Hang) as e:
                raise Crash(mod.NAME, data, f"{type(e).__name__}: {e}", traceback.format_exc()) from e
            stats.slowest = max(stats.slowest, dt)
            if i >= len(pool) and rng.random() < 0.02 and len(pool) < 4096:
                pool.append(data)
            i += 1
        stats.runs = i
    finally:
        if use_alarm:
            signal.signal(signal.SIGALRM, old)
    stats.seconds = time.perf_counter() - start
    return stats
