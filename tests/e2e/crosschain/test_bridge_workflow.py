"""The bridge example workflow end to end on anvil + LiteSVM (issue 8, cross-chain acceptance).

``examples/bridge-send-wait-deposit.ais-flow.yaml``: ``bridge_send`` (evm_call on the bridge) →
``wait_arrival`` (solana_read getBalance with until ``lamports > 0`` and retry) → ``solana_deposit``
(solana_instruction). A test relayer (relayer.py) watches the bridge's ``Sent`` log on anvil and,
0.5 s later, credits the Solana recipient, so the until/retry wait really waits: the test asserts
``node_waiting`` events and a first balance of 0.

The example points at placeholder deployments and a contract shape we do not have, so the test runs
copies of the four documents with these textual patches (each applied exactly once; see PATCHES):

1. bridge-demo.ais.yaml: chain ``eip155:1`` → ``eip155:31337`` (anvil) and the bridge address
   ``0x1111…`` → the TestBridge deployed on anvil. The ``send`` ABI becomes the TestBridge's
   ``send(bytes32 solanaRecipient, uint256 amount)`` (the example's ``send(uint256 amount, address
   recipient)`` has no contract behind it); the ``recipient`` param is a ``bytes32`` (the Solana key).
2. bridge-send-wait-deposit.ais-flow.yaml: ``default_chain`` ``eip155:1`` → ``eip155:31337``; the
   EVM-side recipient ``{lit: "0x2222…"}`` (an opaque placeholder unrelated to the Solana address)
   → ``{ref: inputs.solana_recipient_bytes32}``, a new bytes32 input holding the same key as
   ``inputs.solana_address``; the wait's retry ``interval_ms 2000 / max_attempts 600 / timeout_ms
   1200000`` → ``100 / 200 / 30000`` (``max_attempts 3`` in the timeout test) to keep the test fast.
3. solana-vault-demo.ais.yaml: ``vault_program`` ``BPFLoaderUpgradeab1e…`` (a loader, which rejects
   the instruction) → the SPL Memo v1 program preloaded by LiteSVM, which accepts the deposit's
   generic instruction (data ``0x01``, payer + user accounts) and logs it.
4. solana-rpc.ais.yaml: unchanged.

Not in the documents: the Solana chain id ``solana:5eykt…`` (mainnet in the example) is routed to the
local LiteSVM by the run config; TestBridge.send pulls an ERC-20 (TestToken) with transferFrom, so
the test approves the bridge for the EVM signer (anvil dev account 0) before the run; the relayer
credits ``amount`` lamports (1 token base unit = 1 lamport).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evm_chain import DEV_ADDRS, DEV_KEYS, Chain
from relayer import BridgeRelayer
from solders.keypair import Keypair

from aisc.backends.evm.backend import EvmBackend
from aisc.backends.registry import BackendRegistry
from aisc.backends.solana.backend import SolanaBackend
from aisc.backends.solana.devserver import DevServer
from aisc.backends.solana.local import LocalChain
from aisc.cli import main
from aisc.compiler import compile_workflow
from aisc.runtime.engine import Engine, RunOptions
from aisc.runtime.events import ListSink
from aisc.runtime.testing import validate_event

EXAMPLES = Path(__file__).resolve().parents[3] / "aisc" / "data" / "examples"
SOLANA = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
EVM = "eip155:31337"
MEMO_V1 = "Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo"
AMOUNT = 1_000_000
SOL_PAYER = Keypair.from_seed(bytes([41]) * 32)  # pays for the Solana deposit
RECIPIENT = Keypair.from_seed(bytes([42]) * 32).pubkey()  # the bridged-to Solana address
EVM_ENV, SOL_ENV = "AISC_TEST_XC_EVM_KEY", "AISC_TEST_XC_SOL_KEY"

pytestmark = pytest.mark.anvil


def _patches(bridge: str, max_attempts: int) -> dict[str, list[tuple[str, str]]]:
    return {
        "bridge-demo.ais.yaml": [
            ('- chain: "eip155:1"', f'- chain: "{EVM}"'),
            ('bridge: "0x1111111111111111111111111111111111111111"', f'bridge: "{bridge}"'),
            ('        type: address\n        description: "Recipient (opaque for demo)"',
             '        type: bytes32\n        description: "Recipient (opaque for demo)"'),
            ('            - { name: amount, type: "uint256" }\n            - { name: recipient, type: "address" }',
             '            - { name: solanaRecipient, type: "bytes32" }\n            - { name: amount, type: "uint256" }'),
            ('          recipient: { ref: "params.recipient" }', '          solanaRecipient: { ref: "params.recipient" }'),
        ],
        "bridge-send-wait-deposit.ais-flow.yaml": [
            ('default_chain: "eip155:1"', f'default_chain: "{EVM}"'),
            ('recipient: { lit: "0x2222222222222222222222222222222222222222" }',
             'recipient: { ref: "inputs.solana_recipient_bytes32" }'),
            ("\nnodes:\n", "\n  solana_recipient_bytes32:\n    type: bytes32\n    required: true\n\nnodes:\n"),
            ("      interval_ms: 2000\n      max_attempts: 600",
             f"      interval_ms: 100\n      max_attempts: {max_attempts}"),
            ("    timeout_ms: 1200000", "    timeout_ms: 30000"),
        ],
        "solana-vault-demo.ais.yaml": [
            ('vault_program: "BPFLoaderUpgradeab1e11111111111111111111111"', f'vault_program: "{MEMO_V1}"'),
        ],
        "solana-rpc.ais.yaml": [],
    }


def write_documents(folder: Path, bridge: str, *, max_attempts: int = 200) -> Path:
    """Patched copies of the example documents in ``folder``; returns the workflow path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, edits in _patches(bridge, max_attempts).items():
        text = (EXAMPLES / name).read_text(encoding="utf-8")
        for old, new in edits:
            assert text.count(old) == 1, f"{name}: patch target not found exactly once: {old!r}"
            text = text.replace(old, new)
        (folder / name).write_text(text, encoding="utf-8")
    return folder / "bridge-send-wait-deposit.ais-flow.yaml"


