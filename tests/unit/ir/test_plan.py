"""ais-plan/0.0.3 model: strict decoding with $-paths, canonical encoding (SPEC-MAP §2.4)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aisc.ir.plan import (
    Bindings,
    CheckedNodes,
    Plan,
    PlanError,
    PlanMeta,
    PlanNode,
    Retry,
    Write,
    check_plan_json,
    check_plan_node,
    plan_from_json,
    plan_to_json,
    validate_plan,
)
from aisc.ir.valueref import Cel, Lit, Ref
from tests.support.jsontree import get, paths

GOLDEN = Path(__file__).parents[3] / "conformance/upstream/golden/plan-composite.json"


def _golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text())


def test_golden_round_trip_is_exact() -> None:
    g = _golden()
    assert plan_to_json(plan_from_json(g)) == g
    # key order is the golden's order too
    assert list(plan_to_json(plan_from_json(g))["nodes"][1]) == list(g["nodes"][1])


def _node(**over: Any) -> dict[str, Any]:
    n: dict[str, Any] = {
        "id": "a",
        "chain": "eip155:1",
        "kind": "query_ref",
        "execution": {"type": "evm_read", "to": {"lit": "0x01"},
                      "abi": {"type": "function", "name": "f", "inputs": []}, "args": {}},
    }
    n.update(over)
    return n


def _plan(*nodes: dict[str, Any], **over: Any) -> dict[str, Any]:
    p: dict[str, Any] = {"schema": "ais-plan/0.0.3", "nodes": list(nodes) or [_node()]}
    p.update(over)
    return p


NEGATIVE = [
    ("wrong-schema", _plan(schema="ais-plan/0.0.2"), "$.schema"),
    ("unknown-root-field", _plan(extra=1), "$.extra"),
    ("missing-nodes", {"schema": "ais-plan/0.0.3"}, "$.nodes"),
    ("nodes-not-list", _plan(nodes={}), "$.nodes"),
    ("meta-unknown", _plan(meta={"version": "1"}), "$.meta.version"),
    ("node-unknown-field", _plan(_node(foo=1)), "$.nodes[0].foo"),
    ("node-missing-chain", _plan({k: v for k, v in _node().items() if k != "chain"}), "$.nodes[0].chain"),
    ("chain-not-caip2", _plan(_node(chain="ethereum")), "$.nodes[0].chain"),
    ("kind-bad", _plan(_node(kind="action")), "$.nodes[0].kind"),
    ("r162-interval-bool", _plan(_node(retry={"interval_ms": True})), "$.nodes[0].retry.interval_ms"),
    ("r162-interval-str", _plan(_node(retry={"interval_ms": "5"})), "$.nodes[0].retry.interval_ms"),
    ("r162-interval-zero", _plan(_node(retry={"interval_ms": 0})), "$.nodes[0].retry.interval_ms"),
    ("r162-backoff-exp", _plan(_node(retry={"interval_ms": 1, "backoff": "exponential"})),
     "$.nodes[0].retry.backoff"),
    ("r162-max-attempts-neg", _plan(_node(retry={"interval_ms": 1, "max_attempts": -1})),
     "$.nodes[0].retry.max_attempts"),
    ("r163-timeout-float", _plan(_node(timeout_ms=1.5)), "$.nodes[0].timeout_ms"),
    ("r163-timeout-bool", _plan(_node(timeout_ms=False)), "$.nodes[0].timeout_ms"),
    ("condition-bare", _plan(_node(condition=True)), "$.nodes[0].condition"),
    ("until-two-keys", _plan(_node(until={"lit": 1, "ref": "x"})), "$.nodes[0].until"),
    ("param-bare", _plan(_node(bindings={"params": {"x": 5}})), "$.nodes[0].bindings.params.x"),
    ("bindings-unknown", _plan(_node(bindings={"args": {}})), "$.nodes[0].bindings.args"),
    ("write-mode", _plan(_node(writes=[{"path": "a", "mode": "append"}])), "$.nodes[0].writes[0].mode"),
    ("write-no-path", _plan(_node(writes=[{"mode": "set"}])), "$.nodes[0].writes[0].path"),
    ("source-workflow-ext", _plan(_node(source={"workflow": {"name": "a", "version": "1", "x": 1}})),
     "$.nodes[0].source.workflow.x"),
    ("execution-not-object", _plan(_node(execution=[])), "$.nodes[0].execution"),
    ("execution-no-type", _plan(_node(execution={"to": 1})), "$.nodes[0].execution.type"),
    ("execution-empty-type", _plan(_node(execution={"type": ""})), "$.nodes[0].execution.type"),
    ("d3-core-extra-field", _plan(_node(execution={**_node()["execution"], "gas": 1})),
     "$.nodes[0].execution.gas"),
    ("d3-core-bare-arg", _plan(_node(execution={**_node()["execution"], "args": {"x": 1}})),
     "$.nodes[0].execution.args.x"),
    ("abi-type", _plan(_node(execution={**_node()["execution"],
                                        "abi": {"type": "event", "name": "f", "inputs": []}})),
     "$.nodes[0].execution.abi.type"),
    ("composite-empty", _plan(_node(execution={"type": "composite", "steps": []})),
     "$.nodes[0].execution.steps"),
    ("solana-account-missing-signer",
     _plan(_node(execution={"type": "solana_instruction", "program": {"lit": "p"}, "instruction": "x",
                            "data": {"lit": "0x"},
                            "accounts": [{"name": "a", "pubkey": {"lit": "k"}, "writable": {"lit": True}}]})),
     "$.nodes[0].execution.accounts[0].signer"),
    ("duplicate-id", _plan(_node(), _node()), "$.nodes[1].id"),
    ("unknown-dep", _plan(_node(deps=["zz"])), "$.nodes[0].deps[0]"),
    ("extensions-not-object", _plan(_node(extensions=[])), "$.nodes[0].extensions"),
    # one-key ValueRefs the check-only decoder accepts without building them: the edges of that test
    ("param-empty-ref", _plan(_node(bindings={"params": {"x": {"ref": ""}}})), "$.nodes[0].bindings.params.x.ref"),
    ("param-cel-not-str", _plan(_node(bindings={"params": {"x": {"cel": 5}}})), "$.nodes[0].bindings.params.x.cel"),
    ("condition-empty-cel", _plan(_node(condition={"cel": ""})), "$.nodes[0].condition.cel"),
    ("assert-unknown-tag", _plan(_node(**{"assert": {"reff": "a"}})), "$.nodes[0].assert"),
    ("exec-arg-empty-ref", _plan(_node(execution={**_node()["execution"], "args": {"x": {"ref": ""}}})),
     "$.nodes[0].execution.args.x.ref"),
    ("source-node-id-int", _plan(_node(source={"node_id": 1})), "$.nodes[0].source.node_id"),
    ("retry-ext-list", _plan(_node(retry={"interval_ms": 1, "extensions": []})), "$.nodes[0].retry.extensions"),
    # the edges of the check-only shortcuts for source and bindings (the shapes lowering writes)
    ("source-workflow-str", _plan(_node(source={"workflow": "w", "node_id": "a"})), "$.nodes[0].source.workflow"),
    ("source-ext-str", _plan(_node(source={"node_id": "a", "extensions": "x"})), "$.nodes[0].source.extensions"),
    ("source-workflow-no-version", _plan(_node(source={"workflow": {"name": "w"}})),
     "$.nodes[0].source.workflow.version"),
    ("source-workflow-version-int", _plan(_node(source={"workflow": {"name": "w", "version": 1}})),
     "$.nodes[0].source.workflow.version"),
    ("source-unknown-str", _plan(_node(source={"node_id": "a", "nodeid": "a"})), "$.nodes[0].source.nodeid"),
    ("source-list", _plan(_node(source=["a"])), "$.nodes[0].source"),
    ("bindings-params-list", _plan(_node(bindings={"params": [{"ref": "a"}]})), "$.nodes[0].bindings.params"),
    ("bindings-second-key", _plan(_node(bindings={"params": {"x": {"ref": "a"}}, "args": {}})),
     "$.nodes[0].bindings.args"),
    ("bindings-ext-list", _plan(_node(bindings={"params": {"x": {"ref": "a"}}, "extensions": []})),
     "$.nodes[0].bindings.extensions"),
    ("bindings-param-after-good", _plan(_node(bindings={"params": {"x": {"ref": "a"}, "y": {"ref": ""}}})),
     "$.nodes[0].bindings.params.y.ref"),
]


@pytest.mark.parametrize(("obj", "path"), [(o, p) for _, o, p in NEGATIVE], ids=[i for i, _, _ in NEGATIVE])
def test_negative(obj: dict[str, Any], path: str) -> None:
    with pytest.raises(PlanError) as ei:
        plan_from_json(obj)
    assert ei.value.path == path
    d = ei.value.to_diagnostic("p.json")
    assert d.code == "AISC-PLAN-001" and d.path == path and d.hint


@pytest.mark.parametrize(("obj", "path"), [(o, p) for _, o, p in NEGATIVE], ids=[i for i, _, _ in NEGATIVE])
def test_check_only_raises_the_same_errors(obj: dict[str, Any], path: str) -> None:
    with pytest.raises(PlanError) as ei:
        check_plan_json(obj)
    assert (ei.value.path, str(ei.value)) == (path, _error_text(obj))


def _error_text(obj: dict[str, Any]) -> str:
    with pytest.raises(PlanError) as ei:
        plan_from_json(obj)
    return str(ei.value)


def test_check_with_nodes_checked_elsewhere() -> None:
    """check_plan_json(checked_nodes=...) skips decoding the nodes but keeps every check across them."""
    good = _plan(_node(), _node(id="b", deps=["a"]))
    checked = [check_plan_node(n, i) for i, n in enumerate(good["nodes"])]
    assert [(i, tuple(d)) for i, d in checked] == [("a", ()), ("b", ("a",))]
    assert check_plan_json(good, checked_nodes=checked) is None
    with pytest.raises(PlanError) as dup:
        check_plan_json(good, checked_nodes=[("a", ()), ("a", ())])
    assert dup.value.path == "$.nodes[1].id"
    with pytest.raises(PlanError) as unknown:
        check_plan_json(good, checked_nodes=[("a", ()), ("b", ("zz",))])
    assert unknown.value.path == "$.nodes[1].deps[0]"
    with pytest.raises(PlanError) as count:
        check_plan_json(good, checked_nodes=checked[:1])
    assert count.value.path == "$.nodes"
    with pytest.raises(PlanError) as bad_node:
        check_plan_node(_node(kind="action"), 3)
    assert bad_node.value.path == "$.nodes[3].kind"


def _fed(plan: dict[str, Any]) -> CheckedNodes:
    fed = CheckedNodes()
    for i, n in enumerate(plan["nodes"]):
        fed.add(*check_plan_node(n, i))
    return fed


@pytest.mark.parametrize(("nodes", "in_order", "error_path"), [
    pytest.param([_node(), _node(id="b", deps=["a"]), _node(id="c", deps=["a", "b"])], True, None, id="topological"),
    pytest.param([_node(id="b", deps=["a"]), _node()], False, None, id="dep-on-a-later-node"),
    pytest.param([_node(deps=["a"])], False, None, id="dep-on-itself"),
    pytest.param([_node(), _node(id="b"), _node()], False, "$.nodes[2].id", id="repeated-id"),
    pytest.param([_node(), _node(id="b", deps=["a", "zz"])], False, "$.nodes[1].deps[1]", id="unknown-dep"),
    pytest.param([_node(id="b", deps=["zz"]), _node(), _node()], False, "$.nodes[2].id", id="repeated-after-unknown"),
])
def test_checked_nodes_do_the_checks_across_nodes_as_they_arrive(
        nodes: list[dict[str, Any]], in_order: bool, error_path: str | None) -> None:
    """A CheckedNodes fed node by node gives check_plan_json exactly the outcome of the full checks:
    nodes that cannot fail them keep ``in_order``; any other sends the plan through the full checks
    at the end, with the error and path the plain list gets."""
    plan = _plan(*nodes)
    fed = _fed(plan)
    assert fed.in_order is in_order
    assert fed.count == len(plan["nodes"])
    if error_path is None:
        assert check_plan_json(plan, checked_nodes=fed) is None
        return
    with pytest.raises(PlanError) as got:
        check_plan_json(plan, checked_nodes=fed)
    with pytest.raises(PlanError) as full:
        check_plan_json(plan)
    assert (got.value.path, str(got.value)) == (full.value.path, str(full.value)) == (error_path, str(full.value))


def test_checked_nodes_in_order_skip_the_walk_across_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of CheckedNodes: a plan fed in order is not walked again for ids and deps."""
    import aisc.ir.plan as plan_mod

    walked: list[int] = []
    monkeypatch.setattr(plan_mod, "_check_across", lambda checked: walked.append(len(checked)))
    plan = _plan(_node(), _node(id="b", deps=["a"]))
    check_plan_json(plan, checked_nodes=_fed(plan))
    assert walked == []
    check_plan_json(plan, checked_nodes=[check_plan_node(n, i) for i, n in enumerate(plan["nodes"])])
    assert walked == [2]
    short = _fed(plan)
    short.count -= 1
    with pytest.raises(PlanError) as count:
        check_plan_json(plan, checked_nodes=short)
    assert (count.value.path, str(count.value)) == ("$.nodes", "$.nodes: 2 nodes, but 1 were checked")


