"""Typed checks of ``--inputs`` / ``--params`` before anything runs (shared by ``aisc run`` and the bridge).

Not a command (no ``HELP``): a helper of the commands layer. It reads the value file through the
front end to know where each value sits (``file:line:col``), and checks the values with
:mod:`aisc.ir.values` against the declarations a plan carries in ``extensions.aisc.inputs``
(docs/inputs.md).

Public API:

- :func:`load_values` — a file path or inline JSON/YAML → ``(data, spans)`` (no float ever).
- :func:`value_spans` — the ``$``-path → Span map of a loaded node tree.
- :func:`check_run_inputs` — the one call ``aisc run`` makes before building the engine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aisc.diagnostics import Diagnostic, Span
from aisc.ir.codec import YMap, YNode, YSeq, path_key
from aisc.ir.values import plan_input_declarations, validate_inputs

# Diagnostics that only say "this is not an AIS document"; a value file is not one.
_NOT_AIS_DOCUMENT = ("AISC-LOAD-015", "AISC-LOAD-016", "AISC-LOAD-017", "AISC-LOAD-018")


def value_spans(node: YNode | None) -> dict[str, Span]:
    """Every node's span by ``$``-path (``$``, ``$.amount``, ``$.route[1]``)."""
    out: dict[str, Span] = {}
    if node is None:
        return out
    stack: list[tuple[str, YNode]] = [("$", node)]
    while stack:
        path, n = stack.pop()
        if n.file is not None:
            out[path] = Span(n.file, n.line, n.col, n.end_line, n.end_col)
        if type(n) is YMap:
            stack.extend((path_key(path, k), v) for k, v in n.entries.items())
        elif type(n) is YSeq:
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(n.items))
    return out


def load_values(spec: str, what: str = "inputs") -> tuple[Any, dict[str, Span], list[Diagnostic]]:
    """Load ``spec`` (a JSON/YAML file, or inline JSON/YAML text) with positions.

    Returns ``(data, spans, diagnostics)``; ``data`` is None when there are errors. Inline text is
    named ``<--inputs>`` in spans. Numbers with a fraction become exact ``Dec`` values.
    """
    from aisc.frontend import load_text

    if os.path.isfile(spec):
        name = spec
        try:
            with open(spec, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as e:
            return None, {}, [Diagnostic("AISC-RUN-001", f"cannot read {spec}: {e}", hint="check the path")]
    else:
        text = spec
        name = f"<--{what}>" + (".json" if spec.lstrip().startswith(("{", "[")) else ".yaml")
    doc = load_text(text, name)
    diags = [d for d in doc.diagnostics if d.code not in _NOT_AIS_DOCUMENT and not d.code.startswith("AISC-SCHEMA-")]
    if any(d.is_error for d in diags) or doc.node is None:
        return None, {}, diags
    return doc.raw, value_spans(doc.node), diags


def check_run_inputs(plan: Any, inputs: Mapping[str, Any], inputs_spec: str | None) -> list[Diagnostic]:
    """Check ``inputs`` against the plan's declared inputs; ``inputs_spec`` is the ``--inputs`` argument.

    Returns no diagnostics for a plan without ``extensions.aisc.inputs``. Spans point into the
    ``--inputs`` file (or the inline text) when it can be read with positions.
    """
    decls = plan_input_declarations(plan)
    if decls is None:
        return []
    spans: dict[str, Span] = {}
    if inputs_spec:
        _, spans, _ = load_values(inputs_spec)
    return validate_inputs(decls, inputs, source_spans=spans)
