"""The crash and compensation e2e tests import their helpers (crash_chain.py) and the anvil helpers of
tests/e2e/evm (evm_chain.py) by module name."""

from __future__ import annotations

import sys
from pathlib import Path

for _p in (Path(__file__).resolve().parent, Path(__file__).resolve().parents[1] / "evm"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))
