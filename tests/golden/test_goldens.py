"""The compatibility surface under golden files (docs/compat.md): CLI help, exit codes, diagnostic
codes, a compiled example plan, the engine event record shape and the bundle manifest."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aisc import exitcodes
from aisc.cli import main

ROOT = Path(__file__).resolve().parents[2]
WS = Path(__file__).resolve().parent / "workspace"
FLOW = WS / "flows" / "pay.ais-flow.yaml"
TO = "0x2222222222222222222222222222222222222222"
Golden = Callable[[str, str], None]


def test_cli_help(golden: Golden, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["--help"]) == exitcodes.OK
    golden("cli_help.txt", capsys.readouterr().out)


def test_exit_codes(golden: Golden) -> None:
    names = {v: k for k, v in vars(exitcodes).items() if k.isupper() and isinstance(v, int)}
    table = [{"code": c, "name": names[c], "meaning": m} for c, m in sorted(exitcodes.TABLE.items())]
    golden("exit_codes.json", json.dumps(table, indent=2) + "\n")


def test_diagnostic_codes(golden: Golden) -> None:
    """Every ``AISC-AREA-NNN`` code in the source: removing or renaming one is a breaking change."""
    codes: set[str] = set()
    for f in sorted((ROOT / "aisc").rglob("*.py")):
        codes.update(re.findall(r"AISC-[A-Z]+-\d{3}", f.read_text(encoding="utf-8")))
    golden("diagnostic_codes.txt", "\n".join(sorted(codes)) + "\n")


def test_example_plan(golden: Golden, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bundled example compiled with SOURCE_DATE_EPOCH=0 (the plan format and the lowering)."""
    from aisc.compiler import Compilation, plan_text

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    monkeypatch.delenv("AISC_WORKSPACE", raising=False)
    example = ROOT / "aisc" / "data" / "examples" / "bridge-send-wait-deposit.ais-flow.yaml"
    golden("plan_bridge-send-wait-deposit.json", plan_text(Compilation(example).plan))


def _shape(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _shape(x) for k, x in sorted(v.items())}
    if isinstance(v, list):
        return [_shape(v[0])] if v else []
    return type(v).__name__


def test_event_record_shape(golden: Golden, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The JSONL event records of a small run: envelope keys and each event type's data keys."""
    plan = tmp_path / "plan.json"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert main(["compile", str(FLOW), "--workspace", str(WS), "-o", str(plan)]) == exitcodes.OK
    cfg = tmp_path / "chains.yaml"
    cfg.write_text('chains:\n  "eip155:1":\n    backend: fake\n    script: {"q_balance": {"outputs": {"balance": 5}}}\n')
    ev = tmp_path / "events.jsonl"
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(["run", str(plan), "--config", str(cfg), "--yes", "--run-id", "golden",
                 "--inputs", json.dumps({"amount": "5", "to": TO, "owner": TO}),
                 "--ctx", json.dumps({"wallet_address": "0x00000000000000000000000000000000000000a1"}),
                 "--events-jsonl", str(ev)])
    assert code == exitcodes.OK
    shapes: dict[str, Any] = {}
    envelope: Any = None
    for line in ev.read_text().splitlines():
        rec = json.loads(line)
        event = rec["event"]
        envelope = {k: _shape(v) for k, v in sorted(rec.items()) if k != "event"}
        envelope["event"] = sorted(event)
        shapes.setdefault(event["type"], sorted(event.get("data", {})))
    golden("event_shape.json", json.dumps({"record": envelope, "data_keys": shapes}, indent=2, sort_keys=True)
           + "\n")


def test_bundle_manifest(golden: Golden, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundle format: member layout and manifest keys (digests replaced by their shape)."""
    from aisc.bundles import build_bundle

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    _, manifest = build_bundle(FLOW, workspace=WS)
    m = dict(manifest)
    m["aisc_version"] = "<version>"
    m["manifest_sha256"] = "<sha256>"
    m["plan"] = {**m["plan"], "plan_hash": "<hash>"}
    m["members"] = [{**e, "sha256": "<sha256>", "size": "<int>", "spec_hash": "<hash>"} for e in m["members"]]
    golden("bundle_manifest.json", json.dumps(m, indent=2, sort_keys=True) + "\n")
