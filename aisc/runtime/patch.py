"""RuntimePatch: validation, the path guard and the audit summary (R290–R295, SPEC-MAP §7.7).

A patch is ``{op: set|merge, path, value, extensions?}``. The guard (always on for the
``apply_patches`` command) allows the roots ``inputs``, ``ctx``, ``contracts`` and ``policy`` by
default and denies ``nodes.*`` unless an ``allow_nodes_paths`` regex matches the full path.

Every application returns an audit: one entry per patch ``{index, op, path, status, reason?}``,
counts, the affected paths, ``partial_success`` and ``hash`` = sha256 of the compact JSON of the
entries (keys in that order), so a trace can be reconciled with the patches that produced it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

import attrs

from aisc import safe_regex
from aisc.reprs import install_reprs

RUNTIME_ROOTS = ("inputs", "params", "ctx", "query", "contracts", "calculated", "policy", "nodes")
DEFAULT_ALLOW_ROOTS = ("inputs", "ctx", "contracts", "policy")

_MISSING = object()


class RuntimePatchError(Exception):
    """A patch failed. ``code``: invalid_patch | guard_rejected | merge_type_error |
    invalid_guard_config | invalid_patches_input."""

    def __init__(self, code: str, message: str, *, index: int | None = None, path: str | None = None,
                 details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.index = index
        self.path = path
        self.details = dict(details or {})


@attrs.frozen(repr=False)
class GuardPolicy:
    enabled: bool = True
    allow_roots: tuple[str, ...] = DEFAULT_ALLOW_ROOTS
    allow_path_patterns: tuple[str, ...] = ()
    allow_nodes_paths: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "allow_roots": list(self.allow_roots),
            "allow_path_patterns": list(self.allow_path_patterns),
            "allow_nodes_paths": list(self.allow_nodes_paths),
        }


def build_guard_policy(config: Mapping[str, Any] | None = None) -> GuardPolicy:
    """A guard from plain config; empty arrays fall back to the defaults (R292)."""
    if config is None:
        return GuardPolicy()
    if not isinstance(config, Mapping):
        raise RuntimePatchError("invalid_guard_config", "guard config must be an object")
    allowed = {"enabled", "allow_roots", "allow_path_patterns", "allow_nodes_paths"}
    extra = sorted(set(config) - allowed)
    if extra:
        raise RuntimePatchError("invalid_guard_config", f"unknown guard field(s): {', '.join(extra)}")
    enabled = config.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuntimePatchError("invalid_guard_config", "guard.enabled must be a boolean")

    def strs(key: str) -> tuple[str, ...]:
        v = config.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise RuntimePatchError("invalid_guard_config", f"guard.{key} must be a list of strings")
        return tuple(v)

    roots = strs("allow_roots")
    return GuardPolicy(
        enabled=enabled,
        allow_roots=roots or DEFAULT_ALLOW_ROOTS,
        allow_path_patterns=strs("allow_path_patterns"),
        allow_nodes_paths=strs("allow_nodes_paths"),
    )


def _matches(patterns: Sequence[str], path: str) -> bool:
    """True when one of the guard's patterns matches ``path`` (a search). Patterns are run by
    :mod:`aisc.safe_regex`: an invalid or too long pattern, or one whose search times out, never
    matches (the guard fails closed)."""
    for p in patterns:
        try:
            if safe_regex.search(p, path):
                return True
        except safe_regex.SafeRegexError:
            continue
    return False


def check_path_allowed(path: str, guard: GuardPolicy) -> str | None:
    """None when the guard allows ``path``; otherwise the reason it is rejected."""
    p = path.strip()
    if not p:
        return "patch path is empty"
    root = p.split(".", 1)[0]
    if root == "nodes":
        if not guard.allow_nodes_paths:
            return 'patch path root "nodes" is blocked by guard policy'
        if _matches(guard.allow_nodes_paths, p):
            return None
        return 'patch path under "nodes" is not matched by allow_nodes_paths'
    if root in guard.allow_roots:
        return None
    if _matches(guard.allow_path_patterns, p):
        return None
    return f'patch path root "{root}" is not allowed (allowed roots: {", ".join(guard.allow_roots)})'


@attrs.frozen(repr=False)
class RuntimePatch:
    op: str
    path: str
    value: Any
    extensions: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"op": self.op, "path": self.path, "value": self.value}
        if self.extensions is not None:
            d["extensions"] = dict(self.extensions)
        return d


def parse_patch(obj: Any) -> RuntimePatch:
    """Strictly validate one patch (R290). Raises RuntimePatchError(code=invalid_patch)."""
    if not isinstance(obj, Mapping):
        raise RuntimePatchError("invalid_patch", "a patch must be an object {op, path, value}")
    extra = sorted(set(obj) - {"op", "path", "value", "extensions"})
    if extra:
        raise RuntimePatchError("invalid_patch", f"unknown patch field(s): {', '.join(extra)}")
    op = obj.get("op")
    if op not in ("set", "merge"):
        raise RuntimePatchError("invalid_patch", f"patch op must be set or merge, got {op!r}")
    path = obj.get("path")
    if not isinstance(path, str) or not path.strip():
        raise RuntimePatchError("invalid_patch", "patch path must be a non-empty string")
    if "value" not in obj:
        raise RuntimePatchError("invalid_patch", "patch value is required")
    ext = obj.get("extensions")
    if ext is not None and not isinstance(ext, Mapping):
        raise RuntimePatchError("invalid_patch", "patch extensions must be an object")
    return RuntimePatch(op=op, path=path, value=obj["value"], extensions=ext)


def split_path(path: str) -> list[str]:
    return [s for s in path.strip().split(".") if s]


def set_ref(root: MutableMapping[str, Any], path: str, value: Any) -> Any:
    """Set ``path`` in the runtime root, creating intermediate objects. Returns the previous value
    (``_MISSING`` sentinel is mapped to None for callers that only want it for undo)."""
    segs = split_path(path)
    if not segs or segs[0] not in RUNTIME_ROOTS:
        raise RuntimePatchError("invalid_patch", f"Unknown ref root: {segs[0] if segs else path!r}")
    cur: Any = root
    for s in segs[:-1]:
        nxt = cur.get(s) if isinstance(cur, MutableMapping) else None
        if not isinstance(nxt, MutableMapping):
            nxt = {}
            cur[s] = nxt
        cur = nxt
    prev = cur.get(segs[-1], _MISSING)
    cur[segs[-1]] = value
    return prev


def get_ref(root: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` or the ``_MISSING`` sentinel."""
    cur: Any = root
    for s in split_path(path):
        if isinstance(cur, Mapping) and s in cur:
            cur = cur[s]
        elif isinstance(cur, list) and s.isdigit() and int(s) < len(cur):
            cur = cur[int(s)]
        else:
            return _MISSING
    return cur


