"""``aisc bundle`` / ``aisc verify`` / ``aisc run BUNDLE`` and typed ``--inputs`` checks, through the CLI."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from aisc import exitcodes
from aisc.bundles import write_archive
from aisc.cli import main

WS = Path(__file__).resolve().parents[1] / "golden" / "workspace"
FLOW = WS / "flows" / "pay.ais-flow.yaml"
EVM = "0x52908400098527886E0F7030069857D2E4169EE7"
SOL = "BPFLoaderUpgradeab1e11111111111111111111111"
TO = "0x2222222222222222222222222222222222222222"
CTX = json.dumps({"wallet_address": "0x00000000000000000000000000000000000000a1"})


@pytest.fixture(autouse=True)
def _private_aisc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs made by these tests go to a throw-away run store, never ~/.aisc."""
    monkeypatch.setenv("AISC_HOME", str(tmp_path / "aisc-home"))


@pytest.fixture()
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    out = tmp_path / "pay.bundle.tar.gz"
    assert main(["bundle", str(FLOW), "--workspace", str(WS), "-o", str(out)]) == exitcodes.OK
    return out


def _config(tmp_path: Path) -> str:
    c = tmp_path / "chains.yaml"
    c.write_text('chains:\n  "eip155:1":\n    backend: fake\n    script: {"q_balance": {"outputs": {"balance": 5}}}\n')
    return str(c)


def test_bundle_is_reproducible(bundle: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.tar.gz"
    assert main(["bundle", str(FLOW), "--workspace", str(WS), "-o", str(again)]) == exitcodes.OK
    assert again.read_bytes() == bundle.read_bytes()


def test_verify_ok(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(bundle)]) == exitcodes.OK
    assert "OK (4 members" in capsys.readouterr().out
    assert main(["verify", str(bundle), "--format", "json"]) == exitcodes.OK
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["recompiled"] is True and out["diagnostics"] == []


@pytest.mark.parametrize("member", ["manifest.json", "plan.json", "sources/flows/pay.ais-flow.yaml",
                                    "sources/packs/demo.ais-pack.yaml", "sources/protocols/demo.ais.yaml"])
def test_verify_names_the_tampered_member(bundle: Path, member: str, capsys: pytest.CaptureFixture[str]) -> None:
    _tamper(bundle, member)
    capsys.readouterr()
    assert main(["verify", str(bundle)]) == exitcodes.FAILED
    err = capsys.readouterr().err
    assert "AISC-BUNDLE-" in err and f"member {member}:" in err


def _tamper(path: Path, member: str) -> None:
    with tarfile.open(path, mode="r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    data = members[member]
    i = len(data) // 2
    members[member] = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]
    path.write_bytes(write_archive(members))


def test_bundle_of_a_broken_workflow_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.ais-flow.yaml"
    bad.write_text(FLOW.read_text().replace('query: "balance"', 'query: "nope"'))
    out = tmp_path / "out.tar.gz"
    assert main(["bundle", str(bad), "--workspace", str(WS), "-o", str(out)]) == exitcodes.FAILED
    assert not out.exists() and "error[" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["bundle", "missing.ais-flow.yaml", "-o", "x.tar.gz"], ["bundle", str(FLOW)],
                                  ["verify", "missing.tar.gz"]], ids=["no_workflow", "no_output", "no_bundle"])
def test_usage_errors(argv: list[str]) -> None:
    assert main(argv) == exitcodes.USAGE


# ------------------------------------------------------------------ aisc run BUNDLE (needs the run hook)




