"""Conformance handlers for aisc's own Solana case kinds (vectors in ``conformance/aisc/solana-*.json``).

Shapes (``input`` → ``expect``):

``solana_instruction_encode``
    input ``{program, instruction, accounts: [{name, pubkey, signer, writable}], data, discriminator?}``
    (raw JSON values, not ValueRefs) → expect ``{data_hex: "0x…", keys: [{pubkey, is_signer,
    is_writable}]}``. Passes when :func:`aisc.backends.solana.instructions.encode_instruction`
    produces exactly these bytes and account metas in this order.
``solana_instruction_encode_error``
    same input → expect ``{message_includes?: str}``: encoding fails and the message contains the
    substring.
``solana_derive_ata``
    input ``{owner, mint, token_program?}`` (default Tokenkeg) → expect ``{address}``.
``solana_find_pda``
    input ``{seeds_hex: ["0x…", …], program_id}`` → expect ``{address, bump}``.
``solana_find_pda_error``
    input as ``solana_find_pda`` → expect ``{message_includes?}``.
``solana_decode_instruction``
    input ``{program, data_hex, accounts: [pubkey, …]}`` → expect the
    :func:`~aisc.backends.solana.instructions.decode_instruction` result (deep equality).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aisc.addresses import TOKENKEG, AddressError, derive_ata, find_program_address
from aisc.backends.solana.instructions import (
    InstructionError,
    decode_instruction,
    encode_instruction,
    instruction_keys_json,
)
from aisc.conformance.outcome import KindHandler, Outcome

__all__ = ["KINDS"]


class _Malformed(Exception):
    pass


def _guard(fn: Callable[[Mapping[str, Any], Mapping[str, Any]], Outcome]) -> KindHandler:
    def handler(case_input: Mapping[str, Any], case_expect: Mapping[str, Any] | None) -> Outcome:
        try:
            return fn(case_input, case_expect or {})
        except _Malformed as e:
            return Outcome(False, message=f"malformed case: {e}")
        except (InstructionError, AddressError) as e:
            return Outcome(False, expected=case_expect, actual=None, message=f"unexpected error: {e}")

    handler.__name__ = fn.__name__
    handler.__doc__ = fn.__doc__
    return handler


def _req(m: Mapping[str, Any], key: str) -> Any:
    if key not in m:
        raise _Malformed(f"missing {key}")
    return m[key]


def _encode(i: Mapping[str, Any]) -> dict[str, Any]:
    ix = encode_instruction(
        _req(i, "program"), _req(i, "instruction"), _req(i, "accounts"), i.get("data"), i.get("discriminator")
    )
    return {"data_hex": "0x" + bytes(ix.data).hex(), "keys": instruction_keys_json(ix)}


def _compare(expected: Any, actual: Any) -> Outcome:
    if expected == actual:
        return Outcome(True, expected, actual)
    return Outcome(False, expected, actual, "mismatch")


def _expect_error(fn: Callable[[], Any], expect: Mapping[str, Any]) -> Outcome:
    want = expect.get("message_includes")
    try:
        got = fn()
    except (InstructionError, AddressError) as e:
        if want is None or str(want) in str(e):
            return Outcome(True, want, str(e))
        return Outcome(False, want, str(e), "error message does not contain the expected substring")
    return Outcome(False, want, got, "expected an error, got a result")


def instruction_encode(i: Mapping[str, Any], e: Mapping[str, Any]) -> Outcome:
    """``solana_instruction_encode``: exact data bytes and keys."""
    return _compare({"data_hex": _req(e, "data_hex"), "keys": _req(e, "keys")}, _encode(i))


def instruction_encode_error(i: Mapping[str, Any], e: Mapping[str, Any]) -> Outcome:
    """``solana_instruction_encode_error``: encoding fails with the given message substring."""
    return _expect_error(lambda: _encode(i), e)


def derive_ata_kind(i: Mapping[str, Any], e: Mapping[str, Any]) -> Outcome:
    """``solana_derive_ata``."""
    got = derive_ata(_req(i, "owner"), _req(i, "mint"), i.get("token_program") or TOKENKEG)
    return _compare({"address": _req(e, "address")}, {"address": got})


def _seeds(i: Mapping[str, Any]) -> list[bytes]:
    raw = _req(i, "seeds_hex")
    if not isinstance(raw, list):
        raise _Malformed("seeds_hex must be a list")
    out = []
    for s in raw:
        if not isinstance(s, str) or not s.startswith("0x"):
            raise _Malformed("seeds_hex entries must be 0x hex strings")
        out.append(bytes.fromhex(s[2:]))
    return out


def find_pda_kind(i: Mapping[str, Any], e: Mapping[str, Any]) -> Outcome:
    """``solana_find_pda``."""
    address, bump = find_program_address(_seeds(i), _req(i, "program_id"))
    return _compare({"address": _req(e, "address"), "bump": _req(e, "bump")}, {"address": address, "bump": bump})


def find_pda_error(i: Mapping[str, Any], e: Mapping[str, Any]) -> Outcome:
    """``solana_find_pda_error``."""
    seeds = _seeds(i)
    return _expect_error(lambda: find_program_address(seeds, _req(i, "program_id")), e)


def decode_kind(i: Mapping[str, Any], e: Mapping[str, Any]) -> Outcome:
    """``solana_decode_instruction``."""
    data_hex = _req(i, "data_hex")
    if not isinstance(data_hex, str) or not data_hex.startswith("0x"):
        raise _Malformed("data_hex must be a 0x hex string")
    return _compare(dict(e), decode_instruction(_req(i, "program"), bytes.fromhex(data_hex[2:]), _req(i, "accounts")))


KINDS: dict[str, KindHandler] = {
    "solana_instruction_encode": _guard(instruction_encode),
    "solana_instruction_encode_error": _guard(instruction_encode_error),
    "solana_derive_ata": _guard(derive_ata_kind),
    "solana_find_pda": _guard(find_pda_kind),
    "solana_find_pda_error": _guard(find_pda_error),
    "solana_decode_instruction": _guard(decode_kind),
}
