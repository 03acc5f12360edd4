"""The real EvmBackend with one more crash point, ``after_send``: right after ``eth_sendRawTransaction``
returned (the node has the transaction; the backend has not waited for the receipt nor returned).

Run-config factory (``backends: {crash-evm: {factory: "crash_evm:make_backend"}}``); everything else is
the unchanged ``aisc.backends.evm`` backend. The backends layer may not import the runtime, so the
production backend has no crash hook of its own; this subclass adds it for the crash matrix only.
"""

from __future__ import annotations

from typing import Any

from aisc.backends.base import NodeCall
from aisc.backends.evm.backend import EvmBackend
from aisc.runtime.store import crash_point


class CrashAfterSendEvm(EvmBackend):
    def _sign_and_broadcast(self, call: NodeCall, w: Any, account: str, nonce: int, gas: int, fees: Any) -> str:
        tx_hash = super()._sign_and_broadcast(call, w, account, nonce, gas, fees)
        crash_point("after_send", call.node_id)
        return tx_hash


def make_backend(chain: str, **config: Any) -> CrashAfterSendEvm:
    return CrashAfterSendEvm({"chain": chain, **config})
