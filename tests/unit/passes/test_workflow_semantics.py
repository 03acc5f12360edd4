"""Workflow semantics (SPEC-MAP §1.8, §1.21, §9.4): each requirement has a passing and a failing case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .conftest import Result, lit_asset, node, workflow

B = {"ref": "inputs.who"}


def _bal(id_: str = "q", **kw: Any) -> dict[str, Any]:
    kw.setdefault("args", {"owner": B})
    return node(id_, query="balance", **kw)


def _wf(*nodes: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return workflow(*nodes, **kw)


# (id naming the requirement, workflow, expected error code or None for "compiles")
CASES: list[tuple[str, Any, str | None]] = [
    # R140/R320 strict schema: unknown fields rejected (front end)
    ("r140-r320-pass-strict-workflow", _wf(_bal()), None),
    ("r140-r320-fail-unknown-root-field", {**_wf(_bal()), "bogus": 1}, "AISC-SCHEMA"),
    ("r320-fail-wrong-schema-version", {**_wf(_bal()), "schema": "ais-flow/0.0.2"}, "AISC-LOAD-017"),
    # R141 extensions are the place for implementation data
    ("r141-pass-extensions-on-node", _wf(_bal(extensions={"x": 1}), extensions={"y": 2}), None),
    ("r141-fail-extra-node-field", _wf({**_bal(), "x_note": "no"}), "AISC-SCHEMA"),
    # R059 no address built by string concatenation in CEL
    ("r059-pass-address-param-from-a-ref-and-cel-without-plus", _wf(_bal(), _bal("q2", args={"owner": {
        "cel": "inputs.who"}})), None),
    ("r059-fail-address-param-built-with-plus", _wf(_bal(args={"owner": {"cel": "'0x' + inputs.who"}})),
     "AISC-WF-039"),
    # R142 required root fields
    ("r142-pass-required-fields", _wf(_bal()), None),
    ("r142-fail-missing-meta", {k: v for k, v in _wf(_bal()).items() if k != "meta"}, "AISC-SCHEMA"),
    # R143 optional root fields accepted
    ("r143-pass-optional-fields", _wf(_bal(), outputs={"b": {"ref": "nodes.q.outputs.balance"}},
                                      preflight={"simulate": {"evm_eth_call": True}}), None),
    ("r143-fail-bad-preflight", _wf(_bal(), preflight={"simulate": {"x": "yes"}}), "AISC-SCHEMA"),
    # R146 requires_pack needs name and version
    ("r146-pass-requires-pack", _wf(_bal()), None),
    ("r146-fail-requires-pack-no-version", _wf(_bal(), requires_pack={"name": "guard-pack"}), "AISC-SCHEMA"),
    # R148 node required fields / R149 optional fields
    ("r148-pass-node-required", _wf(_bal()), None),
    ("r148-fail-node-without-protocol", _wf({"id": "q", "type": "query_ref", "query": "balance"}), "AISC-SCHEMA"),
    ("r148-fail-action-node-without-action", _wf({"id": "a", "type": "action_ref", "protocol": "demo@0.0.2"}),
     "AISC-WF-008"),
    ("r149-pass-optional-node-fields", _wf(_bal(condition={"lit": True}, assert_={"cel": "true"}, timeout_ms=5)), None),
    ("r149-fail-bad-timeout", _wf(_bal(timeout_ms=0)), "AISC-SCHEMA"),
    # R150-R152 chain resolution
    ("r150-r151-pass-node-chain-beats-default", _wf(_bal(chain="eip155:1"), default_chain="eip155:8453", pack=False),
     None),
    ("r152-fail-no-chain", {k: v for k, v in _wf(_bal(), pack=False).items() if k != "default_chain"}, "AISC-WF-005"),
    ("r192-fail-no-execution-for-chain", _wf(_bal(chain="bip122:000000000019d6689c085ae165831e93"), pack=False),
     "AISC-WF-009"),
    # R153/R154 DAG
    ("r153-pass-implicit-dep-from-ref", _wf(_bal("a"), _bal("b", args={"owner": {"ref": "nodes.a.outputs.balance"}})),
     None),
    ("r154-fail-cycle", _wf(_bal("a", deps=["b"]), _bal("b", deps=["a"])), "AISC-WF-004"),
    ("r154-fail-implicit-cycle", _wf(_bal("a", condition={"cel": "nodes.b.outputs.balance > 0"}),
                                     _bal("b", condition={"cel": "nodes.a.outputs.balance > 0"})), "AISC-WF-004"),
    ("r153-fail-unknown-dep", _wf(_bal("a", deps=["zzz"])), "AISC-WF-002"),
    ("r153-fail-self-dep", _wf(_bal("a", deps=["a"])), "AISC-WF-003"),
    ("r153-fail-duplicate-node-id", _wf(_bal("a"), _bal("a")), "AISC-WF-001"),
    # R155/R156 parallel readiness; writes still ordered by deps
    ("r155-pass-independent-nodes", _wf(_bal("a"), _bal("b")), None),
    ("r156-fail-ref-to-unknown-node", _wf(_bal("a", args={"owner": {"ref": "nodes.ghost.outputs.x"}})),
     "AISC-WF-013"),
    # R157-R159 condition / assert
    ("r158-pass-cel-condition", _wf(_bal(condition={"cel": "inputs.amount > 0"})), None),
    ("r158-fail-lit-condition-not-bool", _wf(_bal(condition={"lit": "yes"})), "AISC-WF-015"),
    ("r159-r323-pass-assert-cel", _wf(_bal(assert_={"cel": "nodes.q.outputs.balance > 0"},
                                             assert_message="empty")), None),
    ("r159-r323-fail-lit-assert-number", _wf(_bal(assert_={"lit": 1})), "AISC-WF-015"),
    ("r323-fail-assert-not-boolean-cel", _wf(_bal(assert_={"cel": "1 + 2"})), "AISC-CEL-004"),
    ("r323-fail-assert-bad-cel", _wf(_bal(assert_={"cel": "1 +"})), "AISC-CEL-001"),
    ("r157-fail-condition-self-ref", _wf(_bal(condition={"cel": "nodes.q.outputs.balance > 0"})), "AISC-WF-021"),
    # R160 assert_message
    ("r160-pass-assert-message", _wf(_bal(assert_={"lit": True}, assert_message="m")), None),
    ("r160-fail-assert-message-not-string", _wf(_bal(assert_={"lit": True}, assert_message=3)), "AISC-SCHEMA"),
    # R161-R163 until / retry / timeout
    ("r161-r162-pass-until-with-retry", _wf(_bal(until={"cel": "nodes.q.outputs.balance > 0"},
                                                   retry={"interval_ms": 10, "max_attempts": 3})), None),
    ("r161-fail-until-without-retry", _wf(_bal(until={"cel": "nodes.q.outputs.balance > 0"})), "AISC-WF-020"),
    ("r162-fail-retry-backoff", _wf(_bal(until={"lit": True}, retry={"interval_ms": 10, "backoff": "exp"})),
     "AISC-SCHEMA"),
    ("r163-fail-negative-timeout", _wf(_bal(timeout_ms=-1)), "AISC-SCHEMA"),
    # declared inputs
    ("r056-pass-declared-input", _wf(_bal(args={"owner": {"ref": "inputs.who"}})), None),
    ("r056-fail-undeclared-input", _wf(_bal(args={"owner": {"ref": "inputs.nope"}})), "AISC-WF-012"),
    ("r056-fail-undeclared-input-in-cel", _wf(_bal(condition={"cel": "inputs.nope > 1"})), "AISC-WF-012"),
    # action/query exist
    ("r148-fail-unknown-action", _wf(node("a", "fly", args={})), "AISC-WF-007"),
    ("r148-fail-unknown-query", _wf(node("q", query="fly", args={})), "AISC-WF-007"),
    ("r148-fail-unknown-param", _wf(_bal(args={"owner": B, "extra": {"lit": "1"}})), "AISC-WF-026"),
    # outputs refs
    ("r100-pass-output-ref", _wf(_bal(), outputs={"x": {"ref": "nodes.q.outputs.balance"}}), None),
    ("r100-fail-output-not-a-return", _wf(_bal(), outputs={"x": {"ref": "nodes.q.outputs.fee_tier"}}), "AISC-WF-014"),
    ("r100-fail-output-not-node-state", _wf(_bal(), outputs={"x": {"ref": "nodes.q.tx"}}), "AISC-WF-014"),
    ("r058-fail-unknown-ref-root", _wf(_bal(args={"owner": {"ref": "wallet.address"}})), "AISC-WF-023"),
    # R324 calculated_overrides ordering
    ("r324-pass-overrides-ordered",
     _wf(node("s", "swap", args={"token": lit_asset(), "amount": {"lit": "0.5"}},
              calculated_overrides={"approval_atomic": {"expr": {"cel": "calculated.amount_atomic"}}})), None),
    ("r324-fail-override-missing-dependency",
     _wf(node("s", "swap", args={"token": lit_asset(), "amount": {"lit": "0.5"}},
              calculated_overrides={"approval_atomic": {"expr": {"cel": "calculated.nope"}}})), "AISC-WF-017"),
    ("r324-fail-override-cycle",
     _wf(node("s", "swap", args={"token": lit_asset(), "amount": {"lit": "0.5"}},
              calculated_overrides={"amount_atomic": {"expr": {"cel": "calculated.approval_atomic"}}})),
     "AISC-WF-018"),
    # R172/R175: until/retry/timeout are not allowed on composite action nodes
    ("r172-pass-composite-node", _wf(node("s", "swap", args={"token": lit_asset(), "amount": {"lit": "0.5"}})), None),
    ("r175-fail-until-on-composite", _wf(node("s", "swap", args={"token": lit_asset(), "amount": {"lit": "0.5"}},
                                              until={"lit": True}, retry={"interval_ms": 5})), "AISC-WF-011"),
]


def _fix(wf: Any) -> Any:
    """``assert_`` in the table stands for ``assert`` (a Python keyword)."""
    if isinstance(wf, dict):
        return {("assert" if k == "assert_" else k): _fix(v) for k, v in wf.items()}
    if isinstance(wf, list):
        return [_fix(x) for x in wf]
    return wf


@pytest.mark.parametrize(("wf", "code"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_workflow_semantics_table(compile_ws: Callable[..., Result], wf: Any, code: str | None) -> None:
    r = compile_ws(_fix(wf))
    if code is None:
        assert r.plan is not None, [d.to_json() for d in r.diags if d.is_error]
    else:
        assert r.plan is None
        assert r.has(code), sorted(r.codes)


def test_r154_cycle_diagnostic_names_nodes_and_spans(compile_ws: Callable[..., Result]) -> None:
    """R154: the cycle error lists node ids and points into the workflow file."""
    r = compile_ws(_fix(_wf(_bal("a", deps=["c"]), _bal("b", deps=["a"]), _bal("c", deps=["b"]))))
    d = next(x for x in r.diags if x.code == "AISC-WF-004")
    assert all(f'"{i}"' in d.message for i in "abc")
    assert d.span is not None and d.span.file.endswith("flow.ais-flow.yaml")
    assert len(d.related) == 2


def test_r324_override_order_recorded(compile_ws: Callable[..., Result]) -> None:
    """R324: calculated fields are recorded in dependency order, overrides marked."""
    wf = _wf(node("s", "swap", args={"token": lit_asset(), "amount": {"lit": "0.5"}},
                  calculated_overrides={"approval_atomic": {"expr": {"cel": "calculated.amount_atomic"}}}))
    r = compile_ws(wf)
    assert r.plan is not None
    ext = r.plan["nodes"][0]["extensions"]["aisc"]
    assert [f["name"] for f in ext["calculated_fields"]] == ["amount_atomic", "approval_atomic"]
    assert [f["source"] for f in ext["calculated_fields"]] == ["protocol", "override"]
    assert ext["calculated_overrides"] == ["approval_atomic"]


def test_r153_implicit_deps_exclude_assert(compile_ws: Callable[..., Result]) -> None:
    """R153 / §5.7: implicit deps come from args, overrides, condition, until — not from assert."""
    r = compile_ws(_fix(_wf(_bal("a"), _bal("b", assert_={"cel": "nodes.a.outputs.balance > 0"}),
                            _bal("c", condition={"cel": "nodes.a.outputs.balance > 0"}))))
    assert r.plan is not None
    by_id = {n["id"]: n for n in r.plan["nodes"]}
    assert "deps" not in by_id["b"]
    assert by_id["c"]["deps"] == ["a"]


@pytest.mark.parametrize(("owner", "path"), [
    ({"cel": "inputs.who +"}, "$.nodes[0].args.owner.cel"),
    ({"object": {"a": {"ref": "inputs.who"}, "b": {"cel": "inputs.who +"}}}, "$.nodes[0].args.owner.object.b.cel"),
    ({"array": [{"lit": 1}, {"cel": "(inputs.who"}]}, "$.nodes[0].args.owner.array[1].cel"),
])
def test_cel_in_args_is_checked_where_it_is(compile_ws: Callable[..., Result], owner: Any, path: str) -> None:
    """A CEL syntax error in an argument, at the top or nested in object/array, is reported at its
    own path; refs and literals next to it are not mistaken for CEL."""
    r = compile_ws(_wf(_bal(args={"owner": owner})))
    assert r.plan is None
    found = [d for d in r.diags if d.code == "AISC-CEL-001"]
    assert [d.path for d in found] == [path]


def test_reference_errors_point_at_the_leaf(compile_ws: Callable[..., Result]) -> None:
    """Reference checks name the path of the offending leaf: inside an argument (also
    nested), a calculated override's expr, a condition and a workflow output."""
    wf = _wf(
        _bal("a", args={"owner": {"object": {"x": {"ref": "inputs.nope"}}}}),
        node("s", "swap", args={"token": lit_asset(), "amount": {"ref": "inputs.gone"}},
             calculated_overrides={"approval_atomic": {"expr": {"cel": "nodes.zz.outputs.x"}}},
             condition={"cel": "bogus.x > 0 || inputs.missing"}),
        outputs={"total": {"ref": "inputs.absent"}},
    )
    r = compile_ws(wf)
    got = sorted((d.code, d.path) for d in r.diags if d.code in ("AISC-WF-012", "AISC-WF-013"))
    assert got == [
        ("AISC-WF-012", "$.nodes[0].args.owner.object.x.ref"),
        ("AISC-WF-012", "$.nodes[1].args.amount.ref"),
        ("AISC-WF-012", "$.nodes[1].condition.cel"),
        ("AISC-WF-012", "$.outputs.total.ref"),
        ("AISC-WF-013", "$.nodes[1].calculated_overrides.approval_atomic.expr.cel"),
    ]


