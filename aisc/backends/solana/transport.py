"""The two ways the Solana backend talks to a chain: LiteSVM in process, or JSON-RPC.

Both implement :class:`Transport`. Values crossing this boundary are plain JSON-able data (account
views, RPC-style status dicts), so the backend logic above it is shared.

JSON-RPC details: one keep-alive ``httpx.Client``; transient failures (connection errors, HTTP 429/5xx,
RPC "node is behind") are retried with exponential backoff; JSON floats are never parsed into
``float`` (they become strings, and the only float field we meet, ``uiAmount``, is dropped).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import attrs
import httpx
from solders.hash import Hash
from solders.transaction import Transaction, VersionedTransaction

from aisc.backends.base import BackendError
from aisc.backends.solana.local import LocalChain
from aisc.reprs import install_reprs

__all__ = ["AccountView", "LiteSVMTransport", "RpcTransport", "SendFailure", "Transport"]

TxLike = Transaction | VersionedTransaction


@attrs.frozen(repr=False)
class AccountView:
    lamports: int
    owner: str
    executable: bool
    rent_epoch: int
    data: bytes


@attrs.frozen(repr=False)
class SendFailure:
    """A transaction rejected before or during execution: RPC-style ``err`` plus program logs."""

    err: Any
    logs: tuple[str, ...]
    landed: bool  # True when the failed transaction is on chain (fee paid); False for preflight


class Transport(Protocol):
    name: str
    verify_cluster: bool
    """True when the backend must check :meth:`genesis_hash` against the plan's chain before use (a
    remote endpoint may serve another cluster); False for an in-process chain, which stands in for
    whichever chain the backend is configured for."""

    def genesis_hash(self) -> str:
        """The base58 genesis hash of the cluster behind this transport."""
        ...
    def latest_blockhash(self) -> tuple[Hash, int]: ...
    def is_blockhash_valid(self, blockhash: str) -> bool: ...
    def send(self, tx: TxLike, raw: bytes) -> SendFailure | None:
        """Broadcast; a :class:`SendFailure` when the chain rejected it, None when accepted."""
        ...
    def simulate(self, tx: TxLike, raw: bytes) -> SendFailure | None: ...
    def signature_statuses(self, signatures: Sequence[str], search_history: bool) -> list[dict[str, Any] | None]: ...
    def transaction_logs(self, signature: str) -> tuple[str, ...]: ...
    def get_account(self, address: str) -> AccountView | None: ...
    def get_balance(self, address: str) -> int: ...
    def get_token_account_balance(self, address: str) -> dict[str, Any]: ...
    def close(self) -> None: ...


def status_json(slot: int, err: Any) -> dict[str, Any]:
    """A ``getSignatureStatuses`` entry for a processed transaction."""
    return {
        "slot": slot,
        "confirmations": None,
        "err": err,
        "status": {"Ok": None} if err is None else {"Err": err},
        "confirmationStatus": "finalized",
    }


class LiteSVMTransport:
    """In-process LiteSVM: a send is executed synchronously and is final at once."""

    name = "litesvm"
    verify_cluster = False

    def __init__(self, chain: LocalChain | None = None) -> None:
        self.chain = chain or LocalChain()

    def genesis_hash(self) -> str:
        return self.chain.genesis_hash

    def latest_blockhash(self) -> tuple[Hash, int]:
        return self.chain.latest_blockhash()

    def is_blockhash_valid(self, blockhash: str) -> bool:
        return self.chain.is_blockhash_valid(blockhash)

    def send(self, tx: TxLike, raw: bytes) -> SendFailure | None:
        out = self.chain.send(tx)
        if out.err is None:
            return None
        return SendFailure(out.err, out.logs, landed=self.chain.status(out.signature) is not None)

    def simulate(self, tx: TxLike, raw: bytes) -> SendFailure | None:
        out = self.chain.simulate(tx)
        return None if out.err is None else SendFailure(out.err, out.logs, landed=False)

    def signature_statuses(self, signatures: Sequence[str], search_history: bool) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = []
        for sig in signatures:
            st = self.chain.status(sig)
            out.append(None if st is None else status_json(st.slot, st.err))
        return out

    def transaction_logs(self, signature: str) -> tuple[str, ...]:
        st = self.chain.status(signature)
        return () if st is None else st.logs

    def get_account(self, address: str) -> AccountView | None:
        acct = self.chain.get_account(address)
        if acct is None:
            return None
        return AccountView(acct.lamports, str(acct.owner), acct.executable, acct.rent_epoch, bytes(acct.data))

    def get_balance(self, address: str) -> int:
        return self.chain.get_balance(address)

    def get_token_account_balance(self, address: str) -> dict[str, Any]:
        try:
            return self.chain.token_balance(address)
        except ValueError as e:
            raise BackendError(str(e), category="execution_failed", details={"code": "AISC-SOLANA-014"}) from None

    def close(self) -> None:
        pass


_TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})
_TRANSIENT_RPC = frozenset({-32005, -32004, -32014})  # node behind, block not available, status not available


class RpcError(BackendError):
    """A JSON-RPC error object; ``details`` holds ``rpc_code``, ``rpc_message`` and ``rpc_data``."""


class RpcTransport:
    """A Solana cluster over JSON-RPC (HTTP POST, keep-alive)."""

    name = "rpc"
    verify_cluster = True

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        retries: int = 4,
        backoff_s: float = 0.1,
        commitment: str = "confirmed",
        skip_preflight: bool = False,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url
        self.retries = retries
        self.backoff_s = backoff_s
        self.commitment = commitment
        self.skip_preflight = skip_preflight
        self._client = client or httpx.Client(timeout=timeout_s)
        self._id = 0

    # -- plumbing -----------------------------------------------------------------------------

    def call(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC call with retries on transient failures; raises :class:`RpcError`."""
        attempt = 0
        while True:
            self._id += 1
            payload = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}
            try:
                resp = self._client.post(self.url, json=payload)
                if resp.status_code in _TRANSIENT_HTTP:
                    raise _Transient(f"HTTP {resp.status_code}")
                if resp.status_code != 200:
                    raise RpcError(
                        f"{method}: HTTP {resp.status_code} from {self.url}",
                        category="rpc_unavailable",
                        details={"http_status": resp.status_code},
                    )
                body = json.loads(resp.content, parse_float=str)
            except (httpx.TransportError, _Transient) as e:
                attempt += 1
                if attempt > self.retries:
                    raise RpcError(
                        f"{method}: RPC endpoint {self.url} unavailable after {attempt} attempts ({e})",
                        category="rpc_unavailable",
                        retryable=True,
                    ) from None
                time.sleep(self.backoff_s * (2 ** (attempt - 1)))
                continue
            except json.JSONDecodeError:
                raise RpcError(f"{method}: response is not JSON", category="rpc_unavailable") from None
            if not isinstance(body, Mapping):
                raise RpcError(f"{method}: malformed JSON-RPC response", category="rpc_unavailable")
            err = body.get("error")
            if err is not None:
                code = err.get("code") if isinstance(err, Mapping) else None
                msg = err.get("message") if isinstance(err, Mapping) else str(err)
                if code in _TRANSIENT_RPC and attempt < self.retries:
                    attempt += 1
                    time.sleep(self.backoff_s * (2 ** (attempt - 1)))
                    continue
                raise RpcError(
                    f"{method}: RPC error {code}: {msg}",
                    category="execution_failed",
                    details={"rpc_code": code, "rpc_message": msg, "rpc_data": err.get("data") if isinstance(err, Mapping) else None},
                )
            return body.get("result")

    # -- Transport ----------------------------------------------------------------------------

    def genesis_hash(self) -> str:
        res = self.call("getGenesisHash", [])
        if not isinstance(res, str) or not res:
            raise RpcError(f"getGenesisHash: expected a base58 hash, got {str(res)[:80]!r}", category="rpc_unavailable")
        return res

    def latest_blockhash(self) -> tuple[Hash, int]:
        res = self.call("getLatestBlockhash", [{"commitment": self.commitment}])
        value = res["value"]
        return Hash.from_string(value["blockhash"]), int(value["lastValidBlockHeight"])

    def is_blockhash_valid(self, blockhash: str) -> bool:
        res = self.call("isBlockhashValid", [blockhash, {"commitment": self.commitment}])
        return bool(res["value"])

    def _send_or_simulate(self, method: str, raw: bytes, extra: Mapping[str, Any]) -> Any:
        opts = {"encoding": "base64", **extra}
        return self.call(method, [base64.b64encode(raw).decode("ascii"), opts])

    def send(self, tx: TxLike, raw: bytes) -> SendFailure | None:
        try:
            self._send_or_simulate(
                "sendTransaction",
                raw,
                {"skipPreflight": self.skip_preflight, "preflightCommitment": self.commitment, "maxRetries": 0},
            )
        except RpcError as e:
            data = e.details.get("rpc_data")
            if e.details.get("rpc_code") == -32002 and isinstance(data, Mapping):  # preflight failure
                return SendFailure(data.get("err"), tuple(data.get("logs") or ()), landed=False)
            raise
        return None

    def simulate(self, tx: TxLike, raw: bytes) -> SendFailure | None:
        res = self._send_or_simulate("simulateTransaction", raw, {"commitment": self.commitment, "sigVerify": False})
        value = res["value"]
        if value.get("err") is None:
            return None
        return SendFailure(value["err"], tuple(value.get("logs") or ()), landed=False)

    def signature_statuses(self, signatures: Sequence[str], search_history: bool) -> list[dict[str, Any] | None]:
        res = self.call("getSignatureStatuses", [list(signatures), {"searchTransactionHistory": search_history}])
        return list(res["value"])

    def transaction_logs(self, signature: str) -> tuple[str, ...]:
        res = self.call(
            "getTransaction",
            [signature, {"encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0}],
        )
        if not isinstance(res, Mapping):
            return ()
        return tuple((res.get("meta") or {}).get("logMessages") or ())

    def get_account(self, address: str) -> AccountView | None:
        res = self.call("getAccountInfo", [address, {"encoding": "base64", "commitment": self.commitment}])
        value = res["value"]
        if value is None:
            return None
        data = base64.b64decode(value["data"][0])
        return AccountView(
            int(value["lamports"]), str(value["owner"]), bool(value["executable"]), int(value["rentEpoch"]), data
        )

    def get_balance(self, address: str) -> int:
        res = self.call("getBalance", [address, {"commitment": self.commitment}])
        return int(res["value"])

    def get_token_account_balance(self, address: str) -> dict[str, Any]:
        res = self.call("getTokenAccountBalance", [address, {"commitment": self.commitment}])
        v = res["value"]
        return {"amount": str(v["amount"]), "decimals": int(v["decimals"]), "uiAmountString": str(v["uiAmountString"])}

    def close(self) -> None:
        self._client.close()


class _Transient(Exception):
    pass


install_reprs(__name__)
