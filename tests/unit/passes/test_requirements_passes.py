"""Compiler-side requirements that had no named test: R003 (determinism vs key order), R010/R012/R013/
R018/R030 (capabilities), R093 (extensions are inert), R190–R193/R230 (execution-block selection),
R312 (unique node ids), R314 (cross-chain nodes carry explicit chains and deps).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from aisc.compiler import plan_text
from aisc.ir.chains import NoExecutionMatch, select_execution
from aisc.passes.capabilities import ALIASES, ENGINE_CAPABILITIES
from aisc.passes.model import Options

from .conftest import PACK, PROTOCOL, Result, deep, node, workflow

CREATED = "2020-01-01T00:00:00.000Z"
B = {"ref": "inputs.who"}
SPENDER = {"lit": "0x2222222222222222222222222222222222222222"}


def _approve() -> dict[str, Any]:
    return node("ap", "approve", args={"token": {"lit": {"chain_id": "eip155:1",
                                                         "address": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
                                                         "symbol": "USDC", "decimals": 6}},
                                       "spender": SPENDER, "amount": {"ref": "inputs.amount"}})


def _reverse_keys(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _reverse_keys(v[k]) for k in reversed(list(v))}
    if isinstance(v, list):
        return [_reverse_keys(x) for x in v]
    return v


# ------------------------------------------------------------------ R003


def test_r003_plan_bytes_do_not_depend_on_mapping_key_order(compile_ws: Callable[..., Result]) -> None:
    """R003: the same documents with every mapping's keys in reverse order give a byte-identical plan."""
    wf = workflow(node("q", query="balance", args={"owner": B}), _approve())
    a = compile_ws(wf)
    b = compile_ws(_reverse_keys(wf), protocol=_reverse_keys(deep(PROTOCOL)), pack=_reverse_keys(deep(PACK)))
    assert a.plan is not None and b.plan is not None
    assert list(_reverse_keys(wf)) != list(wf)  # the permutation really happened
    assert plan_text(a.plan) == plan_text(b.plan)


# ------------------------------------------------------------------ R010 / R018 / R012 / R013 / R030

CORE = {"cel:v1", "evm:read", "evm:call", "solana:read", "solana:instruction", "bitcoin:psbt"}


def test_r010_engine_capability_ids_use_namespace_colon_name() -> None:
    """R010: every capability id aisc declares has the ``<namespace>:<name>`` shape."""
    bad = [c for c in ENGINE_CAPABILITIES if not re.fullmatch(r"[a-z0-9_]+:[a-z0-9_]+", c)]
    assert bad == []


def test_r018_core_capability_set() -> None:
    """R018: the legacy aliases map onto exactly the six core ids; aisc supports every core id that
    has an executor (all but bitcoin:psbt, see docs)."""
    assert set(ALIASES.values()) == CORE
    assert CORE - {"bitcoin:psbt"} <= set(ENGINE_CAPABILITIES)


def test_r012_unknown_engine_capability_ids_are_ignored(compile_ws: Callable[..., Result]) -> None:
    """R012: an unknown id in the engine's set changes nothing unless a document requires it."""
    wf = workflow(node("q", query="balance", args={"owner": B}))
    base = compile_ws(wf, options=Options(created_at=CREATED))
    extra = compile_ws(wf, options=Options(created_at=CREATED,
                                           capabilities=(*ENGINE_CAPABILITIES, "vendor:teleport", "zz:unknown")))
    assert base.plan is not None and extra.plan is not None
    assert extra.error_codes == set()
    assert plan_text(base.plan) == plan_text(extra.plan)


def test_r013_signing_is_not_a_capability(compile_ws: Callable[..., Result]) -> None:
    """R013: a write compiles with only the core call capabilities; no wallet/signing capability exists."""
    assert not [c for c in ENGINE_CAPABILITIES if "wallet" in c or "sign" in c]
    r = compile_ws(workflow(_approve()), options=Options(created_at=CREATED, capabilities=("cel:v1", "evm:call")))
    assert r.plan is not None, sorted(r.error_codes)


