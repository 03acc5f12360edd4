"""evm_multicall (router batching), evm_multiread (multicall3, rpc_batch) and evm_rpc on anvil."""

from __future__ import annotations

from typing import Any

import pytest
from evm_chain import DEV_ADDRS, SUPPLY, Chain, fn_abi, lit, node_call

from aisc.backends.base import BackendError

pytestmark = pytest.mark.anvil

ENV0 = {"type": "env", "var": "AISC_TEST_KEY0"}
BAL = {
    "type": "function",
    "name": "balanceOf",
    "inputs": [{"name": "holder", "type": "address"}],
    "outputs": [{"name": "balance", "type": "uint256"}],
}
NAME = {"type": "function", "name": "name", "inputs": [], "outputs": [{"name": "name", "type": "string"}]}
NOTES = {
    "type": "function",
    "name": "notes",
    "inputs": [{"name": "who", "type": "address"}],
    "outputs": [{"name": "value", "type": "uint256"}],
}
COUNTER = {"type": "function", "name": "counter", "inputs": [], "outputs": [{"name": "n", "type": "uint256"}]}


def read(be: Any, anvil: Chain, to: str, abi: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    out = be.execute(node_call({"type": "evm_read", "to": lit(to), "abi": abi, "args": {k: lit(v) for k, v in args.items()}}))
    return dict(out.outputs)


def latest_ts(anvil: Chain) -> int:
    return int(anvil.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)


def test_r206_multicall_with_conditions_and_deadline(anvil: Chain) -> None:
    """R206: router batch; a call whose condition is false is left out; one transaction."""
    be = anvil.backend(ENV0)
    token, router = anvil.addr["token"], anvil.addr["router"]
    # the router pulls tokens, so approve it first
    be.execute(node_call({"type": "evm_call", "to": lit(token), "abi": fn_abi("TestToken", "approve"),
                          "args": {"spender": lit(router), "amount": lit("1000")}}))
    nonce = anvil.nonce(DEV_ADDRS[0])
    spec = {
        "type": "evm_multicall",
        "to": {"ref": "contracts.router"},
        "calls": [
            {"abi": fn_abi("TestRouter", "note"), "args": {"value": lit("11")}},
            {"abi": fn_abi("TestRouter", "pull"), "args": {"token": lit(token), "amount": lit("600")},
             "condition": {"ref": "flags.pull"}},
            {"abi": fn_abi("TestRouter", "note"), "args": {"value": lit("99")}, "condition": {"ref": "flags.skip"}},
            {"abi": fn_abi("TestRouter", "sweep"),
             "args": {"token": lit(token), "to": lit(DEV_ADDRS[2]), "amount": lit("250")}},
        ],
        "deadline": lit(str(latest_ts(anvil) + 3600)),
    }
    root = {"contracts": {"router": router}, "flags": {"pull": True, "skip": False}}
    out = be.execute(node_call(spec, root=root))
    assert out.outputs["included"] == [0, 1, 3] and out.outputs["skipped"] == [2]
    assert out.outputs["receipt"]["status"] == 1
    assert anvil.nonce(DEV_ADDRS[0]) == nonce + 1  # one transaction
    assert read(be, anvil, router, NOTES, {"who": DEV_ADDRS[0]}) == {"value": 11}
    assert read(be, anvil, router, COUNTER, {}) == {"n": 1}
    assert anvil.token_balance(router) == 350 and anvil.token_balance(DEV_ADDRS[2]) == 250
    tx = anvil.rpc("eth_getTransactionByHash", [out.outputs["tx_hash"]])
    assert tx["input"].startswith("0x5ae401dc")  # multicall(uint256,bytes[])


def test_multicall_without_deadline_uses_plain_router_entry(anvil: Chain) -> None:
    be = anvil.backend(ENV0)
    spec = {"type": "evm_multicall", "to": lit(anvil.addr["router"]),
            "calls": [{"abi": fn_abi("TestRouter", "note"), "args": {"value": lit("5")}}]}
    out = be.execute(node_call(spec))
    tx = anvil.rpc("eth_getTransactionByHash", [out.outputs["tx_hash"]])
    assert tx["input"].startswith("0xac9650d8")  # multicall(bytes[])
    assert read(be, anvil, anvil.addr["router"], NOTES, {"who": DEV_ADDRS[0]}) == {"value": 5}


def test_multicall_all_skipped_sends_nothing(anvil: Chain) -> None:
    be = anvil.backend(ENV0)
    nonce = anvil.nonce(DEV_ADDRS[0])
    spec = {"type": "evm_multicall", "to": lit(anvil.addr["router"]),
            "calls": [{"abi": fn_abi("TestRouter", "note"), "args": {"value": lit("5")}, "condition": lit(False)}]}
    out = be.execute(node_call(spec))
    assert dict(out.outputs) == {"included": [], "skipped": [0]} and out.events == ()
    assert anvil.nonce(DEV_ADDRS[0], "pending") == nonce


def test_multicall_expired_deadline_and_failing_element(anvil: Chain) -> None:
    be = anvil.backend(ENV0)
    note = {"abi": fn_abi("TestRouter", "note"), "args": {"value": lit("1")}}
    fail = {"abi": fn_abi("TestRouter", "fail"), "args": {"reason": lit("boom in call 2")}}
    expired = {"type": "evm_multicall", "to": lit(anvil.addr["router"]), "calls": [note], "deadline": lit("1")}
    with pytest.raises(BackendError) as ei:
        be.execute(node_call(expired))
    assert ei.value.details["revert"]["reason"] == "TestRouter: deadline passed"
    bad = {"type": "evm_multicall", "to": lit(anvil.addr["router"]), "calls": [note, fail]}
    with pytest.raises(BackendError) as ei:
        be.execute(node_call(bad, simulate=True))
    assert ei.value.category == "simulation_failed" and "boom in call 2" in str(ei.value)


def test_multicall_condition_must_be_boolean(anvil: Chain) -> None:
    be = anvil.backend(ENV0)
    spec = {"type": "evm_multicall", "to": lit(anvil.addr["router"]),
            "calls": [{"abi": fn_abi("TestRouter", "note"), "args": {"value": lit("5")}, "condition": lit("yes")}]}
    with pytest.raises(BackendError) as ei:
        be.execute(node_call(spec))
    assert ei.value.category == "validation" and ei.value.details["path"] == "calls[0].condition"


@pytest.mark.parametrize("method", ["multicall3", "rpc_batch"])
def test_r205_multiread_outputs_keyed_by_call_id(anvil: Chain, method: str) -> None:
    """R205: evm_multiread through Multicall3 aggregate3 and through a JSON-RPC batch."""
    be = anvil.backend(None)
    token = anvil.addr["token"]
    spec = {
        "type": "evm_multiread",
        "method": method,
        "calls": [
            {"id": "alice", "to": lit(token), "abi": BAL, "args": {"holder": lit(DEV_ADDRS[0])}},
            {"id": "bob", "to": lit(token), "abi": BAL, "args": {"holder": lit(DEV_ADDRS[1])}},
            {"id": "name", "to": lit(token), "abi": NAME, "args": {}},
        ],
    }
    out = be.execute(node_call(spec))
    assert dict(out.outputs) == {"alice": {"balance": SUPPLY}, "bob": {"balance": 0}, "name": {"name": "Test"}}


@pytest.mark.parametrize("method", ["multicall3", "rpc_batch"])
def test_multiread_failing_call_names_its_id(anvil: Chain, method: str) -> None:
    be = anvil.backend(None)
    ratio = fn_abi("TestToken", "ratio")
    spec = {"type": "evm_multiread", "method": method, "calls": [
        {"id": "ok", "to": lit(anvil.addr["token"]), "abi": NAME, "args": {}},
        {"id": "div0", "to": lit(anvil.addr["token"]), "abi": ratio, "args": {"a": lit("1"), "b": lit("0")}},
    ]}
    with pytest.raises(BackendError) as ei:
        be.execute(node_call(spec))
    assert "'div0'" in str(ei.value) and ei.value.details["revert"]["kind"] == "panic"


def test_multiread_without_multicall3_contract(anvil: Chain) -> None:
    be = anvil.backend(None, multicall3_address=DEV_ADDRS[3])
    spec = {"type": "evm_multiread", "method": "multicall3",
            "calls": [{"id": "n", "to": lit(anvil.addr["token"]), "abi": NAME, "args": {}}]}
    with pytest.raises(BackendError) as ei:
        be.execute(node_call(spec))
    assert "no Multicall3 contract" in str(ei.value)


@pytest.mark.parametrize(
    ("method", "params", "check"),
    [
        ("eth_getBalance", [DEV_ADDRS[0]], lambda o: o["balance"] > 10**21),
        ("eth_getBalance", [DEV_ADDRS[3], "latest"], lambda o: o["balance"] == 10_000 * 10**18),
        ("eth_getBalance", [DEV_ADDRS[3], 0], lambda o: o["balance"] == 10_000 * 10**18),
        ("eth_blockNumber", [], lambda o: o["result"].startswith("0x")),
        ("eth_chainId", [], lambda o: o["result"] == "0x7a69"),
        ("eth_getTransactionCount", [DEV_ADDRS[3], "latest"], lambda o: o["result"] == "0x0"),
        ("eth_getCode", [DEV_ADDRS[3], "latest"], lambda o: o["result"] == "0x"),
        ("eth_getStorageAt", [DEV_ADDRS[3], "0x0", "latest"], lambda o: int(o["result"], 16) == 0),
    ],
)
def test_r207_evm_rpc_allowlisted_methods(anvil: Chain, method: str, params: list[Any], check: Any) -> None:
    """R207: evm_rpc read-only allowlist; eth_getBalance → {balance: int}, others → {result}."""
    be = anvil.backend(None)
    spec = {"type": "evm_rpc", "method": method, "params": {"array": [lit(p) for p in params]}}
    out = be.execute(node_call(spec))
    assert check(out.outputs), out.outputs
    if method == "eth_getBalance":
        assert isinstance(out.outputs["balance"], int)


def test_evm_rpc_eth_call_is_allowed(anvil: Chain) -> None:
    be = anvil.backend(None)
    data = "0x06fdde03"  # name()
    out = be.execute(node_call({"type": "evm_rpc", "method": "eth_call",
                                "params": lit([{"to": anvil.addr["token"], "data": data}, "latest"])}))
    assert out.outputs["result"].startswith("0x") and len(out.outputs["result"]) > 2


@pytest.mark.parametrize(
    "method", ["eth_sendRawTransaction", "eth_sendTransaction", "anvil_setBalance", "evm_revert", "debug_traceCall", "eth_sign"]
)
def test_r207_evm_rpc_rejects_other_methods(anvil: Chain, method: str) -> None:
    """R207: anything outside the allowlist → error "evm_rpc method not allowed", never sent."""
    be = anvil.backend(None)
    sent = be.rpc.requests_sent
    with pytest.raises(BackendError) as ei:
        be.execute(node_call({"type": "evm_rpc", "method": method, "params": lit([])}))
    assert "evm_rpc method not allowed" in str(ei.value) and ei.value.category == "validation"
    assert be.rpc.requests_sent - sent <= 1  # at most the one-off chain-id check


def test_bridge_send_emits_sent_event(anvil: Chain) -> None:
    """The bridge contract used by the cross-chain test: Sent(from, solanaRecipient, amount) in the receipt."""
    be = anvil.backend(ENV0)
    token, bridge = anvil.addr["token"], anvil.addr["bridge"]
    be.execute(node_call({"type": "evm_call", "to": lit(token), "abi": fn_abi("TestToken", "approve"),
                          "args": {"spender": lit(bridge), "amount": lit("500")}}))
    recipient = "0x" + "ab" * 32
    out = be.execute(node_call({"type": "evm_call", "to": lit(bridge), "abi": fn_abi("TestBridge", "send"),
                                "args": {"solanaRecipient": lit(recipient), "amount": lit("300")}}))
    from aisc.backends.evm.abi import keccak256

    topic = "0x" + keccak256(b"Sent(address,bytes32,uint256)").hex()
    sent = [log for log in out.outputs["receipt"]["logs"] if log["topics"][0] == topic]
    assert len(sent) == 1 and sent[0]["address"] == bridge
    body = sent[0]["data"][2:]
    assert body[24:64] == DEV_ADDRS[0][2:] and body[64:128] == "ab" * 32 and int(body[128:], 16) == 300
    assert anvil.token_balance(bridge) == 300
