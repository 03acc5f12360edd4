"""The execution plan ``ais-plan/0.0.3``: frozen model, strict decoder, canonical encoder.

A :class:`Plan` is what the compiler emits and what the runtime executes. The runtime accepts any
plan that passes :func:`plan_from_json`, also one written by another AIS implementation, so the
decoder is strict (unknown fields rejected, no coercion: ``True`` is not an int, ``"5"`` is not an
int, ``1.0`` is not an int) and every error carries a ``$``-path.

Each node's ``execution`` stays the plain JSON object of the plan (ValueRefs unevaluated): backends
read it directly and evaluate its ValueRefs against the live runtime root. Core execution types
(``evm_call``, ``solana_instruction``, ...) are checked strictly against their schema arm; a plugin
type (any other ``type``) only needs a non-empty string ``type`` (SPEC-MAP D3).

Building a plan in code::

    Plan(nodes=(PlanNode(id="q", chain="eip155:1", kind="query_ref",
                         execution={"type": "evm_read", ...},
                         bindings=Bindings(params={"owner": Ref("ctx.wallet_address")})),),
         meta=PlanMeta(name="wf"))

``plan_to_json`` omits absent keys (never ``null``) and writes keys in schema order, which is the
order of the upstream golden plan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, overload

import attrs

from aisc.diagnostics import Diagnostic
from aisc.ir import valueref as vr
from aisc.ir.valueref import ValueRef
from aisc.reprs import install_reprs

PLAN_SCHEMA = "ais-plan/0.0.3"
NODE_KINDS = ("action_ref", "query_ref", "execution")
WRITE_MODES = ("set", "merge")
CHAIN_RE = re.compile(r"^(eip155|solana|cosmos|bip122|aptos|sui):[a-zA-Z0-9._-]+$")
STEP_ID_RE = re.compile(r"^[a-zA-Z0-9_-]+$")

NodeKind = Literal["action_ref", "query_ref", "execution"]
WriteMode = Literal["set", "merge"]

_ext = attrs.field(default=None, hash=False)


class PlanError(ValueError):
    """A plan that does not match ``ais-plan/0.0.3``. ``path`` is a ``$``-path into the plan JSON."""

    code = "AISC-PLAN-001"

    def __init__(self, message: str, path: str) -> None:
        super().__init__(f"{path}: {message}")
        self.message = message
        self.path = path

    def to_diagnostic(self, file: str | None = None) -> Diagnostic:
        where = f" in {file}" if file else ""
        return Diagnostic(
            code=self.code,
            message=f"invalid ais-plan/0.0.3{where}: {self.message}",
            path=self.path,
            hint="fix the plan (or recompile it with 'aisc compile'); "
            "the plan schema is schemas/0.0.2/plan.schema.json",
        )


# ------------------------------------------------------------------ model


@attrs.frozen(repr=False)
class PlanMeta:
    created_at: str | None = None
    name: str | None = None
    description: str | None = None
    extensions: Mapping[str, Any] | None = _ext


@attrs.frozen(repr=False)
class Retry:
    interval_ms: int
    max_attempts: int | None = None
    backoff: Literal["fixed"] | None = None
    extensions: Mapping[str, Any] | None = _ext


@attrs.frozen(repr=False)
class Bindings:
    params: Mapping[str, ValueRef] | None = attrs.field(default=None, hash=False)
    extensions: Mapping[str, Any] | None = _ext


@attrs.frozen(repr=False)
class Write:
    """A writeback target. ``mode`` absent means ``set`` (reference behaviour)."""

    path: str
    mode: WriteMode | None = None
    extensions: Mapping[str, Any] | None = _ext

    @property
    def effective_mode(self) -> WriteMode:
        return self.mode or "set"


@attrs.frozen(repr=False)
class SourceWorkflow:
    name: str
    version: str


@attrs.frozen(repr=False)
class Source:
    workflow: SourceWorkflow | None = None
    node_id: str | None = None
    protocol: str | None = None
    action: str | None = None
    query: str | None = None
    step_id: str | None = None
    extensions: Mapping[str, Any] | None = _ext


def _tuple_or_none(v: Sequence[Any] | None) -> tuple[Any, ...] | None:
    return None if v is None else tuple(v)


@attrs.frozen(repr=False)
class PlanNode:
    """One plan node. ``assert_`` is the plan's ``assert`` (a Python keyword)."""

    id: str
    chain: str
    kind: NodeKind
    execution: Mapping[str, Any] = attrs.field(hash=False)
    description: str | None = None
    deps: tuple[str, ...] | None = attrs.field(default=None, converter=_tuple_or_none)
    condition: ValueRef | None = None
    assert_: ValueRef | None = None
    assert_message: str | None = None
    until: ValueRef | None = None
    retry: Retry | None = None
    timeout_ms: int | None = None
    bindings: Bindings | None = None
    writes: tuple[Write, ...] | None = attrs.field(default=None, converter=_tuple_or_none)
    source: Source | None = None
    extensions: Mapping[str, Any] | None = _ext

    @property
    def execution_type(self) -> str:
        return str(self.execution["type"])

    @property
    def dep_ids(self) -> tuple[str, ...]:
        return self.deps or ()

    @property
    def params(self) -> Mapping[str, ValueRef]:
        """The binding params (empty when the node has none)."""
        if self.bindings is None or self.bindings.params is None:
            return {}
        return self.bindings.params

    @property
    def aisc_extensions(self) -> Mapping[str, Any]:
        """``extensions.aisc`` (the compiler's runtime hints; see docs/runtime.md), or ``{}``."""
        ext = (self.extensions or {}).get("aisc")
        return ext if isinstance(ext, Mapping) else {}


