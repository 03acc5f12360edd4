"""ValueRef evaluation against the live runtime root, through ``aisc.eval``.

The runtime never copies the root: every evaluation reads the one mutable ``dict`` the engine owns
(``params`` is a shallow per-call override). This module adapts the evaluator's exceptions to three
runtime outcomes the scheduler acts on:

* :class:`RefMissing` (``path``): a ``{ref}`` or CEL identifier is absent → the node is *blocked*;
* :class:`DetectNeeded`: a ``detect`` needs a resolver or a provider choice → *needs_detect*;
* :class:`EvalFailed`: anything else (a CEL error, a type error) → an evaluation error.

Plain JSON ValueRefs (``{"ref": ...}``, as found in execution specs) are decoded once and cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aisc.ir import valueref as vr


def new_root(inputs: Mapping[str, Any] | None = None, ctx: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A fresh runtime root: the namespaces ValueRefs and CEL read (``inputs``, ``ctx``, ``nodes``, …)."""
    c = dict(ctx or {})
    c.setdefault("capabilities", [])
    return {"inputs": dict(inputs or {}), "params": {}, "ctx": c, "query": {}, "contracts": {},
            "calculated": {}, "policy": {}, "nodes": {}}


class RefMissing(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(f"Missing ref: {path}")
        self.path = path


class DetectNeeded(Exception):
    def __init__(self, message: str, detect: Any = None) -> None:
        super().__init__(message)
        self.detect = detect


class EvalFailed(Exception):
    pass


def _load_eval() -> tuple[Any, tuple[type[BaseException], ...], tuple[type[BaseException], ...],
                          tuple[type[BaseException], ...], Any]:
    """(evaluate_value_ref, missing excs, detect excs, other eval excs, truthy) from aisc.eval."""
    from aisc.eval import valueref as ev
    from aisc.eval.values import truthy
    from aisc.grammar.errors import CelError

    return (ev.evaluate_value_ref, (ev.MissingRef,), (ev.DetectUnsupported,),
            (ev.ValueRefEvalError, CelError, vr.ValueRefError), truthy)


def make_options(*, capabilities: frozenset[str] | None = None, detect_resolver: Any = None,
                 chain: str | None = None) -> Any:
    """An ``aisc.eval`` EvalOptions."""
    from aisc.eval.compiler import EvalOptions

    return EvalOptions(capabilities=capabilities, detect_resolver=detect_resolver, chain=chain)


class Evaluator:
    """Evaluates ValueRefs against ``root`` (the engine's live runtime root)."""

    def __init__(
        self,
        root: dict[str, Any],
        *,
        options: Any = None,
    ) -> None:
        self.root = root
        self.options = options
        self._cache: dict[int, tuple[Any, vr.ValueRef]] = {}
        self._evaluate, self._missing, self._detect, self._cel, self._truthy = _load_eval()

    def decode(self, ref: Any) -> vr.ValueRef:
        if isinstance(ref, vr.Lit | vr.Ref | vr.Cel | vr.Detect | vr.ObjectRef | vr.ArrayRef):
            return ref
        hit = self._cache.get(id(ref))
        if hit is not None and hit[0] is ref:
            return hit[1]
        try:
            decoded = vr.from_json(ref)
        except vr.ValueRefError as e:
            raise EvalFailed(f"invalid ValueRef at {e.path}: {e}") from None
        self._cache[id(ref)] = (ref, decoded)
        return decoded

    def value(self, ref: Any, *, params: Mapping[str, Any] | None = None, options: Any = None) -> Any:
        """Evaluate one ValueRef (attrs or plain JSON form)."""
        node = self.decode(ref)
        if isinstance(node, vr.Lit):  # fast path: no evaluator round trip for literals
            return node.value
        try:
            return self._evaluate(node, self.root, params=params,
                                  options=self.options if options is None else options)
        except self._missing as e:
            raise RefMissing(str(getattr(e, "path", "") or e)) from None
        except self._detect as e:
            raise DetectNeeded(str(e), getattr(e, "detect", None)) from None
        except (RefMissing, DetectNeeded, EvalFailed):
            raise
        except self._cel as e:
            raise EvalFailed(str(e)) from None
        except (ValueError, TypeError, KeyError, ArithmeticError) as e:
            raise EvalFailed(f"{type(e).__name__}: {e}") from None

    def truthy(self, v: Any) -> bool:
        try:
            return bool(self._truthy(v))
        except Exception as e:
            raise EvalFailed(str(e)) from None
