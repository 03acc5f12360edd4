"""Ethereum JSON-RPC over HTTP: retries, batching, fees, nonces, chain-id check.

:class:`RpcClient` keeps one ``httpx.Client`` (HTTP keep-alive, connection pool) per endpoint and
is safe to share between threads.

Retry policy
    Transient failures are retried with exponential backoff and full jitter
    (``delay = uniform(0, min(backoff_max, backoff_base * 2**attempt))``, at least ``Retry-After``
    when a 429 carries one), at most ``max_retries`` times and never past ``retry_budget_s``
    seconds in total for one logical call. Transient means: the connection could not be opened or
    broke, the request timed out, HTTP 429 or 5xx, or a JSON-RPC error saying the node does not yet
    know the requested block (``header not found``) or is rate limiting.

Writes are never retried blindly
    ``eth_sendRawTransaction`` goes through :meth:`RpcClient.send_raw_transaction`. If the request
    may have reached the node (anything other than a refused connection), the client first asks
    ``eth_getTransactionByHash`` for the hash of the signed bytes: known → the send worked; unknown →
    re-sending the *same signed bytes* is safe, because they carry the same nonce and hash and can be
    included at most once. Replies "already known" / "known transaction" count as success. If such a
    re-send is refused (typically "nonce too low": the first attempt was only delayed, and was mined
    in between), the hash is looked up once more before the refusal is reported.
    ``eth_sendTransaction`` (node-side signing) is never retried after the request may have left.

Fees
    :func:`suggest_fees` prefers EIP-1559 (``eth_feeHistory`` for the next base fee and
    ``eth_maxPriorityFeePerGas`` for the tip; ``maxFeePerGas = 2 * baseFee + tip``) and falls back
    to legacy ``eth_gasPrice`` when the node has no fee market.

Nonces (R156)
    :class:`NonceManager` keeps one local counter per (chain, account), seeded from
    ``eth_getTransactionCount(account, "pending")``, and one lock per (chain, account) that the
    backend holds from nonce assignment to the end of the broadcast, so writes from one account on
    one chain are serialized. After a definite rejection the counter is dropped and re-seeded.
"""

from __future__ import annotations

import decimal
import itertools
import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import httpx

from aisc.reprs import install_reprs

__all__ = [
    "Fees",
    "NonceManager",
    "RpcClient",
    "RpcError",
    "RpcUnavailable",
    "chain_id_of",
    "hex_quantity",
    "parse_quantity",
    "suggest_fees",
]

TRANSIENT_RPC_MESSAGES = ("header not found", "rate limit", "too many requests", "request limit")
ALREADY_KNOWN_MESSAGES = ("already known", "known transaction", "already imported")
METHOD_NOT_FOUND = -32601


class RpcError(Exception):
    """The node answered with a JSON-RPC error object."""

    def __init__(self, method: str, code: int | None, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: JSON-RPC error {code}: {message}")
        self.method = method
        self.code = code
        self.message = message
        self.data = data

    @property
    def transient(self) -> bool:
        low = self.message.lower()
        return any(m in low for m in TRANSIENT_RPC_MESSAGES)


class RpcUnavailable(Exception):
    """The endpoint could not be reached or kept failing after the retry budget.

    ``maybe_delivered`` is true when a non-idempotent request may have reached the node.
    """

    def __init__(self, message: str, *, maybe_delivered: bool = False) -> None:
        super().__init__(message)
        self.maybe_delivered = maybe_delivered


class _Transient(Exception):
    def __init__(self, message: str, *, retry_after: float | None = None, delivered: bool = True) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.delivered = delivered


def _no_float(s: str) -> decimal.Decimal:
    # JSON-RPC quantities are hex strings; the only JSON numbers with fractions are ratios such as
    # eth_feeHistory.gasUsedRatio. Keep them exact and out of any value path.
    return decimal.Decimal(s)


def hex_quantity(n: int) -> str:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"not a non-negative integer: {n!r}")
    return hex(n)


