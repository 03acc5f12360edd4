"""Signers (env key, keystore, unlocked) and key redaction across the backend's outputs."""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account

from aisc.backends.base import BackendError, NodeCall, TxIntent
from aisc.backends.evm.abi import keccak256
from aisc.backends.evm.backend import EvmBackend
from aisc.backends.evm.signers import LocalKeySigner, SignerUnavailable, UnlockedSigner, load_signer

# A throwaway key used only by this test module.
KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ADDR = Account.from_key(KEY).address.lower()
TOKEN = "0x" + "11" * 20
TRANSFER = {
    "type": "function",
    "name": "transfer",
    "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
    "outputs": [],
}


def key_forms() -> list[str]:
    body = KEY[2:]
    return [body, body.upper(), KEY]


def assert_no_key(text: str) -> None:
    low = text.lower()
    for form in key_forms():
        assert form.lower() not in low, "private key leaked"


class FakeNode:
    """Enough of an EVM node for the write path, served through httpx.MockTransport."""

    def __init__(self, chain_id: int = 31337) -> None:
        self.chain_id = chain_id
        self.sent: list[str] = []
        self.bodies: list[bytes] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.content)
        payload = json.loads(request.content)
        if isinstance(payload, list):
            return httpx.Response(200, json=[self.reply(p) for p in payload])
        return httpx.Response(200, json=self.reply(payload))

    def reply(self, p: Mapping[str, Any]) -> dict[str, Any]:
        m, params = p["method"], p["params"]
        result: Any
        if m == "eth_chainId":
            result = hex(self.chain_id)
        elif m == "eth_estimateGas":
            result = "0xc350"
        elif m == "eth_feeHistory":
            result = {"baseFeePerGas": ["0x3b9aca00", "0x3b9aca00"], "gasUsedRatio": [0.0]}
        elif m == "eth_maxPriorityFeePerGas":
            result = "0x1"
        elif m == "eth_getTransactionCount":
            result = "0x5"
        elif m == "eth_sendRawTransaction":
            self.sent.append(params[0])
            result = "0x" + keccak256(bytes.fromhex(params[0][2:])).hex()
        elif m == "eth_getTransactionReceipt":
            result = {"status": "0x1", "transactionHash": params[0], "blockNumber": "0x10", "blockHash": "0x" + "bb" * 32,
                      "transactionIndex": "0x0", "gasUsed": "0xc350", "cumulativeGasUsed": "0xc350", "from": ADDR,
                      "to": TOKEN, "effectiveGasPrice": "0x3b9aca01", "logs": []}
        elif m == "eth_call":
            result = "0x"
        else:
            return {"jsonrpc": "2.0", "id": p["id"], "error": {"code": -32601, "message": f"no {m}"}}
        return {"jsonrpc": "2.0", "id": p["id"], "result": result}


def backend(node: FakeNode, signer: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None) -> EvmBackend:
    cfg: dict[str, Any] = {"chain": "eip155:31337", "rpc_url": "http://127.0.0.1:9"}
    if signer is not None:
        cfg["signer"] = dict(signer)
    return EvmBackend(cfg, transport=httpx.MockTransport(node.handle), environ=environ or {"K": KEY})


def transfer_call(intents: list[TxIntent]) -> NodeCall:
    return NodeCall(
        node_id="n1",
        chain="eip155:31337",
        execution={"type": "evm_call", "to": {"lit": TOKEN}, "abi": TRANSFER,
                   "args": {"to": {"lit": "0x" + "22" * 20}, "amount": {"lit": "5"}}},
        evaluate=lambda vr: vr["lit"],
        record_intent=intents.append,
    )


def test_env_signer_loads_key_from_named_variable() -> None:
    s = load_signer({"type": "env", "var": "MY_KEY"}, {"MY_KEY": KEY[2:]})
    assert isinstance(s, LocalKeySigner) and s.address == ADDR


