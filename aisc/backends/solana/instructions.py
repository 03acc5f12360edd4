"""``solana_instruction`` encoding and decoding (R231, SPEC-MAP §5.4).

Input is an *evaluated* instruction spec (every ValueRef already resolved by the backend):
program id, instruction name, ordered accounts ``{name, pubkey, signer, writable}``, ``data``,
optional ``discriminator``. :func:`encode_instruction` returns a solders ``Instruction``;
:func:`decode_instruction` is its inverse for the programs we know (used by the policy preview and
by fuzz tests).

Known instructions (keyed by program id and instruction name; anything else is *generic*):

=====================  ===================  ==============================================  =========================
program                instruction          accounts (in key order)                          data
=====================  ===================  ==============================================  =========================
Token / Token-2022     ``transfer``         source(w), destination(w), authority|owner(s)    ``[3] u64 amount``
Token / Token-2022     ``transfer_checked`` source(w), mint, destination(w), authority|owner(s)  ``[12] u64 amount, u8 decimals``
Token / Token-2022     ``approve``          source(w), delegate, authority|owner(s)          ``[4] u64 amount``
Token / Token-2022     ``revoke``           source(w), authority|owner(s)                    ``[5]``
Token / Token-2022     ``mint_to``          mint(w), destination|account(w), authority(s)    ``[7] u64 amount``
Token / Token-2022     ``initialize_mint2`` mint(w)                                          ``[20] u8 decimals, mint_authority, COption freeze_authority``
ATA                    ``create_idempotent`` payer(s,w), associated_token|associatedToken(w),  ``[1]``
                       / ``create``          owner, mint, system_program, token_program        (``create``: empty)
System                 ``transfer``         from|source(s,w), to|destination(w)              ``u32 2, u64 lamports``
System                 ``create_account``   from|payer(s,w), new_account|to(s,w)             ``u32 0, u64 lamports, u64 space, owner``
=====================  ===================  ==============================================  =========================

Multisig signers of token instructions: accounts whose names are not among the instruction's named
accounts are appended in order as read-only signers, and the authority is then not a signer (the
SPL token layout). For ATA, ``system_program`` is implied and ``token_program|tokenProgram`` defaults
to Tokenkeg; the associated token address is checked against the derivation before anything is sent.

Generic: ``data`` is a ``0x`` hex string (or bytes); the optional ``discriminator`` (``0x`` hex) is
prefixed; keys are the accounts in the order given, with their declared flags. For a known
instruction a given ``discriminator`` must be a prefix of the encoded data.

Integer fields take an ``int`` (never ``bool``) or a string of decimal digits; out-of-range values
are rejected with an error that names the field (R131). Errors are :class:`InstructionError`.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import attrs
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from aisc.addresses import (
    ATA_PROGRAM,
    COMPUTE_BUDGET_PROGRAM,
    SYSTEM_PROGRAM,
    TOKEN_PROGRAMS,
    TOKENKEG,
    AddressError,
    derive_ata,
    parse_pubkey,
)
from aisc.reprs import install_reprs

__all__ = [
    "MAX_COMPUTE_UNITS",
    "AccountInput",
    "InstructionError",
    "coerce_bool",
    "coerce_uint",
    "compute_unit_limit_instruction",
    "decode_instruction",
    "encode_instruction",
    "instruction_keys_json",
    "is_known_instruction",
    "parse_hex",
]

MAX_COMPUTE_UNITS: Final = 1_400_000
"""The per-transaction compute-unit ceiling of the Solana runtime."""

U8_MAX: Final = 2**8 - 1
U32_MAX: Final = 2**32 - 1
U64_MAX: Final = 2**64 - 1

_HEX_RE = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_SIGNED_DIGITS_RE = re.compile(r"-?[0-9]+")


class InstructionError(ValueError):
    """A ``solana_instruction`` spec cannot be encoded. ``code`` is a stable AISC-SOLANA code."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


E_PUBKEY = "AISC-SOLANA-001"
E_MISSING_ACCOUNT = "AISC-SOLANA-002"
E_INT = "AISC-SOLANA-003"
E_DATA = "AISC-SOLANA-004"
E_DISCRIMINATOR = "AISC-SOLANA-005"
E_ATA = "AISC-SOLANA-006"
E_BOOL = "AISC-SOLANA-007"
E_COMPUTE = "AISC-SOLANA-009"


