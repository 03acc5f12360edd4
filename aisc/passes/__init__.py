"""Static passes over a resolved workspace, and lowering to ``ais-plan/0.0.3``.

One module per pass, one public function per module. :data:`PIPELINE` is the order, as data
(``tests/unit/passes/test_pipeline.py`` checks it). Each check pass reads the
:class:`~aisc.passes.model.Workspace`, records facts for later passes on the shared
:class:`~aisc.passes.model.Analysis` and returns diagnostics; ``lower`` builds the plan JSON.

Protocol semantics (``protocol_semantics.check_protocol``) runs per document in the compiler's
``documents`` phase, before this pipeline.

May import: aisc.frontend (spans only), aisc.eval, aisc.grammar, aisc.ir, aisc.diagnostics,
aisc.numeric, aisc.jcs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from aisc.reprs import install_reprs

if TYPE_CHECKING:  # annotations only: ``aisc check`` imports a pass module without the pipeline model
    from aisc.diagnostics import Diagnostic
    from aisc.passes.model import Analysis, Options, Workspace


def _pass(module: str, name: str) -> Any:
    """``name`` of the pass module ``module``, imported on first use. A pass module pulls in
    what only compiling needs (the CEL checker, the numeric tower, …), so it is not imported with this
    package; and an ``import`` statement inside a function costs about a microsecond on every call
    (a compile would pay it once per pass), where this costs a dict lookup."""
    mod = sys.modules.get(module)
    if mod is None:
        mod = importlib.import_module(module)
    return getattr(mod, name)


@attrs.frozen(repr=False)
class Step:
    """One pipeline entry: a check pass (``run``) or the lowering (``lower``)."""

    name: str
    run: Callable[[Workspace, Analysis, Options], list[Diagnostic]]
    stop_on_error: bool = False
    lower: Any = None


def _workflow(ws: Workspace, an: Analysis, options: Options) -> list[Diagnostic]:
    found: list[Diagnostic] = _pass("aisc.passes.workflow_semantics", "check_workflow")(ws, an)
    return found


def _workspace(ws: Workspace, an: Analysis, options: Options) -> list[Diagnostic]:
    found: list[Diagnostic] = _pass("aisc.passes.workspace", "check_workspace")(ws, an)
    return found


def _capabilities(ws: Workspace, an: Analysis, options: Options) -> list[Diagnostic]:
    found: list[Diagnostic] = _pass("aisc.passes.capabilities", "check_capabilities")(ws, an, options)
    return found


def _numeric(ws: Workspace, an: Analysis, options: Options) -> list[Diagnostic]:
    found: list[Diagnostic] = _pass("aisc.passes.numeric_literals", "check_numeric_literals")(ws, an)
    return found


def _compensation(ws: Workspace, an: Analysis, options: Options) -> list[Diagnostic]:
    found: list[Diagnostic] = _pass("aisc.passes.compensation", "check_compensations")(ws, an)
    return found


def _policy(ws: Workspace, an: Analysis, options: Options) -> list[Diagnostic]:
    found: list[Diagnostic] = _pass("aisc.passes.policy_static", "check_policy")(ws, an)
    return found


def _no_run(ws: Workspace, an: Analysis, options: Options) -> list[Diagnostic]:
    return []


def _lower(ws: Workspace, an: Analysis, options: Options, on_node: Any = None) -> Any:
    return _pass("aisc.passes.lower", "lower")(ws, an, options, on_node)


PIPELINE: tuple[Step, ...] = (
    Step("workflow_semantics", _workflow),
    Step("workspace", _workspace),
    Step("capabilities", _capabilities),
    Step("numeric_literals", _numeric),
    Step("compensation", _compensation),
    Step("policy_static", _policy),
    Step("lower", _no_run, lower=_lower),
)
"""The pass order. Lowering runs only when no earlier pass reported an error."""

__all__ = ["PIPELINE", "Step"]


install_reprs(__name__)