def _node_tuple(v: Sequence[PlanNode]) -> tuple[PlanNode, ...]:
    return tuple(v)


@attrs.frozen(repr=False)
class Plan:
    nodes: tuple[PlanNode, ...] = attrs.field(converter=_node_tuple)
    meta: PlanMeta | None = None
    extensions: Mapping[str, Any] | None = _ext
    schema: str = PLAN_SCHEMA

    def node(self, node_id: str) -> PlanNode:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def aisc_extensions(self) -> Mapping[str, Any]:
        ext = (self.extensions or {}).get("aisc")
        return ext if isinstance(ext, Mapping) else {}


# ------------------------------------------------------------------ decoding


def plan_from_json(obj: Any, *, check_executions: bool = True) -> Plan:
    """Strictly decode a plan JSON object. Raises :class:`PlanError` (with a ``$``-path).

    Beyond the JSON schema it checks that node ids are unique and that every ``deps`` entry names a
    node of the plan (a runner cannot schedule anything else). With ``check_executions=False`` a
    node's ``execution`` only has to be an object: for callers that already ran
    :func:`check_execution` on every spec (the compiler's self-check does it once per distinct spec).
    """
    plan = _decode_plan(obj, check_executions, keep=True)
    assert plan is not None
    return plan


def check_plan_json(obj: Any, *, check_executions: bool = True,
                    checked_nodes: Sequence[tuple[str, Sequence[str]]] | CheckedNodes | None = None) -> None:
    """Exactly the checks of :func:`plan_from_json` (same errors, same order), keeping nothing: each
    node is decoded and dropped, so checking a large plan needs no second copy of it in memory.

    ``checked_nodes`` are the results of :func:`check_plan_node` for every node, in order, when a
    producer (the compiler) already checked each node as it built it: the nodes are then not decoded
    again, and only the rest of the plan and the checks across nodes (duplicate ids, unknown deps)
    run here. A :class:`CheckedNodes` that saw every node in order has done the checks across nodes
    already, unless one could fail.
    """
    _decode_plan(obj, check_executions, keep=False, checked=checked_nodes)


class CheckedNodes:
    """The nodes of a plan that :func:`check_plan_node` accepted, counted as a producer hands them
    over one at a time (the compiler, as lowering completes each), with the checks across nodes
    done on the way, while each id is still in the CPU caches.

    A node whose id is new and whose deps all name earlier nodes can fail neither check across
    nodes, and a plan in topological order (every plan the compiler writes) consists of such nodes
    only. Once a node is not one of them (a repeated id, a dep on a later or unknown node),
    ``in_order`` turns false and :func:`check_plan_json` runs the full checks across nodes at the
    end, so every error is the one, at the path, that it reports without this. Only the ids are
    kept (in a dict: for string keys it is less than half the size of a set), and only while the
    nodes are in order.
    """

    __slots__ = ("_ids", "count", "in_order")

    def __init__(self) -> None:
        self._ids: dict[str, None] = {}
        self.count = 0
        self.in_order = True

    def add(self, node_id: str, deps: Sequence[str]) -> None:
        """Count a node that :func:`check_plan_node` accepted, with the id and deps it returned."""
        self.count += 1
        if self.in_order:
            ids = self._ids
            if node_id in ids or any(d not in ids for d in deps):
                self.in_order = False
                self._ids = {}  # not needed any more
            else:
                ids[node_id] = None


def check_plan_node(obj: Any, index: int, *, check_execution_spec: bool = True) -> tuple[str, Sequence[str]]:
    """The decoder's checks of one plan node (``$.nodes[index]``); returns its id and deps. Nothing
    is built: the checks are those of :func:`plan_from_json`, without its objects."""
    _node(obj, f"$.nodes[{index}]", check_execution_spec, build=False)
    return _id_deps(obj)


