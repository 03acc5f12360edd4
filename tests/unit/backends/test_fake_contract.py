"""The fake backend passes the backend contract suite; the registry routes and builds lazily."""

from __future__ import annotations

from typing import Any

import pytest

from aisc.backends.base import BackendError, NodeCall
from aisc.backends.fake import FakeBackend
from aisc.backends.registry import BackendRegistry, ConfigError
from aisc.backends.testing import BackendContract, make_call

CHAIN = "eip155:31337"
ABI = {"type": "function", "name": "approve", "inputs": []}


class TestFakeBackendContract(BackendContract):
    @pytest.fixture
    def backend(self) -> FakeBackend:
        return FakeBackend({"bad": {"fail": "reverted"}, "r": {"outputs": {"v": 1}}},
                           execution_types=["evm_read", "evm_call"])

    @pytest.fixture
    def read_call(self) -> NodeCall:
        return make_call("r", CHAIN, {"type": "evm_read", "to": {"lit": "0x1"}, "abi": ABI, "args": {}})

    @pytest.fixture
    def write_call(self) -> NodeCall:
        return make_call("w", CHAIN, {"type": "evm_call", "to": {"lit": "0x1"}, "abi": ABI,
                                      "args": {"amount": {"lit": 5}}})

    @pytest.fixture
    def failing_call(self) -> NodeCall:
        return make_call("bad", CHAIN, {"type": "evm_read", "to": {"lit": "0x1"}, "abi": ABI, "args": {}})


def test_registry_routes_by_chain_and_type() -> None:
    reg = BackendRegistry()
    a = FakeBackend(chains=["eip155:1"])
    b = FakeBackend(execution_types=["solana_read"])
    reg.register(a)
    reg.register(b)
    assert reg.for_node("eip155:1", "evm_call") is a
    assert reg.for_node("solana:devnet", "solana_read") is b
    with pytest.raises(BackendError, match=r"No executor supports node \(chain=eip155:2, type=evm_call\)"):
        reg.for_node("eip155:2", "evm_call")


def test_registry_builds_lazily_from_config() -> None:
    reg = BackendRegistry.from_config({"chains": {CHAIN: {"backend": "fake", "script": {"x": {"outputs": {"a": 1}}}}}})
    b = reg.for_node(CHAIN, "evm_read")
    assert isinstance(b, FakeBackend) and reg.for_node(CHAIN, "evm_call") is b
    assert b.script == {"x": {"outputs": {"a": 1}}}


CONFIG_BAD: list[tuple[str, Any, str]] = [
    ("not-object", [], "$"),
    ("unknown-key", {"chain": {}}, "$.chain"),
    ("bad-chain", {"chains": {"mainnet": {"backend": "evm"}}}, "$.chains.mainnet"),
    ("unknown-backend", {"chains": {CHAIN: {"backend": "cosmwasm"}}}, "$.chains.eip155:31337.backend"),
    ("raw-key", {"chains": {CHAIN: {"backend": "evm", "signer": "0x" + "11" * 32}}}, "$.chains.eip155:31337.signer"),
    ("bad-factory", {"backends": {"x": {"factory": 3}}}, "$.backends.x"),
]


@pytest.mark.parametrize(("cfg", "path"), [(c, p) for _, c, p in CONFIG_BAD], ids=[i for i, _, _ in CONFIG_BAD])
def test_registry_config_errors(cfg: Any, path: str) -> None:
    with pytest.raises(ConfigError) as ei:
        BackendRegistry.from_config(cfg)
    assert ei.value.path == path


def test_registry_unavailable_backend_is_backend_error() -> None:
    reg = BackendRegistry.from_config({"backends": {"nope": {"factory": "aisc_no_such_mod:make"}},
                                       "chains": {CHAIN: {"backend": "nope"}}})
    with pytest.raises(BackendError, match="not available"):
        reg.for_node(CHAIN, "evm_read")
