"""Capabilities (R014, R015, R017, R029): what the used actions require ⊆ what the engine supports.

Capability ids are case-sensitive (R011). The upstream examples spell several core ids the old way
(SPEC-MAP D2); :data:`ALIASES` maps exactly those strings to their canonical ids. An alias is
accepted with a warning (``AISC-CAP-002``) that names the canonical spelling; anything else that
the engine does not support is an error (``AISC-CAP-001``) listing every missing id, before any
plan is produced (R029, R030).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs

from aisc.diagnostics import Diagnostic
from aisc.passes import _refs
from aisc.passes.model import Analysis, NodeInfo, Options, Workspace, pk

#: Legacy spellings found in the upstream examples → canonical ids (D2). Exact, case-sensitive keys.
ALIASES: dict[str, str] = {
    "cel_v1": "cel:v1",
    "evm_read": "evm:read",
    "evm_call": "evm:call",
    "solana_read": "solana:read",
    "solana_instruction": "solana:instruction",
    "bitcoin_psbt": "bitcoin:psbt",
}

#: What aisc's runtime supports (R018 core set without bitcoin:psbt, which has no executor; R019).
ENGINE_CAPABILITIES: tuple[str, ...] = (
    "cel:v1",
    "evm:read",
    "evm:call",
    "solana:read",
    "solana:instruction",
    "detect:choose_one",
    "cel_builtin:derive_ata",
)

#: Execution types → the capability an engine needs to run them.
EXECUTION_CAPABILITY: dict[str, str] = {
    "evm_read": "evm:read",
    "evm_multiread": "evm:read",
    "evm_call": "evm:call",
    "evm_multicall": "evm:call",
    "solana_read": "solana:read",
    "solana_instruction": "solana:instruction",
    "bitcoin_psbt": "bitcoin:psbt",
}

MAX_UINT256_RE = re.compile(r"\bMAX_UINT256\b")
MAX_UINT256_DEC = str((1 << 256) - 1)


def canonical(cap: str) -> str:
    return ALIASES.get(cap, cap)


def check_capabilities(ws: Workspace, an: Analysis, options: Options) -> list[Diagnostic]:
    """Every capability a used protocol/action/detect requires must be supported (aliases per D2)."""
    engine = set(options.capabilities if options.capabilities is not None else ENGINE_CAPABILITIES)
    engine |= _pack_detect_caps(ws)
    diags: list[Diagnostic] = []
    used: set[str] = set()
    seen_targets: set[tuple[str, str | None, str | None]] = set()
    for n in an.rich_args:  # the only nodes whose arguments can hold a detect
        diags.extend(_detect_caps(n, engine, ws))
    for n in ws.targets:  # the first node of each target: the one a diagnostic names
        if n.protocol_doc is None or n.target is None:
            continue
        key = (n.protocol, n.target_name, n.spec_key)
        if key in seen_targets:
            continue
        seen_targets.add(key)
        doc = n.protocol_doc
        needs = doc.remember(("capability_needs", n.is_action, n.target_name, n.spec_key), _target_needs, n)
        missing: list[str] = []
        for cap, canon, path in needs.required:
            used.add(canon)
            if canon != cap:
                diags.append(Diagnostic(
                    code="AISC-CAP-002", severity="warning",
                    message=f'capability "{cap}" is a legacy spelling of "{canon}" (accepted as an alias)',
                    path=path, span=doc.span(path), hint=f'write "{canon}"'))
            if canon not in engine:
                missing.append(canon)
        if missing:
            diags.append(Diagnostic(
                code="AISC-CAP-001",
                message=f'{n.protocol}/{n.target_name} requires capabilities this engine does not support '
                f"(R014, R029): {', '.join(sorted(set(missing)))}",
                path=f"{n.path}.protocol", span=ws.workflow.span(f"{n.path}.protocol"),
                hint="supported: " + ", ".join(sorted(engine))
                + "; use another protocol, or run on an engine that supports them (--capability)"))
        for t, cap in needs.executions:
            if cap not in engine:
                diags.append(Diagnostic(
                    code="AISC-CAP-003",
                    message=f'{n.protocol}/{n.target_name} runs "{t}", which needs capability "{cap}" (R014)',
                    path=f"{n.path}.protocol", span=ws.workflow.span(f"{n.path}.protocol"),
                    hint="this engine cannot execute it; pick another action or chain"))
        if "cel:max_uint256" not in engine:  # not an AIS CEL identifier (D11) unless the engine declares it
            for path in needs.max_uint256:
                diags.append(Diagnostic(
                    code="AISC-CAP-004",
                    message=f"{n.protocol}/{n.target_name} uses MAX_UINT256, which AIS CEL does not define (D11)",
                    path=path, span=doc.span(path),
                    hint=f'use the literal {MAX_UINT256_DEC} or pow(2, 256) - 1'))
    an.capabilities_used = sorted(used)
    return diags


@attrs.frozen
class _Needs:
    """What an action/query needs of the engine, as it runs on one chain: the capabilities it
    declares (as written, canonical, $-path), the capability of each execution type it runs, and
    where its CEL uses ``MAX_UINT256``. From the protocol alone, so remembered on its document."""

    required: tuple[tuple[str, str, str], ...]
    executions: tuple[tuple[str, str], ...]
    max_uint256: tuple[str, ...]


def _target_needs(n: NodeInfo) -> _Needs:
    assert n.protocol_doc is not None and n.target is not None
    required = [(cap, canonical(cap), f"$.capabilities_required[{j}]")
                for j, cap in enumerate(_strs(n.protocol_doc.get("capabilities_required")))]
    required += [(cap, canonical(cap), f"{n.target_path}.capabilities_required[{j}]")
                 for j, cap in enumerate(_strs(n.target.get("capabilities_required")))]
    executions: list[tuple[str, str]] = []
    if n.spec is not None:
        types = [n.spec.get("type")]
        if n.spec.get("type") == "composite":
            types = [s.get("execution", {}).get("type") for s in n.spec.get("steps") or [] if isinstance(s, dict)]
        for t in types:
            cap = EXECUTION_CAPABILITY.get(str(t))
            if cap is not None:
                executions.append((str(t), cap))
    max_uint256 = tuple(path for path, expr in _target_cel(n) if MAX_UINT256_RE.search(expr))
    return _Needs(tuple(required), tuple(executions), max_uint256)


def _target_cel(n: NodeInfo) -> list[tuple[str, str]]:
    """``($-path, CEL text)`` of every expression in the action/query a node uses, as it runs on the
    node's chain."""
    assert n.target is not None
    base = n.target_path or "$"
    out: list[tuple[str, str]] = []
    cf = n.target.get("calculated_fields")
    if isinstance(cf, dict):
        for name, fdef in cf.items():
            if isinstance(fdef, dict):
                out.extend(_cels(fdef.get("expr"), pk(f"{base}.calculated_fields", name) + ".expr"))
    hc = n.target.get("hard_constraints")
    if isinstance(hc, dict):
        for k, v in hc.items():
            out.extend(_cels(v, pk(f"{base}.hard_constraints", k)))
    if n.spec is not None:
        out.extend(_spec_cels(n.spec, pk(f"{base}.execution", n.spec_key)))
    return out