def _id_deps(obj: Mapping[str, Any]) -> tuple[str, Sequence[str]]:
    """A checked node's id and deps (the checked list of ids itself)."""
    deps = obj.get("deps")
    return obj["id"], deps if deps else ()


def _decode_plan(obj: Any, check_executions: bool, *, keep: bool,
                 checked: Sequence[tuple[str, Sequence[str]]] | CheckedNodes | None = None) -> Plan | None:
    m = _obj(obj, "$")
    _keys(m, "$", _PLAN_KEYS, _PLAN_REQUIRED)
    if m["schema"] != PLAN_SCHEMA:
        raise PlanError(f'schema must be "{PLAN_SCHEMA}", got {_show(m["schema"])}', "$.schema")
    meta = _meta(m["meta"], "$.meta") if "meta" in m else None
    nodes_raw = m["nodes"]
    if not isinstance(nodes_raw, list):
        raise PlanError(f"nodes must be a list, got {_kind(nodes_raw)}", "$.nodes")
    kept: list[PlanNode] = []
    if checked is None:
        decoded: list[tuple[str, Sequence[str]]] = []
        for i, n in enumerate(nodes_raw):
            if keep:
                node = _node(n, f"$.nodes[{i}]", check_executions)
                kept.append(node)
                decoded.append((node.id, node.dep_ids))
            else:
                decoded.append(check_plan_node(n, i, check_execution_spec=check_executions))
        _check_across(decoded)
    else:
        count = checked.count if isinstance(checked, CheckedNodes) else len(checked)
        if count != len(nodes_raw):
            raise PlanError(f"{len(nodes_raw)} nodes, but {count} were checked", "$.nodes")
        if not isinstance(checked, CheckedNodes):
            _check_across(checked)
        elif not checked.in_order:  # else done node by node as they were handed over
            _check_across([_id_deps(n) for n in nodes_raw])
    ext = _extensions(m["extensions"], "$.extensions") if "extensions" in m else None
    return Plan(nodes=tuple(kept), meta=meta, extensions=ext) if keep else None


def _check_across(checked: Sequence[tuple[str, Sequence[str]]]) -> None:
    """Unique node ids; every dep names a node of the plan."""
    seen: dict[str, int] = {}
    for i, (node_id, _) in enumerate(checked):
        if node_id in seen:
            raise PlanError(f'duplicate node id "{node_id}" (also nodes[{seen[node_id]}])', f"$.nodes[{i}].id")
        seen[node_id] = i
    for i, (_, dep_ids) in enumerate(checked):
        for j, d in enumerate(dep_ids):
            if d not in seen:
                raise PlanError(f'deps names unknown node "{d}"', f"$.nodes[{i}].deps[{j}]")


_PLAN_KEYS = frozenset({"schema", "meta", "nodes", "extensions"})
_PLAN_REQUIRED = frozenset({"schema", "nodes"})
_NO_KEYS: frozenset[str] = frozenset()
_META_KEYS = frozenset({"created_at", "name", "description", "extensions"})


def _meta(obj: Any, p: str) -> PlanMeta:
    m = _obj(obj, p)
    _keys(m, p, _META_KEYS, _NO_KEYS)
    return PlanMeta(
        created_at=_opt_str(m, "created_at", p),
        name=_opt_str(m, "name", p),
        description=_opt_str(m, "description", p),
        extensions=_extensions(m["extensions"], f"{p}.extensions") if "extensions" in m else None,
    )


_NODE_KEYS = frozenset({
    "id", "chain", "kind", "description", "deps", "condition", "assert", "assert_message", "until",
    "retry", "timeout_ms", "bindings", "execution", "writes", "source", "extensions",
})
_NODE_REQUIRED = frozenset({"id", "chain", "kind", "execution"})


@overload
def _node(obj: Any, p: str, check_exec: bool = ..., *, build: Literal[True] = ...) -> PlanNode: ...
@overload
def _node(obj: Any, p: str, check_exec: bool = ..., *, build: bool) -> PlanNode | None: ...