def test_r030_missing_capabilities_reported_as_one_structured_error(compile_ws: Callable[..., Result]) -> None:
    """R030: missing capabilities are a structured validation error (code, path, span) listing every
    missing id; no plan is produced."""
    proto = deep(PROTOCOL)
    proto["capabilities_required"] = ["cel:v1", "evm:call", "zk:prove", "oracle:price"]
    r = compile_ws(workflow(node("q", query="balance", args={"owner": B})), protocol=proto)
    assert r.plan is None
    errs = [d for d in r.diags if d.code == "AISC-CAP-001"]
    assert len(errs) == 1
    assert "oracle:price" in errs[0].message and "zk:prove" in errs[0].message
    assert errs[0].path == "$.nodes[0].protocol" and errs[0].span is not None and errs[0].hint


def test_r030_per_target_checks_name_the_first_node_of_the_target(compile_ws: Callable[..., Result]) -> None:
    """R030: the capability check runs once per target, on ``Workspace.targets`` (the first node of
    each protocol, node type, target and chain), not on every node. Three nodes use one query on two
    chains (one execution key): the single AISC-CAP-001 names the first of them, as it did when
    every node was walked."""
    proto = deep(PROTOCOL)
    proto["capabilities_required"] = ["cel:v1", "evm:call", "zk:prove"]
    wf = workflow(node("q1", query="balance", args={"owner": B}, chain="eip155:8453"),
                  node("q2", query="balance", args={"owner": B}),
                  node("q3", query="balance", args={"owner": B}, chain="eip155:8453"), pack=False)
    r = compile_ws(wf, protocol=proto)
    errs = [d for d in r.diags if d.code == "AISC-CAP-001"]
    assert [d.path for d in errs] == ["$.nodes[0].protocol"]
    ws = r.comp.workspace
    assert [n.id for n in ws.targets] == ["q1", "q2"]
    assert ws.targets[0] is ws.nodes[0] and ws.targets[1] is ws.nodes[1]


# ------------------------------------------------------------------ R093


def test_workspace_lists_the_nodes_with_extensions(compile_ws: Callable[..., Result]) -> None:
    """``Workspace.with_extensions``: the nodes whose data has an ``extensions`` key, in node order
    (the compensation pass reads only these instead of every node's data)."""
    wf = workflow(node("q1", query="balance", args={"owner": B}),
                  node("q2", query="balance", args={"owner": B}, extensions={"vendor": {"x": "1"}}),
                  node("q3", query="balance", args={"owner": B}),
                  node("q4", query="balance", args={"owner": B}, extensions={}), pack=False)
    r = compile_ws(wf)
    assert r.plan is not None, sorted(r.error_codes)
    ws = r.comp.workspace
    assert ws.with_extensions == [ws.nodes[1], ws.nodes[3]]


def test_r093_extensions_do_not_change_execution(compile_ws: Callable[..., Result]) -> None:
    """R093: adding extensions to the protocol (root, action, execution spec) and the workflow node
    leaves every plan node's execution, bindings, deps and chain unchanged."""
    wf = workflow(_approve())
    plain = compile_ws(wf)
    proto = deep(PROTOCOL)
    proto["extensions"] = {"vendor": {"gas_limit": "1"}}
    proto["actions"]["approve"]["extensions"] = {"vendor": {"risk_level": 5, "skip_policy": True}}
    proto["actions"]["approve"]["execution"]["eip155:*"]["extensions"] = {"vendor": {"to": "0x00"}}
    wf2 = deep(wf)
    wf2["nodes"][0]["extensions"] = {"vendor": {"chain": "eip155:8453"}}
    ext = compile_ws(wf2, protocol=proto)
    assert plain.plan is not None and ext.plan is not None, sorted(ext.error_codes)
    keys = ("id", "chain", "kind", "execution", "bindings", "deps", "writes", "condition")

    def semantic(n: dict[str, Any]) -> dict[str, Any]:
        out = {k: n.get(k) for k in keys}
        out["execution"] = {k: v for k, v in n["execution"].items() if k != "extensions"}  # carried, inert
        return out

    assert ext.plan["nodes"][0]["execution"]["extensions"] == {"vendor": {"to": "0x00"}}
    assert [semantic(n) for n in plain.plan["nodes"]] == [semantic(n) for n in ext.plan["nodes"]]
    assert plain.plan["nodes"][0]["extensions"]["aisc"]["action"] == ext.plan["nodes"][0]["extensions"]["aisc"]["action"]


# ------------------------------------------------------------------ R190–R193, R230