def parse_quantity(v: Any, what: str = "quantity") -> int:
    """A JSON-RPC hex quantity (``0x1a``) → int."""
    if isinstance(v, str) and v[:2] in ("0x", "0X"):
        try:
            return int(v, 16) if len(v) > 2 else 0
        except ValueError:
            pass
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    raise RpcError(what, None, f"expected a hex quantity, got {v!r}")


def chain_id_of(chain: str) -> int:
    """``eip155:<id>`` → id (positive int); ValueError otherwise."""
    ns, _, ref = chain.partition(":")
    if ns != "eip155" or not ref.isdigit() or int(ref) <= 0 or ref != str(int(ref)):
        raise ValueError(f"chain must be eip155:<positive integer>, got {chain!r}")
    return int(ref)


class RpcClient:
    """JSON-RPC 2.0 over HTTP with keep-alive, batching and bounded retries."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        max_retries: int = 4,
        backoff_base_s: float = 0.05,
        backoff_max_s: float = 2.0,
        retry_budget_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.retry_budget_s = retry_budget_s
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._ids = itertools.count(1)
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            headers={"content-type": "application/json", "accept": "application/json"},
            transport=transport,
        )
        self.requests_sent = 0
        """HTTP requests sent, retries included (for tests and benchmarks)."""

    def __repr__(self) -> str:
        return f"RpcClient({self.url!r})"

    def close(self) -> None:
        self._client.close()

    # -- transport ----------------------------------------------------------------------------

    def _post_once(self, body: bytes) -> Any:
        self.requests_sent += 1
        try:
            resp = self._client.post(self.url, content=body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            raise _Transient(f"cannot connect to {self.url}: {type(e).__name__}", delivered=False)
        except httpx.TransportError as e:
            raise _Transient(f"request to {self.url} failed: {type(e).__name__}: {e}")
        if resp.status_code == 429 or resp.status_code >= 500:
            retry_after: float | None = None
            ra = resp.headers.get("retry-after")
            if ra and ra.strip().isdigit():
                retry_after = float(int(ra.strip()))
            raise _Transient(f"HTTP {resp.status_code} from {self.url}", retry_after=retry_after)
        if resp.status_code != 200:
            raise RpcUnavailable(f"HTTP {resp.status_code} from {self.url}")
        try:
            return json.loads(resp.content, parse_float=_no_float)
        except ValueError:
            raise _Transient(f"invalid JSON from {self.url}")

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        cap = min(self.backoff_max_s, self.backoff_base_s * (2**attempt))
        delay = self._rng.uniform(0, cap)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max_s * 4))
        return delay

    def _post(self, payload: Any, *, idempotent: bool, check: Callable[[Any], None] | None = None) -> Any:
        """POST ``payload``; retry transient failures. ``check`` may raise _Transient on the reply."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        start = time.monotonic()
        attempt = 0
        while True:
            try:
                reply = self._post_once(body)
                if check is not None:
                    check(reply)
                return reply
            except _Transient as e:
                if not idempotent and e.delivered:
                    raise RpcUnavailable(str(e), maybe_delivered=True)
                delay = self._backoff(attempt, e.retry_after)
                attempt += 1
                if attempt > self.max_retries or time.monotonic() - start + delay > self.retry_budget_s:
                    raise RpcUnavailable(
                        f"{e} (gave up after {attempt} attempt{'s' if attempt > 1 else ''})",
                        maybe_delivered=not idempotent and e.delivered,
                    )
                self._sleep(delay)

    # -- calls --------------------------------------------------------------------------------

    @staticmethod
    def _result(method: str, reply: Any) -> Any:
        if not isinstance(reply, Mapping):
            raise RpcError(method, None, f"malformed JSON-RPC reply: {str(reply)[:200]}")
        err = reply.get("error")
        if err is not None:
            if isinstance(err, Mapping):
                code = err.get("code")
                raise RpcError(
                    method,
                    code if isinstance(code, int) and not isinstance(code, bool) else None,
                    str(err.get("message", "")),
                    err.get("data"),
                )
            raise RpcError(method, None, str(err))
        if "result" not in reply:
            raise RpcError(method, None, "JSON-RPC reply has neither result nor error")
        return reply["result"]

    def call(self, method: str, params: Sequence[Any] = (), *, idempotent: bool = True) -> Any:
        """One JSON-RPC call; returns ``result`` or raises RpcError / RpcUnavailable."""
        payload = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}

        def check(reply: Any) -> None:
            if isinstance(reply, Mapping) and isinstance(reply.get("error"), Mapping):
                e = reply["error"]
                if any(m in str(e.get("message", "")).lower() for m in TRANSIENT_RPC_MESSAGES):
                    raise _Transient(f"{method}: {e.get('message')}")

        reply = self._post(payload, idempotent=idempotent, check=check if idempotent else None)
        return self._result(method, reply)

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """A JSON-RPC batch of idempotent calls. Each item is its result or an :class:`RpcError`."""
        if not calls:
            return []
        ids = [next(self._ids) for _ in calls]
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)} for i, (m, p) in zip(ids, calls, strict=True)
        ]

        def check(reply: Any) -> None:
            if isinstance(reply, Mapping):  # a single error object for the whole batch
                msg = str((reply.get("error") or {}).get("message", "")) if isinstance(reply.get("error"), Mapping) else ""
                if any(m in msg.lower() for m in TRANSIENT_RPC_MESSAGES):
                    raise _Transient(f"batch: {msg}")
                return
            for item in reply if isinstance(reply, list) else []:
                e = item.get("error") if isinstance(item, Mapping) else None
                if isinstance(e, Mapping) and any(
                    m in str(e.get("message", "")).lower() for m in TRANSIENT_RPC_MESSAGES
                ):
                    raise _Transient(f"batch item: {e.get('message')}")

        reply = self._post(payload, idempotent=True, check=check)
        if not isinstance(reply, list):
            # Some nodes answer a whole batch with one error object.
            err = self._result("batch", reply)
            raise RpcError("batch", None, f"batch not supported: {err!r}")
        by_id = {item.get("id"): item for item in reply if isinstance(item, Mapping)}
        out: list[Any] = []
        for i, (m, _) in zip(ids, calls, strict=True):
            item = by_id.get(i)
            if item is None:
                out.append(RpcError(m, None, "missing from the batch reply"))
                continue
            try:
                out.append(self._result(m, item))
            except RpcError as e:
                out.append(e)
        return out

    def send_raw_transaction(self, raw_hex: str, tx_hash: str) -> str:
        """Broadcast signed bytes whose hash is ``tx_hash``; see the module docstring for retries."""
        sends = 0
        maybe_sent = False  # an earlier attempt may have reached the node (and may still be on its way)
        while True:
            sends += 1
            try:
                result = self.call("eth_sendRawTransaction", [raw_hex], idempotent=False)
                return str(result)
            except RpcError as e:
                if any(m in e.message.lower() for m in ALREADY_KNOWN_MESSAGES):
                    return tx_hash
                if maybe_sent:
                    # The re-send was refused ("nonce too low", ...), possibly because the earlier,
                    # delayed attempt arrived and was mined in between: ask before calling it a failure.
                    try:
                        known = self.call("eth_getTransactionByHash", [tx_hash])
                    except (RpcError, RpcUnavailable):
                        raise RpcUnavailable(
                            f"re-broadcast of {tx_hash} was refused ({e.message}) and the node cannot say "
                            "whether the first broadcast landed",
                            maybe_delivered=True,
                        ) from None
                    if known is not None:
                        return tx_hash
                raise
            except RpcUnavailable as e:
                if not e.maybe_delivered:
                    raise
                # The node may have the transaction: look before re-sending the same bytes.
                try:
                    known = self.call("eth_getTransactionByHash", [tx_hash])
                except (RpcError, RpcUnavailable):
                    raise RpcUnavailable(
                        f"broadcast of {tx_hash} may or may not have reached the node: {e}", maybe_delivered=True
                    )
                if known is not None:
                    return tx_hash
                maybe_sent = True
                if sends > self.max_retries:
                    raise RpcUnavailable(
                        f"broadcast of {tx_hash} failed {sends} times and the node does not know it: {e}",
                        maybe_delivered=True,
                    )
                self._sleep(self._backoff(sends - 1, None))