def _node(obj: Any, p: str, check_exec: bool = True, *, build: bool = True) -> PlanNode | None:
    """Check one plan node and build its :class:`PlanNode`; with ``build=False`` only check it (the
    same checks in the same order, no objects: checking a node costs half as much)."""
    m = _obj(obj, p)
    _keys(m, p, _NODE_KEYS, _NODE_REQUIRED)
    node_id = m["id"]
    if not isinstance(node_id, str):
        _str(node_id, f"{p}.id")
    chain = m["chain"]
    if not (isinstance(chain, str) and chain in _CHAINS_OK):
        chain = _chain(chain, f"{p}.chain")
    kind = m["kind"]
    if kind not in NODE_KINDS:
        raise PlanError(f"kind must be one of {', '.join(NODE_KINDS)}, got {_show(kind)}", f"{p}.kind")
    deps = None
    if "deps" in m:
        raw = m["deps"]
        if not isinstance(raw, list):
            raise PlanError(f"deps must be a list of node ids, got {_kind(raw)}", f"{p}.deps")
        for j, d in enumerate(raw):
            if not isinstance(d, str):
                _str(d, f"{p}.deps[{j}]")
        deps = tuple(raw)
    retry = _retry(m["retry"], f"{p}.retry", build) if "retry" in m else None
    bindings = _bindings(m["bindings"], f"{p}.bindings", build) if "bindings" in m else None
    writes = None
    if "writes" in m:
        raw = m["writes"]
        if not isinstance(raw, list):
            raise PlanError(f"writes must be a list, got {_kind(raw)}", f"{p}.writes")
        writes = [_write(w, f"{p}.writes[{j}]", build) for j, w in enumerate(raw)]
    execution = m["execution"]
    if type(execution) is not dict:
        execution = _obj(execution, f"{p}.execution")
    if check_exec:
        check_execution(execution, f"{p}.execution")
    description = _opt_str(m, "description", p)
    condition = _vr(m["condition"], f"{p}.condition", build) if "condition" in m else None
    assert_ = _vr(m["assert"], f"{p}.assert", build) if "assert" in m else None
    assert_message = _opt_str(m, "assert_message", p)
    until = _vr(m["until"], f"{p}.until", build) if "until" in m else None
    timeout_ms = _pos_int(m["timeout_ms"], f"{p}.timeout_ms") if "timeout_ms" in m else None
    source = _source(m["source"], f"{p}.source", build) if "source" in m else None
    extensions = _extensions(m["extensions"], f"{p}.extensions") if "extensions" in m else None
    if not build:
        return None
    return PlanNode(
        id=node_id, chain=chain, kind=kind, execution=execution, description=description, deps=deps,
        condition=condition, assert_=assert_, assert_message=assert_message, until=until, retry=retry,
        timeout_ms=timeout_ms, bindings=bindings, writes=writes, source=source, extensions=extensions,
    )


_RETRY_KEYS = frozenset({"interval_ms", "max_attempts", "backoff", "extensions"})
_RETRY_REQUIRED = frozenset({"interval_ms"})
_BINDINGS_KEYS = frozenset({"params", "extensions"})
_WRITE_KEYS = frozenset({"path", "mode", "extensions"})
_WRITE_REQUIRED = frozenset({"path"})
_SOURCE_KEYS = frozenset({"workflow", "node_id", "protocol", "action", "query", "step_id", "extensions"})
_SOURCE_WF_KEYS = frozenset({"name", "version"})

# The helpers below check one part of a node and, when ``build`` is true, return its object
# (None otherwise).


def _retry(obj: Any, p: str, build: bool = True) -> Retry | None:
    m = _obj(obj, p)
    _keys(m, p, _RETRY_KEYS, _RETRY_REQUIRED)
    backoff = m.get("backoff")
    if "backoff" in m and backoff != "fixed":
        raise PlanError(f'backoff must be "fixed", got {_show(backoff)}', f"{p}.backoff")
    interval_ms = _pos_int(m["interval_ms"], f"{p}.interval_ms")
    max_attempts = _pos_int(m["max_attempts"], f"{p}.max_attempts") if "max_attempts" in m else None
    extensions = _extensions(m["extensions"], f"{p}.extensions") if "extensions" in m else None
    if not build:
        return None
    return Retry(interval_ms=interval_ms, max_attempts=max_attempts, backoff="fixed" if "backoff" in m else None,
                 extensions=extensions)


def _bindings(obj: Any, p: str, build: bool = True) -> Bindings | None:
    if not build and _plain_bindings(obj):
        return None
    m = _obj(obj, p)
    _keys(m, p, _BINDINGS_KEYS, _NO_KEYS)
    params = None
    if "params" in m:
        raw = _obj(m["params"], f"{p}.params")
        if build:
            params = {}
            for k, v in raw.items():
                got = _fast_vr(v)
                params[str(k)] = got if got is not None else _vr(v, f"{p}.params.{k}")
        else:
            for k, v in raw.items():
                if not _plain_vr(v):
                    _vr(v, f"{p}.params.{k}")
    extensions = _extensions(m["extensions"], f"{p}.extensions") if "extensions" in m else None
    return Bindings(params=params, extensions=extensions) if build else None


