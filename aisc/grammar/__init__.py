"""The AIS CEL grammar: text → expression IR (:mod:`aisc.ir.expr`).

Entry points:
- :func:`parse` (``aisc.grammar.parser.parse``): parse once, cached by source text; raises
  :class:`CelSyntaxError` with ``start``/``end`` character offsets.
- :func:`rebase_span`: turn those offsets into a file :class:`aisc.diagnostics.Span` inside the YAML
  scalar that holds the expression.
- :class:`CelError`, :class:`CelSyntaxError`, :class:`CelEvalError`: the CEL error family.

The grammar itself is ``cel.lark`` (package data; LALR; precedence ladder and deviations from
standard CEL in its header). Only this package imports lark; nothing outside it sees a lark tree.

May import: ``aisc.ir``, ``aisc.diagnostics``, ``aisc.numeric``, lark.
"""

from aisc.grammar.errors import CelError, CelEvalError, CelSyntaxError
from aisc.grammar.parser import parse
from aisc.grammar.spans import ScalarStyle, rebase_span

__all__ = ["CelError", "CelEvalError", "CelSyntaxError", "ScalarStyle", "parse", "rebase_span"]
