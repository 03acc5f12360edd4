"""The Solana backend checks which cluster a JSON-RPC endpoint serves (getGenesisHash vs the CAIP-2
reference of the plan's chain; docs/solana.md "Cluster check", docs/faults.md table 2)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from solders.keypair import Keypair

from aisc.backends.base import BackendError, NodeCall
from aisc.backends.solana.backend import SolanaBackend, genesis_reference
from aisc.backends.solana.devserver import DevServer
from aisc.backends.solana.local import LOCAL_GENESIS_HASH, LocalChain
from aisc.backends.solana.transport import LiteSVMTransport

MAINNET = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
DEVNET_GENESIS = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG"
HOLDER = str(Keypair.from_seed(bytes([99]) * 32).pubkey())  # an account that does not exist


GENESIS_REFS: list[tuple[str, str | None]] = [
    (MAINNET, "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
    ("solana:mainnet", "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
    ("solana:mainnet-beta", "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"),
    ("solana:devnet", "EtWTRABZaYq6iMfeYKouRu166VU2xqa1"),
    ("solana:testnet", "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z"),
    ("solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1", "EtWTRABZaYq6iMfeYKouRu166VU2xqa1"),
    ("solana:localnet", None),
    ("solana:x", None),
    ("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvd", None),  # 31 characters
    ("solana:0eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", None),  # '0' is not base58
]


@pytest.mark.parametrize(("chain", "want"), GENESIS_REFS, ids=[c[0] for c in GENESIS_REFS])
def test_d18_genesis_reference_of_caip2_chain(chain: str, want: str | None) -> None:
    """SPEC-MAP D18: cluster names used as references map to the public cluster's genesis prefix."""
    assert genesis_reference(chain) == want


def _post(url: str, method: str) -> Any:
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": []})
    return r.json()["result"]


def test_devserver_and_litesvm_report_the_same_fixed_genesis_hash() -> None:
    chain = LocalChain()
    assert chain.genesis_hash == LOCAL_GENESIS_HASH == "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpLiteSVMLocaL"
    assert LiteSVMTransport(chain).genesis_hash() == LOCAL_GENESIS_HASH
    with DevServer(chain) as server:
        assert _post(server.url, "getGenesisHash") == LOCAL_GENESIS_HASH


def test_local_chain_can_stand_in_for_another_cluster() -> None:
    with DevServer(LocalChain(genesis_hash=DEVNET_GENESIS)) as server:
        assert _post(server.url, "getGenesisHash") == DEVNET_GENESIS


@pytest.mark.parametrize("bad", ["", "abc", "0" * 44, LOCAL_GENESIS_HASH + "1", "1" * 44])
def test_local_chain_rejects_a_genesis_hash_that_is_not_32_bytes(bad: str) -> None:
    with pytest.raises(ValueError, match="genesis_hash must be the base58 text of 32 bytes"):
        LocalChain(genesis_hash=bad)


def _read_call(chain: str) -> NodeCall:
    spec = {"type": "solana_read", "method": "getBalance", "params": {"lit": {"address": HOLDER}}}
    return NodeCall(node_id="bal", chain=chain, execution=spec, evaluate=lambda v: v["lit"])


@pytest.fixture
def server() -> Iterator[DevServer]:
    with DevServer() as s:
        yield s


def _rpc_backend(chain: str, url: str) -> SolanaBackend:
    return SolanaBackend({"chain": chain, "transport": "rpc", "rpc_url": url})


@pytest.mark.parametrize("chain", [MAINNET, "solana:mainnet", "solana:mainnet-beta"])
def test_rpc_read_on_the_served_cluster_passes_the_check(server: DevServer, chain: str) -> None:
    be = _rpc_backend(chain, server.url)
    try:
        assert "lamports" in be.execute(_read_call(chain)).outputs
    finally:
        be.close()
    assert be.cluster_warning is None
    assert server.requests.count("getGenesisHash") == 1


@pytest.mark.parametrize("chain", ["solana:devnet", "solana:testnet", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"])
def test_rpc_read_on_another_cluster_is_a_validation_error(server: DevServer, chain: str) -> None:
    be = _rpc_backend(chain, server.url)
    try:
        with pytest.raises(BackendError) as ei:
            be.execute(_read_call(chain))
    finally:
        be.close()
    e = ei.value
    assert (e.category, e.retryable, e.details["code"]) == ("validation", False, "AISC-SOLANA-022")
    assert e.details["actual"] == LOCAL_GENESIS_HASH
    assert server.requests == ["getGenesisHash"], "nothing but the identity check reached the endpoint"


def test_rpc_devnet_chain_against_a_devnet_stand_in() -> None:
    with DevServer(LocalChain(genesis_hash=DEVNET_GENESIS)) as server:
        be = _rpc_backend("solana:devnet", server.url)
        try:
            assert be.execute(_read_call("solana:devnet")).outputs == {"lamports": 0}
        finally:
            be.close()


def test_rpc_unverifiable_reference_is_skipped_with_a_warning(server: DevServer,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    be = _rpc_backend("solana:localnet", server.url)
    with caplog.at_level(logging.WARNING, logger="aisc.backends.solana.backend"):
        try:
            be.execute(_read_call("solana:localnet"))
            be.execute(_read_call("solana:localnet"))
        finally:
            be.close()
    assert be.cluster_warning is not None and "solana:localnet" in be.cluster_warning
    assert [r.getMessage() for r in caplog.records] == [be.cluster_warning], "warned once per backend"
    assert "getGenesisHash" not in server.requests


def test_litesvm_transport_is_not_checked() -> None:
    """The in-process chain stands in for whichever chain the backend is configured for."""
    be = SolanaBackend({"chain": "solana:devnet"})
    assert be.execute(_read_call("solana:devnet")).outputs == {"lamports": 0}
    assert be.cluster_warning is None