def _write(obj: Any, p: str, build: bool = True) -> Write | None:
    m = _obj(obj, p)
    _keys(m, p, _WRITE_KEYS, _WRITE_REQUIRED)
    mode = m.get("mode")
    if "mode" in m and mode not in WRITE_MODES:
        raise PlanError(f"mode must be set or merge, got {_show(mode)}", f"{p}.mode")
    path = _str(m["path"], f"{p}.path")
    extensions = _extensions(m["extensions"], f"{p}.extensions") if "extensions" in m else None
    return Write(path=path, mode=mode, extensions=extensions) if build else None


def _source(obj: Any, p: str, build: bool = True) -> Source | None:
    if not build and _plain_source(obj):
        return None
    m = _obj(obj, p)
    _keys(m, p, _SOURCE_KEYS, _NO_KEYS)
    wf = None
    if "workflow" in m:
        w = _obj(m["workflow"], f"{p}.workflow")
        _keys(w, f"{p}.workflow", _SOURCE_WF_KEYS, _SOURCE_WF_KEYS)
        name = _str(w["name"], f"{p}.workflow.name")
        version = _str(w["version"], f"{p}.workflow.version")
        if build:
            wf = SourceWorkflow(name=name, version=version)
    node_id = _opt_str(m, "node_id", p)
    protocol = _opt_str(m, "protocol", p)
    action = _opt_str(m, "action", p)
    query = _opt_str(m, "query", p)
    step_id = _opt_str(m, "step_id", p)
    extensions = _extensions(m["extensions"], f"{p}.extensions") if "extensions" in m else None
    if not build:
        return None
    return Source(workflow=wf, node_id=node_id, protocol=protocol, action=action, query=query, step_id=step_id,
                  extensions=extensions)


def _plain_source(m: Any) -> bool:
    """Whether ``m`` is a ``source`` the check below accepts, in the shape lowering writes (plain
    dicts, string fields, no ``extensions``), tested in one loop; anything else takes the full check,
    which reports the error."""
    if type(m) is not dict or not m.keys() <= _SOURCE_KEYS:
        return False
    for k, v in m.items():
        if k == "workflow":
            if not (type(v) is dict and v.keys() == _SOURCE_WF_KEYS and type(v["name"]) is str
                    and type(v["version"]) is str):
                return False
        elif type(v) is not str or k == "extensions":
            return False
    return True


def _plain_bindings(m: Any) -> bool:
    """Whether ``m`` is ``{params: {name: one-key ValueRef, ...}}`` with every ValueRef one that
    :func:`_plain_vr` accepts (the check-only shortcut of :func:`_bindings`)."""
    if type(m) is not dict or len(m) != 1:
        return False
    params = m.get("params")
    if type(params) is not dict:
        return False
    for v in params.values():  # noqa: SIM110 - a loop: all() over a generator costs more per call
        if not _plain_vr(v):
            return False
    return True


# ------------------------------------------------------------------ execution specs (D3: dispatch on type)

_V = "valueref"
_VMAP = "valueref-map"
_EXT = "extensions"
# type -> (allowed field -> checker tag, required fields)
_ARMS: dict[str, tuple[dict[str, str], set[str]]] = {
    "evm_read": ({"type": "", "to": _V, "abi": "abi", "args": _VMAP, "extensions": _EXT},
                 {"type", "to", "abi", "args"}),
    "evm_multiread": ({"type": "", "method": "multiread_method", "calls": "multiread_calls", "extensions": _EXT},
                      {"type", "method", "calls"}),
    "evm_call": ({"type": "", "to": _V, "abi": "abi", "args": _VMAP, "value": _V, "extensions": _EXT},
                 {"type", "to", "abi", "args"}),
    "evm_multicall": ({"type": "", "to": _V, "calls": "multicall_calls", "deadline": _V, "extensions": _EXT},
                      {"type", "to", "calls"}),
    "composite": ({"type": "", "steps": "steps", "extensions": _EXT}, {"type", "steps"}),
    "solana_instruction": (
        {"type": "", "program": _V, "instruction": "str", "discriminator": _V, "accounts": "accounts",
         "data": _V, "compute_units": _V, "lookup_tables": _V, "extensions": _EXT},
        {"type", "program", "instruction", "accounts", "data"},
    ),
    "solana_read": ({"type": "", "method": "nonempty_str", "params": _V, "extensions": _EXT}, {"type", "method"}),
    "bitcoin_psbt": ({"type": "", "script_type": "script_type", "mapping": _VMAP, "extensions": _EXT},
                     {"type", "script_type", "mapping"}),
}


def check_execution(obj: Mapping[str, Any], p: str) -> None:
    """Check one execution spec: strict for core types, ``{type: non-empty string, ...}`` otherwise."""
    t = obj.get("type")
    if not isinstance(t, str) or not t:
        raise PlanError("execution needs a non-empty string 'type'", f"{p}.type")
    arm = _ARMS.get(t)
    if arm is None:
        return
    allowed, required = arm
    _keys(obj, p, set(allowed), required)
    for k, v in obj.items():
        tag = allowed[k]
        if tag:
            _check_field(tag, v, f"{p}.{k}")