def _inputs() -> dict[str, Any]:
    return {"evm_amount": str(AMOUNT), "solana_address": str(RECIPIENT),
            "solana_recipient_bytes32": "0x" + bytes(RECIPIENT).hex()}


def _config(anvil: Chain, devserver: DevServer) -> dict[str, Any]:
    return {
        "chains": {
            EVM: {"backend": "evm", "rpc_url": anvil.url, "signer": {"type": "env", "var": EVM_ENV}},
            SOLANA: {"backend": "solana", "transport": "rpc", "rpc_url": devserver.url, "poll_interval_ms": 10,
                     "signer": {"type": "env", "var": SOL_ENV}},
        },
    }


def _approve_bridge(anvil: Chain) -> None:
    """TestBridge pulls TestToken with transferFrom: allow it for the EVM signer (dev account 0)."""
    from eth_abi.abi import encode

    data = "0x095ea7b3" + encode(["address", "uint256"], [anvil.addr["bridge"], AMOUNT]).hex()
    h = anvil.rpc("eth_sendTransaction", [{"from": DEV_ADDRS[0], "to": anvil.addr["token"], "data": data}])
    assert anvil.wait_receipt(h)["status"] == "0x1"


def _total_locked(anvil: Chain) -> int:
    return int(anvil.rpc("eth_call", [{"to": anvil.addr["bridge"], "data": "0x56891412"}, "latest"]), 16)


def _events(records: list[dict[str, Any]], kind: str, node: str) -> list[dict[str, Any]]:
    return [r["event"]["data"] for r in records if r["event"]["type"] == kind and r["event"].get("node_id") == node]


def _check_run(records: list[dict[str, Any]], relayer: BridgeRelayer, chain: LocalChain, anvil: Chain) -> None:
    assert relayer.errors == []
    # EVM: the bridge locked the amount and emitted Sent, which the relayer picked up once
    (sent,) = _events(records, "tx_sent", "bridge_send")
    assert [(c.evm_tx, c.sender, c.recipient, c.amount) for c in relayer.credits] == [
        (sent["tx_hash"], DEV_ADDRS[0], str(RECIPIENT), AMOUNT)]
    assert _total_locked(anvil) == AMOUNT
    # the wait really waited: balance 0 first, node_waiting events, then the credited lamports
    waits = _events(records, "node_waiting", "wait_arrival")
    assert len(waits) >= 2
    assert [w["attempts"] for w in waits] == list(range(1, len(waits) + 1))
    balances = [d["outputs"]["lamports"] for d in _events(records, "query_result", "wait_arrival")]
    assert balances[0] == 0 and balances[-1] == AMOUNT
    # Solana: the deposit landed after the arrival (Memo v1 program invoked, success)
    (deposit,) = _events(records, "tx_confirmed", "solana_deposit")
    (dep_sent,) = _events(records, "tx_sent", "solana_deposit")
    status = chain.status(dep_sent["tx_hash"])
    assert status is not None and status.err is None
    assert f"Program {MEMO_V1} success" in status.logs
    assert deposit["receipt"]["confirmationStatus"] in ("confirmed", "finalized")
    assert chain.get_balance(str(RECIPIENT)) == AMOUNT
    order = [r["event"]["type"] + ":" + str(r["event"].get("node_id")) for r in records]
    assert order.index("tx_confirmed:bridge_send") < order.index("node_waiting:wait_arrival") < order.index(
        "tx_sent:solana_deposit")


