"""Positions, diagnostics and their renderings (text, JSON, SARIF 2.1.0).

Every user-facing problem in aisc is a :class:`Diagnostic`. Passes collect them; the public API
raises :class:`CompilationFailed` once with all of them, sorted stably. An unexpected exception is
an :class:`InternalError` ("aisc bug"), never a diagnostic.

This module is the bottom layer: it imports nothing from aisc.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import attrs

from aisc.reprs import install_reprs

Severity = Literal["error", "warning", "note"]

_SEVERITY_RANK = {"error": 0, "warning": 1, "note": 2}


@attrs.frozen(slots=True, repr=False)
class Span:
    """A region of a source file. Lines and columns are 1-based; ``end_*`` is exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    @classmethod
    def point(cls, file: str, line: int, col: int) -> Span:
        return cls(file, line, col, line, col + 1)

    def shifted(self, line_offset: int, col: int, end_line_offset: int, end_col: int) -> Span:
        """A sub-span of this one (used to rebase CEL positions onto a YAML scalar)."""
        return Span(self.file, self.line + line_offset, col, self.line + end_line_offset, end_col)


@attrs.frozen(slots=True, repr=False)
class Related:
    message: str
    span: Span | None = None


@attrs.frozen(slots=True, repr=False)
class Diagnostic:
    """One finding. ``code`` is stable (``AISC-<PASS>-<NNN>``); ``path`` is a ``$``-path."""

    code: str
    message: str
    severity: Severity = "error"
    path: str | None = None
    span: Span | None = None
    hint: str | None = None
    related: tuple[Related, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple[Any, ...]:
        s = self.span
        return (
            s.file if s else "",
            s.line if s else 0,
            s.col if s else 0,
            _SEVERITY_RANK[self.severity],
            self.code,
            self.path or "",
            self.message,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.path is not None:
            out["path"] = self.path
        if self.span is not None:
            out["span"] = _span_json(self.span)
        if self.hint is not None:
            out["hint"] = self.hint
        if self.related:
            out["related"] = [
                {"message": r.message, **({"span": _span_json(r.span)} if r.span else {})}
                for r in self.related
            ]
        return out


def _span_json(s: Span) -> dict[str, Any]:
    return {"file": s.file, "line": s.line, "col": s.col, "end_line": s.end_line, "end_col": s.end_col}


def sort_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Stable, deterministic order: file, line, column, severity, code."""
    return sorted(diags, key=Diagnostic.sort_key)


class AiscError(Exception):
    """Base class of every exception aisc raises on purpose."""


class CompilationFailed(AiscError):
    """Raised once, with every diagnostic a phase collected."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = sort_diagnostics(diagnostics)
        first = self.diagnostics[0].message if self.diagnostics else "compilation failed"
        super().__init__(f"{len(self.diagnostics)} diagnostic(s); first: {first}")


class InternalError(AiscError):
    """An aisc bug. Rendered as such; never shown as a diagnostic or a traceback."""


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diags)


# ------------------------------------------------------------------ sources (for carets)

_SOURCES: dict[str, str] = {}


def register_source(file: str, text: str) -> None:
    """Remember a file's text so text rendering can show the line and a caret."""
    _SOURCES[file] = text


def _source_line(file: str, line: int) -> str | None:
    text = _SOURCES.get(file)
    if text is None:
        try:
            with open(file, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError:
            return None
        _SOURCES[file] = text
    lines = text.splitlines()
    if 1 <= line <= len(lines):
        return lines[line - 1]
    return None


# ------------------------------------------------------------------ renderings


def render_text(diags: Sequence[Diagnostic], *, color: bool = False) -> str:
    """``file:line:col: severity[CODE]: message``, the source line, a caret, then hint/related."""
    parts: list[str] = []
    for d in diags:
        loc = f"{d.span}: " if d.span else ""
        head = f"{loc}{d.severity}[{d.code}]: {d.message}"
        if color:
            c = {"error": "31", "warning": "33", "note": "36"}[d.severity]
            head = f"\x1b[1m{loc}\x1b[{c}m{d.severity}[{d.code}]\x1b[0m\x1b[1m: {d.message}\x1b[0m"
        parts.append(head)
        if d.path:
            parts.append(f"  at {d.path}")
        if d.span:
            src = _source_line(d.span.file, d.span.line)
            if src is not None:
                gutter = f"{d.span.line:>5} | "
                parts.append(gutter + src.expandtabs(1))
                width = (
                    max(1, d.span.end_col - d.span.col)
                    if d.span.end_line == d.span.line
                    else max(1, len(src) - d.span.col + 1)
                )
                parts.append(" " * (len(gutter) + d.span.col - 1) + "^" + "~" * (width - 1))
        if d.hint:
            parts.append(f"  hint: {d.hint}")
        for r in d.related:
            parts.append(f"  note: {r.message}" + (f" ({r.span})" if r.span else ""))
    return "\n".join(parts)


def render_json(diags: Sequence[Diagnostic]) -> str:
    errors = sum(1 for d in diags if d.is_error)
    doc = {
        "diagnostics": [d.to_json() for d in diags],
        "errors": errors,
        "warnings": sum(1 for d in diags if d.severity == "warning"),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def render_sarif(diags: Sequence[Diagnostic], *, tool_version: str) -> str:
    """SARIF 2.1.0, one run, one rule per diagnostic code."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    level = {"error": "error", "warning": "warning", "note": "note"}
    for d in diags:
        rules.setdefault(d.code, {"id": d.code, "shortDescription": {"text": d.code}})
        res: dict[str, Any] = {
            "ruleId": d.code,
            "level": level[d.severity],
            "message": {"text": d.message + (f" (hint: {d.hint})" if d.hint else "")},
        }
        if d.span:
            res["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": d.span.file},
                        "region": {
                            "startLine": d.span.line,
                            "startColumn": d.span.col,
                            "endLine": d.span.end_line,
                            "endColumn": d.span.end_col,
                        },
                    },
                    **({"logicalLocations": [{"fullyQualifiedName": d.path}]} if d.path else {}),
                }
            ]
        results.append(res)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "aisc",
                        "version": tool_version,
                        "informationUri": "https://example.invalid/aisc",
                        "rules": [rules[k] for k in sorted(rules)],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def render(diags: Sequence[Diagnostic], fmt: str, *, tool_version: str = "0", color: bool = False) -> str:
    if fmt == "json":
        return render_json(diags)
    if fmt == "sarif":
        return render_sarif(diags, tool_version=tool_version)
    return render_text(diags, color=color)


install_reprs(__name__)
