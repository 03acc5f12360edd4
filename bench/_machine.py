"""A reference figure for the speed of the machine a benchmark ran on.

The project's machines are shared virtual machines whose speed changes from one minute to the
next. Next to its results a benchmark prints :func:`reference_ms`: the median time of a fixed pure
Python loop (3,000,000 integer additions), measured in the same run. Comparing two runs of a
benchmark is only fair when their reference figures are close; a slower reference explains slower
results without any change in aisc.
"""

from __future__ import annotations

import statistics
import time


def reference_ms(repeats: int = 5) -> float:
    """Median wall time in ms of the reference loop over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        s = 0
        for i in range(3_000_000):
            s += i
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)
