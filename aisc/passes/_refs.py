"""Walking plain-JSON ValueRefs: leaves, referenced paths and ``nodes.<id>`` targets (§5.7)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from aisc.passes.model import NodeInfo, pk

TAGS = frozenset({"lit", "ref", "cel", "detect", "object", "array"})

# The reference SDK finds CEL node references with this pattern; we use the same one for implicit
# dependencies, so the plan's deps (and thus its order) match other AIS implementations.
CEL_NODE_RE = re.compile(r"\bnodes\.([A-Za-z_][A-Za-z0-9_-]*)\b")
# Dotted paths under a runtime root inside a CEL expression (identifier chains only).
CEL_PATH_RE = re.compile(
    r"(?<![A-Za-z0-9_.\"'])(inputs|params|ctx|contracts|nodes|query|calculated|policy)"
    r"((?:\.[A-Za-z_][A-Za-z0-9_-]*)*)"
)


def is_vr(v: Any) -> bool:
    if type(v) is dict:  # the front end's plain data: skip the (slow) ABC check
        return len(v) == 1 and next(iter(v)) in TAGS
    return isinstance(v, dict) and len(v) == 1 and next(iter(v)) in TAGS


def tag_of(v: Any) -> str | None:
    if type(v) is dict:
        if len(v) == 1:
            k = next(iter(v))
            return k if k in TAGS else None
        return None
    return next(iter(v)) if is_vr(v) else None


def leaves(v: Any, path: str) -> Iterator[tuple[str, Any, str]]:
    """Every ``(tag, value, $path)`` leaf of a ValueRef (``lit``, ``ref``, ``cel``, ``detect``).

    Detect candidates that are themselves ValueRefs are walked too (they are evaluated at run time).
    """
    tag = tag_of(v)
    if tag is None:
        return
    val = v[tag]
    p = f"{path}.{tag}"
    if tag in ("ref", "cel", "lit"):
        yield tag, val, p
        return
    if tag == "object" and isinstance(val, dict):
        for k, x in val.items():
            yield from leaves(x, pk(p, k))
    elif tag == "array" and isinstance(val, list):
        for i, x in enumerate(val):
            yield from leaves(x, f"{p}[{i}]")
    else:
        yield tag, val, p
        if tag == "detect" and isinstance(val, dict) and isinstance(val.get("candidates"), list):
            for i, c in enumerate(val["candidates"]):
                yield from leaves(c, f"{p}.candidates[{i}]")


def arg_detects(n: NodeInfo) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every ``{detect: {...}}`` in a workflow node's arguments (nested ones included), with its
    ``$``-path in the workflow."""
    args = n.raw.get("args")
    if not isinstance(args, dict):
        return
    for name, v in args.items():
        for tag, val, p in leaves(v, "$"):
            if tag == "detect" and isinstance(val, dict):
                yield pk(f"{n.path}.args", name) + p[1:], val


def node_refs(v: Any) -> Iterator[str]:
    """Node ids a ValueRef reads through ``nodes.<id>`` (ref paths and CEL text)."""
    if type(v) is dict and len(v) == 1:  # fast path: a single ref/cel leaf
        if "ref" in v and isinstance(v["ref"], str):
            val = v["ref"]
            if val.startswith("nodes."):
                parts = [s for s in val.split(".") if s]
                if len(parts) >= 2:
                    yield parts[1]
            elif "nodes." in val:
                parts = [s for s in val.split(".") if s]
                if len(parts) >= 2 and parts[0] == "nodes":
                    yield parts[1]
            return
        if "cel" in v and isinstance(v["cel"], str):
            if "nodes." in v["cel"]:
                yield from CEL_NODE_RE.findall(v["cel"])
            return
        if "lit" in v:
            return
    for tag, val, _ in leaves(v, "$"):
        if tag == "ref" and isinstance(val, str):
            parts = [s for s in val.split(".") if s]
            if len(parts) >= 2 and parts[0] == "nodes":
                yield parts[1]
        elif tag == "cel" and isinstance(val, str) and "nodes." in val:
            yield from CEL_NODE_RE.findall(val)


def ref_paths(v: Any) -> Iterator[tuple[str, str, str]]:
    """``(dotted path, tag, $path)`` for every path a ValueRef reads (refs and CEL identifiers)."""
    if type(v) is dict and len(v) == 1:  # fast path: a single ref/cel/lit leaf
        if "ref" in v:
            if isinstance(v["ref"], str):
                yield _dotted(v["ref"]), "ref", "$.ref"
            return
        if "cel" in v:
            if isinstance(v["cel"], str):
                for dotted in cel_paths(v["cel"]):
                    yield dotted, "cel", "$.cel"
            return
        if "lit" in v:
            return
    for tag, val, p in leaves(v, "$"):
        if not isinstance(val, str):
            continue
        if tag == "ref":
            yield _dotted(val), tag, p
        elif tag == "cel":
            for dotted in cel_paths(val):
                yield dotted, tag, p


def _dotted(ref: str) -> str:
    """The ref with empty segments dropped (``a..b.`` reads ``a.b``)."""
    if ".." in ref or ref.startswith(".") or ref.endswith("."):
        return ".".join(s for s in ref.split(".") if s)
    return ref


@functools.lru_cache(maxsize=4096)
def cel_paths(expr: str) -> tuple[str, ...]:
    """The dotted paths under a runtime root that a CEL text reads, in order (remembered by text: a
    workspace repeats its expressions, and a compile server sees the same ones again)."""
    return tuple(m.group(1) + m.group(2) for m in CEL_PATH_RE.finditer(_strip_strings(expr)))


_STRING_RE = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")


def _strip_strings(expr: str) -> str:
    """CEL text with string literals blanked, so ``"nodes.x"`` in a string is not a path."""
    if '"' not in expr and "'" not in expr:
        return expr
    return _STRING_RE.sub(lambda m: '""', expr)


def cel_index_keys(expr: str, root: str) -> list[str]:
    """Keys read as ``root["key"]`` in CEL (e.g. ``query["allowance-token"]``)."""
    return re.findall(rf'\b{root}\[\s*["\']([^"\']+)["\']\s*\]', expr)
