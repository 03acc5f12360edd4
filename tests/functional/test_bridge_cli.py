"""``aisc bridge``: exactly one JSON document on stdout, exit codes from the failure-category table,
the shipped output schema, golden samples (success, failure, paused) and ``--schema-path``."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aisc.cli import main
from aisc.runtime import categories

HERE = Path(__file__).resolve().parent
GOLDEN = HERE.parent / "golden" / "bridge"
REPO = HERE.parents[1]
SCHEMA = json.loads((REPO / "aisc" / "data" / "schemas" / "bridge-output.schema.json").read_text())
CHAIN = "eip155:31337"
ERC20 = "/work/shared/ais/examples/erc20.ais.yaml"


def _validator() -> Any:
    cls = jsonschema.validators.validator_for(SCHEMA)
    cls.check_schema(SCHEMA)
    return cls(SCHEMA)


def read(nid: str, **over: Any) -> dict[str, Any]:
    n = {"id": nid, "chain": CHAIN, "kind": "query_ref",
         "execution": {"type": "evm_read", "to": {"lit": "0x01"}, "abi": {"type": "function", "name": "f", "inputs": []},
                       "args": {}}}
    n.update(over)
    return n


def write(nid: str, **over: Any) -> dict[str, Any]:
    n = {"id": nid, "chain": CHAIN, "kind": "action_ref",
         "execution": {"type": "evm_call", "to": {"lit": "0x00000000000000000000000000000000000000c0"},
                       "abi": {"type": "function", "name": "g", "inputs": []}, "args": {}}}
    n.update(over)
    return n


def files(tmp: Path, nodes: list[dict[str, Any]], chain_cfg: dict[str, Any]) -> tuple[str, str]:
    plan = tmp / "plan.json"
    plan.write_text(json.dumps({"schema": "ais-plan/0.0.3", "meta": {"name": "bridge-test"}, "nodes": nodes}))
    cfg = tmp / "config.json"
    cfg.write_text(json.dumps({"backends": {"ledger": {"factory": "ledger_chain:make_backend"}},
                               "chains": {CHAIN: chain_cfg}}))
    return str(plan), str(cfg)


def bridge(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
           tmp: Path) -> tuple[int, dict[str, Any], str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.setenv("AISC_HOME", str(tmp / "home"))
    code = main(["bridge", *argv])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 1, f"stdout must be exactly one JSON document, got {len(lines)} lines:\n{out}"
    doc = json.loads(lines[0])
    assert doc["exit_code"] == code
    return code, doc, err


class Veto:
    def pre_step(self, node: Any, inputs: Any, context: Any) -> Any:
        return {"decision": "veto", "reason": "writes are frozen"} if node["id"] == "w" else None


class PauseAll:
    def pre_execution(self, plan: Any, context: Any) -> Any:
        return "pause"


class Interrupt:
    def pre_execution(self, plan: Any, context: Any) -> Any:
        raise KeyboardInterrupt


FAKE_OK = {"backend": "fake", "script": {"q": {"outputs": {"balance": 2**70}}}}
LEDGER = {"backend": "ledger", "signer": {"env": "AISC_BRIDGE_KEY"}}

# (id, nodes, chain config, extra argv, expected category)
CATEGORY_CASES: list[tuple[str, list[dict[str, Any]], dict[str, Any], list[str], str | None]] = [
    ("ok", [read("q"), write("w", deps=["q"])], FAKE_OK, [], None),
    ("execution_failed", [write("w")], {"backend": "fake", "script": {"w": {"fail": "reverted"}}}, [],
     "execution_failed"),
    ("rpc_unavailable", [write("w")], {**LEDGER, "fail": {"w": {"message": "connection refused",
                                                                "category": "rpc_unavailable"}}}, [], "rpc_unavailable"),
    ("internal", [write("w")], {**LEDGER, "fail": {"w": {"message": "boom", "category": "bug"}}}, [], "internal"),
    ("needs_confirmation", [write("w")], {"backend": "fake", "script": {"w": {"need_user_confirm": "no signer"}}}, [],
     "needs_confirmation"),
    ("policy_blocked", [read("q"), write("w", deps=["q"])], FAKE_OK, ["--hooks", "test_bridge_cli:Veto"],
     "policy_blocked"),
    ("timeout", [read("q", until={"ref": "nodes.q.outputs.done"}, retry={"interval_ms": 1, "max_attempts": 2})],
     {"backend": "fake", "script": {"q": {"outputs": {"done": False}}}}, [], "timeout"),
    ("cancelled", [write("w")], FAKE_OK, ["--hooks", "test_bridge_cli:Interrupt"], "cancelled"),
]


@pytest.mark.parametrize(("nodes", "chain_cfg", "extra", "category"), [c[1:] for c in CATEGORY_CASES],
                         ids=[c[0] for c in CATEGORY_CASES])
def test_run_category_and_exit_code(nodes: list[dict[str, Any]], chain_cfg: dict[str, Any], extra: list[str],
                                    category: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    cfg = {**chain_cfg, "db": str(tmp_path / "chain.db")} if chain_cfg["backend"] == "ledger" else chain_cfg
    monkeypatch.setenv("AISC_BRIDGE_KEY", "11" * 32)
    plan, config = files(tmp_path, nodes, cfg)
    code, doc, _ = bridge(["exec-workflow", "--plan", plan, "--config", config, "--no-hook-plugins", *extra],
                          monkeypatch, capsys, tmp_path)
    assert doc["category"] == category
    assert code == (0 if category is None else categories.TABLE[category][0])
    assert doc["ok"] is (category is None)
    _validator().validate(doc)


EARLY_CASES = [
    ("usage-unknown-option", ["exec-workflow", "--plan", "p.json", "--bogus"], "usage", 2),
    ("usage-no-subcommand", [], "usage", 2),
    ("usage-no-source", ["exec-workflow"], "usage", 2),
    ("validation-missing-plan", ["exec-workflow", "--plan", "missing.json"], "validation", 3),
    ("validation-bad-inputs", ["exec-workflow", "--plan", "{plan}", "--inputs", "[1]"], "validation", 3),
    ("validation-bad-config", ["exec-workflow", "--plan", "{plan}", "--config", '{"chains": {"x": {}}}'],
     "validation", 3),
    ("validation-bad-hook", ["exec-workflow", "--plan", "{plan}", "--hooks", "nope.module:thing"], "validation", 3),
    ("validation-unknown-query", ["exec-capability", "--protocol", ERC20, "--query", "nope", "--chain", CHAIN],
     "validation", 3),
    ("validation-missing-capability-param", ["exec-capability", "--protocol", ERC20, "--query", "balance-of",
                                             "--chain", CHAIN, "--params", "{}"], "validation", 3),
    ("validation-schema-path-unreadable", ["exec-workflow", "--plan", "{plan}", "--schema-path", "nope.json"],
     "validation", 3),
]


@pytest.mark.parametrize(("argv", "category", "code"), [c[1:] for c in EARLY_CASES], ids=[c[0] for c in EARLY_CASES])
def test_early_failures_still_print_one_document(argv: list[str], category: str, code: int, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    plan, _ = files(tmp_path, [read("q")], FAKE_OK)
    got, doc, err = bridge([a.replace("{plan}", plan) for a in argv], monkeypatch, capsys, tmp_path)
    assert (got, doc["category"], doc["status"]) == (code, category, "rejected")
    assert categories.TABLE[category][0] == code
    assert doc["error"]["message"] and err  # the reason is in the document and in the log
    _validator().validate(doc)


def test_output_invalid_against_callers_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    strict = tmp_path / "mine.schema.json"
    strict.write_text(json.dumps({"type": "object", "required": ["not_a_field"]}))
    plan, config = files(tmp_path, [read("q")], FAKE_OK)
    code, doc, _ = bridge(["exec-workflow", "--plan", plan, "--config", config, "--schema-path", str(strict)],
                          monkeypatch, capsys, tmp_path)
    assert (code, doc["category"], doc["status"]) == (8, "output_invalid", "succeeded")
    assert doc["schema_validation"]["valid"] is False and "not_a_field" in doc["schema_validation"]["errors"][0]


def test_schema_path_accepts_the_shipped_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    shipped = tmp_path / "shipped.json"
    assert main(["bridge", "schema"]) == 0
    shipped.write_text(capsys.readouterr().out)
    assert json.loads(shipped.read_text()) == SCHEMA
    plan, config = files(tmp_path, [read("q")], FAKE_OK)
    code, doc, _ = bridge(["exec-workflow", "--plan", plan, "--config", config, "--schema-path", str(shipped)],
                          monkeypatch, capsys, tmp_path)
    assert code == 0 and doc["schema_validation"] == {"schema": str(shipped), "valid": True, "errors": []}


def test_exec_capability_runs_one_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"chains": {CHAIN: {"backend": "fake", "script": {"capability": {"outputs": {"amount": 5}}}}}}))
    params = {"token": {"chain_id": CHAIN, "address": "0x00000000000000000000000000000000000000c0", "symbol": "T",
                        "decimals": 6}, "owner": "0x00000000000000000000000000000000000000a1"}
    code, doc, _ = bridge(["exec-capability", "--protocol", ERC20, "--query", "balance-of", "--chain", CHAIN,
                           "--params", json.dumps(params), "--config", str(cfg)], monkeypatch, capsys, tmp_path)
    assert code == 0, doc
    assert doc["capability"] == {"protocol": "erc20@0.0.2", "query": "balance-of", "chain": CHAIN}
    assert doc["outputs"] == {"amount": 5}
    assert [s["node_id"] for s in doc["steps"]] == ["capability"]
    _validator().validate(doc)


# ------------------------------------------------------------------ golden samples

_VOLATILE = re.compile(r"_at$|^run_id$|^duration_ms$|^aisc_version$|^ts$")


def normalize(v: Any, key: str = "") -> Any:
    if isinstance(v, dict):
        return {k: ((0 if isinstance(x, int) else "<volatile>") if _VOLATILE.search(k) and x is not None
                    else normalize(x, k)) for k, x in v.items()}
    if isinstance(v, list):
        return [normalize(x, key) for x in v]
    return v


GOLDEN_CASES = {
    "success": ([read("q"), write("w", deps=["q"])], FAKE_OK, []),
    "failure": ([write("w1"), write("w2", deps=["w1"])], {"backend": "fake", "script": {"w2": {"fail": "reverted"}}}, []),
    "paused": ([read("q"), write("w", deps=["q"])], {"backend": "fake", "script": {"w": {"need_user_confirm": "no signer"}}},
               []),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden_sample_validates_and_matches(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    golden_path = GOLDEN / f"{name}.json"
    golden = json.loads(golden_path.read_text())
    nodes, cfg, extra = GOLDEN_CASES[name]
    plan, config = files(tmp_path, nodes, cfg)
    _, doc, _ = bridge(["exec-workflow", "--plan", plan, "--config", config, "--no-hook-plugins", *extra],
                       monkeypatch, capsys, tmp_path)
    if os.environ.get("AISC_UPDATE_GOLDEN") == "1":
        golden_path.write_text(json.dumps(normalize(doc), indent=2) + "\n")
        golden = json.loads(golden_path.read_text())
    _validator().validate(golden)
    assert normalize(doc) == golden


def test_golden_samples_cover_success_failure_paused() -> None:
    docs = {p.stem: json.loads(p.read_text()) for p in GOLDEN.glob("*.json")}
    assert {k: (d["status"], d["category"], d["exit_code"]) for k, d in docs.items()} == {
        "success": ("succeeded", None, 0), "failure": ("failed", "execution_failed", 1),
        "paused": ("paused", "needs_confirmation", 4)}


def test_category_table_is_documented() -> None:
    doc = (REPO / "docs" / "bridge.md").read_text()
    assert categories.markdown_table() in doc
    assert set(SCHEMA["$defs"]["category"]["enum"]) == set(categories.TABLE)
