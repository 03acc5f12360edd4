"""Fixtures for the fault-injection tests: one anvil per session (per xdist worker) with TestToken,
reverted to its fresh state after each test, and a fresh :class:`FaultProxy` in front of it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.chains import Anvil, find_anvil  # noqa: E402
from tests.support.faultproxy import FaultProxy  # noqa: E402


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[Anvil]:
    if find_anvil() is None:
        msg = "anvil is not installed: run tools/chain-deps/install.sh (or set AISC_ANVIL)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    node = Anvil(accounts=4)
    try:
        yield node
    finally:
        node.close()


@pytest.fixture
def chain(anvil_node: Anvil) -> Iterator[Anvil]:
    snap = anvil_node.rpc("evm_snapshot")
    try:
        yield anvil_node
    finally:
        assert anvil_node.rpc("evm_revert", [snap]) is True


@pytest.fixture
def proxy(chain: Anvil) -> Iterator[FaultProxy]:
    with FaultProxy(chain.url) as p:
        yield p
