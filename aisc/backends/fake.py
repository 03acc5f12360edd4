"""A scriptable in-memory backend for unit tests and benchmarks.

Script per node id (or ``"*"`` for every node)::

    FakeBackend(script={
        "q1": {"outputs": {"balance": 5}},                       # every attempt
        "poll": {"outputs": [{"done": False}, {"done": True}]},   # attempt 1, attempt 2, last repeats
        "w1": {"fail": "reverted", "retryable": False},           # raise BackendError
        "w2": {"need_user_confirm": "no signer"},                 # pause the node
        "w3": {"outputs": {"ok": 1}, "evaluate": ["args.amount"]},  # evaluate execution ValueRefs
        "slow": {"sleep_ms": 20},
    })

Writes get a deterministic tx hash, record a :class:`TxIntent` through ``call.record_intent``
*before* their ``tx_sent`` event, and return ``tx_sent``/``tx_confirmed`` events. ``calls`` counts
executions per node; ``intents`` keeps every recorded intent; ``max_parallel_writes`` records the
highest number of writes running at the same time per (chain, account) (R156 tests).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from aisc.backends.base import BackendError, ExecResult, NodeCall, TxIntent


class FakeBackend:
    name = "fake"

    def __init__(
        self,
        script: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        chains: Iterable[str] | None = None,
        execution_types: Iterable[str] | None = None,
        signer: str | None = "0x00000000000000000000000000000000000000a1",
        previews: Mapping[str, Mapping[str, Any]] | None = None,
        inline: bool = False,
    ) -> None:
        self.inline = inline
        """True: the engine calls ``execute`` on its own thread (no pool hand-off)."""
        self.script = dict(script or {})
        self.chains = set(chains) if chains is not None else None
        self.execution_types = set(execution_types) if execution_types is not None else None
        self.signer = signer
        self.previews = dict(previews or {})
        self.calls: Counter[str] = Counter()
        self.order: list[str] = []
        self.intents: list[TxIntent] = []
        self.evaluated: dict[str, dict[str, Any]] = {}
        self.max_parallel_writes: Counter[tuple[str, str]] = Counter()
        self._active: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._nonce = 0
        self.closed = False

    # ------------------------------------------------------------------ Backend protocol

    def supports(self, chain: str, execution_type: str) -> bool:
        if self.chains is not None and chain not in self.chains:
            return False
        return self.execution_types is None or execution_type in self.execution_types

    def signer_address(self, chain: str) -> str | None:
        return self.signer

    def preview(self, call: NodeCall) -> dict[str, Any]:
        spec = self.previews.get(call.node_id)
        if spec is not None:
            if "compile_error" in spec:
                return {"kind": "execution", "chain": call.chain, "exec_type": call.execution_type,
                        "compile_error": spec["compile_error"]}
            return {"chain": call.chain, "exec_type": call.execution_type, **spec}
        ex = call.execution
        if call.execution_type == "evm_call":
            args = {k: call.evaluate(v) for k, v in dict(ex.get("args") or {}).items()}
            return {
                "kind": "evm_tx", "chain": call.chain, "exec_type": "evm_call",
                "to": call.evaluate(ex["to"]), "function_name": str(dict(ex.get("abi") or {}).get("name", "")),
                "args": {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in args.items()},
                "value": str(call.evaluate(ex["value"])) if "value" in ex else "0",
            }
        return {"kind": "execution", "chain": call.chain, "exec_type": call.execution_type}

    def execute(self, call: NodeCall) -> ExecResult:
        spec: Mapping[str, Any] = self.script.get(call.node_id) or self.script.get("*") or {}
        with self._lock:
            self.calls[call.node_id] += 1
            self.order.append(call.node_id)
        for field in spec.get("evaluate", ()):
            target: Any = call.execution
            for seg in str(field).split("."):
                target = target[seg]
            value = call.evaluate(target)
            with self._lock:
                self.evaluated.setdefault(call.node_id, {})[field] = value
        key = (call.chain, self.signer or "")
        write = call.io == "write"
        if write:
            with self._lock:
                self._active[key] += 1
                self.max_parallel_writes[key] = max(self.max_parallel_writes[key], self._active[key])
        try:
            if spec.get("sleep_ms"):
                time.sleep(int(spec["sleep_ms"]) / 1000)
            fail = spec.get("fail")
            if isinstance(fail, list):
                fail = fail[min(call.attempt, len(fail)) - 1]
            if fail:
                raise BackendError(str(fail), retryable=bool(spec.get("retryable", False)),
                                   details={"node_id": call.node_id})
            if spec.get("need_user_confirm"):
                return ExecResult(need_user_confirm=(str(spec["need_user_confirm"]),
                                                     {"node_id": call.node_id}))
            outputs = spec.get("outputs", {})
            if isinstance(outputs, list):
                outputs = outputs[min(call.attempt, len(outputs)) - 1]
            if not write:
                return ExecResult(outputs=dict(outputs))
            return self._write(call, dict(outputs))
        finally:
            if write:
                with self._lock:
                    self._active[key] -= 1

    def _write(self, call: NodeCall, outputs: dict[str, Any]) -> ExecResult:
        with self._lock:
            nonce = self._nonce
            self._nonce += 1
        tx_hash = "0x" + hashlib.sha256(f"{call.node_id}:{call.attempt}:{nonce}".encode()).hexdigest()
        intent = TxIntent(chain=call.chain, account=self.signer or "", tx_id=tx_hash, nonce=nonce,
                          extra={"node_id": call.node_id, "attempt": call.attempt})
        call.record_intent(intent)  # persisted before the (pretend) broadcast
        with self._lock:
            self.intents.append(intent)
        receipt = {"transactionHash": tx_hash, "status": 1, "blockNumber": nonce + 1}
        outputs = {"tx_hash": tx_hash, **outputs}
        return ExecResult(
            outputs=outputs,
            events=(("tx_sent", {"tx_hash": tx_hash}), ("tx_confirmed", {"receipt": receipt})),
        )

    def reconcile(self, intent: TxIntent) -> ExecResult | None:
        for known in self.intents:
            if known.tx_id == intent.tx_id:
                return ExecResult(outputs={"tx_hash": intent.tx_id})
        return None

    def close(self) -> None:
        self.closed = True


def make_backend(chain: str, **config: Any) -> FakeBackend:
    """Registry factory: ``{backend: fake, script: {...}, signer: "0x..."}`` in a run config."""
    return FakeBackend(script=config.get("script"), chains=[chain],
                       signer=config.get("signer", "0x00000000000000000000000000000000000000a1"))