def _check_field(tag: str, v: Any, p: str) -> None:
    if tag == _V:
        _vr(v, p, False)
    elif tag == _VMAP:
        for k, x in _obj(v, p).items():
            _vr(x, f"{p}.{k}", False)
    elif tag == _EXT:
        _extensions(v, p)
    elif tag == "str":
        _str(v, p)
    elif tag == "nonempty_str":
        if not isinstance(v, str) or not v:
            raise PlanError(f"expected a non-empty string, got {_kind(v)}", p)
    elif tag == "abi":
        _abi(v, p)
    elif tag == "multiread_method":
        if v not in ("multicall3", "rpc_batch"):
            raise PlanError(f"method must be multicall3 or rpc_batch, got {_show(v)}", p)
    elif tag == "script_type":
        if v not in ("p2wpkh", "p2tr", "p2sh", "p2wsh"):
            raise PlanError(f"script_type must be one of p2wpkh, p2tr, p2sh, p2wsh, got {_show(v)}", p)
    elif tag == "multiread_calls":
        for i, c in enumerate(_list(v, p)):
            cp = f"{p}[{i}]"
            cm = _obj(c, cp)
            _keys(cm, cp, {"id", "to", "abi", "args", "extensions"}, {"id", "to", "abi", "args"})
            _str(cm["id"], f"{cp}.id")
            _vr(cm["to"], f"{cp}.to", False)
            _abi(cm["abi"], f"{cp}.abi")
            _check_field(_VMAP, cm["args"], f"{cp}.args")
            if "extensions" in cm:
                _extensions(cm["extensions"], f"{cp}.extensions")
    elif tag == "multicall_calls":
        for i, c in enumerate(_list(v, p)):
            cp = f"{p}[{i}]"
            cm = _obj(c, cp)
            _keys(cm, cp, {"abi", "args", "condition", "extensions"}, {"abi", "args"})
            _abi(cm["abi"], f"{cp}.abi")
            _check_field(_VMAP, cm["args"], f"{cp}.args")
            if "condition" in cm:
                _vr(cm["condition"], f"{cp}.condition", False)
            if "extensions" in cm:
                _extensions(cm["extensions"], f"{cp}.extensions")
    elif tag == "accounts":
        for i, a in enumerate(_list(v, p)):
            ap = f"{p}[{i}]"
            am = _obj(a, ap)
            _keys(am, ap, {"name", "pubkey", "signer", "writable", "extensions"},
                  {"name", "pubkey", "signer", "writable"})
            _str(am["name"], f"{ap}.name")
            for k in ("pubkey", "signer", "writable"):
                _vr(am[k], f"{ap}.{k}", False)
            if "extensions" in am:
                _extensions(am["extensions"], f"{ap}.extensions")
    elif tag == "steps":
        steps = _list(v, p)
        if not steps:
            raise PlanError("a composite needs at least one step", p)
        for i, s in enumerate(steps):
            sp = f"{p}[{i}]"
            sm = _obj(s, sp)
            _keys(sm, sp, {"id", "description", "condition", "chain", "execution", "extensions"},
                  {"id", "execution"})
            sid = _str(sm["id"], f"{sp}.id")
            if not STEP_ID_RE.match(sid):
                raise PlanError(f"step id {sid!r} must match [a-zA-Z0-9_-]+", f"{sp}.id")
            if "description" in sm:
                _str(sm["description"], f"{sp}.description")
            if "condition" in sm:
                _vr(sm["condition"], f"{sp}.condition", False)
            if "chain" in sm:
                _chain(sm["chain"], f"{sp}.chain")
            check_execution(_obj(sm["execution"], f"{sp}.execution"), f"{sp}.execution")
            if "extensions" in sm:
                _extensions(sm["extensions"], f"{sp}.extensions")
    else:  # pragma: no cover - table and checker are edited together
        raise AssertionError(tag)


def _abi(v: Any, p: str) -> None:
    m = _obj(v, p)
    _keys(m, p, {"type", "name", "inputs", "outputs"}, {"type", "name", "inputs"})
    if m["type"] != "function":
        raise PlanError(f'abi.type must be "function", got {_show(m["type"])}', f"{p}.type")
    _str(m["name"], f"{p}.name")
    for k in ("inputs", "outputs"):
        if k in m:
            for i, param in enumerate(_list(m[k], f"{p}.{k}")):
                _abi_param(param, f"{p}.{k}[{i}]")


