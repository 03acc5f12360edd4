"""A test relayer for the toy EVM → Solana bridge (contracts/src/TestBridge.sol).

It polls anvil with ``eth_getLogs`` for the bridge's ``Sent(address from, bytes32 solanaRecipient,
uint256 amount)`` event and, ``delay_s`` after it saw a log, credits ``amount`` lamports to the
recipient on the Solana side by writing the LiteSVM state directly (``LocalChain.airdrop``; the
chain is either the backend's in-process chain or the one behind a DevServer). The delay makes the
workflow's until/retry wait observable.

The module name is unique on purpose: test modules import it directly (never ``conftest``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import attrs
import httpx
from Crypto.Hash import keccak
from solders.pubkey import Pubkey

from aisc.backends.solana.local import LocalChain


def _topic(signature: str) -> str:
    return "0x" + keccak.new(digest_bits=256, data=signature.encode()).hexdigest()


SENT_TOPIC = _topic("Sent(address,bytes32,uint256)")


@attrs.define
class Credit:
    evm_tx: str
    sender: str  # EVM address, lowercase
    recipient: str  # Solana address (base58)
    amount: int
    seen_at: float  # time.monotonic() when the log was read
    credited_at: float | None = None


def decode_sent(log: dict[str, Any]) -> tuple[str, str, int]:
    """(from, base58 recipient, amount) of a ``Sent`` log (no indexed parameters: all in ``data``)."""
    data = bytes.fromhex(str(log["data"])[2:])
    if len(data) != 96:
        raise ValueError(f"Sent log data is {len(data)} bytes, expected 96")
    sender = "0x" + data[12:32].hex()
    recipient = str(Pubkey.from_bytes(data[32:64]))
    return sender, recipient, int.from_bytes(data[64:96], "big")


class BridgeRelayer:
    """Watches ``bridge`` on the EVM node at ``rpc_url``; credits ``solana`` after ``delay_s``."""

    def __init__(self, rpc_url: str, bridge: str, solana: LocalChain, *, delay_s: float = 0.5,
                 poll_s: float = 0.05) -> None:
        self.rpc_url = rpc_url
        self.bridge = bridge.lower()
        self.solana = solana
        self.delay_s = delay_s
        self.poll_s = poll_s
        self.credits: list[Credit] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="test-relayer", daemon=True)
        self._http = httpx.Client(timeout=5)
        self._next_block: int | None = None

    def _rpc(self, method: str, params: list[Any]) -> Any:
        body = self._http.post(self.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                                    "params": params}).json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body['error']}")
        return body["result"]

    def start(self) -> BridgeRelayer:
        # only logs from now on: earlier bridge activity of other tests is not ours
        self._next_block = int(self._rpc("eth_blockNumber", []), 16) + 1
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._http.close()

    def __enter__(self) -> BridgeRelayer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _poll(self) -> None:
        assert self._next_block is not None
        head = int(self._rpc("eth_blockNumber", []), 16)
        if head >= self._next_block:
            logs = self._rpc("eth_getLogs", [{"address": self.bridge, "topics": [SENT_TOPIC],
                                              "fromBlock": hex(self._next_block), "toBlock": hex(head)}])
            for log in logs:
                sender, recipient, amount = decode_sent(log)
                self.credits.append(Credit(str(log["transactionHash"]), sender, recipient, amount, time.monotonic()))
            self._next_block = head + 1
        now = time.monotonic()
        for c in self.credits:
            if c.credited_at is None and now - c.seen_at >= self.delay_s:
                self.solana.airdrop(c.recipient, c.amount)
                c.credited_at = time.monotonic()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._poll()
            except Exception as e:  # reported to the test, never swallowed silently
                self.errors.append(f"{type(e).__name__}: {e}")
            self._stop.wait(self.poll_s)
