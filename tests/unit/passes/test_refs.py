"""aisc.passes._refs: the paths a plain-JSON ValueRef reads, with the $-path of each leaf."""

from __future__ import annotations

from typing import Any

import pytest

from aisc.passes._refs import cel_paths, ref_paths


@pytest.mark.parametrize(("vr", "want"), [
    ({"ref": "nodes.a.outputs.x"}, [("nodes.a.outputs.x", "ref", "$.ref")]),
    ({"ref": "inputs..amount."}, [("inputs.amount", "ref", "$.ref")]),
    ({"ref": ".inputs.amount"}, [("inputs.amount", "ref", "$.ref")]),
    ({"ref": "inputs.amount."}, [("inputs.amount", "ref", "$.ref")]),
    ({"ref": 5}, []),
    ({"lit": "nodes.a.outputs.x"}, []),  # a literal reads nothing
    ({"cel": 'nodes.a.outputs.x + params.y > 0 && ctx.z == "nodes.b"'},
     [("nodes.a.outputs.x", "cel", "$.cel"), ("params.y", "cel", "$.cel"), ("ctx.z", "cel", "$.cel")]),
    ({"cel": 7}, []),
    ({"object": {"x": {"ref": "inputs.a"}, "y": {"array": [{"lit": 1}, {"cel": "query.q"}]}}},
     [("inputs.a", "ref", "$.object.x.ref"), ("query.q", "cel", "$.object.y.array[1].cel")]),
    ({"detect": {"kind": "token", "candidates": [{"ref": "contracts.usdc"}]}},
     [("contracts.usdc", "ref", "$.detect.candidates[0].ref")]),
    ({"ref": "a", "cel": "b"}, []),  # not a ValueRef (two tags)
])
def test_paths_of_a_valueref(vr: dict[str, Any], want: list[tuple[str, str, str]]) -> None:
    assert list(ref_paths(vr)) == want


def test_cel_paths_skip_strings_and_keep_order() -> None:
    assert cel_paths("inputs.a + 'nodes.x.y' + calculated.b") == ("inputs.a", "calculated.b")
    assert cel_paths("size(policy.tokens) > 0 ? contracts.router : contracts.pool") == (
        "policy.tokens", "contracts.router", "contracts.pool")
    assert cel_paths("1 + 2") == ()
