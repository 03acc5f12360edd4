"""A fault-injecting JSON-RPC proxy for the test suite (loopback only).

It listens on 127.0.0.1, forwards HTTP POST JSON-RPC requests (single or batch) to an upstream node
on loopback (anvil, the Solana devserver) and, when a scripted rule matches, misbehaves instead::

    with FaultProxy(anvil_url) as proxy:
        proxy.script(
            Rule(Drop(after_forward=True), method="eth_sendRawTransaction"),      # first send only
            Rule(HttpStatus(503), method="eth_call", nth=2, times=3),             # 2nd..4th eth_call
            Rule(RpcErrorReply(-32000, "header not found"), method="eth_getTransactionReceipt"),
        )
        backend = EvmBackend({"rpc_url": proxy.url, ...})

Matching: a rule matches a request when its ``method`` is one of the request's JSON-RPC methods
(any method when ``None``) and the request is at least the ``nth`` such request seen by the proxy
(1-based, counted per method, or over all requests when ``method`` is ``None``). A matching rule
fires at most ``times`` times (``None``: every time). Rules are tried in order; the first that
fires decides. Every request is logged in :attr:`FaultProxy.log` (methods, ordinal, fault applied,
whether it reached the upstream), so a test can prove e.g. that a write reached the node once.

Faults (see docs/faults.md for what the backends do with each):

* :class:`Latency` — wait, then forward (``before``) or forward, then wait before answering.
* :class:`Drop` — close the connection without an HTTP response, before or after forwarding.
* :class:`HttpStatus` — answer 429 / 5xx / any status (optional ``Retry-After``), optionally after
  forwarding.
* :class:`Truncate` — forward, then answer with only the first bytes of the upstream body.
* :class:`Malformed` — answer with a fixed body that is not JSON-RPC (optionally after forwarding).
* :class:`RpcErrorReply` — answer with a JSON-RPC error object (``nonce too low``, ``replacement
  transaction underpriced``, ``header not found``...), before or after forwarding.
* :class:`Result` — answer with a given ``result`` without forwarding (``wrong_chain_id(1)`` is
  ``Result("0x1")`` for ``eth_chainId``).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import attrs

__all__ = [
    "Drop",
    "Fault",
    "FaultProxy",
    "HttpStatus",
    "Latency",
    "LogEntry",
    "Malformed",
    "Result",
    "RpcErrorReply",
    "Rule",
    "Truncate",
    "wrong_chain_id",
]


@attrs.frozen
class Latency:
    seconds: float
    before: bool = True
    """True: wait before forwarding (the node sees the request late); False: forward, then wait."""


@attrs.frozen
class Drop:
    after_forward: bool = False
    """False: the upstream never sees the request; True: it is executed, the answer is lost."""


@attrs.frozen
class HttpStatus:
    status: int
    retry_after: int | None = None
    forward: bool = False


@attrs.frozen
class Truncate:
    keep: int = 10
    """Bytes of the upstream body that are sent (the request *is* forwarded)."""


@attrs.frozen
class Malformed:
    body: bytes = b'{"jsonrpc": "2.0", "id": 1, "result": '
    forward: bool = False


@attrs.frozen
class RpcErrorReply:
    code: int
    message: str
    data: Any = None
    forward: bool = False


@attrs.frozen
class Result:
    result: Any


Fault = Latency | Drop | HttpStatus | Truncate | Malformed | RpcErrorReply | Result


def wrong_chain_id(chain_id: int) -> Rule:
    """A rule answering every ``eth_chainId`` with ``chain_id``."""
    return Rule(Result(hex(chain_id)), method="eth_chainId", times=None)


@attrs.define
class Rule:
    fault: Fault
    method: str | None = None
    nth: int = 1
    times: int | None = 1
    fired: int = 0


@attrs.define
class LogEntry:
    """One request, logged when it arrives; ``forwarded``/``status`` are filled in as it proceeds."""

    ordinal: int
    methods: tuple[str, ...]
    fault: str | None
    forwarded: bool = False
    status: int | None = None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _methods(body: bytes) -> tuple[str, ...]:
    try:
        doc = json.loads(body)
    except ValueError:
        return ()
    items = doc if isinstance(doc, list) else [doc]
    return tuple(str(i.get("method")) for i in items if isinstance(i, dict))


def _ids(body: bytes) -> list[Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        return [None]
    items = doc if isinstance(doc, list) else [doc]
    return [i.get("id") if isinstance(i, dict) else None for i in items]


class FaultProxy:
    """A threaded HTTP proxy on 127.0.0.1 in front of one loopback JSON-RPC endpoint."""

    def __init__(self, upstream: str, *, port: int = 0) -> None:
        u = urlsplit(upstream)
        if u.scheme != "http" or u.hostname is None or not _is_loopback(u.hostname):
            raise ValueError(f"the fault proxy only forwards to http://loopback, not {upstream!r}")
        self.upstream_host = u.hostname
        self.upstream_port = u.port or 80
        self.upstream_path = u.path or "/"
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._total = 0
        self.log: list[LogEntry] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # silence stderr
                return

            def setup(self) -> None:
                super().setup()
                # headers and body go out in separate writes: without this, delayed ACKs cost ~40 ms
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                proxy._handle(self, body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="faultproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ scripting

    def script(self, *rules: Rule) -> None:
        """Replace the rules and reset the counters and the log."""
        with self._lock:
            self._rules = list(rules)
            self._counts.clear()
            self._total = 0
            self.log = []

    def add(self, rule: Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        self.script()

    def forwarded(self, method: str) -> int:
        """How many requests carrying ``method`` reached the upstream."""
        with self._lock:
            return sum(1 for e in self.log if e.forwarded and method in e.methods)

    def seen(self, method: str) -> int:
        with self._lock:
            return sum(1 for e in self.log if method in e.methods)

    def faults(self) -> list[str]:
        with self._lock:
            return [e.fault for e in self.log if e.fault]

    # ------------------------------------------------------------------ request handling

    def _pick(self, methods: tuple[str, ...]) -> tuple[LogEntry, Rule | None]:
        with self._lock:
            self._total += 1
            for m in set(methods):
                self._counts[m] += 1
            chosen: Rule | None = None
            for rule in self._rules:
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.method is None:
                    n = self._total
                elif rule.method in methods:
                    n = self._counts[rule.method]
                else:
                    continue
                if n >= rule.nth:
                    rule.fired += 1
                    chosen = rule
                    break
            entry = LogEntry(self._total, methods, None if chosen is None else type(chosen.fault).__name__)
            self.log.append(entry)
            return entry, chosen

    def _forward(self, body: bytes) -> tuple[int, bytes, str]:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            conn.request("POST", self.upstream_path, body=body, headers={"content-type": "application/json"})
            resp = conn.getresponse()
            return resp.status, resp.read(), resp.getheader("content-type") or "application/json"
        finally:
            conn.close()

    def _handle(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        entry, rule = self._pick(_methods(body))
        f = rule.fault if rule is not None else None

        def forward() -> tuple[int, bytes, str]:
            out = self._forward(body)
            with self._lock:
                entry.forwarded = True
            return out

        try:
            if isinstance(f, Latency) and f.before:
                time.sleep(f.seconds)
            if isinstance(f, Drop):
                if f.after_forward:
                    forward()
                self._drop(h)
                return
            if isinstance(f, HttpStatus):
                if f.forward:
                    forward()
                entry.status = f.status
                extra = {"retry-after": str(f.retry_after)} if f.retry_after is not None else {}
                self._reply(h, f.status, b'{"error": "injected"}', extra)
                return
            if isinstance(f, Malformed):
                if f.forward:
                    forward()
                entry.status = 200
                self._reply(h, 200, f.body)
                return
            if isinstance(f, RpcErrorReply):
                if f.forward:
                    forward()
                err: dict[str, Any] = {"code": f.code, "message": f.message}
                if f.data is not None:
                    err["data"] = f.data
                entry.status = 200
                self._reply(h, 200, self._each(body, lambda i: {"jsonrpc": "2.0", "id": i, "error": err}))
                return
            if isinstance(f, Result):
                entry.status = 200
                self._reply(h, 200, self._each(body, lambda i: {"jsonrpc": "2.0", "id": i, "result": f.result}))
                return
            status, payload, ctype = forward()
            if isinstance(f, Latency) and not f.before:
                time.sleep(f.seconds)
            if isinstance(f, Truncate):
                payload = payload[: f.keep]
            entry.status = status
            self._reply(h, status, payload, {"content-type": ctype})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout fired during Latency)

    @staticmethod
    def _each(body: bytes, make: Any) -> bytes:
        ids = _ids(body)
        try:
            is_batch = isinstance(json.loads(body), list)
        except ValueError:
            is_batch = False
        out = [make(i) for i in ids]
        return json.dumps(out if is_batch else out[0]).encode()

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        h.send_response(status)
        hdrs = {"content-type": "application/json", **(headers or {})}
        for k, v in hdrs.items():
            h.send_header(k, v)
        h.send_header("content-length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)
        h.wfile.flush()

    @staticmethod
    def _drop(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)
