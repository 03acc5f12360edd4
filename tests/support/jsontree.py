"""Walking plain JSON values by path, for tests that mutate documents and plans at every place."""

from __future__ import annotations

from typing import Any


def paths(v: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path in ``v`` (keys and list indices), the root ``()`` first, depth first."""
    out = [prefix]
    if isinstance(v, dict):
        for k, x in v.items():
            out += paths(x, (*prefix, k))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            out += paths(x, (*prefix, i))
    return out


def get(v: Any, p: tuple[Any, ...]) -> Any:
    """The value at path ``p``."""
    for s in p:
        v = v[s]
    return v
