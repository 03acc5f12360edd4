"""A small Solana JSON-RPC server on 127.0.0.1 backed by a :class:`LocalChain` (tests and demos).

No validator can be installed in CI, so the ``rpc`` transport is exercised against this server.
It speaks HTTP POST JSON-RPC 2.0 (single and batch requests) and implements the methods the backend
and common tools use: ``getLatestBlockhash``, ``isBlockhashValid``, ``sendTransaction`` (preflight
simulation unless ``skipPreflight``; failure → error -32002 with ``data.err`` and ``data.logs``),
``simulateTransaction``, ``getSignatureStatuses``, ``getTransaction`` (meta only),
``getBalance``, ``getTokenAccountBalance``, ``getAccountInfo`` (base64), ``requestAirdrop``,
``getMinimumBalanceForRentExemption``, ``getSlot``, ``getBlockHeight``, ``getVersion``,
``getHealth``, ``getGenesisHash``.

Cluster identity: ``getGenesisHash`` answers the chain's ``genesis_hash``, by default
:data:`aisc.backends.solana.local.LOCAL_GENESIS_HASH` (``5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpLiteSVMLocaL``):
its CAIP-2 reference is mainnet-beta's, ``solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp``, so the server
stands in for the chain the examples name. ``DevServer(LocalChain(genesis_hash=...))`` makes it
stand in for another cluster.

Usage::

    with DevServer() as server:          # or server.start() / server.stop()
        url = server.url                 # http://127.0.0.1:<free port>
        server.chain.mint_to(...)        # direct state writes, e.g. a test relayer crediting tokens

Fault injection for transport tests: :meth:`DevServer.fail_next` answers the next *n* requests with
an HTTP error; ``confirm_after_polls`` makes each signature report ``processed`` for that many status
queries before ``finalized``.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from solders.transaction import VersionedTransaction

from aisc.addresses import AddressError, b58decode, parse_pubkey
from aisc.backends.solana.local import LocalChain
from aisc.backends.solana.transport import status_json

__all__ = ["DevServer"]


class _RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def _ctx(chain: LocalChain, value: Any) -> dict[str, Any]:
    return {"context": {"slot": chain.slot, "apiVersion": "2.2.0"}, "value": value}


def _pubkey_param(params: list[Any], i: int = 0) -> str:
    if len(params) <= i or not isinstance(params[i], str):
        raise _RpcError(-32602, f"Invalid params: expected a base58 pubkey at position {i}")
    try:
        return str(parse_pubkey(params[i]))
    except AddressError as e:
        raise _RpcError(-32602, f"Invalid param: {e}") from None


def _opts(params: list[Any], i: int) -> dict[str, Any]:
    return params[i] if len(params) > i and isinstance(params[i], dict) else {}


class DevServer:
    """A threaded JSON-RPC server over a LiteSVM :class:`LocalChain`."""

    def __init__(self, chain: LocalChain | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.chain = chain or LocalChain()
        self._host = host
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._fail_left = 0
        self._fail_status = 503
        self.confirm_after_polls = 0
        self._polls: dict[str, int] = {}
        self.requests: list[str] = []  # method names, in arrival order
        self._methods: dict[str, Callable[[list[Any]], Any]] = {
            "getLatestBlockhash": self._latest_blockhash,
            "isBlockhashValid": self._is_blockhash_valid,
            "sendTransaction": self._send_transaction,
            "simulateTransaction": self._simulate_transaction,
            "getSignatureStatuses": self._signature_statuses,
            "getTransaction": self._get_transaction,
            "getBalance": lambda p: _ctx(self.chain, self.chain.get_balance(_pubkey_param(p))),
            "getTokenAccountBalance": self._token_balance,
            "getAccountInfo": self._account_info,
            "requestAirdrop": self._request_airdrop,
            "getMinimumBalanceForRentExemption": self._rent,
            "getSlot": lambda p: self.chain.slot,
            "getBlockHeight": lambda p: self.chain.block_height,
            "getVersion": lambda p: {"solana-core": "2.2.0-litesvm", "feature-set": 0},
            "getHealth": lambda p: "ok",
            "getGenesisHash": lambda p: self.chain.genesis_hash,
        }

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> str:
        if self._httpd is not None:
            return self.url
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # one small response per request: avoid the 40 ms delayed-ACK stall

            def log_message(self, format: str, *args: Any) -> None:  # silence stderr access logs
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, payload = server._handle(body)
                out = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self._httpd = ThreadingHTTPServer((self._host, self._port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="solana-devserver", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> DevServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("DevServer is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def fail_next(self, n: int, *, status: int = 503) -> None:
        """Answer the next ``n`` requests with HTTP ``status`` (transient-failure injection)."""
        with self._lock:
            self._fail_left = n
            self._fail_status = status

    # -- dispatch -----------------------------------------------------------------------------

    def _handle(self, body: bytes) -> tuple[int, Any]:
        with self._lock:
            if self._fail_left > 0:
                self._fail_left -= 1
                return self._fail_status, {"error": "injected failure"}
        try:
            req = json.loads(body)
        except json.JSONDecodeError:
            return 200, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
        if isinstance(req, list):
            return 200, [self._one(r) for r in req]
        return 200, self._one(req)

    def _one(self, req: Any) -> dict[str, Any]:
        rid = req.get("id") if isinstance(req, dict) else None
        if not isinstance(req, dict) or not isinstance(req.get("method"), str):
            return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32600, "message": "Invalid request"}}
        method = req["method"]
        params = req.get("params") or []
        with self._lock:
            self.requests.append(method)
        fn = self._methods.get(method)
        if fn is None:
            return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}}
        try:
            return {"jsonrpc": "2.0", "id": rid, "result": fn(list(params))}
        except _RpcError as e:
            err: dict[str, Any] = {"code": e.code, "message": e.message}
            if e.data is not None:
                err["data"] = e.data
            return {"jsonrpc": "2.0", "id": rid, "error": err}
        except Exception as e:  # a bug or a LiteSVM refusal must not kill the handler thread
            return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32603, "message": f"Internal error: {e}"}}

    # -- methods ------------------------------------------------------------------------------

    def _latest_blockhash(self, params: list[Any]) -> Any:
        h, last_valid = self.chain.latest_blockhash()
        return _ctx(self.chain, {"blockhash": str(h), "lastValidBlockHeight": last_valid})

    def _is_blockhash_valid(self, params: list[Any]) -> Any:
        if not params or not isinstance(params[0], str):
            raise _RpcError(-32602, "Invalid params: expected a blockhash")
        return _ctx(self.chain, self.chain.is_blockhash_valid(params[0]))

    def _decode_tx(self, params: list[Any]) -> VersionedTransaction:
        if not params or not isinstance(params[0], str):
            raise _RpcError(-32602, "Invalid params: expected an encoded transaction")
        encoding = _opts(params, 1).get("encoding", "base58")
        try:
            raw = base64.b64decode(params[0], validate=True) if encoding == "base64" else b58decode(params[0])
            return VersionedTransaction.from_bytes(raw)
        except Exception:
            raise _RpcError(-32602, f"invalid transaction: failed to decode {encoding} transaction") from None

    def _send_transaction(self, params: list[Any]) -> Any:
        tx = self._decode_tx(params)
        opts = _opts(params, 1)
        if not opts.get("skipPreflight", False):
            sim = self.chain.simulate(tx)
            if sim.err is not None:
                if sim.err == "AlreadyProcessed" or self.chain.status(sim.signature) is not None:
                    return sim.signature
                raise _RpcError(
                    -32002,
                    f"Transaction simulation failed: {json.dumps(sim.err)}",
                    {"err": sim.err, "logs": list(sim.logs), "accounts": None, "unitsConsumed": sim.compute_units},
                )
        return self.chain.send(tx).signature

    def _simulate_transaction(self, params: list[Any]) -> Any:
        sim = self.chain.simulate(self._decode_tx(params))
        return _ctx(self.chain, {"err": sim.err, "logs": list(sim.logs), "accounts": None, "unitsConsumed": sim.compute_units})

    def _signature_statuses(self, params: list[Any]) -> Any:
        if not params or not isinstance(params[0], list):
            raise _RpcError(-32602, "Invalid params: expected a list of signatures")
        out: list[Any] = []
        for sig in params[0]:
            st = self.chain.status(str(sig))
            if st is None:
                out.append(None)
                continue
            entry = status_json(st.slot, st.err)
            with self._lock:
                seen = self._polls.get(str(sig), 0)
                self._polls[str(sig)] = seen + 1
            if seen < self.confirm_after_polls:
                entry["confirmationStatus"] = "processed"
                entry["confirmations"] = 0
            out.append(entry)
        return _ctx(self.chain, out)

    def _get_transaction(self, params: list[Any]) -> Any:
        if not params or not isinstance(params[0], str):
            raise _RpcError(-32602, "Invalid params: expected a signature")
        st = self.chain.status(params[0])
        if st is None:
            return None
        return {
            "slot": st.slot,
            "meta": {"err": st.err, "logMessages": list(st.logs), "computeUnitsConsumed": st.compute_units},
        }

    def _token_balance(self, params: list[Any]) -> Any:
        address = _pubkey_param(params)
        try:
            bal = self.chain.token_balance(address)
        except ValueError as e:
            raise _RpcError(-32602, f"Invalid param: {e}") from None
        # The real RPC also returns uiAmount as a float; this server leaves it out on purpose.
        return _ctx(self.chain, bal)

    def _account_info(self, params: list[Any]) -> Any:
        acct = self.chain.get_account(_pubkey_param(params))
        if acct is None:
            return _ctx(self.chain, None)
        return _ctx(
            self.chain,
            {
                "lamports": acct.lamports,
                "owner": str(acct.owner),
                "executable": acct.executable,
                "rentEpoch": acct.rent_epoch,
                "data": [base64.b64encode(bytes(acct.data)).decode("ascii"), "base64"],
                "space": len(acct.data),
            },
        )

    def _request_airdrop(self, params: list[Any]) -> Any:
        address = _pubkey_param(params)
        if len(params) < 2 or type(params[1]) is not int or params[1] <= 0:
            raise _RpcError(-32602, "Invalid params: lamports must be a positive integer")
        return self.chain.airdrop_tx(address, params[1])

    def _rent(self, params: list[Any]) -> Any:
        if not params or type(params[0]) is not int or params[0] < 0:
            raise _RpcError(-32602, "Invalid params: expected a data length")
        return self.chain.minimum_balance_for_rent_exemption(params[0])
