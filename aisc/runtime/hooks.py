"""Governance hooks: let an outside policy layer watch a run, veto it or ask for a pause.

A hook is any object with some of these methods (all optional)::

    pre_execution(plan, context)                 -> decision   # before the first node runs
    pre_step(node, resolved_inputs, context)     -> decision   # before each node executes
    on_step_result(node, result, context)        -> None       # after each node attempt
    on_workflow_complete(run_id, summary, context) -> None     # when the run ends (any status)
    on_panic(run_id, reason, context)            -> None       # abnormal end (see docs/durability.md)

``plan`` is the plan JSON, ``node`` the plan node JSON, ``resolved_inputs`` the node's evaluated
params, ``result`` ``{"ok": bool, "outputs"|"error": ...}``. A decision is ``None``/``True``/
``"allow"`` (go on), ``False``/``"veto"`` (refuse: the step or run is blocked, category
``policy_blocked``), ``"pause"`` (stop and wait for a confirmation), a ``{"decision", "reason"}``
mapping or a :class:`HookDecision`. When several hooks answer, a veto beats a pause beats allow. A
``pre_*`` hook that raises counts as a veto (fail closed); an ``on_*`` hook that raises is recorded
and ignored.

Hooks come from the ``aisc.hooks`` entry-point group (every installed plugin) and from
``--hooks module:object`` (an object, a class to instantiate, or a zero-argument factory).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import attrs

from aisc.reprs import install_reprs

ENTRY_POINT_GROUP = "aisc.hooks"
HOOK_METHODS = ("pre_execution", "pre_step", "on_step_result", "on_workflow_complete", "on_panic")
Action = Literal["allow", "veto", "pause"]
_RANK = {"allow": 0, "pause": 1, "veto": 2}


class HookLoadError(Exception):
    def __init__(self, spec: str, message: str) -> None:
        super().__init__(f"{spec}: {message}")
        self.spec = spec
        self.message = message


@attrs.frozen(repr=False)
class HookDecision:
    action: Action = "allow"
    reason: str = ""
    hook: str = ""

    @property
    def allowed(self) -> bool:
        return self.action == "allow"

    def to_json(self) -> dict[str, Any]:
        return {"decision": self.action, "reason": self.reason, "hook": self.hook}


ALLOW = HookDecision()


def veto(reason: str) -> HookDecision:
    return HookDecision("veto", reason)


def pause(reason: str) -> HookDecision:
    return HookDecision("pause", reason)


def _normalize(value: Any, hook: str) -> HookDecision:
    if value is None or value is True:
        return HookDecision("allow", "", hook)
    if value is False:
        return HookDecision("veto", "refused by governance hook", hook)
    if isinstance(value, HookDecision):
        return attrs.evolve(value, hook=value.hook or hook)
    if isinstance(value, str) and value in _RANK:
        return HookDecision(value, "" if value == "allow" else f"{value} requested by governance hook", hook)  # type: ignore[arg-type]
    if isinstance(value, Mapping):
        act = value.get("decision", value.get("action"))
        if act in _RANK:
            reason = value.get("reason")
            return HookDecision(act, str(reason) if reason is not None else f"{act} requested by governance hook",
                                hook)
    return HookDecision("veto", f"governance hook returned an unknown decision {value!r:.80}", hook)


def _load_object(spec: str) -> Any:
    mod_name, _, attr = spec.partition(":")
    if not mod_name or not attr:
        raise HookLoadError(spec, "expected 'package.module:object'")
    try:
        obj: Any = importlib.import_module(mod_name)
    except ImportError as e:
        raise HookLoadError(spec, f"cannot import {mod_name}: {e}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise HookLoadError(spec, f"{mod_name} has no attribute {attr!r}") from None
    return _instantiate(obj, spec)


def _instantiate(obj: Any, spec: str) -> Any:
    if any(callable(getattr(obj, m, None)) for m in HOOK_METHODS) and not isinstance(obj, type):
        return obj
    if callable(obj):
        try:
            made = obj()
        except Exception as e:
            raise HookLoadError(spec, f"creating the hook failed: {type(e).__name__}: {e}") from None
        if any(callable(getattr(made, m, None)) for m in HOOK_METHODS):
            return made
    raise HookLoadError(spec, f"not a hook: it has none of {', '.join(HOOK_METHODS)}")


class HookSet:
    """An ordered set of named hooks with the five calls (decisions combined, errors contained)."""

    def __init__(self, hooks: Sequence[tuple[str, Any]] = (),
                 on_error: Callable[[str, str, BaseException], None] | None = None) -> None:
        self.hooks = list(hooks)
        self.on_error = on_error

    def __bool__(self) -> bool:
        return bool(self.hooks)

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.hooks]

    @classmethod
    def load(cls, specs: Sequence[str] = (), *, plugins: bool = True) -> HookSet:
        """Hooks from the ``aisc.hooks`` entry points (when ``plugins``) then from ``specs``."""
        hooks: list[tuple[str, Any]] = []
        if plugins:
            from importlib.metadata import entry_points

            for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
                try:
                    obj = ep.load()
                except Exception as e:
                    raise HookLoadError(f"entry point {ep.name}", f"cannot load {ep.value}: {e}") from None
                hooks.append((ep.name, _instantiate(obj, f"entry point {ep.name}")))
        for spec in specs:
            hooks.append((spec, _load_object(spec)))
        return cls(hooks)

    def _decide(self, method: str, *args: Any) -> HookDecision:
        best = ALLOW
        for name, hook in self.hooks:
            fn = getattr(hook, method, None)
            if not callable(fn):
                continue
            try:
                d = _normalize(fn(*args), name)
            except Exception as e:  # fail closed
                self._error(name, method, e)
                d = HookDecision("veto", f"governance hook failed: {type(e).__name__}: {e}", name)
            if _RANK[d.action] > _RANK[best.action]:
                best = d
        return best

    def _notify(self, method: str, *args: Any) -> None:
        for name, hook in self.hooks:
            fn = getattr(hook, method, None)
            if not callable(fn):
                continue
            try:
                fn(*args)
            except Exception as e:
                self._error(name, method, e)

    def _error(self, name: str, method: str, exc: BaseException) -> None:
        if self.on_error is not None:
            self.on_error(name, method, exc)

    def pre_execution(self, plan: Mapping[str, Any], context: Mapping[str, Any]) -> HookDecision:
        return self._decide("pre_execution", plan, context)

    def pre_step(self, node: Mapping[str, Any], resolved_inputs: Mapping[str, Any],
                 context: Mapping[str, Any]) -> HookDecision:
        return self._decide("pre_step", node, resolved_inputs, context)

    def on_step_result(self, node: Mapping[str, Any], result: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        self._notify("on_step_result", node, result, context)

    def on_workflow_complete(self, run_id: str, summary: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        self._notify("on_workflow_complete", run_id, summary, context)

    def on_panic(self, run_id: str, reason: str, context: Mapping[str, Any]) -> None:
        self._notify("on_panic", run_id, reason, context)


install_reprs(__name__)
