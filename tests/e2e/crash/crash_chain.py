"""Helpers for the anvil crash matrix and the compensation e2e: an anvil of their own, funded throwaway
accounts, a workspace with the ERC-20 example deployed on it, and the real command line as subprocesses.

Every scenario signs with its own fresh account (funded with ETH by ``anvil_setBalance`` and with TST
by a transfer from dev account 0), so scenarios never share a nonce or a balance and can run side by
side on one chain; the account's nonce then counts exactly the transactions the scenario sent. Keys
travel only through the ``AISC_CRASH_KEY`` environment variable of the ``aisc`` process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from Crypto.Hash import keccak
from eth_account import Account

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE.parent / "evm"))
from evm_chain import DEV_ADDRS, Chain, launch_anvil  # noqa: E402

ERC20_EXAMPLE = REPO / "aisc" / "data" / "examples" / "erc20.ais.yaml"
SPECS = HERE / "specs"
CHAIN_ID = "eip155:31337"
KEY_VAR = "AISC_CRASH_KEY"


def keccak_hex(data: bytes) -> str:
    return keccak.new(digest_bits=256, data=data).hexdigest()


def fresh_account(label: str) -> tuple[str, str]:
    """(private key hex, lowercase address) derived from ``label``: distinct per scenario, reproducible."""
    key = "0x" + keccak_hex(b"aisc-crash-matrix:" + label.encode())
    return key, str(Account.from_key(key).address).lower()


def address_of(label: str) -> str:
    """A recipient address nobody holds a key for."""
    return "0x" + keccak_hex(b"aisc-crash-recipient:" + label.encode())[:40]


def start_anvil() -> Iterator[Chain]:
    """Start a private anvil (instant mining) with the TestToken deployed; stop it afterwards."""
    yield from launch_anvil(2, "the anvil crash matrix")


def fund(chain: Chain, addr: str, tokens: int) -> None:
    """10 ETH for gas and ``tokens`` TST base units from dev account 0."""
    from eth_abi.abi import encode

    chain.rpc("anvil_setBalance", [addr, hex(10 * 10**18)])
    data = "0xa9059cbb" + encode(["address", "uint256"], [addr, tokens]).hex()
    h = chain.rpc("eth_sendTransaction", [{"from": DEV_ADDRS[0], "to": chain.addr["token"], "data": data}])
    assert chain.wait_receipt(h)["status"] == "0x1"


def allowance(chain: Chain, owner: str, spender: str) -> int:
    from eth_abi.abi import encode

    data = "0xdd62ed3e" + encode(["address", "address"], [owner, spender]).hex()
    return int(chain.rpc("eth_call", [{"to": chain.addr["token"], "data": data}, "latest"]), 16)


def token_asset(chain: Chain) -> dict[str, Any]:
    return {"chain_id": CHAIN_ID, "address": chain.addr["token"], "symbol": "TST", "decimals": 18}


def make_workspace(chain: Chain, root: Path, flows: Sequence[str], specs: Path = SPECS) -> Path:
    """The ERC-20 example with an anvil deployment of the TestToken, plus flows from ``specs``."""
    ws = root / "ws"
    ws.mkdir(parents=True, exist_ok=True)
    erc20 = ERC20_EXAMPLE.read_text()
    deployment = f'deployments:\n  - chain: "{CHAIN_ID}"\n    contracts: {{ token: "{chain.addr["token"]}" }}\n'
    assert erc20.count("deployments:\n") == 1
    (ws / "erc20.ais.yaml").write_text(erc20.replace("deployments:\n", deployment))
    for flow in flows:
        (ws / f"{flow}.ais-flow.yaml").write_text((specs / f"{flow}.ais-flow.yaml").read_text())
    return ws


def env(home: Path, key: str | None = None, crash: str | None = None) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items()
           if k not in (KEY_VAR, "AISC_CRASH_AT", "AISC_WORKSPACE") and not k.startswith("PYTEST_")}
    out["PYTHONPATH"] = os.pathsep.join([str(HERE), *([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])])
    out["AISC_HOME"] = str(home)
    out["SOURCE_DATE_EPOCH"] = "0"
    out["NO_COLOR"] = "1"
    if key is not None:
        out[KEY_VAR] = key
    if crash is not None:
        out["AISC_CRASH_AT"] = crash
    return out


def aisc(argv: Sequence[str], home: Path, *, key: str | None = None, crash: str | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aisc", *argv], env=env(home, key, crash), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=timeout, check=False)


def compile_flow(ws: Path, flow: str, out: Path, home: Path) -> Path:
    p = aisc(["compile", str(ws / f"{flow}.ais-flow.yaml"), "--workspace", str(ws), "-o", str(out), "-q"], home)
    assert p.returncode == 0, f"aisc compile failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    return out


def run_config(chain: Chain, *, backend: str = "evm") -> dict[str, Any]:
    """``backend: evm`` (the built-in factory), or ``crash-evm`` = the same EvmBackend plus an
    ``after_send`` crash point right after ``eth_sendRawTransaction`` returned (crash_evm.py)."""
    entry: dict[str, Any] = {"backend": backend, "rpc_url": chain.url,
                             "signer": {"type": "env", "var": KEY_VAR}, "receipt_timeout_ms": 20000}
    cfg: dict[str, Any] = {"chains": {CHAIN_ID: entry}}
    if backend != "evm":
        cfg["backends"] = {backend: {"factory": "crash_evm:make_backend"}}
    return cfg


def write_json(path: Path, obj: Mapping[str, Any]) -> Path:
    path.write_text(json.dumps(obj))
    return path