def merge_ref(root: MutableMapping[str, Any], path: str, value: Any) -> Any:
    """Shallow-merge an object into ``path`` (set when absent). Returns the previous value."""
    if not isinstance(value, Mapping):
        raise RuntimePatchError("merge_type_error", "merge patch value must be an object")
    prev = get_ref(root, path)
    if prev is _MISSING:
        set_ref(root, path, dict(value))
        return _MISSING
    if not isinstance(prev, MutableMapping):
        raise RuntimePatchError("merge_type_error", "Cannot merge into non-object existing value")
    before = dict(prev)
    prev.update(value)
    return before


def is_missing(v: Any) -> bool:
    return v is _MISSING


@attrs.frozen(repr=False)
class PatchResult:
    entries: tuple[dict[str, Any], ...]
    applied: tuple[RuntimePatch, ...]
    undo: tuple[dict[str, Any], ...]

    @property
    def audit(self) -> dict[str, Any]:
        applied = sum(1 for e in self.entries if e["status"] == "applied")
        rejected = sum(1 for e in self.entries if e["status"] == "rejected")
        affected: list[str] = []
        for e in self.entries:
            if e["status"] == "applied" and e["path"] not in affected:
                affected.append(e["path"])
        return {
            "patch_count": len(self.entries),
            "applied_count": applied,
            "rejected_count": rejected,
            "affected_paths": affected,
            "partial_success": applied > 0 and rejected > 0,
            "hash": audit_hash(self.entries),
        }


def audit_hash(entries: Sequence[Mapping[str, Any]]) -> str:
    """sha256 hex of the compact JSON of the audit entries (JS JSON.stringify equivalent)."""
    text = json.dumps(list(entries), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def apply_patches(
    root: MutableMapping[str, Any],
    patches: Any,
    *,
    guard: GuardPolicy | None = None,
    continue_on_error: bool = False,
    record_undo: bool = False,
) -> PatchResult:
    """Apply patches in order. Without ``continue_on_error`` the first failure raises
    :class:`RuntimePatchError` (with ``details['audit']`` of what happened up to it)."""
    if not isinstance(patches, list):
        raise RuntimePatchError("invalid_patches_input", "patches must be a list")
    entries: list[dict[str, Any]] = []
    applied: list[RuntimePatch] = []
    undo: list[dict[str, Any]] = []
    for i, raw in enumerate(patches):
        op = raw.get("op") if isinstance(raw, Mapping) else None
        path = raw.get("path") if isinstance(raw, Mapping) else None
        entry: dict[str, Any] = {"index": i, "op": op if isinstance(op, str) else "", "path":
                                 path if isinstance(path, str) else ""}
        try:
            patch = parse_patch(raw)
            entry["path"] = patch.path
            if guard is not None and guard.enabled:
                why = check_path_allowed(patch.path, guard)
                if why is not None:
                    raise RuntimePatchError("guard_rejected", why, index=i, path=patch.path,
                                            details={"patch": patch.to_json(), "policy": guard.to_json()})
            if patch.op == "set":
                prev = set_ref(root, patch.path, patch.value)
            else:
                prev = merge_ref(root, patch.path, patch.value)
        except RuntimePatchError as e:
            e.index = i
            e.path = e.path or entry["path"]
            entry["status"] = "rejected"
            entry["reason"] = e.message
            entries.append(entry)
            if not continue_on_error:
                e.details["audit"] = PatchResult(tuple(entries), tuple(applied), tuple(undo)).audit
                e.details["entries"] = list(entries)
                raise
            continue
        entry["status"] = "applied"
        entries.append(entry)
        applied.append(patch)
        if record_undo:
            undo.append({"op": "set", "path": patch.path, "value": None if prev is _MISSING else prev})
    return PatchResult(tuple(entries), tuple(applied), tuple(undo))


install_reprs(__name__)
