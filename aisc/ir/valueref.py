"""ValueRef: the tagged union of dynamic values (R050–R053).

Exactly one of ``lit``, ``ref``, ``cel``, ``detect``, ``object``, ``array``. ``object`` and
``array`` nest ValueRefs, so literal containers and dynamic leaves never mix. Spans do not take part
in equality.

``from_json`` is the strict decoder for plain JSON values (plans, commands); the document front end
builds the same classes with spans from positioned YAML nodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from aisc.diagnostics import Span
from aisc.reprs import install_reprs

VALUEREF_TAGS = ("lit", "ref", "cel", "detect", "object", "array")
DETECT_KINDS = ("choose_one", "best_quote", "best_path", "protocol_specific")

_span = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(slots=True, repr=False)
class Lit:
    value: Any
    span: Span | None = _span


@attrs.frozen(slots=True, repr=False)
class Ref:
    path: str
    span: Span | None = _span


@attrs.frozen(slots=True, repr=False)
class Cel:
    expr: str
    span: Span | None = _span


@attrs.frozen(slots=True, repr=False)
class Detect:
    kind: str
    provider: str | None = None
    candidates: tuple[Any, ...] | None = None
    constraints: Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    requires_capabilities: tuple[str, ...] | None = None
    extensions: Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    span: Span | None = _span


@attrs.frozen(slots=True, repr=False)
class ObjectRef:
    entries: Mapping[str, ValueRef] = attrs.field(hash=False)
    span: Span | None = _span


@attrs.frozen(slots=True, repr=False)
class ArrayRef:
    items: tuple[ValueRef, ...]
    span: Span | None = _span


ValueRef = Lit | Ref | Cel | Detect | ObjectRef | ArrayRef


class ValueRefError(ValueError):
    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


def is_valueref_json(obj: Any) -> bool:
    """A JSON object with exactly one key, and that key a ValueRef tag."""
    return isinstance(obj, Mapping) and len(obj) == 1 and next(iter(obj)) in VALUEREF_TAGS


def from_json(obj: Any, path: str = "$") -> ValueRef:
    """Strictly decode a plain JSON ValueRef. Raises :class:`ValueRefError` with a ``$``-path."""
    if not isinstance(obj, Mapping):
        raise ValueRefError(
            f"expected a ValueRef object ({{lit|ref|cel|detect|object|array: ...}}), got {_kind(obj)}", path
        )
    if len(obj) != 1:
        keys = ", ".join(sorted(map(str, obj))) or "none"
        raise ValueRefError(f"a ValueRef has exactly one key of {', '.join(VALUEREF_TAGS)}; got: {keys}", path)
    tag, val = next(iter(obj.items()))
    p = f"{path}.{tag}"
    if tag == "lit":
        return Lit(val)
    if tag == "ref":
        if not isinstance(val, str) or not val:
            raise ValueRefError("ref must be a non-empty string path", p)
        return Ref(val)
    if tag == "cel":
        if not isinstance(val, str) or not val:
            raise ValueRefError("cel must be a non-empty string expression", p)
        return Cel(val)
    if tag == "object":
        if not isinstance(val, Mapping):
            raise ValueRefError(f"object must map names to ValueRefs, got {_kind(val)}", p)
        return ObjectRef({str(k): from_json(v, f"{p}.{k}") for k, v in val.items()})
    if tag == "array":
        if not isinstance(val, list):
            raise ValueRefError(f"array must be a list of ValueRefs, got {_kind(val)}", p)
        return ArrayRef(tuple(from_json(v, f"{p}[{i}]") for i, v in enumerate(val)))
    if tag == "detect":
        return _detect_from_json(val, p)
    raise ValueRefError(f"unknown ValueRef tag '{tag}'", path)


def _detect_from_json(val: Any, p: str) -> Detect:
    if not isinstance(val, Mapping):
        raise ValueRefError(f"detect must be an object, got {_kind(val)}", p)
    allowed = {"kind", "provider", "candidates", "constraints", "requires_capabilities", "extensions"}
    extra = sorted(set(map(str, val)) - allowed)
    if extra:
        raise ValueRefError(f"unknown field(s) in detect: {', '.join(extra)}", p)
    kind = val.get("kind")
    if kind not in DETECT_KINDS:
        raise ValueRefError(f"detect.kind must be one of {', '.join(DETECT_KINDS)}", f"{p}.kind")
    provider = val.get("provider")
    if provider is not None and not isinstance(provider, str):
        raise ValueRefError("detect.provider must be a string", f"{p}.provider")
    cands = val.get("candidates")
    if cands is not None and not isinstance(cands, list):
        raise ValueRefError("detect.candidates must be a list", f"{p}.candidates")
    caps = val.get("requires_capabilities")
    if caps is not None and (not isinstance(caps, list) or not all(isinstance(c, str) for c in caps)):
        raise ValueRefError("detect.requires_capabilities must be a list of strings", f"{p}.requires_capabilities")
    cons = val.get("constraints")
    if cons is not None and not isinstance(cons, Mapping):
        raise ValueRefError("detect.constraints must be an object", f"{p}.constraints")
    ext = val.get("extensions")
    if ext is not None and not isinstance(ext, Mapping):
        raise ValueRefError("detect.extensions must be an object", f"{p}.extensions")
    return Detect(
        kind=str(kind),
        provider=provider,
        candidates=tuple(cands) if cands is not None else None,
        constraints=cons,
        requires_capabilities=tuple(caps) if caps is not None else None,
        extensions=ext,
    )


def to_json(vr: ValueRef) -> dict[str, Any]:
    """The plain JSON form (the inverse of :func:`from_json`); absent detect keys are omitted."""
    if isinstance(vr, Lit):
        return {"lit": vr.value}
    if isinstance(vr, Ref):
        return {"ref": vr.path}
    if isinstance(vr, Cel):
        return {"cel": vr.expr}
    if isinstance(vr, ObjectRef):
        return {"object": {k: to_json(v) for k, v in vr.entries.items()}}
    if isinstance(vr, ArrayRef):
        return {"array": [to_json(v) for v in vr.items]}
    d: dict[str, Any] = {"kind": vr.kind}
    if vr.provider is not None:
        d["provider"] = vr.provider
    if vr.candidates is not None:
        d["candidates"] = list(vr.candidates)
    if vr.constraints is not None:
        d["constraints"] = dict(vr.constraints)
    if vr.requires_capabilities is not None:
        d["requires_capabilities"] = list(vr.requires_capabilities)
    if vr.extensions is not None:
        d["extensions"] = dict(vr.extensions)
    return {"detect": d}


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, Mapping):
        return "an object"
    return type(v).__name__


install_reprs(__name__)