def test_keystore_signer(tmp_path: Path) -> None:
    blob = Account.encrypt(KEY, "correct horse", kdf="pbkdf2", iterations=2)
    path = tmp_path / "key.json"
    path.write_text(json.dumps(blob))
    s = load_signer({"type": "keystore", "path": str(path), "password_env": "PW"}, {"PW": "correct horse"})
    assert s.address == ADDR
    with pytest.raises(SignerUnavailable) as ei:
        load_signer({"type": "keystore", "path": str(path), "password_env": "PW"}, {"PW": "wrong"})
    assert "wrong password" in str(ei.value) and "correct horse" not in str(ei.value)
    assert ei.value.__cause__ is None and ei.value.__suppress_context__


def test_unlocked_signer() -> None:
    s = load_signer({"type": "unlocked", "address": "0x" + "AB" * 20})
    assert isinstance(s, UnlockedSigner) and s.address == "0x" + "ab" * 20 and s.method == "sign"


@pytest.mark.parametrize(
    ("config", "environ", "message"),
    [
        ({"type": "env", "var": "K"}, {}, "environment variable K is not set"),
        ({"type": "env"}, {}, "needs 'var'"),
        ({"type": "env", "var": "K"}, {"K": KEY[:-2]}, "does not hold a 32-byte hex private key"),
        ({"type": "env", "var": "K"}, {"K": "0x" + "00" * 32}, "invalid private key"),
        ({"type": "env", "var": "K"}, {"K": "0x" + "ff" * 32}, "invalid private key"),
        ({"type": "env", "var": "K", "key": KEY}, {}, "unknown keys: key"),
        ({"type": "keystore", "path": "/nonexistent.json", "password_env": "P"}, {"P": "x"}, "cannot read keystore"),
        ({"type": "keystore", "path": "/x.json", "password_env": "P"}, {}, "P (keystore password) is not set"),
        ({"type": "unlocked", "address": "0x12"}, {}, "needs 'address'"),
        ({"type": "unlocked", "address": "0x" + "11" * 20, "method": "x"}, {}, "'method' must be"),
        ({"type": "private_key", "value": KEY}, {}, "unknown signer type"),
        ("not-a-mapping", {}, "must be an object"),
    ],
)
def test_bad_signer_configs(config: Any, environ: dict[str, str], message: str) -> None:
    with pytest.raises(SignerUnavailable) as ei:
        load_signer(config, environ)
    assert message in str(ei.value)
    assert_no_key(str(ei.value))
    assert ei.value.__cause__ is None


def test_signer_cannot_be_pickled() -> None:
    s = load_signer({"type": "env", "var": "K"}, {"K": KEY})
    with pytest.raises(TypeError):
        pickle.dumps(s)


def test_backend_write_with_env_key_never_exposes_the_key(caplog: pytest.LogCaptureFixture) -> None:
    """R186: the key never reaches a log line, a repr, an event, an intent, an output, or the wire."""
    caplog.set_level(logging.DEBUG)
    node = FakeNode()
    be = backend(node, {"type": "env", "var": "K"})
    intents: list[TxIntent] = []
    res = be.execute(transfer_call(intents))
    assert res.outputs["tx_hash"] == intents[0].tx_id and intents[0].nonce == 5
    assert len(node.sent) == 1 and node.sent[0] == intents[0].raw
    # the signed bytes really come from our key
    assert Account.recover_transaction(node.sent[0]).lower() == ADDR
    everything = [
        repr(be), str(be), repr(be._signer), str(be._signer), repr(res), repr(intents), json.dumps(res.outputs),
        json.dumps([list(e) for e in res.events]), caplog.text, b"".join(node.bodies).decode(),
        repr(be.preview(transfer_call([]))),
    ]
    for text in everything:
        assert_no_key(text)
    assert be.signer_address("eip155:31337") == ADDR and be.signer_address("eip155:1") is None


def test_backend_errors_never_expose_the_key() -> None:
    bad = "0x" + "ff" * 32
    be = backend(FakeNode(), {"type": "env", "var": "K"}, {"K": bad})
    res = be.execute(transfer_call([]))
    assert res.need_user_confirm is not None
    text = json.dumps(res.need_user_confirm)
    assert "ff" * 32 not in text and "invalid private key" in text


def test_chain_id_mismatch_refuses_before_signing() -> None:
    node = FakeNode(chain_id=1)
    be = backend(node, {"type": "env", "var": "K"})
    with pytest.raises(BackendError) as ei:
        be.execute(transfer_call([]))
    assert ei.value.category == "validation" and node.sent == []
