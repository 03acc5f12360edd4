"""Human progress output for ``aisc run``: a live view on a terminal, plain lines otherwise.

The view is an event sink. On a TTY it redraws one line per node (pending / running / waiting /
paused / done / skipped / failed) in place; elsewhere it appends one line per state change, so logs
stay readable. :func:`summary_table` renders the final table.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import IO, Any

#: event type -> node state shown by the view (``tx_sent`` shows as its own ``sent`` state)
STATE_OF_EVENT = {
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


_RECENT = 256  # state changes remembered for the live view's recently finished rows
_ACTIVE = ("running", "sent", "waiting", "paused", "blocked", "failed")


def _terminal_size(stream: IO[str]) -> tuple[int, int]:
    try:
        size = os.get_terminal_size(stream.fileno())
        return size.columns, size.lines
    except (OSError, ValueError, AttributeError):
        return 100, 40


class ProgressView:
    """Event sink that shows node progress. ``live``: redraw a block of lines in place (a TTY)."""

    def __init__(self, stream: IO[str], node_ids: Sequence[str], *, live: bool) -> None:
        self.stream = stream
        self.live = live
        self.ids = list(node_ids)
        self.index = {nid: i for i, nid in enumerate(self.ids)}
        self.state: dict[str, str] = dict.fromkeys(self.ids, "pending")
        self.note: dict[str, str] = {}
        self.polling: set[str] = set()  # nodes with `until`: a query_result is not the end of them
        self._changed: dict[str, int] = {}
        self._tick = 0
        self._drawn = 0
        self._last = 0.0
        self.width = max((len(i) for i in self.ids), default=4)

    def emit(self, record: Mapping[str, Any]) -> None:
        ev = record.get("event") or {}
        etype = ev.get("type")
        if etype == "plan_ready":
            plan = (ev.get("data") or {}).get("plan") or {}
            self.polling = {str(n.get("id")) for n in plan.get("nodes") or () if n.get("until") is not None}
            return
        if etype == "engine_paused" and self.live:
            # a prompt may be printed below the view: draw the final frame and start a new block
            self._redraw()
            self._drawn = 0
            return
        nid = ev.get("node_id")
        if nid not in self.state:
            return
        new = STATE_OF_EVENT.get(str(etype))
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
        elif etype == "tx_confirmed":
            note = self.note.get(nid, "")  # keep the tx hash
        if etype == "query_result" and self.state[nid] in ("sent",):
            return
        self.state[nid] = new
        if note:
            self.note[nid] = note
        else:
            self.note.pop(nid, None)
        if self.live:  # recency, for the "most recently finished" rows; bounded (a view shows <= 40)
            self._tick += 1
            self._changed.pop(nid, None)
            self._changed[nid] = self._tick
            if len(self._changed) > _RECENT:
                self._changed.pop(next(iter(self._changed)))
        if self.live:
            if etype == "query_result" and nid in self.polling:
                return  # node_waiting (or the next event) says whether the poll is over
            now = time.monotonic()
            # at most 20 frames a second; a frame is drawn sooner when a node starts than when one
            # finishes, so a busy run shows what runs (the next start redraws a finish anyway); a
            # node that starts to wait for its poll interval, pauses or fails is drawn at once
            due = 0.05 if new in _ACTIVE else 0.1
            if now - self._last >= due or new in ("paused", "failed", "waiting"):
                self._redraw()
                self._last = now
        else:
            self.stream.write(f"[{new:>7}] {nid}{'  ' + note if note else ''}\n")
            self.stream.flush()

    def counts(self) -> str:
        c = Counter("running" if s == "sent" else s for s in self.state.values())
        order = ("done", "running", "waiting", "paused", "blocked", "failed", "skipped", "pending")
        parts = [f"{c[k]} {k}" for k in order if c.get(k)]
        return f"{len(self.ids)} nodes: " + ", ".join(parts)

    def _line(self, nid: str, columns: int) -> str:
        st = self.state[nid]
        note = self.note.get(nid, "")
        line = f" {_MARK.get(st, ' ')} {nid:<{self.width}}  {st:<8} {note}".rstrip()
        return line if len(line) < columns else line[:max(columns - 2, 1)] + "…"

    def visible(self, rows: int) -> list[str]:
        """The nodes shown in a block of ``rows`` lines: all of them when they fit, else the active
        ones, then the most recently finished, then the next pending ones (in plan order)."""
        if len(self.ids) <= rows:
            return list(self.ids)
        active = [n for n in self.ids if self.state[n] in _ACTIVE][:rows]
        finished = sorted((n for n in self._changed if self.state[n] not in _ACTIVE),
                          key=lambda n: -self._changed[n])
        pending = [n for n in self.ids if self.state[n] == "pending"]
        room = rows - len(active)
        recent = finished[:room - min(len(pending), room // 2)]
        chosen = active + recent + pending[:rows - len(active) - len(recent)]
        return sorted(chosen, key=self.index.__getitem__)

    def _redraw(self) -> None:
        columns, lines = _terminal_size(self.stream)
        rows = max(1, min(40, lines - 3))
        out: list[str] = []
        if self._drawn:
            out.append(f"\x1b[{self._drawn}F")
        shown = self.visible(rows)
        out.append("\x1b[2K" + self.counts()[:columns - 1] + "\n")
        out.extend("\x1b[2K" + self._line(nid, columns) + "\n" for nid in shown)
        out.append("\x1b[J")  # clear what a taller previous frame left below
        self.stream.write("".join(out))
        self._drawn = len(shown) + 1
        self.stream.flush()

    def finish(self) -> None:
        """Remove the live block (the summary table printed next says the same, and more)."""
        if self.live and self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self.stream.flush()
            self._drawn = 0

    def close(self) -> None:
        pass


def summary_table(rows: Sequence[Sequence[str]], headers: Sequence[str], *, width: int | None = None) -> str:
    """A plain text table: numeric columns right-aligned; with ``width``, cells of the last column
    are cut so that no line is longer than ``width`` (a terminal)."""
    cells = [[str(c) for c in r] for r in rows]
    if width is not None and headers:
        fixed = sum(max(len(str(x)) for x in col) + 2 for col in zip(headers, *cells, strict=False)) - \
            max(len(str(x)) for x in [headers[-1], *(r[-1] for r in cells if r)])
        room = max(width - fixed - 1, 12)
        cells = [[*r[:-1], r[-1] if len(r[-1]) <= room else r[-1][:room - 1] + "…"] if r else r for r in cells]
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *cells, strict=False)]
    numeric = [bool(col[1:]) and all(x.isdigit() for x in col[1:]) for col in zip(headers, *cells, strict=False)]

    def fmt(r: Sequence[str]) -> str:
        return "  ".join(str(c).rjust(w) if num else str(c).ljust(w)
                         for c, w, num in zip(r, widths, numeric, strict=False)).rstrip()

    lines = [fmt(headers), fmt(["-" * w for w in widths])]
    lines += [fmt(r) for r in cells]
    return "\n".join(lines)