@attrs.frozen(repr=False)
class AccountInput:
    """One evaluated entry of ``accounts``."""

    name: str
    pubkey: str
    signer: bool
    writable: bool


# ---------------------------------------------------------------------------------------------
# Coercions


def coerce_uint(value: Any, *, field: str, max_value: int) -> int:
    """An unsigned integer from an int or a decimal-digit string, range-checked (R131)."""
    if isinstance(value, bool):
        raise InstructionError(f"{field} must be an integer, got a boolean", code=E_INT, field=field)
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and _SIGNED_DIGITS_RE.fullmatch(value.strip()):
        n = int(value.strip())
    else:
        raise InstructionError(
            f"{field} must be an integer (int or decimal digit string), got {value!r}", code=E_INT, field=field
        )
    if n < 0 or n > max_value:
        raise InstructionError(f"{field} {n} is out of range (0..{max_value})", code=E_INT, field=field)
    return n


def coerce_bool(value: Any, *, field: str) -> bool:
    """A flag from a bool, 0/1 or the strings "true"/"false" (SPEC-MAP §5.4)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise InstructionError(f"{field} must be a boolean, got {value!r}", code=E_BOOL, field=field)


def parse_hex(value: Any, *, field: str) -> bytes:
    """Bytes from a ``0x`` hex string (even length) or bytes."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str) and _HEX_RE.fullmatch(value):
        return bytes.fromhex(value[2:])
    raise InstructionError(f"{field} must be a 0x-prefixed hex string of whole bytes, got {value!r}", code=E_DATA, field=field)


def _pubkey(value: Any, field: str) -> Pubkey:
    try:
        return parse_pubkey(value, what=field)
    except AddressError as e:
        raise InstructionError(str(e), code=E_PUBKEY, field=field) from None


# ---------------------------------------------------------------------------------------------
# Known-instruction layouts


@attrs.frozen(repr=False)
class _Slot:
    """One named account slot of a known instruction."""

    names: tuple[str, ...]  # accepted names, first is canonical
    signer: bool
    writable: bool
    default: str | None = None  # pubkey used when the account is not given


@attrs.frozen(repr=False)
class _Layout:
    slots: tuple[_Slot, ...]
    encode: Callable[[Mapping[str, Any], dict[str, Pubkey]], bytes]
    multisig: bool = False  # extra accounts are multisig signers; the last slot is the authority


