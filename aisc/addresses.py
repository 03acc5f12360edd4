"""Chain address helpers: Solana pubkeys, PDA/ATA derivation, EVM addresses and EIP-55.

Bottom layer: imports only the standard library, ``solders`` and ``pycryptodome``, the last two on
first use (a compiler run that meets no Solana key or EVM checksum never loads them).

Solana (SPEC-MAP §5.6, R233):

- :func:`is_solana_address` / :func:`parse_pubkey`: a base58 string that decodes to exactly 32 bytes.
- :func:`find_program_address`: the standard PDA rule. For bump 255 down to 0,
  ``sha256(seed_1 || ... || seed_n || [bump] || program_id || b"ProgramDerivedAddress")``; the first
  hash that is *not* an ed25519 curve point is the address. At most 16 seeds of at most 32 bytes each.
- :func:`derive_ata`: the associated token account of ``owner`` for ``mint``, i.e. the PDA of
  ``[owner, token_program, mint]`` under the ATA program.

EVM:

- :func:`is_evm_address`: ``0x`` + 40 hex digits (any case).
- :func:`to_checksum_address` / :func:`is_checksum_address`: EIP-55 mixed-case checksums (keccak-256
  of the lowercase hex digits; a letter is upper case when its hash nibble is ≥ 8).

Every failure raises :class:`AddressError` (a ``ValueError``) with a message that names the problem.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from aisc.keccak import keccak256_hex

if TYPE_CHECKING:
    from solders.pubkey import Pubkey

__all__ = [
    "ADDRESS_LOOKUP_TABLE_PROGRAM",
    "ATA_PROGRAM",
    "COMPUTE_BUDGET_PROGRAM",
    "MAX_SEEDS",
    "MAX_SEED_LEN",
    "SYSTEM_PROGRAM",
    "SYSVAR_RENT",
    "TOKENKEG",
    "TOKEN_2022_PROGRAM",
    "TOKEN_PROGRAMS",
    "AddressError",
    "b58decode",
    "b58encode",
    "create_program_address",
    "derive_ata",
    "find_program_address",
    "is_checksum_address",
    "is_evm_address",
    "is_on_curve",
    "is_solana_address",
    "parse_pubkey",
    "pubkey_bytes",
    "to_checksum_address",
]

TOKENKEG: Final = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
"""The SPL Token program."""
TOKEN_2022_PROGRAM: Final = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
"""The SPL Token-2022 program (instruction layout of the calls we support is the same as Tokenkeg)."""
TOKEN_PROGRAMS: Final = frozenset({TOKENKEG, TOKEN_2022_PROGRAM})
ATA_PROGRAM: Final = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"
"""The SPL Associated Token Account program."""
SYSTEM_PROGRAM: Final = "11111111111111111111111111111111"
COMPUTE_BUDGET_PROGRAM: Final = "ComputeBudget111111111111111111111111111111"
ADDRESS_LOOKUP_TABLE_PROGRAM: Final = "AddressLookupTab1e1111111111111111111111111"
SYSVAR_RENT: Final = "SysvarRent111111111111111111111111111111111"

MAX_SEEDS: Final = 16
MAX_SEED_LEN: Final = 32

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_CHARS = frozenset(_B58_ALPHABET)
_EVM_RE = re.compile(r"0x[0-9a-fA-F]{40}")


class AddressError(ValueError):
    """An address or derivation input is malformed."""


# ---------------------------------------------------------------------------------------------
# Solana


def b58encode(data: bytes) -> str:
    """Bitcoin-alphabet base58 (leading zero bytes become leading ``1``)."""
    n = int.from_bytes(data, "big")
    out: list[str] = []
    while n:
        n, r = divmod(n, 58)
        out.append(_B58_ALPHABET[r])
    zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode`; :class:`AddressError` on a character outside the alphabet."""
    n = 0
    for c in text:
        i = _B58_ALPHABET.find(c)
        if i < 0:
            raise AddressError(f"invalid base58 character {c!r}")
        n = n * 58 + i
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    zeros = len(text) - len(text.lstrip("1"))
    return b"\x00" * zeros + body


