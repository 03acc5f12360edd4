"""Nonce serialization under concurrent writes (R156) and reconcile after a simulated crash."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from evm_chain import DEV_ADDRS, DEV_KEYS, Chain, fn_abi, lit, node_call

from aisc.backends.base import BackendError, TxIntent

pytestmark = pytest.mark.anvil

ENV0 = {"type": "env", "var": "AISC_TEST_KEY0"}


class Died(BaseException):
    """Stands in for the process dying right after the intent was persisted."""


def transfer(anvil: Chain, to: str, amount: int) -> dict[str, Any]:
    return {"type": "evm_call", "to": lit(anvil.addr["token"]), "abi": fn_abi("TestToken", "transfer"),
            "args": {"to": lit(to), "amount": lit(str(amount))}}


def test_r156_concurrent_writes_get_distinct_nonces(anvil: Chain) -> None:
    """R156: 8 threads write through one backend; each tx gets its own nonce, all land, in one run."""
    be = anvil.backend(ENV0)
    start = anvil.nonce(DEV_ADDRS[0])
    intents: list[TxIntent] = []
    results: list[Any] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            r: Any = be.execute(node_call(transfer(anvil, DEV_ADDRS[1], i + 1), intents=intents))
        except BackendError as e:
            r = e
        with lock:
            results.append(r)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(not isinstance(r, BackendError) for r in results), results
    assert sorted(i.nonce for i in intents if i.nonce is not None) == list(range(start, start + 8))
    assert anvil.nonce(DEV_ADDRS[0]) == start + 8
    assert anvil.token_balance(DEV_ADDRS[1]) == sum(range(1, 9))


def test_two_backends_same_account_share_nonce_manager(anvil: Chain) -> None:
    """Two backend objects for one chain+account serialize through a shared NonceManager."""
    from aisc.backends.evm.backend import EvmBackend
    from aisc.backends.evm.rpc import NonceManager

    nm = NonceManager()
    env = {"K": DEV_KEYS[0]}
    cfg = {"chain": "eip155:31337", "rpc_url": anvil.url, "signer": {"type": "env", "var": "K"}}
    b1, b2 = EvmBackend(cfg, environ=env, nonces=nm), EvmBackend(cfg, environ=env, nonces=nm)
    start = anvil.nonce(DEV_ADDRS[0])
    threads = [threading.Thread(target=b.execute, args=(node_call(transfer(anvil, DEV_ADDRS[2], 1)),))
               for b in (b1, b2, b1, b2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert anvil.nonce(DEV_ADDRS[0]) == start + 4 and anvil.token_balance(DEV_ADDRS[2]) == 4


def crash_before_send(anvil: Chain, amount: int) -> TxIntent:
    """Run a transfer whose process 'dies' right after record_intent (nothing broadcast)."""
    be = anvil.backend(ENV0)
    box: list[TxIntent] = []

    def record(intent: TxIntent) -> None:
        box.append(intent)
        raise Died

    with pytest.raises(Died):
        be.execute(node_call(transfer(anvil, DEV_ADDRS[1], amount), record=record))
    be.close()
    assert len(box) == 1
    return box[0]


def test_reconcile_after_crash_before_send_rebroadcasts_once(anvil: Chain) -> None:
    """Intent recorded, process died before the broadcast: reconcile re-sends the same bytes once."""
    start = anvil.nonce(DEV_ADDRS[0])
    intent = crash_before_send(anvil, 70)
    assert anvil.nonce(DEV_ADDRS[0], "pending") == start  # nothing was sent
    fresh = anvil.backend(ENV0)  # the "restarted process"
    res = fresh.reconcile(intent)
    assert res is not None and res.outputs["tx_hash"] == intent.tx_id
    assert res.outputs["receipt"]["status"] == 1
    assert anvil.nonce(DEV_ADDRS[0]) == start + 1 and anvil.token_balance(DEV_ADDRS[1]) == 70
    # Reconciling again finds the receipt; still exactly one transaction.
    again = anvil.backend(ENV0).reconcile(intent)
    assert again is not None and again.outputs["receipt"] == res.outputs["receipt"]
    assert anvil.nonce(DEV_ADDRS[0]) == start + 1 and anvil.token_balance(DEV_ADDRS[1]) == 70


def test_reconcile_after_crash_after_send_returns_receipt(anvil: Chain) -> None:
    """Intent recorded and the tx broadcast, process died before reading the receipt."""
    be = anvil.backend(ENV0)
    intents: list[TxIntent] = []
    out = be.execute(node_call(transfer(anvil, DEV_ADDRS[1], 5), intents=intents))
    start = anvil.nonce(DEV_ADDRS[0])
    res = anvil.backend(ENV0).reconcile(intents[0])
    assert res is not None and res.outputs["tx_hash"] == out.outputs["tx_hash"]
    assert [e[0] for e in res.events] == ["tx_sent", "tx_confirmed"]
    assert anvil.nonce(DEV_ADDRS[0]) == start and anvil.token_balance(DEV_ADDRS[1]) == 5


def test_reconcile_nonce_consumed_by_other_transaction(anvil: Chain) -> None:
    """The intent's nonce was used by a different transaction: non-retryable error, no re-send."""
    intent = crash_before_send(anvil, 70)
    other = anvil.backend(ENV0)
    other.execute(node_call(transfer(anvil, DEV_ADDRS[2], 1)))  # takes the same nonce
    nonce_after = anvil.nonce(DEV_ADDRS[0])
    with pytest.raises(BackendError) as ei:
        anvil.backend(ENV0).reconcile(intent)
    assert "nonce consumed by a different transaction" in str(ei.value)
    assert ei.value.retryable is False
    assert anvil.nonce(DEV_ADDRS[0]) == nonce_after and anvil.token_balance(DEV_ADDRS[1]) == 0


def test_reconcile_unknown_without_raw_bytes_is_safe_to_resend(anvil: Chain) -> None:
    intent = crash_before_send(anvil, 70)
    bare = TxIntent(chain=intent.chain, account=intent.account, tx_id=intent.tx_id, nonce=intent.nonce)
    assert anvil.backend(ENV0).reconcile(bare) is None


def test_reconcile_reverted_transaction_reports_reason(anvil: Chain) -> None:
    from test_evm_e2e_erc20 import expired_multicall, run_then_mine_late

    be = anvil.backend(ENV0)
    intents: list[TxIntent] = []

    class Rec:
        def execute(self, call: Any) -> Any:
            import attrs

            return be.execute(attrs.evolve(call, record_intent=intents.append))

    err = run_then_mine_late(anvil, Rec(), expired_multicall(anvil), DEV_ADDRS[0])
    assert isinstance(err, BackendError)
    with pytest.raises(BackendError) as ei:
        anvil.backend(ENV0).reconcile(intents[0])
    assert ei.value.details["revert"]["reason"] == "TestRouter: deadline passed"
