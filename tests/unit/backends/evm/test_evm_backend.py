"""EvmBackend without a chain: preview (§7.2), routing, config, fee fallback, error mapping, artefacts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import eth_abi
import httpx
import pytest
from test_evm_signers import KEY, TOKEN, TRANSFER, FakeNode

from aisc.backends.base import Backend, BackendError, NodeCall, TxIntent
from aisc.backends.evm.backend import EvmBackend, decode_revert
from aisc.backends.evm.errors import KNOWN_ERRORS, _by_selector

REPO = Path(__file__).resolve().parents[4]


def make(node: FakeNode | None = None, **cfg: Any) -> EvmBackend:
    node = node or FakeNode()
    base: dict[str, Any] = {"chain": "eip155:31337", "rpc_url": "http://127.0.0.1:9", "signer": {"type": "env", "var": "K"}}
    return EvmBackend({**base, **cfg}, transport=httpx.MockTransport(node.handle), environ={"K": KEY})


def call(execution: dict[str, Any], chain: str = "eip155:31337") -> NodeCall:
    return NodeCall(node_id="n1", chain=chain, execution=execution, evaluate=lambda vr: vr["lit"])


def transfer(amount: Any = "5", to: Any = TOKEN) -> dict[str, Any]:
    return {"type": "evm_call", "to": {"lit": to}, "abi": TRANSFER,
            "args": {"to": {"lit": "0x" + "22" * 20}, "amount": {"lit": amount}}, "value": {"lit": "0"}}


def test_is_a_backend() -> None:
    be = make()
    assert isinstance(be, Backend)
    assert be.supports("eip155:31337", "evm_call") and be.supports("eip155:31337", "evm_rpc")
    assert not be.supports("eip155:1", "evm_call") and not be.supports("eip155:31337", "solana_instruction")


def test_preview_evm_tx_shape() -> None:
    """§7.2: evm_call → {kind: evm_tx, chain, chain_id, exec_type, to, data, value, function_name, args}."""
    node = FakeNode()
    p = make(node).preview(call(transfer(str(2**200))))
    assert p == {
        "kind": "evm_tx",
        "chain": "eip155:31337",
        "chain_id": 31337,
        "exec_type": "evm_call",
        "to": TOKEN,
        "data": "0xa9059cbb" + ("22" * 20).rjust(64, "0") + format(2**200, "064x"),
        "value": "0",
        "function_name": "transfer",
        "args": {"to": "0x" + "22" * 20, "amount": str(2**200)},
    }
    assert node.bodies == []  # no side effects, not even an RPC call


def test_preview_ints_become_strings() -> None:
    p = make().preview(call(transfer(amount=7)))
    assert p["args"]["amount"] == "7"


@pytest.mark.parametrize(
    ("execution", "fragment"),
    [
        (transfer(amount=2**256), "args.amount: value"),
        (transfer(to="0x1234"), "invalid address"),
        ({**transfer(), "args": {"to": {"lit": "0x" + "22" * 20}}}, "ABI args mismatch (missing: amount)"),
        ({**transfer(), "value": {"lit": "-1"}}, "value: value -1 does not fit uint256"),
    ],
)
def test_preview_compile_error(execution: dict[str, Any], fragment: str) -> None:
    p = make().preview(call(execution))
    assert p["kind"] == "execution" and p["exec_type"] == "evm_call" and fragment in p["compile_error"]


def test_preview_other_types() -> None:
    assert make().preview(call({"type": "evm_read"})) == {"kind": "execution", "chain": "eip155:31337", "exec_type": "evm_read"}


@pytest.mark.parametrize(
    ("execution", "path", "fragment"),
    [
        (transfer(amount=2**256), "amount", "does not fit uint256"),
        (transfer(amount=True), "amount", "got a boolean"),
        ({**transfer(), "args": {"to": {"lit": "0x" + "22" * 20}, "amount": {"lit": "1"}, "x": {"lit": 1}}},
         "args", "ABI args mismatch (extra: x)"),
    ],
)
def test_r131_encoding_errors_are_positioned_validation_errors(execution: dict[str, Any], path: str, fragment: str) -> None:
    """R131/R199: encoding errors surface as BackendError(validation) with the argument path; nothing sent."""
    node = FakeNode()
    with pytest.raises(BackendError) as ei:
        make(node).execute(call(execution))
    assert ei.value.category == "validation" and fragment in str(ei.value)
    assert ei.value.details["path"].endswith(path)
    assert node.sent == []


def test_wrong_chain_and_unknown_type() -> None:
    be = make()
    with pytest.raises(BackendError, match="cannot run node n1 on eip155:1"):
        be.execute(call(transfer(), chain="eip155:1"))
    with pytest.raises(BackendError, match="does not support execution type 'solana_read'"):
        be.execute(call({"type": "solana_read"}))


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"chain": "solana:mainnet", "rpc_url": "http://x"}, "eip155:<positive integer>"),
        ({"chain": "eip155:1"}, "rpc_url"),
        ({"chain": "eip155:1", "rpc_url": "ws://x"}, "rpc_url"),
        ({"chain": "eip155:1", "rpc_url": "http://x", "fee_mode": "cheap"}, "fee_mode"),
        ({"chain": "eip155:1", "rpc_url": "http://x", "receipt_timeout_ms": 1.5}, "receipt_timeout_ms"),
        ({"chain": "eip155:1", "rpc_url": "http://x", "gas_margin_pct": -1}, "gas_margin_pct"),
        ({"chain": "eip155:1", "rpc_url": "http://x", "multicall3_address": "0x12"}, "multicall3_address"),
    ],
)
def test_bad_config(config: dict[str, Any], fragment: str) -> None:
    with pytest.raises(BackendError) as ei:
        EvmBackend(config)
    assert ei.value.category == "validation" and fragment in str(ei.value)


def test_legacy_fee_fallback_signs_legacy_transaction() -> None:
    class NoFeeMarket(FakeNode):
        def reply(self, p: Any) -> dict[str, Any]:
            if p["method"] in ("eth_feeHistory", "eth_maxPriorityFeePerGas"):
                return {"jsonrpc": "2.0", "id": p["id"], "error": {"code": -32601, "message": "method not found"}}
            if p["method"] == "eth_gasPrice":
                return {"jsonrpc": "2.0", "id": p["id"], "result": "0x77359400"}
            return super().reply(p)

    node = NoFeeMarket()
    be = make(node)
    intents: list[TxIntent] = []
    res = be.execute(NodeCall(node_id="n", chain="eip155:31337", execution=transfer(), evaluate=lambda v: v["lit"],
                              record_intent=intents.append))
    assert res.outputs["receipt"]["status"] == 1
    raw = intents[0].raw
    assert raw is not None and raw[2:4] not in ("01", "02")  # legacy RLP list, not a typed envelope
    # the second write goes straight to eth_gasPrice
    node.bodies.clear()
    be.execute(call(transfer()))
    assert not any(b"eth_feeHistory" in b for b in node.bodies)


def test_rpc_unavailable_maps_to_backend_error() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    be = EvmBackend({"chain": "eip155:31337", "rpc_url": "http://127.0.0.1:9", "max_retries": 1},
                    transport=httpx.MockTransport(down), sleep=lambda s: None)
    read = {"type": "evm_rpc", "method": "eth_blockNumber"}
    with pytest.raises(BackendError) as ei:
        be.execute(call(read))
    assert ei.value.category == "rpc_unavailable" and ei.value.retryable is True


@pytest.mark.parametrize(
    ("data", "kind", "reason"),
    [
        ("", "empty", "execution reverted without a reason"),
        ("08c379a0" + "20".rjust(64, "0") + "3".rjust(64, "0") + "616263".ljust(64, "0"), "error", "abc"),
        ("4e487b71" + "11".rjust(64, "0"), "panic", "panic 0x11 (arithmetic overflow or underflow)"),
        ("4e487b71" + "99".rjust(64, "0"), "panic", "unknown panic code"),
        ("deadbeef" + "00" * 32, "custom", "custom error 0xdeadbeef"),
    ],
)
def test_decode_revert(data: str, kind: str, reason: str) -> None:
    out = decode_revert(bytes.fromhex(data))
    assert out["kind"] == kind and reason in out["reason"] and out["data"] == "0x" + data


# Selectors as published with ERC-6093 and OpenZeppelin Contracts 5 (not computed here).
PUBLISHED_SELECTORS = {
    "ERC20InsufficientBalance": "e450d38c", "ERC20InvalidSender": "96c6fd1e", "ERC20InvalidReceiver": "ec442f05",
    "ERC20InsufficientAllowance": "fb8f41b2", "ERC20InvalidApprover": "e602df05", "ERC20InvalidSpender": "94280d62",
    "ERC721NonexistentToken": "7e273289", "ERC721IncorrectOwner": "64283d7b", "ERC721InsufficientApproval": "177e802f",
    "ERC1155InsufficientBalance": "03dee4c5", "ERC1155MissingApprovalForAll": "e237d922",
    "OwnableUnauthorizedAccount": "118cdaa7", "AccessControlUnauthorizedAccount": "e2517d3f",
    "EnforcedPause": "d93c0665", "ExpectedPause": "8dfc202b", "ReentrancyGuardReentrantCall": "3ee5aeb5",
    "SafeERC20FailedOperation": "5274afe7", "ERC2612ExpiredSignature": "62791302", "InvalidAccountNonce": "752d88c0",
    "AddressEmptyCode": "9996b315", "FailedCall": "d6bda275",
}


@pytest.mark.parametrize(("name", "selector"), sorted(PUBLISHED_SELECTORS.items()))
def test_known_custom_errors_have_their_published_selectors(name: str, selector: str) -> None:
    assert any(d.startswith(name + "(") for d in KNOWN_ERRORS)
    assert _by_selector()[bytes.fromhex(selector)].name == name


def test_decode_revert_names_a_known_custom_error() -> None:
    """ERC20InsufficientBalance(sender, balance, needed): named, with its arguments; integers as
    decimal strings (a balance above 2**53 stays exact), the address lowercase."""
    sender = "0x" + "Ab" * 20
    big = 2**200 + 1
    data = bytes.fromhex("e450d38c") + eth_abi.encode(["address", "uint256", "uint256"], [sender, big, big + 1])
    out = decode_revert(data)
    assert out["kind"] == "custom" and out["name"] == "ERC20InsufficientBalance"
    assert out["args"] == {"sender": sender.lower(), "balance": str(big), "needed": str(big + 1)}
    assert out["reason"] == f"ERC20InsufficientBalance(sender={sender.lower()}, balance={big}, needed={big + 1})"
    assert out["selector"] == "0xe450d38c" and out["data"] == "0x" + data.hex()
    assert decode_revert(bytes.fromhex("d93c0665"))["reason"] == "EnforcedPause()"


@pytest.mark.parametrize("tail", ["", "00" * 31, "01" * 32])
def test_decode_revert_known_selector_with_bad_arguments_stays_raw(tail: str) -> None:
    """A known selector whose arguments do not decode (missing, short, an address with high bits
    set) is reported as an unknown custom error, with the raw data."""
    data = bytes.fromhex("96c6fd1e" + tail)
    out = decode_revert(data)
    assert out["kind"] == "custom" and "name" not in out
    assert out["reason"] == "custom error 0x96c6fd1e" and out["data"] == "0x" + data.hex()


def test_contract_artefacts_match_sources() -> None:
    """contracts/build/*.json were built from the committed sources (rebuild: contracts/build.sh)."""
    arts = sorted((REPO / "contracts" / "build").glob("*.json"))
    assert {a.stem for a in arts} >= {"TestToken", "Multicall3", "TestRouter", "TestBridge"}
    for a in arts:
        art = json.loads(a.read_text())
        src = (REPO / art["sourceName"]).read_bytes()
        assert hashlib.sha256(src).hexdigest() == art["sourceSha256"], f"{a.name} is stale: run contracts/build.sh"
        assert art["bytecode"].startswith("0x60") and art["abi"]


def test_receipt_unreachable_after_broadcast_is_not_retryable() -> None:
    """Once the bytes are out, an RPC outage must not let the runtime re-run the write blindly."""

    class LosesReceipts(FakeNode):
        def handle(self, request: httpx.Request) -> httpx.Response:
            if b"eth_getTransactionReceipt" in request.content:
                raise httpx.ConnectError("down", request=request)
            return super().handle(request)

    node = LosesReceipts()
    be = EvmBackend({"chain": "eip155:31337", "rpc_url": "http://127.0.0.1:9", "max_retries": 1,
                     "signer": {"type": "env", "var": "K"}},
                    transport=httpx.MockTransport(node.handle), environ={"K": KEY}, sleep=lambda s: None)
    intents: list[TxIntent] = []
    with pytest.raises(BackendError) as ei:
        be.execute(NodeCall(node_id="n", chain="eip155:31337", execution=transfer(), evaluate=lambda v: v["lit"],
                            record_intent=intents.append))
    assert ei.value.category == "rpc_unavailable" and ei.value.retryable is False
    assert ei.value.details["tx_hash"] == intents[0].tx_id and len(node.sent) == 1