def _data_obj(data: Any, instruction: str) -> Mapping[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InstructionError(
            f"data for {instruction} must be an object of named fields, got {type(data).__name__}",
            code=E_DATA,
            field="data",
        )
    return data


def _need(data: Mapping[str, Any], key: str, instruction: str) -> Any:
    if key not in data or data[key] is None:
        raise InstructionError(f"Missing data field for {instruction}: data.{key}", code=E_DATA, field=f"data.{key}")
    return data[key]


def _u64(data: Mapping[str, Any], key: str, instruction: str) -> bytes:
    return struct.pack("<Q", coerce_uint(_need(data, key, instruction), field=f"data.{key}", max_value=U64_MAX))


def _u8(data: Mapping[str, Any], key: str, instruction: str) -> bytes:
    return bytes([coerce_uint(_need(data, key, instruction), field=f"data.{key}", max_value=U8_MAX)])


def _amount_tag(tag: int, name: str) -> Callable[[Mapping[str, Any], dict[str, Pubkey]], bytes]:
    return lambda d, _k: bytes([tag]) + _u64(d, "amount", name)


def _transfer_checked(d: Mapping[str, Any], _k: dict[str, Pubkey]) -> bytes:
    return bytes([12]) + _u64(d, "amount", "transfer_checked") + _u8(d, "decimals", "transfer_checked")


def _initialize_mint2(d: Mapping[str, Any], _k: dict[str, Pubkey]) -> bytes:
    out = bytes([20]) + _u8(d, "decimals", "initialize_mint2")
    out += bytes(_pubkey(_need(d, "mint_authority", "initialize_mint2"), "data.mint_authority"))
    freeze = d.get("freeze_authority")
    out += b"\x00" if freeze is None else b"\x01" + bytes(_pubkey(freeze, "data.freeze_authority"))
    return out


def _system_transfer(d: Mapping[str, Any], _k: dict[str, Pubkey]) -> bytes:
    lamports = coerce_uint(_need(d, "lamports", "transfer"), field="data.lamports", max_value=U64_MAX)
    return struct.pack("<IQ", 2, lamports)


def _system_create_account(d: Mapping[str, Any], _k: dict[str, Pubkey]) -> bytes:
    lamports = coerce_uint(_need(d, "lamports", "create_account"), field="data.lamports", max_value=U64_MAX)
    space = coerce_uint(_need(d, "space", "create_account"), field="data.space", max_value=U64_MAX)
    owner = _pubkey(_need(d, "owner", "create_account"), "data.owner")
    return struct.pack("<IQQ", 0, lamports, space) + bytes(owner)


_AUTH = _Slot(("authority", "owner"), signer=True, writable=False)
_TOKEN_LAYOUTS: dict[str, _Layout] = {
    "transfer": _Layout(
        (_Slot(("source",), False, True), _Slot(("destination",), False, True), _AUTH),
        _amount_tag(3, "transfer"),
        multisig=True,
    ),
    "transfer_checked": _Layout(
        (
            _Slot(("source",), False, True),
            _Slot(("mint",), False, False),
            _Slot(("destination",), False, True),
            _AUTH,
        ),
        _transfer_checked,
        multisig=True,
    ),
    "approve": _Layout(
        (_Slot(("source",), False, True), _Slot(("delegate",), False, False), _AUTH),
        _amount_tag(4, "approve"),
        multisig=True,
    ),
    "revoke": _Layout((_Slot(("source",), False, True), _AUTH), lambda _d, _k: bytes([5]), multisig=True),
    "mint_to": _Layout(
        (
            _Slot(("mint",), False, True),
            _Slot(("destination", "account"), False, True),
            _Slot(("authority", "mint_authority"), True, False),
        ),
        _amount_tag(7, "mint_to"),
        multisig=True,
    ),
    "initialize_mint2": _Layout((_Slot(("mint",), False, True),), _initialize_mint2),
}
_ATA_SLOTS = (
    _Slot(("payer",), True, True),
    _Slot(("associated_token", "associatedToken"), False, True),
    _Slot(("owner",), False, False),
    _Slot(("mint",), False, False),
    _Slot(("system_program", "systemProgram"), False, False, default=SYSTEM_PROGRAM),
    _Slot(("token_program", "tokenProgram"), False, False, default=TOKENKEG),
)
_ATA_LAYOUTS: dict[str, _Layout] = {
    "create_idempotent": _Layout(_ATA_SLOTS, lambda _d, _k: bytes([1])),
    "create": _Layout(_ATA_SLOTS, lambda _d, _k: b""),
}
_SYSTEM_LAYOUTS: dict[str, _Layout] = {
    "transfer": _Layout(
        (_Slot(("from", "source"), True, True), _Slot(("to", "destination"), False, True)), _system_transfer
    ),
    "create_account": _Layout(
        (_Slot(("from", "payer"), True, True), _Slot(("new_account", "to"), True, True)), _system_create_account
    ),
}


def _layout_for(program_id: str, instruction: str) -> _Layout | None:
    if program_id in TOKEN_PROGRAMS:
        return _TOKEN_LAYOUTS.get(instruction)
    if program_id == ATA_PROGRAM:
        return _ATA_LAYOUTS.get(instruction)
    if program_id == SYSTEM_PROGRAM:
        return _SYSTEM_LAYOUTS.get(instruction)
    return None


def is_known_instruction(program_id: str, instruction: str) -> bool:
    """True when (program, instruction) has a built-in layout (otherwise the generic encoding)."""
    return _layout_for(program_id, instruction) is not None


# ---------------------------------------------------------------------------------------------
# Encoding


def _accounts(raw: Sequence[AccountInput | Mapping[str, Any]]) -> list[AccountInput]:
    out: list[AccountInput] = []
    for i, a in enumerate(raw):
        if isinstance(a, AccountInput):
            out.append(a)
            continue
        name = a.get("name")
        if not isinstance(name, str) or not name:
            raise InstructionError(f"accounts[{i}].name must be a non-empty string", code=E_MISSING_ACCOUNT)
        pubkey = _pubkey(a.get("pubkey"), f"accounts[{i}].pubkey ({name})")
        out.append(
            AccountInput(
                name,
                str(pubkey),
                coerce_bool(a.get("signer", False), field=f"accounts[{i}].signer"),
                coerce_bool(a.get("writable", False), field=f"accounts[{i}].writable"),
            )
        )
    return out


def encode_instruction(
    program_id: str,
    instruction: str,
    accounts: Sequence[AccountInput | Mapping[str, Any]],
    data: Any,
    discriminator: Any = None,
) -> Instruction:
    """Encode one instruction. ``accounts`` entries are :class:`AccountInput` or plain mappings."""
    program = _pubkey(program_id, "program")
    program_id = str(program)
    accs = _accounts(accounts)
    layout = _layout_for(program_id, instruction)
    if layout is None:
        body = parse_hex(b"" if data is None else data, field="data")
        prefix = b"" if discriminator is None else parse_hex(discriminator, field="discriminator")
        generic = [AccountMeta(Pubkey.from_string(a.pubkey), a.signer, a.writable) for a in accs]
        return Instruction(program, prefix + body, generic)

    by_name = {a.name: a for a in accs}
    keys: dict[str, Pubkey] = {}
    used: set[str] = set()
    for slot in layout.slots:
        hit = next((n for n in slot.names if n in by_name), None)
        if hit is not None:
            keys[slot.names[0]] = Pubkey.from_string(by_name[hit].pubkey)
            used.add(hit)
        elif slot.default is not None:
            keys[slot.names[0]] = Pubkey.from_string(slot.default)
        else:
            raise InstructionError(
                f"Missing required account: {slot.names[0]}",
                code=E_MISSING_ACCOUNT,
                field=f"accounts.{slot.names[0]}",
            )
    encoded = layout.encode(_data_obj(data, instruction), keys)
    if discriminator is not None:
        disc = parse_hex(discriminator, field="discriminator")
        if not encoded.startswith(disc):
            raise InstructionError(
                f"discriminator 0x{disc.hex()} does not match {instruction} (encoded data starts 0x{encoded[:len(disc)].hex()})",
                code=E_DISCRIMINATOR,
                field="discriminator",
            )
    if program_id == ATA_PROGRAM:
        _check_ata(keys)
    extras = [a for a in accs if a.name not in used and not _is_implied(program_id, a.name)]
    multisig = layout.multisig and bool(extras)
    metas: list[AccountMeta] = []
    for i, slot in enumerate(layout.slots):
        signer = slot.signer and not (multisig and i == len(layout.slots) - 1)
        metas.append(AccountMeta(keys[slot.names[0]], signer, slot.writable))
    if extras and not layout.multisig:
        names = ", ".join(a.name for a in extras)
        raise InstructionError(
            f"unexpected accounts for {instruction}: {names}", code=E_MISSING_ACCOUNT, field="accounts"
        )
    metas.extend(AccountMeta(Pubkey.from_string(a.pubkey), True, False) for a in extras)
    return Instruction(program, encoded, metas)


def _is_implied(program_id: str, name: str) -> bool:
    return program_id == ATA_PROGRAM and name in ("rent", "sysvar_rent")


def _check_ata(keys: Mapping[str, Pubkey]) -> None:
    expected = derive_ata(str(keys["owner"]), str(keys["mint"]), str(keys["token_program"]))
    if str(keys["associated_token"]) != expected:
        raise InstructionError(
            f"associated_token {keys['associated_token']} is not the associated token account of owner "
            f"{keys['owner']} for mint {keys['mint']} (expected {expected})",
            code=E_ATA,
            field="accounts.associated_token",
        )
    if str(keys["system_program"]) != SYSTEM_PROGRAM:
        raise InstructionError(
            f"system_program must be {SYSTEM_PROGRAM}", code=E_ATA, field="accounts.system_program"
        )


def compute_unit_limit_instruction(units: Any) -> Instruction:
    """ComputeBudget ``SetComputeUnitLimit``: ``[2] u32 units``."""
    n = coerce_uint(units, field="compute_units", max_value=U32_MAX)
    if n > MAX_COMPUTE_UNITS:
        raise InstructionError(
            f"compute_units {n} exceeds the per-transaction maximum {MAX_COMPUTE_UNITS}",
            code=E_COMPUTE,
            field="compute_units",
        )
    return Instruction(Pubkey.from_string(COMPUTE_BUDGET_PROGRAM), struct.pack("<BI", 2, n), [])


def instruction_keys_json(ix: Instruction) -> list[dict[str, Any]]:
    """``[{pubkey, is_signer, is_writable}]`` of an instruction, in key order."""
    return [{"pubkey": str(m.pubkey), "is_signer": m.is_signer, "is_writable": m.is_writable} for m in ix.accounts]


# ---------------------------------------------------------------------------------------------
# Decoding


def _read_u64(data: bytes, off: int) -> int:
    return int(struct.unpack_from("<Q", data, off)[0])


def decode_instruction(program_id: str, data: bytes, accounts: Sequence[str]) -> dict[str, Any]:
    """Decode instruction bytes of a known program.

    Returns ``{program, instruction, fields, accounts}`` where ``accounts`` maps slot names to
    pubkeys (extra keys are listed under ``signers``), or ``{program, instruction: "unknown",
    data_hex, accounts: [..]}`` when the bytes are not a known layout.
    """
    program_id = str(_pubkey(program_id, "program"))
    accs = [str(a) for a in accounts]
    unknown: dict[str, Any] = {
        "program": program_id,
        "instruction": "unknown",
        "data_hex": "0x" + data.hex(),
        "accounts": accs,
    }
    try:
        decoded = _decode(program_id, data)
    except (struct.error, IndexError, ValueError):
        return unknown
    if decoded is None:
        return unknown
    name, fields = decoded
    layout = _layout_for(program_id, name) if program_id != COMPUTE_BUDGET_PROGRAM else _Layout((), lambda d, k: b"")
    assert layout is not None
    if len(accs) < len(layout.slots):
        return unknown
    named = {slot.names[0]: accs[i] for i, slot in enumerate(layout.slots)}
    out: dict[str, Any] = {"program": program_id, "instruction": name, "fields": fields, "accounts": named}
    if len(accs) > len(layout.slots):
        out["signers"] = accs[len(layout.slots) :]
    return out


def _decode(program_id: str, data: bytes) -> tuple[str, dict[str, Any]] | None:
    if program_id in TOKEN_PROGRAMS:
        if not data:
            return None
        tag, rest = data[0], data[1:]
        if tag == 3 and len(rest) == 8:
            return "transfer", {"amount": _read_u64(rest, 0)}
        if tag == 12 and len(rest) == 9:
            return "transfer_checked", {"amount": _read_u64(rest, 0), "decimals": rest[8]}
        if tag == 4 and len(rest) == 8:
            return "approve", {"amount": _read_u64(rest, 0)}
        if tag == 5 and not rest:
            return "revoke", {}
        if tag == 7 and len(rest) == 8:
            return "mint_to", {"amount": _read_u64(rest, 0)}
        if tag == 20 and len(rest) in (34, 66):
            freeze = rest[33]
            if (freeze == 0 and len(rest) == 34) or (freeze == 1 and len(rest) == 66):
                f: dict[str, Any] = {"decimals": rest[0], "mint_authority": str(Pubkey.from_bytes(rest[1:33]))}
                if freeze:
                    f["freeze_authority"] = str(Pubkey.from_bytes(rest[34:66]))
                return "initialize_mint2", f
        return None
    if program_id == ATA_PROGRAM:
        if data == b"\x01":
            return "create_idempotent", {}
        if data in (b"", b"\x00"):
            return "create", {}
        return None
    if program_id == SYSTEM_PROGRAM:
        if len(data) == 12 and struct.unpack_from("<I", data)[0] == 2:
            return "transfer", {"lamports": _read_u64(data, 4)}
        if len(data) == 52 and struct.unpack_from("<I", data)[0] == 0:
            return "create_account", {
                "lamports": _read_u64(data, 4),
                "space": _read_u64(data, 12),
                "owner": str(Pubkey.from_bytes(data[20:52])),
            }
        return None
    if program_id == COMPUTE_BUDGET_PROGRAM:
        if len(data) == 5 and data[0] == 2:
            return "set_compute_unit_limit", {"units": int(struct.unpack_from("<I", data, 1)[0])}
        if len(data) == 9 and data[0] == 3:
            return "set_compute_unit_price", {"micro_lamports": _read_u64(data, 1)}
        return None
    return None


install_reprs(__name__)