A, N, G = "exact", "namespace", "global"
SELECT = [
    ("r191-exact", {"eip155:1": A, "eip155:*": N, "*": G}, "eip155:1", A),
    ("r191-namespace", {"eip155:10": A, "eip155:*": N, "*": G}, "eip155:1", N),
    ("r191-global", {"solana:*": N, "*": G}, "eip155:1", G),
    ("r193-exact-beats-global", {"*": G, "eip155:8453": A}, "eip155:8453", A),
    ("r193-namespace-beats-global-any-order", {"*": G, "eip155:*": N}, "eip155:8453", N),
    ("r230-solana-exact", {"solana:*": N, "solana:devnet": A, "*": G}, "solana:devnet", A),
    ("r230-solana-namespace", {"solana:*": N, "*": G}, "solana:mainnet", N),
    ("r230-solana-global", {"eip155:*": N, "*": G}, "solana:mainnet", G),
]


@pytest.mark.parametrize(("block", "chain", "want"), [c[1:] for c in SELECT], ids=[c[0] for c in SELECT])
def test_r190_r191_r193_r230_selection_precedence(block: dict[str, str], chain: str, want: str) -> None:
    """R190/R191/R193/R230: exact CAIP-2 key, then ``<namespace>:*``, then ``*``."""
    assert select_execution(block, chain) == want


NO_MATCH = [
    ("r192-other-exact-never-matches", {"eip155:1": A}, "eip155:42161"),
    ("r192-no-partial-glob", {"eip155:4*": A, "eip*": N}, "eip155:42161"),
    ("r230-solana-no-match", {"eip155:*": N}, "solana:devnet"),
    ("r192-empty-block", {}, "eip155:1"),
]


@pytest.mark.parametrize(("block", "chain"), [c[1:] for c in NO_MATCH], ids=[c[0] for c in NO_MATCH])
def test_r192_r230_no_match_is_an_error(block: dict[str, str], chain: str) -> None:
    with pytest.raises(NoExecutionMatch, match="No execution matches chain"):
        select_execution(block, chain)


def test_r191_r193_compiled_node_uses_the_most_specific_block(compile_ws: Callable[..., Result]) -> None:
    """R191/R193 end to end: the plan node for eip155:8453 takes the exact block, eip155:1 the namespace one."""
    proto = deep(PROTOCOL)
    q = proto["queries"]["balance"]
    generic = q["execution"]["eip155:*"]
    exact = deep(generic)
    exact["abi"]["name"] = "balanceOfOnBase"
    q["execution"] = {"*": deep(generic), "eip155:8453": exact, "eip155:*": generic}
    wf = workflow(node("q1", query="balance", args={"owner": B}),
                  node("q8453", query="balance", args={"owner": B}, chain="eip155:8453"), pack=False)
    r = compile_ws(wf, protocol=proto)
    assert r.plan is not None, sorted(r.error_codes)
    names = {n["id"]: n["execution"]["abi"]["name"] for n in r.plan["nodes"]}
    assert names == {"q1": "balanceOf", "q8453": "balanceOfOnBase"}


def test_r192_compile_fails_when_no_block_matches(compile_ws: Callable[..., Result]) -> None:
    """R192 end to end: no implicit default; the node's chain has no block → AISC-WF-009."""
    wf = workflow(node("d", "deposit", args={"amount": {"lit": "1"}}), pack=False)  # deposit is solana-only
    r = compile_ws(wf)
    assert r.plan is None and "AISC-WF-009" in r.error_codes


# ------------------------------------------------------------------ R312 / R314


def test_r312_node_ids_must_be_unique(compile_ws: Callable[..., Result]) -> None:
    """R312: composed node ids are unique (a duplicate is a compile error)."""
    wf = workflow(node("q", query="balance", args={"owner": B}), node("q", query="balance", args={"owner": B}))
    r = compile_ws(wf)
    assert r.plan is None and "AISC-WF-001" in r.error_codes


def test_r314_cross_chain_nodes_have_explicit_chain_and_deps(compile_ws: Callable[..., Result]) -> None:
    """R314: a cross-chain workflow compiles to nodes that each carry their own chain, ordered by deps."""
    wf = workflow(node("src", query="balance", args={"owner": B}),
                  node("dst", query="balance", args={"owner": B}, chain="eip155:8453", deps=["src"]), pack=False)
    r = compile_ws(wf)
    assert r.plan is not None, sorted(r.error_codes)
    by_id = {n["id"]: n for n in r.plan["nodes"]}
    assert by_id["src"]["chain"] == "eip155:1" and by_id["dst"]["chain"] == "eip155:8453"
    assert by_id["dst"]["deps"] == ["src"]