def _spec_cels(spec: Any, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(spec, dict):
        if _refs.is_vr(spec):
            yield from _cels(spec, path)
            return
        for k, v in spec.items():
            yield from _spec_cels(v, pk(path, k))
    elif isinstance(spec, list):
        for i, v in enumerate(spec):
            yield from _spec_cels(v, f"{path}[{i}]")


def _cels(vr: Any, path: str) -> Iterable[tuple[str, str]]:
    for tag, val, p in _refs.leaves(vr, "$"):
        if tag == "cel" and isinstance(val, str):
            yield path + p[1:], val


def _detect_caps(n: NodeInfo, engine: set[str], ws: Workspace) -> list[Diagnostic]:
    """R017: a workflow detect's requires_capabilities must be supported."""
    out: list[Diagnostic] = []
    for path, val in _refs.arg_detects(n):
        caps = [canonical(c) for c in _strs(val.get("requires_capabilities"))]
        missing = sorted(c for c in caps if c not in engine)
        if missing:
            out.append(Diagnostic(
                code="AISC-CAP-001",
                message=f"Detect requires missing capabilities: {', '.join(missing)} (R017)",
                path=path, span=ws.workflow.span(path),
                hint="supported: " + ", ".join(sorted(engine))))
    return out


def _pack_detect_caps(ws: Workspace) -> set[str]:
    """Detect kinds are provider-driven (R020): a kind the active pack enables a provider for is supported."""
    if ws.pack is None:
        return set()
    providers = ws.pack.get("providers")
    detect = providers.get("detect") if isinstance(providers, dict) else None
    enabled = detect.get("enabled") if isinstance(detect, dict) else None
    if not isinstance(enabled, list):
        return set()
    return {f"detect:{e['kind']}" for e in enabled if isinstance(e, dict) and isinstance(e.get("kind"), str)}


def _strs(v: Any) -> list[str]:
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []
