"""Fault modes of the proxy in front of the LiteSVM JSON-RPC devserver, against SolanaBackend over
the ``rpc`` transport (docs/faults.md, table 2).

One System ``transfer`` per case. The end state is the recipient's lamports and the number of
``sendTransaction`` requests that reached the devserver (the same signed bytes; a signature lands
at most once, which the recipient balance confirms).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from solders.keypair import Keypair

from aisc.addresses import SYSTEM_PROGRAM
from aisc.backends.base import BackendError, ExecResult, NodeCall, TxIntent
from aisc.backends.solana.backend import SolanaBackend
from aisc.backends.solana.devserver import DevServer
from tests.support.faultproxy import (
    Drop,
    FaultProxy,
    HttpStatus,
    Latency,
    Malformed,
    Result,
    RpcErrorReply,
    Rule,
    Truncate,
)

CHAIN = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
LAMPORTS = 2_000_000  # above the rent-exempt minimum of a new system account
SEND = "sendTransaction"
PAYER = Keypair.from_seed(bytes([21]) * 32)
BOB = str(Keypair.from_seed(bytes([22]) * 32).pubkey())
FOREIGN_BLOCKHASH = "4uQeVj5tqViQh7yWWGStvkEG1Zmhx6uasJtWCJziofM"


@pytest.fixture
def devserver() -> Iterator[DevServer]:
    with DevServer() as s:
        s.chain.airdrop(str(PAYER.pubkey()), 10**10)
        yield s


@pytest.fixture
def sproxy(devserver: DevServer) -> Iterator[FaultProxy]:
    with FaultProxy(devserver.url) as p:
        yield p


def lit(v: Any) -> dict[str, Any]:
    return {"lit": v}


def transfer_call(intents: list[TxIntent]) -> NodeCall:
    spec = {
        "type": "solana_instruction",
        "program": lit(SYSTEM_PROGRAM),
        "instruction": "transfer",
        "accounts": [
            {"name": "from", "pubkey": lit(str(PAYER.pubkey())), "signer": lit(True), "writable": lit(True)},
            {"name": "to", "pubkey": lit(BOB), "signer": lit(False), "writable": lit(True)},
        ],
        "data": {"object": {"lamports": lit(str(LAMPORTS))}},
    }
    return NodeCall(node_id="pay", chain=CHAIN, execution=spec, evaluate=_ev, record_intent=intents.append)


def _ev(v: Any) -> Any:
    (tag, body), = v.items()
    return {k: _ev(x) for k, x in body.items()} if tag == "object" else body


def run(devserver: DevServer, proxy: FaultProxy, rules: list[Rule]) -> tuple[ExecResult | BackendError, list[TxIntent]]:
    be = SolanaBackend({"chain": CHAIN, "transport": "rpc", "rpc_url": proxy.url, "poll_interval_ms": 10,
                        "confirm_timeout_ms": 5000, "signer": {"type": "env", "var": "K"}}, env={"K": str(PAYER)})
    proxy.script(*rules)
    intents: list[TxIntent] = []
    try:
        res: ExecResult | BackendError = be.execute(transfer_call(intents))
    except BackendError as e:
        res = e
    finally:
        be.close()
    return res, intents


def received(devserver: DevServer) -> int:
    return devserver.chain.get_balance(BOB)


SOL_OK: list[tuple[str, list[Rule]]] = [
    ("clean", []),
    ("latency-every-request", [Rule(Latency(0.1), times=None)]),
    ("http-503-on-blockhash", [Rule(HttpStatus(503), method="getLatestBlockhash", times=2)]),
    ("http-429-on-status", [Rule(HttpStatus(429), method="getSignatureStatuses", times=2)]),
    ("drop-before-forward-on-send", [Rule(Drop(), method=SEND)]),
    ("drop-status-polls", [Rule(Drop(after_forward=True), method="getSignatureStatuses", times=2)]),
    ("rpc-node-behind-on-status", [Rule(RpcErrorReply(-32005, "Node is behind by 42 slots"),
                                        method="getSignatureStatuses", times=2)]),
    ("http-503-before-send", [Rule(HttpStatus(503), method=SEND)]),
]


@pytest.mark.parametrize("rules", [c[1] for c in SOL_OK], ids=[c[0] for c in SOL_OK])
def test_solana_write_survives_fault(devserver: DevServer, sproxy: FaultProxy, rules: list[Rule]) -> None:
    """Transient faults are retried with backoff; the transfer lands once (R234)."""
    res, intents = run(devserver, sproxy, rules)
    assert isinstance(res, ExecResult), f"expected success, got {res!r}"
    assert received(devserver) == LAMPORTS
    assert sproxy.forwarded(SEND) == 1
    assert res.outputs["signature"] == intents[0].tx_id
    if rules:
        assert sproxy.faults()


SOL_FAIL: list[tuple[str, list[Rule], str, bool, int]] = [
    # (id, rules, category, retryable, lamports that landed)
    ("http-503-on-every-blockhash", [Rule(HttpStatus(503), method="getLatestBlockhash", times=None)],
     "rpc_unavailable", True, 0),
    ("malformed-blockhash-reply", [Rule(Malformed(b"oops"), method="getLatestBlockhash")], "rpc_unavailable", False, 0),
    ("http-400-on-blockhash", [Rule(HttpStatus(400), method="getLatestBlockhash")], "rpc_unavailable", False, 0),
    ("blockhash-of-another-cluster", [Rule(Result({"context": {"slot": 1}, "value": {
        "blockhash": FOREIGN_BLOCKHASH, "lastValidBlockHeight": 10**6}}), method="getLatestBlockhash")],
     "execution_failed", True, 0),
    ("rpc-error-on-send", [Rule(RpcErrorReply(-32003, "Transaction signature verification failure"), method=SEND)],
     "execution_failed", False, 0),
    ("truncated-json-after-send-forwarded", [Rule(Truncate(10), method=SEND)], "rpc_unavailable", False, LAMPORTS),
]


@pytest.mark.parametrize(("rules", "category", "retryable", "landed"), [c[1:] for c in SOL_FAIL],
                         ids=[c[0] for c in SOL_FAIL])
def test_solana_write_fails_with_documented_category(devserver: DevServer, sproxy: FaultProxy, rules: list[Rule],
                                                     category: str, retryable: bool, landed: int) -> None:
    """The documented category and retryable flag; the signed bytes reached the node at most once."""
    res, _intents = run(devserver, sproxy, rules)
    assert isinstance(res, BackendError), f"expected a failure, got {res!r}"
    assert (res.category, res.retryable) == (category, retryable), str(res)
    assert received(devserver) == landed
    assert sproxy.forwarded(SEND) <= 1


def test_solana_lost_send_reply_is_settled_by_reconcile(devserver: DevServer, sproxy: FaultProxy) -> None:
    """The send landed but its reply was cut: the node fails, and reconcile() with the recorded
    intent (what a resume does) reports the landed transaction without sending it again."""
    res, intents = run(devserver, sproxy, [Rule(Truncate(10), method=SEND)])
    assert isinstance(res, BackendError)
    be = SolanaBackend({"chain": CHAIN, "transport": "rpc", "rpc_url": sproxy.url, "poll_interval_ms": 10,
                        "signer": {"type": "env", "var": "K"}}, env={"K": str(PAYER)})
    try:
        settled = be.reconcile(intents[0])
    finally:
        be.close()
    assert settled is not None and settled.outputs["signature"] == intents[0].tx_id
    assert received(devserver) == LAMPORTS
    assert sproxy.forwarded(SEND) == 1


def test_solana_drop_after_forward_on_send_resends_same_bytes(devserver: DevServer, sproxy: FaultProxy) -> None:
    """The devserver executed the send but the reply was lost: the transport re-sends the same
    signed bytes (safe: one signature lands at most once), the second send is answered as a
    success, and the transfer is counted once."""
    res, intents = run(devserver, sproxy, [Rule(Drop(after_forward=True), method=SEND)])
    assert isinstance(res, ExecResult), f"expected success, got {res!r}"
    assert res.outputs["signature"] == intents[0].tx_id
    assert sproxy.forwarded(SEND) == 2
    assert received(devserver) == LAMPORTS


# --------------------------------------------------------------------------------------------
# Cluster identity (getGenesisHash): the Solana form of "wrong chain id"

DEVNET_GENESIS = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG"


CLUSTER_FAIL: list[tuple[str, list[Rule], str, bool]] = [
    # (id, rules, category, retryable); nothing is signed or sent in any case
    ("genesis-of-another-cluster", [Rule(Result(DEVNET_GENESIS), method="getGenesisHash")], "validation", False),
    ("genesis-not-a-string", [Rule(Result(None), method="getGenesisHash")], "rpc_unavailable", True),
    ("genesis-rpc-error", [Rule(RpcErrorReply(-32601, "Method not found"), method="getGenesisHash")],
     "rpc_unavailable", True),
    ("genesis-http-503-forever", [Rule(HttpStatus(503), method="getGenesisHash", times=None)], "rpc_unavailable",
     True),
]


@pytest.mark.parametrize(("rules", "category", "retryable"), [c[1:] for c in CLUSTER_FAIL],
                         ids=[c[0] for c in CLUSTER_FAIL])
def test_solana_cluster_is_checked_before_anything_is_sent(devserver: DevServer, sproxy: FaultProxy,
                                                           rules: list[Rule], category: str, retryable: bool) -> None:
    """The endpoint must serve the chain the plan names (getGenesisHash vs the CAIP-2 reference)."""
    res, intents = run(devserver, sproxy, rules)
    assert isinstance(res, BackendError), f"expected a failure, got {res!r}"
    assert (res.category, res.retryable) == (category, retryable), str(res)
    assert res.details["code"] == "AISC-SOLANA-022"
    assert not intents and sproxy.seen(SEND) == 0 and sproxy.seen("getLatestBlockhash") == 0
    assert received(devserver) == 0


def test_solana_cluster_mismatch_message_names_both_clusters(devserver: DevServer, sproxy: FaultProxy) -> None:
    res, _ = run(devserver, sproxy, [Rule(Result(DEVNET_GENESIS), method="getGenesisHash")])
    assert isinstance(res, BackendError)
    assert res.details["expected"] == CHAIN.split(":")[1] and res.details["actual"] == DEVNET_GENESIS
    assert DEVNET_GENESIS in str(res) and CHAIN in str(res)


def test_solana_cluster_is_checked_once_per_backend(devserver: DevServer, sproxy: FaultProxy) -> None:
    """Two writes and a reconcile through one backend ask getGenesisHash once."""
    be = SolanaBackend({"chain": CHAIN, "transport": "rpc", "rpc_url": sproxy.url, "poll_interval_ms": 10,
                        "signer": {"type": "env", "var": "K"}}, env={"K": str(PAYER)})
    intents: list[TxIntent] = []
    try:
        be.execute(transfer_call(intents))
        be.execute(transfer_call(intents))
        assert be.reconcile(intents[0]) is not None
    finally:
        be.close()
    assert sproxy.seen("getGenesisHash") == 1
    assert received(devserver) == 2 * LAMPORTS
