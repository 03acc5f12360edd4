"""Every example document loads, structures and passes protocol semantics; raw specs are verbatim."""

from __future__ import annotations

import glob
import json
import os
import sys

import pytest

from aisc.frontend import load_file, load_paths, load_text, span_at
from aisc.ir.execution import Composite, EvmCall, PluginExecution
from aisc.ir.protocol import Protocol
from aisc.ir.workflow import Workflow
from aisc.numeric import Dec
from aisc.passes.protocol_semantics import check_protocol

EX = "/work/shared/ais/examples"
EXAMPLES = sorted(glob.glob(f"{EX}/*.yaml")) + sorted(glob.glob(f"{EX}/plan-skeleton/*.json"))
KIND_BY_SUFFIX = {".ais.yaml": "protocol", ".ais-pack.yaml": "pack", ".ais-flow.yaml": "workflow", ".json": "plan_skeleton"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[os.path.basename(p) for p in EXAMPLES])
def test_example_loads_clean(path: str) -> None:
    doc = load_file(path)
    assert doc.diagnostics == []
    expected = next(k for s, k in KIND_BY_SUFFIX.items() if path.endswith(s))
    assert doc.kind == expected
    assert doc.document is not None
    if isinstance(doc.document, Protocol):
        assert check_protocol(doc.document) == []


def test_examples_count() -> None:
    assert len(glob.glob(f"{EX}/*.yaml")) == 11
    assert len(EXAMPLES) == 14


def test_load_paths_walks_directories_sorted() -> None:
    docs = load_paths([EX])
    files = [d.file for d in docs]
    assert files == sorted(files)
    assert f"{EX}/plan-skeleton/swap.json" in files
    assert not any(f.endswith(".md") for f in files)


def test_load_paths_missing_path() -> None:
    docs = load_paths(["/nonexistent/x.ais.yaml"])
    assert [d.diagnostics[0].code for d in docs] == ["AISC-LOAD-001"]


def test_execution_raw_is_verbatim_source() -> None:
    """The compiler copies execution specs verbatim into plans (golden plan test)."""
    doc = load_file(f"{EX}/uniswap-v3.ais.yaml")
    proto = doc.document
    assert isinstance(proto, Protocol)
    for aid, action in proto.actions.items():
        for pattern, spec in action.execution.items():
            assert spec.raw == doc.raw["actions"][aid]["execution"][pattern]
            assert spec.raw is doc.raw["actions"][aid]["execution"][pattern]


def test_golden_protocol_shapes() -> None:
    text = """schema: "ais/0.0.2"
meta: { protocol: "demo", version: "0.0.2" }
deployments:
  - chain: "eip155:1"
    contracts: { router: "0x1111111111111111111111111111111111111111" }
actions:
  do:
    description: "demo"
    risk_level: 1
    params:
      - { name: "x", type: "uint256", description: "x" }
    execution:
      "eip155:*":
        type: composite
        steps:
          - id: approve
            description: approve
            execution:
              type: evm_call
              to: { ref: "contracts.router" }
              abi: { type: "function", name: "approve", inputs: [{ name: "x", type: "uint256" }], outputs: [] }
              args: { x: { ref: "params.x" } }
          - id: swap
            execution: { type: evm_call, to: { ref: contracts.router }, abi: { type: function, name: swap, inputs: [], outputs: [] }, args: {} }
"""
    doc = load_text(text, "demo.ais.yaml")
    assert doc.diagnostics == []
    spec = doc.document.actions["do"].execution["eip155:*"]
    assert isinstance(spec, Composite)
    step = spec.steps[0]
    assert isinstance(step.execution, EvmCall)
    assert step.execution.raw == {
        "type": "evm_call",
        "to": {"ref": "contracts.router"},
        "abi": {"type": "function", "name": "approve", "inputs": [{"name": "x", "type": "uint256"}], "outputs": []},
        "args": {"x": {"ref": "params.x"}},
    }
    assert step.execution.args["x"].span is not None
    assert (step.execution.args["x"].span.line, step.execution.args["x"].span.col) == (22, 33)
    assert span_at(doc, '$.actions.do.execution["eip155:*"].steps[1].id').line == 23  # type: ignore[union-attr]
    assert span_at(doc, "$.actions.do.params[0].type").col == 28  # type: ignore[union-attr]
    assert span_at(doc, "$.actions.nope") is None
    assert span_at(doc, "$.actions.nope.x", nearest=True).line == 7  # type: ignore[union-attr]


