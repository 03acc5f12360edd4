"""Helpers for the workflow-level EVM tests: build a workspace for the running anvil, then drive the
real command line (``python -m aisc compile`` and ``python -m aisc run``) as subprocesses.

The signing key travels only through the ``AISC_EVMWF_KEY`` environment variable of the ``aisc run``
process; it is never on a command line or in a file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evm_chain import DEV_ADDRS, DEV_KEYS, Chain

from aisc.runtime.testing import validate_event

HERE = Path(__file__).resolve().parent
SPECS = HERE / "specs"
REPO = HERE.parents[2]
ERC20_EXAMPLE = REPO / "aisc" / "data" / "examples" / "erc20.ais.yaml"
KEY_VAR = "AISC_EVMWF_KEY"
CHAIN_ID = "eip155:31337"
SENDER = DEV_ADDRS[0]


def big(n: int) -> dict[str, str]:
    """An ais-json/1 tagged bigint (integers beyond 2^53-1 stay exact)."""
    return {"__ais_json_type": "bigint", "value": str(n)}


def revive(v: Any) -> Any:
    """Undo the ais-json bigint tagging of an event payload (ints stay ints)."""
    if isinstance(v, dict):
        if v.get("__ais_json_type") == "bigint" and set(v) == {"__ais_json_type", "value"}:
            return int(v["value"])
        return {k: revive(x) for k, x in v.items()}
    if isinstance(v, list):
        return [revive(x) for x in v]
    return v


def token_asset(chain: Chain) -> dict[str, Any]:
    return {"chain_id": CHAIN_ID, "address": chain.addr["token"], "symbol": "TST", "decimals": 18}


def make_workspace(chain: Chain, root: Path, flow: str) -> Path:
    """A folder with the ERC-20 example (plus an anvil deployment), the test router protocol, the
    pack (allowlisting the deployed token) and one workflow from specs/."""
    ws = root / "ws"
    ws.mkdir()
    erc20 = ERC20_EXAMPLE.read_text()
    deployment = f'deployments:\n  - chain: "{CHAIN_ID}"\n    contracts: {{ token: "{chain.addr["token"]}" }}\n'
    assert erc20.count("deployments:\n") == 1
    (ws / "erc20.ais.yaml").write_text(erc20.replace("deployments:\n", deployment))
    (ws / "test-router.ais.yaml").write_text((SPECS / "test-router.ais.yaml").read_text().replace("__ROUTER__", chain.addr["router"]))
    (ws / "anvil.ais-pack.yaml").write_text((SPECS / "anvil.ais-pack.yaml").read_text().replace("__TOKEN__", chain.addr["token"]))
    (ws / f"{flow}.ais-flow.yaml").write_text((SPECS / f"{flow}.ais-flow.yaml").read_text())
    return ws


def cli_env(home: Path, *, key: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (KEY_VAR, "AISC_WORKSPACE", "PYTHONPATH")}
    env["AISC_HOME"] = str(home)
    env["SOURCE_DATE_EPOCH"] = "0"
    env["NO_COLOR"] = "1"
    if key:
        env[KEY_VAR] = DEV_KEYS[0]
    return env


def run_config(chain: Chain, *, signer: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``--config`` document: the anvil chain with an env-var signer (the built-in ``backend: evm``)."""
    entry: dict[str, Any] = {
        "backend": "evm",
        "rpc_url": chain.url,
        "signer": dict(signer) if signer is not None else {"type": "env", "var": KEY_VAR},
        "receipt_timeout_ms": 20000,
    }
    return {"chains": {CHAIN_ID: entry}}


class Run:
    """A finished ``aisc run``: exit code, streams and the schema-validated event records."""

    def __init__(self, proc: subprocess.CompletedProcess[str] | tuple[int, str, str], events_path: Path) -> None:
        if isinstance(proc, tuple):
            self.rc, self.stdout, self.stderr = proc
        else:
            self.rc, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr
        self.lines = events_path.read_text().splitlines() if events_path.exists() else []
        # every line must match aisc/data/schemas/engine-event.schema.json
        self.records = [validate_event(line) for line in self.lines]
        self.events = [revive(r["event"]) for r in self.records]

    def of(self, etype: str, node: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == etype and (node is None or e.get("node_id") == node)]

    def one(self, etype: str, node: str | None = None) -> dict[str, Any]:
        found = self.of(etype, node)
        assert len(found) == 1, f"expected one {etype} for {node}, got {len(found)}: {self.describe()}"
        return found[0]

    def describe(self) -> str:
        return f"rc={self.rc}\nstderr:\n{self.stderr[-3000:]}\nevents: {[e['type'] for e in self.events]}"