def test_run_bundle_round_trip(bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    inputs = json.dumps({"amount": "5", "to": TO, "owner": TO})
    code = main(["run", str(bundle), "--config", _config(tmp_path), "--inputs", inputs, "--ctx", CTX, "--yes"])
    assert code == exitcodes.OK


def test_run_refuses_a_tampered_bundle(bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    calls = _count_fake_calls(monkeypatch)
    pristine = bundle.read_bytes()
    for member in ("manifest.json", "plan.json", "sources/flows/pay.ais-flow.yaml",
                   "sources/packs/demo.ais-pack.yaml", "sources/protocols/demo.ais.yaml"):
        bundle.write_bytes(pristine)
        _tamper(bundle, member)
        code = main(["run", str(bundle), "--config", _config(tmp_path), "--ctx", CTX, "--yes"])
        assert code == exitcodes.INPUT and member in capsys.readouterr().err
    assert calls == []


def _count_fake_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every node execution of every fake backend the CLI builds (empty = nothing ran)."""
    from aisc.backends import fake

    calls: list[str] = []
    real = fake.make_backend

    def make(chain: str, **config: Any) -> Any:
        be = real(chain, **config)
        inner = be.execute

        def execute(call: Any, *a: Any, **k: Any) -> Any:
            calls.append(call.node_id)
            return inner(call, *a, **k)

        be.execute = execute  # type: ignore[method-assign]
        return be

    monkeypatch.setattr(fake, "make_backend", make)
    return calls


# ------------------------------------------------------------------ typed --inputs (R110-R114)

# Declared on the plan as the compiler will record them (extensions.aisc.inputs); the pay flow's
# own inputs (amount, to, owner) plus one input per AIS type.
DECLS: dict[str, Any] = {
    "amount": {"type": "uint256", "required": True, "constraints": {"min": 1, "max": "1000000"}},
    "to": {"type": "address", "required": True},
    "owner": {"type": "address", "required": True},
    "flag": {"type": "bool"},
    "label": {"type": "string", "constraints": {"pattern": "^[a-z]+$"}},
    "mode": {"type": "string", "constraints": {"enum": ["fast", "safe"]}},
    "blob": {"type": "bytes"},
    "sel": {"type": "bytes4"},
    "small": {"type": "uint8"},
    "signed": {"type": "int16"},
    "asset": {"type": "asset"},
    "qty": {"type": "token_amount", "constraints": {"max": "100"}},
    "ratio": {"type": "float"},
    "path": {"type": "array<address>"},
    "pair": {"type": "tuple<uint8,bool>"},
    "sol": {"type": "address", "chain_family": "solana"},
}
GOOD = {"amount": "5", "to": TO, "owner": TO}
ASSET = {"chain_id": "eip155:1", "address": EVM, "decimals": 6}

CLI_BAD: list[tuple[str, dict[str, Any], str]] = [
    ("amount_missing", {"amount": None}, "AISC-INPUT-001"),
    ("unknown_input", {"amuont": "5"}, "AISC-INPUT-002"),
    ("amount_bool", {"amount": True}, "AISC-INPUT-005"),
    ("amount_fraction", {"amount": "1.5"}, "AISC-INPUT-005"),
    ("amount_exponent", {"amount": "1e3"}, "AISC-INPUT-005"),
    ("amount_plus", {"amount": "+5"}, "AISC-INPUT-005"),
    ("amount_negative", {"amount": "-5"}, "AISC-INPUT-006"),
    ("amount_overflow", {"amount": str(2**256)}, "AISC-INPUT-006"),
    ("amount_below_min", {"amount": "0"}, "AISC-INPUT-018"),
    ("amount_above_max", {"amount": "1000001"}, "AISC-INPUT-019"),
    ("to_short", {"to": "0x1234"}, "AISC-INPUT-007"),
    ("to_checksum", {"to": "0x52908400098527886e0F7030069857D2E4169EE7"}, "AISC-INPUT-008"),
    ("to_solana", {"to": SOL}, "AISC-INPUT-007"),
    ("to_number", {"to": 12}, "AISC-INPUT-003"),
    ("owner_missing", {"owner": None}, "AISC-INPUT-001"),
    ("sol_evm_address", {"sol": EVM}, "AISC-INPUT-007"),
    ("sol_bad_base58", {"sol": "0OIl" + SOL[4:]}, "AISC-INPUT-007"),
    ("flag_string", {"flag": "yes"}, "AISC-INPUT-004"),
    ("flag_int", {"flag": 1}, "AISC-INPUT-004"),
    ("label_number", {"label": 5}, "AISC-INPUT-003"),
    ("label_pattern", {"label": "ABC"}, "AISC-INPUT-021"),
    ("mode_enum", {"mode": "yolo"}, "AISC-INPUT-020"),
    ("blob_no_prefix", {"blob": "abcd"}, "AISC-INPUT-009"),
    ("blob_odd", {"blob": "0xabc"}, "AISC-INPUT-009"),
    ("blob_non_hex", {"blob": "0xzz"}, "AISC-INPUT-009"),
    ("sel_length", {"sel": "0x0102"}, "AISC-INPUT-010"),
    ("small_overflow", {"small": "256"}, "AISC-INPUT-006"),
    ("small_decimal", {"small": "2.0"}, "AISC-INPUT-005"),
    ("signed_underflow", {"signed": "-32769"}, "AISC-INPUT-006"),
    ("signed_text", {"signed": "ten"}, "AISC-INPUT-005"),
    ("asset_string", {"asset": "USDC"}, "AISC-INPUT-003"),
    ("asset_missing_address", {"asset": {"chain_id": "eip155:1"}}, "AISC-INPUT-013"),
    ("asset_unknown_field", {"asset": {**ASSET, "price": "1"}}, "AISC-INPUT-013"),
    ("asset_chain", {"asset": {**ASSET, "chain_id": "mainnet"}}, "AISC-INPUT-014"),
    ("asset_address_family", {"asset": {**ASSET, "address": SOL}}, "AISC-INPUT-007"),
    ("asset_decimals_range", {"asset": {**ASSET, "decimals": 78}}, "AISC-INPUT-015"),
    ("asset_decimals_negative", {"asset": {**ASSET, "decimals": -1}}, "AISC-INPUT-015"),
    ("qty_number", {"qty": 5}, "AISC-INPUT-011"),
    ("qty_negative", {"qty": "-1"}, "AISC-INPUT-011"),
    ("qty_bare_fraction", {"qty": ".5"}, "AISC-INPUT-011"),
    ("qty_max", {"qty": "100.5"}, "AISC-INPUT-019"),
    ("ratio_number", {"ratio": 1}, "AISC-INPUT-017"),
    ("ratio_text", {"ratio": "half"}, "AISC-INPUT-017"),
    ("path_not_list", {"path": EVM}, "AISC-INPUT-003"),
    ("path_item", {"path": [EVM, "0x12"]}, "AISC-INPUT-007"),
    ("pair_length", {"pair": [1]}, "AISC-INPUT-016"),
    ("pair_item", {"pair": [1, "true"]}, "AISC-INPUT-004"),
    ("pair_object", {"pair": {"a": 1}}, "AISC-INPUT-003"),
    ("label_null", {"label": None, "flag": True, "mode": None}, "AISC-INPUT-003"),
    ("small_list", {"small": [1]}, "AISC-INPUT-005"),
    ("amount_space", {"amount": "5 "}, "AISC-INPUT-005"),
]


def _inputs_for(over: dict[str, Any]) -> dict[str, Any]:
    out = dict(GOOD)
    for k, v in over.items():
        if v is None and k in GOOD:
            out.pop(k)
        else:
            out[k] = v
    return out


@pytest.fixture(scope="module")
def typed_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pay flow's plan with the input declarations the compiler hook will record."""
    from aisc.compiler import Compilation, plan_hash, plan_text

    plan = Compilation(FLOW, workspace=WS).plan
    plan["extensions"]["aisc"]["inputs"] = DECLS
    plan["extensions"]["aisc"]["plan_hash"] = plan_hash(plan)
    p = tmp_path_factory.mktemp("typed") / "plan.json"
    p.write_text(plan_text(plan))
    return p


def test_cli_table_size() -> None:
    assert len(CLI_BAD) >= 50 and len({c[0] for c in CLI_BAD}) == len(CLI_BAD)


@pytest.mark.parametrize(("over", "code"), [c[1:] for c in CLI_BAD], ids=[c[0] for c in CLI_BAD])
def test_bad_inputs_via_the_commands_layer(typed_plan: Path, tmp_path: Path, over: dict[str, Any], code: str) -> None:
    """The check ``aisc run`` makes (check_run_inputs), with spans into the --inputs file."""
    from aisc import aisjson
    from aisc.commands._inputs import check_run_inputs, load_values

    f = tmp_path / "inputs.json"
    f.write_text(json.dumps(_inputs_for(over), indent=2))
    data, _, load_diags = load_values(str(f))
    assert load_diags == []
    diags = check_run_inputs(aisjson.loads(typed_plan.read_text()), data, str(f))
    assert [d.code for d in diags if d.is_error][:1] == [code]
    first = diags[0]
    assert first.span is not None and first.span.file == str(f)
    name = first.path.split(".")[1].split("[")[0] if first.path and first.path != "$" else ""
    assert f'input "{name}"' in first.message


def test_good_inputs_pass_the_commands_layer(typed_plan: Path) -> None:
    from aisc import aisjson
    from aisc.commands._inputs import check_run_inputs

    full = {**GOOD, "flag": True, "label": "abc", "mode": "safe", "blob": "0x", "sel": "0xa9059cbb", "small": 255,
            "signed": "-32768", "asset": ASSET, "qty": "99.5", "ratio": "0.5", "path": [EVM, TO],
            "pair": ["1", False], "sol": SOL}
    assert check_run_inputs(aisjson.loads(typed_plan.read_text()), full, json.dumps(full)) == []


def test_bad_inputs_exit_3_and_nothing_runs(typed_plan: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """All ≥50 CLI cases: exit 3 (input error), the code on stderr, zero fake-backend calls."""
    calls = _count_fake_calls(monkeypatch)
    cfg = _config(tmp_path)
    failures = []
    for name, over, code in CLI_BAD:
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        f = tmp_path / f"{name}.json"
        f.write_text(json.dumps(_inputs_for(over), indent=2))
        rc = main(["run", str(typed_plan), "--config", cfg, "--inputs", str(f), "--ctx", CTX, "--yes"])
        err = capsys.readouterr().err
        if rc != exitcodes.INPUT or code not in err or str(f) not in err:
            failures.append((name, rc))
    assert failures == [] and calls == []