def test_plugin_execution_keeps_open_fields() -> None:
    text = 'schema: "ais/0.0.2"\nmeta: {protocol: a, version: "1.0.0"}\ndeployments: []\nactions:\n  x:\n' \
           "    description: d\n    risk_level: 2\n    execution:\n      \"*\": {type: evm_rpc, method: eth_getBalance, " \
           "params: {array: []}, anything: [1, 2.5]}\n"
    doc = load_text(text, "a.ais.yaml")
    spec = doc.document.actions["x"].execution["*"]
    assert isinstance(spec, PluginExecution)
    assert spec.type == "evm_rpc"
    assert spec.fields == {"method": "eth_getBalance", "params": {"array": []}, "anything": [1, Dec(25, 1)]}


YAML_TRAPS = [
    ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"), ("010", "010"), ("1_000", "1_000"),
    ("12:30", "12:30"), ("2024-01-01", "2024-01-01"), ("0x1F", "0x1F"), ("0o17", "0o17"), ("Yes", "Yes"),
    ("true", True), ("False", False), ("null", None), ("~", None), ("", None), ("42", 42), ("-7", -7), ("+3", 3),
    ("0", 0), ("1.05", Dec(105, 2)), ("1.0", 1), ("2.5e3", 2500), ("1.5e-3", Dec(15, 4)), (".5", Dec(5, 1)),
    ('"1.05"', "1.05"), ("'true'", "true"), ("!!str 12", "12"),
    ("123456789012345678901234567890123456789012345678901234567890", 123456789012345678901234567890123456789012345678901234567890),
]


@pytest.mark.parametrize(("src", "value"), YAML_TRAPS, ids=[t[0] or "empty" for t in YAML_TRAPS])
def test_yaml12_scalars_exact(src: str, value: object) -> None:
    """YAML 1.1 traps stay strings; numbers are exact (never float)."""
    doc = load_text(f"v: {src}\n", "t.yaml")
    got = doc.raw["v"]
    assert got == value and type(got) is type(value)


def test_json_numbers_exact() -> None:
    doc = load_text('{"a": 1.10, "b": 10, "c": 1e2, "d": -0.5, "e": "1.5", "f": true}', "t.json")
    assert doc.raw == {"a": Dec(11, 1), "b": 10, "c": 100, "d": Dec(-5, 1), "e": "1.5", "f": True}
    assert type(doc.raw["f"]) is bool
    json.dumps({k: v for k, v in doc.raw.items() if not isinstance(v, Dec)})


def test_alias_expansion_within_bounds() -> None:
    doc = load_text("a: &x {k: [1, 2]}\nb: *x\n", "t.yaml")
    assert doc.raw == {"a": {"k": [1, 2]}, "b": {"k": [1, 2]}}


def test_alias_data_is_shared_not_copied() -> None:
    """An alias attaches the anchored node's data itself (expansion stays bounded in memory)."""
    doc = load_text("a: &x {k: [1, {m: 2}]}\nb: *x\nc: [*x, *x]\n", "t.yaml")
    assert doc.raw["a"] is doc.raw["b"] is doc.raw["c"][0] is doc.raw["c"][1]
    assert doc.node is not None and doc.node.entries["b"].value is doc.raw["b"]  # type: ignore[attr-defined]


def test_plain_data_matches_the_positioned_tree() -> None:
    """Every container's plain value is the same object its parent holds; mapping keys are interned."""
    doc = load_text("top:\n  - {name: one, args: {x: {lit: 1}}}\n  - [a, {b: c}]\nempty: {}\n", "t.yaml")

    def walk(node: object) -> None:
        entries = getattr(node, "entries", None)
        items = getattr(node, "items", None)
        if entries is not None:
            assert list(node.value) == list(entries)  # type: ignore[attr-defined]
            for k, child in entries.items():
                assert node.value[k] is child.value  # type: ignore[attr-defined]
                assert k is sys.intern(k)
                walk(child)
        elif items is not None:
            for i, child in enumerate(items):
                assert node.value[i] is child.value  # type: ignore[attr-defined]
                walk(child)

    walk(doc.node)
    assert doc.raw == {"top": [{"name": "one", "args": {"x": {"lit": 1}}}, ["a", {"b": "c"}]], "empty": {}}
    assert next(iter(doc.raw["top"][0])) is "name"  # noqa: F632 - identity is the point: keys match code constants


def test_kind_hint_for_strings() -> None:
    doc = load_text('schema: "ais-flow/0.0.3"\nmeta: {name: w, version: "0.0.3"}\nnodes: []\n', "<inline>",
                    kind_hint="workflow")
    assert doc.kind == "workflow" and isinstance(doc.document, Workflow) and doc.diagnostics == []
