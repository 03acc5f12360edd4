"""Engine consistency fixes: typed inputs are normalized before the run (docs/inputs.md),
``ctx.wallet_address`` comes from the one configured signer, and a write that was broadcast before
it failed says so with ``tx_sent`` before its ``error`` (SPEC-MAP §5.8, R189)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from eth_account import Account

from aisc.backends.base import BackendError, ExecResult, NodeCall
from aisc.backends.evm.abi import keccak256
from aisc.backends.evm.backend import EvmBackend
from aisc.backends.fake import FakeBackend
from aisc.backends.registry import BackendRegistry
from aisc.ir.values import normalize_inputs, normalize_value
from aisc.runtime.engine import Engine, RunOptions
from aisc.runtime.events import ListSink

from ._helpers import CHAIN, plan, read, run, write

EVM_A = "0x00000000000000000000000000000000000000a1"
EVM_B = "0x00000000000000000000000000000000000000b2"
SOL_CHAIN = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
SOL_KEY = "CnZ5XUoD2c1q2fVaKZEcBM4jaz3VDMRS9WnhDD9StHMh"


def types(sink: ListSink) -> list[str]:
    return [e["event"]["type"] for e in sink.records if e["event"]["type"] != "checkpoint_saved"]


# ------------------------------------------------------------------ typed inputs (bug: "1000" stayed a string)

DECLS = {"amount": {"type": "uint256"}, "delta": {"type": "int8"}, "human": {"type": "token_amount"},
         "flag": {"type": "bool"}, "ids": {"type": "array<uint32>"}, "pair": {"type": "tuple<uint8,address>"},
         "asset": {"type": "asset"}, "fee": {"type": "uint24", "default": "500"}, "rate": {"type": "float"}}


def test_normalize_inputs_by_declared_type() -> None:
    given = {"amount": "1000", "delta": "-5", "human": "12.50", "flag": True, "ids": ["1", 2],
             "pair": ["7", "0x" + "11" * 20], "asset": {"chain_id": CHAIN, "address": "0x" + "11" * 20, "decimals": "6"},
             "rate": "0.25", "extra": "1"}
    assert normalize_inputs(DECLS, given) == {
        "amount": 1000, "delta": -5, "human": "12.50", "flag": True, "ids": [1, 2], "pair": [7, "0x" + "11" * 20],
        "asset": {"chain_id": CHAIN, "address": "0x" + "11" * 20, "decimals": 6}, "rate": "0.25", "extra": "1",
        "fee": 500}


@pytest.mark.parametrize(("type_", "value"), [
    ("uint256", "1.5"), ("uint8", True), ("uint8", "0x10"), ("array<uint8>", "1"), ("tuple<uint8,uint8>", ["1"]),
    ("not-a-type", "5"), ("bytes32", "0x00"),
])
def test_normalize_leaves_what_does_not_fit_unchanged(type_: str, value: Any) -> None:
    assert normalize_value(type_, value) == value
    assert type(normalize_value(type_, value)) is type(value)


def test_normalize_without_declarations_is_a_copy() -> None:
    given = {"amount": "1000"}
    out = normalize_inputs(None, given)
    assert out == {"amount": "1000"} and out is not given


def _typed_plan(assert_cel: str) -> Any:
    return plan(read("q", **{"assert": {"cel": assert_cel}}),
                extensions={"aisc": {"inputs": {"amount": {"type": "uint256"}, "fee": {"type": "uint24",
                                                                                        "default": "500"}}}})


def test_r110_uint_input_given_as_string_compares_with_ints() -> None:
    """R110/R117: a uint256 input given as "1000" is an int in CEL (assert inputs.amount > 5)."""
    res, sink, _ = run(_typed_plan("inputs.amount > 5 && inputs.fee == 500"), {"q": {"outputs": {}}},
                       inputs={"amount": "1000"})
    assert res.status == "done", types(sink)
    assert "error" not in types(sink)


def test_r110_typed_input_assert_can_still_fail() -> None:
    res, sink, _ = run(_typed_plan("inputs.amount > 5000"), {"q": {"outputs": {}}}, inputs={"amount": "1000"})
    assert res.status == "failed"
    assert sink.records[-1]["event"]["data"]["reason"] == "Node assert failed: cel(inputs.amount > 5000)"


# ------------------------------------------------------------------ ctx.wallet_address from the signer


def _engine(p: Any, backends: list[Any], ctx: Mapping[str, Any] | None = None) -> Engine:
    reg = BackendRegistry()
    for b in backends:
        reg.register(b)
    return Engine(p, reg, ctx=ctx, options=RunOptions(run_id="w"), sink=ListSink())


WALLET_CASES = [
    ("one-signer", [FakeBackend(signer=EVM_A)], [read("q")], None, EVM_A),
    ("ctx-wins", [FakeBackend(signer=EVM_A)], [read("q")], {"wallet_address": EVM_B}, EVM_B),
    ("no-signer", [FakeBackend(signer=None)], [read("q")], None, None),
    ("two-evm-chains-agree", [FakeBackend(signer=EVM_A.upper().replace("0X", "0x"), chains=["eip155:1"]),
                              FakeBackend(signer=EVM_A, chains=[CHAIN])],
     [read("q"), read("q2", chain="eip155:1")], None, EVM_A),
    ("two-evm-chains-disagree", [FakeBackend(signer=EVM_A, chains=["eip155:1"]), FakeBackend(signer=EVM_B, chains=[CHAIN])],
     [read("q"), read("q2", chain="eip155:1")], None, None),
    ("read-only-chain-ignored", [FakeBackend(signer=None, chains=["eip155:1"]), FakeBackend(signer=EVM_A, chains=[CHAIN])],
     [read("q"), read("q2", chain="eip155:1")], None, EVM_A),
    ("two-families-never", [FakeBackend(signer=SOL_KEY, chains=[SOL_CHAIN]), FakeBackend(signer=EVM_A, chains=[CHAIN])],
     [read("q"), read("s", chain=SOL_CHAIN, execution={"type": "solana_read", "method": "getBalance",
                                                      "params": {"lit": []}})], None, None),
    ("unsupported-chain-ignored", [FakeBackend(signer=EVM_A, chains=[CHAIN])],
     [read("q"), read("q2", chain="eip155:1")], None, EVM_A),
]


@pytest.mark.parametrize(("backends", "nodes", "ctx", "expected"), [c[1:] for c in WALLET_CASES],
                         ids=[c[0] for c in WALLET_CASES])
def test_ctx_wallet_address_from_the_signer(backends: list[Any], nodes: list[dict[str, Any]],
                                            ctx: Mapping[str, Any] | None, expected: str | None) -> None:
    eng = _engine(plan(*nodes), backends, ctx)
    got = eng.root["ctx"].get("wallet_address")
    assert (got.lower() if isinstance(got, str) else got) == (expected.lower() if expected else expected)


def test_filled_wallet_address_feeds_the_node() -> None:
    be = FakeBackend({"w": {"evaluate": ["args.amount"]}}, signer=EVM_A)
    node = write("w", args={"amount": {"ref": "ctx.wallet_address"}})
    res, sink, _ = run(plan(node), backend=be)
    assert res.status == "done", types(sink)
    assert be.evaluated["w"]["args.amount"] == EVM_A


# ------------------------------------------------------------------ tx_sent before the error of a failed write


class _RevertingBackend(FakeBackend):
    def execute(self, call: NodeCall) -> ExecResult:
        raise BackendError("transaction 0xab reverted in block 7: boom", details={"tx_hash": "0xab"},
                           events=(("tx_sent", {"tx_hash": "0xab"}),))


def test_r189_failed_write_after_broadcast_emits_tx_sent_first() -> None:
    res, sink, _ = run(plan(write("w")), backend=_RevertingBackend())
    assert res.status == "failed"
    assert types(sink)[-2:] == ["tx_sent", "error"]
    tx, err = [e["event"] for e in sink.records if e["event"]["type"] in ("tx_sent", "error")]
    assert tx["data"] == {"tx_hash": "0xab"} and tx["node_id"] == "w"
    assert err["data"]["details"] == {"tx_hash": "0xab"}


def test_failed_write_without_broadcast_has_no_tx_sent() -> None:
    res, sink, _ = run(plan(write("w")), {"w": {"fail": "rejected before broadcast"}})
    assert res.status == "failed"
    assert "tx_sent" not in types(sink) and types(sink)[-1] == "error"


KEY = "0x" + "4c" * 32
TOKEN = "0x" + "a0" * 20
TRANSFER = {"type": "function", "name": "transfer", "inputs": [{"name": "to", "type": "address"},
                                                               {"name": "amount", "type": "uint256"}],
            "outputs": [{"name": "", "type": "bool"}]}


class _RevertNode:
    """An EVM node whose transactions are mined with receipt status 0 (and whose replay reverts)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        p = json.loads(request.content)
        return httpx.Response(200, json=[self.reply(x) for x in p] if isinstance(p, list) else self.reply(p))

    def reply(self, p: Mapping[str, Any]) -> dict[str, Any]:
        m, params = p["method"], p["params"]
        results = {"eth_chainId": hex(31337), "eth_estimateGas": "0xc350", "eth_maxPriorityFeePerGas": "0x1",
                   "eth_getTransactionCount": "0x0",
                   "eth_feeHistory": {"baseFeePerGas": ["0x3b9aca00", "0x3b9aca00"], "gasUsedRatio": ["0"]}}
        if m in results:
            return {"jsonrpc": "2.0", "id": p["id"], "result": results[m]}
        if m == "eth_sendRawTransaction":
            self.sent.append("0x" + keccak256(bytes.fromhex(params[0][2:])).hex())
            return {"jsonrpc": "2.0", "id": p["id"], "result": self.sent[-1]}
        if m == "eth_getTransactionReceipt":
            return {"jsonrpc": "2.0", "id": p["id"], "result": {
                "status": "0x0", "transactionHash": params[0], "blockNumber": "0x7", "blockHash": "0x" + "bb" * 32,
                "transactionIndex": "0x0", "gasUsed": "0xc350", "cumulativeGasUsed": "0xc350",
                "from": Account.from_key(KEY).address, "to": TOKEN, "effectiveGasPrice": "0x3b9aca01", "logs": []}}
        if m == "eth_call":
            return {"jsonrpc": "2.0", "id": p["id"], "error": {"code": 3, "message": "execution reverted: boom",
                                                               "data": "0x"}}
        return {"jsonrpc": "2.0", "id": p["id"], "error": {"code": -32601, "message": f"no {m}"}}