def _abi_param(v: Any, p: str) -> None:
    m = _obj(v, p)
    _keys(m, p, {"name", "type", "components"}, {"name", "type"})
    _str(m["name"], f"{p}.name")
    _str(m["type"], f"{p}.type")
    if "components" in m:
        for i, c in enumerate(_list(m["components"], f"{p}.components")):
            _abi_param(c, f"{p}.components[{i}]")


# ------------------------------------------------------------------ small strict helpers


def _obj(v: Any, p: str) -> dict[str, Any]:
    if type(v) is dict:
        return v
    if not isinstance(v, Mapping):
        raise PlanError(f"expected an object, got {_kind(v)}", p)
    return v if isinstance(v, dict) else dict(v)


def _list(v: Any, p: str) -> list[Any]:
    if not isinstance(v, list):
        raise PlanError(f"expected a list, got {_kind(v)}", p)
    return v


def _keys(m: Mapping[str, Any], p: str, allowed: frozenset[str] | set[str],
          required: frozenset[str] | set[str]) -> None:
    keys = m.keys()
    if keys <= allowed and required <= keys:
        return
    for k in m:
        if k not in allowed:
            raise PlanError(f"unknown field '{k}' (allowed: {', '.join(sorted(allowed))})", f"{p}.{k}")
    for k in sorted(required):
        if k not in m:
            raise PlanError(f"missing required field '{k}'", f"{p}.{k}")


def _str(v: Any, p: str) -> str:
    if not isinstance(v, str):
        raise PlanError(f"expected a string, got {_kind(v)}", p)
    return v


def _opt_str(m: Mapping[str, Any], key: str, p: str) -> str | None:
    if key not in m:
        return None
    v = m[key]
    return v if isinstance(v, str) else _str(v, f"{p}.{key}")


# Chain ids already matched by CHAIN_RE (plans repeat a handful of chains on every node).
_CHAINS_OK: set[str] = set()


def _chain(v: Any, p: str) -> str:
    s = _str(v, p)
    if s in _CHAINS_OK:
        return s
    if not CHAIN_RE.match(s):
        raise PlanError(f"chain {s!r} is not a CAIP-2 id (e.g. eip155:1, solana:<genesis>)", p)
    if type(s) is str and len(_CHAINS_OK) < 1024:
        _CHAINS_OK.add(s)
    return s


def _pos_int(v: Any, p: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise PlanError(f"expected a positive integer, got {_kind(v)}", p)
    if v <= 0:
        raise PlanError(f"expected a positive integer, got {v}", p)
    return v


def _extensions(v: Any, p: str) -> dict[str, Any]:
    return _obj(v, p)


def _fast_vr(v: Any) -> ValueRef | None:
    """The common one-key ``lit``/``ref``/``cel`` ValueRefs without building a path; None otherwise.

    Returns exactly what :func:`aisc.ir.valueref.from_json` returns for them; anything else (and every
    invalid value) goes through ``from_json`` so errors keep their messages and paths.
    """
    if not _plain_vr(v):
        return None
    tag, val = next(iter(v.items()))
    return _PLAIN[tag](val)


_PLAIN: dict[str, Callable[[Any], ValueRef]] = {"ref": vr.Ref, "lit": vr.Lit, "cel": vr.Cel}


def _plain_vr(v: Any) -> bool:
    """Whether ``v`` is a one-key ``lit``, or a ``ref``/``cel`` with a non-empty string: the ValueRefs
    :func:`_fast_vr` builds, and the check-only decoder accepts without building."""
    if type(v) is not dict or len(v) != 1:
        return False
    for tag, val in v.items():
        return tag == "lit" or (tag in ("ref", "cel") and type(val) is str and val != "")
    return False


@overload
def _vr(v: Any, p: str, build: Literal[True] = ...) -> ValueRef: ...
@overload
def _vr(v: Any, p: str, build: bool) -> ValueRef | None: ...


def _vr(v: Any, p: str, build: bool = True) -> ValueRef | None:
    if not build and _plain_vr(v):
        return None
    got = _fast_vr(v)
    if got is not None:
        return got
    try:
        return vr.from_json(v, p)
    except vr.ValueRefError as e:
        raise PlanError(str(e), e.path) from None


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, Mapping):
        return "an object"
    return f"a {type(v).__name__}"


def _show(v: Any) -> str:
    return repr(v) if isinstance(v, str) else _kind(v)


