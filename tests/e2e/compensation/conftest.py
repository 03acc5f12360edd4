"""The compensation e2e reuses the crash-matrix helpers (tests/e2e/crash/crash_chain.py) and the anvil
helpers of tests/e2e/evm (evm_chain.py) by module name."""

from __future__ import annotations

import sys
from pathlib import Path

_E2E = Path(__file__).resolve().parents[1]
for _p in (_E2E / "crash", _E2E / "evm"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))
