"""Plan builders and a scripted command source for the runtime tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aisc.backends.fake import FakeBackend
from aisc.backends.registry import BackendRegistry
from aisc.ir.plan import plan_from_json
from aisc.runtime.engine import Engine, RunOptions, RunResult
from aisc.runtime.events import ListSink

CHAIN = "eip155:31337"
ABI = {"type": "function", "name": "f", "inputs": []}


def read(nid: str, **over: Any) -> dict[str, Any]:
    n: dict[str, Any] = {"id": nid, "chain": CHAIN, "kind": "query_ref",
                         "execution": {"type": "evm_read", "to": {"lit": "0x01"}, "abi": ABI, "args": {}}}
    n.update(over)
    return n


def write(nid: str, fn: str = "doit", args: Mapping[str, Any] | None = None, **over: Any) -> dict[str, Any]:
    abi = {"type": "function", "name": fn, "inputs": [{"name": k, "type": "uint256"} for k in (args or {})]}
    n: dict[str, Any] = {"id": nid, "chain": CHAIN, "kind": "action_ref",
                         "execution": {"type": "evm_call", "to": {"lit": "0x00000000000000000000000000000000000000c0"},
                                       "abi": abi, "args": dict(args or {})}}
    n.update(over)
    return n


def plan(*nodes: dict[str, Any], extensions: Mapping[str, Any] | None = None) -> Any:
    p: dict[str, Any] = {"schema": "ais-plan/0.0.3", "nodes": list(nodes)}
    if extensions is not None:
        p["extensions"] = dict(extensions)
    return plan_from_json(p)


class Commands:
    """Feeds a fixed list of commands; None when exhausted. Records what it saw."""

    def __init__(self, cmds: Sequence[Mapping[str, Any]]) -> None:
        self.cmds = list(cmds)
        self.seen: list[list[Mapping[str, Any]]] = []

    def next_command(self, paused: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        self.seen.append(list(paused))
        return self.cmds.pop(0) if self.cmds else None


def run(p: Any, script: Mapping[str, Any] | None = None, *, backend: FakeBackend | None = None,
        inputs: Mapping[str, Any] | None = None, ctx: Mapping[str, Any] | None = None,
        commands: Commands | None = None, **opts: Any) -> tuple[RunResult, ListSink, FakeBackend]:
    be = backend or FakeBackend(script)
    reg = BackendRegistry()
    reg.register(be)
    sink = ListSink()
    eng = Engine(p, reg, inputs=inputs, ctx=ctx, options=RunOptions(run_id="test-run", **opts), sink=sink,
                 commands=commands)
    return eng.run(), sink, be
