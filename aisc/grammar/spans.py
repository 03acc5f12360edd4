"""Map character offsets inside a CEL expression onto the YAML scalar that holds it."""

from __future__ import annotations

from typing import Literal

from aisc.diagnostics import Span

ScalarStyle = Literal["plain", "single", "double", "literal", "folded"]


def rebase_span(
    expr: str,
    start: int,
    end: int,
    scalar: Span,
    *,
    style: ScalarStyle = "plain",
    indent: int | None = None,
) -> Span:
    """The file span of ``expr[start:end]``, where ``expr`` is the value of the YAML scalar at
    ``scalar`` (whose ``line``/``col`` is where the scalar starts: its first character, or its
    opening quote, or its ``|``/``>`` indicator).

    Exact for single-line plain scalars and for quoted scalars without escape sequences (the offset
    is moved by one for the opening quote). Best effort otherwise:

    - quoted scalars with escapes (``\\"``, ``''``): columns after an escape drift by the escape's
      extra width;
    - multi-line plain or quoted scalars: YAML folds line breaks into spaces, so the value no longer
      has the source's newlines; positions past the first line are approximate;
    - block scalars (``|``, ``>``): the value starts on the line after the indicator; lines are
      counted from the newlines in the value, and columns use ``indent`` (the 1-based column of the
      block's content; default: the indicator's column + 2).
    """
    start = max(0, min(start, len(expr)))
    end = max(start, min(end, len(expr)))

    def place(offset: int) -> tuple[int, int]:
        before = expr[:offset]
        nl = before.count("\n")
        col_in_line = offset - (before.rfind("\n") + 1)
        if style in ("literal", "folded"):
            base_col = indent if indent is not None else scalar.col + 2
            return 1 + nl, base_col + col_in_line
        shift = 1 if style in ("single", "double") else 0
        if nl == 0:
            return 0, scalar.col + shift + col_in_line
        base_col = indent if indent is not None else scalar.col
        return nl, base_col + col_in_line

    ls, cs = place(start)
    le, ce = place(end)
    if (ls, cs) == (le, ce):
        ce += 1
    return scalar.shifted(ls, cs, le, ce)
