"""A real anvil node for the EVM end-to-end tests (helpers and fixtures; conftest.py re-exports the fixtures).

One anvil per test session (per xdist worker) on 127.0.0.1 and a free port, with the test
contracts from contracts/build deployed once; every test runs inside evm_snapshot/evm_revert so
it starts from the same state. The binary comes from AISC_ANVIL or tools/chain-deps (installed by
tools/chain-deps/install.sh). Without it the tests fail when CI is set and skip otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from aisc.backends.base import NodeCall, TxIntent
from aisc.backends.evm.backend import EvmBackend

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.chains import NodeClient, artefact  # noqa: E402
from tests.support.chains import find_anvil as find_anvil  # noqa: E402
from tests.support.chains import fn_abi as fn_abi  # noqa: E402
from tests.support.chains import free_port as _free_port  # noqa: E402

CHAIN = "eip155:31337"
MULTICALL3 = "0xca11bde05977b3631167028862be2a173976ca11"

# anvil's default, publicly known development accounts (mnemonic "test test ... junk").
DEV_KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
]
DEV_ADDRS = [
    "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
    "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
    "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
    "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
]
SUPPLY = 10**24


class Chain(NodeClient):
    """A running anvil plus the deployed test contracts."""

    receipt_polls = 200

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=10)
        self.addr: dict[str, str] = {}

    @property
    def deployer(self) -> str:
        return DEV_ADDRS[0]

    @property
    def token_address(self) -> str:
        return self.addr["token"]

    def backend(self, signer: Mapping[str, Any] | None = None, **extra: Any) -> EvmBackend:
        cfg: dict[str, Any] = {"chain": CHAIN, "rpc_url": self.url, **extra}
        if signer is not None:
            cfg["signer"] = dict(signer)
        return EvmBackend(cfg, environ={"AISC_TEST_KEY0": DEV_KEYS[0], "AISC_TEST_KEY1": DEV_KEYS[1]})


def evaluate_lit(root: Mapping[str, Any]) -> Callable[[Any], Any]:
    """A small ValueRef evaluator for tests: lit, ref (dotted path into ``root``), object, array."""

    def ev(vr: Any) -> Any:
        if not isinstance(vr, Mapping) or len(vr) != 1:
            raise ValueError(f"not a ValueRef: {vr!r}")
        (tag, val), = vr.items()
        if tag == "lit":
            return val
        if tag == "object":
            return {k: ev(v) for k, v in val.items()}
        if tag == "array":
            return [ev(v) for v in val]
        if tag == "ref":
            cur: Any = root
            for part in str(val).split("."):
                cur = cur[part]
            return cur
        raise ValueError(f"unsupported ValueRef in tests: {tag}")

    return ev


def node_call(
    execution: Mapping[str, Any],
    *,
    root: Mapping[str, Any] | None = None,
    node_id: str = "n1",
    simulate: bool = False,
    intents: list[TxIntent] | None = None,
    record: Callable[[TxIntent], None] | None = None,
) -> NodeCall:
    store = intents if intents is not None else []
    return NodeCall(
        node_id=node_id,
        chain=CHAIN,
        execution=execution,
        evaluate=evaluate_lit(root or {}),
        simulate=simulate,
        record_intent=record or store.append,
    )


def lit(v: Any) -> dict[str, Any]:
    return {"lit": v}


def launch_anvil(accounts: int, purpose: str) -> Iterator[Chain]:
    """Start a private anvil (instant mining, ``accounts`` dev accounts) with the TestToken deployed;
    stop it afterwards. Without the binary: fail under CI, else skip (``purpose`` ends the message)."""
    binary = find_anvil()
    if binary is None:
        msg = f"anvil is not installed: run tools/chain-deps/install.sh (or set AISC_ANVIL=/path/to/anvil) to run {purpose}"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", str(port), "--chain-id", "31337", "--silent",
         "--accounts", str(accounts)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    chain = Chain(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                assert chain.rpc("eth_chainId") == "0x7a69"
                break
            except (httpx.HTTPError, AssertionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    pytest.fail(f"anvil did not start on port {port}: {err[-500:]}")
                time.sleep(0.05)
        chain.addr["token"] = chain.deploy("TestToken", ["string", "string", "uint256"], ["Test", "TST", SUPPLY])
        yield chain
    finally:
        chain.http.close()
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@pytest.fixture(scope="session")
def anvil_session() -> Iterator[Chain]:
    for chain in launch_anvil(4, "the EVM end-to-end tests"):
        chain.addr["router"] = chain.deploy("TestRouter", [], [])
        chain.addr["bridge"] = chain.deploy("TestBridge", ["address"], [chain.addr["token"]])
        chain.addr["multicall_deployed"] = chain.deploy("Multicall3", [], [])
        chain.rpc("anvil_setCode", [MULTICALL3, artefact("Multicall3")["deployedBytecode"]])
        chain.addr["multicall3"] = MULTICALL3
        yield chain


@pytest.fixture
def anvil(anvil_session: Chain) -> Iterator[Chain]:
    """The session chain, reverted to the freshly deployed state after the test."""
    snap = anvil_session.rpc("evm_snapshot")
    try:
        yield anvil_session
    finally:
        anvil_session.rpc("evm_setAutomine", [True])
        assert anvil_session.rpc("evm_revert", [snap]) is True
