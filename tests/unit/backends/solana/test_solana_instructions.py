"""solana_instruction encoding/decoding (R231, R131 range checks, SPEC-MAP §5.4)."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solders.compute_budget import set_compute_unit_limit
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account

from aisc.addresses import ATA_PROGRAM, SYSTEM_PROGRAM, TOKEN_2022_PROGRAM, TOKENKEG, derive_ata
from aisc.backends.solana import instructions as I

K = [str(Keypair.from_seed(bytes([i + 1]) * 32).pubkey()) for i in range(8)]
SRC, DST, AUTH, MINT, DLG = K[:5]


def acc(name: str, pk: str, s: bool = False, w: bool = False) -> dict[str, Any]:
    return {"name": name, "pubkey": pk, "signer": s, "writable": w}


TRANSFER_ACCS = [acc("source", SRC), acc("destination", DST), acc("authority", AUTH)]


ERRORS: list[tuple[str, str, str, list[dict[str, Any]], Any, Any, str]] = [
    # (id, program, instruction, accounts, data, discriminator, expected code)
    ("missing-destination", TOKENKEG, "transfer", [acc("source", SRC), acc("owner", AUTH)], {"amount": 1}, None, "AISC-SOLANA-002"),
    ("missing-amount", TOKENKEG, "transfer", TRANSFER_ACCS, {}, None, "AISC-SOLANA-004"),
    ("data-not-object", TOKENKEG, "transfer", TRANSFER_ACCS, "0x03", None, "AISC-SOLANA-004"),
    ("r131-amount-2^64", TOKENKEG, "transfer", TRANSFER_ACCS, {"amount": 2**64}, None, "AISC-SOLANA-003"),
    ("r131-amount-negative", TOKEN_2022_PROGRAM, "approve", [acc("source", SRC), acc("delegate", DLG), acc("owner", AUTH)], {"amount": -1}, None, "AISC-SOLANA-003"),
    ("amount-float-string", TOKENKEG, "transfer", TRANSFER_ACCS, {"amount": "1e3"}, None, "AISC-SOLANA-003"),
    ("amount-bool", TOKENKEG, "transfer", TRANSFER_ACCS, {"amount": False}, None, "AISC-SOLANA-003"),
    ("bad-discriminator", TOKENKEG, "transfer", TRANSFER_ACCS, {"amount": 1}, "0x04", "AISC-SOLANA-005"),
    ("discriminator-not-hex", TOKENKEG, "transfer", TRANSFER_ACCS, {"amount": 1}, "3", "AISC-SOLANA-004"),
    ("bad-program", "nope", "transfer", TRANSFER_ACCS, {"amount": 1}, None, "AISC-SOLANA-001"),
    ("bad-flag", "Vote111111111111111111111111111111111111111", "x", [{"name": "a", "pubkey": SRC, "signer": "yes"}], "0x", None, "AISC-SOLANA-007"),
    ("generic-object-data", "Vote111111111111111111111111111111111111111", "x", [], {"amount": 1}, None, "AISC-SOLANA-004"),
    ("ata-wrong-address", ATA_PROGRAM, "create_idempotent", [acc("payer", AUTH), acc("associated_token", SRC), acc("owner", AUTH), acc("mint", MINT)], {}, None, "AISC-SOLANA-006"),
    ("ata-wrong-system", ATA_PROGRAM, "create_idempotent", [acc("payer", AUTH), acc("associated_token", derive_ata(AUTH, MINT)), acc("owner", AUTH), acc("mint", MINT), acc("system_program", TOKENKEG)], {}, None, "AISC-SOLANA-006"),
    ("ata-unexpected-extra", ATA_PROGRAM, "create_idempotent", [acc("payer", AUTH), acc("associated_token", derive_ata(AUTH, MINT)), acc("owner", AUTH), acc("mint", MINT), acc("extra", K[6])], {}, None, "AISC-SOLANA-002"),
    ("account-without-name", TOKENKEG, "transfer", [{"pubkey": SRC}], {"amount": 1}, None, "AISC-SOLANA-002"),
]


@pytest.mark.parametrize(("program", "instruction", "accounts", "data", "disc", "code"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_encode_errors(program: str, instruction: str, accounts: list[dict[str, Any]], data: Any, disc: Any, code: str) -> None:
    with pytest.raises(I.InstructionError) as info:
        I.encode_instruction(program, instruction, accounts, data, disc)
    assert info.value.code == code


def test_r131_error_names_field() -> None:
    with pytest.raises(I.InstructionError, match=r"data\.amount 18446744073709551616 is out of range") as info:
        I.encode_instruction(TOKENKEG, "transfer", TRANSFER_ACCS, {"amount": str(2**64)})
    assert info.value.field == "data.amount"


def test_missing_account_message_is_verbatim() -> None:
    with pytest.raises(I.InstructionError, match=r"^Missing required account: authority$"):
        I.encode_instruction(TOKENKEG, "approve", [acc("source", SRC), acc("delegate", DLG)], {"amount": 1})


def test_known_instruction_uses_canonical_flags_not_declared() -> None:
    accs = [acc("source", SRC, s=True, w=False), acc("destination", DST), acc("owner", AUTH, w=True)]
    ix = I.encode_instruction(TOKENKEG, "transfer", accs, {"amount": 5})
    assert [(m.is_signer, m.is_writable) for m in ix.accounts] == [(False, True), (False, True), (True, False)]


def test_ata_defaults_system_and_token_program() -> None:
    ata = derive_ata(AUTH, MINT)
    ix = I.encode_instruction(
        ATA_PROGRAM, "create_idempotent", [acc("payer", AUTH), acc("associatedToken", ata), acc("owner", AUTH), acc("mint", MINT)], {}
    )
    assert [str(m.pubkey) for m in ix.accounts] == [AUTH, ata, AUTH, MINT, SYSTEM_PROGRAM, TOKENKEG]
    assert bytes(ix.data) == b"\x01"


def test_initialize_mint2_layout() -> None:
    ix = I.encode_instruction(TOKENKEG, "initialize_mint2", [acc("mint", MINT)], {"decimals": 9, "mint_authority": AUTH})
    assert bytes(ix.data) == bytes([20, 9]) + bytes(Pubkey.from_string(AUTH)) + b"\x00"
    ix2 = I.encode_instruction(
        TOKENKEG, "initialize_mint2", [acc("mint", MINT)], {"decimals": "6", "mint_authority": AUTH, "freeze_authority": DLG}
    )
    assert bytes(ix2.data) == bytes([20, 6]) + bytes(Pubkey.from_string(AUTH)) + b"\x01" + bytes(Pubkey.from_string(DLG))


def test_system_create_account_matches_solders() -> None:
    ix = I.encode_instruction(
        SYSTEM_PROGRAM, "create_account", [acc("from", AUTH), acc("new_account", MINT)],
        {"lamports": 1461600, "space": 82, "owner": TOKENKEG},
    )
    ref = create_account(
        CreateAccountParams(
            from_pubkey=Pubkey.from_string(AUTH), to_pubkey=Pubkey.from_string(MINT), lamports=1461600, space=82,
            owner=Pubkey.from_string(TOKENKEG),
        )
    )
    assert bytes(ix) == bytes(ref)


@pytest.mark.parametrize("units", [0, 200, 30000, "30000", I.MAX_COMPUTE_UNITS])
def test_compute_unit_limit_matches_solders(units: Any) -> None:
    assert bytes(I.compute_unit_limit_instruction(units)) == bytes(set_compute_unit_limit(int(units)))


@pytest.mark.parametrize(("units", "fragment"), [(I.MAX_COMPUTE_UNITS + 1, "exceeds"), (2**32, "out of range"), ("1.5", "integer"), (True, "boolean")])
def test_compute_unit_limit_rejects(units: Any, fragment: str) -> None:
    with pytest.raises(I.InstructionError, match=fragment):
        I.compute_unit_limit_instruction(units)


@pytest.mark.parametrize(("value", "expected"), [(True, True), (False, False), (1, True), (0, False), ("true", True), ("false", False)])
def test_coerce_bool(value: Any, expected: bool) -> None:
    assert I.coerce_bool(value, field="f") is expected


@pytest.mark.parametrize("value", [2, -1, "True", "yes", None, 1.0])
def test_coerce_bool_rejects(value: Any) -> None:
    with pytest.raises(I.InstructionError):
        I.coerce_bool(value, field="f")


u64 = st.integers(min_value=0, max_value=2**64 - 1)
token_programs = st.sampled_from([TOKENKEG, TOKEN_2022_PROGRAM])


@settings(max_examples=80, deadline=None)
@given(program=token_programs, amount=u64, decimals=st.integers(0, 255), which=st.sampled_from(["transfer", "transfer_checked", "approve", "mint_to"]))
def test_decode_roundtrip_token(program: str, amount: int, decimals: int, which: str) -> None:
    accounts = {
        "transfer": [acc("source", SRC), acc("destination", DST), acc("owner", AUTH)],
        "transfer_checked": [acc("source", SRC), acc("mint", MINT), acc("destination", DST), acc("owner", AUTH)],
        "approve": [acc("source", SRC), acc("delegate", DLG), acc("owner", AUTH)],
        "mint_to": [acc("mint", MINT), acc("destination", DST), acc("authority", AUTH)],
    }[which]
    data: dict[str, Any] = {"amount": amount, "decimals": decimals}
    ix = I.encode_instruction(program, which, accounts, data)
    out = I.decode_instruction(program, bytes(ix.data), [str(m.pubkey) for m in ix.accounts])
    assert out["instruction"] == which
    assert out["fields"]["amount"] == amount
    if which == "transfer_checked":
        assert out["fields"]["decimals"] == decimals
    # Decoded fields equal the byte layout read back independently.
    assert struct.unpack_from("<Q", bytes(ix.data), 1)[0] == amount


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=80), st.sampled_from([TOKENKEG, ATA_PROGRAM, SYSTEM_PROGRAM, "ComputeBudget111111111111111111111111111111"]))
def test_decode_never_raises_on_arbitrary_bytes(data: bytes, program: str) -> None:
    out = I.decode_instruction(program, data, K)
    assert out["program"] == program
    if out["instruction"] == "unknown":
        assert out["data_hex"] == "0x" + data.hex()


def test_decode_multisig_signers_and_compute_budget() -> None:
    accs = [acc("source", SRC), acc("destination", DST), acc("authority", AUTH), acc("m1", K[5], s=True)]
    ix = I.encode_instruction(TOKENKEG, "transfer", accs, {"amount": 3})
    out = I.decode_instruction(TOKENKEG, bytes(ix.data), [str(m.pubkey) for m in ix.accounts])
    assert out == {
        "program": TOKENKEG,
        "instruction": "transfer",
        "fields": {"amount": 3},
        "accounts": {"source": SRC, "destination": DST, "authority": AUTH},
        "signers": [K[5]],
    }
    cb = I.compute_unit_limit_instruction(1234)
    assert I.decode_instruction(str(cb.program_id), bytes(cb.data), [])["fields"] == {"units": 1234}


def test_decode_too_few_accounts_is_unknown() -> None:
    ix = I.encode_instruction(TOKENKEG, "transfer", TRANSFER_ACCS, {"amount": 3})
    assert I.decode_instruction(TOKENKEG, bytes(ix.data), [SRC])["instruction"] == "unknown"
