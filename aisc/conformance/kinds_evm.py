"""Conformance kinds for the EVM JSON ABI.

Case shapes (``{id, kind, input, expect}`` in an ``ais-conformance/0.0.2`` file; JSON integers in
our own vectors are written as decimal strings):

``evm_json_abi_encode`` (upstream kind)
    input ``{abi: JsonAbiFunction, args: {input_name: raw value}}``; expect ``{data: "0x…"}``.
    Passes when the calldata (selector + arguments) equals ``data`` (compared in lowercase hex).

``evm_json_abi_decode`` (aisc kind)
    input ``{abi: JsonAbiFunction, data: "0x…"}`` where ``data`` is return data (no selector);
    expect ``{outputs: {output_name: value}}``. Decoded values are compared in JSON form: integers
    as decimal strings, addresses lowercase, byte strings as lowercase ``0x`` hex, tuples as
    objects (all component names present and unique) or arrays.

``evm_json_abi_encode_error`` (aisc kind)
    input ``{abi, args}``; expect ``{message_includes?: str}``. Passes when encoding is rejected
    and the error message contains ``message_includes`` (case-sensitive).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aisc.backends.evm.abi import AbiError, decode_outputs, encode_call
from aisc.conformance.outcome import KindHandler, Outcome

__all__ = ["KINDS", "to_vector_json"]


def to_vector_json(v: Any) -> Any:
    """Decoded ABI values in vector form: ints → decimal strings (bools untouched)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Mapping):
        return {str(k): to_vector_json(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [to_vector_json(x) for x in v]
    return v


def _encode(case_input: Mapping[str, Any], expect: Mapping[str, Any] | None) -> Outcome:
    want = str((expect or {}).get("data", "")).lower()
    try:
        got = "0x" + encode_call(case_input["abi"], case_input.get("args", {})).hex()
    except AbiError as e:
        return Outcome(False, want, None, f"encoding failed: {e}")
    except (KeyError, TypeError) as e:
        return Outcome(False, want, None, f"malformed case: {type(e).__name__}: {e}")
    return Outcome(got == want, want, got, "" if got == want else "calldata differs")


def _decode(case_input: Mapping[str, Any], expect: Mapping[str, Any] | None) -> Outcome:
    want = (expect or {}).get("outputs")
    raw = case_input.get("data")
    if not isinstance(raw, str) or not raw.startswith("0x"):
        return Outcome(False, want, None, "input.data must be 0x hex")
    try:
        got = to_vector_json(decode_outputs(case_input["abi"], bytes.fromhex(raw[2:])))
    except AbiError as e:
        return Outcome(False, want, None, f"decoding failed: {e}")
    except (KeyError, TypeError, ValueError) as e:
        return Outcome(False, want, None, f"malformed case: {type(e).__name__}: {e}")
    return Outcome(got == want, want, got, "" if got == want else "decoded outputs differ")


def _encode_error(case_input: Mapping[str, Any], expect: Mapping[str, Any] | None) -> Outcome:
    needle = (expect or {}).get("message_includes")
    try:
        data = encode_call(case_input["abi"], case_input.get("args", {}))
    except AbiError as e:
        msg = str(e)
        ok = needle is None or str(needle) in msg
        return Outcome(ok, needle, msg, "" if ok else "error message does not contain the expected text")
    except (KeyError, TypeError) as e:
        return Outcome(False, needle, None, f"malformed case: {type(e).__name__}: {e}")
    return Outcome(False, needle, "0x" + data.hex(), "expected an encoding error, got calldata")


KINDS: dict[str, KindHandler] = {
    "evm_json_abi_encode": _encode,
    "evm_json_abi_decode": _decode,
    "evm_json_abi_encode_error": _encode_error,
}
