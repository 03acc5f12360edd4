"""Own Solana conformance vectors (R231, R233): each case passes through aisc, and each expectation
is re-derived here from solders (PDA/ATA derivation, Instruction/AccountMeta serialization, the System
program builders) and from the SPL byte layouts written out independently with ``struct``."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.token.associated import get_associated_token_address

from aisc.backends.solana.instructions import encode_instruction
from aisc.conformance.kinds_solana import KINDS

ROOT = Path(__file__).resolve().parents[4] / "conformance" / "aisc"
FILES = sorted(ROOT.glob("solana-*.json"))
CASES = [c for f in FILES for c in json.loads(f.read_text())["cases"]]
TOKEN = {"TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"}
ATA = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"
SYSTEM = "11111111111111111111111111111111"


def test_at_least_40_own_vectors() -> None:
    assert all(json.loads(f.read_text())["schema"] == "ais-conformance/0.0.2" for f in FILES)
    assert len(CASES) >= 40
    assert len({c["id"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vector_passes(case: dict[str, Any]) -> None:
    outcome = KINDS[case["kind"]](case["input"], case["expect"])
    assert outcome.passed, outcome


def _spl_data(i: dict[str, Any]) -> bytes:
    d = i.get("data") or {}
    name = i["instruction"]
    if name == "transfer":
        return bytes([3]) + struct.pack("<Q", int(d["amount"]))
    if name == "transfer_checked":
        return bytes([12]) + struct.pack("<QB", int(d["amount"]), int(d["decimals"]))
    if name == "approve":
        return bytes([4]) + struct.pack("<Q", int(d["amount"]))
    raise AssertionError(name)


def _solders_instruction(expect: dict[str, Any], program: str) -> Instruction:
    metas = [AccountMeta(Pubkey.from_string(k["pubkey"]), k["is_signer"], k["is_writable"]) for k in expect["keys"]]
    return Instruction(Pubkey.from_string(program), bytes.fromhex(expect["data_hex"][2:]), metas)


ENCODE = [c for c in CASES if c["kind"] == "solana_instruction_encode"]


@pytest.mark.parametrize("case", ENCODE, ids=[c["id"] for c in ENCODE])
def test_r231_encode_vector_matches_solders(case: dict[str, Any]) -> None:
    i, e = case["input"], case["expect"]
    ours = encode_instruction(i["program"], i["instruction"], i["accounts"], i.get("data"), i.get("discriminator"))
    # Same serialized Instruction as solders builds from the expected bytes and metas.
    assert bytes(ours) == bytes(_solders_instruction(e, i["program"]))
    by_name = {a["name"]: a["pubkey"] for a in i["accounts"]}
    if i["program"] in TOKEN:
        assert bytes.fromhex(e["data_hex"][2:]) == _spl_data(i)
        assert e["keys"][0] == {"pubkey": by_name["source"], "is_signer": False, "is_writable": True}
    elif i["program"] == ATA:
        owner, mint = Pubkey.from_string(by_name["owner"]), Pubkey.from_string(by_name["mint"])
        tp = by_name.get("token_program") or by_name.get("tokenProgram") or "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
        assert e["keys"][1]["pubkey"] == str(get_associated_token_address(owner, mint, Pubkey.from_string(tp)))
        assert e["keys"][4]["pubkey"] == SYSTEM
        assert e["data_hex"] == "0x01"
    elif i["program"] == SYSTEM:
        ref = transfer(
            TransferParams(
                from_pubkey=Pubkey.from_string(by_name["from"]),
                to_pubkey=Pubkey.from_string(by_name["to"]),
                lamports=int(i["data"]["lamports"]),
            )
        )
        assert bytes(ours) == bytes(ref)
    else:
        disc = bytes.fromhex(i["discriminator"][2:]) if i.get("discriminator") else b""
        assert bytes.fromhex(e["data_hex"][2:]) == disc + bytes.fromhex(i["data"][2:])


DERIVE = [c for c in CASES if c["kind"] in ("solana_derive_ata", "solana_find_pda")]


@pytest.mark.parametrize("case", DERIVE, ids=[c["id"] for c in DERIVE])
def test_r233_derivation_vector_matches_solders(case: dict[str, Any]) -> None:
    i, e = case["input"], case["expect"]
    if case["kind"] == "solana_derive_ata":
        tp = Pubkey.from_string(i.get("token_program") or "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
        ref = get_associated_token_address(Pubkey.from_string(i["owner"]), Pubkey.from_string(i["mint"]), tp)
        assert e["address"] == str(ref)
    else:
        seeds = [bytes.fromhex(s[2:]) for s in i["seeds_hex"]]
        addr, bump = Pubkey.find_program_address(seeds, Pubkey.from_string(i["program_id"]))
        assert (e["address"], e["bump"]) == (str(addr), bump)


def test_handler_reports_mismatch_as_failed_outcome() -> None:
    case = next(c for c in CASES if c["kind"] == "solana_derive_ata")
    outcome = KINDS["solana_derive_ata"](case["input"], {"address": SYSTEM})
    assert not outcome.passed
    assert outcome.actual == {"address": case["expect"]["address"]}


def test_handler_reports_malformed_case() -> None:
    outcome = KINDS["solana_find_pda"]({"program_id": SYSTEM}, {"address": SYSTEM, "bump": 1})
    assert not outcome.passed and "malformed case" in outcome.message


def test_error_kind_fails_when_encoding_succeeds() -> None:
    ok = next(c for c in CASES if c["kind"] == "solana_instruction_encode")
    outcome = KINDS["solana_instruction_encode_error"](ok["input"], {"message_includes": "x"})
    assert not outcome.passed and "expected an error" in outcome.message
