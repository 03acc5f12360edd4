"""ValueRef evaluation over the runtime root (SPEC-MAP §4.2–§4.4).

The runtime root is ``{inputs, params, ctx, query, contracts, calculated, policy, nodes}``. It is
never copied: ``params=`` overrides the root's ``params`` through a two-key view.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

from aisc.grammar.errors import CelError
from aisc.ir.valueref import ArrayRef, Cel, Detect, Lit, ObjectRef, Ref, ValueRef, from_json, is_valueref_json

from .compiler import DEFAULT_OPTIONS, EvalOptions, compile_cel

RUNTIME_ROOTS = ("inputs", "params", "ctx", "query", "contracts", "calculated", "policy", "nodes")
"""The eight names of the runtime root, in the reference engine's order."""

_VR_CLASSES = (Lit, Ref, Cel, Detect, ObjectRef, ArrayRef)


class ValueRefEvalError(Exception):
    """A ValueRef could not be evaluated. ``message`` is the user-facing text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingRef(ValueRefEvalError):
    """``{ref: path}`` points at nothing (the node is blocked on ``missing_refs``)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"Missing ref: {path}")
        self.path = path


class CelEvalFailed(ValueRefEvalError):
    """A ``{cel: ...}`` failed; ``__cause__`` is the :class:`CelError` (with offsets)."""

    def __init__(self, expr: str, cause: CelError) -> None:
        super().__init__(f"CEL eval failed: {expr}: {cause.message}")
        self.expr = expr
        self.cel_error = cause


class DetectError(ValueRefEvalError):
    """A detect that cannot be resolved (missing capabilities, empty ``choose_one``, resolver error)."""


class DetectCapabilitiesMissing(DetectError):
    """R017: ``requires_capabilities`` lists capabilities the engine does not have."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"Detect requires missing capabilities: {', '.join(missing)}")
        self.missing = tuple(missing)


class DetectUnsupported(DetectError):
    """No resolver for this detect kind: the runtime reports the node as ``needs_detect``."""

    def __init__(self, detect: Detect) -> None:
        super().__init__(
            f'Detect kind "{detect.kind}" unsupported without resolver (provider: {detect.provider or "auto"})'
        )
        self.detect = detect


@runtime_checkable
class DetectResolver(Protocol):
    """Resolves detect kinds other than ``choose_one`` (R020). May return a value or a ValueRef
    (JSON or IR), which is then evaluated."""

    def resolve(self, detect: Detect, root: Mapping[str, Any], chain: str | None) -> Any: ...


class _ParamsView(Mapping[str, Any]):
    """The root with ``params`` replaced; nothing is copied."""

    __slots__ = ("_params", "_root")

    def __init__(self, root: Mapping[str, Any], params: Mapping[str, Any]) -> None:
        self._root = root
        self._params = params

    def __getitem__(self, key: str) -> Any:
        if key == "params":
            return self._params
        return self._root[key]

    def __contains__(self, key: object) -> bool:
        return key == "params" or key in self._root

    def __iter__(self) -> Iterator[str]:
        yield from self._root
        if "params" not in self._root:
            yield "params"

    def __len__(self) -> int:
        return len(self._root) + (0 if "params" in self._root else 1)

    def get(self, key: str, default: Any = None) -> Any:
        if key == "params":
            return self._params
        return self._root.get(key, default)


def with_params(root: Mapping[str, Any], params: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """``root`` seen with ``params`` overridden (no copy); ``root`` itself when ``params`` is None."""
    return root if params is None else _ParamsView(root, params)


_MISSING = object()
_SPLIT_CACHE: dict[str, tuple[str, ...]] = {}


def _segments(path: str) -> tuple[str, ...]:
    segs = _SPLIT_CACHE.get(path)
    if segs is None:
        segs = tuple(s for s in path.split(".") if s)
        if len(_SPLIT_CACHE) > 16384:
            _SPLIT_CACHE.clear()
        _SPLIT_CACHE[path] = segs
    return segs


def resolve_ref(path: str, root: Mapping[str, Any]) -> Any:
    """Walk a dotted ref path (numeric segments index lists). Raises :class:`MissingRef`.

    A present ``null`` at the end is returned; traversing through ``null`` or a scalar is missing."""
    cur: Any = root
    for seg in _segments(path):
        if isinstance(cur, Mapping):
            cur = cur.get(seg, _MISSING)
        elif isinstance(cur, list | tuple) and seg.isdigit() and seg.isascii():
            i = int(seg)
            cur = cur[i] if i < len(cur) else _MISSING
        else:
            cur = _MISSING
        if cur is _MISSING:
            raise MissingRef(path)
    if cur is root:
        raise MissingRef(path)
    return cur


def evaluate_value_ref(
    vr: ValueRef | Mapping[str, Any],
    root: Mapping[str, Any],
    *,
    params: Mapping[str, Any] | None = None,
    options: EvalOptions | None = None,
) -> Any:
    """Evaluate a ValueRef (IR object or raw JSON) against the runtime root.

    Raises :class:`MissingRef`, :class:`CelEvalFailed`, :class:`DetectError` (and subclasses
    :class:`DetectCapabilitiesMissing`, :class:`DetectUnsupported`), or
    :class:`aisc.ir.valueref.ValueRefError` for a malformed JSON ValueRef."""
    view = with_params(root, params)
    return _eval(vr if isinstance(vr, _VR_CLASSES) else from_json(vr), view, options or DEFAULT_OPTIONS)


def _eval(vr: Any, root: Mapping[str, Any], options: EvalOptions) -> Any:
    t = type(vr)
    if t is Lit:
        return vr.value
    if t is Ref:
        return resolve_ref(vr.path, root)
    if t is Cel:
        try:
            return compile_cel(vr.expr, options)(root)
        except CelError as e:
            raise CelEvalFailed(vr.expr, e) from e
    if t is ObjectRef:
        return {k: _eval(v, root, options) for k, v in vr.entries.items()}
    if t is ArrayRef:
        return [_eval(v, root, options) for v in vr.items]
    if t is Detect:
        return _detect(vr, root, options)
    raise TypeError(f"not a ValueRef: {type(vr).__name__}")  # pragma: no cover


def _as_valueref(v: Any) -> ValueRef | None:
    if isinstance(v, _VR_CLASSES):
        return v  # type: ignore[return-value]
    if is_valueref_json(v):
        return from_json(v)
    return None


def _detect(d: Detect, root: Mapping[str, Any], options: EvalOptions) -> Any:
    if d.requires_capabilities:
        have: Any = options.capabilities
        if have is None:
            ctx = root.get("ctx") if isinstance(root, Mapping) else None
            caps = ctx.get("capabilities") if isinstance(ctx, Mapping) else None
            have = frozenset(c for c in caps if isinstance(c, str)) if isinstance(caps, list | tuple) else frozenset()
        missing = [c for c in d.requires_capabilities if c not in have]
        if missing:
            raise DetectCapabilitiesMissing(missing)
    if d.kind == "choose_one":
        if not d.candidates:
            raise DetectError("detect.choose_one requires non-empty candidates")
        first = d.candidates[0]
        inner = _as_valueref(first)
        return first if inner is None else _eval(inner, root, options)
    resolver = options.detect_resolver
    if resolver is None:
        raise DetectUnsupported(d)
    result = resolver.resolve(d, root, options.chain)
    inner = _as_valueref(result)
    return result if inner is None else _eval(inner, root, options)