# ------------------------------------------------------------------ encoding


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The plain JSON form: absent keys omitted (never ``null``), keys in schema order."""
    out: dict[str, Any] = {"schema": plan.schema}
    if plan.meta is not None:
        out["meta"] = _meta_json(plan.meta)
    out["nodes"] = [node_to_json(n) for n in plan.nodes]
    if plan.extensions is not None:
        out["extensions"] = dict(plan.extensions)
    return out


def _meta_json(m: PlanMeta) -> dict[str, Any]:
    d: dict[str, Any] = {}
    _put(d, "created_at", m.created_at)
    _put(d, "name", m.name)
    _put(d, "description", m.description)
    if m.extensions is not None:
        d["extensions"] = dict(m.extensions)
    return d


def node_to_json(n: PlanNode) -> dict[str, Any]:
    d: dict[str, Any] = {"id": n.id, "chain": n.chain, "kind": n.kind}
    _put(d, "description", n.description)
    if n.deps is not None:
        d["deps"] = list(n.deps)
    if n.condition is not None:
        d["condition"] = vr.to_json(n.condition)
    if n.assert_ is not None:
        d["assert"] = vr.to_json(n.assert_)
    _put(d, "assert_message", n.assert_message)
    if n.until is not None:
        d["until"] = vr.to_json(n.until)
    if n.retry is not None:
        r: dict[str, Any] = {"interval_ms": n.retry.interval_ms}
        _put(r, "max_attempts", n.retry.max_attempts)
        _put(r, "backoff", n.retry.backoff)
        if n.retry.extensions is not None:
            r["extensions"] = dict(n.retry.extensions)
        d["retry"] = r
    _put(d, "timeout_ms", n.timeout_ms)
    if n.bindings is not None:
        b: dict[str, Any] = {}
        if n.bindings.params is not None:
            b["params"] = {k: vr.to_json(v) for k, v in n.bindings.params.items()}
        if n.bindings.extensions is not None:
            b["extensions"] = dict(n.bindings.extensions)
        d["bindings"] = b
    d["execution"] = dict(n.execution)
    if n.writes is not None:
        ws = []
        for w in n.writes:
            wd: dict[str, Any] = {"path": w.path}
            _put(wd, "mode", w.mode)
            if w.extensions is not None:
                wd["extensions"] = dict(w.extensions)
            ws.append(wd)
        d["writes"] = ws
    if n.source is not None:
        d["source"] = _source_json(n.source)
    if n.extensions is not None:
        d["extensions"] = dict(n.extensions)
    return d


def _source_json(s: Source) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if s.workflow is not None:
        d["workflow"] = {"name": s.workflow.name, "version": s.workflow.version}
    _put(d, "node_id", s.node_id)
    _put(d, "protocol", s.protocol)
    _put(d, "action", s.action)
    _put(d, "query", s.query)
    _put(d, "step_id", s.step_id)
    if s.extensions is not None:
        d["extensions"] = dict(s.extensions)
    return d


def _put(d: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        d[key] = value


def validate_plan(plan: Plan) -> Plan:
    """Run the strict decoder over a plan built in code; returns the re-decoded plan or raises."""
    return plan_from_json(plan_to_json(plan))


# ------------------------------------------------------------------ canonical text and hash

_DEC_MARK = "\x00DEC:"
_DEC_RE = re.compile(r'"\\u0000DEC:(-?[0-9.]+)"')


def exact_json(obj: Any, *, indent: int | None = None) -> str:
    """JSON with sorted keys and exact numbers: a :class:`~aisc.numeric.Dec` is written as its exact
    decimal text, tuples as arrays. Compact (no spaces) without ``indent``."""
    separators = (",", ":") if indent is None else None
    text = json.dumps(obj, sort_keys=True, indent=indent, separators=separators, ensure_ascii=False,
                      default=_json_default)
    if "\\u0000DEC:" in text:
        text = _DEC_RE.sub(lambda m: m.group(1), text)
    return text


def _json_default(v: Any) -> Any:
    from aisc.numeric import Dec, format_decimal

    if isinstance(v, Dec):
        return _DEC_MARK + format_decimal(v)
    if isinstance(v, tuple):
        return list(v)
    raise TypeError(f"not JSON-serializable in a plan: {type(v).__name__}")


def plan_hash(plan: Mapping[str, Any]) -> str:
    """``0x`` + keccak256 of the plan's canonical JSON, without ``meta.created_at`` and
    ``extensions.aisc.plan_hash`` itself. The one rule for ``aisc compile``'s hash and the run store's.

    Canonical JSON here = sorted keys, no whitespace, UTF-8, exact numbers: the JCS text for every
    value a plan holds (strings, integers, booleans, objects, arrays; decimals as their exact text).
    """
    from aisc.keccak import keccak256_hex

    out = dict(plan)
    meta = dict(out.get("meta") or {})
    meta.pop("created_at", None)
    out["meta"] = meta
    ext = out.get("extensions")
    if isinstance(ext, Mapping) and isinstance(ext.get("aisc"), Mapping):
        out["extensions"] = {**ext, "aisc": {k: v for k, v in ext["aisc"].items() if k != "plan_hash"}}
    return "0x" + keccak256_hex(exact_json(out).encode("utf-8"))


install_reprs(__name__)
