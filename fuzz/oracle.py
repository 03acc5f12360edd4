"""Shared oracle helpers: what a fuzz target may raise, and value-model checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aisc.numeric import Dec

HANG_SECONDS = 2.0
"""An input that takes longer than this is a hang (libFuzzer ``-timeout`` and the random engine)."""


class OracleViolation(AssertionError):
    """The code under test returned, but its result breaks a documented property."""


def check_value_model(v: Any, path: str = "$") -> None:
    """Values aisc hands on are int (never from a float), Dec, str, bool, None, lists and maps."""
    t = type(v)
    if v is None or t in (bool, int, str, Dec):
        return
    if t in (list, tuple):
        for i, x in enumerate(v):
            check_value_model(x, f"{path}[{i}]")
        return
    if isinstance(v, Mapping):
        for k, x in v.items():
            if type(k) is not str:
                raise OracleViolation(f"{path}: map key {k!r} is not a string")
            check_value_model(x, f"{path}.{k}")
        return
    raise OracleViolation(f"{path}: value of type {t.__name__} is outside the value model: {v!r:.200}")


def text_of(data: bytes) -> str:
    """Fuzzer bytes as text the way a file would be read (invalid UTF-8 replaced)."""
    return data.decode("utf-8", errors="replace")
