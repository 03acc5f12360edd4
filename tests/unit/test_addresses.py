"""aisc.addresses: base58 pubkeys, PDA/ATA derivation (R233, SPEC-MAP §5.6), EIP-55.

PDA derivation is cross-checked against an independent pure-Python implementation of the rule
(sha256 + the ed25519 off-curve test written out with modular arithmetic), and ATAs against solders'
own ``get_associated_token_address``.
"""

from __future__ import annotations

import hashlib

import pytest
from eth_utils.address import to_checksum_address as eth_utils_checksum
from hypothesis import given, settings
from hypothesis import strategies as st
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.token.associated import get_associated_token_address

from aisc import addresses as A

# ---------------------------------------------------------------------------------------------
# Independent reference: ed25519 point decompression test + PDA search, no solders involved.

_P = 2**255 - 19
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58decode(s: str) -> bytes:
    n = 0
    for c in s:
        n = n * 58 + _B58.index(c)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * (len(s) - len(s.lstrip("1"))) + raw


def _b58encode(b: bytes) -> str:
    n = int.from_bytes(b, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(b) - len(b.lstrip(b"\x00"))) + out


def _ref_on_curve(b: bytes) -> bool:
    """curve25519-dalek's decompress(): y is reduced mod p, x² = (y²-1)/(d·y²+1) must be a square."""
    y = (int.from_bytes(b, "little") & ((1 << 255) - 1)) % _P
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x2 = u * pow(v, _P - 2, _P) % _P
    return x2 == 0 or pow(x2, (_P - 1) // 2, _P) == 1


def _ref_find_pda(seeds: list[bytes], program: bytes) -> tuple[bytes, int]:
    for bump in range(255, -1, -1):
        h = hashlib.sha256(b"".join(seeds) + bytes([bump]) + program + b"ProgramDerivedAddress").digest()
        if not _ref_on_curve(h):
            return h, bump
    raise AssertionError("no bump")


# ---------------------------------------------------------------------------------------------


def test_program_id_constants_decode_to_32_bytes() -> None:
    for name in ("TOKENKEG", "TOKEN_2022_PROGRAM", "ATA_PROGRAM", "SYSTEM_PROGRAM", "COMPUTE_BUDGET_PROGRAM"):
        value = getattr(A, name)
        assert len(_b58decode(value)) == 32, name
        assert A.is_solana_address(value)
    assert str(Pubkey.from_string(A.TOKENKEG)) == "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
    assert _b58encode(bytes(32)) == A.SYSTEM_PROGRAM


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "empty"),
        ("0OIl", "not base58"),
        ("1" * 31, "32 bytes"),
        ("1" * 33, "32 bytes"),
        ("4" * 45, "32 bytes"),
        (12, "must be a base58 string"),
        (None, "must be a base58 string"),
    ],
)
def test_parse_pubkey_rejects(value: object, fragment: str) -> None:
    with pytest.raises(A.AddressError, match=fragment):
        A.parse_pubkey(value, what="owner")
    assert not A.is_solana_address(value)


def test_parse_pubkey_names_field() -> None:
    with pytest.raises(A.AddressError, match=r"^mint "):
        A.parse_pubkey("xyz0", what="mint")


def test_r233_ata_matches_solders_for_known_owner_and_mint() -> None:
    owner = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM"
    mint = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
    expected = get_associated_token_address(Pubkey.from_string(owner), Pubkey.from_string(mint))
    assert A.derive_ata(owner, mint) == str(expected)
    ref, _ = _ref_find_pda(
        [_b58decode(owner), _b58decode(A.TOKENKEG), _b58decode(mint)], _b58decode(A.ATA_PROGRAM)
    )
    assert A.derive_ata(owner, mint) == _b58encode(ref)


def test_r233_ata_token_2022_differs_and_matches_solders() -> None:
    owner = str(Keypair.from_seed(bytes([7]) * 32).pubkey())
    mint = str(Keypair.from_seed(bytes([8]) * 32).pubkey())
    expected = get_associated_token_address(
        Pubkey.from_string(owner), Pubkey.from_string(mint), Pubkey.from_string(A.TOKEN_2022_PROGRAM)
    )
    got = A.derive_ata(owner, mint, A.TOKEN_2022_PROGRAM)
    assert got == str(expected)
    assert got != A.derive_ata(owner, mint)


