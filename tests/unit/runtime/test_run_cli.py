"""``aisc run`` end to end on the fake backend (exit codes, events file, stdin commands, dry run)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from aisc import exitcodes
from aisc.cli import main
from aisc.runtime.testing import validate_event

from ._helpers import CHAIN, read, write

PACK = {"name": "safe", "version": "0.0.2", "policy": {"approvals": {"auto_execute_max_risk_level": 2}}}


def _files(tmp_path: Path, nodes: list[dict[str, Any]], script: dict[str, Any] | None = None,
           ext: dict[str, Any] | None = None) -> tuple[str, str]:
    plan: dict[str, Any] = {"schema": "ais-plan/0.0.3", "nodes": nodes}
    if ext:
        plan["extensions"] = ext
    p = tmp_path / "plan.json"
    p.write_text(json.dumps(plan))
    c = tmp_path / "chains.yaml"
    c.write_text(f'chains:\n  "{CHAIN}":\n    backend: fake\n    script: {json.dumps(script or {})}\n')
    return str(p), str(c)


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["run", *argv])


def test_run_done_with_events_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """R188: ``--events-jsonl <path>`` writes one schema-valid event per line to the file."""
    plan, cfg = _files(tmp_path, [read("q", bindings={"params": {"o": {"ref": "inputs.owner"}}}), write("w", deps=["q"])],
                       {"q": {"outputs": {"balance": 2**70}}})
    ev = tmp_path / "ev.jsonl"
    code = _run([plan, "--config", cfg, "--inputs", '{"owner": "0xabc"}', "--events-jsonl", str(ev)], monkeypatch)
    assert code == exitcodes.OK
    lines = ev.read_text().splitlines()
    types = [validate_event(x)["event"]["type"] for x in lines]
    assert types[0] == "plan_ready" and "tx_confirmed" in types
    assert '"__ais_json_type":"bigint"' in lines[types.index("query_result")]
    err = capsys.readouterr().err
    assert "node" in err and "done" in err and "run " in err


def test_run_paused_exit_4_then_confirm_on_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    node = write("w", source={"protocol": "demo@0.0.2", "action": "pay"}, extensions={"aisc": {"action": {"risk_level": 4}}},
                 bindings={"params": {"token": {"lit": {"address": "0xt"}}}})
    plan, cfg = _files(tmp_path, [node], ext={"aisc": {"pack": PACK}})
    assert _run([plan, "--config", cfg], monkeypatch) == exitcodes.PAUSED
    cmd = json.dumps({"schema": "ais-engine-command/0.0.1", "command": {"id": "1", "type": "user_confirm",
                                                                         "data": {"node_id": "w"}}})
    assert _run([plan, "--config", cfg], monkeypatch, stdin=cmd + "\n") == exitcodes.OK
    assert _run([plan, "--config", cfg, "--yes"], monkeypatch) == exitcodes.OK


def test_run_events_on_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """R188: ``--events-jsonl -`` writes the events to standard output."""
    plan, cfg = _files(tmp_path, [read("q")])
    assert _run([plan, "--config", cfg, "--events-jsonl", "-", "--no-store"], monkeypatch) == exitcodes.OK
    out = capsys.readouterr().out.splitlines()
    assert [validate_event(x)["event"]["type"] for x in out] == ["plan_ready", "node_ready", "query_result"]


def test_run_events_on_stdout_with_store_reports_checkpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """With a checkpoint store (the default) every state change is followed by checkpoint_saved (R181)."""
    plan, cfg = _files(tmp_path, [read("q")])
    store = str(tmp_path / "runs.db")
    assert _run([plan, "--config", cfg, "--events-jsonl", "-", "--store", store], monkeypatch) == exitcodes.OK
    types = [validate_event(x)["event"]["type"] for x in capsys.readouterr().out.splitlines()]
    assert [t for t in types if t != "checkpoint_saved"] == ["plan_ready", "node_ready", "query_result"]
    assert "checkpoint_saved" in types


INPUT_ERRORS = [
    ("missing-plan", ["nope.json"], "AISC-RUN-001"),
    ("inputs-not-object", ["{plan}", "--inputs", "[1]"], "AISC-RUN-003"),
    ("inputs-duplicate-key-yaml", ["{plan}", "--inputs", "amount: '1'\namount: '2'"], "AISC-RUN-002"),
    ("inputs-bad-yaml", ["{plan}", "--inputs", "amount: [1"], "AISC-RUN-002"),
    ("bad-config", ["{plan}", "--config", '{"chains": {"x": {}}}'], "AISC-RUN-005"),
    ("invalid-plan", ["{bad}"], "AISC-PLAN-001"),
    ("until-on-write", ["{until}"], "AISC-RUN-006"),
]


@pytest.mark.parametrize(("argv", "code"), [(a, c) for _, a, c in INPUT_ERRORS], ids=[i for i, _, _ in INPUT_ERRORS])
def test_run_input_errors(argv: list[str], code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    plan, _ = _files(tmp_path, [read("q")])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "ais-plan/0.0.3", "nodes": [{"id": "a"}]}))
    until = tmp_path / "until.json"
    until.write_text(json.dumps({"schema": "ais-plan/0.0.3",
                                 "nodes": [write("w", until={"lit": True}, retry={"interval_ms": 1})]}))
    argv = [a.replace("{plan}", plan).replace("{bad}", str(bad)).replace("{until}", str(until)) for a in argv]
    assert _run(argv, monkeypatch) == exitcodes.INPUT
    err = capsys.readouterr().err
    assert code in err and "hint:" in err


def test_yaml_inputs_fraction_is_exact_decimal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fractional YAML number in --inputs arrives as an exact decimal, never a float (R115)."""
    from aisc.commands.run import load_data
    from aisc.numeric import Dec

    data = load_data("amount: 1.10\ncount: 7\nflag: yes", "inputs")
    assert data == {"amount": Dec(11, 1), "count": 7, "flag": "yes"}
    assert not any(isinstance(v, float) for v in data.values())


def test_dry_run_executes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    nodes = [read("q"), write("w", deps=["q"], args={"x": {"ref": "nodes.q.outputs.v"}}),
             read("s", condition={"lit": False}), read("m", bindings={"params": {"a": {"ref": "inputs.a"}}})]
    plan, cfg = _files(tmp_path, nodes, {"*": {"fail": "must not run"}})
    assert _run([plan, "--config", cfg, "--dry-run"], monkeypatch) == exitcodes.PAUSED
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert "would_run" in rows["q"] and "from outputs of earlier nodes: nodes.q.outputs.v" in rows["w"]
    assert "skipped" in rows["s"] and "blocked" in rows["m"] and "inputs.a" in rows["m"]
