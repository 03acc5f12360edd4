"""Renderings of a conformance :class:`~aisc.conformance.runner.Report`: text, JSON, JUnit XML.

Text: one line per case (``PASS``/``FAIL``/``UNKNOWN``), evidence under each failure (expected and
actual values, or a unified diff of pretty JSON for structures), then the closing line
``N passed, N failed`` (``, N unknown`` when there are any).
"""

from __future__ import annotations

import json
from typing import Any

from aisc.conformance.outcome import Outcome
from aisc.conformance.runner import CaseResult, Report, case_span

REPORT_SCHEMA = "aisc-conformance-report/1"
_SHORT = 72


def to_json_value(v: Any) -> Any:
    """A JSON-ready copy of handler evidence (exact decimals as strings, bytes as 0x-hex)."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, dict):
        return {str(k): to_json_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [to_json_value(x) for x in v]
    if isinstance(v, bytes | bytearray):
        return "0x" + bytes(v).hex()
    if type(v).__name__ == "Dec":
        from aisc.numeric import format_decimal

        return format_decimal(v)
    return repr(v)


def _pretty(v: Any) -> str:
    return json.dumps(to_json_value(v), indent=2, sort_keys=True, ensure_ascii=False)


def _quote(v: Any) -> str:
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return json.dumps(to_json_value(v), ensure_ascii=False, sort_keys=True)


def evidence(outcome: Outcome) -> list[str]:
    """Lines showing why a case failed: the message, then expected vs actual."""
    lines = [ln for ln in outcome.message.splitlines()] if outcome.message else []
    exp, act = outcome.expected, outcome.actual
    if exp is None and act is None:
        return lines
    if outcome.relation == "substring":
        lines.append(f"expected text: {_quote(exp)}")
        lines.append(f"in message:    {_quote(act)}")
        return lines
    structured = isinstance(exp, dict | list | tuple) or isinstance(act, dict | list | tuple)
    multiline = (isinstance(exp, str) and "\n" in exp) or (isinstance(act, str) and "\n" in act)
    if structured or multiline:
        import difflib

        a = (exp if isinstance(exp, str) and not structured else _pretty(exp)).splitlines()
        b = (act if isinstance(act, str) and not structured else _pretty(act)).splitlines()
        diff = list(difflib.unified_diff(a, b, "expected", "actual", lineterm="", n=3))
        lines.extend(diff if diff else ["(the values print the same but differ in type)"])
        return lines
    lines.append(f"expected: {_quote(exp)}")
    lines.append(f"actual:   {_quote(act)}")
    if isinstance(exp, str) and isinstance(act, str) and max(len(exp), len(act)) > _SHORT:
        at = next((i for i, (x, y) in enumerate(zip(exp, act, strict=False)) if x != y), min(len(exp), len(act)))
        lines.append(f"first difference at character {at}: expected {exp[at:at + 16]!r}, actual {act[at:at + 16]!r}")
    return lines


def _where(r: CaseResult) -> str:
    span = case_span(r.case)
    return f"{span.file}:{span.line}" if span else r.case.file


def render_text(report: Report, *, quiet: bool = False) -> str:
    out: list[str] = []
    for r in report.results:
        if r.status == "passed":
            if not quiet:
                out.append(f"PASS     {r.case.ref}")
            continue
        tag = "FAIL" if r.status == "failed" else "UNKNOWN"
        out.append(f"{tag:<8} {r.case.ref}  [{r.case.kind}]")
        out.append(f"    at {_where(r)}")
        out.extend("    " + ln for ln in evidence(r.outcome))
    if not quiet:
        ms = report.duration_ns / 1e6
        out.append(f"ran {len(report.results)} case(s) from {len(report.files)} file(s) in {ms:.1f} ms")
    out.append(report.summary_line())
    return "\n".join(out)


def render_json(report: Report) -> str:
    cases = []
    for r in report.results:
        item: dict[str, Any] = {
            "file": r.case.file,
            "id": r.case.id,
            "kind": r.case.kind,
            "status": r.status,
            "duration_us": r.duration_ns // 1000,
        }
        if r.status != "passed":
            span = case_span(r.case)
            if span:
                item["line"] = span.line
            item["message"] = r.outcome.message
            if r.outcome.expected is not None or r.outcome.actual is not None:
                item["expected"] = to_json_value(r.outcome.expected)
                item["actual"] = to_json_value(r.outcome.actual)
                item["relation"] = r.outcome.relation
        cases.append(item)
    doc = {
        "schema": REPORT_SCHEMA,
        "ok": report.ok,
        "summary": {
            "passed": report.passed,
            "failed": report.failed,
            "unknown": report.unknown,
            "total": len(report.results),
            "duration_us": report.duration_ns // 1000,
            "strict": report.strict,
        },
        "files": [s.file for s in report.files],
        "cases": cases,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _seconds(ns: int) -> str:
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000 // 1000:06d}"


def render_junit(report: Report) -> str:
    """JUnit XML: one ``testsuite`` per vector file, one ``testcase`` per case.

    A failed case has a ``failure`` element; a case of an unknown kind is ``skipped`` (a ``failure``
    with ``--strict``).
    """
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="aisc conformance")
    by_file: dict[str, list[CaseResult]] = {s.file: [] for s in report.files}
    for r in report.results:
        by_file.setdefault(r.case.file, []).append(r)
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    total_ns = 0
    for file, results in by_file.items():
        if not results:
            continue
        failures = sum(1 for r in results if r.status == "failed" or (r.status == "unknown" and report.strict))
        skipped = sum(1 for r in results if r.status == "unknown" and not report.strict)
        ns = sum(r.duration_ns for r in results)
        suite = ET.SubElement(root, "testsuite", name=file, tests=str(len(results)), failures=str(failures),
                              errors="0", skipped=str(skipped), time=_seconds(ns))
        totals["tests"] += len(results)
        totals["failures"] += failures
        totals["skipped"] += skipped
        total_ns += ns
        for r in results:
            tc = ET.SubElement(suite, "testcase", name=r.case.id, classname=r.case.kind, file=file,
                               time=_seconds(r.duration_ns))
            span = case_span(r.case) if r.status != "passed" else None
            if span:
                tc.set("line", str(span.line))
            if r.status == "passed":
                continue
            first = r.outcome.message.splitlines()[0] if r.outcome.message else r.status
            if r.status == "unknown" and not report.strict:
                ET.SubElement(tc, "skipped", message=first)
                continue
            el = ET.SubElement(tc, "failure", message=first, type=r.status)
            el.text = "\n".join(evidence(r.outcome))
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "0")
    root.set("skipped", str(totals["skipped"]))
    root.set("time", _seconds(total_ns))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
