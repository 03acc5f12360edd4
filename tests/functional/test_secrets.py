"""R186: no CLI path leaks the signer key. Every durability/bridge command runs with a signer key
configured; stdout, stderr, events, traces, the run store (checkpoints, intents, notes, history) and
bridge output are searched for the key in hex (both cases, with and without 0x) and base58."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from ledger_chain import address_of

from aisc.cli import main

CHAIN = "eip155:31337"
KEY_HEX = "8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63"
ERC20 = "/work/shared/ais/examples/erc20.ais.yaml"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


NEEDLES = [KEY_HEX, KEY_HEX.upper(), "0x" + KEY_HEX, b58(bytes.fromhex(KEY_HEX))]


def plan_file(tmp: Path) -> str:
    abi = {"type": "function", "name": "f", "inputs": []}
    nodes = [{"id": "q", "chain": CHAIN, "kind": "query_ref",
              "execution": {"type": "evm_read", "to": {"lit": "0x01"}, "abi": abi, "args": {}}},
             {"id": "w", "chain": CHAIN, "kind": "action_ref", "deps": ["q"],
              "execution": {"type": "evm_call", "to": {"lit": "0x00000000000000000000000000000000000000c0"},
                            "abi": abi, "args": {"v": {"ref": "nodes.q.outputs.value"}}}}]
    p = tmp / "plan.json"
    p.write_text(json.dumps({"schema": "ais-plan/0.0.3", "meta": {"name": "secret-test"}, "nodes": nodes}))
    return str(p)


def test_r186_no_cli_path_leaks_the_signer_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AISC_HOME", str(tmp_path / "home"))
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"backends": {"ledger": {"factory": "ledger_chain:make_backend"}},
                               "chains": {CHAIN: {"backend": "ledger", "db": str(tmp_path / "chain.db"),
                                                  "signer": {"env": "AISC_SECRET_KEY"}}}}))
    plan = plan_file(tmp_path)
    plan2 = tmp_path / "plan2.json"
    plan2.write_text(Path(plan).read_text().replace('"f"', '"g"'))
    store = str(tmp_path / "runs.db")
    base = ["--store", store, "--no-hook-plugins"]
    transcript: list[str] = []

    def cli(*argv: str, expect: int) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        code = main(list(argv))
        out, err = capsys.readouterr()
        transcript.extend([out, err])
        assert code == expect, (argv, out, err)

    # without the key in the environment the write pauses ("no signer"); with it the resume finishes
    monkeypatch.delenv("AISC_SECRET_KEY", raising=False)
    cli("run", plan, "--config", str(cfg), "--run-id", "r1", *base, expect=4)
    monkeypatch.setenv("AISC_SECRET_KEY", "0x" + KEY_HEX)
    cli("run", "--resume", "r1", "--trace", str(tmp_path / "resume.trace"), *base, expect=0)
    for mode in ("default", "audit", "off"):
        cli("run", plan, "--config", str(cfg), "--run-id", f"t-{mode}", "--trace", str(tmp_path / f"{mode}.trace"),
            "--trace-redact", mode, "--events-jsonl", str(tmp_path / f"{mode}.events"), *base, expect=0)
    cli("run", plan, "--config", str(cfg), "--dry-run", expect=0)
    cli("run", plan, "--config", str(cfg), "--events-jsonl", "-", "--no-store", "--no-hook-plugins", expect=0)
    cli("runs", "list", "--store", store, expect=0)
    cli("runs", "list", "--store", store, "--format", "json", expect=0)
    cli("runs", "show", "r1", "--store", store, expect=0)
    cli("runs", "show", "t-off", "--store", store, "--format", "json", expect=0)
    cli("history", "r1", "--store", store, expect=0)
    cli("history", "t-off", "--store", store, "--format", "jsonl", expect=0)
    cli("replay", "--trace", str(tmp_path / "default.trace"), "--show-state", expect=0)
    cli("replay", "--run", "r1", "--store", store, "--until-node", "w", expect=0)
    cli("replay", "--run", "t-off", "--store", store, "--show-state", "--format", "json", expect=0)
    cli("plan-diff", plan, str(plan2), expect=1)
    cli("bridge", "exec-workflow", "--plan", plan, "--config", str(cfg), *base, expect=0)
    cli("bridge", "exec-workflow", "--plan", plan, "--config", str(cfg), "--trace", str(tmp_path / "bridge.trace"),
        "--trace-redact", "off", *base, expect=0)
    params = {"token": {"chain_id": CHAIN, "address": "0x00000000000000000000000000000000000000c0", "symbol": "T",
                        "decimals": 6}, "owner": "0x00000000000000000000000000000000000000a1"}
    cli("bridge", "exec-capability", "--protocol", ERC20, "--query", "balance-of", "--chain", CHAIN,
        "--params", json.dumps(params), "--config", str(cfg), *base, expect=0)
    cli("bridge", "exec-workflow", "--plan", plan, "--config", str(cfg), "--bogus", expect=2)

    blobs: dict[str, bytes] = {f"transcript[{i}]": t.encode() for i, t in enumerate(transcript)}
    for f in tmp_path.rglob("*"):
        if (f.is_file() and f.suffix in (".trace", ".events")) or f.name.startswith("runs.db"):
            blobs[str(f)] = f.read_bytes()
    assert any(n.startswith(str(tmp_path / "runs.db")) for n in blobs)  # the store (and its WAL) is searched
    joined = b"\n".join(blobs.values())
    # the key was in use: its address signed the writes, and appears in the outputs
    assert address_of(bytes.fromhex(KEY_HEX)).encode() in joined
    leaks: list[tuple[str, str]] = []
    for name, blob in blobs.items():
        text = blob.decode("latin-1")
        leaks += [(name, n) for n in NEEDLES if n in text]
    assert leaks == []
