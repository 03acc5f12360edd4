"""Run traces: engine events as JSON lines, with redaction modes (R186/R187).

A trace file is a sequence of ``ais-engine-event/0.0.3`` records (one per line, ``ais-json/1``
codec). The first ``plan_ready`` record carries ``event.extensions.aisc.trace`` with what a replay
needs beyond the events: the run inputs and context (redacted), the redaction mode and the aisc
version.

Modes (``--trace-redact``):

- ``default``: private keys, seeds, mnemonics, raw signed transactions, full RPC payloads and
  PII-like fields (e-mail, phone, IP address, person names, postal address, ...) are replaced by
  ``"[redacted]"``.
- ``audit``: keeps raw signed transactions and RPC payloads (for auditors), still drops key
  material and PII-like fields.
- ``off``: keeps everything except key material (a private key is never written, in any mode).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from aisc.runtime.events import REDACTED, RedactMode, dumps_record, redact

TRACE_MODES: tuple[RedactMode, ...] = ("default", "audit", "off")

PII_KEYS = frozenset({
    "email", "e_mail", "email_address", "phone", "phone_number", "mobile", "ip", "ip_address", "ipaddress",
    "full_name", "first_name", "last_name", "given_name", "family_name", "person_name", "legal_name",
    "street", "street_address", "postal_address", "home_address", "postal_code", "zip", "zip_code",
    "ssn", "social_security_number", "tax_id", "passport", "passport_number", "national_id",
    "date_of_birth", "dob", "birth_date", "birthday", "user_agent", "geo", "geolocation", "kyc",
})


def redact_trace(value: Any, mode: RedactMode = "default") -> Any:
    """:func:`aisc.runtime.events.redact` plus PII-like fields in ``default`` and ``audit`` modes."""
    out = redact(value, mode)
    return _drop_pii(out) if mode in ("default", "audit") else out


def _drop_pii(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: (REDACTED if str(k).lower() in PII_KEYS else _drop_pii(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_drop_pii(v) for v in value]
    return value


class TraceSink:
    """An event sink writing a trace file. Records are re-redacted in the trace's own mode."""

    def __init__(self, target: str | IO[str], mode: RedactMode = "default", *,
                 inputs: Mapping[str, Any] | None = None, ctx: Mapping[str, Any] | None = None,
                 info: Mapping[str, Any] | None = None) -> None:
        if mode not in TRACE_MODES:
            raise ValueError(f"unknown trace redaction mode {mode!r}")
        self.mode: RedactMode = mode
        self._own = isinstance(target, str)
        self.fh: IO[str] = open(target, "a", encoding="utf-8") if isinstance(target, str) else target  # noqa: SIM115
        self.header: dict[str, Any] = {"redact": mode, **dict(info or {})}
        if inputs is not None:
            self.header["inputs"] = dict(inputs)
        if ctx is not None:
            self.header["ctx"] = dict(ctx)
        self._headed = False

    def emit(self, record: Mapping[str, Any]) -> None:
        rec = redact_trace(dict(record), self.mode)
        ev = rec.get("event")
        if isinstance(ev, dict) and ev.get("type") == "plan_ready" and not self._headed:
            from aisc import __version__

            ext = dict(ev.get("extensions") or {})
            aisc_ext = dict(ext.get("aisc") or {})
            aisc_ext["trace"] = redact_trace({"aisc_version": __version__, **self.header}, self.mode)
            ext["aisc"] = aisc_ext
            ev["extensions"] = ext
            self._headed = True
        self.fh.write(dumps_record(rec) + "\n")
        self.fh.flush()

    def close(self) -> None:
        if self._own:
            self.fh.close()


class TraceError(ValueError):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.message = message
        self.line = line


def read_trace(path: str) -> list[dict[str, Any]]:
    """Parse a trace (or any ``--events-jsonl`` file). Raises :class:`TraceError` with a line number."""
    from aisc import aisjson
    from aisc.runtime.events import EVENT_SCHEMA

    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError as e:
        raise TraceError(f"cannot read {path}: {e.strerror}") from None
    out: list[dict[str, Any]] = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = aisjson.loads(line)
        except ValueError as e:
            raise TraceError(f"not JSON: {e}", i) from None
        if not isinstance(rec, dict) or rec.get("schema") != EVENT_SCHEMA or not isinstance(rec.get("event"), dict):
            raise TraceError(f"not an {EVENT_SCHEMA} record", i)
        out.append(rec)
    return out
