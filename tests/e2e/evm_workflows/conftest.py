"""Fixtures for the workflow-level EVM tests: the session anvil of tests/e2e/evm (evm_chain.py),
reused by import, reverted to its freshly deployed state after every test."""

from __future__ import annotations

import sys
from pathlib import Path

_EVM_TESTS = str(Path(__file__).resolve().parents[1] / "evm")
if _EVM_TESTS not in sys.path:
    sys.path.insert(0, _EVM_TESTS)

from evm_chain import anvil, anvil_session  # noqa: E402

__all__ = ["anvil", "anvil_session"]
