"""Compensation: undo what a failed run already did on chain, in reverse order.

A plan node declares compensating actions under ``extensions.aisc.compensate`` (the compiler
copies them from the workflow node and lowers each to an execution spec)::

    extensions:
      aisc:
        compensate:
          - protocol: erc20@0.0.2          # informative (source of the action)
            action: approve
            args: {spender: {ref: "inputs.router"}, amount: {lit: "0"}}   # ValueRefs → params
            chain: "eip155:1"              # optional, defaults to the node's chain
            execution: {type: evm_call, ...}  # the lowered action; its ValueRefs read params.*

When a run ends ``failed`` or ``timeout`` after writes completed, every completed write node's
compensations run, newest write first (within one node: in declaration order), each as its own
one-node plan under the same run id, through the same backends, policy gate and hooks. A
compensation that fails or pauses does not stop the next one. Each outcome is returned (and the
runner records it in the store's notes and in history).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aisc.backends.base import io_kind
from aisc.ir.plan import Plan, PlanError, PlanNode, plan_from_json

COMPENSATE_KEY = "compensate"


def specs_of(node: PlanNode) -> list[Mapping[str, Any]]:
    raw = node.aisc_extensions.get(COMPENSATE_KEY)
    if not isinstance(raw, list):
        return []
    return [s for s in raw if isinstance(s, Mapping)]


def completion_order(nodes: Mapping[str, Any], plan: Plan) -> list[str]:
    """Completed write nodes with compensations, newest first.

    ``nodes`` maps node id to an object with ``state`` and ``finished_at`` (a NodeRun). Nodes
    restored from a checkpoint have no finish time; they finished before any node of this process.
    """
    index = {n.id: i for i, n in enumerate(plan.nodes)}
    done = []
    for n in plan.nodes:
        r = nodes.get(n.id)
        if r is None or getattr(r, "state", None) != "done" or io_kind(n.execution_type) != "write":
            continue
        if not specs_of(n):
            continue
        fin = getattr(r, "finished_at", None)
        done.append(((0, 0.0) if fin is None else (1, fin), index[n.id], n.id))
    done.sort(reverse=True)
    return [nid for _, _, nid in done]


def compensation_id(node_id: str, index: int) -> str:
    return f"{node_id}__compensate_{index}"


def compensation_plan(plan: Plan, node: PlanNode, spec: Mapping[str, Any], index: int) -> Plan:
    """A one-node plan for one compensating action. Raises PlanError when the spec is malformed."""
    cid = compensation_id(node.id, index)
    p = f"$.nodes[{node.id}].extensions.aisc.compensate[{index}]"
    if not isinstance(spec.get("execution"), Mapping):
        raise PlanError("compensation has no lowered 'execution' (compile the workflow with aisc)", f"{p}.execution")
    args = spec.get("args") or {}
    if not isinstance(args, Mapping):
        raise PlanError("args must map parameter names to ValueRefs", f"{p}.args")
    src: dict[str, Any] = {"node_id": node.source.node_id if node.source and node.source.node_id else node.id}
    if isinstance(spec.get("protocol"), str):
        src["protocol"] = spec["protocol"]
    if isinstance(spec.get("action"), str):
        src["action"] = spec["action"]
    ext: dict[str, Any] = {"compensates": node.id, "compensation_index": index}
    if isinstance(spec.get("action_meta"), Mapping):
        ext["action"] = dict(spec["action_meta"])
    obj: dict[str, Any] = {
        "schema": "ais-plan/0.0.3",
        "nodes": [{"id": cid, "chain": spec.get("chain", node.chain), "kind": "action_ref",
                   "bindings": {"params": dict(args)}, "execution": dict(spec["execution"]),
                   "source": src, "extensions": {"aisc": ext}}],
    }
    if plan.extensions is not None:
        obj["extensions"] = dict(plan.extensions)
    try:
        return plan_from_json(obj)
    except PlanError as e:
        raise PlanError(e.message, p + e.path.removeprefix("$.nodes[0]")) from None


def run_compensations(
    plan: Plan,
    nodes: Mapping[str, Any],
    run_one: Callable[[Plan, str], Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Run every compensation of the completed writes, newest first.

    ``run_one(plan, node_id)`` runs a one-node plan and returns ``{status, error?, tx_hash?}``.
    Returns one outcome per declared compensation: ``{node_id, compensation_id, index, protocol,
    action, status: done|failed|paused|skipped|invalid, error?, tx_hash?}``.
    """
    outcomes: list[dict[str, Any]] = []
    for nid in completion_order(nodes, plan):
        node = plan.node(nid)
        for i, spec in enumerate(specs_of(node)):
            base = {"node_id": nid, "compensation_id": compensation_id(nid, i), "index": i,
                    "protocol": spec.get("protocol"), "action": spec.get("action")}
            try:
                mini = compensation_plan(plan, node, spec, i)
            except PlanError as e:
                outcomes.append({**base, "status": "invalid", "error": f"{e.path}: {e.message}"})
                continue
            try:
                res = dict(run_one(mini, compensation_id(nid, i)))
            except Exception as e:  # a compensation must never hide the others
                res = {"status": "failed", "error": f"{type(e).__name__}: {e}"}
            outcomes.append({**base, **res})
    return outcomes


def summarize(outcomes: Sequence[Mapping[str, Any]]) -> str:
    """``"compensated"`` when every compensation ran, ``"partial"`` otherwise, ``"none"`` if none."""
    if not outcomes:
        return "none"
    return "compensated" if all(o.get("status") == "done" for o in outcomes) else "partial"
