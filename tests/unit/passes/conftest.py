"""Fixtures for the compiler pass tests: a small workspace written to a temp folder and compiled.

``demo@0.0.2`` has an approve, a composite approve+swap, a transfer, a plugin action, a Solana
deposit and two queries; ``guard-pack`` includes it on eip155:1 with every policy knob set.
Documents are JSON text (valid YAML 1.2); tests edit the Python dicts and call :func:`compile_ws`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aisc.compiler import Compilation
from aisc.diagnostics import CompilationFailed, Diagnostic
from aisc.passes.model import Options

TOKEN = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
OTHER_TOKEN = "0x1111111111111111111111111111111111111111"
SPENDER = "0x2222222222222222222222222222222222222222"
MAX = str((1 << 256) - 1)

ASSET = {"chain_id": "eip155:1", "address": TOKEN, "symbol": "USDC", "decimals": 6}


def _evm(name: str, inputs: list[tuple[str, str]], args: dict[str, Any], to: Any = None) -> dict[str, Any]:
    return {
        "type": "evm_call",
        "to": to or {"ref": "params.token.address"},
        "abi": {"type": "function", "name": name, "inputs": [{"name": n, "type": t} for n, t in inputs],
                "outputs": []},
        "args": args,
    }


PROTOCOL: dict[str, Any] = {
    "schema": "ais/0.0.2",
    "meta": {"protocol": "demo", "version": "0.0.2"},
    "capabilities_required": ["cel:v1", "evm:call"],
    "deployments": [
        {"chain": "eip155:1", "contracts": {"router": "0x3333333333333333333333333333333333333333"}},
        {"chain": "eip155:8453", "contracts": {"router": "0x4444444444444444444444444444444444444444"}},
        {"chain": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", "contracts": {"prog": "11111111111111111111111111111111"}},
    ],
    "actions": {
        "approve": {
            "description": "approve", "risk_level": 2, "risk_tags": ["approval"],
            "params": [
                {"name": "token", "type": "asset", "description": "t"},
                {"name": "spender", "type": "address", "description": "s"},
                {"name": "amount", "type": "uint256", "description": "a"},
            ],
            "execution": {"eip155:*": _evm("approve", [("spender", "address"), ("amount", "uint256")],
                                           {"spender": {"ref": "params.spender"}, "amount": {"ref": "params.amount"}})},
        },
        "swap": {
            "description": "approve then swap", "risk_level": 2,
            "params": [
                {"name": "token", "type": "asset", "description": "t"},
                {"name": "amount", "type": "token_amount", "description": "a", "asset_ref": "token"},
                {"name": "slippage_bps", "type": "uint32", "description": "s", "default": "30"},
            ],
            "calculated_fields": {
                "amount_atomic": {"expr": {"cel": "to_atomic(params.amount, params.token)"},
                                  "inputs": ["params.amount", "params.token"]},
                "approval_atomic": {"expr": {"cel": "calculated.amount_atomic"}, "inputs": ["calculated.amount_atomic"]},
            },
            "hard_constraints": {"max_slippage_bps": {"ref": "params.slippage_bps"}},
            "execution": {"eip155:*": {"type": "composite", "steps": [
                {"id": "approve", "description": "approve",
                 "execution": _evm("approve", [("spender", "address"), ("amount", "uint256")],
                                   {"spender": {"ref": "contracts.router"},
                                    "amount": {"ref": "calculated.approval_atomic"}})},
                {"id": "swap", "description": "swap",
                 "execution": _evm("swapExactIn", [("amountIn", "uint256"), ("slippageBps", "uint32")],
                                   {"amountIn": {"ref": "calculated.amount_atomic"},
                                    "slippageBps": {"ref": "params.slippage_bps"}},
                                   to={"ref": "contracts.router"})},
            ]}},
        },
        "transfer": {
            "description": "transfer", "risk_level": 3,
            "params": [
                {"name": "token", "type": "asset", "description": "t"},
                {"name": "to", "type": "address", "description": "t"},
                {"name": "amount", "type": "uint256", "description": "a"},
            ],
            "execution": {"eip155:*": _evm("transfer", [("to", "address"), ("amount", "uint256")],
                                           {"to": {"ref": "params.to"}, "amount": {"ref": "params.amount"}})},
        },
        "rpc": {
            "description": "plugin call", "risk_level": 1,
            "params": [{"name": "address", "type": "address", "description": "a"}],
            "execution": {"eip155:*": {"type": "evm_rpc", "method": "eth_getBalance",
                                       "params": {"array": [{"ref": "params.address"}]}}},
        },
        "deposit": {
            "description": "solana deposit", "risk_level": 2,
            "params": [{"name": "amount", "type": "uint64", "description": "a"}],
            "execution": {"solana:*": {"type": "solana_instruction", "program": {"ref": "contracts.prog"},
                                       "instruction": "deposit", "accounts": [],
                                       "data": {"object": {"amount": {"ref": "params.amount"}}}}},
        },
    },
    "queries": {
        "balance": {
            "description": "balance",
            "params": [{"name": "owner", "type": "address", "description": "o"}],
            "returns": [{"name": "balance", "type": "uint256"}],
            "execution": {"eip155:*": {
                "type": "evm_read", "to": {"ref": "contracts.router"},
                "abi": {"type": "function", "name": "balanceOf", "inputs": [{"name": "owner", "type": "address"}],
                        "outputs": [{"name": "balance", "type": "uint256"}]},
                "args": {"owner": {"ref": "params.owner"}}}},
        },
        "quote": {
            "description": "quote with a detect",
            "params": [{"name": "owner", "type": "address", "description": "o"}],
            "returns": [{"name": "out", "type": "uint256"}],
            "execution": {"eip155:*": {
                "type": "evm_read", "to": {"ref": "contracts.router"},
                "abi": {"type": "function", "name": "quote", "inputs": [{"name": "fee", "type": "uint24"}],
                        "outputs": [{"name": "out", "type": "uint256"}]},
                "args": {"fee": {"detect": {"kind": "best_quote", "candidates": [{"lit": "500"}]}}}}},
        },
    },
}

PACK: dict[str, Any] = {
    "schema": "ais-pack/0.0.2",
    "meta": {"name": "guard-pack", "version": "1.0.0"},
    "includes": [{"protocol": "demo", "version": "0.0.2", "chain_scope": ["eip155:1"]}],
    "policy": {
        "approvals": {"auto_execute_max_risk_level": 2, "require_approval_min_risk_level": 3},
        "hard_constraints_defaults": {"max_slippage_bps": 50, "allow_unlimited_approval": False,
                                      "max_spend": "1000000", "max_approval": "2000000"},
    },
    "token_policy": {"resolution": {"require_allowlist_for_symbol_resolution": True},
                     "allowlist": [{"chain": "eip155:1", "symbol": "USDC", "address": TOKEN, "decimals": 6}]},
    "providers": {"detect": {"enabled": [{"kind": "best_quote", "provider": "p1", "chains": ["eip155:1"],
                                          "priority": 5}]}},
    "plugins": {"execution": {"enabled": [{"type": "evm_rpc", "chains": ["eip155:1"]}]}},
}


def node(id_: str, action: str | None = None, *, query: str | None = None, **kw: Any) -> dict[str, Any]:
    n: dict[str, Any] = {"id": id_, "type": "query_ref" if query else "action_ref", "protocol": "demo@0.0.2"}
    if query:
        n["query"] = query
    else:
        n["action"] = action
    n.update(kw)
    return n


def workflow(*nodes: dict[str, Any], pack: bool = True, **kw: Any) -> dict[str, Any]:
    wf: dict[str, Any] = {
        "schema": "ais-flow/0.0.3",
        "meta": {"name": "t", "version": "0.0.3"},
        "default_chain": "eip155:1",
        "imports": {"protocols": [{"protocol": "demo@0.0.2", "path": "demo.ais.yaml"}]},
        "inputs": {"amount": {"type": "uint256"}, "who": {"type": "address"}},
        "nodes": list(nodes),
    }
    if pack:
        wf["requires_pack"] = {"name": "guard-pack", "version": "1.0.0"}
    wf.update(kw)
    return wf


def lit_asset() -> dict[str, Any]:
    return {"lit": dict(ASSET)}


class Result:
    def __init__(self, plan: dict[str, Any] | None, diags: list[Diagnostic], comp: Compilation) -> None:
        self.plan = plan
        self.diags = diags
        self.comp = comp

    @property
    def codes(self) -> set[str]:
        return {d.code for d in self.diags if d.severity != "note"}

    @property
    def error_codes(self) -> set[str]:
        return {d.code for d in self.diags if d.is_error}

    def guards(self, plan_node_id: str) -> list[dict[str, Any]]:
        assert self.plan is not None
        n = next(x for x in self.plan["nodes"] if x["id"] == plan_node_id)
        return list(n.get("extensions", {}).get("aisc", {}).get("runtime_guards", []))

    def has(self, code: str) -> bool:
        return any(c.startswith(code) for c in self.codes)


@pytest.fixture
def compile_ws(tmp_path: Path) -> Callable[..., Result]:
    def run(wf: dict[str, Any] | str, *, protocol: dict[str, Any] | str | None = None,
            pack: dict[str, Any] | str | None = None, extra: dict[str, str] | None = None,
            options: Options | None = None, explicit_pack: bool = False) -> Result:
        files = {
            "flow.ais-flow.yaml": wf if isinstance(wf, str) else json.dumps(wf),
            "demo.ais.yaml": protocol if isinstance(protocol, str) else json.dumps(protocol or PROTOCOL),
            "guard.ais-pack.yaml": pack if isinstance(pack, str) else json.dumps(pack or PACK),
        }
        files.update(extra or {})
        for name, text in files.items():
            p = tmp_path / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text, encoding="utf-8")
        c = Compilation(tmp_path / "flow.ais-flow.yaml",
                        pack=(tmp_path / "guard.ais-pack.yaml") if explicit_pack else None,
                        options=options or Options(created_at="2020-01-01T00:00:00.000Z"))
        try:
            plan = c.plan
            return Result(plan, list(c.diagnostics), c)
        except CompilationFailed as e:
            return Result(None, list(e.diagnostics), c)

    return run


def deep(d: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(d)
