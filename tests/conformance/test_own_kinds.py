"""The handlers of aisc's own kinds ``valueref_eval``, ``ais_value_validate`` and ``workflow_plan_error``
fail when they should (the bundled vectors only show that they pass)."""

from __future__ import annotations

from typing import Any

import pytest

from aisc.conformance import registry
from aisc.conformance.outcome import Outcome

B5 = {"__ais_json_type": "bigint", "value": "5"}
ROOT = {"inputs": {"n": 5, "s": "5"}}

PROTO = """schema: "ais/0.0.2"
meta: { protocol: p, version: "1.0.0" }
deployments:
  - chain: "eip155:1"
    contracts: { c: "0x1111111111111111111111111111111111111111" }
queries:
  q:
    description: "q"
    params: []
    returns: [{ name: v, type: uint256 }]
    execution:
      "eip155:*":
        type: evm_read
        to: { ref: "contracts.c" }
        abi: { type: "function", name: "v", inputs: [], outputs: [{ name: "v", type: "uint256" }] }
        args: {}
actions: {}
"""
WF_OK = """schema: "ais-flow/0.0.3"
meta: { name: w, version: "0.0.1" }
default_chain: "eip155:1"
nodes:
  - { id: a, type: query_ref, protocol: "p@1.0.0", query: q }
"""
WF_CYCLE = WF_OK.replace('query: q }', 'query: q, deps: [b] }') + \
    '  - { id: b, type: query_ref, protocol: "p@1.0.0", query: q, deps: [a] }\n'


def run(kind: str, inp: dict[str, Any], exp: dict[str, Any] | None) -> Outcome:
    res = registry.resolve(kind)
    assert res.status == "ok" and res.handler is not None, res.detail
    return res.handler(inp, exp)


PASSING = [
    ("valueref_eval", {"value_ref": {"ref": "inputs.n"}, "root": ROOT}, {"value": B5}),
    ("valueref_eval", {"value_ref": {"ref": "inputs.x"}, "root": ROOT},
     {"error_includes": "Missing ref", "missing_ref": "inputs.x"}),
    ("ais_value_validate", {"type": "uint8", "value": "256"}, {"valid": False, "code": "AISC-INPUT-006"}),
    ("workflow_plan_error", {"protocols_yaml": [PROTO], "workflow_yaml": WF_CYCLE}, {"code": "AISC-WF-004"}),
]

FAILING = [
    # (kind, input, expect, text in the outcome message)
    ("valueref_eval", {"value_ref": {"ref": "inputs.s"}, "root": ROOT}, {"value": B5}, "value differs"),
    ("valueref_eval", {"value_ref": {"ref": "inputs.n"}, "root": ROOT}, {"value": "5"}, "value differs"),
    ("valueref_eval", {"value_ref": {"lit": True}, "root": ROOT}, {"value": {"__ais_json_type": "bigint", "value": "1"}},
     "value differs"),
    ("valueref_eval", {"value_ref": {"ref": "inputs.n"}, "root": ROOT}, {"value": 5}, "plain JSON integer"),
    ("valueref_eval", {"value_ref": {"ref": "inputs.x"}, "root": ROOT}, {"value": None}, "evaluation failed"),
    ("valueref_eval", {"value_ref": {"ref": "inputs.n"}, "root": ROOT}, {"error_includes": "Missing"},
     "expected evaluation to fail"),
    ("valueref_eval", {"value_ref": {"ref": "inputs.x"}, "root": ROOT},
     {"error_includes": "Missing", "missing_ref": "inputs.y"}, "missing ref error for this path"),
    ("valueref_eval", {"value_ref": {"cel": "inputs.x.y"}, "root": ROOT},
     {"error_includes": "CEL eval failed", "missing_ref": "inputs.x.y"}, "missing ref error for this path"),
    ("valueref_eval", {"value_ref": {"ref": "inputs.x"}, "root": ROOT}, {"error_includes": "nope"},
     "does not contain"),
    ("valueref_eval", {"value_ref": {"ref": "inputs.n"}, "root": ROOT}, {}, "malformed case"),
    ("valueref_eval", {"root": ROOT}, {"value": None}, "malformed case"),
    ("ais_value_validate", {"type": "uint8", "value": "256"}, {"valid": True}, "rejected"),
    ("ais_value_validate", {"type": "uint8", "value": "255"}, {"valid": False}, "accepted"),
    ("ais_value_validate", {"type": "uint8", "value": "256"}, {"valid": False, "code": "AISC-INPUT-005"},
     "not with AISC-INPUT-005"),
    ("ais_value_validate", {"type": "uint8", "value": "1", "chain_family": "btc"}, {"valid": True}, "malformed case"),
    ("workflow_plan_error", {"protocols_yaml": [PROTO], "workflow_yaml": WF_OK}, {"code": "AISC-WF-004"},
     "it produced a plan"),
    ("workflow_plan_error", {"protocols_yaml": [PROTO], "workflow_yaml": WF_CYCLE}, {"code": "AISC-WF-002"},
     "without an error AISC-WF-002"),
    ("workflow_plan_error", {"protocols_yaml": [PROTO], "workflow_yaml": WF_CYCLE},
     {"code": "AISC-WF-004", "message_includes": "no such text"}, "no AISC-WF-004 message contains"),
]


@pytest.mark.parametrize(("kind", "inp", "exp"), PASSING, ids=[f"{k}-{i}" for i, (k, *_) in enumerate(PASSING)])
def test_own_kind_passes(kind: str, inp: dict[str, Any], exp: dict[str, Any]) -> None:
    out = run(kind, inp, exp)
    assert out.passed, out.message


@pytest.mark.parametrize(("kind", "inp", "exp", "why"), FAILING,
                         ids=[f"{k}-{i}" for i, (k, *_) in enumerate(FAILING)])
def test_own_kind_fails(kind: str, inp: dict[str, Any], exp: dict[str, Any], why: str) -> None:
    out = run(kind, inp, exp)
    assert not out.passed
    assert why in out.message
