"""RpcClient retry behaviour against a tiny local HTTP stub; fees; nonces."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from aisc.backends.evm.rpc import (
    Fees,
    NonceManager,
    RpcClient,
    RpcError,
    RpcUnavailable,
    chain_id_of,
    suggest_fees,
)

Reply = tuple[int, dict[str, str], Any]  # status, headers, JSON body (or bytes)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class Stub:
    """An HTTP JSON-RPC stub: ``script(payload, n)`` returns the reply to the n-th request."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.client_ports: set[int] = set()
        self.script: Callable[[Any, int], Reply] = lambda p, n: (200, {}, {"jsonrpc": "2.0", "id": 1, "result": "0x1"})
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                payload = json.loads(body)
                stub.requests.append(payload)
                stub.client_ports.add(int(self.client_address[1]))
                status, headers, out = stub.script(payload, len(stub.requests))
                raw = out if isinstance(out, bytes) else json.dumps(out).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def methods(self) -> list[str]:
        return [p["method"] if isinstance(p, dict) else "batch" for p in self.requests]


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    yield s
    s.server.shutdown()
    s.server.server_close()


def ok(payload: Any, result: Any) -> Reply:
    return 200, {}, {"jsonrpc": "2.0", "id": payload["id"], "result": result}


def rpc_err(payload: Any, code: int, message: str, data: Any = None) -> Reply:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return 200, {}, {"jsonrpc": "2.0", "id": payload["id"], "error": err}


def client(url: str, sleeps: list[float] | None = None, **kw: Any) -> RpcClient:
    box = sleeps if sleeps is not None else []
    return RpcClient(url, sleep=box.append, **kw)


@pytest.mark.parametrize(
    "failure",
    [
        (503, {}, b"busy"),
        (502, {}, b"bad gateway"),
        (429, {}, b"slow down"),
        (200, {}, b"not json"),
    ],
    ids=["503", "502", "429", "bad-json"],
)
def test_transient_http_failures_are_retried(stub: Stub, failure: Reply) -> None:
    stub.script = lambda p, n: failure if n < 3 else ok(p, "0x2a")
    sleeps: list[float] = []
    c = client(stub.url, sleeps)
    assert c.call("eth_blockNumber") == "0x2a"
    assert len(stub.requests) == 3 and len(sleeps) == 2
    assert all(0 <= s <= c.backoff_max_s for s in sleeps)


def test_header_not_found_is_retried(stub: Stub) -> None:
    stub.script = lambda p, n: rpc_err(p, -32000, "header not found") if n == 1 else ok(p, "0x1")
    assert client(stub.url).call("eth_call", [{}, "0x10"]) == "0x1"
    assert len(stub.requests) == 2


def test_retry_after_is_honoured(stub: Stub) -> None:
    stub.script = lambda p, n: (429, {"retry-after": "3"}, b"") if n == 1 else ok(p, "0x1")
    sleeps: list[float] = []
    client(stub.url, sleeps, backoff_max_s=1.0).call("eth_chainId")
    assert sleeps == [3.0]


def test_backoff_grows_exponentially_with_cap(stub: Stub) -> None:
    import random

    stub.script = lambda p, n: (503, {}, b"")
    sleeps: list[float] = []
    c = RpcClient(stub.url, sleep=sleeps.append, max_retries=6, backoff_base_s=0.1, backoff_max_s=0.8,
                  rng=random.Random(7))
    with pytest.raises(RpcUnavailable, match="gave up after 7 attempts"):
        c.call("eth_chainId")
    caps = [min(0.8, 0.1 * 2**i) for i in range(6)]
    assert len(sleeps) == 6 and all(0 <= s <= cap for s, cap in zip(sleeps, caps, strict=True))
    assert len(stub.requests) == 7


def test_retry_budget_bounds_total_time(stub: Stub) -> None:
    stub.script = lambda p, n: (503, {}, b"")
    c = RpcClient(stub.url, sleep=lambda s: None, max_retries=100, backoff_base_s=1.0, backoff_max_s=1.0,
                  retry_budget_s=0.0)
    with pytest.raises(RpcUnavailable):
        c.call("eth_chainId")
    assert len(stub.requests) == 1


