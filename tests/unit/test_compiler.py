"""The compiler: golden plan, plan schema, determinism, phases, lowering (§5.7), skeletons (R300–R302)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aisc.compiler import PHASES, Compilation, plan_from_yaml_texts, plan_hash, plan_text
from aisc.diagnostics import CompilationFailed
from aisc.passes import PIPELINE
from aisc.passes.lower import created_at
from aisc.passes.model import Options

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads(Path("/work/shared/ais/schemas/0.0.2/plan.schema.json").read_text()) if Path(
    "/work/shared/ais/schemas/0.0.2/plan.schema.json").exists() else json.loads(
    (REPO / "aisc/data/schemas/0.0.2/plan.schema.json").read_text())
EXAMPLES = REPO / "aisc" / "data" / "examples"
CORE = json.loads((REPO / "conformance/upstream/vectors/core.json").read_text())
GOLDEN_CASE = next(c for c in CORE["cases"] if c["kind"] == "workflow_plan")
GOLDEN = json.loads((REPO / "conformance/upstream/golden" / GOLDEN_CASE["input"]["golden_file"]).read_text())


def validate(plan: dict[str, Any]) -> None:
    jsonschema.validate(json.loads(plan_text(plan)), SCHEMA)


def golden_plan() -> dict[str, Any]:
    return plan_from_yaml_texts(GOLDEN_CASE["input"]["protocols_yaml"], GOLDEN_CASE["input"]["workflow_yaml"])


def test_r211_golden_workflow_plan_vector() -> None:
    """The upstream workflow_plan vector: JSON round trip, created_at ignored, deep equality (R211)."""
    plan = json.loads(json.dumps(golden_plan()))
    plan["meta"]["created_at"] = "<ignored>"
    assert plan == GOLDEN


def test_r212_golden_plan_validates_against_schema() -> None:
    validate(golden_plan())


def test_r170_r214_composite_expansion_shape() -> None:
    """R170/R214: composite steps become kind=execution nodes chained by deps; last keeps the id."""
    nodes = golden_plan()["nodes"]
    assert [n["id"] for n in nodes] == ["n1__approve", "n1"]
    assert {n["kind"] for n in nodes} == {"execution"}
    assert "deps" not in nodes[0] and nodes[1]["deps"] == ["n1__approve"]
    assert nodes[1]["writes"][0] == {"path": "nodes.n1.outputs", "mode": "merge"}


def test_plan_from_yaml_texts_reports_errors() -> None:
    bad = GOLDEN_CASE["input"]["workflow_yaml"].replace("action: do", "action: nope")
    with pytest.raises(CompilationFailed) as e:
        plan_from_yaml_texts(GOLDEN_CASE["input"]["protocols_yaml"], bad)
    assert any(d.code == "AISC-WF-007" and "Action not found: demo@0.0.2/nope" in d.message
               for d in e.value.diagnostics)


def test_pipeline_order_is_data() -> None:
    assert [s.name for s in PIPELINE] == ["workflow_semantics", "workspace", "capabilities", "numeric_literals",
                                          "compensation", "policy_static", "lower"]
    assert PHASES == ("sources", "documents", "workspace", "checked", "plan")


@pytest.mark.parametrize("name", ["bridge-send-wait-deposit"])
def test_r211_bundled_example_compiles_validates_and_is_reproducible(name: str, monkeypatch: pytest.MonkeyPatch
                                                                      ) -> None:
    """R211/R220: the same inputs give byte-identical canonical plans (SOURCE_DATE_EPOCH fixed)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = plan_text(Compilation(EXAMPLES / f"{name}.ais-flow.yaml").plan)
    b = plan_text(Compilation(EXAMPLES / f"{name}.ais-flow.yaml").plan)
    assert a == b
    plan = json.loads(a)
    assert plan["meta"]["created_at"] == "2023-11-14T22:13:20.000Z"
    assert list(plan) == sorted(plan)  # R220: keys sorted
    validate(plan)
    assert plan["extensions"]["aisc"]["plan_hash"] == plan_hash(plan)


