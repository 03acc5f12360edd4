"""Keccak-256 (original Keccak padding, as Ethereum uses it; not NIST SHA3-256), from pycryptodome.

The one place aisc loads it. pycryptodome's ctypes loader asks :func:`platform.architecture` once
per process before loading its first native module, and that runs the ``file`` program on the
interpreter: 6-14 ms of every process that hashes (both processes of ``aisc conformance``, every
``aisc run`` that signs). Its answer decides one thing, whether library names get the Windows
treatment; on Linux the answer is ``("64bit", "ELF")`` (or ``"32bit"``), which this module fills in
ahead of the loader. Elsewhere, or if pycryptodome's loader no longer has that cache, nothing is
filled in and the loader asks as before. The module loads pycryptodome on the first hash.
"""

from __future__ import annotations

import struct
import sys
from typing import Any

_new: Any = None


def linux_architecture() -> tuple[str, str]:
    """What :func:`platform.architecture` answers for this interpreter on Linux."""
    return f"{struct.calcsize('P') * 8}bit", "ELF"


def _load() -> Any:
    global _new
    if sys.platform.startswith("linux"):
        try:
            from Crypto.Util import _raw_api
        except ImportError:  # pragma: no cover - pycryptodome is a dependency
            pass
        else:
            cache = getattr(_raw_api, "cached_architecture", None)
            if isinstance(cache, list) and not cache:
                cache[:] = linux_architecture()
    from Crypto.Hash import keccak

    _new = keccak.new
    return _new


def keccak256(data: bytes) -> bytes:
    """The 32-byte Keccak-256 digest of ``data``."""
    new = _new or _load()
    return bytes(new(digest_bits=256, data=data).digest())


def keccak256_hex(data: bytes) -> str:
    """:func:`keccak256` as 64 lowercase hex digits (no ``0x``)."""
    new = _new or _load()
    return str(new(digest_bits=256, data=data).hexdigest())
