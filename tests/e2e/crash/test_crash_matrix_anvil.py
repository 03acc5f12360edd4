"""Crash matrix on a real node (issue 6 and issue 7 acceptance): ``aisc run`` of a plan compiled from
YAML (one balance read, then ten chained ERC-20 transfers) is SIGKILLed at every node boundary and
inside the broadcast window, then ``aisc run --resume RUN_ID`` finishes it against anvil. Every resume
must end with the balances of an uninterrupted run, and the signing account's nonce on chain must be
exactly 10: one transaction per write node (no double broadcast, no lost write).

Crash points (``AISC_CRASH_AT=<point>:<node>``, docs/durability.md):

- ``before_node`` / ``after_node``: node boundaries (nothing of the node persisted / its completion committed);
- ``after_intent``: the intent (hash, nonce, signed bytes) is committed, ``eth_sendRawTransaction`` not called;
- ``after_send``: ``eth_sendRawTransaction`` returned, the receipt not yet awaited (crash_evm.py);
- ``after_broadcast``: the backend returned the receipt, the engine has not recorded the result.

Each scenario signs with its own fresh account on a private anvil (crash_chain.py), so scenarios are
independent and xdist can spread them. The 17 scenarios around the first, a middle and the last write
run by default; the other 35 are marked ``slow`` (CI runs them all: the suite does not deselect
``slow``; ``-m "not slow"`` skips them locally). Timings in docs/durability.md.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crash_chain import (
    CHAIN_ID,
    address_of,
    aisc,
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

from aisc.runtime.store import SqliteStore

WRITES = [f"t{j:02d}" for j in range(1, 11)]
AMOUNTS = {w: j * 1000 for j, w in enumerate(WRITES, start=1)}  # the YAML's literal amounts
FUNDED = 10**21
TRANSFER_SELECTOR = "0xa9059cbb"

POINTS_WRITE = ("before_node", "after_intent", "after_send", "after_broadcast", "after_node")
SCENARIOS = [("before_node", "q0"), ("after_node", "q0")] + [(p, w) for w in WRITES for p in POINTS_WRITE]
DEFAULT_NODES = {"q0", "t01", "t05", "t10"}


def _param(point: str, node: str) -> Any:
    marks = () if node in DEFAULT_NODES else (pytest.mark.slow,)
    return pytest.param(point, node, id=f"{point}:{node}", marks=marks)


class Matrix:
    def __init__(self, chain: Chain, root: Path) -> None:
        self.chain = chain
        self.root = root
        self.home = root / "home"
        self.home.mkdir()
        ws = make_workspace(chain, root, ["ten-transfers"])
        self.plan = compile_flow(ws, "ten-transfers", root / "ten-transfers.plan.json", self.home)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    for chain in start_anvil():
        yield Matrix(chain, tmp_path_factory.mktemp("crash-matrix"))


class Scenario:
    """One run: its own signing account, recipients, inputs/ctx/config files and run store."""

    def __init__(self, m: Matrix, label: str, tmp: Path, *, backend: str = "evm") -> None:
        self.m = m
        self.key, self.sender = fresh_account(label)
        fund(m.chain, self.sender, FUNDED)
        self.to = {w: address_of(f"{label}:{w}") for w in WRITES}
        self.store = tmp / "runs.db"
        self.files = [
            "--inputs", str(write_json(tmp / "inputs.json", {
                "token": token_asset(m.chain), **{f"to_{w[1:]}": self.to[w] for w in WRITES}})),
            "--ctx", str(write_json(tmp / "ctx.json", {"wallet_address": self.sender})),
            "--config", str(write_json(tmp / "config.json", run_config(m.chain, backend=backend))),
        ]

    def start(self, run_id: str, crash: str | None = None) -> Any:
        return aisc(["run", str(self.m.plan), *self.files, "--store", str(self.store), "--run-id", run_id,
                     "--no-hook-plugins"], self.m.home, key=self.key, crash=crash)

    def resume(self, run_id: str) -> Any:
        return aisc(["run", "--resume", run_id, "--store", str(self.store), "--no-hook-plugins"], self.m.home,
                    key=self.key)

    def check_final_chain_state(self) -> None:
        chain = self.m.chain
        assert chain.nonce(self.sender) == len(WRITES), "one transaction per write node"
        assert chain.nonce(self.sender, "pending") == len(WRITES)
        assert {w: chain.token_balance(self.to[w]) for w in WRITES} == AMOUNTS
        assert chain.token_balance(self.sender) == FUNDED - sum(AMOUNTS.values())

    def check_store(self, run_id: str) -> None:
        """Every node done; each write's recorded transaction is the one on chain with nonce j-1."""
        with SqliteStore(self.store) as st:
            rec = st.get_run(run_id)
            intents = st.intents(run_id)
        assert rec.status == "done" and rec.state is not None
        assert {k: v["state"] for k, v in rec.state["nodes"].items()} == dict.fromkeys(["q0", *WRITES], "done")
        assert rec.state["root"]["nodes"]["q0"]["outputs"]["balance"] == FUNDED
        confirmed = {(i.node_id, i.tx_id) for i in intents if i.status == "confirmed"}
        assert {n for n, _ in confirmed} == set(WRITES) and len(confirmed) == len(WRITES)
        for j, w in enumerate(WRITES):
            out = rec.state["root"]["nodes"][w]["outputs"]
            assert (w, out["tx_hash"]) in confirmed
            tx = self.m.chain.rpc("eth_getTransactionByHash", [out["tx_hash"]])
            assert tx["from"].lower() == self.sender and int(tx["nonce"], 16) == j
            assert tx["to"].lower() == self.m.chain.addr["token"]
            assert tx["input"].startswith(TRANSFER_SELECTOR) and int(tx["input"][-64:], 16) == AMOUNTS[w]
            assert out["receipt"]["status"] == 1


