"""The ``aisc`` program's entry point: main's exit code, then a shutdown that skips the final
collections (everything alive is frozen first) and still delivers all output."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from aisc import cli

REPO = Path(__file__).resolve().parents[2]
FLOW = REPO / "aisc" / "data" / "examples" / "bridge-send-wait-deposit.ais-flow.yaml"


def test_entry_exits_with_mains_code_after_freezing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(cli, "main", lambda: calls.append("main") or 5)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    with pytest.raises(SystemExit) as e:
        cli.entry()
    assert e.value.code == 5
    assert calls == ["main", "freeze"]


def test_main_alone_freezes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    before = gc.get_freeze_count()
    assert cli.main(["--version"]) == 0
    assert gc.get_freeze_count() == before
    assert capsys.readouterr().out.startswith("aisc ")


def test_program_output_and_files_are_complete(tmp_path: Path) -> None:
    """Through the real entry point: a written plan and a large stdout arrive whole, exit codes kept."""
    out = tmp_path / "plan.json"
    proc = subprocess.run([sys.executable, "-m", "aisc", "compile", str(FLOW), "-o", str(out)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert [n["id"] for n in json.loads(out.read_text())["nodes"]] == ["bridge_send", "wait_arrival",
                                                                       "solana_deposit"]
    proc = subprocess.run([sys.executable, "-m", "aisc", "compile", str(FLOW), "--emit", "checked",
                           "--format", "json"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["order"] == ["bridge_send", "wait_arrival", "solana_deposit"]
    proc = subprocess.run([sys.executable, "-m", "aisc", "compile", str(tmp_path / "missing.ais-flow.yaml")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)  # a missing file is a usage error
    assert "missing.ais-flow.yaml" in proc.stderr


def test_checking_the_examples_loads_no_cel_parser() -> None:
    """Start-up cost: the R059 address check parses an expression only when it contains a '+'; the
    bundled examples have none, so `aisc check` of them never imports lark (~50 ms)."""
    examples = sorted(str(p) for p in (REPO / "aisc" / "data" / "examples").glob("*.yaml"))
    code = ("import sys\nfrom aisc.cli import main\ncode = main(['check', *sys.argv[1:]])\n"
            "print(code, 'lark' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code, *examples], capture_output=True, text=True, timeout=120)
    assert proc.stdout.splitlines()[-1] == "0 False", proc.stdout + proc.stderr
