"""The DAG helper: stable Kahn order (original index first), cycle extraction (R153, R154)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aisc.passes._dag import kahn_order, topo_order


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
    assert r.order == order == kahn_order(deps).order
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


@st.composite
def _dags(draw: st.DrawFn) -> list[list[int]]:
    """Random DAGs: a random order of n nodes, each depending on some nodes before it in that order
    (so the node list itself is in dependency order only now and then)."""
    n = draw(st.integers(0, 12))
    perm = draw(st.permutations(range(n)))
    deps: list[list[int]] = [[] for _ in range(n)]
    for k, node in enumerate(perm):
        if k:
            deps[node] = draw(st.lists(st.sampled_from(perm[:k]), max_size=4))
    return deps


@settings(max_examples=300, deadline=None)
@given(_dags())
def test_r153_order_equals_plain_kahn(deps: list[list[int]]) -> None:
    """R153: the order is Kahn's with the smallest index first (``kahn_order``, the algorithm
    without the shortcut), also when the shortcut for nodes that depend only on earlier nodes
    applies."""
    r = topo_order(deps)
    assert r.order == kahn_order(deps).order
    assert r.cycle == [] and r.stuck == []


def test_r153_nodes_in_dependency_order_keep_it() -> None:
    """The shortcut's own cases: deps only on earlier nodes (with duplicates) give the index order;
    a dep on the node itself or on a later node is not taken for ordered."""
    assert topo_order([[], [0, 0], [1, 0], []]).order == [0, 1, 2, 3]
    assert topo_order([[], [1]]).cycle == [1]
    assert topo_order([[], [2], []]).order == [0, 2, 1]
