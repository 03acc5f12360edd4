"""Execution history: one workflow record plus one step record per plan node.

Built from plain run data (the plan, the node states, the engine events, the transaction intents
and the store's notes), so the same records come out of ``aisc history`` (from the store) and out of
``aisc bridge`` (from memory). Field list and status mapping: docs/durability.md.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aisc.backends.base import io_kind
from aisc.ir.plan import Plan
from aisc.runtime import categories as cat

HISTORY_SCHEMA = "aisc-history/1"

# engine node state -> history step status
STEP_STATUS = {
    "done": "succeeded",
    "skipped": "skipped",
    "failed": "failed",
    "paused": "paused",
    "waiting": "waiting",
    "running": "interrupted",
    "pending": "not_started",
    "cancelled": "cancelled",
}
# engine run status -> history workflow status
RUN_STATUS = {
    "done": "succeeded",
    "failed": "failed",
    "timeout": "failed",
    "internal": "failed",
    "paused": "paused",
    "policy_blocked": "paused",
    "cancelled": "cancelled",
    "running": "running",
}


def _ts(s: Any) -> _dt.datetime | None:
    if not isinstance(s, str) or not s:
        return None
    try:
        return _dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None


def duration_ms(start: Any, end: Any) -> int | None:
    a, b = _ts(start), _ts(end)
    if a is None or b is None:
        return None
    return (b - a) // _dt.timedelta(milliseconds=1)


def _node_state(v: Any) -> tuple[str, int, str | None]:
    """(state, attempts, error) from a NodeRun or a checkpoint's node entry."""
    if isinstance(v, Mapping):
        return str(v.get("state", "pending")), int(v.get("attempts") or 0), v.get("error")
    return str(getattr(v, "state", "pending")), int(getattr(v, "attempts", 0) or 0), getattr(v, "error", None)


def step_records(
    plan: Plan,
    nodes: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    intents: Iterable[Mapping[str, Any]] = (),
    notes: Iterable[Mapping[str, Any]] = (),
    run_id: str | None = None,
    run_category: str | None = None,
) -> list[dict[str, Any]]:
    """One record per plan node, in plan order (see docs/durability.md for the fields)."""
    by_node: dict[str, list[Mapping[str, Any]]] = {}
    for rec in events:
        ev = rec.get("event") or {}
        nid = ev.get("node_id")
        if isinstance(nid, str):
            by_node.setdefault(nid, []).append(rec)
    tx_by_node: dict[str, list[dict[str, Any]]] = {}
    for it in intents:
        tx_by_node.setdefault(str(it.get("node_id")), []).append(
            {"tx_id": it.get("tx_id"), "attempt": it.get("attempt"), "status": it.get("status"),
             "chain": it.get("chain"), "nonce": it.get("nonce")})
    hooks_by_node: dict[str, list[dict[str, Any]]] = {}
    comp_by_node: dict[str, list[dict[str, Any]]] = {}
    for n in notes:
        nid = n.get("node_id")
        if not isinstance(nid, str):
            continue
        kind = str(n.get("kind"))
        data = dict(n.get("data") or {})
        if kind.startswith("hook_"):
            hooks_by_node.setdefault(nid, []).append({"kind": kind, "ts": n.get("ts"), **data})
        elif kind == "compensation":
            comp_by_node.setdefault(nid, []).append(data)
    out: list[dict[str, Any]] = []
    for pn in plan.nodes:
        state, attempts, error = _node_state(nodes.get(pn.id, {}))
        evs = by_node.get(pn.id, [])
        started = next((r.get("ts") for r in evs if (r.get("event") or {}).get("type") == "node_ready"), None)
        finished = evs[-1].get("ts") if evs and state in ("done", "skipped", "failed", "paused", "cancelled") else None
        status = STEP_STATUS.get(state, state)
        if status == "not_started" and attempts > 0:
            status = "interrupted"
        category: str | None = None
        pause_reason: str | None = None
        last_err = next((r for r in reversed(evs) if (r.get("event") or {}).get("type") == "error"), None)
        if state == "failed":
            data = (last_err or {}).get("event", {}).get("data") or {}
            timeout = str(data.get("reason", "")).startswith("until ") and "exceeded" in str(data.get("reason", ""))
            category = cat.TIMEOUT if timeout else cat.normalize(data.get("category"))
        elif state == "paused":
            pe = next((r for r in reversed(evs) if (r.get("event") or {}).get("type") in
                       ("need_user_confirm", "node_paused")), None)
            det = ((pe or {}).get("event", {}).get("data") or {})
            pause_reason = det.get("reason")
            raw = nodes.get(pn.id)
            pause = getattr(raw, "pause", None) or {}
            hard = (getattr(raw, "failure", None) == "policy_blocked" or pause.get("kind") == "hard_block"
                    or (not hasattr(raw, "pause") and run_category == cat.POLICY_BLOCKED))
            category = cat.POLICY_BLOCKED if hard else cat.NEEDS_CONFIRMATION
        elif state == "cancelled":
            category = cat.CANCELLED
        tx_hashes = [t["tx_id"] for t in tx_by_node.get(pn.id, []) if t.get("status") in ("confirmed", "sent", "failed")]
        if not tx_by_node.get(pn.id):
            for r in evs:
                ev = r.get("event") or {}
                if ev.get("type") == "tx_sent":
                    h = (ev.get("data") or {}).get("tx_hash")
                    if isinstance(h, str) and h not in tx_hashes:
                        tx_hashes.append(h)
        src = pn.source
        step: dict[str, Any] = {
            "record": "step",
            "run_id": run_id,
            "node_id": pn.id,
            "workflow_node_id": src.node_id if src and src.node_id else pn.id,
            "step_id": src.step_id if src else None,
            "protocol": src.protocol if src else None,
            "action": (src.action or src.query) if src else None,
            "kind": pn.kind,
            "chain": pn.chain,
            "execution_type": pn.execution_type,
            "io": io_kind(pn.execution_type),
            "status": status,
            "attempts": attempts,
            "started_at": started,
            "finished_at": finished,
            "duration_ms": duration_ms(started, finished),
            "tx_hashes": tx_hashes,
            "transactions": tx_by_node.get(pn.id, []),
            "failure_category": category,
            "error": error if state == "failed" else None,
            "pause_reason": pause_reason,
            "hooks": hooks_by_node.get(pn.id, []),
            "compensations": comp_by_node.get(pn.id, []),
        }
        out.append(step)
    return out