# ---------------------------------------------------------------------------------------------
# Fees


@attrs.frozen(repr=False)
class Fees:
    """Either EIP-1559 (max_fee + max_priority_fee) or legacy (gas_price)."""

    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    gas_price: int | None = None

    @property
    def eip1559(self) -> bool:
        return self.max_fee_per_gas is not None

    def tx_fields(self) -> dict[str, int]:
        if self.eip1559:
            assert self.max_fee_per_gas is not None and self.max_priority_fee_per_gas is not None
            return {"maxFeePerGas": self.max_fee_per_gas, "maxPriorityFeePerGas": self.max_priority_fee_per_gas}
        assert self.gas_price is not None
        return {"gasPrice": self.gas_price}


DEFAULT_PRIORITY_FEE = 1_500_000_000  # 1.5 gwei, the usual wallet default when the node has no opinion
FEE_CALLS: tuple[tuple[str, list[Any]], ...] = (
    ("eth_feeHistory", ["0x1", "latest", []]),
    ("eth_maxPriorityFeePerGas", []),
)


def fees_from_replies(fee_history: Any, priority: Any) -> Fees | None:
    """EIP-1559 fees from replies to :data:`FEE_CALLS`, or None when the node has no fee market."""
    if isinstance(fee_history, RpcError) or not isinstance(fee_history, Mapping):
        return None
    base_fees = fee_history.get("baseFeePerGas") or []
    if not base_fees:
        return None
    base = parse_quantity(base_fees[-1], "baseFeePerGas")  # the last entry is the next block's base fee
    tip = DEFAULT_PRIORITY_FEE if isinstance(priority, RpcError) else parse_quantity(priority, "priority fee")
    return Fees(max_fee_per_gas=2 * base + tip, max_priority_fee_per_gas=tip)