def test_check_only_keeps_the_error_order_of_the_full_decoder() -> None:
    # a decode error in a later node wins over a duplicate id earlier on, in both
    obj = _plan(_node(), _node(), _node(id="c", kind="action"))
    with pytest.raises(PlanError) as full:
        plan_from_json(obj)
    with pytest.raises(PlanError) as check:
        check_plan_json(obj)
    assert full.value.path == check.value.path == "$.nodes[2].kind"
    assert check_plan_json(_golden()) is None


def test_check_only_accepts_what_the_decoder_accepts() -> None:
    """Every ValueRef form, built or only checked: the golden plan, and a node using all of them."""
    node = _node(deps=["z"], condition={"lit": False}, until={"cel": "true"}, timeout_ms=5,
                 **{"assert": {"ref": "nodes.a.outputs.x"}, "assert_message": "m"},
                 retry={"interval_ms": 1, "max_attempts": 2, "backoff": "fixed", "extensions": {}},
                 bindings={"params": {"l": {"lit": None}, "r": {"ref": "inputs.x"}, "c": {"cel": "1 + 1"},
                                      "o": {"object": {"k": {"lit": 1}}}}},
                 writes=[{"path": "nodes.a.outputs"}, {"path": "x", "mode": "merge", "extensions": {}}],
                 source={"workflow": {"name": "w", "version": "1"}, "node_id": "a", "step_id": "s"},
                 extensions={"aisc": {}})
    decoded = plan_from_json(_plan(_node(id="z"), node)).nodes[1]
    assert decoded.params["o"] == plan_from_json(_plan(_node(id="z"), node)).nodes[1].params["o"]
    node_id, deps = check_plan_node(node, 1)
    assert (node_id, tuple(deps)) == ("a", ("z",)) == (decoded.id, decoded.dep_ids)
    assert check_plan_json(_plan(_node(id="z"), node)) is None


