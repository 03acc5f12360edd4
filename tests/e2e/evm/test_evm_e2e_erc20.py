"""ERC20 approve → transfer → balanceOf through EvmBackend.execute on a real anvil; reverts."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from evm_chain import DEV_ADDRS, SUPPLY, Chain, fn_abi, lit, node_call

from aisc.backends.base import BackendError, TxIntent

pytestmark = pytest.mark.anvil

ENV0 = {"type": "env", "var": "AISC_TEST_KEY0"}
ENV1 = {"type": "env", "var": "AISC_TEST_KEY1"}
BAL_ABI = {
    "type": "function",
    "name": "balanceOf",
    "inputs": [{"name": "holder", "type": "address"}],
    "outputs": [{"name": "balance", "type": "uint256"}],
}


def call_spec(chain: Chain, fn: str, args: dict[str, Any], *, to: str = "token", kind: str = "evm_call") -> dict[str, Any]:
    contract = {"token": "TestToken", "router": "TestRouter", "bridge": "TestBridge"}[to]
    return {"type": kind, "to": lit(chain.addr[to]), "abi": fn_abi(contract, fn), "args": {k: lit(v) for k, v in args.items()}}


def test_r197_r201_approve_transfer_then_read_balances(anvil: Chain) -> None:
    """R197/R201/R202: approve, transfer (evm_call) then allowance/balanceOf (evm_read), checked on chain."""
    be = anvil.backend(ENV0)
    intents: list[TxIntent] = []
    alice, bob = DEV_ADDRS[0], DEV_ADDRS[1]
    start_nonce = anvil.nonce(alice)

    approve = be.execute(
        node_call(call_spec(anvil, "approve", {"spender": anvil.addr["router"], "amount": "5000"}), intents=intents)
    )
    assert approve.outputs["receipt"]["status"] == 1
    assert [e[0] for e in approve.events] == ["tx_sent", "tx_confirmed"]
    assert approve.events[0][1] == {"tx_hash": approve.outputs["tx_hash"]}

    transfer = be.execute(
        node_call(call_spec(anvil, "transfer", {"to": bob, "amount": "1234"}), intents=intents)
    )
    rec = transfer.outputs["receipt"]
    assert rec["status"] == 1 and rec["from"] == alice and rec["to"] == anvil.addr["token"]
    assert rec["gas_used"] > 21000 and isinstance(rec["block_number"], int)
    # Transfer(alice, bob, 1234) log
    (log,) = rec["logs"]
    assert log["topics"][1][-40:] == alice[2:] and log["topics"][2][-40:] == bob[2:]
    assert int(log["data"], 16) == 1234

    # Intents recorded before broadcast, with the signed hash and consecutive nonces.
    assert [i.tx_id for i in intents] == [approve.outputs["tx_hash"], transfer.outputs["tx_hash"]]
    assert [i.nonce for i in intents] == [start_nonce, start_nonce + 1]
    assert all(i.account == alice and i.raw and i.raw.startswith("0x02") for i in intents)

    read = be.execute(node_call({"type": "evm_read", "to": lit(anvil.addr["token"]), "abi": BAL_ABI,
                                 "args": {"holder": lit(bob)}}))
    assert read.outputs == {"balance": 1234}
    assert anvil.token_balance(bob) == 1234 and anvil.nonce(alice) == start_nonce + 2


def test_r202_evm_read_decodes_named_outputs(anvil: Chain) -> None:
    """R202/R203: balanceOf/allowance read back through evm_read after writes (balances checked on chain)."""
    be = anvil.backend(ENV0)
    bob = DEV_ADDRS[1]
    be.execute(node_call(call_spec(anvil, "transfer", {"to": bob, "amount": "777"})))
    be.execute(node_call(call_spec(anvil, "approve", {"spender": bob, "amount": "55"})))
    alw_abi = {"type": "function", "name": "allowance",
               "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
               "outputs": [{"name": "remaining", "type": "uint256"}]}
    out = be.execute(node_call({"type": "evm_read", "to": lit(anvil.addr["token"]), "abi": BAL_ABI,
                                "args": {"holder": {"ref": "inputs.who"}}}, root={"inputs": {"who": bob}}))
    assert out.outputs == {"balance": 777}
    assert anvil.token_balance(bob) == 777
    assert anvil.token_balance(DEV_ADDRS[0]) == SUPPLY - 777
    out = be.execute(node_call({"type": "evm_read", "to": lit(anvil.addr["token"]), "abi": alw_abi,
                                "args": {"owner": lit(DEV_ADDRS[0]), "spender": lit(bob)}}))
    assert out.outputs == {"remaining": 55}
    assert out.events == ()


def test_reverting_write_blocked_by_estimate_with_reason(anvil: Chain) -> None:
    """A write that would revert is stopped before broadcast with the decoded Error(string) reason."""
    be = anvil.backend(ENV0)
    before = anvil.nonce(DEV_ADDRS[0])
    intents: list[TxIntent] = []
    with pytest.raises(BackendError) as ei:
        be.execute(node_call(call_spec(anvil, "transfer", {"to": DEV_ADDRS[1], "amount": str(SUPPLY + 1)}), intents=intents))
    e = ei.value
    assert e.category == "execution_failed" and e.retryable is False
    assert "TestToken: transfer amount exceeds balance" in str(e)
    assert e.details["revert"]["kind"] == "error" and e.details["broadcast"] is False
    assert intents == [] and anvil.nonce(DEV_ADDRS[0]) == before


def test_preflight_simulation_blocks_failing_write(anvil: Chain) -> None:
    """Preflight (simulate=True): eth_call + estimateGas fail → simulation_failed, nothing broadcast."""
    be = anvil.backend(ENV1)  # bob has no tokens
    before = anvil.nonce(DEV_ADDRS[1])
    with pytest.raises(BackendError) as ei:
        be.execute(node_call(call_spec(anvil, "transfer", {"to": DEV_ADDRS[2], "amount": "1"}), simulate=True))
    assert ei.value.category == "simulation_failed"
    assert ei.value.details["revert"]["reason"] == "TestToken: transfer amount exceeds balance"
    assert anvil.nonce(DEV_ADDRS[1]) == before and anvil.nonce(DEV_ADDRS[1], "pending") == before


def test_preflight_simulation_passes_good_write(anvil: Chain) -> None:
    be = anvil.backend(ENV0)
    out = be.execute(node_call(call_spec(anvil, "transfer", {"to": DEV_ADDRS[2], "amount": "9"}), simulate=True))
    assert out.outputs["receipt"]["status"] == 1
    assert anvil.token_balance(DEV_ADDRS[2]) == 9


@pytest.mark.parametrize(
    ("fn", "args", "kind", "reason_part"),
    [
        ("transferFrom", {"from": DEV_ADDRS[1], "to": DEV_ADDRS[2], "amount": "5"}, "custom",
         f"ERC20InsufficientAllowance(spender={DEV_ADDRS[0].lower()}, allowance=0, needed=5)"),
        ("ratio", {"a": "1", "b": "0"}, "panic", "division or modulo by zero"),
    ],
)
def test_revert_kinds_custom_error_and_panic(anvil: Chain, fn: str, args: dict[str, Any], kind: str, reason_part: str) -> None:
    be = anvil.backend(ENV0)
    spec = call_spec(anvil, fn, args, kind="evm_read" if fn == "ratio" else "evm_call")
    with pytest.raises(BackendError) as ei:
        be.execute(node_call(spec))
    assert ei.value.details["revert"]["kind"] == kind
    assert reason_part in str(ei.value)


def expired_multicall(anvil: Chain) -> dict[str, Any]:
    """A router batch whose deadline passes only if the next block is mined late."""
    ts = int(anvil.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    note = fn_abi("TestRouter", "note")
    return {
        "type": "evm_multicall",
        "to": lit(anvil.addr["router"]),
        "calls": [{"abi": note, "args": {"value": lit("7")}}],
        "deadline": lit(str(ts + 100)),
    }


def run_then_mine_late(anvil: Chain, be: Any, spec: dict[str, Any], sender: str) -> Any:
    """Execute ``spec`` with automine off, then mine its block 1000 s later (after the deadline)."""
    anvil.rpc("evm_setAutomine", [False])
    before = anvil.nonce(sender, "pending")
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(be.execute(node_call(spec)))
        except BackendError as e:
            box.append(e)

    t = threading.Thread(target=run)
    t.start()
    for _ in range(500):
        if anvil.nonce(sender, "pending") == before + 1:
            break
        time.sleep(0.01)
    ts = int(anvil.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    anvil.rpc("evm_setNextBlockTimestamp", [ts + 1000])
    anvil.rpc("evm_mine")
    t.join(10)
    assert len(box) == 1
    return box[0]


def test_status_zero_receipt_carries_replayed_revert_reason(anvil: Chain) -> None:
    """A write that passes estimation but reverts when mined fails with status 0 and the reason
    recovered by replaying the call at its block."""
    be = anvil.backend(ENV0)
    err = run_then_mine_late(anvil, be, expired_multicall(anvil), DEV_ADDRS[0])
    assert isinstance(err, BackendError), err
    assert err.category == "execution_failed" and err.retryable is False
    assert err.details["receipt"]["status"] == 0
    assert err.details["revert"]["reason"] == "TestRouter: deadline passed"
    assert "reverted in block" in str(err)


def test_missing_signer_needs_user_confirm(anvil: Chain) -> None:
    """§5.3: no signer → need_user_confirm "Missing signer for <chain>", nothing sent."""
    be = anvil.backend(None)
    res = be.execute(node_call(call_spec(anvil, "transfer", {"to": DEV_ADDRS[1], "amount": "1"})))
    assert res.need_user_confirm is not None
    assert res.need_user_confirm[0] == "Missing signer for eip155:31337"
    assert be.signer_address("eip155:31337") is None
    be_unset = anvil.backend({"type": "env", "var": "AISC_TEST_UNSET"})
    res = be_unset.execute(node_call(call_spec(anvil, "transfer", {"to": DEV_ADDRS[1], "amount": "1"})))
    assert res.need_user_confirm is not None and "AISC_TEST_UNSET" in res.need_user_confirm[1]["problem"]


def test_chain_id_mismatch_is_validation_error(anvil: Chain) -> None:
    from aisc.backends.evm.backend import EvmBackend

    be = EvmBackend({"chain": "eip155:1", "rpc_url": anvil.url})
    spec = {"type": "evm_read", "to": lit(anvil.addr["token"]), "abi": BAL_ABI, "args": {"holder": lit(DEV_ADDRS[0])}}
    call = node_call(spec)
    import attrs

    with pytest.raises(BackendError) as ei:
        be.execute(attrs.evolve(call, chain="eip155:1"))
    assert ei.value.category == "validation" and "chain id mismatch" in str(ei.value)
    assert ei.value.details == {"expected": 1, "actual": 31337}


@pytest.mark.parametrize("method", ["sign", "send"])
def test_unlocked_signer_writes_and_checks_receipt(anvil: Chain, method: str) -> None:
    """Node-held account: eth_signTransaction (+sendRaw) or eth_sendTransaction; receipts checked."""
    be = anvil.backend({"type": "unlocked", "address": DEV_ADDRS[0], "method": method})
    intents: list[TxIntent] = []
    out = be.execute(node_call(call_spec(anvil, "transfer", {"to": DEV_ADDRS[3], "amount": "42"}), intents=intents))
    assert out.outputs["receipt"]["status"] == 1
    assert anvil.token_balance(DEV_ADDRS[3]) == 42
    assert len(intents) == 1
    if method == "sign":
        assert intents[0].tx_id == out.outputs["tx_hash"]
    else:
        assert intents[0].extra == {"method": "eth_sendTransaction"}


def test_unlocked_send_status_zero_is_failure(anvil: Chain) -> None:
    """anvil mines a reverting eth_sendTransaction with status 0: the backend checks the receipt."""
    be = anvil.backend({"type": "unlocked", "address": DEV_ADDRS[1], "method": "send"})
    err = run_then_mine_late(anvil, be, expired_multicall(anvil), DEV_ADDRS[1])
    assert isinstance(err, BackendError), err
    assert err.details["receipt"]["status"] == 0
    assert err.details["revert"]["reason"] == "TestRouter: deadline passed"
