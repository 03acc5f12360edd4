"""Compensation end to end on anvil (issue 6 item 6): a workflow compiled from YAML approves two spenders
(1000 and 2000 TST base units), then a transfer reverts; ``aisc run`` resets both approvals to 0 through
the compensations the compiler lowered into the plan, newest first, and records the outcomes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crash_chain import (
    aisc,
    allowance,
    compile_flow,
    fresh_account,
    fund,
    make_workspace,
    run_config,
    start_anvil,
    token_asset,
    write_json,
)
from evm_chain import Chain

from aisc.runtime.testing import validate_event

HERE = Path(__file__).resolve().parent
FLOW = "approve-then-fail"
APPROVE_SELECTOR = "0x095ea7b3"


@pytest.fixture(scope="module")
def chain() -> Iterator[Chain]:
    yield from start_anvil()


def _big(n: int) -> dict[str, str]:
    return {"__ais_json_type": "bigint", "value": str(n)}


def _revive(v: Any) -> Any:
    if isinstance(v, dict):
        if set(v) == {"__ais_json_type", "value"}:
            return int(v["value"])
        return {k: _revive(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_revive(x) for x in v]
    return v


def test_failed_run_resets_approvals_to_zero_newest_first(chain: Chain, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    ws = make_workspace(chain, tmp_path, [FLOW], specs=HERE / "specs")
    plan_path = compile_flow(ws, FLOW, tmp_path / "plan.json", home)

    # the compiler carried both compensations, lowered to the erc20 approve execution
    plan = json.loads(plan_path.read_text())
    comps = {n["id"]: n.get("extensions", {}).get("aisc", {}).get("compensate") for n in plan["nodes"]}
    assert comps["overspend"] is None
    for nid, spender in (("approve_a", "inputs.spender_a"), ("approve_b", "inputs.spender_b")):
        (c,) = comps[nid]
        assert c["args"] == {"token": {"ref": "inputs.token"}, "spender": {"ref": spender}, "amount": {"lit": "0"}}
        assert c["execution"]["type"] == "evm_call" and c["execution"]["abi"]["name"] == "approve"
        assert c["action_meta"] == {"ref": "erc20@0.0.2/approve", "risk_level": 3, "risk_tags": ["approval"]}

    key, owner = fresh_account("compensation")
    fund(chain, owner, 10**21)
    spender_a, spender_b = "0x" + "aa" * 20, "0x" + "bb" * 20
    inputs = write_json(tmp_path / "inputs.json", {
        "token": token_asset(chain), "spender_a": spender_a, "spender_b": spender_b,
        "recipient": "0x" + "cc" * 20, "too_much": _big(10**24)})
    ctx = write_json(tmp_path / "ctx.json", {"wallet_address": owner})
    config = write_json(tmp_path / "config.json", run_config(chain))
    events_path = tmp_path / "events.jsonl"
    store = tmp_path / "runs.db"
    r = aisc(["run", str(plan_path), "--inputs", str(inputs), "--ctx", str(ctx), "--config", str(config),
              "--store", str(store), "--run-id", "comp1", "--events-jsonl", str(events_path), "--no-hook-plugins"],
             home, key=key)
    assert r.returncode == 1, r.stderr[-3000:]

    # on chain: both allowances are back to 0; 4 transactions (2 approvals, 2 resets; the transfer
    # reverted at gas estimation and was never sent), resets in reverse order: b at nonce 2, a at nonce 3
    assert allowance(chain, owner, spender_a) == 0, r.stderr[-3000:]
    assert allowance(chain, owner, spender_b) == 0
    assert chain.nonce(owner) == 4

    events = [_revive(validate_event(line)["event"]) for line in events_path.read_text().splitlines()]
    sent = [(e.get("node_id"), e["data"]["tx_hash"]) for e in events if e["type"] == "tx_sent"]
    assert [n for n, _ in sent] == ["approve_a", "approve_b", "approve_b__compensate_0", "approve_a__compensate_0"]
    for nonce, (nid, tx_hash) in enumerate(sent):
        tx = chain.rpc("eth_getTransactionByHash", [tx_hash])
        assert int(tx["nonce"], 16) == nonce and tx["from"].lower() == owner, nid
        assert tx["input"].startswith(APPROVE_SELECTOR)
        amount = int(tx["input"][-64:], 16)
        assert amount == {"approve_a": 1000, "approve_b": 2000}.get(nid, 0), nid
    assert any(e["type"] == "error" and e.get("node_id") == "overspend" for e in events)

    h = aisc(["history", "comp1", "--store", str(store), "--format", "json"], home)
    assert h.returncode == 0, h.stderr
    hist = json.loads(h.stdout)
    assert [(c["compensation_id"], c["status"]) for c in hist["workflow"]["compensations"]] == [
        ("approve_b__compensate_0", "done"), ("approve_a__compensate_0", "done")]
    steps = {s["node_id"]: s for s in hist["steps"]}
    assert steps["overspend"]["status"] == "failed"
    assert [c["status"] for c in steps["approve_a"]["compensations"]] == ["done"]

    # a compensated run cannot be resumed
    again = aisc(["run", "--resume", "comp1", "--store", str(store), "--no-hook-plugins"], home, key=key)
    assert again.returncode == 3 and "AISC-RESUME-004" in again.stderr
    assert chain.nonce(owner) == 4
