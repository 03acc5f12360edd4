"""Options shared by ``aisc run`` and ``aisc bridge``: run store, resume, trace, hooks, compensation.

Not a command (no ``HELP``): a helper of the commands layer. See docs/durability.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from aisc.diagnostics import Diagnostic


class DurabilityError(Exception):
    """A user-facing problem with the store, the hooks or a resume (rendered as a Diagnostic)."""

    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(code=self.code, message=self.message, hint=self.hint)


def add_arguments(parser: argparse.ArgumentParser, *, resume: bool = True) -> None:
    g = parser.add_argument_group("durability (docs/durability.md)")
    g.add_argument("--store", metavar="PATH", help="run store (SQLite; default $AISC_HOME/runs.db, ~/.aisc/runs.db)")
    g.add_argument("--no-store", action="store_true", help="keep no checkpoints (the run cannot be resumed)")
    if resume:
        g.add_argument("--resume", metavar="RUN_ID", help="resume a stored run (reconciles in-flight transactions first)")
    g.add_argument("--trace", metavar="PATH", help="append the run's events to a JSON-lines trace file")
    g.add_argument("--hooks", metavar="MODULE:OBJECT", action="append", default=[],
                   help="a governance hook to load (repeatable); plugins of the 'aisc.hooks' group load too")
    g.add_argument("--no-hook-plugins", action="store_true", help="do not load 'aisc.hooks' entry-point plugins")
    g.add_argument("--no-compensate", action="store_true",
                   help="do not run compensating actions when a run fails after writes")


def open_store(args: argparse.Namespace) -> Any:
    """The SqliteStore the options name, or None with ``--no-store``."""
    from aisc.runtime.store import SqliteStore, StoreError

    if getattr(args, "no_store", False):
        if getattr(args, "resume", None):
            raise DurabilityError("AISC-RESUME-001", "--resume needs the run store; drop --no-store",
                                  "resume reads the checkpoint from the store")
        return None
    try:
        return SqliteStore(args.store)
    except StoreError as e:
        raise DurabilityError(e.code, e.message, e.hint) from None


def load_hooks(args: argparse.Namespace) -> Any:
    from aisc.runtime.hooks import HookLoadError, HookSet

    try:
        return HookSet.load(list(args.hooks or ()), plugins=not args.no_hook_plugins)
    except HookLoadError as e:
        raise DurabilityError("AISC-HOOK-001", f"cannot load governance hook {e.spec}: {e.message}",
                              "pass --hooks package.module:object naming an importable hook object") from None


def launch_options(args: argparse.Namespace, config: Any) -> dict[str, Any]:
    """What the store keeps to resume the run later (config references, never key material)."""
    out: dict[str, Any] = {"config": config if isinstance(config, Mapping) else None,
                           "hooks": list(args.hooks or ()), "compensate": not args.no_compensate}
    return out


def engine_capabilities(ctx: Mapping[str, Any]) -> frozenset[str]:
    """What this engine supports (enables CEL extras such as ``derive_ata``) plus ``ctx.capabilities``."""
    from aisc.passes.capabilities import ENGINE_CAPABILITIES

    extra = ctx.get("capabilities")
    given = [c for c in extra if isinstance(c, str)] if isinstance(extra, list) else []
    return frozenset(ENGINE_CAPABILITIES) | frozenset(given)


def wants_simulation(plan: Any, flag: bool) -> bool:
    """``--simulate``, or any ``preflight.simulate`` switch the workflow turned on (R325).

    The compiler carries the workflow's ``preflight`` into ``plan.extensions.aisc.preflight``.
    """
    if flag:
        return True
    ext = (getattr(plan, "extensions", None) or {}).get("aisc")
    pre = ext.get("preflight") if isinstance(ext, Mapping) else None
    sim = pre.get("simulate") if isinstance(pre, Mapping) else None
    return isinstance(sim, Mapping) and any(v is True for v in sim.values())