@settings(max_examples=60, deadline=None)
@given(
    seeds=st.lists(st.binary(min_size=0, max_size=32), min_size=0, max_size=4),
    program=st.binary(min_size=32, max_size=32),
)
def test_r233_find_program_address_matches_reference(seeds: list[bytes], program: bytes) -> None:
    program_id = _b58encode(program)
    address, bump = A.find_program_address(seeds, program_id)
    ref, ref_bump = _ref_find_pda(seeds, program)
    assert (address, bump) == (_b58encode(ref), ref_bump)
    assert not _ref_on_curve(_b58decode(address))
    assert A.create_program_address([*seeds, bytes([bump])], program_id) == address


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_on_curve_matches_reference(raw: bytes) -> None:
    assert A.is_on_curve(_b58encode(raw)) == _ref_on_curve(raw)


def test_keypair_pubkeys_are_on_curve() -> None:
    for i in range(5):
        pk = Keypair.from_seed(bytes([i]) * 32).pubkey()
        assert A.is_on_curve(str(pk))
        assert _ref_on_curve(bytes(pk))


@pytest.mark.parametrize(
    ("seeds", "fragment"),
    [
        ([b"x" * 33], "seed 0 is 33 bytes"),
        ([b"a"] * 16, "too many seeds: 16"),
        (["text"], "seed 0 must be bytes"),
        (b"abc", "sequence of byte strings"),
    ],
)
def test_find_program_address_rejects(seeds: object, fragment: str) -> None:
    with pytest.raises(A.AddressError, match=fragment):
        A.find_program_address(seeds, A.ATA_PROGRAM)  # type: ignore[arg-type]


def test_find_program_address_accepts_fifteen_seeds_of_32_bytes() -> None:
    seeds = [bytes([i]) * 32 for i in range(15)]
    address, bump = A.find_program_address(seeds, A.TOKENKEG)
    ref, ref_bump = _ref_find_pda(seeds, _b58decode(A.TOKENKEG))
    assert (address, bump) == (_b58encode(ref), ref_bump)


def test_find_program_address_bad_program() -> None:
    with pytest.raises(A.AddressError, match="program_id"):
        A.find_program_address([b"a"], "nope0")


def test_create_program_address_rejects_on_curve() -> None:
    # Find seeds whose hash is on the curve (about half of all hashes are).
    program = _b58decode(A.TOKENKEG)
    for i in range(256):
        h = hashlib.sha256(bytes([i]) + program + b"ProgramDerivedAddress").digest()
        if _ref_on_curve(h):
            with pytest.raises(A.AddressError, match="on the ed25519 curve"):
                A.create_program_address([bytes([i])], A.TOKENKEG)
            return
    raise AssertionError("no on-curve hash found")


def test_derive_ata_rejects_bad_owner() -> None:
    with pytest.raises(A.AddressError, match="owner"):
        A.derive_ata("0xdead", A.TOKENKEG)


# ---------------------------------------------------------------------------------------------
# EVM / EIP-55 (test vectors from the EIP-55 text)

EIP55_VECTORS = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0x000000000000000000000000000000000000dEaD",
]


@pytest.mark.parametrize("address", EIP55_VECTORS)
def test_eip55_vectors(address: str) -> None:
    assert A.to_checksum_address(address.lower()) == address
    assert A.to_checksum_address(address.upper().replace("0X", "0x")) == address
    assert A.is_checksum_address(address)
    assert eth_utils_checksum(address.lower()) == address


@pytest.mark.parametrize(
    ("value", "is_evm", "is_checksum"),
    [
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", True, True),
        ("0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed", True, False),  # one letter flipped
        ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", True, False),  # all lower: valid address, not checksummed
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", False, False),  # 39 digits
        ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", False, False),  # no 0x
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", False, False),  # non-hex
        ("0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", False, False),  # capital X
        (b"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", False, False),
        (None, False, False),
    ],
)
def test_evm_address_classification(value: object, is_evm: bool, is_checksum: bool) -> None:
    assert A.is_evm_address(value) is is_evm
    assert A.is_checksum_address(value) is is_checksum


def test_to_checksum_rejects_non_address() -> None:
    with pytest.raises(A.AddressError, match="20-byte hex"):
        A.to_checksum_address("0x1234")


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=20, max_size=20))
def test_eip55_matches_eth_utils(raw: bytes) -> None:
    address = "0x" + raw.hex()
    assert A.to_checksum_address(address) == eth_utils_checksum(address)
