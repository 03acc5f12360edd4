"""Fixtures for the EVM end-to-end tests: a session anvil with the test contracts (see evm_chain.py).

Helpers live in the uniquely named module ``evm_chain`` so test modules never import ``conftest``
(several test folders have one).
"""

from __future__ import annotations

from evm_chain import anvil, anvil_session

__all__ = ["anvil", "anvil_session"]
