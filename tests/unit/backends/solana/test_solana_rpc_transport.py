"""The JSON-RPC transport against the LiteSVM-backed devserver on 127.0.0.1 (R234; SPEC-MAP §5.4)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from solana_testkit import CHAIN, account, lit, make_call
from solders.keypair import Keypair

from aisc.addresses import TOKENKEG, derive_ata
from aisc.backends.base import BackendError, TxIntent
from aisc.backends.solana.backend import SolanaBackend
from aisc.backends.solana.devserver import DevServer
from aisc.backends.solana.local import LocalChain
from aisc.backends.solana.transport import RpcTransport

BOB = str(Keypair.from_seed(bytes([43]) * 32).pubkey())


@pytest.fixture
def server(chain: LocalChain) -> Iterator[DevServer]:
    with DevServer(chain) as s:
        yield s


@pytest.fixture
def kp() -> Keypair:
    return Keypair.from_seed(bytes([12]) * 32)


@pytest.fixture
def rpc_backend(server: DevServer, kp: Keypair) -> Iterator[SolanaBackend]:
    b = SolanaBackend(
        {"chain": CHAIN, "transport": "rpc", "rpc_url": server.url, "signer": {"type": "env", "var": "K"}, "poll_interval_ms": 10},
        env={"K": str(kp)},
    )
    yield b
    b.close()


@pytest.fixture
def funded(chain: LocalChain, kp: Keypair) -> tuple[str, str]:
    wallet = str(kp.pubkey())
    chain.airdrop(wallet, 10**10)
    mint = chain.create_mint(wallet, 6)
    chain.mint_to(mint, wallet, 1_000_000)
    chain.mint_to(mint, BOB, 0)
    return wallet, mint


def transfer(src: str, dst: str, auth: str, amount: int) -> dict[str, Any]:
    return {
        "type": "solana_instruction",
        "program": lit(TOKENKEG),
        "instruction": "transfer",
        "accounts": [account("source", src, False, True), account("destination", dst, False, True), account("authority", auth, True)],
        "data": {"object": {"amount": lit(amount)}},
    }


def test_transfer_and_reads_over_rpc(rpc_backend: SolanaBackend, funded: tuple[str, str], server: DevServer) -> None:
    wallet, mint = funded
    intents: list[TxIntent] = []
    res = rpc_backend.execute(make_call(transfer(derive_ata(wallet, mint), derive_ata(BOB, mint), wallet, 400_000), intents=intents))
    assert intents[0].tx_id == res.outputs["signature"]
    bal = rpc_backend.execute(
        make_call({"type": "solana_read", "method": "getTokenAccountBalance", "params": {"object": {"address": lit(derive_ata(BOB, mint))}}})
    )
    assert bal.outputs == {"result": {"amount": "400000", "decimals": 6, "uiAmountString": "0.4"}}
    lamports = rpc_backend.execute(make_call({"type": "solana_read", "method": "getBalance", "params": lit([wallet])}))
    assert 0 < lamports.outputs["lamports"] < 10**10  # fee paid
    info = rpc_backend.execute(make_call({"type": "solana_read", "method": "getAccountInfo", "params": lit([mint])}))
    assert info.outputs["exists"] is True and info.outputs["data_len"] == 82 and info.outputs["owner"] == TOKENKEG
    assert "sendTransaction" in server.requests and "getSignatureStatuses" in server.requests


def test_preflight_failure_reports_logs(rpc_backend: SolanaBackend, funded: tuple[str, str], chain: LocalChain) -> None:
    wallet, mint = funded
    height = chain.block_height
    with pytest.raises(BackendError) as info:
        rpc_backend.execute(make_call(transfer(derive_ata(wallet, mint), derive_ata(BOB, mint), wallet, 10**9)))
    d = info.value.details
    assert d["landed"] is False and d["err"] == {"InstructionError": [0, {"Custom": 1}]}
    assert any("insufficient funds" in line for line in d["logs"])
    assert chain.block_height == height  # nothing committed


def test_skip_preflight_failure_lands_and_reports_logs(server: DevServer, kp: Keypair, funded: tuple[str, str]) -> None:
    wallet, mint = funded
    b = SolanaBackend(
        {"chain": CHAIN, "transport": "rpc", "rpc_url": server.url, "skip_preflight": True, "poll_interval_ms": 10, "signer": {"type": "env", "var": "K"}},
        env={"K": str(kp)},
    )
    with pytest.raises(BackendError) as info:
        b.execute(make_call(transfer(derive_ata(wallet, mint), derive_ata(BOB, mint), wallet, 10**9)))
    assert info.value.details["landed"] is True
    assert any("insufficient funds" in line for line in info.value.details["logs"])
    b.close()


def test_confirmation_polling_waits_for_commitment(rpc_backend: SolanaBackend, funded: tuple[str, str], server: DevServer) -> None:
    wallet, mint = funded
    server.confirm_after_polls = 3
    res = rpc_backend.execute(make_call(transfer(derive_ata(wallet, mint), derive_ata(BOB, mint), wallet, 1)))
    assert res.outputs["confirmation"]["confirmationStatus"] == "finalized"
    assert server.requests.count("getSignatureStatuses") >= 4


def test_transient_http_errors_are_retried(rpc_backend: SolanaBackend, funded: tuple[str, str], server: DevServer) -> None:
    wallet, _ = funded
    server.fail_next(2, status=503)
    out = rpc_backend.execute(make_call({"type": "solana_read", "method": "getBalance", "params": lit([wallet])}))
    assert out.outputs["lamports"] == 10**10


def test_persistent_failure_is_rpc_unavailable(server: DevServer) -> None:
    t = RpcTransport(server.url, retries=2, backoff_s=0.001)
    server.fail_next(10, status=502)
    with pytest.raises(BackendError) as info:
        t.get_balance(BOB)
    assert info.value.category == "rpc_unavailable" and info.value.retryable
    t.close()


def test_unreachable_endpoint() -> None:
    t = RpcTransport("http://127.0.0.1:9", retries=1, backoff_s=0.001, timeout_s=1.0)
    with pytest.raises(BackendError) as info:
        t.get_balance(BOB)
    assert info.value.category == "rpc_unavailable"
    t.close()


def test_confirmation_timeout(server: DevServer, kp: Keypair, funded: tuple[str, str]) -> None:
    wallet, mint = funded
    server.confirm_after_polls = 10**6
    b = SolanaBackend(
        {"chain": CHAIN, "transport": "rpc", "rpc_url": server.url, "confirm_timeout_ms": 100, "poll_interval_ms": 10, "signer": {"type": "env", "var": "K"}},
        env={"K": str(kp)},
    )
    with pytest.raises(BackendError) as info:
        b.execute(make_call(transfer(derive_ata(wallet, mint), derive_ata(BOB, mint), wallet, 1)))
    assert info.value.category == "timeout" and not info.value.retryable
    b.close()


def test_reconcile_over_rpc(rpc_backend: SolanaBackend, funded: tuple[str, str], chain: LocalChain) -> None:
    wallet, mint = funded
    intents: list[TxIntent] = []
    res = rpc_backend.execute(make_call(transfer(derive_ata(wallet, mint), derive_ata(BOB, mint), wallet, 5), intents=intents))
    got = rpc_backend.reconcile(intents[0])
    assert got is not None and got.outputs["signature"] == res.outputs["signature"]
    unknown = TxIntent(CHAIN, wallet, "1" * 64, blockhash=intents[0].blockhash)
    chain.advance_blocks(200)
    assert rpc_backend.reconcile(unknown) is None


def _rpc(url: str, method: str, params: list[Any]) -> Any:
    return httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).json()


def test_devserver_methods(server: DevServer, chain: LocalChain) -> None:
    assert _rpc(server.url, "getHealth", [])["result"] == "ok"
    assert "solana-core" in _rpc(server.url, "getVersion", [])["result"]
    assert _rpc(server.url, "requestAirdrop", [BOB, 5000])["error"]["code"] == -32603  # below rent exemption
    sig = _rpc(server.url, "requestAirdrop", [BOB, 10**9])["result"]
    assert chain.get_balance(BOB) == 10**9
    st = _rpc(server.url, "getSignatureStatuses", [[sig]])["result"]["value"][0]
    assert st["err"] is None
    assert _rpc(server.url, "getMinimumBalanceForRentExemption", [165])["result"] == chain.minimum_balance_for_rent_exemption(165)
    assert _rpc(server.url, "nope", [])["error"]["code"] == -32601
    assert _rpc(server.url, "getBalance", ["xyz0"])["error"]["code"] == -32602
    bh = _rpc(server.url, "getLatestBlockhash", [])["result"]["value"]
    assert _rpc(server.url, "isBlockhashValid", [bh["blockhash"]])["result"]["value"] is True
    assert bh["lastValidBlockHeight"] == chain.block_height + 150
    batch = httpx.post(server.url, json=[{"jsonrpc": "2.0", "id": 1, "method": "getSlot"}, {"jsonrpc": "2.0", "id": 2, "method": "getBlockHeight"}]).json()
    assert [r["id"] for r in batch] == [1, 2]
    assert _rpc(server.url, "sendTransaction", [base64.b64encode(b"junk").decode(), {"encoding": "base64"}])["error"]["code"] == -32602


def test_devserver_stop_releases_port(chain: LocalChain) -> None:
    s = DevServer(chain)
    url = s.start()
    assert _rpc(url, "getHealth", [])["result"] == "ok"
    s.stop()
    with pytest.raises(httpx.TransportError):
        httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "getHealth"}, timeout=1.0)
