"""Protocol document rules that had no named test: R091/R092 (unknown keys vs extensions), R097
(calculated_fields expr is a ValueRef), R106 (returns never flatten tuples), R195 (function ABI
fragment shape), R204 (evm_read outputs ↔ query returns), R232 (Solana pubkey is a ValueRef).
"""

from __future__ import annotations

import pytest

from aisc.diagnostics import Diagnostic
from aisc.frontend import load_text
from aisc.passes.protocol_semantics import check_protocol

from ._docs import action, protocol, query

P = "p.ais.yaml"
TUPLE_OUT = "[{name: p, type: tuple, components: [{name: a, type: address}, {name: b, type: uint256}]}]"


def _diags(text: str) -> list[Diagnostic]:
    doc = load_text(text, P)
    out = list(doc.diagnostics)
    if doc.kind == "protocol" and doc.document is not None:
        out += check_protocol(doc.document)
    return out


def _errors(text: str) -> list[tuple[str, str]]:
    return [(d.code, d.path or "") for d in _diags(text) if d.is_error]


# ------------------------------------------------------------------ R091 / R092


def test_r091_every_unknown_key_is_reported_none_dropped() -> None:
    """R091: unknown keys at three levels are each an error (nothing is silently stripped)."""
    text = protocol(action("    colour: red\n    params: [{name: a, type: address, description: d, hint: x}]\n"),
                    tail="vendor_flag: true\n")
    errs = _errors(text)
    unknown = sorted(p for c, p in errs if c == "AISC-SCHEMA-001")
    assert unknown == ["$.actions.do.colour", "$.actions.do.params[0].hint", "$.vendor_flag"]
    assert load_text(text, P).ok is False


def test_r092_metadata_under_extensions_is_accepted_and_kept() -> None:
    """R092: the same metadata placed under ``extensions`` (root, action, param, execution) is valid
    and kept verbatim."""
    text = protocol(action("    extensions: {colour: red}\n"
                           "    params: [{name: a, type: address, description: d, extensions: {hint: x}}]\n",
                           execution='      "eip155:*": {type: evm_call, to: {ref: contracts.router}, abi: '
                                     "{type: function, name: f, inputs: [], outputs: []}, args: {}, "
                                     "extensions: {gas: {lit: '1'}}}\n"),
                    tail="extensions: {vendor_flag: true}\n")
    assert _errors(text) == []
    raw = load_text(text, P).raw
    assert raw["extensions"] == {"vendor_flag": True}
    assert raw["actions"]["do"]["extensions"] == {"colour": "red"}
    assert raw["actions"]["do"]["params"][0]["extensions"] == {"hint": "x"}
    assert raw["actions"]["do"]["execution"]["eip155:*"]["extensions"] == {"gas": {"lit": "1"}}


# ------------------------------------------------------------------ R097


@pytest.mark.parametrize(("expr", "ok"), [('{cel: "params.a"}', True), ('{ref: params.a}', True), ('{lit: "5"}', True),
                                          ('"params.a"', False), ("5", False), ("{sum: [1, 2]}", False)],
                         ids=["cel", "ref", "lit", "bare-string", "bare-number", "not-a-valueref"])
def test_r097_calculated_field_expr_is_a_valueref(expr: str, ok: bool) -> None:
    """R097: ``calculated_fields[*].expr`` must be a ValueRef (no bare scalars)."""
    text = protocol(action("    params: [{name: a, type: uint256, description: d}]\n"
                           f"    calculated_fields: {{x: {{expr: {expr}, inputs: [params.a]}}}}\n"))
    errs = _errors(text)
    if ok:
        assert errs == []
    else:
        assert [c for c, path in errs if path.startswith("$.actions.do.calculated_fields.x.expr")] == ["AISC-SCHEMA-008"]


# ------------------------------------------------------------------ R106 / R204


def test_r106_tuple_output_maps_to_one_return() -> None:
    """R106: a tuple output is one return (valid) ..."""
    assert _errors(protocol(queries=query("[{name: p, type: tuple}]", TUPLE_OUT))) == []


def test_r106_flattened_tuple_returns_are_rejected() -> None:
    """R106: ... and spreading its components over several returns is rejected (length mismatch)."""
    text = protocol(queries=query("[{name: a, type: address}, {name: b, type: uint256}]", TUPLE_OUT))
    assert [c for c, _ in _errors(text)] == ["AISC-PROTO-001"]


R204 = [
    ("r204-match", "[{name: x, type: uint256}, {name: y, type: address}]",
     "[{name: x, type: uint256}, {name: y, type: address}]", None),
    ("r204-length", "[{name: x, type: uint256}]", "[{name: x, type: uint256}, {name: y, type: address}]",
     "AISC-PROTO-001"),
    ("r204-name", "[{name: x, type: uint256}, {name: z, type: address}]",
     "[{name: x, type: uint256}, {name: y, type: address}]", "AISC-PROTO-002"),
    ("r204-type", "[{name: x, type: uint256}, {name: y, type: bytes32}]",
     "[{name: x, type: uint256}, {name: y, type: address}]", "AISC-PROTO-003"),
    ("r204-empty-outputs", "[{name: x, type: uint256}]", "[]", "AISC-PROTO-004"),
]