def workflow_record(
    *,
    run_id: str,
    plan: Plan,
    plan_hash: str,
    status: str,
    category: str | None,
    error: str | None,
    steps: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    notes: Iterable[Mapping[str, Any]] = (),
    created_at: str | None = None,
    updated_at: str | None = None,
) -> dict[str, Any]:
    started = events[0].get("ts") if events else created_at
    finished = events[-1].get("ts") if events and status not in ("running",) else None
    if finished is None and status != "running":
        finished = updated_at
    counts: dict[str, int] = {}
    for s in steps:
        counts[str(s["status"])] = counts.get(str(s["status"]), 0) + 1
    notes = list(notes)
    return {
        "record": "workflow",
        "schema": HISTORY_SCHEMA,
        "run_id": run_id,
        "workflow": {"name": plan.meta.name if plan.meta else None,
                     "version": _workflow_version(plan)},
        "plan_hash": plan_hash,
        "status": RUN_STATUS.get(status, status),
        "engine_status": status,
        "failure_category": category,
        "error": error,
        "started_at": started,
        "finished_at": finished,
        "duration_ms": duration_ms(started, finished),
        "steps_total": len(steps),
        "step_counts": dict(sorted(counts.items())),
        "tx_count": sum(len(s["tx_hashes"]) for s in steps),
        "resumes": sum(1 for n in notes if n.get("kind") == "resume"),
        "hooks": [{"kind": n.get("kind"), "ts": n.get("ts"), **dict(n.get("data") or {})}
                  for n in notes if str(n.get("kind")).startswith("hook_") and not n.get("node_id")],
        "compensations": [dict(n.get("data") or {}) for n in notes if n.get("kind") == "compensation"],
    }


def _workflow_version(plan: Plan) -> str | None:
    for n in plan.nodes:
        if n.source and n.source.workflow:
            return n.source.workflow.version
    return None


def from_store(store: Any, run_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(workflow record, step records) of a stored run. Raises StoreError for an unknown run."""
    from aisc.ir.plan import plan_from_json

    rec = store.get_run(run_id)
    plan = plan_from_json(rec.plan)
    events = store.events(run_id)
    intents = [i.public() for i in store.intents(run_id)]
    notes = store.notes(run_id)
    nodes = dict((rec.state or {}).get("nodes") or {})
    steps = step_records(plan, nodes, events, intents, notes, run_id, rec.category)
    wf = workflow_record(run_id=run_id, plan=plan, plan_hash=rec.plan_hash, status=rec.status,
                         category=rec.category, error=rec.error, steps=steps, events=events, notes=notes,
                         created_at=rec.created_at, updated_at=rec.updated_at)
    return wf, steps
