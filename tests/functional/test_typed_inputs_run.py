"""``aisc compile`` then ``aisc run`` in a subprocess: a ``uint256`` input given as the string
"1000" is an integer when CEL compares it (docs/inputs.md "Values at run time"; R110, R117)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROTOCOL = """\
schema: "ais/0.0.2"
meta: {protocol: "demo", version: "0.0.2"}
capabilities_required: ["cel:v1", "evm:read"]
deployments:
  - chain: "eip155:1"
    contracts: {token: "0x3333333333333333333333333333333333333333"}
actions: {}
queries:
  balance:
    description: "balance of an owner"
    params:
      - {name: owner, type: address, description: "owner"}
    returns:
      - {name: balance, type: uint256}
    execution:
      "eip155:*":
        type: evm_read
        to: {ref: "contracts.token"}
        abi: {type: function, name: balanceOf, inputs: [{name: owner, type: address}],
              outputs: [{name: balance, type: uint256}]}
        args: {owner: {ref: "params.owner"}}
"""

WORKFLOW = """\
schema: "ais-flow/0.0.3"
meta: {name: typed, version: "0.0.3"}
default_chain: "eip155:1"
imports: {protocols: [{protocol: "demo@0.0.2", path: "demo.ais.yaml"}]}
inputs:
  min_balance: {type: uint256, required: true}
  fee: {type: uint24, default: "500"}
nodes:
  - id: q
    type: query_ref
    protocol: "demo@0.0.2"
    query: balance
    args: {owner: {lit: "0x2222222222222222222222222222222222222222"}}
    assert: {cel: "nodes.q.outputs.balance >= inputs.min_balance && inputs.fee == 500"}
    assert_message: "balance below the minimum"
"""


def _aisc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AISC_HOME": str(cwd / "home")}
    return subprocess.run([sys.executable, "-m", "aisc", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def compiled(tmp_path: Path) -> Path:
    (tmp_path / "demo.ais.yaml").write_text(PROTOCOL, encoding="utf-8")
    (tmp_path / "flow.ais-flow.yaml").write_text(WORKFLOW, encoding="utf-8")
    done = _aisc("compile", "flow.ais-flow.yaml", "-o", "plan.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert plan["extensions"]["aisc"]["inputs"]["min_balance"] == {"type": "uint256", "required": True}
    config = {"chains": {"eip155:1": {"backend": "fake", "script": {"q": {"outputs": {"balance": 1000}}}}}}
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("min_balance", "code", "last"), [
    ('"1000"', 0, "query_result"),   # IntegerString → int: 1000 >= 1000
    ("999", 0, "query_result"),      # a JSON integer stays an int
    ('"1001"', 1, "error"),          # the assert itself fails (not a type error)
])
def test_r110_uint256_input_string_compares_as_int(compiled: Path, min_balance: str, code: int, last: str) -> None:
    done = _aisc("run", "plan.json", "--config", "config.json", "--inputs", f'{{"min_balance": {min_balance}}}',
                 "--events-jsonl", "-", cwd=compiled)
    assert done.returncode == code, done.stderr
    events = [json.loads(line)["event"] for line in done.stdout.splitlines()]
    kinds = [e["type"] for e in events if e["type"] != "checkpoint_saved"]
    assert kinds[-1] == last, kinds
    reasons = [e["data"]["reason"] for e in events if e["type"] == "error"]
    assert not any("same types" in r for r in reasons), reasons
    if code:
        assert reasons == ["balance below the minimum"]


def test_r110_invalid_uint_input_is_still_an_input_error(compiled: Path) -> None:
    done = _aisc("run", "plan.json", "--config", "config.json", "--inputs", '{"min_balance": "1.5"}', cwd=compiled)
    assert done.returncode == 3
    assert "AISC-INPUT-005" in done.stderr
