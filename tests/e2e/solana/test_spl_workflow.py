"""The SPL transfer workflow compiled from YAML and run with ``aisc run`` on Solana (issue 8 acceptance).

The workflow is the bundled demo ``aisc/data/demo/spl-transfer.ais-flow.yaml``: the spl-token example
protocol's ``transfer`` action (ATA ``create_idempotent`` + SPL ``transfer``, composite lowered to two
plan nodes) followed by two ``getTokenAccountBalance`` reads, under the demo pack (risk ≤ 2
auto-executes, token allowlist with the DEMO mint).

- LiteSVM in process: the chain is seeded through the run config (``seed``: airdrop, mint, mint_to).
- JSON-RPC: the same workflow against the loopback DevServer, seeded through LocalChain helpers; the
  balances read back from the chain are the same as on LiteSVM.
- The compiled plan file (``aisc compile`` → ``aisc run plan.json``) gives the same result.
- Policy: a mint outside the pack allowlist is hard-blocked before any transaction.

Amounts: the signer holds 100 DEMO (6 decimals) and sends 12.5 DEMO, so 87.5 / 12.5 remain.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from solders.keypair import Keypair

from aisc.addresses import derive_ata
from aisc.backends.solana.devserver import DevServer
from aisc.backends.solana.local import LocalChain
from aisc.cli import main
from aisc.runtime.testing import validate_event

DEMO = Path(__file__).resolve().parents[3] / "aisc" / "data" / "demo"
WORKFLOW = DEMO / "spl-transfer.ais-flow.yaml"
PACK = DEMO / "demo-pack.ais-pack.yaml"
CHAIN = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
MINT = "DemoMint11111111111111111111111111111111111"
OTHER_MINT = "DemoVau1t1111111111111111111111111111111111"  # a valid address, not in the pack allowlist
RECIPIENT = "DemoRecipient111111111111111111111111111111"
KEY = Keypair.from_seed(bytes([7]) * 32)
WALLET = str(KEY.pubkey())
ENV = "AISC_TEST_SPL_KEY"

SEED = {
    "airdrop": [{"to": "signer", "lamports": "2000000000"}],
    "mints": [
        {"address": MINT, "decimals": 6, "mint_to": [{"owner": "signer", "amount": "100000000"}]},
        {"address": OTHER_MINT, "decimals": 6, "mint_to": [{"owner": "signer", "amount": "100000000"}]},
    ],
}


def _inputs(mint: str = MINT) -> str:
    return json.dumps({
        "token": {"chain_id": CHAIN, "address": mint, "symbol": "DEMO", "decimals": 6},
        "amount": "12.5",
        "recipient": RECIPIENT,
    })


@pytest.fixture(autouse=True)
def signer_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, str(KEY))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # a paused run reads commands: none come


def _run(tmp_path: Path, target: Path, chain_cfg: dict[str, Any], *, inputs: str | None = None,
         pack: bool = True) -> tuple[int, list[dict[str, Any]]]:
    events = tmp_path / "events.jsonl"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"chains": {CHAIN: chain_cfg}}))
    argv = ["run", str(target), "--config", str(config), "--ctx", json.dumps({"wallet_address": WALLET}),
            "--inputs", inputs or _inputs(), "--events-jsonl", str(events), "--no-store"]
    if pack:
        argv += ["--pack", str(PACK)]
    rc = main(argv)
    return rc, [validate_event(line) for line in events.read_text().splitlines()]


def _by_type(records: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {r["event"]["node_id"]: r["event"]["data"] for r in records if r["event"]["type"] == kind}


def _litesvm_cfg() -> dict[str, Any]:
    return {"backend": "solana", "transport": "litesvm", "signer": {"type": "env", "var": ENV}, "seed": SEED}


def _assert_transfer_events(records: list[dict[str, Any]]) -> None:
    sent = _by_type(records, "tx_sent")
    confirmed = _by_type(records, "tx_confirmed")
    assert set(sent) == set(confirmed) == {"transfer__create_recipient_ata", "transfer"}
    reads = _by_type(records, "query_result")
    assert reads["recipient_balance"]["outputs"]["result"] == {"amount": "12500000", "decimals": 6,
                                                               "uiAmountString": "12.5"}
    assert reads["sender_balance"]["outputs"]["result"] == {"amount": "87500000", "decimals": 6,
                                                            "uiAmountString": "87.5"}


def test_spl_workflow_runs_on_seeded_litesvm(tmp_path: Path) -> None:
    """``aisc run WORKFLOW`` compiles and runs on LiteSVM seeded from the config: ATA created, 12.5 sent."""
    rc, records = _run(tmp_path, WORKFLOW, _litesvm_cfg())
    assert rc == 0
    _assert_transfer_events(records)


def test_spl_workflow_compiled_plan_file_runs(tmp_path: Path) -> None:
    """``aisc compile`` → plan.json → ``aisc run plan.json`` gives the same transfer and balances."""
    plan = tmp_path / "plan.json"
    assert main(["compile", str(WORKFLOW), "--pack", str(PACK), "-o", str(plan), "-q"]) == 0
    assert [n["id"] for n in json.loads(plan.read_text())["nodes"]] == [
        "transfer__create_recipient_ata", "transfer", "recipient_balance", "sender_balance"]
    rc, records = _run(tmp_path, plan, _litesvm_cfg(), pack=False)
    assert rc == 0
    _assert_transfer_events(records)


@pytest.fixture
def devserver() -> Iterator[DevServer]:
    chain = LocalChain()
    chain.airdrop(WALLET, 2_000_000_000)
    chain.create_mint(WALLET, 6, mint=MINT)
    chain.mint_to(MINT, WALLET, 100_000_000)
    with DevServer(chain) as server:
        yield server


def test_spl_workflow_over_json_rpc_gives_same_balances(tmp_path: Path, devserver: DevServer) -> None:
    """The JSON-RPC transport against the loopback DevServer: same events, same on-chain balances."""
    cfg = {"backend": "solana", "transport": "rpc", "rpc_url": devserver.url, "poll_interval_ms": 10,
           "signer": {"type": "env", "var": ENV}}
    rc, records = _run(tmp_path, WORKFLOW, cfg)
    assert rc == 0
    _assert_transfer_events(records)
    chain = devserver.chain
    assert chain.token_balance(derive_ata(WALLET, MINT))["amount"] == "87500000"
    assert chain.token_balance(derive_ata(RECIPIENT, MINT))["amount"] == "12500000"
    # both writes landed on the server's chain (the signatures the engine reported)
    for sig in (d["tx_hash"] for d in _by_type(records, "tx_sent").values()):
        status = chain.status(sig)
        assert status is not None and status.err is None


def test_spl_workflow_mint_outside_pack_allowlist_is_blocked(tmp_path: Path) -> None:
    """A token the pack does not allowlist: the policy gate hard-blocks (exit 5); nothing is sent."""
    rc, records = _run(tmp_path, WORKFLOW, _litesvm_cfg(), inputs=_inputs(OTHER_MINT))
    assert rc == 5
    assert _by_type(records, "tx_sent") == {}
    paused = [r["event"]["data"] for r in records if r["event"]["type"] == "need_user_confirm"]
    assert paused and paused[0]["details"]["can_confirm"] is False


def test_spl_workflow_seed_on_rpc_transport_is_rejected(tmp_path: Path, devserver: DevServer) -> None:
    """A seed only applies to a local chain: with ``transport: rpc`` the run stops with an input error (exit 3)."""
    cfg = {"backend": "solana", "transport": "rpc", "rpc_url": devserver.url, "signer": {"type": "env", "var": ENV},
           "seed": SEED}
    rc, records = _run(tmp_path, WORKFLOW, cfg)
    assert rc == 3
    errors = [r["event"]["data"] for r in records if r["event"]["type"] == "error"]
    assert errors and errors[0]["reason"].startswith("seed: a seed only applies to the litesvm transport")
    assert _by_type(records, "tx_sent") == {}
