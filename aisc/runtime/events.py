"""Engine events ``ais-engine-event/0.0.3`` (R180–R189, SPEC-MAP §2.5).

A record is ``{schema, run_id, seq, ts, event: {type, node_id?, data, extensions?}}``; ``seq`` is
monotonic per run, ``ts`` is RFC 3339 UTC with milliseconds. JSON lines are written with the
``ais-json/1`` codec (big integers become tagged objects, R264).

Sinks: :class:`ListSink` (in memory), :class:`CallbackSink`, :class:`JsonlSink` (a path, or ``-``
for standard output) and :class:`MultiSink`. Redaction (R186) runs before any sink sees a record:
private keys, seeds and mnemonics are removed in every mode; ``default`` also drops raw signed
transactions and full RPC payloads.
"""

from __future__ import annotations

import datetime as _dt
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, Literal, Protocol

from aisc import aisjson

EVENT_SCHEMA = "ais-engine-event/0.0.3"
EVENT_TYPES = frozenset({
    "plan_ready", "node_ready", "node_blocked", "need_user_confirm", "query_result", "tx_prepared",
    "tx_sent", "tx_confirmed", "node_waiting", "checkpoint_saved", "engine_paused", "error",
    "solver_applied", "node_paused", "skipped", "command_accepted", "command_rejected", "patch_applied",
    "patch_rejected",
})

RedactMode = Literal["default", "audit", "off"]

# removed in every mode (never print or store a private key)
_SECRET_KEYS = frozenset({
    "private_key", "privatekey", "secret_key", "secretkey", "secret", "seed", "seed_phrase", "mnemonic",
    "keypair", "signer_key", "key_hex", "password",
})
# removed in default mode only
_DEFAULT_DROP = frozenset({"raw", "raw_tx", "signed_tx", "raw_transaction", "signed_transaction",
                           "rpc_payload", "rpc_request", "rpc_response"})
REDACTED = "[redacted]"


def redact(value: Any, mode: RedactMode = "default") -> Any:
    """A copy of ``value`` with secrets replaced by ``"[redacted]"`` (R186/R187)."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is dict or isinstance(value, Mapping):
        drop = _DEFAULT_DROP if mode == "default" else frozenset()
        out: dict[str, Any] = {}
        for k, v in value.items():
            lk = k.lower() if type(k) is str else str(k).lower()
            if lk in _SECRET_KEYS or lk in drop:
                out[k] = REDACTED
            else:
                tv = type(v)
                out[k] = v if (tv is str or tv is int or tv is bool or v is None) else redact(v, mode)
        return out
    if t is list or t is tuple:
        return [redact(v, mode) for v in value]
    return value


_second: list[tuple[int, str]] = [(-1, "")]  # (whole second, its "YYYY-MM-DDTHH:MM:SS." prefix)


def now_rfc3339() -> str:
    """The current UTC time as RFC 3339 with milliseconds (the date part is formatted once a second)."""
    sec, milli = divmod(time.time_ns() // 1_000_000, 1000)
    cached, prefix = _second[0]  # one tuple: threads never see a half-updated pair
    if cached != sec:
        prefix = _dt.datetime.fromtimestamp(sec, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        _second[0] = (sec, prefix)
    return f"{prefix}{milli:03d}Z"


def error_object(exc: BaseException | str, name: str | None = None) -> dict[str, Any]:
    """The ``ais-json/1`` Error representation (no stack: R262)."""
    if isinstance(exc, BaseException):
        return {"__ais_json_type": "error", "name": name or type(exc).__name__, "message": str(exc)}
    return {"__ais_json_type": "error", "name": name or "Error", "message": exc}


def dumps_record(record: Mapping[str, Any]) -> str:
    """One JSON line (no newline), through the ais-json codec."""
    return aisjson.dumps(record)


class EventSink(Protocol):
    def emit(self, record: Mapping[str, Any]) -> None: ...

    def close(self) -> None: ...


class ListSink:
    """Keeps every record (tests, bridge mode)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def emit(self, record: Mapping[str, Any]) -> None:
        self.records.append(dict(record))

    def close(self) -> None:
        pass

    def types(self) -> list[str]:
        return [r["event"]["type"] for r in self.records]

    def of_type(self, t: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["event"]["type"] == t]


class CallbackSink:
    def __init__(self, fn: Callable[[Mapping[str, Any]], None]) -> None:
        self.fn = fn

    def emit(self, record: Mapping[str, Any]) -> None:
        self.fn(record)

    def close(self) -> None:
        pass


class JsonlSink:
    """JSON lines to a file path, or to standard output when ``target`` is ``-`` or ``stdout``."""

    def __init__(self, target: str | IO[str]) -> None:
        self._own = False
        if isinstance(target, str):
            if target in ("-", "stdout"):
                self.fh: IO[str] = sys.stdout
            else:
                self.fh = open(target, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
                self._own = True
        else:
            self.fh = target

    def emit(self, record: Mapping[str, Any]) -> None:
        self.fh.write(dumps_record(record) + "\n")
        self.fh.flush()

    def close(self) -> None:
        if self._own:
            self.fh.close()


class MultiSink:
    def __init__(self, sinks: Sequence[EventSink]) -> None:
        self.sinks = list(sinks)

    def emit(self, record: Mapping[str, Any]) -> None:
        for s in self.sinks:
            s.emit(record)

    def close(self) -> None:
        for s in self.sinks:
            s.close()


class Emitter:
    """Builds records (run_id, seq, ts), redacts them and hands them to the sink. Thread-safe."""

    def __init__(self, run_id: str, sink: EventSink | None, *, redact_mode: RedactMode = "default",
                 clock: Callable[[], str] = now_rfc3339) -> None:
        if not run_id:
            raise ValueError("run_id must be a non-empty string")
        self.run_id = run_id
        self.sink = sink
        self.redact_mode = redact_mode
        self.clock = clock
        self.seq = 0
        self._lock = threading.Lock()

    def emit(self, etype: str, data: Mapping[str, Any] | None = None, *, node_id: str | None = None,
             extensions: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if etype not in EVENT_TYPES:
            raise ValueError(f"unknown engine event type {etype!r}")
        event: dict[str, Any] = {"type": etype}
        if node_id is not None:
            event["node_id"] = node_id
        event["data"] = redact(dict(data or {}), self.redact_mode)
        if extensions:
            event["extensions"] = dict(extensions)
        with self._lock:
            record = {"schema": EVENT_SCHEMA, "run_id": self.run_id, "seq": self.seq, "ts": self.clock(),
                      "event": event}
            self.seq += 1
            if self.sink is not None:
                self.sink.emit(record)
        return record
