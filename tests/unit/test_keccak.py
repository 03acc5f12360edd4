"""aisc.keccak: Keccak-256 digests, and pycryptodome loaded without running the ``file`` program."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from aisc.keccak import keccak256, keccak256_hex, linux_architecture

# Known digests (Ethereum's Keccak-256, not NIST SHA3-256).
EMPTY = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
SHA3_256_EMPTY = "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"


def test_known_digests() -> None:
    assert keccak256_hex(b"") == EMPTY
    assert keccak256_hex(b"") != SHA3_256_EMPTY
    assert keccak256(b"") == bytes.fromhex(EMPTY)
    assert keccak256(b"transfer(address,uint256)")[:4].hex() == "a9059cbb"
    assert keccak256(b"Transfer(address,address,uint256)").hex() == (
        "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the pre-filled answer is Linux's")
def test_prefilled_architecture_is_what_platform_answers() -> None:
    assert linux_architecture() == platform.architecture()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the pre-filled answer is Linux's")
def test_first_hash_in_a_fresh_process_runs_no_subprocess() -> None:
    code = ("import sys\nfrom aisc.keccak import keccak256_hex\nprint(keccak256_hex(b''))\n"
            "print('platform' in sys.modules)\n"
            "from Crypto.Util import _raw_api\nprint(list(_raw_api.cached_architecture))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    digest, platform_loaded, cached = proc.stdout.splitlines()
    assert digest == EMPTY
    assert platform_loaded == "False"  # platform.architecture() (and its `file` run) was not needed
    assert cached == str(list(linux_architecture()))