def test_plugin_execution_type_is_permissive() -> None:
    p = plan_from_json(_plan(_node(execution={"type": "evm_rpc", "method": "eth_blockNumber", "x": [1]})))
    assert p.nodes[0].execution == {"type": "evm_rpc", "method": "eth_blockNumber", "x": [1]}


def test_write_mode_defaults_to_set() -> None:
    p = plan_from_json(_plan(_node(writes=[{"path": "nodes.a.outputs"}])))
    assert p.nodes[0].writes == (Write(path="nodes.a.outputs"),)
    assert p.nodes[0].writes[0].effective_mode == "set"
    assert plan_to_json(p)["nodes"][0]["writes"] == [{"path": "nodes.a.outputs"}]


def test_constructed_plan_encodes_without_nulls() -> None:
    n = PlanNode(
        id="q",
        chain="eip155:1",
        kind="query_ref",
        execution=_node()["execution"],
        deps=["x"],
        condition=Cel("inputs.go"),
        assert_=Ref("nodes.q.outputs.ok"),
        until=Lit(True),
        retry=Retry(interval_ms=10, max_attempts=3),
        bindings=Bindings(params={"owner": Ref("ctx.wallet_address")}),
        extensions={"aisc": {"runtime_guards": []}},
    )
    x = PlanNode(id="x", chain="eip155:1", kind="query_ref", execution=_node()["execution"])
    plan = Plan(nodes=[x, n], meta=PlanMeta(name="wf"))
    j = plan_to_json(plan)
    assert j["nodes"][1] == {
        "id": "q", "chain": "eip155:1", "kind": "query_ref", "deps": ["x"],
        "condition": {"cel": "inputs.go"}, "assert": {"ref": "nodes.q.outputs.ok"}, "until": {"lit": True},
        "retry": {"interval_ms": 10, "max_attempts": 3},
        "bindings": {"params": {"owner": {"ref": "ctx.wallet_address"}}},
        "execution": _node()["execution"],
        "extensions": {"aisc": {"runtime_guards": []}},
    }
    assert "null" not in json.dumps(j)
    assert validate_plan(plan) == plan
    assert plan.node("q").aisc_extensions == {"runtime_guards": []}
    assert plan.nodes[1].dep_ids == ("x",)