def suggest_fees(client: RpcClient, mode: str = "auto") -> Fees:
    """Fees for the next transaction. ``mode``: ``auto`` | ``eip1559`` | ``legacy``."""
    if mode != "legacy":
        history, priority = client.batch(FEE_CALLS)
        fees = fees_from_replies(history, priority)
        if fees is not None:
            return fees
        if mode == "eip1559":
            raise RpcError("eth_feeHistory", None, "the node reports no EIP-1559 base fee")
    return Fees(gas_price=parse_quantity(client.call("eth_gasPrice"), "gasPrice"))


# ---------------------------------------------------------------------------------------------
# Nonces


class NonceManager:
    """Local nonce counters per (chain, account), with one lock per pair (R156)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._next: dict[tuple[str, str], int] = {}

    def lock(self, chain: str, account: str) -> threading.Lock:
        key = (chain, account.lower())
        with self._guard:
            lk = self._locks.get(key)
            if lk is None:
                lk = self._locks[key] = threading.Lock()
            return lk

    def next_nonce(self, chain: str, account: str, client: RpcClient) -> int:
        """The nonce to use now. Call with :meth:`lock` held; :meth:`commit` after the broadcast."""
        key = (chain, account.lower())
        n = self._next.get(key)
        if n is None:
            n = parse_quantity(client.call("eth_getTransactionCount", [account, "pending"]), "nonce")
            self._next[key] = n
        return n

    def commit(self, chain: str, account: str, used: int) -> None:
        self._next[(chain, account.lower())] = used + 1

    def reset(self, chain: str, account: str) -> None:
        """Forget the counter (after a rejected or ambiguous broadcast); the next write re-seeds it."""
        self._next.pop((chain, account.lower()), None)


install_reprs(__name__)
