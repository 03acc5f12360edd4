"""Fixtures for the Solana backend unit tests: a LiteSVM chain and a backend with an ephemeral signer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from solana_testkit import CHAIN

from aisc.backends.solana.backend import SolanaBackend
from aisc.backends.solana.local import LocalChain


@pytest.fixture
def chain() -> LocalChain:
    return LocalChain()


@pytest.fixture
def backend(chain: LocalChain) -> Iterator[SolanaBackend]:
    b = SolanaBackend({"chain": CHAIN, "transport": "litesvm", "signer": {"type": "ephemeral"}}, local_chain=chain)
    yield b
    b.close()


@pytest.fixture
def wallet(backend: SolanaBackend) -> str:
    addr = backend.signer_address(CHAIN)
    assert addr is not None
    return addr
