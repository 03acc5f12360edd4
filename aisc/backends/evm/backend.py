"""EvmBackend: executes evm_read / evm_call / evm_multiread / evm_multicall / evm_rpc over JSON-RPC.

One backend instance serves one chain (``eip155:<id>``) through one RPC endpoint::

    EvmBackend({"chain": "eip155:31337", "rpc_url": "http://127.0.0.1:8545",
                "signer": {"type": "env", "var": "AISC_EVM_KEY"}})

Optional config keys (defaults in brackets): ``rpc_timeout_ms`` [10000], ``max_retries`` [4],
``retry_budget_ms`` [30000], ``receipt_timeout_ms`` [120000], ``receipt_poll_max_ms`` [1000],
``fee_mode`` (auto | eip1559 | legacy) [auto], ``gas_margin_pct`` [20],
``multicall3_address`` [0xcA11bde05977b3631167028862bE2a173976CA11].

Write path (evm_call, evm_multicall): evaluate and encode → (``simulate``: eth_call) + eth_estimateGas
+ fee queries in one JSON-RPC batch → under the (chain, account) lock: nonce, sign,
``record_intent`` (hash, nonce, raw bytes), eth_sendRawTransaction → release the lock → poll the
receipt. A receipt with status 0 is a failure whose revert reason comes from replaying the call
with eth_call at the receipt's block.

Router batching (evm_multicall) uses the Uniswap-periphery router ABI:
``multicall(uint256 deadline, bytes[] data)`` (selector 0x5ae401dc) when ``deadline`` is given,
``multicall(bytes[] data)`` (0xac9650d8) otherwise. Calls whose ``condition`` is false are left out;
if none is left, nothing is sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from aisc.backends.base import BackendError, ExecResult, NodeCall, TxIntent
from aisc.backends.evm import abi as abi_mod
from aisc.backends.evm.abi import AbiError
from aisc.backends.evm.errors import decode_known_error
from aisc.backends.evm.rpc import (
    FEE_CALLS,
    Fees,
    NonceManager,
    RpcClient,
    RpcError,
    RpcUnavailable,
    chain_id_of,
    fees_from_replies,
    hex_quantity,
    parse_quantity,
)
from aisc.backends.evm.signers import SignerUnavailable, UnlockedSigner, load_signer

__all__ = ["EVM_EXECUTION_TYPES", "EVM_RPC_ALLOWLIST", "EvmBackend", "decode_revert"]

EVM_EXECUTION_TYPES = frozenset({"evm_read", "evm_call", "evm_multiread", "evm_multicall", "evm_rpc"})
EVM_RPC_ALLOWLIST = frozenset(
    {
        "eth_getBalance",
        "eth_blockNumber",
        "eth_getTransactionCount",
        "eth_chainId",
        "eth_call",
        "eth_getCode",
        "eth_getStorageAt",
    }
)
DEFAULT_MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"

AGGREGATE3_ABI: dict[str, Any] = {
    "type": "function",
    "name": "aggregate3",
    "inputs": [
        {
            "name": "calls",
            "type": "tuple[]",
            "components": [
                {"name": "target", "type": "address"},
                {"name": "allowFailure", "type": "bool"},
                {"name": "callData", "type": "bytes"},
            ],
        }
    ],
    "outputs": [
        {
            "name": "returnData",
            "type": "tuple[]",
            "components": [{"name": "success", "type": "bool"}, {"name": "returnData", "type": "bytes"}],
        }
    ],
}
ROUTER_MULTICALL_DEADLINE_ABI: dict[str, Any] = {
    "type": "function",
    "name": "multicall",
    "inputs": [{"name": "deadline", "type": "uint256"}, {"name": "data", "type": "bytes[]"}],
    "outputs": [{"name": "results", "type": "bytes[]"}],
}
ROUTER_MULTICALL_ABI: dict[str, Any] = {
    "type": "function",
    "name": "multicall",
    "inputs": [{"name": "data", "type": "bytes[]"}],
    "outputs": [{"name": "results", "type": "bytes[]"}],
}

_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
_PANIC_CODES = {
    0x00: "generic compiler panic",
    0x01: "assert(false)",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "corrupt storage byte array",
    0x31: "pop() on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialized function pointer",
}


# ---------------------------------------------------------------------------------------------
# Revert decoding


def decode_revert(data: bytes) -> dict[str, Any]:
    """``{reason, kind, data, selector?, panic_code?, name?, args?}`` for revert data (Error / Panic /
    custom; a custom error of :data:`aisc.backends.evm.errors.KNOWN_ERRORS` with its name and
    arguments)."""
    out: dict[str, Any] = {"data": "0x" + data.hex()}
    if not data:
        out.update(kind="empty", reason="execution reverted without a reason")
        return out
    sel = data[:4]
    out["selector"] = "0x" + sel.hex()
    if sel == _ERROR_SELECTOR:
        try:
            (msg,) = abi_mod.decode_values(
                (abi_mod.parse_function({"type": "function", "name": "Error", "inputs": [], "outputs": [{"name": "m", "type": "string"}]}).outputs),
                data[4:],
            )
            out.update(kind="error", reason=str(msg))
            return out
        except AbiError:
            pass
    elif sel == _PANIC_SELECTOR and len(data) == 36:
        code = int.from_bytes(data[4:], "big")
        out.update(
            kind="panic", panic_code=code, reason=f"panic 0x{code:02x} ({_PANIC_CODES.get(code, 'unknown panic code')})"
        )
        return out
    known = decode_known_error(data)
    if known is not None:
        name, args = known
        shown = ", ".join(f"{k}={v}" for k, v in args.items())
        out.update(kind="custom", reason=f"{name}({shown})", name=name, args=args)
        return out
    out.update(kind="custom", reason=f"custom error 0x{sel.hex()}")
    return out


def _revert_bytes(err: RpcError) -> bytes | None:
    """Revert data from a JSON-RPC error (``data`` as hex, or nested ``{data: hex}``)."""
    d: Any = err.data
    for _ in range(3):
        if isinstance(d, Mapping):
            d = d.get("data")
            continue
        break
    if isinstance(d, str) and d.startswith("0x") and len(d) % 2 == 0:
        try:
            return bytes.fromhex(d[2:])
        except ValueError:
            return None
    if "revert" in err.message.lower():
        return b""
    return None


def _revert_details(err: RpcError) -> dict[str, Any] | None:
    data = _revert_bytes(err)
    if data is None:
        return None
    info = decode_revert(data)
    if info["kind"] == "empty":
        # Some nodes put the reason only in the message ("execution reverted: <reason>").
        msg = err.message
        if ":" in msg and "revert" in msg.lower():
            info["reason"] = msg.split(":", 1)[1].strip() or info["reason"]
    return info


# ---------------------------------------------------------------------------------------------
# Helpers


def _to_jsonable_preview(v: Any) -> Any:
    """Preview args: ints as decimal strings (bools stay bools), bytes as 0x hex."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, bytes | bytearray):
        return "0x" + bytes(v).hex()
    if isinstance(v, Mapping):
        return {str(k): _to_jsonable_preview(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_to_jsonable_preview(x) for x in v]
    return str(v)


def _receipt_json(r: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": parse_quantity(r.get("status", "0x0"), "status"),
        "transaction_hash": str(r.get("transactionHash", "")).lower(),
        "block_number": parse_quantity(r.get("blockNumber"), "blockNumber"),
        "block_hash": str(r.get("blockHash", "")).lower(),
        "transaction_index": parse_quantity(r.get("transactionIndex", "0x0"), "transactionIndex"),
        "gas_used": parse_quantity(r.get("gasUsed", "0x0"), "gasUsed"),
        "cumulative_gas_used": parse_quantity(r.get("cumulativeGasUsed", "0x0"), "cumulativeGasUsed"),
        "from": str(r.get("from", "")).lower(),
    }
    if r.get("to"):
        out["to"] = str(r["to"]).lower()
    if r.get("contractAddress"):
        out["contract_address"] = str(r["contractAddress"]).lower()
    if r.get("effectiveGasPrice") is not None:
        out["effective_gas_price"] = parse_quantity(r["effectiveGasPrice"], "effectiveGasPrice")
    out["logs"] = [
        {
            "address": str(log.get("address", "")).lower(),
            "topics": [str(t).lower() for t in log.get("topics", [])],
            "data": str(log.get("data", "0x")).lower(),
            "log_index": parse_quantity(log.get("logIndex", "0x0"), "logIndex"),
        }
        for log in r.get("logs", [])
        if isinstance(log, Mapping)
    ]
    return out


def _ms(config: Mapping[str, Any], key: str, default: int) -> float:
    v = config.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise BackendError(f"EVM backend config: {key} must be a non-negative integer (milliseconds)", category="validation")
    return v / 1000


def _rpc_error(
    e: RpcError, message: str, *, retryable: bool, events: tuple[tuple[str, Mapping[str, Any]], ...] = (),
    **details: Any,
) -> BackendError:
    """A BackendError (``rpc_unavailable``) for a JSON-RPC error the node answered where a usable
    result was needed (``eth_chainId``, ``eth_getTransactionCount``, a receipt, ...)."""
    return BackendError(
        message,
        category="rpc_unavailable",
        retryable=retryable,
        details={**details, "rpc_error": {"method": e.method, "code": e.code, "message": e.message}},
        events=events,
    )


def _abi_error(e: AbiError, prefix: str) -> BackendError:
    path = f"{prefix}.{e.path}" if prefix and e.path else (prefix or e.path)
    return BackendError(
        f"{path}: {e.reason}" if path else e.reason,
        category="validation",
        details={"path": path, "reason": e.reason},
    )


class _Write:
    """A prepared write: target, calldata, value, plus preview data."""

    __slots__ = ("args", "data", "function_name", "to", "value")

    def __init__(self, to: str, data: bytes, value: int, function_name: str, args: Any) -> None:
        self.to = to
        self.data = data
        self.value = value
        self.function_name = function_name
        self.args = args


# ---------------------------------------------------------------------------------------------


class EvmBackend:
    """The EVM chain backend (see the module docstring for config and behaviour)."""

    name = "evm"

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        transport: httpx.BaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        nonces: NonceManager | None = None,
    ) -> None:
        chain = config.get("chain")
        if not isinstance(chain, str):
            raise BackendError("EVM backend config needs 'chain' (eip155:<id>)", category="validation")
        try:
            self.chain_id = chain_id_of(chain)
        except ValueError as e:
            raise BackendError(f"EVM backend config: {e}", category="validation")
        url = config.get("rpc_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise BackendError("EVM backend config needs 'rpc_url' (http:// or https://)", category="validation")
        self.chain = chain
        self.rpc = RpcClient(
            url,
            timeout_s=_ms(config, "rpc_timeout_ms", 10_000),
            max_retries=int(config.get("max_retries", 4)),
            retry_budget_s=_ms(config, "retry_budget_ms", 30_000),
            transport=transport,
            sleep=sleep,
        )
        self._sleep = sleep
        self.receipt_timeout_s = _ms(config, "receipt_timeout_ms", 120_000)
        self.receipt_poll_max_s = _ms(config, "receipt_poll_max_ms", 1_000)
        self.fee_mode = str(config.get("fee_mode", "auto"))
        if self.fee_mode not in ("auto", "eip1559", "legacy"):
            raise BackendError("EVM backend config: fee_mode must be auto, eip1559 or legacy", category="validation")
        margin = config.get("gas_margin_pct", 20)
        if isinstance(margin, bool) or not isinstance(margin, int) or margin < 0:
            raise BackendError("EVM backend config: gas_margin_pct must be a non-negative integer", category="validation")
        self.gas_margin_pct = margin
        try:
            self.multicall3 = abi_mod.coerce_address(config.get("multicall3_address", DEFAULT_MULTICALL3), "multicall3_address")
        except AbiError as e:
            raise BackendError(f"EVM backend config: {e}", category="validation")
        self.nonces = nonces or NonceManager()
        self._signer: Any = None
        self._signer_problem: str | None = None
        signer_cfg = config.get("signer")
        if signer_cfg is None:
            self._signer_problem = "no signer configured"
        else:
            try:
                self._signer = load_signer(signer_cfg, environ)
            except SignerUnavailable as e:
                self._signer_problem = str(e)
        self._chain_checked = False
        self._chain_lock = threading.Lock()
        self._legacy_only = self.fee_mode == "legacy"

    def __repr__(self) -> str:
        return f"EvmBackend(chain={self.chain!r}, rpc_url={self.rpc.url!r}, signer={self._signer!r})"

    # -- Backend protocol ---------------------------------------------------------------------

    def supports(self, chain: str, execution_type: str) -> bool:
        return chain == self.chain and execution_type in EVM_EXECUTION_TYPES

    def signer_address(self, chain: str) -> str | None:
        if chain != self.chain or self._signer is None:
            return None
        return str(self._signer.address)

    def close(self) -> None:
        self.rpc.close()

    def execute(self, call: NodeCall) -> ExecResult:
        t = call.execution_type
        if call.chain != self.chain:
            raise BackendError(
                f"EVM backend for {self.chain} cannot run node {call.node_id} on {call.chain}", category="validation"
            )
        handler = self._HANDLERS.get(t)
        if handler is None:
            raise BackendError(f"EVM backend does not support execution type {t!r}", category="validation")
        try:
            self._ensure_chain()
            return handler(self, call)
        except RpcUnavailable as e:
            raise BackendError(
                str(e), category="rpc_unavailable", retryable=call.io == "read" or not e.maybe_delivered
            )
        except RpcError as e:
            # A JSON-RPC error (or malformed reply) that no handler turned into a more specific
            # BackendError. Writes map their own errors from signing on (_send_write), so a write gets
            # here only before anything was signed; still, only reads are declared retryable here.
            raise _rpc_error(e, f"node {call.node_id}: {e}", retryable=call.io == "read")

    def preview(self, call: NodeCall) -> dict[str, Any]:
        t = call.execution_type
        base: dict[str, Any] = {"kind": "execution", "chain": call.chain, "exec_type": t}
        if t not in ("evm_call", "evm_multicall"):
            return base
        try:
            chain_id = chain_id_of(call.chain)
            w = self._prepare_call(call) if t == "evm_call" else self._prepare_multicall(call)[0]
        except (BackendError, AbiError, ValueError) as e:
            return {**base, "compile_error": str(e)}
        return {
            "kind": "evm_tx",
            "chain": call.chain,
            "chain_id": chain_id,
            "exec_type": t,
            "to": w.to,
            "data": "0x" + w.data.hex(),
            "value": str(w.value),
            "function_name": w.function_name,
            "args": _to_jsonable_preview(w.args),
        }

    def reconcile(self, intent: TxIntent) -> ExecResult | None:
        """Find out what happened to a write whose intent was recorded before a crash.

        * a receipt for ``tx_id`` exists → its result (status 0 → BackendError with the revert reason);
        * the node knows the transaction but it is not mined → wait for it (bounded), else retryable error;
        * the account's mined nonce is past ``intent.nonce`` but the hash is unknown → another
          transaction used the nonce → non-retryable BackendError "nonce consumed by a different
          transaction";
        * otherwise the transaction is unknown and its nonce unused: with the raw bytes, the same
          bytes are re-broadcast (same hash, same nonce: it can land at most once) and awaited;
          without them None is returned — re-executing is safe because any new transaction reuses
          the same nonce, so at most one of the two can be mined.
        """
        if intent.chain != self.chain:
            raise BackendError(f"intent for {intent.chain} given to the {self.chain} backend", category="validation")
        try:
            self._ensure_chain()
            if intent.extra.get("method") == "eth_sendTransaction" or not intent.tx_id:
                return self._reconcile_by_nonce(intent)
            receipt = self.rpc.call("eth_getTransactionReceipt", [intent.tx_id])
            if receipt is None:
                if self.rpc.call("eth_getTransactionByHash", [intent.tx_id]) is not None:
                    receipt = self._wait_receipt(intent.tx_id, retryable_timeout=True)
                elif intent.nonce is not None:
                    mined = parse_quantity(self.rpc.call("eth_getTransactionCount", [intent.account, "latest"]))
                    if mined > intent.nonce:
                        # Close the race with our own transaction being mined in between.
                        receipt = self.rpc.call("eth_getTransactionReceipt", [intent.tx_id])
                        if receipt is None:
                            raise BackendError(
                                f"nonce consumed by a different transaction: nonce {intent.nonce} of "
                                f"{intent.account} is used, and {intent.tx_id} is unknown to the node",
                                category="execution_failed",
                                retryable=False,
                                details={"tx_hash": intent.tx_id, "nonce": intent.nonce, "account_nonce": mined},
                            )
                    elif intent.raw:
                        self.nonces.reset(self.chain, intent.account)
                        try:
                            self.rpc.send_raw_transaction(intent.raw, intent.tx_id)
                        except RpcError as e:
                            raise BackendError(
                                f"re-broadcast of {intent.tx_id} was rejected: {e.message}",
                                category="execution_failed",
                                retryable=True,
                                details={"tx_hash": intent.tx_id},
                            )
                        receipt = self._wait_receipt(intent.tx_id, retryable_timeout=True)
                    else:
                        return None
                else:
                    return None
            return self._result_from_receipt(intent.tx_id, receipt, None)
        except RpcUnavailable as e:
            raise BackendError(f"cannot reconcile {intent.tx_id}: {e}", category="rpc_unavailable", retryable=True)
        except RpcError as e:
            # Reconciling only reads (or re-sends the same signed bytes): asking again later is safe.
            raise _rpc_error(e, f"cannot reconcile {intent.tx_id}: {e}", retryable=True, tx_hash=intent.tx_id)

    # -- internals: chain, evaluation ---------------------------------------------------------

    def _ensure_chain(self) -> None:
        if self._chain_checked:
            return
        with self._chain_lock:
            if self._chain_checked:
                return
            try:
                got = parse_quantity(self.rpc.call("eth_chainId"), "chainId")
            except RpcError as e:
                raise _rpc_error(
                    e, f"cannot check the chain id of {self.rpc.url}: {e}; nothing was sent", retryable=True
                )
            if got != self.chain_id:
                raise BackendError(
                    f"chain id mismatch: the RPC endpoint {self.rpc.url} serves chain {got}, "
                    f"the plan node needs {self.chain}",
                    category="validation",
                    details={"expected": self.chain_id, "actual": got},
                )
            self._chain_checked = True

    @staticmethod
    def _eval(call: NodeCall, vr: Any) -> Any:
        return call.evaluate(vr)

    def _address(self, call: NodeCall, vr: Any, path: str) -> str:
        v = self._eval(call, vr)
        try:
            return abi_mod.coerce_address(v, path)
        except AbiError as e:
            raise _abi_error(e, "")

    def _args(self, call: NodeCall, spec: Mapping[str, Any], path: str) -> dict[str, Any]:
        raw = spec.get("args", {})
        if not isinstance(raw, Mapping):
            raise BackendError(f"{path}.args must be an object keyed by input name", category="validation")
        return {str(k): self._eval(call, v) for k, v in raw.items()}

    def _encode(self, abi: Any, args: Mapping[str, Any], path: str) -> tuple[bytes, str]:
        try:
            fn = abi_mod.parse_function(abi)
            return fn.selector + abi_mod.encode_args(fn, args), fn.name
        except AbiError as e:
            raise _abi_error(e, path)

    def _prepare_call(self, call: NodeCall) -> _Write:
        spec = call.execution
        to = self._address(call, spec.get("to"), "to")
        args = self._args(call, spec, "execution")
        data, fname = self._encode(spec.get("abi"), args, "")
        value = 0
        if spec.get("value") is not None:
            try:
                value = abi_mod.coerce_int(self._eval(call, spec["value"]), "uint256", "value")
            except AbiError as e:
                raise _abi_error(e, "")
        return _Write(to, data, value, fname, args)

    def _prepare_multicall(self, call: NodeCall) -> tuple[_Write, list[int], list[int]]:
        spec = call.execution
        to = self._address(call, spec.get("to"), "to")
        calls = spec.get("calls")
        if not isinstance(calls, Sequence) or isinstance(calls, str):
            raise BackendError("calls must be an array", category="validation", details={"path": "calls"})
        encoded: list[str] = []
        included: list[int] = []
        skipped: list[int] = []
        for i, c in enumerate(calls):
            if not isinstance(c, Mapping):
                raise BackendError(f"calls[{i}] must be an object", category="validation")
            if c.get("condition") is not None:
                cond = self._eval(call, c["condition"])
                if not isinstance(cond, bool):
                    raise BackendError(
                        f"calls[{i}].condition must evaluate to a boolean, got {type(cond).__name__}",
                        category="validation",
                        details={"path": f"calls[{i}].condition"},
                    )
                if not cond:
                    skipped.append(i)
                    continue
            args = self._args(call, c, f"calls[{i}]")
            data, _ = self._encode(c.get("abi"), args, f"calls[{i}]")
            encoded.append("0x" + data.hex())
            included.append(i)
        if spec.get("deadline") is not None:
            try:
                deadline = abi_mod.coerce_int(self._eval(call, spec["deadline"]), "uint256", "deadline")
            except AbiError as e:
                raise _abi_error(e, "")
            router_args: dict[str, Any] = {"deadline": deadline, "data": encoded}
            data = abi_mod.encode_call(ROUTER_MULTICALL_DEADLINE_ABI, router_args)
        else:
            router_args = {"data": encoded}
            data = abi_mod.encode_call(ROUTER_MULTICALL_ABI, router_args)
        return _Write(to, data, 0, "multicall", router_args), included, skipped

    # -- reads --------------------------------------------------------------------------------

    def _read_error(self, e: RpcError, what: str) -> BackendError:
        rev = _revert_details(e)
        if rev is not None:
            return BackendError(
                f"{what} reverted: {rev['reason']}", category="execution_failed", details={"revert": rev}
            )
        return BackendError(
            f"{what} failed: {e.message}", category="execution_failed", details={"rpc_error": {"code": e.code, "message": e.message}}
        )

    def _decode(self, abi: Any, result: Any, path: str) -> dict[str, Any]:
        if not isinstance(result, str) or not result.startswith("0x"):
            raise BackendError(f"{path}: eth_call returned {result!r}, not hex data", category="execution_failed")
        try:
            return abi_mod.decode_outputs(abi, bytes.fromhex(result[2:]))
        except (AbiError, ValueError) as e:
            raise BackendError(f"{path}: {e}", category="execution_failed")

    def _exec_read(self, call: NodeCall) -> ExecResult:
        spec = call.execution
        to = self._address(call, spec.get("to"), "to")
        data, fname = self._encode(spec.get("abi"), self._args(call, spec, "execution"), "")
        try:
            result = self.rpc.call("eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"])
        except RpcError as e:
            raise self._read_error(e, f"eth_call {fname} on {to}")
        return ExecResult(outputs=self._decode(spec.get("abi"), result, "outputs"))

    def _exec_multiread(self, call: NodeCall) -> ExecResult:
        spec = call.execution
        method = spec.get("method")
        calls = spec.get("calls")
        if method not in ("multicall3", "rpc_batch"):
            raise BackendError("evm_multiread method must be multicall3 or rpc_batch", category="validation")
        if not isinstance(calls, Sequence) or isinstance(calls, str):
            raise BackendError("evm_multiread calls must be an array", category="validation")
        prepared: list[tuple[str, str, bytes, Any]] = []
        seen: set[str] = set()
        for i, c in enumerate(calls):
            cid = c.get("id") if isinstance(c, Mapping) else None
            if not isinstance(cid, str) or not cid:
                raise BackendError(f"calls[{i}].id must be a non-empty string", category="validation")
            if cid in seen:
                raise BackendError(f"duplicate evm_multiread call id {cid!r}", category="validation")
            seen.add(cid)
            to = self._address(call, c.get("to"), f"calls[{i}].to")
            data, _ = self._encode(c.get("abi"), self._args(call, c, f"calls[{i}]"), f"calls[{i}]")
            prepared.append((cid, to, data, c.get("abi")))
        outputs: dict[str, Any] = {}
        if not prepared:
            return ExecResult(outputs=outputs)
        if method == "rpc_batch":
            results = self.rpc.batch(
                [("eth_call", [{"to": to, "data": "0x" + d.hex()}, "latest"]) for _, to, d, _ in prepared]
            )
            for (cid, _to, _, abi), res in zip(prepared, results, strict=True):
                if isinstance(res, RpcError):
                    raise self._read_error(res, f"call {cid!r}")
                outputs[cid] = self._decode(abi, res, f"calls.{cid}")
            return ExecResult(outputs=outputs)
        agg_data = abi_mod.encode_call(
            AGGREGATE3_ABI, {"calls": [[to, True, "0x" + d.hex()] for _, to, d, _ in prepared]}
        )
        try:
            res = self.rpc.call("eth_call", [{"to": self.multicall3, "data": "0x" + agg_data.hex()}, "latest"])
        except RpcError as e:
            raise self._read_error(e, f"Multicall3 aggregate3 at {self.multicall3}")
        if res in ("0x", ""):
            raise BackendError(
                f"no Multicall3 contract at {self.multicall3} on {self.chain} (set multicall3_address in the backend config)",
                category="execution_failed",
            )
        items = self._decode(AGGREGATE3_ABI, res, "aggregate3")["returnData"]
        for (cid, _, _, abi), item in zip(prepared, items, strict=True):
            ret = bytes.fromhex(item["returnData"][2:])
            if not item["success"]:
                rev = decode_revert(ret)
                raise BackendError(
                    f"call {cid!r} reverted: {rev['reason']}", category="execution_failed", details={"revert": rev, "id": cid}
                )
            try:
                outputs[cid] = abi_mod.decode_outputs(abi, ret)
            except AbiError as e:
                raise BackendError(f"calls.{cid}: {e}", category="execution_failed")
        return ExecResult(outputs=outputs)

    def _exec_rpc(self, call: NodeCall) -> ExecResult:
        spec = call.execution
        method = spec.get("method")
        if not isinstance(method, str) or method not in EVM_RPC_ALLOWLIST:
            raise BackendError(
                f"evm_rpc method not allowed: {method!r} (allowed: {', '.join(sorted(EVM_RPC_ALLOWLIST))})",
                category="validation",
            )
        params: Any = self._eval(call, spec["params"]) if spec.get("params") is not None else []
        if not isinstance(params, list | tuple):
            raise BackendError("evm_rpc params must evaluate to an array", category="validation")
        params = [hex_quantity(p) if isinstance(p, int) and not isinstance(p, bool) and p >= 0 else p for p in params]
        if method == "eth_getBalance":
            if not params:
                raise BackendError("eth_getBalance needs params[0], an address", category="validation")
            try:
                params[0] = abi_mod.coerce_address(params[0], "params[0]")
            except AbiError as e:
                raise _abi_error(e, "")
            if len(params) == 1:
                params.append("latest")
        try:
            result = self.rpc.call(method, params)
        except RpcError as e:
            raise self._read_error(e, method)
        if method == "eth_getBalance":
            return ExecResult(outputs={"balance": parse_quantity(result, "balance")})
        return ExecResult(outputs={"result": result})

    # -- writes -------------------------------------------------------------------------------

    def _missing_signer(self, call: NodeCall) -> ExecResult:
        return ExecResult(
            need_user_confirm=(
                f"Missing signer for {self.chain}",
                {
                    "node_id": call.node_id,
                    "chain": self.chain,
                    "execution_type": call.execution_type,
                    "problem": self._signer_problem or "no signer configured",
                    "hint": "configure signer {type: env|keystore|unlocked} for this chain in the EVM backend config",
                },
            )
        )

    def _exec_call(self, call: NodeCall) -> ExecResult:
        if self._signer is None:
            return self._missing_signer(call)
        return self._send_write(call, self._prepare_call(call), {})

    def _exec_multicall(self, call: NodeCall) -> ExecResult:
        if self._signer is None:
            return self._missing_signer(call)
        w, included, skipped = self._prepare_multicall(call)
        extra = {"included": included, "skipped": skipped}
        if not included:
            return ExecResult(outputs=extra)
        return self._send_write(call, w, extra)

    def _tx_request(self, w: _Write, account: str) -> dict[str, Any]:
        return {"from": account, "to": w.to, "data": "0x" + w.data.hex(), "value": hex(w.value)}

    def _prepare_fees_and_gas(self, call: NodeCall, w: _Write, account: str) -> tuple[int, Fees]:
        req = self._tx_request(w, account)
        batch: list[tuple[str, Sequence[Any]]] = []
        if call.simulate:
            batch.append(("eth_call", [req, "latest"]))
        batch.append(("eth_estimateGas", [req]))
        batch.extend([("eth_gasPrice", [])] if self._legacy_only else FEE_CALLS)
        replies = self.rpc.batch(batch)
        if call.simulate:
            sim = replies.pop(0)
            if isinstance(sim, RpcError):
                raise self._write_blocked(sim, w, simulated=True)
        est = replies[0]
        if isinstance(est, RpcError):
            raise self._write_blocked(est, w, simulated=call.simulate)
        gas = parse_quantity(est, "gas estimate")
        gas += gas * self.gas_margin_pct // 100
        if self._legacy_only:
            price = replies[1]
            if isinstance(price, RpcError):
                raise _rpc_error(price, f"eth_gasPrice failed: {price.message}; nothing was broadcast",
                                 retryable=True, broadcast=False)
            return gas, Fees(gas_price=parse_quantity(price, "gasPrice"))
        fees = fees_from_replies(replies[1], replies[2])
        if fees is None:
            if self.fee_mode == "eip1559":
                raise BackendError(f"{self.chain} reports no EIP-1559 base fee (fee_mode: eip1559)", category="execution_failed")
            self._legacy_only = True
            fees = Fees(gas_price=parse_quantity(self.rpc.call("eth_gasPrice"), "gasPrice"))
        return gas, fees

    def _write_blocked(self, e: RpcError, w: _Write, *, simulated: bool) -> BackendError:
        rev = _revert_details(e)
        category = "simulation_failed" if simulated else "execution_failed"
        what = "simulation" if simulated else "gas estimation"
        details: dict[str, Any] = {"to": w.to, "function_name": w.function_name, "broadcast": False}
        if rev is not None:
            details["revert"] = rev
            msg = f"{w.function_name} on {w.to} would revert ({what}): {rev['reason']}; nothing was broadcast"
        else:
            details["rpc_error"] = {"code": e.code, "message": e.message}
            msg = f"{w.function_name} on {w.to}: {what} failed: {e.message}; nothing was broadcast"
        return BackendError(msg, category=category, retryable=False, details=details)

    def _send_write(self, call: NodeCall, w: _Write, extra_outputs: Mapping[str, Any]) -> ExecResult:
        signer = self._signer
        account = str(signer.address)
        try:
            gas, fees = self._prepare_fees_and_gas(call, w, account)
        except RpcError as e:
            raise _rpc_error(e, f"{w.function_name} on {w.to}: cannot prepare the transaction: {e}; nothing was "
                             "broadcast", retryable=True, broadcast=False)
        node_send = isinstance(signer, UnlockedSigner) and signer.method == "send"
        lock = self.nonces.lock(self.chain, account)
        with lock:
            try:
                nonce = self.nonces.next_nonce(self.chain, account, self.rpc)
            except RpcError as e:
                raise _rpc_error(e, f"cannot read the nonce of {account}: {e}; nothing was broadcast",
                                 retryable=True, broadcast=False)
            if node_send:
                tx_hash = self._broadcast_node_send(call, w, account, nonce, gas, fees)
            else:
                tx_hash = self._sign_and_broadcast(call, w, account, nonce, gas, fees)
            self.nonces.commit(self.chain, account, nonce)
        sent: tuple[tuple[str, Mapping[str, Any]], ...] = (("tx_sent", {"tx_hash": tx_hash}),)
        try:
            receipt = self._wait_receipt(tx_hash)
        except RpcUnavailable as e:
            # Broadcast already happened: never let the runtime retry this attempt blindly.
            raise BackendError(
                f"{tx_hash} was broadcast but its receipt cannot be fetched: {e} (resume the run to reconcile)",
                category="rpc_unavailable",
                retryable=False,
                details={"tx_hash": tx_hash, "nonce": nonce},
                events=sent,
            )
        except RpcError as e:
            # Not transient (e.g. -32603 internal error) or a malformed reply: the fate is unknown.
            raise _rpc_error(
                e, f"{tx_hash} was broadcast but its receipt cannot be read: {e} (resume the run to reconcile)",
                retryable=False, events=sent, tx_hash=tx_hash, nonce=nonce,
            )
        except BackendError as e:  # no receipt in time: the transaction was still sent
            raise e.with_events(sent) from None
        try:
            return self._result_from_receipt(tx_hash, receipt, w, extra_outputs)
        except RpcError as e:  # a receipt field that is not a quantity
            raise _rpc_error(
                e, f"{tx_hash} was broadcast but its receipt is malformed: {e} (resume the run to reconcile)",
                retryable=False, events=sent, tx_hash=tx_hash, nonce=nonce,
            )

    def _tx_dict(self, w: _Write, nonce: int, gas: int, fees: Fees) -> dict[str, Any]:
        tx: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": nonce,
            "to": abi_mod.checksum_address(w.to),
            "value": w.value,
            "data": "0x" + w.data.hex(),
            "gas": gas,
            **fees.tx_fields(),
        }
        if fees.eip1559:
            tx["type"] = 2
        return tx

    def _sign_and_broadcast(self, call: NodeCall, w: _Write, account: str, nonce: int, gas: int, fees: Fees) -> str:
        tx = self._tx_dict(w, nonce, gas, fees)
        if isinstance(self._signer, UnlockedSigner):
            node_tx = {k: (hex(v) if isinstance(v, int) and k not in ("to", "data") else v) for k, v in tx.items()}
            node_tx["from"] = account
            try:
                raw = str(self.rpc.call("eth_signTransaction", [node_tx]))
            except RpcError as e:
                self.nonces.reset(self.chain, account)
                raise BackendError(
                    f"the node refused to sign for {account}: {e.message} "
                    "(use signer method: send if the node lacks eth_signTransaction)",
                    category="execution_failed",
                )
            tx_hash = "0x" + abi_mod.keccak256(bytes.fromhex(raw[2:])).hex()
        else:
            signed = self._signer.sign(tx)
            raw, tx_hash = signed.raw_hex, signed.tx_hash
        call.record_intent(TxIntent(chain=self.chain, account=account, tx_id=tx_hash, nonce=nonce, raw=raw))
        try:
            sent = self.rpc.send_raw_transaction(raw, tx_hash)
        except RpcError as e:
            self.nonces.reset(self.chain, account)
            rev = _revert_details(e)
            raise BackendError(
                f"broadcast of {tx_hash} rejected by the node: {e.message}",
                category="execution_failed",
                retryable=False,
                details={"tx_hash": tx_hash, "nonce": nonce, **({"revert": rev} if rev else {})},
            )
        except RpcUnavailable as e:
            self.nonces.reset(self.chain, account)
            raise BackendError(
                f"broadcast of {tx_hash}: {e}",
                category="rpc_unavailable",
                retryable=not e.maybe_delivered,
                details={"tx_hash": tx_hash, "nonce": nonce, "maybe_broadcast": e.maybe_delivered},
            )
        if sent.lower() != tx_hash.lower():
            raise BackendError(
                f"the node reports hash {sent} for a transaction signed as {tx_hash}",
                category="execution_failed",
                details={"tx_hash": tx_hash},
            )
        return tx_hash

    def _broadcast_node_send(self, call: NodeCall, w: _Write, account: str, nonce: int, gas: int, fees: Fees) -> str:
        req = {
            "from": account,
            "to": w.to,
            "data": "0x" + w.data.hex(),
            "value": hex(w.value),
            "gas": hex(gas),
            "nonce": hex(nonce),
            **{k: hex(v) for k, v in fees.tx_fields().items()},
        }
        call.record_intent(
            TxIntent(chain=self.chain, account=account, tx_id="", nonce=nonce, extra={"method": "eth_sendTransaction"})
        )
        try:
            return str(self.rpc.call("eth_sendTransaction", [req], idempotent=False))
        except RpcError as e:
            self.nonces.reset(self.chain, account)
            raise BackendError(
                f"eth_sendTransaction rejected by the node: {e.message}", category="execution_failed", details={"nonce": nonce}
            )
        except RpcUnavailable as e:
            self.nonces.reset(self.chain, account)
            raise BackendError(
                f"eth_sendTransaction: {e}", category="rpc_unavailable", retryable=not e.maybe_delivered, details={"nonce": nonce}
            )

    def _wait_receipt(self, tx_hash: str, *, retryable_timeout: bool = False) -> Mapping[str, Any]:
        start = time.monotonic()
        delay = 0.005
        while True:
            r = self.rpc.call("eth_getTransactionReceipt", [tx_hash])
            if isinstance(r, Mapping) and r.get("blockNumber") is not None:
                return r
            if time.monotonic() - start + delay > self.receipt_timeout_s:
                raise BackendError(
                    f"no receipt for {tx_hash} after {self.receipt_timeout_s:g} s (it may still be mined; "
                    "resume the run to reconcile)",
                    category="timeout",
                    retryable=retryable_timeout,
                    details={"tx_hash": tx_hash},
                )
            self._sleep(delay)
            delay = min(delay * 2, self.receipt_poll_max_s)

    def _result_from_receipt(
        self, tx_hash: str, raw_receipt: Any, w: _Write | None, extra_outputs: Mapping[str, Any] | None = None
    ) -> ExecResult:
        if not isinstance(raw_receipt, Mapping):
            raise BackendError(f"malformed receipt for {tx_hash}", category="execution_failed")
        receipt = _receipt_json(raw_receipt)
        tx_hash = receipt["transaction_hash"] or tx_hash
        events: tuple[tuple[str, Mapping[str, Any]], ...] = (
            ("tx_sent", {"tx_hash": tx_hash}),
            ("tx_confirmed", {"receipt": receipt}),
        )
        if receipt["status"] != 1:
            rev = self._replay_revert(tx_hash, raw_receipt, w)
            raise BackendError(
                f"transaction {tx_hash} reverted in block {receipt['block_number']}: {rev['reason']}",
                category="execution_failed",
                retryable=False,
                details={"tx_hash": tx_hash, "receipt": receipt, "revert": rev},
                events=events[:1],  # it was sent (and mined): the event stream says so before the error
            )
        return ExecResult(outputs={**(extra_outputs or {}), "tx_hash": tx_hash, "receipt": receipt}, events=events)

    def _replay_revert(self, tx_hash: str, receipt: Mapping[str, Any], w: _Write | None) -> dict[str, Any]:
        """Replay a failed transaction with eth_call at its block to recover the revert reason."""
        try:
            if w is not None:
                req = self._tx_request(w, str(receipt.get("from", "")))
            else:
                tx = self.rpc.call("eth_getTransactionByHash", [tx_hash])
                if not isinstance(tx, Mapping):
                    return {"kind": "unknown", "reason": "reverted (transaction not found for replay)"}
                req = {"from": tx.get("from"), "to": tx.get("to"), "data": tx.get("input", "0x"), "value": tx.get("value", "0x0")}
            self.rpc.call("eth_call", [req, receipt.get("blockNumber")])
        except RpcError as e:
            rev = _revert_details(e)
            if rev is not None:
                return rev
            return {"kind": "unknown", "reason": f"reverted ({e.message})"}
        except RpcUnavailable:
            return {"kind": "unknown", "reason": "reverted (replay failed: RPC unavailable)"}
        return {"kind": "unknown", "reason": "reverted (replaying the call at its block did not revert; out of gas?)"}

    def _reconcile_by_nonce(self, intent: TxIntent) -> ExecResult | None:
        if intent.nonce is None:
            return None
        mined = parse_quantity(self.rpc.call("eth_getTransactionCount", [intent.account, "latest"]))
        if mined > intent.nonce:
            raise BackendError(
                f"cannot tell whether nonce {intent.nonce} of {intent.account} was used by this node's "
                "eth_sendTransaction (no hash was known before broadcast); check the account's history",
                category="execution_failed",
                retryable=False,
                details={"nonce": intent.nonce, "account_nonce": mined},
            )
        pending = parse_quantity(self.rpc.call("eth_getTransactionCount", [intent.account, "pending"]))
        if pending > intent.nonce:
            raise BackendError(
                f"a transaction with nonce {intent.nonce} of {intent.account} is pending", category="timeout", retryable=True
            )
        return None

    _HANDLERS: dict[str, Callable[[EvmBackend, NodeCall], ExecResult]] = {
        "evm_read": _exec_read,
        "evm_call": _exec_call,
        "evm_multiread": _exec_multiread,
        "evm_multicall": _exec_multicall,
        "evm_rpc": _exec_rpc,
    }
