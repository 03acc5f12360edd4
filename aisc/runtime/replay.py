"""Replay: re-render a run from its recorded events, and rebuild the runtime state at a node.

Two sources:

- a trace / events JSONL file (:func:`replay_events`): node states, progress lines and the final
  summary come from the events; the runtime root is rebuilt from the trace header (inputs, ctx)
  plus every ``query_result`` written back by the plan's ``writes`` rules. Write nodes contribute
  ``{tx_hash, receipt}`` (what the events carry), so the rebuilt root is exact for reads and
  approximate for writes (``exact: false``).
- a stored run (:func:`state_from_checkpoints`): the checkpoint saved when the node completed,
  which is exactly the state the engine had.

Nothing is executed and no backend is contacted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aisc.ir.plan import Plan, PlanError, plan_from_json
from aisc.runtime.patch import merge_ref, set_ref
from aisc.runtime.progress import STATE_OF_EVENT as _VIEW_STATE_OF_EVENT

# event type -> node state it implies: the live view's table, except that a replay folds
# ``tx_sent`` into ``running``
STATE_OF_EVENT = {**_VIEW_STATE_OF_EVENT, "tx_sent": "running"}
_FINAL = ("done", "skipped", "failed", "paused")


class ReplayError(ValueError):
    pass


def _plan_of(records: Sequence[Mapping[str, Any]]) -> Plan | None:
    for r in records:
        ev = r.get("event") or {}
        if ev.get("type") == "plan_ready":
            raw = (ev.get("data") or {}).get("plan")
            if isinstance(raw, Mapping):
                try:
                    return plan_from_json(raw)
                except PlanError:
                    return None
    return None


def _header(records: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    for r in records:
        ev = r.get("event") or {}
        if ev.get("type") == "plan_ready":
            h = ((ev.get("extensions") or {}).get("aisc") or {}).get("trace")
            if isinstance(h, Mapping):
                return h
    return {}


def replay_events(records: Sequence[Mapping[str, Any]], until_node: str | None = None) -> dict[str, Any]:
    """Fold the events into ``{run_id, events, states, notes, status, root, exact, plan_nodes}``.

    With ``until_node`` the fold stops right after the event that completes that node (done,
    skipped, failed or paused). Raises ReplayError when the node never appears.
    """
    plan = _plan_of(records)
    header = _header(records)
    ids = [n.id for n in plan.nodes] if plan else []
    states: dict[str, str] = dict.fromkeys(ids, "pending")
    notes: dict[str, str] = {}
    root: dict[str, Any] = {"inputs": dict(header.get("inputs") or {}), "params": {},
                            "ctx": dict(header.get("ctx") or {}), "query": {}, "contracts": {}, "calculated": {},
                            "policy": {}, "nodes": {}}
    exact = True
    seen: list[Mapping[str, Any]] = []
    stopped = until_node is None
    status = "running"
    for rec in records:
        seen.append(rec)
        ev = rec.get("event") or {}
        et = str(ev.get("type"))
        nid = ev.get("node_id")
        data = ev.get("data") or {}
        if et == "engine_paused":
            status = "paused"
        if isinstance(nid, str):
            if nid not in states:
                ids.append(nid)
            new = STATE_OF_EVENT.get(et)
            if new is not None:
                states[nid] = new
            if et in ("need_user_confirm", "node_paused", "error", "skipped"):
                notes[nid] = str(data.get("reason", ""))
            elif et == "tx_sent":
                notes[nid] = str(data.get("tx_hash", ""))
            if et == "query_result" and plan is not None and nid in ids:
                _write_back(plan, nid, dict(data.get("outputs") or {}), root)
            if et == "tx_confirmed":
                exact = False
                sent = next((str((r.get("event") or {}).get("data", {}).get("tx_hash", "")) for r in reversed(seen)
                             if (r.get("event") or {}).get("type") == "tx_sent"
                             and (r.get("event") or {}).get("node_id") == nid), None)
                out = {"receipt": data.get("receipt")}
                if sent:
                    out["tx_hash"] = sent
                if plan is not None:
                    _write_back(plan, nid, out, root)
            if until_node is not None and nid == until_node and states.get(nid) in _FINAL:
                stopped = True
                break
    if not stopped:
        raise ReplayError(f"node {until_node!r} does not complete in these events")
    if until_node is None:
        if any(s == "failed" for s in states.values()):
            status = "failed"
        elif states and all(s in ("done", "skipped") for s in states.values()):
            status = "done"
        elif any(s == "paused" for s in states.values()):
            status = "paused"
    run_id = next((r.get("run_id") for r in records), None)
    return {"run_id": run_id, "events": len(seen), "states": states, "notes": notes, "status": status,
            "root": root, "exact": exact, "until_node": until_node}


def _write_back(plan: Plan, nid: str, out: dict[str, Any], root: dict[str, Any]) -> None:
    try:
        n = plan.node(nid)
    except KeyError:
        return
    if n.writes:
        for w in n.writes:
            (merge_ref if w.effective_mode == "merge" else set_ref)(root, w.path, out)
    else:
        merge_ref(root, f"nodes.{nid}.outputs", out)


def state_from_checkpoints(checkpoints: Sequence[tuple[int, str, Mapping[str, Any]]],
                           until_node: str | None = None) -> dict[str, Any]:
    """The stored snapshot at the moment ``until_node`` completed (or the last one)."""
    if not checkpoints:
        raise ReplayError("the run has no checkpoint")
    pick = checkpoints[-1]
    if until_node is not None:
        found = None
        for cp in checkpoints:
            node = ((cp[2].get("nodes") or {}).get(until_node)) or {}
            if node.get("state") in ("done", "skipped", "failed"):
                found = cp
                break
        if found is None:
            raise ReplayError(f"node {until_node!r} never completed in the stored checkpoints")
        pick = found
    seq, ts, snap = pick
    return {"checkpoint": seq, "created_at": ts, "states": {k: v.get("state") for k, v in (snap.get("nodes") or {}).items()},
            "root": snap.get("root"), "exact": True, "until_node": until_node}
