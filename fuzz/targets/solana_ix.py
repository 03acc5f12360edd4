"""The Solana instruction decoder: ``aisc.backends.solana.instructions.decode_instruction``.

Input: byte 0 picks the program (SPL Token, Token-2022, ATA, System, Compute Budget, a random
32-byte key or a malformed id), byte 1 the number of accounts (0..9, each a random 32-byte key),
the rest is the instruction data.

Oracle: only :class:`InstructionError` may escape, and only for a malformed program id; the result
has the documented shape (``program``/``instruction``/``accounts``, ``fields`` for a known layout,
``data_hex`` for an unknown one); and a decoded Token/System instruction encodes back, with
``encode_instruction`` and the decoded fields and accounts, to the same bytes and account keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from solders.pubkey import Pubkey

from aisc.addresses import ATA_PROGRAM, COMPUTE_BUDGET_PROGRAM, SYSTEM_PROGRAM, TOKEN_2022_PROGRAM, TOKENKEG
from aisc.backends.solana.instructions import InstructionError, decode_instruction, encode_instruction
from fuzz.oracle import OracleViolation
from fuzz.reader import Reader

NAME = "solana"
ALLOWED: tuple[type[BaseException], ...] = (InstructionError,)
MODULES = ("aisc.backends.solana.instructions",)
INSTRUMENT = ("aisc",)
DICTIONARY = ()

PROGRAMS = (TOKENKEG, TOKEN_2022_PROGRAM, ATA_PROGRAM, SYSTEM_PROGRAM, COMPUTE_BUDGET_PROGRAM)
_BAD_IDS = ("", "0x1234", "1111", "O0Il", "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DAx")
_MULTISIG = frozenset({"transfer", "transfer_checked", "approve", "revoke", "mint_to"})


def build(data: bytes) -> tuple[str, bytes, list[str], bool]:
    """``(program_id, data, accounts, program_id_is_valid)`` for an input."""
    r = Reader(data)
    sel = r.byte() % 8
    valid = True
    if sel < len(PROGRAMS):
        program = PROGRAMS[sel]
    elif sel == 5:
        program = str(Pubkey.from_bytes(r.take(32)))
    else:
        program = _BAD_IDS[r.byte() % len(_BAD_IDS)]
        valid = False
    n = r.byte() % 10
    accounts = [str(Pubkey.from_bytes(r.take(32))) for _ in range(n)]
    return program, r.rest(), accounts, valid


def seeds() -> Iterator[bytes]:
    keys = bytes(range(32)) + bytes(range(32, 64)) + bytes(range(64, 96)) + bytes(range(96, 128))
    yield bytes([0, 3]) + keys[:96] + bytes([3]) + (10**6).to_bytes(8, "little")
    yield bytes([1, 4]) + keys + bytes([12]) + (5).to_bytes(8, "little") + bytes([6])
    yield bytes([0, 1]) + keys[:32] + bytes([20, 9]) + bytes(range(32)) + bytes([1]) + bytes(range(32))
    yield bytes([3, 2]) + keys[:64] + (2).to_bytes(4, "little") + (7).to_bytes(8, "little")
    yield bytes([3, 2]) + keys[:64] + (0).to_bytes(4, "little") + bytes(16) + bytes(range(32))
    yield bytes([4, 0, 2]) + (200_000).to_bytes(4, "little")
    yield bytes([2, 6]) + keys + keys[:64] + b"\x01"


def _fields_for_encode(fields: dict[str, Any]) -> dict[str, Any]:
    return dict(fields)


def test_one(data: bytes) -> None:
    program, body, accounts, valid = build(data)
    try:
        out = decode_instruction(program, body, accounts)
    except InstructionError as e:
        if valid:
            raise OracleViolation(f"InstructionError for the valid program id {program}: {e}") from None
        return
    if not valid:
        raise OracleViolation(f"decode_instruction accepted the malformed program id {program!r}")
    if out.get("program") != program or not isinstance(out.get("instruction"), str):
        raise OracleViolation(f"bad result shape: {out!r}")
    name = out["instruction"]
    if name == "unknown":
        if out.get("data_hex") != "0x" + body.hex() or out.get("accounts") != accounts:
            raise OracleViolation(f"unknown instruction result does not echo the input: {out!r}")
        return
    if not isinstance(out.get("fields"), dict) or not isinstance(out.get("accounts"), dict):
        raise OracleViolation(f"known instruction without fields/accounts maps: {out!r}")
    if program in (ATA_PROGRAM, COMPUTE_BUDGET_PROGRAM):
        return  # ATA re-encoding checks the derivation; compute-budget has no encode layout
    named = out["accounts"]
    extra = out.get("signers", []) if name in _MULTISIG and program != SYSTEM_PROGRAM else []
    specs = [{"name": k, "pubkey": v, "signer": False, "writable": False} for k, v in named.items()]
    specs += [{"name": f"multisig_{i}", "pubkey": v, "signer": True, "writable": False} for i, v in enumerate(extra)]
    try:
        ix = encode_instruction(program, name, specs, _fields_for_encode(out["fields"]))
    except InstructionError as e:
        raise OracleViolation(f"decoded {name} does not encode again: {e}; decoded={out!r}") from None
    if bytes(ix.data) != body:
        raise OracleViolation(f"{name}: re-encoded data 0x{bytes(ix.data).hex()} != input 0x{body.hex()}")
    keys = [str(m.pubkey) for m in ix.accounts]
    if keys != accounts[: len(keys)] or len(keys) != len(named) + len(extra):
        raise OracleViolation(f"{name}: re-encoded account keys {keys} != input {accounts}")