@pytest.mark.parametrize(("returns", "outputs", "code"), [c[1:] for c in R204], ids=[c[0] for c in R204])
def test_r204_evm_read_outputs_match_query_returns(returns: str, outputs: str, code: str | None) -> None:
    """R204: in a query, the evm_read ``abi.outputs`` must match ``returns`` (R101–R105)."""
    codes = [c for c, _ in _errors(protocol(queries=query(returns, outputs)))]
    assert codes == ([] if code is None else [code])


# ------------------------------------------------------------------ R195

_FN = '      "eip155:*": {{type: evm_call, to: {{ref: contracts.router}}, abi: {abi}, args: {{}}}}\n'
R195 = [
    ("r195-function-ok", "{type: function, name: f, inputs: [], outputs: []}", None),
    ("r195-outputs-optional", "{type: function, name: f, inputs: []}", None),
    ("r195-type-event", "{type: event, name: f, inputs: []}", "AISC-SCHEMA-005"),
    ("r195-missing-name", "{type: function, inputs: []}", "AISC-SCHEMA-002"),
    ("r195-missing-inputs", "{type: function, name: f}", "AISC-SCHEMA-002"),
    ("r195-name-not-dynamic", "{type: function, name: {cel: \"'f'\"}, inputs: []}", "AISC-SCHEMA-003"),
    ("r195-unknown-abi-key", "{type: function, name: f, inputs: [], stateMutability: view}", "AISC-SCHEMA-001"),
]


@pytest.mark.parametrize(("abi", "code"), [c[1:] for c in R195], ids=[c[0] for c in R195])
def test_r195_function_abi_fragment(abi: str, code: str | None) -> None:
    """R195: the ABI is ``{type: "function", name, inputs[], outputs[]}``; the name is a plain string."""
    codes = [c for c, _ in _errors(protocol(action(execution=_FN.format(abi=abi))))]
    assert codes == ([] if code is None else [code])


# ------------------------------------------------------------------ R232

_SOL = ('      "solana:*": {{type: solana_instruction, program: {{lit: "11111111111111111111111111111111"}}, '
        "instruction: t, accounts: [{{name: source, pubkey: {pk}, signer: {{lit: true}}, writable: {{lit: true}}}}], "
        'data: {{lit: "0x"}}}}\n')


@pytest.mark.parametrize(("pk", "ok"), [("{ref: params.owner}", True), ('{lit: "11111111111111111111111111111111"}', True),
                                        ("source", False), ("owner", False)],
                         ids=["ref", "lit", "magic-source", "magic-owner"])
def test_r232_solana_pubkey_is_a_valueref(pk: str, ok: bool) -> None:
    """R232: ``accounts[].pubkey`` is a ValueRef; a magic string such as ``source`` is rejected."""
    text = protocol(action("    params: [{name: owner, type: address, description: d}]\n",
                           execution=_SOL.format(pk=pk)))
    errs = _errors(text)
    if ok:
        assert errs == []
    else:
        assert errs == [("AISC-SCHEMA-008", '$.actions.do.execution["solana:*"].accounts[0].pubkey')]


# ------------------------------------------------------------------ R059

_R059_CALL = ('      "eip155:*": {{type: evm_call, to: {to}, abi: {{type: function, name: f, inputs: '
              "[{{name: who, type: address}}, {{name: n, type: uint256}}], outputs: []}}, "
              "args: {{who: {who}, n: {{cel: \"params.n + 1\"}}}}}}\n")
_R059_PARAMS = ("    params: [{name: suffix, type: string, description: d}, {name: who, type: address, description: d},\n"
                "             {name: n, type: uint256, description: d}]\n")
R059 = [
    # (id, to, who, solana pubkey, expected error paths)
    ("refs-and-plain-cel", "{ref: contracts.router}", '{cel: "params.who"}', "{ref: params.who}", []),
    ("to-built-with-plus", "{cel: \"'0x' + params.suffix\"}", "{ref: params.who}", "{ref: params.who}",
     ['$.actions.do.execution["eip155:*"].to.cel']),
    ("address-arg-built-with-plus", "{ref: contracts.router}", "{cel: \"params.who + ''\"}", "{ref: params.who}",
     ['$.actions.do.execution["eip155:*"].args.who.cel']),
    ("solana-pubkey-built-with-plus", "{ref: contracts.router}", "{ref: params.who}",
     "{cel: \"'So1' + params.suffix\"}", ['$.actions.sol.execution["solana:*"].accounts[0].pubkey.cel']),
]


@pytest.mark.parametrize(("to", "who", "pk", "paths"), [c[1:] for c in R059], ids=[c[0] for c in R059])
def test_r059_no_address_built_by_concatenation(to: str, who: str, pk: str, paths: list[str]) -> None:
    """R059: CEL in an address position (``to``, an ``address`` ABI argument, a Solana program or account
    key) never builds the address with ``+``; ``+`` on a uint256 argument is fine."""
    text = protocol(action(_R059_PARAMS, execution=_R059_CALL.format(to=to, who=who))
                    + action(_R059_PARAMS, execution=_SOL.format(pk=pk), name="sol"))
    errs = [(c, p) for c, p in _errors(text)]
    assert errs == [("AISC-PROTO-011", p) for p in paths]
