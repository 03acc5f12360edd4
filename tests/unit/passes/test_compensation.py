"""Compensations in the compiler (issue 6 item 6): ``extensions.aisc.compensate`` of a workflow node is
checked and lowered onto its plan node (docs/durability.md, *Compensation*); a compiled plan whose run
fails after two writes runs both compensations newest first on the fake backend."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aisc.backends.fake import FakeBackend
from aisc.backends.registry import BackendRegistry
from aisc.ir.plan import plan_from_json
from aisc.passes.model import Options
from aisc.runtime.durable import DurableRunner
from aisc.runtime.engine import RunOptions
from aisc.runtime.events import ListSink
from aisc.runtime.history import from_store
from aisc.runtime.store import SqliteStore

from .conftest import ASSET, PROTOCOL, SPENDER, TOKEN, Result, lit_asset, node, workflow

REPO = Path(__file__).resolve().parents[3]
_SHARED = Path("/work/shared/ais/schemas/0.0.2/plan.schema.json")
PLAN_SCHEMA = json.loads((_SHARED if _SHARED.exists() else REPO / "aisc/data/schemas/0.0.2/plan.schema.json").read_text())
OTHER = "0x5555555555555555555555555555555555555555"

Compile = Callable[..., Result]


def reset(**over: Any) -> dict[str, Any]:
    """A compensation: approve(spender, 0) on the demo protocol."""
    c: dict[str, Any] = {"protocol": "demo@0.0.2", "action": "approve",
                         "args": {"token": lit_asset(), "spender": {"lit": SPENDER}, "amount": {"lit": "0"}}}
    c.update(over)
    return c


def with_comp(*entries: Any, id_: str = "a1", action: str = "approve", **kw: Any) -> dict[str, Any]:
    args = kw.pop("args", {"token": lit_asset(), "spender": {"lit": SPENDER}, "amount": {"lit": "5"}})
    return node(id_, action, args=args, extensions={"aisc": {"compensate": list(entries)}}, **kw)


def plan_node(res: Result, nid: str) -> dict[str, Any]:
    assert res.plan is not None, [(d.code, d.message) for d in res.diags]
    return next(n for n in res.plan["nodes"] if n["id"] == nid)


def comp_of(res: Result, nid: str) -> list[dict[str, Any]]:
    return list(plan_node(res, nid).get("extensions", {}).get("aisc", {}).get("compensate", []))


APPROVE_EXEC = PROTOCOL["actions"]["approve"]["execution"]["eip155:*"]
TRANSFER_EXEC = PROTOCOL["actions"]["transfer"]["execution"]["eip155:*"]


# ---------------------------------------------------------------------- lowering


def test_plan_node_carries_lowered_compensations(compile_ws: Compile) -> None:
    """Each entry keeps protocol/action/args/chain and gains the selected execution and action_meta."""
    back = {"protocol": "demo@0.0.2", "action": "transfer", "chain": "eip155:1",
            "args": {"token": lit_asset(), "to": {"ref": "inputs.who"}, "amount": {"ref": "inputs.amount"}}}
    res = compile_ws(workflow(with_comp(reset(), back)))
    assert comp_of(res, "a1") == [
        {"protocol": "demo@0.0.2", "action": "approve",
         "args": {"token": {"lit": ASSET}, "spender": {"lit": SPENDER}, "amount": {"lit": "0"}},
         "execution": APPROVE_EXEC,
         "action_meta": {"ref": "demo@0.0.2/approve", "risk_level": 2, "risk_tags": ["approval"]}},
        {"protocol": "demo@0.0.2", "action": "transfer", "chain": "eip155:1",
         "args": {"token": {"lit": ASSET}, "to": {"ref": "inputs.who"}, "amount": {"ref": "inputs.amount"}},
         "execution": TRANSFER_EXEC,
         "action_meta": {"ref": "demo@0.0.2/transfer", "risk_level": 3}},
    ]


def test_lowering_hands_over_each_node_complete(compile_ws: Compile) -> None:
    """``lower(on_node=...)`` sees every plan node once, in order, already carrying its compensations:
    nothing changes a node after that, which is what lets the compiler self-check it right there."""
    from aisc.passes.lower import lower

    res = compile_ws(workflow(with_comp(reset()), node("a2", "transfer", deps=["a1"], args={
        "token": lit_asset(), "to": {"lit": OTHER}, "amount": {"lit": "1"}})))
    assert res.plan is not None
    c = res.comp
    seen: list[tuple[int, str]] = []
    lowered = lower(c.workspace, c.checked.analysis, c.options,
                    lambda n, i: seen.append((i, json.dumps(n, sort_keys=True))))
    final = [(i, json.dumps(n, sort_keys=True)) for i, n in enumerate(lowered.plan["nodes"])]
    assert seen == final and len(seen) == 2
    assert "compensate" in seen[0][1]


def test_plan_with_compensations_is_schema_valid_and_decodes(compile_ws: Compile) -> None:
    res = compile_ws(workflow(with_comp(reset()), node("a2", "transfer", deps=["a1"], args={
        "token": lit_asset(), "to": {"lit": OTHER}, "amount": {"lit": "1"}},
        extensions={"aisc": {"compensate": [reset(args={"token": lit_asset(), "spender": {"lit": OTHER},
                                                        "amount": {"lit": "0"}})]}})))
    assert res.plan is not None
    jsonschema.validate(res.plan, PLAN_SCHEMA)
    decoded = plan_from_json(res.plan)
    assert [len(n.aisc_extensions.get("compensate", [])) for n in decoded.nodes] == [1, 1]
    assert res.error_codes == set()


def test_composite_node_compensations_go_on_its_last_step(compile_ws: Compile) -> None:
    """A composite expands into several plan nodes; the one with the workflow node id completes last."""
    swap = node("s", "swap", args={"token": lit_asset(), "amount": {"lit": "1.5"}},
                extensions={"aisc": {"compensate": [reset()]}})
    res = compile_ws(workflow(swap, pack=False))
    assert res.plan is not None, [(d.code, d.message) for d in res.diags]
    assert [n["id"] for n in res.plan["nodes"]] == ["s__approve", "s"]
    assert comp_of(res, "s__approve") == []
    assert [c["action"] for c in comp_of(res, "s")] == ["approve"]


def test_no_compensate_key_without_declaration_or_with_no_extensions(compile_ws: Compile) -> None:
    res = compile_ws(workflow(node("a1", "approve", args={"token": lit_asset(), "spender": {"lit": SPENDER},
                                                          "amount": {"lit": "5"}})))
    assert "compensate" not in plan_node(res, "a1").get("extensions", {}).get("aisc", {})
    bare = compile_ws(workflow(with_comp(reset())),
                      options=Options(created_at="2020-01-01T00:00:00.000Z", aisc_extensions=False))
    assert "extensions" not in plan_node(bare, "a1")


def test_other_node_extensions_are_left_alone(compile_ws: Compile) -> None:
    n = with_comp(reset())
    n["extensions"]["aisc"]["note"] = "kept in the workflow only"
    n["extensions"]["mine"] = {"x": 1}
    res = compile_ws(workflow(n))
    assert res.error_codes == set()
    assert [c["action"] for c in comp_of(res, "a1")] == ["approve"]


# ---------------------------------------------------------------------- checks: (input, expected code)

CALC_PROTOCOL = copy.deepcopy(PROTOCOL)
CALC_PROTOCOL["actions"]["approve_calc"] = {
    **copy.deepcopy(PROTOCOL["actions"]["approve"]),
    "calculated_fields": {"amt": {"expr": {"cel": "params.amount"}, "inputs": ["params.amount"]}},
}
REQ_PROTOCOL = copy.deepcopy(PROTOCOL)
for _p in REQ_PROTOCOL["actions"]["approve"]["params"]:
    _p["required"] = True
OTHER_PROTOCOL = copy.deepcopy(PROTOCOL)
OTHER_PROTOCOL["meta"] = {"protocol": "other", "version": "0.0.1"}
SOLANA = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"


def _args(**over: Any) -> dict[str, Any]:
    a: dict[str, Any] = {"token": lit_asset(), "spender": {"lit": SPENDER}, "amount": {"lit": "0"}}
    a.update(over)
    return {k: v for k, v in a.items() if v is not None}


# (id, compensate value, expected code, compile kwargs)
BAD: list[tuple[str, Any, str, dict[str, Any]]] = [
    ("not-a-list", {"protocol": "demo@0.0.2"}, "AISC-WF-030", {}),
    ("entry-not-an-object", ["approve"], "AISC-WF-030", {}),
    ("unknown-field", [reset(when="always")], "AISC-WF-030", {}),
    ("protocol-without-version", [reset(protocol="demo")], "AISC-WF-030", {}),
    ("action-not-a-string", [reset(action=3)], "AISC-WF-030", {}),
    ("chain-not-caip2", [reset(chain="mainnet")], "AISC-WF-030", {}),
    ("args-not-an-object", [reset(args=["0"])], "AISC-WF-030", {}),
    ("r077-protocol-not-found", [reset(protocol="nope@1.0.0")], "AISC-WF-032", {}),
    ("r321-protocol-not-imported", [reset(protocol="other@0.0.1")], "AISC-WF-033",
     {"extra": {"other.ais.yaml": json.dumps(OTHER_PROTOCOL)}, "pack": False}),
    ("r077-protocol-not-in-pack", [reset(protocol="other@0.0.1")], "AISC-WF-034",
     {"extra": {"other.ais.yaml": json.dumps(OTHER_PROTOCOL)}, "import_other": True}),
    ("r078-chain-outside-pack-scope", [reset(chain="eip155:8453")], "AISC-WF-034", {}),
    ("action-not-found", [reset(action="burn")], "AISC-WF-035", {}),
    ("r192-no-execution-for-chain", [reset(chain=SOLANA)], "AISC-WF-036", {"pack": False}),
    ("composite-not-allowed", [reset(action="swap", args={"token": lit_asset(), "amount": {"lit": "1"}})],
     "AISC-WF-036", {}),
    ("arg-not-a-valueref", [reset(args=_args(amount="0"))], "AISC-WF-037", {}),
    ("calculated-fields-not-evaluable", [reset(action="approve_calc")], "AISC-WF-038",
     {"protocol": CALC_PROTOCOL}),
    ("unknown-param", [reset(args=_args(owner={"lit": SPENDER}))], "AISC-WF-026", {}),
    ("missing-required-param", [reset(args=_args(spender=None))], "AISC-WF-027", {"protocol": REQ_PROTOCOL}),
    ("undeclared-input", [reset(args=_args(spender={"ref": "inputs.nobody"}))], "AISC-WF-012", {}),
    ("unknown-node-ref", [reset(args=_args(amount={"ref": "nodes.ghost.outputs.x"}))], "AISC-WF-013", {}),
    ("unknown-ref-root", [reset(args=_args(amount={"ref": "wallet.amount"}))], "AISC-WF-023", {}),
    ("r054-r117-yaml-number-for-uint256", [reset(args=_args(amount={"lit": 0}))], "AISC-NUM-001", {}),
    ("r118-malformed-integer-string", [reset(args=_args(amount={"lit": "1e3"}))], "AISC-NUM-004", {}),
]


@pytest.mark.parametrize(("comp", "code", "kw"), [(c, code, kw) for _, c, code, kw in BAD], ids=[b[0] for b in BAD])
def test_bad_compensation_is_rejected(comp: Any, code: str, kw: dict[str, Any], compile_ws: Compile) -> None:
    kw = dict(kw)
    wf_kw: dict[str, Any] = {"pack": kw.pop("pack", True)}
    if kw.pop("import_other", False):
        wf_kw["imports"] = {"protocols": [{"protocol": "demo@0.0.2", "path": "demo.ais.yaml"},
                                          {"protocol": "other@0.0.1", "path": "other.ais.yaml"}]}
    n = node("a1", "approve", args={"token": lit_asset(), "spender": {"lit": SPENDER}, "amount": {"lit": "5"}},
             extensions={"aisc": {"compensate": comp}})
    res = compile_ws(workflow(n, **wf_kw), **kw)
    assert res.plan is None, f"compiled, expected {code}"
    assert code in res.error_codes, [(d.code, d.message) for d in res.diags]
    hit = next(d for d in res.diags if d.code == code)
    assert hit.path is not None and hit.path.startswith("$.nodes[0].extensions.aisc.compensate")
    assert hit.span is not None and hit.hint


def test_compensation_on_a_query_node_is_rejected(compile_ws: Compile) -> None:
    q = node("q", query="balance", args={"owner": {"lit": SPENDER}}, extensions={"aisc": {"compensate": [reset()]}})
    res = compile_ws(workflow(q))
    assert res.plan is None and "AISC-WF-031" in res.error_codes


def test_bad_cel_in_compensation_arg_is_reported(compile_ws: Compile) -> None:
    res = compile_ws(workflow(with_comp(reset(args=_args(amount={"cel": "params.amount +"})))))
    assert res.plan is None
    bad = [d for d in res.diags if d.is_error]
    assert bad and all(d.path and ".extensions.aisc.compensate[0].args.amount" in d.path for d in bad)


def test_span_points_into_the_workflow_file(compile_ws: Compile) -> None:
    yaml_text = "\n".join([
        'schema: "ais-flow/0.0.3"',
        'meta: {name: t, version: "0.0.3"}',
        'default_chain: "eip155:1"',
        "imports: {protocols: [{protocol: demo@0.0.2, path: demo.ais.yaml}]}",
        "nodes:",
        "  - id: a1",
        "    type: action_ref",
        "    protocol: demo@0.0.2",
        "    action: approve",
        f'    args: {{spender: {{lit: "{SPENDER}"}}, amount: {{lit: "5"}}}}',
        "    extensions:",
        "      aisc:",
        "        compensate:",
        "          - protocol: demo@0.0.2",
        "            action: burn",
        "",
    ])
    res = compile_ws(yaml_text)
    hit = next(d for d in res.diags if d.code == "AISC-WF-035")
    assert hit.span is not None and (hit.span.line, hit.span.col) == (15, 21)


# ---------------------------------------------------------------------- running a compiled plan (fake backend)


def test_compiled_compensations_run_newest_first_on_the_fake_backend(compile_ws: Compile, tmp_path: Path) -> None:
    """approve(5) and transfer(1) complete, the third write fails: transfer's then approve's compensation run,
    each with its args evaluated from the failed run's root (events and history show both)."""
    a1 = with_comp(reset())
    a2 = node("a2", "transfer", deps=["a1"], args={"token": lit_asset(), "to": {"lit": OTHER}, "amount": {"lit": "1"}},
              extensions={"aisc": {"compensate": [
                  {"protocol": "demo@0.0.2", "action": "transfer",
                   "args": {"token": lit_asset(), "to": {"ref": "ctx.wallet_address"},
                            "amount": {"ref": "inputs.amount"}}}]}})
    a3 = node("a3", "transfer", deps=["a2"], args={"token": lit_asset(), "to": {"lit": OTHER}, "amount": {"lit": "2"}})
    res = compile_ws(workflow(a1, a2, a3, pack=False))
    assert res.plan is not None, [(d.code, d.message) for d in res.diags]
    plan = plan_from_json(res.plan)

    wallet = "0x00000000000000000000000000000000000000a1"
    fake = FakeBackend({"a3": {"fail": "execution reverted: boom"},
                        "a1__compensate_0": {"evaluate": ["args.spender", "args.amount", "to"]},
                        "a2__compensate_0": {"evaluate": ["args.to", "args.amount"]}},
                       chains=["eip155:1"])
    reg = BackendRegistry()
    reg.register(fake)
    sink = ListSink()
    with SqliteStore(tmp_path / "runs.db") as st:
        out = DurableRunner(reg, store=st, sinks=[sink], options=RunOptions(run_id="c1")).start(
            plan, inputs={"amount": 1}, ctx={"wallet_address": wallet})
        assert out.status == "failed"
        assert [(c["compensation_id"], c["status"]) for c in out.compensations] == [
            ("a2__compensate_0", "done"), ("a1__compensate_0", "done")]
        assert fake.order == ["a1", "a2", "a3", "a2__compensate_0", "a1__compensate_0"]
        assert fake.evaluated["a2__compensate_0"] == {"args.to": wallet, "args.amount": 1}
        assert fake.evaluated["a1__compensate_0"] == {"args.spender": SPENDER, "args.amount": "0",
                                                      "to": TOKEN}
        wf, steps = from_store(st, "c1")
    assert [(c["compensation_id"], c["status"]) for c in wf["compensations"]] == [
        ("a2__compensate_0", "done"), ("a1__compensate_0", "done")]
    by_id = {s["node_id"]: s for s in steps}
    assert [c["compensation_id"] for c in by_id["a1"]["compensations"]] == ["a1__compensate_0"]
    assert [r["event"].get("node_id") for r in sink.of_type("tx_sent")] == [
        "a1", "a2", "a2__compensate_0", "a1__compensate_0"]


