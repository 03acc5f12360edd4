"""The DAG helper: stable Kahn order (original index first), cycle extraction (R153, R154)."""

from __future__ import annotations

import pytest

from aisc.passes._dag import topo_order


@pytest.mark.parametrize(
    ("deps", "order"),
    [
        ([[], [], []], [0, 1, 2]),
        ([[1], [], []], [1, 0, 2]),  # 0 waits for 1; 2 is ready but index 0 goes first once ready
        ([[2], [2], []], [2, 0, 1]),
        ([[], [0], [0], [1, 2]], [0, 1, 2, 3]),
        ([[3], [3], [3], []], [3, 0, 1, 2]),
        ([[1, 1, 1], []], [1, 0]),  # duplicate edges count once
    ],
    ids=["independent", "r153-simple-dep", "shared-dep", "diamond", "fan-in-late", "dup-edges"],
)
def test_r153_stable_topological_order(deps: list[list[int]], order: list[int]) -> None:
    r = topo_order(deps)
    assert r.order == order
    assert r.cycle == []


@pytest.mark.parametrize(
    ("deps", "members"),
    [
        ([[0]], {0}),
        ([[1], [0]], {0, 1}),
        ([[], [3], [1], [2]], {1, 2, 3}),
        ([[1], [2], [0], [0]], {0, 1, 2}),
    ],
    ids=["r154-self-loop", "r154-two-cycle", "r154-three-cycle-after-root", "r154-cycle-with-dependant"],
)
def test_r154_cycles_are_reported_with_their_members(deps: list[list[int]], members: set[int]) -> None:
    r = topo_order(deps)
    assert set(r.cycle) == members
    for a, b in zip(r.cycle, r.cycle[1:] + r.cycle[:1], strict=True):
        assert b in deps[a]  # the reported cycle follows real edges


def test_large_chain_and_fanout_orders() -> None:
    n = 10_000
    chain = [[]] + [[i - 1] for i in range(1, n)]
    assert topo_order(chain).order == list(range(n))
    fan = [[]] + [[0] for _ in range(1, n)]
    assert topo_order(fan).order == list(range(n))
    rev = [[i + 1] for i in range(n - 1)] + [[]]
    assert topo_order(rev).order == list(range(n - 1, -1, -1))