def test_r189_evm_status_zero_receipt_emits_tx_sent_then_error() -> None:
    """A transaction that was broadcast and mined with status 0: tx_sent {tx_hash}, then the error."""
    node = _RevertNode()
    be = EvmBackend({"chain": CHAIN, "rpc_url": "http://127.0.0.1:9", "signer": {"type": "env", "var": "K"}},
                    transport=httpx.MockTransport(node.handle), environ={"K": KEY})
    n = write("w")
    n["execution"] = {"type": "evm_call", "to": {"lit": TOKEN}, "abi": TRANSFER,
                      "args": {"to": {"lit": "0x" + "22" * 20}, "amount": {"lit": "5"}}}
    reg = BackendRegistry()
    reg.register(be)
    sink = ListSink()
    res = Engine(plan(n), reg, options=RunOptions(run_id="r"), sink=sink).run()
    assert res.status == "failed"
    assert types(sink)[-2:] == ["tx_sent", "error"]
    sent = [e["event"]["data"] for e in sink.records if e["event"]["type"] == "tx_sent"]
    err = sink.records[-1]["event"]["data"]
    assert sent == [{"tx_hash": node.sent[0]}]
    assert err["details"]["tx_hash"] == node.sent[0] and err["details"]["receipt"]["status"] == 0
    assert "reverted in block 7" in err["reason"]
