"""``aisc compile``, ``aisc catalog`` and ``aisc hash`` from the command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from aisc.cli import main
from aisc.jcs import canonicalize

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "aisc" / "data" / "examples"
FLOW = EXAMPLES / "bridge-send-wait-deposit.ais-flow.yaml"


def test_compile_example_to_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    out = tmp_path / "plan.json"
    assert main(["compile", "--example", "bridge-send-wait-deposit", "-o", str(out)]) == 0
    plan = json.loads(out.read_text())
    assert [n["id"] for n in plan["nodes"]] == ["bridge_send", "wait_arrival", "solana_deposit"]
    first = out.read_bytes()
    assert main(["compile", str(FLOW), "-o", str(out)]) == 0
    assert out.read_bytes() == first  # same bytes twice


def test_compile_failure_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.json"
    code = main(["compile", str(EXAMPLES / "swap-to-token.ais-flow.yaml"), "-o", str(out), "--format", "json"])
    assert code == 1
    assert not out.exists()
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] >= 1
    assert "AISC-WS-009" in {d["code"] for d in report["diagnostics"]}


def test_compile_sarif_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(tmp_path / "missing.ais-flow.yaml")]) == 2
    assert main(["compile", "--example", "no-such-example"]) == 2
    assert main(["compile", str(tmp_path)]) == 2  # a directory needs -o
    capsys.readouterr()
    assert main(["compile", str(EXAMPLES / "swap-to-token.ais-flow.yaml"), "-o", str(tmp_path / "p.json"),
                 "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]


def test_compile_emit_checked_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(FLOW), "--emit", "checked"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["order"][0] == "bridge_send"


def test_compile_directory_all_or_nothing(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("bridge-send-wait-deposit.ais-flow.yaml", "bridge-demo.ais.yaml", "solana-rpc.ais.yaml",
                 "solana-vault-demo.ais.yaml"):
        text = (EXAMPLES / name).read_text().replace('path: "examples/', 'path: "')
        (src / name).write_text(text)
    out = tmp_path / "plans"
    assert main(["compile", str(src), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["bridge-send-wait-deposit.plan.json"]
    # add a broken workflow: nothing is written, the previous output stays untouched
    before = (out / "bridge-send-wait-deposit.plan.json").read_bytes()
    shutil.copy(EXAMPLES / "aave-branch-bridge-solana-deposit.ais-flow.yaml", src / "broken.ais-flow.yaml")
    assert main(["compile", str(src), "-o", str(out)]) == 1
    assert sorted(p.name for p in out.iterdir()) == ["bridge-send-wait-deposit.plan.json"]
    assert (out / "bridge-send-wait-deposit.plan.json").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".aisc-")]


def test_hash_matches_jcs_keccak(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """R241/R242: the specHash ignores formatting and key order."""
    a, b = tmp_path / "a.ais.yaml", tmp_path / "b.ais.yaml"
    a.write_text((EXAMPLES / "erc20.ais.yaml").read_text())
    doc = json.loads(json.dumps(__import__("aisc.frontend", fromlist=["load_file"]).load_file(a).raw))
    b.write_text(json.dumps(dict(reversed(list(doc.items())))))
    assert main(["hash", str(a), str(b)]) == 0
    lines = capsys.readouterr().out.split()
    assert lines[0] == lines[2] and lines[0].startswith("0x") and len(lines[0]) == 66
    assert canonicalize(doc)  # the document is plain JSON data
    assert main(["hash", str(tmp_path / "missing.ais.yaml")]) == 2


def test_r040_r046_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
                           ) -> None:
    """R040-R046: schema, cards, stable sort, hash without created_at."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert main(["catalog", str(EXAMPLES), "-o", str(tmp_path / "c1.json")]) == 0
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "100")
    assert main(["catalog", str(EXAMPLES), "-o", str(tmp_path / "c2.json")]) == 0
    c1, c2 = (json.loads((tmp_path / f"c{i}.json").read_text()) for i in (1, 2))
    assert c1["schema"] == "ais-catalog/0.0.1"  # R040
    assert c1["created_at"] != c2["created_at"] and c1["hash"] == c2["hash"]  # R045/R046
    keys = [(c["protocol"], c["version"], c["id"]) for c in c1["actions"]]
    assert keys == sorted(keys)  # R044
    swap = next(c for c in c1["actions"] if c["ref"] == "uniswap-v3@0.0.2/swap-exact-in")  # R041
    assert swap["execution_types"] == ["composite", "evm_call"] and swap["execution_chains"] == ["eip155:*"]
    assert any(q["ref"] == "erc20@0.0.2/balance-of" for q in c1["queries"])  # R042
    pack = c1["packs"][0]  # R043
    assert pack["name"] == "safe-defi-pack" and pack["overrides"] == {"action_keys": ["uniswap-v3.swap-exact-in"]}
    assert main(["catalog", str(tmp_path / "nope")]) == 2


def test_r046_catalog_hash_changes_with_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """R046 (failing side): a changed document changes the hash."""
    d = tmp_path / "docs"
    d.mkdir()
    (d / "erc20.ais.yaml").write_text((EXAMPLES / "erc20.ais.yaml").read_text())
    assert main(["catalog", str(d), "-o", str(tmp_path / "a.json")]) == 0
    (d / "erc20.ais.yaml").write_text((EXAMPLES / "erc20.ais.yaml").read_text().replace("Approve ERC-20", "Approve"))
    assert main(["catalog", str(d), "-o", str(tmp_path / "b.json")]) == 0
    a, b = (json.loads((tmp_path / f"{x}.json").read_text()) for x in "ab")
    assert a["hash"] != b["hash"]
