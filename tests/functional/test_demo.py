"""``aisc demo``: the bundled workflow compiled and run end to end on the in-process LiteSVM (issue 10 item 3).

The demo ships in the package (aisc/data/demo): the signer is ephemeral, the chain is seeded from the
manifest, no file of the user's is read and nothing is written (no run store).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aisc.cli import main
from aisc.commands.demo import load_demos
from aisc.runtime.testing import validate_event

# the demo manifest's numbers: 100 DEMO minted to the signer, 12.5 DEMO sent, 2 SOL airdropped
BALANCE_ROWS = [
    ("sender (ephemeral signer)", "DEMO", "100", "87.5", "-12.5"),
    ("recipient", "DEMO", "0", "12.5", "+12.5"),
]


def _rows(text: str) -> list[tuple[str, ...]]:
    return [tuple(re.split(r"\s{2,}", line.strip())) for line in text.splitlines() if line.strip()]


def test_demo_runs_and_prints_balances(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr()
    rows = _rows(out.out)
    for row in BALANCE_ROWS:
        assert row in rows
    sol = next(r for r in rows if r[:2] == ("signer (fees, account rent)", "SOL"))
    assert sol[2] == "2" and sol[4].startswith("-0.00")  # fees and the new token account's rent
    for node in ("transfer__create_recipient_ata", "transfer", "recipient_balance", "sender_balance"):
        assert (node, "done", "1") in rows
    assert re.search(r"^demo spl-transfer: done in \d+\.\d\d s \(exit 0: ok\)$", out.out, re.M)
    assert "[   done] transfer" in out.err  # the progress view (plain lines when not a terminal)


def test_demo_events_to_stdout_are_valid_jsonl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--events-jsonl", "-"]) == 0
    out = capsys.readouterr()
    records = [validate_event(line) for line in out.out.splitlines()]
    types = [r["event"]["type"] for r in records]
    assert types[0] == "plan_ready" and types.count("tx_confirmed") == 2 and types.count("query_result") == 2
    assert "balance" in out.err and "-12.5" in out.err  # the summary moved to stderr


def test_demo_ignores_user_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """AISC_WORKSPACE names the user's documents for compile/run; the demo never reads them (here a
    second spl-token@0.0.2 there would be a duplicate-protocol error, AISC-WS-004)."""
    spl = Path(load_demos()["spl-transfer"].workflow).parent.parent / "examples" / "spl-token.ais.yaml"
    (tmp_path / "spl-token.ais.yaml").write_text(spl.read_text().replace("Tokenkeg", "Tokenkeh"))
    monkeypatch.setenv("AISC_WORKSPACE", str(tmp_path))
    assert main(["demo"]) == 0
    assert "+12.5" in capsys.readouterr().out


def test_demo_list_and_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--list"]) == 0
    assert capsys.readouterr().out.startswith("spl-transfer  ")
    assert main(["demo", "--example", "no-such-demo"]) == 2
    assert "no demo named 'no-such-demo' (available: spl-transfer)" in capsys.readouterr().err


def test_demo_manifest_files_exist() -> None:
    for demo in load_demos().values():
        assert os.path.isfile(demo.workflow)
        assert demo.pack is None or os.path.isfile(demo.pack)


def test_demo_subprocess_outside_repo_writes_nothing(tmp_path: Path) -> None:
    """From another directory with an empty HOME: exit 0, no file created, no private key printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISC_")}
    env.update(HOME=str(tmp_path), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-m", "aisc", "demo"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "done in" in proc.stdout
    assert list(tmp_path.iterdir()) == []
    assert not re.search(r"\[(\s*\d+\s*,){63}", proc.stdout + proc.stderr)  # no 64-byte key array


def test_demo_events_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ev.jsonl"
    assert main(["demo", "--events-jsonl", str(path)]) == 0
    sent = [json.loads(line)["event"] for line in path.read_text().splitlines()]
    assert [e["node_id"] for e in sent if e["type"] == "tx_sent"] == ["transfer__create_recipient_ata", "transfer"]
    assert "-12.5" in capsys.readouterr().out