def parse_pubkey(value: object, *, what: str = "pubkey") -> Pubkey:
    """Parse a base58 Solana public key (exactly 32 bytes). ``what`` names the field in errors."""
    from solders.pubkey import Pubkey

    if isinstance(value, Pubkey):
        return value
    if not isinstance(value, str):
        raise AddressError(f"{what} must be a base58 string, got {type(value).__name__}")
    if not value:
        raise AddressError(f"{what} is empty; expected a base58 public key")
    bad = sorted({c for c in value if c not in _B58_CHARS})
    if bad:
        raise AddressError(f"{what} {value!r} is not base58 (invalid characters: {''.join(bad)!r})")
    try:
        return Pubkey.from_string(value)
    except ValueError:
        raise AddressError(f"{what} {value!r} does not decode to 32 bytes") from None


def is_solana_address(value: object) -> bool:
    """True for a base58 string that decodes to exactly 32 bytes."""
    try:
        parse_pubkey(value)
    except AddressError:
        return False
    return True


def pubkey_bytes(value: object, *, what: str = "pubkey") -> bytes:
    """The 32 raw bytes of a base58 public key."""
    return bytes(parse_pubkey(value, what=what))


def is_on_curve(value: object) -> bool:
    """True when the 32 bytes of the key decode to a point on the ed25519 curve."""
    return bool(parse_pubkey(value).is_on_curve())


def _check_seeds(seeds: Sequence[bytes], *, with_bump: bool) -> list[bytes]:
    if isinstance(seeds, (bytes, bytearray, str)):
        raise AddressError("seeds must be a sequence of byte strings, not a single value")
    limit = MAX_SEEDS - 1 if with_bump else MAX_SEEDS
    if len(seeds) > limit:
        raise AddressError(f"too many seeds: {len(seeds)} (at most {limit})")
    out: list[bytes] = []
    for i, seed in enumerate(seeds):
        if not isinstance(seed, (bytes, bytearray)):
            raise AddressError(f"seed {i} must be bytes, got {type(seed).__name__}")
        if len(seed) > MAX_SEED_LEN:
            raise AddressError(f"seed {i} is {len(seed)} bytes long (at most {MAX_SEED_LEN})")
        out.append(bytes(seed))
    return out


def find_program_address(seeds: Sequence[bytes], program_id: str) -> tuple[str, int]:
    """The program-derived address of ``seeds`` under ``program_id`` and its bump seed.

    Raises :class:`AddressError` for bad seeds or a bad program id. (That no bump in 255..0 gives an
    off-curve hash has probability ~2^-256 and is not handled.)
    """
    # The bump seed counts towards the 16-seed limit.
    from solders.pubkey import Pubkey

    checked = _check_seeds(seeds, with_bump=True)
    program = parse_pubkey(program_id, what="program_id")
    pda, bump = Pubkey.find_program_address(checked, program)
    return str(pda), int(bump)


def create_program_address(seeds: Sequence[bytes], program_id: str) -> str:
    """The address for exactly these seeds (bump included by the caller); error if on the curve."""
    from solders.pubkey import Pubkey

    checked = _check_seeds(seeds, with_bump=False)
    program = parse_pubkey(program_id, what="program_id")
    try:
        return str(Pubkey.create_program_address(checked, program))
    except Exception:  # solders raises its own PubkeyError (an Exception subclass) here
        raise AddressError("the seeds give an address on the ed25519 curve (not a valid PDA)") from None


def derive_ata(owner: str, mint: str, token_program: str = TOKENKEG) -> str:
    """The associated token account of ``owner`` for ``mint`` under ``token_program``."""
    seeds = [
        pubkey_bytes(owner, what="owner"),
        pubkey_bytes(token_program, what="token_program"),
        pubkey_bytes(mint, what="mint"),
    ]
    return find_program_address(seeds, ATA_PROGRAM)[0]


# ---------------------------------------------------------------------------------------------
# EVM


def is_evm_address(value: object) -> bool:
    """``0x`` followed by exactly 40 hex digits (any case; the checksum is not checked)."""
    return isinstance(value, str) and _EVM_RE.fullmatch(value) is not None


def to_checksum_address(value: str) -> str:
    """The EIP-55 mixed-case form of a 20-byte hex address."""
    if not is_evm_address(value):
        raise AddressError(f"{value!r} is not a 0x-prefixed 20-byte hex address")
    lower = value[2:].lower()
    digest = keccak256_hex(lower.encode("ascii"))
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(lower, digest[:40], strict=True))


def is_checksum_address(value: object) -> bool:
    """True when ``value`` is a 20-byte hex address in exactly its EIP-55 mixed-case form."""
    return isinstance(value, str) and is_evm_address(value) and to_checksum_address(value) == value