def test_plan_nodes_keep_the_schema_key_order() -> None:
    """Plan nodes list their keys in one fixed order (id, chain, kind, description, deps, …, extensions):
    ``--emit plan`` and the in-memory plan read the same way for plain, query and composite nodes."""
    order = ("id", "chain", "kind", "description", "deps", "condition", "assert", "assert_message", "until",
             "retry", "timeout_ms", "bindings", "execution", "writes", "source", "extensions")
    seen: set[str] = set()
    plans = [Compilation(EXAMPLES / "bridge-send-wait-deposit.ais-flow.yaml").plan,
             plan_from_yaml_texts(GOLDEN_CASE["input"]["protocols_yaml"], GOLDEN_CASE["input"]["workflow_yaml"]),
             plan_from_yaml_texts([PROTO], _wf(
                 "  - { id: q0, type: query_ref, protocol: demo@0.0.2, query: q }\n"
                 "  - { id: q1, type: query_ref, protocol: demo@0.0.2, query: q, timeout_ms: 5,\n"
                 "      condition: { cel: 'nodes.q0.outputs.v > 1' }, assert: { lit: true }, assert_message: m }\n"))]
    for plan in plans:
        for node in plan["nodes"]:
            assert list(node) == [k for k in order if k in node], node["id"]
            seen.update(node)
    assert {"description", "deps", "condition", "assert", "assert_message", "timeout_ms", "bindings", "writes",
            "extensions"} <= seen


def _compile_with_lowering_bug(monkeypatch: pytest.MonkeyPatch, bug: Callable[[Any, dict[str, Any]], None]
                               ) -> Any:
    """Compile two query nodes with ``bug(node_info, plan_node)`` applied to each lowered node; the
    single diagnostic it fails with."""
    import aisc.passes.lower as lowering

    real = lowering._base_node

    def broken(n: Any, deps: list[str], description: Any = None) -> dict[str, Any]:
        out = real(n, deps, description)
        bug(n, out)
        return out

    monkeypatch.setattr(lowering, "_base_node", broken)
    wf = _wf("  - { id: q0, type: query_ref, protocol: demo@0.0.2, query: q }\n"
             "  - { id: q1, type: query_ref, protocol: demo@0.0.2, query: q }\n")
    with pytest.raises(CompilationFailed) as ei:
        plan_from_yaml_texts([PROTO], wf)
    [d] = ei.value.diagnostics
    return d


