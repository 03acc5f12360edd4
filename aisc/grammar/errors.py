"""Errors of the AIS CEL dialect, with character offsets into the expression text."""

from __future__ import annotations


class CelError(Exception):
    """A CEL problem. ``start``/``end`` are character offsets in the expression (``end`` exclusive),
    or ``None`` when the problem has no single place (for example a failing custom function)."""

    def __init__(self, message: str, start: int | None = None, end: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end

    def __str__(self) -> str:
        return self.message


class CelSyntaxError(CelError):
    """The text is not an expression of the dialect (lexing, parsing, invalid number literal)."""


class CelEvalError(CelError):
    """Evaluation failed (type error, undefined variable, builtin error, ...)."""