class Cli:
    """Compile and run one workflow of specs/ against the anvil chain, in a scratch folder."""

    def __init__(self, chain: Chain, tmp: Path, flow: str) -> None:
        self.chain = chain
        self.tmp = tmp
        self.flow = flow
        self.ws = make_workspace(chain, tmp, flow)
        self.home = tmp / "home"
        self.home.mkdir()

    _plans: dict[tuple[str, bool, str, str], Path] = {}
    """Compiled plans of this session, by (flow, pack, token, router): the documents only depend on those."""

    def compile(self, *, pack: bool = False) -> Path:
        key = (self.flow, pack, self.chain.addr["token"], self.chain.addr["router"])
        cached = Cli._plans.get(key)
        if cached is not None and cached.exists():
            return cached
        plan = self.tmp / f"{self.flow}{'-pack' if pack else ''}.plan.json"
        cmd = [sys.executable, "-m", "aisc", "compile", str(self.ws / f"{self.flow}.ais-flow.yaml"),
               "--workspace", str(self.ws), "-o", str(plan), "-q"]
        if pack:
            cmd += ["--pack", str(self.ws / "anvil.ais-pack.yaml")]
        p = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(self.home, key=False), timeout=60)
        assert p.returncode == 0, f"aisc compile failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
        Cli._plans[key] = plan
        return plan

    def run_args(self, plan: Path, inputs: Mapping[str, Any], *, config: Mapping[str, Any] | None = None,
                 extra: Sequence[str] = ()) -> tuple[list[str], Path]:
        (self.tmp / "inputs.json").write_text(json.dumps(inputs))
        (self.tmp / "ctx.json").write_text(json.dumps({"wallet_address": SENDER}))
        (self.tmp / "config.json").write_text(json.dumps(config if config is not None else run_config(self.chain)))
        events = self.tmp / "events.jsonl"
        if events.exists():
            events.unlink()
        cmd = [sys.executable, "-m", "aisc", "run", str(plan),
               "--inputs", str(self.tmp / "inputs.json"), "--ctx", str(self.tmp / "ctx.json"),
               "--config", str(self.tmp / "config.json"), "--events-jsonl", str(events),
               "--trace-redact", "audit", "--no-store", *extra]
        return cmd, events

    def run(self, plan: Path, inputs: Mapping[str, Any], *, key: bool = True,
            config: Mapping[str, Any] | None = None, extra: Sequence[str] = ()) -> Run:
        cmd, events = self.run_args(plan, inputs, config=config, extra=extra)
        p = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(self.home, key=key),
                           stdin=subprocess.DEVNULL, timeout=60)
        return Run(p, events)

    def popen(self, plan: Path, inputs: Mapping[str, Any]) -> tuple[subprocess.Popen[str], Path]:
        cmd, events = self.run_args(plan, inputs)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL, env=cli_env(self.home))
        return proc, events


def call(chain: Chain, to: str, signature: str, types: Sequence[str], args: Sequence[Any], out: Sequence[str]) -> Any:
    """A direct ``eth_call`` (selector from keccak of the signature, eth-abi encoding), decoded."""
    from Crypto.Hash import keccak
    from eth_abi.abi import decode, encode

    sel = keccak.new(digest_bits=256, data=signature.encode()).hexdigest()[:8]
    data = "0x" + sel + encode(list(types), list(args)).hex()
    raw = chain.rpc("eth_call", [{"to": to, "data": data}, "latest"])
    values = decode(list(out), bytes.fromhex(raw[2:]))
    return values[0] if len(values) == 1 else values


def topic(signature: str) -> str:
    from Crypto.Hash import keccak

    return "0x" + keccak.new(digest_bits=256, data=signature.encode()).hexdigest()
