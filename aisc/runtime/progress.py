"""Human progress output for ``aisc run``: a live view on a terminal, plain lines otherwise.

The view is an event sink. On a TTY it redraws one line per node (pending / running / waiting /
paused / done / skipped / failed) in place; elsewhere it appends one line per state change, so logs
stay readable. :func:`summary_table` renders the final table.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

_STATE_OF_EVENT = {
    "node_ready": "running",
    "query_result": "done",
    "tx_sent": "sent",
    "tx_confirmed": "done",
    "node_waiting": "waiting",
    "skipped": "skipped",
    "need_user_confirm": "paused",
    "node_paused": "paused",
    "node_blocked": "blocked",
    "error": "failed",
}
_MARK = {"pending": "·", "running": "▶", "sent": "▶", "waiting": "…", "paused": "‖", "blocked": "?",
         "done": "✓", "skipped": "-", "failed": "✗"}


class ProgressView:
    def __init__(self, stream: IO[str], node_ids: Sequence[str], *, live: bool) -> None:
        self.stream = stream
        self.live = live
        self.ids = list(node_ids)
        self.state: dict[str, str] = dict.fromkeys(self.ids, "pending")
        self.note: dict[str, str] = {}
        self._drawn = 0
        self._last = 0.0
        self.width = max((len(i) for i in self.ids), default=4)

    def emit(self, record: Mapping[str, Any]) -> None:
        ev = record.get("event") or {}
        etype = ev.get("type")
        nid = ev.get("node_id")
        if nid not in self.state:
            return
        new = _STATE_OF_EVENT.get(str(etype))
        if new is None:
            return
        data = ev.get("data") or {}
        note = ""
        if etype in ("need_user_confirm", "node_paused", "error", "skipped"):
            note = str(data.get("reason", ""))
        elif etype == "node_waiting":
            note = f"attempt {data.get('attempts')}"
        elif etype == "tx_sent":
            note = str(data.get("tx_hash", ""))
        if etype == "query_result" and self.state[nid] in ("sent",):
            return
        self.state[nid] = new
        self.note[nid] = note
        if self.live:
            now = time.monotonic()
            if now - self._last >= 0.05 or new in ("paused", "failed", "done"):
                self._redraw()
                self._last = now
        else:
            self.stream.write(f"[{new:>7}] {nid}{'  ' + note if note else ''}\n")
            self.stream.flush()

    def _line(self, nid: str) -> str:
        st = self.state[nid]
        note = self.note.get(nid, "")
        return f" {_MARK.get(st, ' ')} {nid:<{self.width}}  {st:<8} {note}"[:160]

    def _redraw(self) -> None:
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F")
        shown = self.ids[-40:] if len(self.ids) > 40 else self.ids
        for nid in shown:
            self.stream.write("\x1b[2K" + self._line(nid) + "\n")
        self._drawn = len(shown)
        self.stream.flush()

    def finish(self) -> None:
        if self.live:
            self._redraw()

    def close(self) -> None:
        pass


def summary_table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    def fmt(r: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip()
    lines = [fmt(headers), fmt(["-" * w for w in widths])]
    lines += [fmt(r) for r in rows]
    return "\n".join(lines)
