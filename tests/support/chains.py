"""Local chains for the fault tests and the load benchmark: an anvil process with TestToken.

Also the home of the anvil helpers (``find_anvil``, ``free_port``, ``artefact``, ``fn_abi``) that
``tests/e2e/evm/evm_chain.py`` re-exports; the contract artefacts come from ``contracts/build``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "contracts" / "build"
ANVIL_IN_REPO = REPO / "tools" / "chain-deps" / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
CHAIN = "eip155:31337"
CHAIN_ID = 31337
MNEMONIC = "test test test test test test test test test test test junk"


def find_anvil() -> str | None:
    env = os.environ.get("AISC_ANVIL")
    if env:
        return env if os.access(env, os.X_OK) else None
    if os.access(ANVIL_IN_REPO, os.X_OK):
        return str(ANVIL_IN_REPO)
    return shutil.which("anvil")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def artefact(name: str) -> dict[str, Any]:
    return dict(json.loads((BUILD / f"{name}.json").read_text()))


def fn_abi(contract: str, name: str) -> dict[str, Any]:
    """The AIS JSON ABI fragment of ``contract.name`` (only name/type/components kept)."""

    def clean(p: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"name": p["name"], "type": p["type"]}
        if "components" in p:
            out["components"] = [clean(c) for c in p["components"]]
        return out

    for item in artefact(contract)["abi"]:
        if item.get("type") == "function" and item["name"] == name:
            return {"type": "function", "name": name, "inputs": [clean(p) for p in item["inputs"]],
                    "outputs": [clean(p) for p in item["outputs"]]}
    raise KeyError(f"{contract}.{name}")


def dev_accounts(n: int) -> list[tuple[str, str]]:
    """``(address, private_key)`` of anvil's first ``n`` development accounts (public test keys)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    out = []
    for i in range(n):
        acct = Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
        out.append((acct.address.lower(), acct.key.hex() if acct.key.hex().startswith("0x") else "0x" + acct.key.hex()))
    return out


class NodeClient:
    """JSON-RPC helpers shared by the test chains (this module's :class:`Anvil` and the e2e
    ``evm_chain.Chain``): calls, receipts, deployments, nonces and TestToken balances."""

    url: str
    http: httpx.Client
    receipt_polls = 500
    """How many times (10 ms apart) :meth:`wait_receipt` asks for a receipt."""

    @property
    def deployer(self) -> str:
        """The account that sends deployments (node-side signing)."""
        raise NotImplementedError

    @property
    def token_address(self) -> str:
        raise NotImplementedError

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        r = self.http.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
        body = r.json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body['error']}")
        return body["result"]

    def wait_receipt(self, tx_hash: str) -> dict[str, Any]:
        for _ in range(self.receipt_polls):
            r = self.rpc("eth_getTransactionReceipt", [tx_hash])
            if r is not None:
                return dict(r)
            time.sleep(0.01)
        raise TimeoutError(tx_hash)

    def deploy(self, name: str, ctor_types: list[str], ctor_args: list[Any]) -> str:
        from eth_abi.abi import encode

        code = artefact(name)["bytecode"] + encode(ctor_types, ctor_args).hex()
        h = self.rpc("eth_sendTransaction", [{"from": self.deployer, "data": code, "gas": hex(5_000_000)}])
        rec = self.wait_receipt(h)
        if rec["status"] != "0x1":
            raise RuntimeError(f"deploying {name} failed")
        return str(rec["contractAddress"]).lower()

    def nonce(self, addr: str, tag: str = "latest") -> int:
        return int(self.rpc("eth_getTransactionCount", [addr, tag]), 16)

    def token_balance(self, holder: str) -> int:
        from eth_abi.abi import encode

        data = "0x70a08231" + encode(["address"], [holder]).hex()
        return int(self.rpc("eth_call", [{"to": self.token_address, "data": data}, "latest"]), 16)


class Anvil(NodeClient):
    """One anvil process on 127.0.0.1 with TestToken deployed (owner: account 0)."""

    def __init__(self, *, accounts: int = 10, block_time: int | None = None) -> None:
        binary = find_anvil()
        if binary is None:
            raise FileNotFoundError("anvil is not installed: run tools/chain-deps/install.sh or set AISC_ANVIL")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [binary, "--host", "127.0.0.1", "--port", str(self.port), "--chain-id", str(CHAIN_ID), "--silent",
               "--accounts", str(accounts)]
        if block_time is not None:
            cmd += ["--block-time", str(block_time)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.http = httpx.Client(timeout=10)
        self.accounts = dev_accounts(accounts)
        self.token = ""
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.rpc("eth_chainId") == hex(CHAIN_ID):
                    break
            except (httpx.HTTPError, RuntimeError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                self.close()
                raise RuntimeError(f"anvil did not start on port {self.port}: {err[-500:]}")
            time.sleep(0.05)
        self.token = self.deploy("TestToken", ["string", "string", "uint256"], ["Test", "TST", 10**30])

    @property
    def deployer(self) -> str:
        return self.accounts[0][0]

    @property
    def token_address(self) -> str:
        return self.token

    def fund_tokens(self, holders: list[str], amount: int) -> None:
        """Transfer ``amount`` TestToken from account 0 to each holder (node-side signing)."""
        from eth_abi.abi import encode

        last = ""
        for h in holders:
            data = "0xa9059cbb" + encode(["address", "uint256"], [h, amount]).hex()
            last = self.rpc("eth_sendTransaction", [{"from": self.accounts[0][0], "to": self.token, "data": data}])
        if last:
            self.wait_receipt(last)

    def close(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
