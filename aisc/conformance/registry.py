"""Which module checks which case kind.

Resolution order for a kind:

1. :data:`KIND_MODULES`, a static table (kind → module): the module must provide the kind; if the
   module is missing or lacks the kind the case *fails* ("not implemented yet"), because the kind is
   known to aisc.
2. :data:`PREFIX_MODULES` (``evm_`` → EVM handlers, ``solana_`` → Solana handlers).
3. The ``KINDS`` table of every module in :data:`SCAN_MODULES`.

A kind found nowhere is *unknown*. Handler modules are imported lazily, the first time a case of
one of their kinds runs, so a run of CEL vectors never imports eth_abi or solders. Each handler
module exposes ``KINDS: dict[str, KindHandler]``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Literal

import attrs

from aisc.conformance.outcome import KindHandler
from aisc.reprs import install_reprs

CORE = "aisc.conformance.kinds_core"
EVM = "aisc.conformance.kinds_evm"
SOLANA = "aisc.conformance.kinds_solana"
RUNTIME = "aisc.conformance.kinds_runtime"

HANDLER_MODULES: tuple[str, ...] = (CORE, EVM, SOLANA, RUNTIME)

KIND_MODULES: dict[str, str] = {
    "jcs_canonicalize": CORE,
    "cel_eval": CORE,
    "cel_eval_string": CORE,
    "cel_eval_error": CORE,
    "select_execution_spec": CORE,
    "select_execution_spec_error": CORE,
    "workflow_plan": CORE,
    "workflow_plan_error": CORE,
    "valueref_eval": CORE,
    "ais_value_validate": CORE,
    "evm_json_abi_encode": EVM,
    "policy_gate": RUNTIME,
    "patch_guard": RUNTIME,
    "json_codec": RUNTIME,
}
"""Kinds whose handler module is fixed. A missing handler for one of these is a failure."""

PREFIX_MODULES: tuple[tuple[str, str], ...] = (("evm_", EVM), ("solana_", SOLANA))
SCAN_MODULES: tuple[str, ...] = (RUNTIME,)

Status = Literal["ok", "unavailable", "unknown"]


@attrs.frozen(repr=False)
class Resolution:
    """The handler for a kind, or why there is none.

    ``ok``: ``handler`` is set. ``unavailable``: the kind belongs to aisc but its handler cannot be
    loaded (``detail`` says why; the case fails). ``unknown``: no module claims the kind.
    """

    kind: str
    status: Status
    handler: KindHandler | None = None
    module: str | None = None
    detail: str = ""


@attrs.frozen(repr=False)
class _Loaded:
    module: ModuleType | None
    error: str = ""
    missing: bool = False


_MODULES: dict[str, _Loaded] = {}
_RESOLVED: dict[str, Resolution] = {}


def load_module(name: str) -> tuple[ModuleType | None, str, bool]:
    """Import a handler module once: ``(module, error, missing)``.

    ``missing`` is true when the module itself does not exist (a feature not written yet), false
    when it exists but failed to import (``error`` says why).
    """
    got = _MODULES.get(name)
    if got is None:
        try:
            got = _Loaded(importlib.import_module(name))
        except ModuleNotFoundError as e:
            if e.name == name:
                got = _Loaded(None, f"not implemented yet: {name} missing", missing=True)
            else:
                got = _Loaded(None, f"importing {name} failed: {type(e).__name__}: {e}")
        except Exception as e:  # a broken handler module must not stop the other kinds
            got = _Loaded(None, f"importing {name} failed: {type(e).__name__}: {e}")
        _MODULES[name] = got
    return got.module, got.error, got.missing


def module_kinds(name: str) -> dict[str, KindHandler] | None:
    """The ``KINDS`` table of a handler module, or ``None`` when it is missing/broken."""
    mod, _, _ = load_module(name)
    if mod is None:
        return None
    kinds = getattr(mod, "KINDS", None)
    if not isinstance(kinds, dict):
        return None
    return kinds


def _from(kind: str, module: str, *, known: bool) -> Resolution:
    mod, error, missing = load_module(module)
    status: Status = "unavailable" if known else "unknown"
    if mod is None:
        # a module that exists but fails to import is a failure even for a prefix-routed kind
        return Resolution(kind, status if missing else "unavailable", None, module, error)
    kinds = getattr(mod, "KINDS", None)
    if not isinstance(kinds, dict):
        return Resolution(kind, "unavailable", None, module, f"{module} has no KINDS table")
    handler = kinds.get(kind)
    if handler is None:
        return Resolution(kind, status, None, module, f"not implemented yet: {module} has no handler for {kind!r}")
    return Resolution(kind, "ok", handler, module)


def resolve(kind: str) -> Resolution:
    """Find the handler for ``kind`` (cached)."""
    got = _RESOLVED.get(kind)
    if got is not None:
        return got
    module = KIND_MODULES.get(kind)
    if module is not None:
        got = _from(kind, module, known=True)
    else:
        got = None
        for prefix, mod_name in PREFIX_MODULES:
            if kind.startswith(prefix):
                got = _from(kind, mod_name, known=False)
                break
        if got is None or got.status == "unknown":
            for mod_name in SCAN_MODULES:
                kinds = module_kinds(mod_name)
                if kinds is not None and kind in kinds:
                    got = Resolution(kind, "ok", kinds[kind], mod_name)
                    break
        if got is None:
            got = Resolution(kind, "unknown", detail="no handler module claims this kind")
        elif got.status == "unknown":
            got = attrs.evolve(got, detail=f"no handler for this kind ({got.detail})")
    _RESOLVED[kind] = got
    return got


def module_for(kind: str) -> str:
    """The handler module that will run ``kind``, without importing anything: the static table, then
    the prefixes; any other kind is found by scanning (:data:`SCAN_MODULES`), reported as ``"scan"``."""
    module = KIND_MODULES.get(kind)
    if module is not None:
        return module
    for prefix, mod_name in PREFIX_MODULES:
        if kind.startswith(prefix):
            return mod_name
    return "scan"


def available_kinds() -> dict[str, str]:
    """Every kind a handler module provides right now (kind → module). Imports all handler modules."""
    out: dict[str, str] = {}
    for name in HANDLER_MODULES:
        kinds = module_kinds(name)
        for kind in kinds or {}:
            out.setdefault(kind, name)
    return out


def clear_cache() -> None:
    """Forget imported handler modules and resolutions (tests)."""
    _MODULES.clear()
    _RESOLVED.clear()


install_reprs(__name__)
