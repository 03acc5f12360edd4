"""The spl-token example's transfer action (ATA create_idempotent + transfer), executed step by step
through SolanaBackend on LiteSVM and on the JSON-RPC transport against the devserver: both give the
same balances (issue 8 acceptance, without the runtime: the execution specs come verbatim from
``examples/spl-token.ais.yaml`` and the calculated fields are computed here).

Also: the solana-rpc example's ``balance`` query polled until a relayer credits the address (the
until/retry shape of the bridge workflow), with the relayer writing straight into the LiteSVM state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from solders.keypair import Keypair

from aisc.addresses import derive_ata
from aisc.backends.base import NodeCall, TxIntent
from aisc.backends.solana.backend import SolanaBackend
from aisc.backends.solana.devserver import DevServer
from aisc.backends.solana.local import LocalChain
from aisc.numeric import parse_decimal_string, to_atomic

EXAMPLES = Path("/work/shared/ais/examples")
CHAIN = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
RECIPIENT = str(Keypair.from_seed(bytes([77]) * 32).pubkey())


def _load(name: str) -> Any:
    return YAML(typ="safe").load((EXAMPLES / name).read_text())


def _evaluate(root: Mapping[str, Any]) -> Callable[[Any], Any]:
    def ev(v: Any) -> Any:
        ((tag, body),) = v.items()
        if tag == "lit":
            return body
        if tag == "ref":
            cur: Any = root
            for part in body.split("."):
                cur = cur[part]
            return cur
        if tag == "object":
            return {k: ev(x) for k, x in body.items()}
        if tag == "array":
            return [ev(x) for x in body]
        raise AssertionError(tag)

    return ev


def _call(execution: Mapping[str, Any], root: Mapping[str, Any], node_id: str, intents: list[TxIntent]) -> NodeCall:
    return NodeCall(node_id, CHAIN, execution, _evaluate(root), record_intent=intents.append)


def _run_transfer(backend: SolanaBackend, chain: LocalChain, amount: str) -> dict[str, int]:
    doc = _load("spl-token.ais.yaml")
    wallet = backend.signer_address(CHAIN)
    assert wallet is not None
    mint = chain.create_mint(wallet, 6, mint=str(Keypair.from_seed(bytes([5]) * 32).pubkey()))
    chain.mint_to(mint, wallet, 10_000_000)
    contracts = doc["deployments"][0]["contracts"]
    params = {"token": {"address": mint, "decimals": 6, "symbol": "TEST"}, "amount": amount, "recipient": RECIPIENT}
    root = {
        "ctx": {"wallet_address": wallet},
        "params": params,
        "contracts": contracts,
        "calculated": {
            "amount_atomic": to_atomic(parse_decimal_string(amount), 6),
            "sender_ata": derive_ata(wallet, mint),
            "recipient_ata": derive_ata(RECIPIENT, mint),
        },
    }
    steps = doc["actions"]["transfer"]["execution"]["solana:*"]["steps"]
    intents: list[TxIntent] = []
    for step in steps:
        res = backend.execute(_call(step["execution"], root, f"transfer__{step['id']}", intents))
        assert res.outputs["signature"] == intents[-1].tx_id
    return {
        "sender": int(chain.token_balance(derive_ata(wallet, mint))["amount"]),
        "recipient": int(chain.token_balance(derive_ata(RECIPIENT, mint))["amount"]),
    }


@pytest.fixture
def signer_env() -> dict[str, str]:
    return {"K": str(Keypair.from_seed(bytes([99]) * 32))}


def _fund(chain: LocalChain, env: Mapping[str, str]) -> None:
    chain.airdrop(str(Keypair.from_base58_string(env["K"]).pubkey()), 10**10)


def test_spl_example_transfer_litesvm(signer_env: dict[str, str]) -> None:
    chain = LocalChain()
    _fund(chain, signer_env)
    b = SolanaBackend({"chain": CHAIN, "signer": {"type": "env", "var": "K"}}, local_chain=chain, env=signer_env)
    assert _run_transfer(b, chain, "1.25") == {"sender": 8_750_000, "recipient": 1_250_000}


def test_spl_example_transfer_rpc_matches_litesvm(signer_env: dict[str, str]) -> None:
    chain = LocalChain()
    _fund(chain, signer_env)
    with DevServer(chain) as server:
        b = SolanaBackend(
            {"chain": CHAIN, "transport": "rpc", "rpc_url": server.url, "poll_interval_ms": 10, "signer": {"type": "env", "var": "K"}},
            env=signer_env,
        )
        rpc = _run_transfer(b, chain, "1.25")
        b.close()
    lite_chain = LocalChain()
    _fund(lite_chain, signer_env)
    lite = _run_transfer(
        SolanaBackend({"chain": CHAIN, "signer": {"type": "env", "var": "K"}}, local_chain=lite_chain, env=signer_env),
        lite_chain,
        "1.25",
    )
    assert rpc == lite == {"sender": 8_750_000, "recipient": 1_250_000}


@pytest.fixture
def server() -> Iterator[DevServer]:
    with DevServer() as s:
        yield s


def test_balance_query_polled_until_relayer_credits(server: DevServer) -> None:
    query = _load("solana-rpc.ais.yaml")["queries"]["balance"]["execution"]["solana:*"]
    target = str(Keypair().pubkey())
    b = SolanaBackend({"chain": CHAIN, "transport": "rpc", "rpc_url": server.url})
    root = {"params": {"address": target}}

    relayer = threading.Timer(0.15, server.chain.airdrop, args=(target, 1_000_000))
    relayer.start()
    seen: list[int] = []
    for _ in range(100):  # until: nodes.wait_arrival.outputs.lamports > 0, retry every 20 ms
        lamports = b.execute(_call(query, root, "wait_arrival", [])).outputs["lamports"]
        seen.append(lamports)
        if lamports > 0:
            break
        threading.Event().wait(0.02)
    relayer.join()
    b.close()
    assert seen[0] == 0 and seen[-1] == 1_000_000