def test_uninterrupted_run_sets_the_expected_final_state(matrix: Matrix, tmp_path: Path) -> None:
    s = Scenario(matrix, "reference", tmp_path)
    r = s.start("ref")
    assert r.returncode == 0, r.stderr
    s.check_final_chain_state()
    s.check_store("ref")


@pytest.mark.parametrize(("point", "node"), [_param(p, n) for p, n in SCENARIOS])
def test_sigkill_then_resume_sends_each_write_once(point: str, node: str, matrix: Matrix, tmp_path: Path) -> None:
    s = Scenario(matrix, f"{point}:{node}", tmp_path, backend="crash-evm" if point == "after_send" else "evm")
    crashed = s.start("run1", crash=f"{point}:{node}")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]

    # the kill happened where it should: the chain shows how far the run got
    index = WRITES.index(node) if node in WRITES else -1
    sent_before = {"before_node": index, "after_intent": index, "after_send": index + 1,
                   "after_broadcast": index + 1, "after_node": index + 1}[point] if node != "q0" else 0
    assert matrix.chain.nonce(s.sender, "pending") == sent_before
    if point in ("after_intent", "after_send"):
        with SqliteStore(s.store) as st:
            open_intents = [(i.node_id, i.nonce, i.chain) for i in st.intents("run1", open_only=True)]
        assert open_intents == [(node, index, CHAIN_ID)]

    resumed = s.resume("run1")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    s.check_final_chain_state()
    s.check_store("run1")


def test_resume_again_after_done_sends_nothing(matrix: Matrix, tmp_path: Path) -> None:
    s = Scenario(matrix, "twice", tmp_path)
    assert s.start("r2", crash="after_intent:t03").returncode == -signal.SIGKILL
    assert s.resume("r2").returncode == 0
    again = s.resume("r2")
    assert again.returncode == 3 and "AISC-RESUME-003" in again.stderr
    s.check_final_chain_state()