def test_json_rpc_errors_are_not_retried(stub: Stub) -> None:
    stub.script = lambda p, n: rpc_err(p, 3, "execution reverted", "0x08c379a0")
    with pytest.raises(RpcError) as ei:
        client(stub.url).call("eth_call", [{}, "latest"])
    assert ei.value.code == 3 and ei.value.data == "0x08c379a0"
    assert len(stub.requests) == 1


def test_connection_refused_is_unavailable_and_not_delivered() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = RpcClient(f"http://127.0.0.1:{port}", sleep=lambda s: None, max_retries=2)
    with pytest.raises(RpcUnavailable) as ei:
        c.call("eth_chainId")
    assert ei.value.maybe_delivered is False and c.requests_sent == 3


def test_keep_alive_reuses_one_connection(stub: Stub) -> None:
    c = client(stub.url)
    for _ in range(5):
        c.call("eth_chainId")
    assert len(stub.requests) == 5 and len(stub.client_ports) == 1


def test_batch_maps_out_of_order_replies_and_item_errors(stub: Stub) -> None:
    def script(payload: Any, n: int) -> Reply:
        items = [{"jsonrpc": "2.0", "id": payload[1]["id"], "error": {"code": 3, "message": "execution reverted"}},
                 {"jsonrpc": "2.0", "id": payload[0]["id"], "result": "0xaa"},
                 {"jsonrpc": "2.0", "id": payload[2]["id"], "result": None}]
        return 200, {}, items

    stub.script = script
    a, b, c = client(stub.url).batch([("eth_call", [1]), ("eth_call", [2]), ("eth_getTransactionReceipt", ["0x"])])
    assert a == "0xaa" and isinstance(b, RpcError) and b.message == "execution reverted" and c is None
    assert len(stub.requests) == 1 and isinstance(stub.requests[0], list)


def test_batch_retries_transient_item(stub: Stub) -> None:
    def script(payload: Any, n: int) -> Reply:
        if n == 1:
            return 200, {}, [{"jsonrpc": "2.0", "id": payload[0]["id"], "error": {"code": -32000, "message": "header not found"}}]
        return 200, {}, [{"jsonrpc": "2.0", "id": payload[0]["id"], "result": "0x1"}]

    stub.script = script
    assert client(stub.url).batch([("eth_call", [])]) == ["0x1"]
    assert len(stub.requests) == 2


# -- eth_sendRawTransaction is never retried blindly

RAW, HASH = "0x02f8aa", "0x" + "ab" * 32


def test_send_raw_ambiguous_failure_then_known_hash_is_success(stub: Stub) -> None:
    def script(p: Any, n: int) -> Reply:
        if p["method"] == "eth_sendRawTransaction":
            return 502, {}, b""
        return ok(p, {"hash": HASH})

    stub.script = script
    assert client(stub.url).send_raw_transaction(RAW, HASH) == HASH
    assert stub.methods() == ["eth_sendRawTransaction", "eth_getTransactionByHash"]


def test_send_raw_ambiguous_failure_unknown_hash_resends_same_bytes(stub: Stub) -> None:
    def script(p: Any, n: int) -> Reply:
        if p["method"] == "eth_sendRawTransaction":
            return (503, {}, b"") if n == 1 else ok(p, HASH)
        return ok(p, None)

    stub.script = script
    assert client(stub.url).send_raw_transaction(RAW, HASH) == HASH
    assert stub.methods() == ["eth_sendRawTransaction", "eth_getTransactionByHash", "eth_sendRawTransaction"]
    sends = [p for p in stub.requests if p["method"] == "eth_sendRawTransaction"]
    assert all(p["params"] == [RAW] for p in sends)


def test_send_raw_gives_up_when_hash_lookup_fails(stub: Stub) -> None:
    stub.script = lambda p, n: (503, {}, b"")
    with pytest.raises(RpcUnavailable) as ei:
        client(stub.url, max_retries=1).send_raw_transaction(RAW, HASH)
    assert ei.value.maybe_delivered is True
    assert stub.methods()[0] == "eth_sendRawTransaction"
    assert stub.methods().count("eth_sendRawTransaction") == 1


