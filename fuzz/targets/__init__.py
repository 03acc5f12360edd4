"""Fuzz targets, by name. Each module defines ``NAME``, ``ALLOWED``, ``MODULES``, ``DICTIONARY``,
``seeds()`` and ``test_one(data)``."""

from __future__ import annotations

import importlib
from types import ModuleType

TARGETS: dict[str, str] = {
    "yaml": "fuzz.targets.yaml_loader",
    "cel": "fuzz.targets.cel",
    "abi": "fuzz.targets.abi",
    "solana": "fuzz.targets.solana_ix",
}


def load(name: str) -> ModuleType:
    """Import the target module ``name`` (a key of :data:`TARGETS`)."""
    if name not in TARGETS:
        raise KeyError(f"unknown fuzz target {name!r} (known: {', '.join(TARGETS)})")
    return importlib.import_module(TARGETS[name])
