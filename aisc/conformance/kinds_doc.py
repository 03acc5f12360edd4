"""The documented input/expect shape of every conformance case kind aisc knows about.

One table, :data:`KIND_DOCS`, feeds ``aisc conformance list-kinds``, ``new-case`` scaffolds, the
guide in ``docs/conformance.md`` and the load-time shape check of the upstream kinds.

A field shape is a short type code: ``str``, ``object``, ``array``, ``array[str]``, ``int`` or ``any``;
a trailing ``?`` marks it optional. Every input/expect object may also carry ``extensions`` (an
object). When ``strict`` is set the runner rejects, at load time, a case whose input or expect lacks
a required field, has a field of the wrong type, or has a field the table does not list (this is
what ``conformance.schema.json`` says for the upstream kinds). Kinds without ``strict`` are checked
by their handler only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from aisc.reprs import install_reprs

Shape = Mapping[str, str]


@attrs.frozen(repr=False)
class KindDoc:
    kind: str
    origin: str
    """``upstream`` (AIS vectors and schema) or ``aisc`` (kinds aisc adds)."""
    issue: str
    """Which feature/issue implements the handler."""
    summary: str
    input: Shape
    expect: Shape | None
    """``None``: the case has no ``expect`` (the check is described in ``check``)."""
    check: str
    example_input: Mapping[str, Any]
    example_expect: Mapping[str, Any] | None
    strict: bool = False
    expect_optional: bool = False
    planned: bool = False
    """Announced by an issue; the handler and its exact shape are not written yet."""
    feature: str | None = None
    """Module the handler calls (``list-kinds`` reports the kind unavailable while it is missing)."""


_EXPR_INPUT: Shape = {"expression": "str", "context": "object?"}

KIND_DOCS: dict[str, KindDoc] = {
    d.kind: d
    for d in (
        KindDoc(
            kind="jcs_canonicalize",
            feature="aisc.jcs",
            origin="upstream",
            issue="issue 3 (CEL, JCS)",
            summary="RFC 8785 canonical JSON of a value and its keccak256 specHash",
            input={"value": "any"},
            expect={"canonical": "str", "specHashKeccak256": "str"},
            check="canonicalize(value) == canonical and '0x' + keccak256(utf8(canonical)) == specHashKeccak256",
            example_input={"value": {"b": 1, "a": [True]}},
            example_expect={"canonical": '{"a":[true],"b":1}', "specHashKeccak256": "0x…"},
            strict=True,
        ),
        KindDoc(
            kind="cel_eval",
            feature="aisc.eval",
            origin="upstream",
            issue="issue 3 (CEL)",
            summary="an AIS CEL expression that evaluates to an integer",
            input=_EXPR_INPUT,
            expect={"value_bigint": "str"},
            check="the result is an int (not bool, not a decimal, not a string) and str(result) == value_bigint",
            example_input={"expression": 'to_atomic("1.5", 6)', "context": {}},
            example_expect={"value_bigint": "1500000"},
            strict=True,
        ),
        KindDoc(
            kind="cel_eval_string",
            feature="aisc.eval",
            origin="upstream",
            issue="issue 3 (CEL)",
            summary="an AIS CEL expression that evaluates to a string",
            input=_EXPR_INPUT,
            expect={"value_string": "str"},
            check="the result is a str equal to value_string",
            example_input={"expression": "to_human(1500000, 6)"},
            example_expect={"value_string": "1.5"},
            strict=True,
        ),
        KindDoc(
            kind="cel_eval_error",
            feature="aisc.eval",
            origin="upstream",
            issue="issue 3 (CEL)",
            summary="an AIS CEL expression whose evaluation must fail",
            input=_EXPR_INPUT,
            expect={"message_includes": "str?"},
            check="evaluation raises a CEL error whose message contains message_includes (case-sensitive)",
            example_input={"expression": "mul_div(1, 2, 0)"},
            example_expect={"message_includes": "denom"},
            strict=True,
        ),
        KindDoc(
            kind="evm_json_abi_encode",
            origin="upstream",
            issue="issue 7 (EVM)",
            summary="calldata of a JSON ABI function fragment applied to raw JSON arguments",
            input={"abi": "any", "args": "object"},
            expect={"data": "str"},
            check="the encoded calldata (selector + arguments, lowercase hex) equals data",
            example_input={
                "abi": {
                    "type": "function",
                    "name": "transfer",
                    "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
                    "outputs": [],
                },
                "args": {"to": "0x000000000000000000000000000000000000dEaD", "amount": "1"},
            },
            example_expect={"data": "0xa9059cbb…"},
            strict=True,
        ),
        KindDoc(
            kind="select_execution_spec",
            origin="upstream",
            issue="issue 2 (chain patterns)",
            summary="which execution spec of a block applies to a chain (exact, then '<ns>:*', then '*')",
            input={"chain": "str", "execution": "object"},
            expect={"type": "str"},
            check="the selected spec's type equals type",
            example_input={
                "chain": "eip155:10",
                "execution": {"eip155:*": {"type": "evm_call"}, "*": {"type": "evm_read"}},
            },
            example_expect={"type": "evm_call"},
            strict=True,
        ),
        KindDoc(
            kind="select_execution_spec_error",
            origin="upstream",
            issue="issue 2 (chain patterns)",
            summary="an execution block with no spec for the chain (no implicit default)",
            input={"chain": "str", "execution": "object"},
            expect={"message_includes": "str?"},
            check="selection fails with a message containing message_includes",
            example_input={"chain": "eip155:1", "execution": {"solana:*": {"type": "solana_instruction"}}},
            example_expect={"message_includes": "No execution matches chain"},
            strict=True,
        ),
        KindDoc(
            kind="workflow_plan",
            feature="aisc.compiler",
            origin="upstream",
            issue="issue 4 (compile)",
            summary="compile protocols + a workflow (YAML texts) and compare the plan with a golden file",
            input={"protocols_yaml": "array[str]", "workflow_yaml": "str", "golden_file": "str"},
            expect={},
            check=(
                "the plan, JSON round-tripped, with meta.created_at set to \"<ignored>\", deep-equals the "
                "golden file (looked up in ../golden/ next to the vector file's folder, then ./golden/)"
            ),
            example_input={
                "protocols_yaml": ["schema: ais/0.0.2\n…"],
                "workflow_yaml": "schema: ais-flow/0.0.3\n…",
                "golden_file": "my-plan.json",
            },
            example_expect=None,
            strict=True,
            expect_optional=True,
        ),
        # ---- kinds aisc adds as features land (each handler module checks its own shapes)
        KindDoc(
            kind="workflow_plan_error",
            feature="aisc.compiler",
            origin="aisc",
            issue="issue 4 (compile)",
            summary="protocols + a workflow (YAML texts) that must not compile, and the diagnostic code",
            input={"protocols_yaml": "array[str]", "workflow_yaml": "str"},
            expect={"code": "str", "message_includes": "str?"},
            check=(
                "compilation fails with an error diagnostic whose code is code (e.g. AISC-WF-004 for a "
                "dependency cycle) and, when given, whose message contains message_includes"
            ),
            example_input={
                "protocols_yaml": ["schema: ais/0.0.2\n…"],
                "workflow_yaml": "schema: ais-flow/0.0.3\n…",
            },
            example_expect={"code": "AISC-WF-004", "message_includes": "cycle"},
        ),
        KindDoc(
            kind="valueref_eval",
            feature="aisc.eval",
            origin="aisc",
            issue="issue 3 (CEL, ValueRef)",
            summary="evaluate a ValueRef against a runtime root (lit/ref/cel/object/array/detect)",
            input={"value_ref": "any", "root": "object", "params": "object?", "capabilities": "array[str]?"},
            expect={"value": "any?", "error_includes": "str?", "missing_ref": "str?"},
            check=(
                "either the result equals value, or evaluation fails with a message containing "
                "error_includes (and, with missing_ref, it is a missing-ref error for exactly that path). "
                "In value every integer is written {\"__ais_json_type\": \"bigint\", \"value\": \"<decimal>\"} "
                "(a plain JSON integer there is a malformed case); a decimal result is a JSON number "
                "with a fraction, compared exactly. Tagged bigints in value_ref, root and params are read "
                "as integers. params overrides root.params; capabilities (when given) is the engine "
                "capability set, otherwise detect checks root.ctx.capabilities"
            ),
            example_input={
                "value_ref": {"ref": "inputs.amount"},
                "root": {"inputs": {"amount": {"__ais_json_type": "bigint", "value": "1000"}}},
            },
            example_expect={"value": {"__ais_json_type": "bigint", "value": "1000"}},
        ),
        KindDoc(
            kind="ais_value_validate",
            feature="aisc.ir.values",
            origin="aisc",
            issue="typed inputs (docs/inputs.md)",
            summary="validate a value against an AIS type (R110-R119): accepted, or rejected with a code",
            input={"type": "str", "value": "any", "chain_family": "str?", "asset_decimals": "int?",
                   "constraints": "object?"},
            expect={"valid": "bool", "code": "str?"},
            check=(
                "valid: true when validate_value reports no problem at all; valid: false when it reports "
                "one, and one of them has code (AISC-INPUT-NNN) when given. chain_family is \"evm\", "
                "\"solana\" or absent (either address form); asset_decimals bounds token_amount digits"
            ),
            example_input={"type": "uint8", "value": "256"},
            example_expect={"valid": False, "code": "AISC-INPUT-006"},
        ),
        KindDoc(
            kind="evm_json_abi_decode",
            origin="aisc",
            issue="issue 7 (EVM)",
            summary="decode ABI return data (no selector) with a JSON ABI function fragment",
            input={"abi": "any", "data": "str"},
            expect={"outputs": "object"},
            check=(
                "decoded outputs equal, in JSON form: integers as decimal strings, addresses lowercase, "
                "bytes as lowercase 0x hex, tuples as objects or arrays"
            ),
            example_input={
                "abi": {"type": "function", "name": "balanceOf", "inputs": [{"name": "owner", "type": "address"}],
                        "outputs": [{"name": "balance", "type": "uint256"}]},
                "data": "0x" + "00" * 31 + "2a",
            },
            example_expect={"outputs": {"balance": "42"}},
        ),
        KindDoc(
            kind="evm_json_abi_encode_error",
            origin="aisc",
            issue="issue 7 (EVM)",
            summary="JSON ABI arguments that must be rejected by the encoder",
            input={"abi": "any", "args": "object"},
            expect={"message_includes": "str?"},
            check="encoding fails with a message containing message_includes (case-sensitive)",
            example_input={
                "abi": {"type": "function", "name": "f", "inputs": [{"name": "x", "type": "uint8"}], "outputs": []},
                "args": {"x": "256"},
            },
            example_expect={"message_includes": "…"},
        ),
        KindDoc(
            kind="solana_instruction_encode",
            origin="aisc",
            issue="issue 8 (Solana)",
            summary="encode a Solana instruction of a known program (data bytes and account metas)",
            input={"program": "str", "instruction": "str", "accounts": "array", "data": "any?",
                   "discriminator": "any?"},
            expect={"data_hex": "str", "keys": "array"},
            check="encoded data (0x hex) and keys [{pubkey, is_signer, is_writable}] equal, in order",
            example_input={
                "program": "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
                "instruction": "transfer",
                "accounts": [
                    {"name": "source", "pubkey": "<pubkey>", "signer": False, "writable": True},
                    {"name": "destination", "pubkey": "<pubkey>", "signer": False, "writable": True},
                    {"name": "authority", "pubkey": "<pubkey>", "signer": True, "writable": False},
                ],
                "data": {"amount": "1"},
            },
            example_expect={"data_hex": "0x…", "keys": [{"pubkey": "<pubkey>", "is_signer": False,
                                                          "is_writable": True}]},
        ),
        KindDoc(
            kind="solana_instruction_encode_error",
            origin="aisc",
            issue="issue 8 (Solana)",
            summary="a Solana instruction that must fail to encode",
            input={"program": "str", "instruction": "str", "accounts": "array", "data": "any?",
                   "discriminator": "any?"},
            expect={"message_includes": "str?"},
            check="encoding fails with a message containing message_includes",
            example_input={"program": "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "instruction": "transfer",
                           "accounts": [], "data": {"amount": "-1"}},
            example_expect={"message_includes": "…"},
        ),
        KindDoc(
            kind="solana_decode_instruction",
            origin="aisc",
            issue="issue 8 (Solana)",
            summary="decode instruction data of a known program",
            input={"program": "str", "data_hex": "str", "accounts": "array[str]"},
            expect={"<decoded fields>": "any"},
            check="expect deep-equals the decoded instruction (the whole expect object)",
            example_input={"program": "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", "data_hex": "0x03…",
                           "accounts": ["<pubkey>"]},
            example_expect={},
        ),
        KindDoc(
            kind="solana_derive_ata",
            origin="aisc",
            issue="issue 8 (Solana)",
            summary="associated token account address of an owner and a mint",
            input={"owner": "str", "mint": "str", "token_program": "str?"},
            expect={"address": "str"},
            check="the derived address equals address (token_program defaults to the SPL Token program)",
            example_input={"owner": "<pubkey>", "mint": "<pubkey>"},
            example_expect={"address": "<pubkey>"},
        ),
        KindDoc(
            kind="solana_find_pda",
            origin="aisc",
            issue="issue 8 (Solana)",
            summary="program derived address (and bump) from seeds and a program id",
            input={"seeds_hex": "array[str]", "program_id": "str"},
            expect={"address": "str", "bump": "int"},
            check="find_program_address(seeds, program_id) == (address, bump)",
            example_input={"seeds_hex": ["0x6d65746164617461"], "program_id": "<pubkey>"},
            example_expect={"address": "<pubkey>", "bump": 255},
        ),
        KindDoc(
            kind="solana_find_pda_error",
            origin="aisc",
            issue="issue 8 (Solana)",
            summary="seeds that cannot form a program derived address",
            input={"seeds_hex": "array[str]", "program_id": "str"},
            expect={"message_includes": "str?"},
            check="derivation fails with a message containing message_includes",
            example_input={"seeds_hex": ["0x" + "00" * 33], "program_id": "<pubkey>"},
            example_expect={"message_includes": "…"},
        ),
        KindDoc(
            kind="plan_lowering",
            origin="aisc",
            issue="issue 4/5 (compile, runtime)",
            summary="lowering of a workflow node to plan nodes",
            input={},
            expect=None,
            check="defined by aisc.conformance.kinds_runtime",
            example_input={},
            example_expect={},
            planned=True,
        ),
        KindDoc(
            kind="policy_gate",
            origin="aisc",
            issue="issue 5 (runtime)",
            summary="policy gate decision for a pack and a PolicyGateInput",
            input={},
            expect=None,
            check="defined by aisc.conformance.kinds_runtime",
            example_input={},
            example_expect={},
            planned=True,
        ),
        KindDoc(
            kind="patch_guard",
            origin="aisc",
            issue="issue 5 (runtime)",
            summary="RuntimePatch guard: which patches are accepted or rejected",
            input={},
            expect=None,
            check="defined by aisc.conformance.kinds_runtime",
            example_input={},
            example_expect={},
            planned=True,
        ),
        KindDoc(
            kind="json_codec",
            origin="aisc",
            issue="issue 5 (runtime)",
            summary="ais-json/1 encoding and decoding of runtime values",
            input={},
            expect=None,
            check="defined by aisc.conformance.kinds_runtime",
            example_input={},
            example_expect={},
            planned=True,
        ),
    )
}


def scaffold(kind: str, case_id: str | None = None) -> dict[str, Any]:
    """A case skeleton for ``kind`` (``KeyError`` for a kind that is not documented)."""
    doc = KIND_DOCS[kind]
    case: dict[str, Any] = {
        "id": case_id or f"{kind.replace('_', '-')}-example",
        "kind": kind,
        "input": _plain(doc.example_input),
    }
    if doc.example_expect is not None:
        case["expect"] = _plain(doc.example_expect)
    return case


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    return v


def shape_text(shape: Shape | None) -> str:
    if shape is None:
        return "(none)"
    if not shape:
        return "{}"
    return "{" + ", ".join(f"{k}: {t}" for k, t in shape.items()) + "}"


install_reprs(__name__)