@pytest.fixture
def solana_chain() -> LocalChain:
    chain = LocalChain()
    chain.airdrop(str(SOL_PAYER.pubkey()), 1_000_000_000)
    return chain


@pytest.fixture
def keys_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EVM_ENV, DEV_KEYS[0])
    monkeypatch.setenv(SOL_ENV, str(SOL_PAYER))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))


@pytest.fixture
def devserver(solana_chain: LocalChain) -> Iterator[DevServer]:
    with DevServer(solana_chain) as server:
        yield server


def test_bridge_workflow_cli_anvil_and_solana_rpc(tmp_path: Path, anvil: Chain, devserver: DevServer,
                                                   keys_env: None) -> None:
    """``aisc run`` of the (patched) bridge workflow: anvil over JSON-RPC, Solana over JSON-RPC to the
    LiteSVM DevServer; the relayer credits the DevServer's chain."""
    workflow = write_documents(tmp_path / "examples", anvil.addr["bridge"])
    _approve_bridge(anvil)
    config = _config(anvil, devserver)
    events = tmp_path / "events.jsonl"
    with BridgeRelayer(anvil.url, anvil.addr["bridge"], devserver.chain, delay_s=0.5) as relayer:
        rc = main(["run", str(workflow), "--config", json.dumps(config), "--inputs", json.dumps(_inputs()),
                   "--ctx", json.dumps({"wallet_address": str(SOL_PAYER.pubkey())}),
                   "--events-jsonl", str(events), "--no-store"])
    records = [validate_event(line) for line in events.read_text().splitlines()]
    assert rc == 0
    _check_run(records, relayer, devserver.chain, anvil)


def test_bridge_workflow_engine_anvil_and_inprocess_litesvm(tmp_path: Path, anvil: Chain,
                                                            solana_chain: LocalChain) -> None:
    """The compiled plan on the Engine: EVM backend from the run config, the Solana backend on an
    in-process LiteSVM that the relayer credits directly."""
    plan = compile_workflow(write_documents(tmp_path / "examples", anvil.addr["bridge"]))
    _approve_bridge(anvil)
    registry = BackendRegistry()
    registry.register(EvmBackend({"chain": EVM, "rpc_url": anvil.url,
                                  "signer": {"type": "unlocked", "address": DEV_ADDRS[0]}}))
    registry.register(SolanaBackend({"chain": SOLANA, "signer": {"type": "env", "var": SOL_ENV}},
                                    local_chain=solana_chain, env={SOL_ENV: str(SOL_PAYER)}))
    sink = ListSink()
    started = time.monotonic()
    with BridgeRelayer(anvil.url, anvil.addr["bridge"], solana_chain, delay_s=0.5) as relayer:
        result = Engine(plan, registry, inputs=_inputs(), ctx={"wallet_address": str(SOL_PAYER.pubkey())},
                        options=RunOptions(), sink=sink).run()
    registry.close()
    assert result.status == "done", result.error
    records = [validate_event(r) for r in sink.records]
    _check_run(records, relayer, solana_chain, anvil)
    credit = relayer.credits[0]
    assert credit.credited_at is not None and credit.credited_at - credit.seen_at >= 0.5
    assert time.monotonic() - started >= 0.5


def test_bridge_workflow_without_relayer_times_out(tmp_path: Path, anvil: Chain, devserver: DevServer,
                                                   keys_env: None) -> None:
    """Nothing arrives: the until loop exhausts max_attempts (3), exit 6, the deposit never runs."""
    workflow = write_documents(tmp_path / "examples", anvil.addr["bridge"], max_attempts=3)
    _approve_bridge(anvil)
    config = _config(anvil, devserver)
    events = tmp_path / "events.jsonl"
    rc = main(["run", str(workflow), "--config", json.dumps(config), "--inputs", json.dumps(_inputs()),
               "--ctx", json.dumps({"wallet_address": str(SOL_PAYER.pubkey())}),
               "--events-jsonl", str(events), "--no-store"])
    records = [validate_event(line) for line in events.read_text().splitlines()]
    assert rc == 6
    assert len(_events(records, "node_waiting", "wait_arrival")) == 2
    (err,) = _events(records, "error", "wait_arrival")
    assert "until max_attempts exceeded" in err["reason"]
    assert _events(records, "tx_sent", "solana_deposit") == []
    assert devserver.chain.get_balance(str(RECIPIENT)) == 0