def test_cel_spans_are_looked_up_only_for_checked_expressions() -> None:
    """R323: a condition's CEL is checked with its span in the diagnostic; an expression already
    found clean is not checked again, and its span (a walk of the position tree) is not looked up."""
    from aisc.diagnostics import Span
    from aisc.passes.model import Doc
    from aisc.passes.workflow_semantics import _cel_diags

    asked: list[str] = []

    def lookup(path: str) -> Span:
        asked.append(path)
        return Span(file="w.ais-flow.yaml", line=len(asked), col=1, end_line=len(asked), end_col=40)

    doc = Doc(file="w.ais-flow.yaml", kind="workflow", raw={}, span_lookup=lookup)
    clean = "inputs.amount > 41 && inputs.who != ''"
    assert _cel_diags(clean, doc, "$.nodes[0].condition.cel", want_bool=True) == []
    assert asked == ["$.nodes[0].condition.cel"]  # first time: checked, span at hand
    assert _cel_diags(clean, doc, "$.nodes[7].condition.cel", want_bool=True) == []
    assert asked == ["$.nodes[0].condition.cel"]  # known clean: no lookup
    bad = _cel_diags("inputs.amount >", doc, "$.nodes[8].condition.cel", want_bool=True)
    assert bad and bad[0].span is not None and bad[0].span.line == 2
    assert asked[-1] == "$.nodes[8].condition.cel"