def test_decoder_does_not_mutate_input() -> None:
    g = _golden()
    before = copy.deepcopy(g)
    plan_from_json(g)
    assert g == before


# ---------------------------------------------------------------------- both decoders on mutated plans

_ODD_VALUES = st.sampled_from([None, True, 0, 1, -1, "", "x", "eip155:1", [], [1], {}, {"x": 1}, {"ref": ""},
                               {"ref": "a"}, {"cel": 5}, {"cel": "1"}, {"lit": 1}, {"reff": "a"},
                               {"name": "w", "version": "1"}, {"params": {}}, {"interval_ms": 1}])


def _outcome(fn: Any, plan: dict[str, Any]) -> tuple[str, str] | None:
    try:
        fn(plan)
    except PlanError as e:
        return (e.path, str(e))
    return None


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_check_only_decoder_agrees_with_the_full_one_on_mutated_plans(data: st.DataObject) -> None:
    """The check-only decoder (the compiler's self-check) takes shortcuts for the shapes lowering
    writes; on plans with one value replaced, removed or added anywhere, it must fail exactly where
    and how the full decoder fails, and pass where it passes."""
    plan = copy.deepcopy(_golden())
    path = data.draw(st.sampled_from([p for p in paths(plan) if p]))
    *parent_path, last = path
    parent = get(plan, tuple(parent_path))
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        parent[last] = data.draw(_ODD_VALUES)
    elif action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif isinstance(parent, dict):
        parent[data.draw(st.sampled_from(["extensions", "x", "params", "workflow", "step_id"]))] = data.draw(_ODD_VALUES)
    assert _outcome(check_plan_json, plan) == _outcome(plan_from_json, plan)
