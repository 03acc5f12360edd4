"""Every fault mode of the proxy in front of anvil, against EvmBackend (docs/faults.md, table 1).

Each case runs one ERC20 transfer (evm_call) or one balanceOf read (evm_read) through the proxy
with the fault scripted for a given JSON-RPC method and ordinal, then checks the documented
outcome: success with the end state of a clean run (token balance, account nonce), or a
BackendError with the documented category and ``retryable`` flag. For every write case the proxy
log and the account nonce prove the signed transaction reached the node at most once.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from aisc.backends.base import BackendError, ExecResult, NodeCall, TxIntent
from aisc.backends.evm.backend import EvmBackend
from tests.support.chains import CHAIN, Anvil, fn_abi
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
    wrong_chain_id,
)

pytestmark = pytest.mark.anvil

AMOUNT = 1234
SEND = "eth_sendRawTransaction"


def make_backend(url: str, key: str, **over: Any) -> EvmBackend:
    cfg: dict[str, Any] = {
        "chain": CHAIN, "rpc_url": url, "signer": {"type": "env", "var": "FAULT_KEY"},
        "rpc_timeout_ms": 1000, "retry_budget_ms": 8000, "receipt_timeout_ms": 8000, "receipt_poll_max_ms": 50,
        **over,
    }
    return EvmBackend(cfg, environ={"FAULT_KEY": key})


def transfer_call(chain: Anvil, to: str, intents: list[TxIntent]) -> NodeCall:
    spec = {"type": "evm_call", "to": {"lit": chain.token}, "abi": fn_abi("TestToken", "transfer"),
            "args": {"to": {"lit": to}, "amount": {"lit": str(AMOUNT)}}}
    return NodeCall(node_id="pay", chain=CHAIN, execution=spec, evaluate=lambda v: v["lit"],
                    record_intent=intents.append)


BALANCE_OF = {"type": "function", "name": "balanceOf", "inputs": [{"name": "holder", "type": "address"}],
              "outputs": [{"name": "balance", "type": "uint256"}]}  # the getter's input has no name in the artefact


def read_call(chain: Anvil, holder: str) -> NodeCall:
    spec = {"type": "evm_read", "to": {"lit": chain.token}, "abi": BALANCE_OF,
            "args": {"holder": {"lit": holder}}}
    return NodeCall(node_id="bal", chain=CHAIN, execution=spec, evaluate=lambda v: v["lit"])


class World:
    """Sender/recipient and the on-chain facts a case is judged by."""

    def __init__(self, chain: Anvil) -> None:
        self.chain = chain
        self.sender, self.key = chain.accounts[0]
        self.recipient = chain.accounts[2][0]
        self.nonce0 = chain.nonce(self.sender)
        self.bal0 = chain.token_balance(self.recipient)

    def sent(self) -> int:
        """Transactions the sender got mined since the start (nonce delta)."""
        return self.chain.nonce(self.sender) - self.nonce0

    def received(self) -> int:
        return self.chain.token_balance(self.recipient) - self.bal0


def run_transfer(chain: Anvil, proxy: FaultProxy, rules: list[Rule], **cfg: Any
                 ) -> tuple[World, ExecResult | BackendError, list[TxIntent]]:
    w = World(chain)
    be = make_backend(proxy.url, w.key, **cfg)
    proxy.script(*rules)
    intents: list[TxIntent] = []
    try:
        res: ExecResult | BackendError = be.execute(transfer_call(chain, w.recipient, intents))
    except BackendError as e:
        res = e
    finally:
        be.close()
    # settle: anything still in flight would show up now
    time.sleep(0.05)
    return w, res, intents


def assert_clean_end_state(w: World, res: ExecResult | BackendError, proxy: FaultProxy) -> None:
    assert isinstance(res, ExecResult), f"expected success, got {res!r} ({getattr(res, 'category', '')})"
    assert res.outputs["receipt"]["status"] == 1
    assert w.received() == AMOUNT
    assert w.sent() == 1, "exactly one transaction mined for the sender"
    assert proxy.forwarded(SEND) <= 2  # the same signed bytes at most re-sent once after a lost request


# --------------------------------------------------------------------------------------------
# Writes that must end exactly like a clean run

WRITE_OK: list[tuple[str, list[Rule]]] = [
    ("clean", []),
    ("latency-every-request-below-timeout", [Rule(Latency(0.15), times=None)]),
    ("latency-answer-late-on-estimate", [Rule(Latency(1.5, before=False), method="eth_estimateGas")]),
    ("drop-before-forward-on-send", [Rule(Drop(), method=SEND)]),
    ("drop-after-forward-on-send", [Rule(Drop(after_forward=True), method=SEND)]),
    ("drop-nonce-query", [Rule(Drop(), method="eth_getTransactionCount", times=2)]),
    ("drop-receipt-polls", [Rule(Drop(after_forward=True), method="eth_getTransactionReceipt", times=3)]),
    ("http-429-retry-after-on-fee-batch", [Rule(HttpStatus(429, retry_after=1), method="eth_estimateGas")]),
    ("http-503-before-send", [Rule(HttpStatus(503), method=SEND)]),
    ("http-502-after-send-forwarded", [Rule(HttpStatus(502, forward=True), method=SEND)]),
    ("http-500-on-chain-id", [Rule(HttpStatus(500), method="eth_chainId", times=3)]),
    ("truncated-json-on-send", [Rule(Truncate(12), method=SEND)]),
    ("truncated-json-on-receipt", [Rule(Truncate(5), method="eth_getTransactionReceipt", times=2)]),
    ("malformed-json-on-estimate", [Rule(Malformed(b"<html>bad gateway</html>"), method="eth_estimateGas")]),
    ("malformed-json-after-send-forwarded", [Rule(Malformed(b"not json", forward=True), method=SEND)]),
    ("rpc-header-not-found-on-receipt", [Rule(RpcErrorReply(-32000, "header not found"),
                                              method="eth_getTransactionReceipt", times=3)]),
    ("rpc-rate-limited-on-nonce", [Rule(RpcErrorReply(-32005, "rate limit exceeded"),
                                        method="eth_getTransactionCount")]),
    ("rpc-already-known-after-forward", [Rule(RpcErrorReply(-32000, "already known", forward=True), method=SEND)]),
]


@pytest.mark.parametrize("rules", [c[1] for c in WRITE_OK], ids=[c[0] for c in WRITE_OK])
def test_write_survives_fault_with_clean_end_state(chain: Anvil, proxy: FaultProxy, rules: list[Rule]) -> None:
    """R156: a transient fault is absorbed; one transaction, balance and nonce as in a clean run."""
    w, res, intents = run_transfer(chain, proxy, rules)
    assert_clean_end_state(w, res, proxy)
    assert len(intents) == 1 and intents[0].nonce == w.nonce0
    assert isinstance(res, ExecResult) and res.outputs["tx_hash"] == intents[0].tx_id
    if rules:
        assert proxy.faults(), "the scripted fault fired"


def test_drop_before_forward_resends_the_same_signed_bytes(chain: Anvil, proxy: FaultProxy) -> None:
    """The lost broadcast is looked up by hash, then re-sent byte for byte: the node sees the same
    transaction once, and no second nonce is used."""
    w, res, _intents = run_transfer(chain, proxy, [Rule(Drop(), method=SEND)])
    assert_clean_end_state(w, res, proxy)
    assert proxy.seen(SEND) == 2 and proxy.forwarded(SEND) == 1
    assert proxy.seen("eth_getTransactionByHash") >= 1


def test_drop_after_forward_does_not_send_again(chain: Anvil, proxy: FaultProxy) -> None:
    """The node executed the send but the answer was lost: the hash is known, nothing is re-sent."""
    w, res, _ = run_transfer(chain, proxy, [Rule(Drop(after_forward=True), method=SEND)])
    assert_clean_end_state(w, res, proxy)
    assert proxy.seen(SEND) == 1 and proxy.forwarded(SEND) == 1


def test_retry_after_is_honoured(chain: Anvil, proxy: FaultProxy) -> None:
    """HTTP 429 with Retry-After: 1 delays the retry by at least one second."""
    t0 = time.monotonic()
    w, res, _ = run_transfer(chain, proxy, [Rule(HttpStatus(429, retry_after=1), method="eth_estimateGas")])
    assert time.monotonic() - t0 >= 1.0
    assert_clean_end_state(w, res, proxy)


# --------------------------------------------------------------------------------------------
# Writes that fail the node with a documented category; nothing or exactly one thing was sent

WRITE_FAIL: list[tuple[str, list[Rule], str, bool, int]] = [
    # (id, rules, category, retryable, transactions mined)
    ("wrong-chain-id", [wrong_chain_id(1)], "validation", False, 0),
    ("rpc-nonce-too-low-before-send", [Rule(RpcErrorReply(-32000, "nonce too low"), method=SEND)],
     "execution_failed", False, 0),
    ("rpc-replacement-underpriced", [Rule(RpcErrorReply(-32000, "replacement transaction underpriced"), method=SEND)],
     "execution_failed", False, 0),
    ("http-503-on-every-estimate", [Rule(HttpStatus(503), method="eth_estimateGas", times=None)],
     "rpc_unavailable", True, 0),
    ("malformed-chain-id-forever", [Rule(Malformed(), method="eth_chainId", times=None)], "rpc_unavailable", True, 0),
    ("http-403-on-estimate", [Rule(HttpStatus(403), method="eth_estimateGas")], "rpc_unavailable", True, 0),
    ("drop-send-and-every-lookup", [Rule(Drop(), method=SEND, times=None),
                                    Rule(Drop(), method="eth_getTransactionByHash", times=None)],
     "rpc_unavailable", False, 0),
    ("drop-after-forward-and-every-lookup", [Rule(Drop(after_forward=True), method=SEND, times=None),
                                             Rule(Drop(), method="eth_getTransactionByHash", times=None)],
     "rpc_unavailable", False, 1),
    ("rpc-nonce-too-low-after-forward", [Rule(RpcErrorReply(-32000, "nonce too low", forward=True), method=SEND)],
     "execution_failed", False, 1),
]


@pytest.mark.parametrize(("rules", "category", "retryable", "mined"), [c[1:] for c in WRITE_FAIL],
                         ids=[c[0] for c in WRITE_FAIL])
def test_write_fails_with_documented_category(chain: Anvil, proxy: FaultProxy, rules: list[Rule], category: str,
                                              retryable: bool, mined: int) -> None:
    """The node fails with the documented category/retryable flag; the nonce shows how many
    transactions were mined (never more than one), and the signed bytes reached the node at most once."""
    w, res, intents = run_transfer(chain, proxy, rules, retry_budget_ms=3000)
    assert isinstance(res, BackendError), f"expected a failure, got {res!r}"
    assert (res.category, res.retryable) == (category, retryable), str(res)
    assert w.sent() == mined
    assert w.received() == AMOUNT * mined
    assert proxy.forwarded(SEND) <= 1
    if category == "validation":
        assert proxy.seen(SEND) == 0 and not intents, "nothing is signed on the wrong chain"


def test_lost_outcome_is_settled_by_reconcile(chain: Anvil, proxy: FaultProxy) -> None:
    """The node said "nonce too low" although our transaction was the one that used the nonce: the
    node fails, and reconcile() with the recorded intent (what a resume does) finds the receipt."""
    w, res, intents = run_transfer(chain, proxy, [Rule(RpcErrorReply(-32000, "nonce too low", forward=True),
                                                       method=SEND)])
    assert isinstance(res, BackendError) and res.category == "execution_failed"
    (intent,) = intents
    be = make_backend(proxy.url, w.key)
    try:
        settled = be.reconcile(intent)
    finally:
        be.close()
    assert settled is not None and settled.outputs["receipt"]["status"] == 1
    assert settled.outputs["tx_hash"] == intent.tx_id
    assert w.sent() == 1 and w.received() == AMOUNT
    assert proxy.forwarded(SEND) == 1, "reconcile found the receipt; nothing was re-sent"


def test_send_delayed_past_the_client_timeout_lands_once(chain: Anvil, proxy: FaultProxy) -> None:
    """The node receives the send only after the client timed out. The backend looks the hash up,
    re-sends the same bytes when the node does not know it yet, and reports success: exactly one
    transaction is mined, and only the one signed transaction was ever sent."""
    w, res, intents = run_transfer(chain, proxy, [Rule(Latency(1.5), method=SEND)], rpc_timeout_ms=500)
    time.sleep(1.2)  # let the delayed request reach anvil
    (intent,) = intents
    assert isinstance(res, ExecResult), f"expected success, got {res!r} ({getattr(res, 'category', '')})"
    assert res.outputs["tx_hash"] == intent.tx_id and res.outputs["receipt"]["status"] == 1
    assert w.sent() == 1 and w.received() == AMOUNT
    assert proxy.seen(SEND) == 2 and proxy.seen("eth_getTransactionByHash") >= 1


def test_delayed_send_mined_before_the_resend_is_not_a_failure(chain: Anvil, proxy: FaultProxy) -> None:
    """The race of the delayed send, forced: the first send times out, the lookup says "unknown", and
    the delayed original is mined before the re-send arrives, so the node refuses the re-send
    ("nonce too low" / "already known"). The backend asks for the hash again and reports success."""
    rules = [
        Rule(Latency(1.5), method=SEND),                                   # original: arrives at ~1.5 s
        Rule(Result(None), method="eth_getTransactionByHash"),             # first lookup: "unknown"
        Rule(Latency(0.9), method=SEND, nth=2),                            # re-send: arrives at ~1.9 s
    ]
    w, res, intents = run_transfer(chain, proxy, rules, rpc_timeout_ms=1000)
    (intent,) = intents
    assert isinstance(res, ExecResult), f"expected success, got {res!r} ({getattr(res, 'category', '')})"
    assert res.outputs["tx_hash"] == intent.tx_id
    assert w.sent() == 1 and w.received() == AMOUNT
    assert proxy.forwarded(SEND) == 2, "the original and the re-send of the same bytes"
    assert proxy.seen("eth_getTransactionByHash") == 2, "one lookup after the timeout, one after the refusal"


def test_resend_refused_and_hash_unknown_is_execution_failed(chain: Anvil, proxy: FaultProxy) -> None:
    """The first send was lost, the re-send of the same bytes is refused and the node still does not
    know the hash: a definite refusal (execution_failed, not retryable; the intent stays for a resume)."""
    rules = [
        Rule(Drop(), method=SEND),
        Rule(RpcErrorReply(-32000, "replacement transaction underpriced"), method=SEND, nth=2),
    ]
    w, res, intents = run_transfer(chain, proxy, rules)
    assert isinstance(res, BackendError), f"expected a failure, got {res!r}"
    assert (res.category, res.retryable) == ("execution_failed", False), str(res)
    assert len(intents) == 1 and w.sent() == 0
    assert proxy.forwarded(SEND) == 0 and proxy.seen("eth_getTransactionByHash") == 2


# --------------------------------------------------------------------------------------------
# JSON-RPC errors that are not transient, on the calls around a write: always a BackendError with a
# category (never a bare RpcError, which the engine would report as `internal`).

RPC_ERROR_CASES: list[tuple[str, str, dict[str, Any], bool, int]] = [
    # (id, method answering -32603 "internal error", backend config, retryable, transactions mined)
    ("chain-id", "eth_chainId", {}, True, 0),
    ("nonce", "eth_getTransactionCount", {}, True, 0),
    ("receipt", "eth_getTransactionReceipt", {}, False, 1),  # after the broadcast: the fate is for reconcile
]


@pytest.mark.parametrize(("method", "cfg", "retryable", "mined"), [c[1:] for c in RPC_ERROR_CASES],
                         ids=[c[0] for c in RPC_ERROR_CASES])
def test_rpc_error_around_a_write_is_a_backend_error(chain: Anvil, proxy: FaultProxy, method: str, cfg: dict[str, Any],
                                                     retryable: bool, mined: int) -> None:
    w, res, intents = run_transfer(chain, proxy, [Rule(RpcErrorReply(-32603, "internal error"), method=method)], **cfg)
    assert isinstance(res, BackendError), f"expected a failure, got {res!r}"
    assert (res.category, res.retryable) == ("rpc_unavailable", retryable), str(res)
    assert res.details["rpc_error"] == {"method": method, "code": -32603, "message": "internal error"}
    assert w.sent() == mined and w.received() == AMOUNT * mined
    assert len(intents) == mined, "an intent is recorded only for what was signed and sent"
    if mined:
        assert res.details["tx_hash"] == intents[0].tx_id
        assert res.events == (("tx_sent", {"tx_hash": intents[0].tx_id}),)


def test_rpc_error_while_polling_receipt_is_settled_by_reconcile(chain: Anvil, proxy: FaultProxy) -> None:
    """After the receipt poll failed, reconcile() (what a resume does) finds the receipt."""
    w, res, intents = run_transfer(chain, proxy, [Rule(RpcErrorReply(-32603, "internal error"),
                                                       method="eth_getTransactionReceipt")])
    assert isinstance(res, BackendError) and not res.retryable
    be = make_backend(proxy.url, w.key)
    try:
        settled = be.reconcile(intents[0])
    finally:
        be.close()
    assert settled is not None and settled.outputs["tx_hash"] == intents[0].tx_id
    assert w.sent() == 1 and proxy.forwarded(SEND) == 1


def test_malformed_receipt_after_the_broadcast_is_not_retryable(chain: Anvil, proxy: FaultProxy) -> None:
    """A receipt whose fields are not quantities: rpc_unavailable, not retryable (it was sent)."""
    bad = {"blockNumber": "0x1", "status": "yes", "transactionHash": "0x00"}
    w, res, intents = run_transfer(chain, proxy, [Rule(Result(bad), method="eth_getTransactionReceipt")])
    assert isinstance(res, BackendError), f"expected a failure, got {res!r}"
    assert (res.category, res.retryable) == ("rpc_unavailable", False), str(res)
    assert res.details["tx_hash"] == intents[0].tx_id
    assert w.sent() == 1


def test_rpc_error_during_reconcile_is_retryable(chain: Anvil, proxy: FaultProxy) -> None:
    """reconcile() only reads: a JSON-RPC error there is rpc_unavailable and retryable."""
    w, res, intents = run_transfer(chain, proxy, [])
    assert isinstance(res, ExecResult)
    proxy.script(Rule(RpcErrorReply(-32603, "internal error"), method="eth_getTransactionReceipt"))
    be = make_backend(proxy.url, w.key)
    try:
        with pytest.raises(BackendError) as ei:
            be.reconcile(intents[0])
    finally:
        be.close()
    assert (ei.value.category, ei.value.retryable) == ("rpc_unavailable", True)


# --------------------------------------------------------------------------------------------
# Reads


READ_CASES: list[tuple[str, list[Rule], str | None, bool]] = [
    ("clean", [], None, False),
    ("drop-twice", [Rule(Drop(), method="eth_call", times=2)], None, False),
    ("http-429", [Rule(HttpStatus(429), method="eth_call", times=2)], None, False),
    ("http-503-thrice", [Rule(HttpStatus(503), method="eth_call", times=3)], None, False),
    ("truncated", [Rule(Truncate(20), method="eth_call")], None, False),
    ("header-not-found", [Rule(RpcErrorReply(-32000, "header not found"), method="eth_call", times=2)], None, False),
    ("latency-past-timeout", [Rule(Latency(1.3), method="eth_call")], None, False),
    ("http-503-forever", [Rule(HttpStatus(503), method="eth_call", times=None)], "rpc_unavailable", True),
    ("execution-reverted", [Rule(RpcErrorReply(3, "execution reverted", data="0x"), method="eth_call")],
     "execution_failed", False),
    ("wrong-chain-id", [wrong_chain_id(10)], "validation", False),
]


@pytest.mark.parametrize(("rules", "category", "retryable"), [c[1:] for c in READ_CASES],
                         ids=[c[0] for c in READ_CASES])
def test_read_under_fault(chain: Anvil, proxy: FaultProxy, rules: list[Rule], category: str | None,
                          retryable: bool) -> None:
    """Reads are idempotent: transient faults are retried within the budget (then rpc_unavailable,
    retryable); a definite answer (revert, wrong chain) fails at once."""
    holder = chain.accounts[0][0]
    expected = chain.token_balance(holder)
    be = make_backend(proxy.url, chain.accounts[0][1], retry_budget_ms=3000)
    proxy.script(*rules)
    try:
        if category is None:
            assert be.execute(read_call(chain, holder)).outputs == {"balance": expected}
        else:
            with pytest.raises(BackendError) as ei:
                be.execute(read_call(chain, holder))
            assert (ei.value.category, ei.value.retryable) == (category, retryable)
    finally:
        be.close()
    if rules:
        assert proxy.faults()


def test_retry_budget_bounds_the_time_spent(chain: Anvil, proxy: FaultProxy) -> None:
    """With every request failing, a read gives up after max_retries (4) retries, well inside the
    retry budget, and the proxy saw exactly 1 + 4 attempts."""
    be = make_backend(proxy.url, chain.accounts[0][1], retry_budget_ms=5000)
    proxy.script(Rule(HttpStatus(503), method="eth_call", times=None))
    t0 = time.monotonic()
    try:
        with pytest.raises(BackendError) as ei:
            be.execute(read_call(chain, chain.accounts[0][0]))
    finally:
        be.close()
    assert ei.value.category == "rpc_unavailable" and ei.value.retryable
    assert proxy.seen("eth_call") == 5
    assert time.monotonic() - t0 < 5.0
