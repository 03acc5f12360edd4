"""``aisc run`` at a terminal: the live progress view and the final summary, seen through a
pseudo-terminal (stderr is a pty of a known size) and a small screen model of the escape codes
the view uses (CSI n F, CSI 2 K, CSI J, CR, LF). Issue 5, deliverable 9."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

CHAIN = "eip155:31337"
ABI = {"type": "function", "name": "f", "inputs": []}
_CSI = re.compile(r"\x1b\[(\d*)([A-Za-z])")


def _read(nid: str, **over: Any) -> dict[str, Any]:
    n: dict[str, Any] = {"id": nid, "chain": CHAIN, "kind": "query_ref",
                         "execution": {"type": "evm_read", "to": {"lit": "0x01"}, "abi": ABI, "args": {}}}
    n.update(over)
    return n


class Screen:
    """Enough of a terminal for the progress view. ``ups`` records every cursor-up distance."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.lines: list[str] = [""]
        self.row = 0
        self.col = 0
        self.ups: list[int] = []
        self.frames: list[list[str]] = []  # the screen after each cursor-up (= before each redraw)
        self.unknown: list[str] = []

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            m = _CSI.match(text, i)
            if m:
                n, op = int(m.group(1) or "1"), m.group(2)
                if op == "F":
                    self.frames.append(list(self.lines))
                    self.ups.append(n)
                    self.row, self.col = max(0, self.row - n), 0
                elif op == "K":
                    self.lines[self.row] = ""
                elif op == "J":
                    del self.lines[self.row + 1:]
                    self.lines[self.row] = self.lines[self.row][:self.col]
                else:
                    self.unknown.append(m.group(0))
                i = m.end()
                continue
            ch = text[i]
            if ch == "\r":
                self.col = 0
            elif ch == "\n":
                self.row += 1
                self.col = 0
                if self.row == len(self.lines):
                    self.lines.append("")
            else:
                line = self.lines[self.row].ljust(self.col)
                self.lines[self.row] = line[:self.col] + ch + line[self.col + 1:]
                self.col += 1
            i += 1

    def text(self) -> list[str]:
        return [ln.rstrip() for ln in self.lines if ln.strip()]


def run_in_pty(tmp_path: Path, nodes: list[dict[str, Any]], script: dict[str, Any], *, rows: int = 24,
               columns: int = 80) -> tuple[int, Screen, str]:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"schema": "ais-plan/0.0.3", "nodes": nodes}), encoding="utf-8")
    cfg = json.dumps({"chains": {CHAIN: {"backend": "fake", "script": script}}})
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "aisc", "run", str(plan), "--config", cfg],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave,
        env={**os.environ, "AISC_HOME": str(tmp_path / "home"), "TERM": "xterm"})
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the pty
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = proc.wait(timeout=60)
    raw = b"".join(chunks).decode("utf-8")
    screen = Screen(columns)
    screen.feed(raw)
    return code, screen, raw


def test_live_view_then_summary_table(tmp_path: Path) -> None:
    nodes = [
        _read("balance"), _read("allowance", deps=["balance"]), _read("quote", deps=["balance"]),
        {"id": "approve", "chain": CHAIN, "kind": "action_ref", "deps": ["allowance"],
         "execution": {"type": "evm_call", "to": {"lit": "0x00000000000000000000000000000000000000c0"},
                       "abi": {"type": "function", "name": "approve", "inputs": []}, "args": {}}},
        _read("unused_check", condition={"lit": False}),
        _read("poll", deps=["approve"], until={"cel": "nodes.poll.outputs.done"},
              retry={"interval_ms": 60, "max_attempts": 5}),
    ]
    script = {"*": {"sleep_ms": 120, "outputs": {"v": 1}},
              "poll": {"outputs": [{"done": False}, {"done": False}, {"done": True}]}}
    code, screen, raw = run_in_pty(tmp_path, nodes, script)
    assert code == 0, raw
    assert screen.unknown == []
    # the live block was drawn in place (cursor moved up over it) and showed progress
    assert screen.ups and max(screen.ups) <= 7
    seen = "\n".join("\n".join(f) for f in screen.frames)
    assert "6 nodes:" in seen and "running" in seen and "skipped  condition=false" in seen
    # a polled node is not shown done while it still waits for its condition
    poll_states = [re.search(r"poll\s+(\w+)", "\n".join(f)) for f in screen.frames]
    states = [m.group(1) for m in poll_states if m]
    assert "waiting" in states
    last_wait = max(i for i, s in enumerate(states) if s == "waiting")
    assert "done" not in states[:last_wait]
    # what stays on the screen: the summary table (the live block is erased), then the status line
    final = screen.text()
    assert final[0].split() == ["node", "state", "attempts", "note"]
    assert set(final[1].replace(" ", "")) == {"-"}
    rows = {ln.split()[0]: ln.split() for ln in final[2:8]}
    assert {k: v[1:3] for k, v in rows.items()} == {
        "balance": ["done", "1"], "allowance": ["done", "1"], "quote": ["done", "1"], "approve": ["done", "1"],
        "unused_check": ["skipped", "0"], "poll": ["done", "3"]}
    assert final[8].startswith("run ") and final[8].endswith("done (exit 0: ok)")
    assert len(final) == 9
    assert not any(ch in "\n".join(final) for ch in "▶…‖")
    # attempts are right-aligned under their header
    header = final[0]
    assert all(ln.split()[2] and ln.index(ln.split()[2]) + len(ln.split()[2]) ==
               header.index("attempts") + len("attempts") for ln in final[2:8])


def test_live_view_fits_a_small_terminal(tmp_path: Path) -> None:
    """60 chained nodes on a 12-row, 60-column terminal: the block never exceeds the screen (so
    cursor-up never leaves it) and no line wraps."""
    nodes = [_read(f"step_{i:02d}_with_a_long_name", **({"deps": [f"step_{i - 1:02d}_with_a_long_name"]} if i else {}))
             for i in range(60)]
    code, screen, raw = run_in_pty(tmp_path, nodes, {"*": {"sleep_ms": 3, "outputs": {"v": 1}}}, rows=12, columns=60)
    assert code == 0, raw
    assert screen.ups and max(screen.ups) <= 12 - 1
    for frame in screen.frames:
        assert all(len(ln) <= 60 for ln in frame)
    assert any(re.match(r"60 nodes: \d+ done, 1 running, \d+ pending", ln) for f in screen.frames for ln in f)
    final = screen.text()
    assert final[0].split() == ["node", "state", "attempts", "note"] and len(final) == 60 + 3
