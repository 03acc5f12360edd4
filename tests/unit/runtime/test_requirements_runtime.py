"""Runtime requirements that had no named test: R032/R033 (capabilities at run time), R031 (ctx.capabilities), R183/R184
(need_user_confirm details), R235 (Solana read outputs), R316 (falsy ``until`` waits, then errors).

Every event emitted here is also validated against the engine-event schema by this folder's conftest.
"""

from __future__ import annotations

from ._helpers import CHAIN, plan, read, run, write

PACK = {"name": "safe", "version": "0.0.2", "policy": {"approvals": {"auto_execute_max_risk_level": 2}}}


# ------------------------------------------------------------------ R032 / R033


def _detect_arg(caps: list[str]) -> dict[str, object]:
    return {"detect": {"kind": "choose_one", "candidates": [{"lit": "1"}], "requires_capabilities": caps}}


def test_r032_r033_missing_runtime_capability_never_broadcasts() -> None:
    """R032: a write whose detect needs an unsupported capability is never sent; R033: the node is
    reported blocked and the error names the missing capability."""
    p = plan(write("w", args={"amount": _detect_arg(["detect:oracle"])}))
    res, sink, be = run(p, capabilities=frozenset({"cel:v1", "evm:call"}))
    assert be.calls["w"] == 0
    assert not {"tx_prepared", "tx_sent", "tx_confirmed"} & set(sink.types())
    assert res.nodes["w"].state != "done" and res.status != "done"
    blocked = sink.of_type("node_blocked")[0]["event"]
    assert blocked["node_id"] == "w"
    assert any("detect:oracle" in e for e in blocked["data"]["readiness"]["errors"])
    assert "detect:oracle" in sink.of_type("error")[0]["event"]["data"]["reason"]


def test_r032_same_write_runs_when_the_capability_is_supported() -> None:
    """R032 (control): with the capability present the same node is executed."""
    p = plan(write("w", args={"amount": _detect_arg(["detect:oracle"])}))
    res, _sink, be = run(p, capabilities=frozenset({"cel:v1", "evm:call", "detect:oracle"}))
    assert res.status == "done" and be.calls["w"] == 1


def test_r031_ctx_capabilities_lists_supported_capabilities() -> None:
    """R031: CEL can read what the engine supports through ``ctx.capabilities``."""
    p = plan(read("q", condition={"cel": '"evm:read" in ctx.capabilities'}))
    res, _sink, _be = run(p, {"q": {"outputs": {"x": 1}}}, capabilities=frozenset({"cel:v1", "evm:read"}))
    assert res.nodes["q"].state == "done"


# ------------------------------------------------------------------ R183 / R184


def test_r183_r184_need_user_confirm_details() -> None:
    """R183: need_user_confirm details carry node_id, action_ref and hit_reasons (plus data.reason);
    R184: and the recommended workflow_node_id, chain, execution_type, pack_summary, policy_summary."""
    node = write("w", source={"workflow": {"name": "wf", "version": "0.0.3"}, "node_id": "pay_node",
                              "protocol": "demo@0.0.2", "action": "pay"},
                 extensions={"aisc": {"action": {"risk_level": 4}}})
    res, sink, be = run(plan(node, extensions={"aisc": {"pack": PACK}}))
    assert res.status == "paused" and be.calls["w"] == 0
    ev = sink.of_type("need_user_confirm")[0]["event"]
    assert ev["node_id"] == "w" and isinstance(ev["data"]["reason"], str) and ev["data"]["reason"]
    d = ev["data"]["details"]
    assert d["node_id"] == "w"
    assert d["action_ref"] == "demo@0.0.2/pay"
    assert isinstance(d["hit_reasons"], list) and d["hit_reasons"] and all(isinstance(h, str) for h in d["hit_reasons"])
    assert d["workflow_node_id"] == "pay_node"
    assert d["chain"] == CHAIN
    assert d["execution_type"] == "evm_call"
    assert d["pack_summary"] == {"name": "safe", "version": "0.0.2"}
    assert d["policy_summary"]["risk_level"] == 4


# ------------------------------------------------------------------ R235


def test_r235_solana_read_outputs_go_to_nodes_outputs() -> None:
    """R235: a Solana read's result is written to nodes.<id>.outputs (and later nodes can read it)."""
    sol = "solana:devnet"
    bal = {"id": "bal", "chain": sol, "kind": "query_ref",
           "execution": {"type": "solana_read", "method": "getBalance", "params": {"lit": ["Own111"]}}}
    use = read("use", deps=["bal"], condition={"cel": "nodes.bal.outputs.lamports > 5"})
    res, _sink, be = run(plan(bal, use), {"bal": {"outputs": {"lamports": 10}}, "use": {"outputs": {}}})
    assert res.status == "done"
    assert res.root["nodes"]["bal"]["outputs"] == {"lamports": 10}
    assert be.calls["use"] == 1


# ------------------------------------------------------------------ R316


def test_r316_falsy_until_waits_then_errors() -> None:
    """R316: a falsy ``until`` is not a hard failure: the node emits node_waiting after each attempt
    until max_attempts, and only then an error."""
    p = plan(read("poll", until={"ref": "nodes.poll.outputs.done"}, retry={"interval_ms": 1, "max_attempts": 3}))
    res, sink, be = run(p, {"poll": {"outputs": {"done": False}}})
    types = sink.types()
    assert be.calls["poll"] == 3
    waits = [r["event"]["data"]["attempts"] for r in sink.of_type("node_waiting")]
    assert waits == [1, 2]
    assert types.index("node_waiting") < types.index("error")
    assert res.status == "timeout"


# ------------------------------------------------------------------ R006 / R056: nodes.<id>.args


def test_r056_node_args_are_readable_by_later_nodes() -> None:
    """R006/R056: ``nodes.<id>.args`` holds a node's resolved arguments once it has run, so later
    nodes (and compensations) can refer to them."""
    first = read("a", bindings={"params": {"amount": {"lit": "7"}, "who": {"ref": "inputs.who"}}})
    second = read("b", deps=["a"], condition={"cel": 'nodes.a.args.amount == "7" && nodes.a.args.who == "me"'})
    res, _sink, be = run(plan(first, second), {"a": {"outputs": {}}, "b": {"outputs": {"ok": True}}},
                         inputs={"who": "me"})
    assert res.nodes["b"].state == "done" and be.calls["b"] == 1