def test_compensation_events_reach_a_file_sink(compile_ws: Compile, tmp_path: Path) -> None:
    """Regression: the runner closed its event sinks before the compensations ran, so with
    ``--events-jsonl FILE`` every compensation failed with "I/O operation on closed file"."""
    from aisc.runtime.events import JsonlSink

    res = compile_ws(workflow(with_comp(reset()), node("a2", "transfer", deps=["a1"], args={
        "token": lit_asset(), "to": {"lit": OTHER}, "amount": {"lit": "1"}}), pack=False))
    assert res.plan is not None
    fake = FakeBackend({"a2": {"fail": "execution reverted: boom"}}, chains=["eip155:1"])
    reg = BackendRegistry()
    reg.register(fake)
    path = tmp_path / "events.jsonl"
    with SqliteStore(tmp_path / "runs.db") as st:
        out = DurableRunner(reg, store=st, sinks=[JsonlSink(str(path))], options=RunOptions(run_id="e1")).start(
            plan_from_json(res.plan))
        stored = [r["event"]["type"] for r in st.events("e1") if r["event"].get("node_id") == "a1__compensate_0"]
    assert [(c["compensation_id"], c["status"]) for c in out.compensations] == [("a1__compensate_0", "done")]
    records = [json.loads(line) for line in path.read_text().splitlines()]
    in_file = [r["event"]["type"] for r in records if r["event"].get("node_id") == "a1__compensate_0"]
    assert "tx_sent" in in_file and "tx_confirmed" in in_file
    assert "tx_sent" in stored