def test_send_raw_already_known_is_success(stub: Stub) -> None:
    stub.script = lambda p, n: rpc_err(p, -32000, "already known")
    assert client(stub.url).send_raw_transaction(RAW, HASH) == HASH


def test_send_raw_rejection_is_raised(stub: Stub) -> None:
    stub.script = lambda p, n: rpc_err(p, -32000, "nonce too low")
    with pytest.raises(RpcError, match="nonce too low"):
        client(stub.url).send_raw_transaction(RAW, HASH)
    assert len(stub.requests) == 1


def test_non_idempotent_call_not_retried(stub: Stub) -> None:
    stub.script = lambda p, n: (503, {}, b"")
    with pytest.raises(RpcUnavailable) as ei:
        client(stub.url).call("eth_sendTransaction", [{}], idempotent=False)
    assert ei.value.maybe_delivered is True and len(stub.requests) == 1


# -- fees


def test_eip1559_fees(stub: Stub) -> None:
    def script(payload: Any, n: int) -> Reply:
        return 200, {}, [
            {"jsonrpc": "2.0", "id": payload[0]["id"], "result": {"baseFeePerGas": ["0x64", "0xc8"], "gasUsedRatio": [0.5]}},
            {"jsonrpc": "2.0", "id": payload[1]["id"], "result": "0xa"},
        ]

    stub.script = script
    assert suggest_fees(client(stub.url)) == Fees(max_fee_per_gas=2 * 200 + 10, max_priority_fee_per_gas=10)


def test_legacy_fallback_when_no_fee_market(stub: Stub) -> None:
    def script(payload: Any, n: int) -> Reply:
        if isinstance(payload, list):
            return 200, {}, [
                {"jsonrpc": "2.0", "id": payload[0]["id"], "error": {"code": -32601, "message": "method not found"}},
                {"jsonrpc": "2.0", "id": payload[1]["id"], "error": {"code": -32601, "message": "method not found"}},
            ]
        return ok(payload, "0x3b9aca00")

    stub.script = script
    fees = suggest_fees(client(stub.url))
    assert fees == Fees(gas_price=10**9) and fees.tx_fields() == {"gasPrice": 10**9}
    with pytest.raises(RpcError):
        suggest_fees(client(stub.url), "eip1559")


def test_legacy_mode_skips_fee_history(stub: Stub) -> None:
    stub.script = lambda p, n: ok(p, "0x5")
    assert suggest_fees(client(stub.url), "legacy") == Fees(gas_price=5)
    assert stub.methods() == ["eth_gasPrice"]


# -- nonces


def test_r156_nonce_manager_seeds_once_and_serializes(stub: Stub) -> None:
    """R156: one local counter per chain+account, seeded from the pending count."""
    stub.script = lambda p, n: ok(p, "0x7")
    c = client(stub.url)
    nm = NonceManager()
    acct = "0x" + "aa" * 20
    with nm.lock("eip155:1", acct):
        assert nm.next_nonce("eip155:1", acct, c) == 7
        nm.commit("eip155:1", acct, 7)
    with nm.lock("eip155:1", acct.upper().replace("0X", "0x")):
        assert nm.next_nonce("eip155:1", acct, c) == 8
    assert stub.methods() == ["eth_getTransactionCount"]
    assert stub.requests[0]["params"] == [acct, "pending"]
    assert nm.lock("eip155:1", acct) is nm.lock("eip155:1", acct.upper().replace("0X", "0x"))
    assert nm.lock("eip155:1", acct) is not nm.lock("eip155:10", acct)
    nm.reset("eip155:1", acct)
    assert nm.next_nonce("eip155:1", acct, c) == 7 and len(stub.requests) == 2


@pytest.mark.parametrize(
    ("chain", "ok_id"),
    [("eip155:1", 1), ("eip155:31337", 31337), ("eip155:0", None), ("eip155:01", None), ("solana:x", None), ("eip155:", None)],
)
def test_chain_id_of(chain: str, ok_id: int | None) -> None:
    if ok_id is None:
        with pytest.raises(ValueError):
            chain_id_of(chain)
    else:
        assert chain_id_of(chain) == ok_id
