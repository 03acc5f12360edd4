"""Fixtures for the cross-chain tests: the session anvil of tests/e2e/evm (evm_chain.py, with the
TestToken and TestBridge contracts deployed), reused by import and reverted after every test."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
_EVM_TESTS = str(Path(__file__).resolve().parents[1] / "evm")
for _p in (_HERE, _EVM_TESTS):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from evm_chain import anvil, anvil_session  # noqa: E402

__all__ = ["anvil", "anvil_session"]
