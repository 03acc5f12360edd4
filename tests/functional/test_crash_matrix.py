"""Crash matrix: ``aisc run`` is SIGKILLed at every node boundary and inside the broadcast window of a
plan with 10 writes; ``aisc run --resume`` must end in the state of an uninterrupted run with exactly
one broadcast per write node (no double broadcast).

Crash points (``AISC_CRASH_AT=<point>:<node>``, see aisc.runtime.store):

- ``before_node``: the node is about to execute (node boundary, nothing of it persisted yet);
- ``after_node``: the checkpoint that marks the node complete was committed (node boundary);
- ``after_intent``: the transaction intent is committed, the broadcast has not happened;
- ``after_send``: the ledger accepted the transaction, the backend has not returned yet;
- ``after_broadcast``: the backend returned, the engine has not recorded the result yet.

The chain is :mod:`ledger_chain` (SQLite), so the broadcast count survives the kill.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ledger_chain import broadcasts, ledger

from aisc.runtime.store import SqliteStore

HERE = Path(__file__).resolve().parent
CHAIN = "eip155:31337"
KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
WRITES = [f"w{i:02d}" for i in range(1, 11)]
ABI = {"type": "function", "name": "store", "inputs": [{"name": "v", "type": "uint256"}]}


def plan_json() -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{
        "id": "q0", "chain": CHAIN, "kind": "query_ref",
        "execution": {"type": "evm_read", "to": {"lit": "0x01"}, "abi": {"type": "function", "name": "get", "inputs": []},
                      "args": {}}}]
    prev = "q0"
    for i, w in enumerate(WRITES):
        ref = "nodes.q0.outputs.value" if prev == "q0" else f"nodes.{prev}.outputs.nonce"
        nodes.append({"id": w, "chain": CHAIN, "kind": "action_ref", "deps": [prev],
                      "execution": {"type": "evm_call", "to": {"lit": "0x00000000000000000000000000000000000000c0"},
                                    "abi": ABI, "args": {"v": {"ref": ref}, "i": {"lit": i}}}})
        prev = w
    return {"schema": "ais-plan/0.0.3", "meta": {"name": "ten-writes"}, "nodes": nodes}


def setup(tmp: Path) -> dict[str, str]:
    paths = {"plan": str(tmp / "plan.json"), "config": str(tmp / "config.json"), "store": str(tmp / "runs.db"),
             "chain": str(tmp / "chain.db")}
    Path(paths["plan"]).write_text(json.dumps(plan_json()))
    cfg = {"backends": {"ledger": {"factory": "ledger_chain:make_backend"}},
           "chains": {CHAIN: {"backend": "ledger", "db": paths["chain"], "signer": {"env": "AISC_TEST_KEY"}}}}
    Path(paths["config"]).write_text(json.dumps(cfg))
    return paths


def aisc(argv: list[str], crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AISC_CRASH_AT"}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    env["AISC_TEST_KEY"] = KEY
    if crash:
        env["AISC_CRASH_AT"] = crash
    return subprocess.run([sys.executable, "-m", "aisc.cli", *argv], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120, check=False)


def start(p: dict[str, str], run_id: str, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    return aisc(["run", p["plan"], "--config", p["config"], "--store", p["store"], "--run-id", run_id,
                 "--no-hook-plugins"], crash)


def final_state(store_path: str, run_id: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    with SqliteStore(store_path) as st:
        rec = st.get_run(run_id)
        assert rec.state is not None
        states = {k: v["state"] for k, v in rec.state["nodes"].items()}
        return rec.status, states, dict(rec.state["root"]["nodes"])


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[tuple[str, int, str]]]:
    p = setup(tmp_path_factory.mktemp("reference"))
    r = start(p, "ref")
    assert r.returncode == 0, r.stderr
    status, states, nodes = final_state(p["store"], "ref")
    assert status == "done" and set(states.values()) == {"done"}
    return nodes, ledger(p["chain"])


SCENARIOS = [("before_node", "q0"), ("after_node", "q0")] + [
    (point, w) for point in ("before_node", "after_intent", "after_send", "after_broadcast", "after_node")
    for w in WRITES]


@pytest.mark.parametrize(("point", "node"), SCENARIOS, ids=[f"{p}:{n}" for p, n in SCENARIOS])
def test_sigkill_then_resume_broadcasts_each_write_once(point: str, node: str, tmp_path: Path,
                                                        reference: tuple[dict[str, Any], list[Any]]) -> None:
    ref_nodes, ref_ledger = reference
    p = setup(tmp_path)
    crashed = start(p, "run1", crash=f"{point}:{node}")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    resumed = aisc(["run", "--resume", "run1", "--store", p["store"], "--no-hook-plugins"])
    assert resumed.returncode == 0, resumed.stderr
    assert broadcasts(p["chain"]) == dict.fromkeys(WRITES, 1)
    assert ledger(p["chain"]) == ref_ledger
    status, states, nodes = final_state(p["store"], "run1")
    assert status == "done"
    assert states == dict.fromkeys(["q0", *WRITES], "done")
    assert nodes == ref_nodes
    with SqliteStore(p["store"]) as st:
        final = {(i.node_id, i.status) for i in st.intents("run1")}
    assert final == {(w, "confirmed") for w in WRITES}


def test_resume_of_a_finished_run_is_refused(tmp_path: Path) -> None:
    p = setup(tmp_path)
    assert start(p, "done1").returncode == 0
    again = aisc(["run", "--resume", "done1", "--store", p["store"], "--no-hook-plugins"])
    assert again.returncode == 3 and "AISC-RESUME-003" in again.stderr
    assert broadcasts(p["chain"]) == dict.fromkeys(WRITES, 1)