def test_self_check_catches_a_lowering_bug_at_the_node(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every lowered node goes through the runtime's plan decoder as soon as it is built: a node the
    runtime would reject fails the compile with AISC-PLAN-001 at that node, and nothing is returned."""

    def bad_chain(n: Any, out: dict[str, Any]) -> None:
        if n.id == "q1":
            out["chain"] = "not-a-chain"

    d = _compile_with_lowering_bug(monkeypatch, bad_chain)
    assert d.code == "AISC-PLAN-001" and d.path == "$.nodes[1].chain"


def test_self_check_catches_a_bug_across_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks across nodes (unique ids, known deps) still run on the whole plan."""
    d = _compile_with_lowering_bug(monkeypatch, lambda n, out: out.update(id="same"))
    assert d.code == "AISC-PLAN-001" and d.path == "$.nodes[1].id" and "duplicate node id" in d.message


def test_lowering_diagnostics_come_before_self_check_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """When lowering reports an error of its own, that is what the compile fails with, even if a
    node it built would also fail the self-check (as when the whole plan was checked afterwards)."""
    import aisc.passes.lower as lowering
    from aisc.diagnostics import Diagnostic

    real_lower = lowering.lower

    def lower_reporting(ws: Any, an: Any, options: Any, on_node: Any = None) -> Any:
        out = real_lower(ws, an, options, on_node)
        return lowering.Lowered(out.plan, (Diagnostic("AISC-PLAN-002", "cannot combine the conditions"),))

    monkeypatch.setattr(lowering, "lower", lower_reporting)
    d = _compile_with_lowering_bug(monkeypatch, lambda n, out: out.update(chain="not-a-chain"))
    assert d.code == "AISC-PLAN-002"


def test_r211_plan_hash_ignores_created_at() -> None:
    c1 = Compilation(EXAMPLES / "bridge-send-wait-deposit.ais-flow.yaml", options=Options(created_at="a"))
    c2 = Compilation(EXAMPLES / "bridge-send-wait-deposit.ais-flow.yaml", options=Options(created_at="b"))
    h1 = json.loads(c1.artifact)["extensions"]["aisc"]["plan_hash"]
    h2 = json.loads(c2.artifact)["extensions"]["aisc"]["plan_hash"]
    assert h1 == h2 and h1.startswith("0x") and len(h1) == 66
    assert c1.plan["meta"]["created_at"] != c2.plan["meta"]["created_at"]


@pytest.mark.parametrize(("name", "code"), [
    ("aave-branch-bridge-solana-deposit", "AISC-NUM-001"),  # D11: {lit: 2} for a uint8 (R054)
    ("swap-to-token", "AISC-WS-009"),  # D10: eip155:1 outside the pack's chain_scope (R078)
], ids=["d11-aave-yaml-number", "d10-swap-chain-scope"])
def test_example_contradictions_have_specific_diagnostics(name: str, code: str) -> None:
    with pytest.raises(CompilationFailed) as e:
        _ = Compilation(EXAMPLES / f"{name}.ais-flow.yaml").plan
    assert code in {d.code for d in e.value.diagnostics}


def test_d10_swap_example_reports_every_contradiction() -> None:
    with pytest.raises(CompilationFailed) as e:
        _ = Compilation(EXAMPLES / "swap-to-token.ais-flow.yaml").plan
    msgs = [d.message for d in e.value.diagnostics if d.code == "AISC-WF-014"]
    assert any("fee_tier" in m for m in msgs) and any("nodes.a_swap.tx" in m for m in msgs)


def test_emit_every_phase() -> None:
    c = Compilation(EXAMPLES / "bridge-send-wait-deposit.ais-flow.yaml", options=Options(created_at="x"))
    out = {name: c.emit(name) for name in PHASES}
    assert out["sources"]["sources"][0].endswith("bridge-send-wait-deposit.ais-flow.yaml")
    assert out["workspace"]["nodes"][1]["execution_key"] == "solana:*"
    assert out["checked"]["order"] == ["bridge_send", "wait_arrival", "solana_deposit"]
    assert out["plan"]["schema"] == "ais-plan/0.0.3"
    with pytest.raises(ValueError):
        c.emit("module")


def test_created_at_from_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert created_at(Options()) == "1970-01-01T00:00:00.000Z"
    assert created_at(Options(created_at="fixed")) == "fixed"


# ---------------------------------------------------------------------- lowering details (§5.7)

PROTO = """schema: "ais/0.0.2"
meta: { protocol: demo, version: "0.0.2" }
deployments:
  - chain: "eip155:1"
    contracts: { router: "0x1111111111111111111111111111111111111111" }
actions:
  do:
    description: "composite"
    risk_level: 1
    params: [{ name: x, type: uint256, description: "x" }]
    execution:
      "eip155:*":
        type: composite
        steps:
          - id: a
            description: "a"
            condition: { cel: "params.x > 0" }
            execution: { type: evm_call, to: { ref: "contracts.router" },
                         abi: { type: "function", name: "a", inputs: [{ name: x, type: uint256 }], outputs: [] },
                         args: { x: { ref: "params.x" } } }
          - id: b
            chain: "eip155:10"
            execution: { type: evm_call, to: { ref: "contracts.router" },
                         abi: { type: "function", name: "b", inputs: [{ name: x, type: uint256 }], outputs: [] },
                         args: { x: { ref: "params.x" } } }
queries:
  q:
    description: "read"
    returns: [{ name: v, type: uint256 }]
    execution:
      "*": { type: evm_read, to: { ref: "contracts.router" },
             abi: { type: "function", name: "q", inputs: [], outputs: [{ name: v, type: uint256 }] }, args: {} }
"""


def _wf(nodes: str, extra: str = "") -> str:
    return ('schema: "ais-flow/0.0.3"\nmeta: { name: wf, version: "0.0.3", description: "d" }\n'
            'default_chain: "eip155:1"\ninputs: { amount: { type: uint256 } }\n' + extra + "nodes:\n" + nodes)


def test_r171_r173_step_condition_chain_and_parent_condition() -> None:
    """R171: step conditions combine with the node's; R173: a step chain overrides the parent chain."""
    wf = _wf("  - { id: q0, type: query_ref, protocol: demo@0.0.2, query: q }\n"
             "  - id: n\n    type: action_ref\n    protocol: demo@0.0.2\n    action: do\n"
             "    condition: { cel: 'nodes.q0.outputs.v > 1' }\n    assert: { lit: true }\n"
             "    assert_message: boom\n    args: { x: { lit: '1' } }\n")
    plan = plan_from_yaml_texts([PROTO], wf)
    by = {n["id"]: n for n in plan["nodes"]}
    assert by["n__a"]["condition"] == {"cel": "((nodes.q0.outputs.v > 1) && (params.x > 0))"}
    assert by["n"]["condition"] == {"cel": "nodes.q0.outputs.v > 1"}
    assert by["n"]["chain"] == "eip155:10" and by["n__a"]["chain"] == "eip155:1"
    assert "assert" not in by["n__a"] and by["n"]["assert_message"] == "boom"  # assert only on the last step
    assert by["n__a"]["deps"] == ["q0"]
    assert by["q0"]["writes"] == [{"path": "nodes.q0.outputs", "mode": "set"}]
    assert plan["meta"]["description"] == "d"
    validate(plan)


def test_r174_r175_lit_condition_combination_and_failure() -> None:
    """R174/R175: a boolean lit condition combines as true/false; a non-boolean lit cannot combine."""
    wf = _wf("  - id: n\n    type: action_ref\n    protocol: demo@0.0.2\n    action: do\n"
             "    condition: { lit: true }\n    args: { x: { lit: '1' } }\n")
    plan = plan_from_yaml_texts([PROTO], wf)
    assert plan["nodes"][0]["condition"] == {"cel": "((true) && (params.x > 0))"}
    bad = wf.replace("condition: { lit: true }", "condition: { lit: 1 }")
    with pytest.raises(CompilationFailed):
        plan_from_yaml_texts([PROTO], bad)


def test_r210_r213_r215_no_extra_keys_and_query_writes() -> None:
    """R213: absent keys are omitted (no nulls); R215: query nodes write their outputs with mode set."""
    plan = plan_from_yaml_texts([PROTO], _wf("  - { id: q0, type: query_ref, protocol: demo@0.0.2, query: q }\n"))
    n = plan["nodes"][0]
    assert set(n) == {"id", "chain", "kind", "description", "execution", "writes", "source"}
    assert n["source"] == {"workflow": {"name": "wf", "version": "0.0.3"}, "node_id": "q0", "protocol": "demo@0.0.2",
                           "query": "q"}
    assert "null" not in json.dumps(plan)


def test_r216_deps_are_sorted_union() -> None:
    """R216: writer order comes from deps: deps are the sorted union of explicit and implicit ones.
    R313/R315: a condition reading ``nodes.a.outputs`` gets an implicit dep on ``a``, so it only sees a
    completed node's outputs."""
    wf = _wf("  - { id: b, type: query_ref, protocol: demo@0.0.2, query: q }\n"
             "  - { id: a, type: query_ref, protocol: demo@0.0.2, query: q }\n"
             "  - { id: c, type: query_ref, protocol: demo@0.0.2, query: q, deps: [b],"
             " condition: { cel: 'nodes.a.outputs.v > 0' } }\n")
    plan = plan_from_yaml_texts([PROTO], wf)
    assert plan["nodes"][2]["deps"] == ["a", "b"]
    bad = wf.replace("deps: [b]", "deps: [zz]")
    with pytest.raises(CompilationFailed):
        plan_from_yaml_texts([PROTO], bad)


def test_r218_r219_plan_schema_const_and_extensions_free_form(compile_example: Callable[..., Any]) -> None:
    """R218/R219: the emitted schema is ais-plan/0.0.3; aisc data lives only under extensions."""
    plan = compile_example("bridge-send-wait-deposit")
    assert plan["schema"] == "ais-plan/0.0.3"
    assert set(plan) == {"schema", "meta", "nodes", "extensions"}
    assert set(plan["extensions"]) == {"aisc"}


@pytest.fixture
def compile_example() -> Callable[..., Any]:
    def run(name: str) -> Any:
        return Compilation(EXAMPLES / f"{name}.ais-flow.yaml", options=Options(created_at="x")).plan

    return run


# ---------------------------------------------------------------------- plan skeletons (R300-R302)


def _skeleton(tmp: Path, nodes: list[dict[str, Any]], **kw: Any) -> Path:
    (tmp / "demo.ais.yaml").write_text(PROTO)
    doc = {"schema": "ais-plan-skeleton/0.0.1", "meta": {"name": "sk"}, "default_chain": "eip155:1",
           "nodes": nodes, **kw}
    p = tmp / "s.ais-plan-skeleton.json"
    p.write_text(json.dumps(doc))
    return p


def test_r300_r302_skeleton_compiles_with_policy_hints(tmp_path: Path) -> None:
    """R300-R302: a skeleton compiles to a plan carrying plan.extensions.plan_skeleton.policy_hints."""
    p = _skeleton(tmp_path, [{"id": "q0", "type": "query_ref", "protocol": "demo@0.0.2", "query": "q"},
                             {"id": "n", "type": "action_ref", "protocol": "demo@0.0.2", "action": "do",
                              "deps": ["q0"], "args": {"x": {"ref": "inputs.amount"}}}],
                  policy_hints={"risk_preference": "low"})
    c = Compilation(p, options=Options(created_at="x"))
    plan = c.plan
    assert plan["extensions"]["plan_skeleton"] == {"schema": "ais-plan-skeleton/0.0.1",
                                                   "policy_hints": {"risk_preference": "low"}}
    assert plan["nodes"][0]["source"]["workflow"] == {"name": "sk", "version": "0.0.1"}
    assert any(d.code == "AISC-WF-012" and d.severity == "warning" for d in c.diagnostics)
    validate(plan)


@pytest.mark.parametrize(("nodes", "code"), [
    ([{"id": "n", "type": "action_ref", "protocol": "demo@0.0.2", "action": "nope"}], "AISC-WF-007"),
    ([{"id": "n", "type": "action_ref", "protocol": "demo@0.0.2", "action": "do", "assert": {"lit": True}}],
     "AISC-SCHEMA"),
    ([{"id": "a", "type": "query_ref", "protocol": "demo@0.0.2", "query": "q", "deps": ["b"]},
      {"id": "b", "type": "query_ref", "protocol": "demo@0.0.2", "query": "q", "deps": ["a"]}], "AISC-WF-004"),
], ids=["r301-unknown-action", "r301-assert-not-allowed", "r302-dag-error"])
def test_r301_r302_skeleton_errors(tmp_path: Path, nodes: list[dict[str, Any]], code: str) -> None:
    c = Compilation(_skeleton(tmp_path, nodes), options=Options(created_at="x"))
    with pytest.raises(CompilationFailed) as e:
        _ = c.plan
    assert any(d.code.startswith(code) for d in e.value.diagnostics)


def test_duplicate_diagnostics_are_reported_once_in_first_seen_order() -> None:
    from aisc.compiler import _dedupe_diags
    from aisc.diagnostics import Diagnostic

    a, b = Diagnostic("AISC-WS-014", "a", path="$.x"), Diagnostic("AISC-WS-014", "b", path="$.x")
    assert _dedupe_diags([b, a, Diagnostic("AISC-WS-014", "b", path="$.x"), a, b]) == [b, a]
    assert _dedupe_diags([]) == []


def _three_balance_queries() -> Compilation:
    """A compilation (not yet run) of three nodes querying one protocol: node_b reads node_a's
    output, node_c names node_a in ``deps``."""
    from aisc.frontend import load_text

    proto = load_text(
        'schema: "ais/0.0.2"\nmeta: { protocol: t, version: "1.0.0" }\n'
        'deployments: [{ chain: "eip155:1", contracts: { token: "0x1111111111111111111111111111111111111111" } }]\n'
        "actions: {}\nqueries:\n  balance:\n    description: b\n"
        "    params: [{ name: owner, type: address, description: o }]\n"
        "    returns: [{ name: balance, type: uint256 }]\n    execution:\n      \"eip155:*\":\n"
        "        type: evm_read\n        to: { ref: contracts.token }\n"
        "        abi: { type: function, name: balanceOf, inputs: [{ name: owner, type: address }],"
        " outputs: [{ name: balance, type: uint256 }] }\n"
        "        args: { owner: { ref: params.owner } }\n", "t.ais.yaml", kind_hint="protocol")
    flow = load_text(
        'schema: "ais-flow/0.0.3"\nmeta: {name: w, version: "0.0.1"}\ndefault_chain: "eip155:1"\n'
        "inputs: {who: {type: address}}\nnodes:\n"
        "  - {id: node_a, type: query_ref, protocol: t@1.0.0, query: balance, args: {owner: {ref: inputs.who}}}\n"
        "  - {id: node_b, type: query_ref, protocol: t@1.0.0, query: balance, args: {owner: {ref: nodes.node_a.outputs.balance}}}\n"
        "  - {id: node_c, type: query_ref, protocol: t@1.0.0, query: balance, deps: [node_a], args: {owner: {ref: inputs.who}}}\n",
        "w.ais-flow.yaml")
    return Compilation(None, options=Options(created_at="x", enforce_imports=False), preloaded=[proto],
                       entry_document=flow)


def test_plan_deps_hold_the_nodes_own_id_strings() -> None:
    """A dependency found through a reference or named in ``deps`` is the depended-on node's own
    ``id`` string (not a copy split out of the reference), so a large plan keeps one string per id."""
    plan = _three_balance_queries().plan
    a, b, c = plan["nodes"]
    assert b["deps"] == ["node_a"] == c["deps"]
    assert b["deps"][0] is a["id"] and c["deps"][0] is a["id"]


def test_nodes_of_one_target_share_its_strings() -> None:
    """Nodes that use the same protocol, node type, target and chain hold one string object for each
    of them (the first node's), not one copy per node as the YAML reader made them: every pass reads
    these, and one object stays in the CPU caches. The values are unchanged."""
    c = _three_balance_queries()
    raw_nodes = c.workspace.workflow.raw["nodes"]
    assert raw_nodes[0]["protocol"] is not raw_nodes[1]["protocol"]  # the reader's copies
    a, b, n3 = c.workspace.nodes
    for field in ("protocol", "type", "target_name", "chain"):
        assert getattr(a, field) is getattr(b, field) is getattr(n3, field), field
    assert (b.protocol, b.type, b.target_name, b.chain) == ("t@1.0.0", "query_ref", "balance", "eip155:1")
    assert b.protocol is raw_nodes[0]["protocol"]
    assert c.plan["nodes"][1]["source"] == {"workflow": {"name": "w", "version": "0.0.1"}, "node_id": "node_b",
                                            "protocol": "t@1.0.0", "query": "balance"}
