"""Load ``ais-conformance/0.0.2`` vector files and check their cases.

Entry points: :func:`load` (paths, or the bundled suites when none are given) → list of
:class:`SuiteFile`; :func:`select` (``--kind``/``-k`` filters); :func:`run` → :class:`Report`.
Malformed files raise :class:`ConformanceInputError` carrying one :class:`Diagnostic` per problem
(every file is checked before anything runs). Handlers are looked up through
:mod:`aisc.conformance.registry` and imported only when a case of their kind runs.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from aisc.conformance.outcome import Outcome
from aisc.diagnostics import AiscError, Diagnostic, Related, Span
from aisc.reprs import install_reprs

if TYPE_CHECKING:
    from aisc.conformance import parallel

SCHEMA_ID = "ais-conformance/0.0.2"
ROOT_KEYS = frozenset({"schema", "cases", "extensions"})
CASE_KEYS = frozenset({"id", "kind", "input", "expect", "extensions"})
BUNDLED_ORDER = ("upstream", "aisc")
"""Bundled suite folders run in this order (others follow, sorted)."""

Status = Literal["passed", "failed", "unknown"]


# ------------------------------------------------------------------ model


@attrs.frozen(repr=False)
class Case:
    id: str
    kind: str
    input: Mapping[str, Any]
    expect: Mapping[str, Any] | None
    file: str
    """Display name of the vector file (relative to the folder given, or to the bundled root)."""
    path: Path
    index: int
    """Position in the file's ``cases`` array (0-based)."""

    @property
    def ref(self) -> str:
        return f"{self.file}::{self.id}"


@attrs.frozen(repr=False)
class SuiteFile:
    file: str
    path: Path
    cases: tuple[Case, ...]


@attrs.frozen(repr=False)
class CaseResult:
    case: Case
    status: Status
    outcome: Outcome
    duration_ns: int


@attrs.frozen(repr=False)
class Report:
    files: tuple[SuiteFile, ...]
    results: tuple[CaseResult, ...]
    duration_ns: int
    strict: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def passed(self) -> int:
        return self.count("passed")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def unknown(self) -> int:
        return self.count("unknown")

    @property
    def ok(self) -> bool:
        """No failure (and, with ``strict``, no case of an unknown kind)."""
        return self.failed == 0 and (not self.strict or self.unknown == 0)

    def summary_line(self) -> str:
        line = f"{self.passed} passed, {self.failed} failed"
        return line + (f", {self.unknown} unknown" if self.unknown else "")


class ConformanceInputError(AiscError):
    """Vector files that cannot be run: missing, not JSON, or not ``ais-conformance/0.0.2``."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        first = self.diagnostics[0].message if self.diagnostics else "invalid conformance input"
        super().__init__(f"{len(self.diagnostics)} problem(s); first: {first}")


# ------------------------------------------------------------------ finding files


def bundled_root() -> Path:
    """The folder of the suites shipped in the package (``aisc/data/conformance``). aisc is installed
    as plain files (never zipped), so this is a path next to the package, found without
    importlib.resources (~5 ms of start-up)."""
    import aisc

    root = Path(aisc.__file__).resolve().parent / "data" / "conformance"
    if not root.is_dir():
        raise ConformanceInputError([Diagnostic(
            "AISC-CONF-001",
            f"the bundled conformance suites are missing from the installed package ({root})",
            hint="reinstall aisc; in a source checkout run tools/sync_bundled_data.py",
        )])
    return root


def _walk(folder: Path) -> list[Path]:
    """``*.json`` under ``folder``, sorted, skipping hidden folders and ``golden/`` folders."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "golden")
        found.extend(Path(dirpath, f) for f in sorted(filenames) if f.endswith(".json"))
    return found


def bundled_files() -> list[tuple[Path, str]]:
    root = bundled_root()
    tops = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    ordered = [t for t in BUNDLED_ORDER if t in tops] + [t for t in tops if t not in BUNDLED_ORDER]
    out: list[tuple[Path, str]] = []
    for top in ordered:
        out.extend((p, p.relative_to(root).as_posix()) for p in _walk(root / top))
    return out


def _collect(paths: Sequence[str]) -> tuple[list[tuple[Path, str, bool]], list[Diagnostic]]:
    """``(path, display name, named explicitly)`` for files and folders given on the command line."""
    out: list[tuple[Path, str, bool]] = []
    diags: list[Diagnostic] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend((f, os.path.join(raw, f.relative_to(p).as_posix()), False) for f in _walk(p))
        elif p.is_file():
            out.append((p, raw, True))
        else:
            diags.append(Diagnostic(
                "AISC-CONF-001", f"no such file or folder: {raw}",
                hint="give ais-conformance/0.0.2 JSON files or folders that contain them",
            ))
    return out, diags


# ------------------------------------------------------------------ JSON reading


class _JsonProblem(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for k, v in pairs:
        if k in obj:
            raise _JsonProblem(f'duplicate key "{k}" in a JSON object')
        obj[k] = v
    return obj


_JSON_NUMBER = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?")


def _exact_number(raw: str) -> Any:
    """A JSON number with a fraction or exponent, read exactly (int or Dec), never as a float."""
    m = _JSON_NUMBER.fullmatch(raw)
    if m is None:  # pragma: no cover - the JSON scanner only passes valid numbers
        raise _JsonProblem(f"invalid number {raw}")
    sign, ip, fp, ex = m.groups()
    exponent = int(ex or "0")
    if abs(exponent) > 400:
        raise _JsonProblem(f"number {raw} is outside the supported range (exponent beyond ±400)")
    from aisc.numeric import make_decimal

    mantissa = int(ip + (fp or ""))
    return make_decimal(-mantissa if sign else mantissa, len(fp or "") - exponent)


def _bad_constant(raw: str) -> Any:
    raise _JsonProblem(f"{raw} is not JSON")


def parse_json(text: str) -> Any:
    """Strict JSON: duplicate keys and NaN/Infinity rejected, fractions read exactly."""
    return json.loads(text, object_pairs_hook=_pairs, parse_float=_exact_number,
                      parse_constant=_bad_constant)


# ------------------------------------------------------------------ loading


def _case_offsets(text: str) -> list[int]:
    """Character offsets of each element of the root ``cases`` array (valid JSON assumed)."""
    dec = json.JSONDecoder()
    ws = " \t\r\n"
    i = text.find("{")
    if i < 0:
        return []
    i += 1
    n = len(text)
    while i < n:
        while i < n and text[i] in ws + ",":
            i += 1
        if i >= n or text[i] != '"':
            return []
        key, i = dec.raw_decode(text, i)
        while i < n and text[i] in ws + ":":
            i += 1
        if key == "cases" and i < n and text[i] == "[":
            offsets: list[int] = []
            i += 1
            while i < n:
                while i < n and text[i] in ws + ",":
                    i += 1
                if i >= n or text[i] == "]":
                    return offsets
                offsets.append(i)
                _, i = dec.raw_decode(text, i)
            return offsets
        _, i = dec.raw_decode(text, i)
    return []


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


_TEXTS: dict[Path, str] = {}
_OFFSETS: dict[Path, tuple[str, list[int]]] = {}


def case_span(case: Case) -> Span | None:
    """Where ``case`` starts in its file (used for reports and diagnostics; computed on demand)."""
    text = _TEXTS.get(case.path)
    if text is None:
        try:
            text = case.path.read_text(encoding="utf-8")
        except OSError:
            return None
        _TEXTS[case.path] = text
    cached = _OFFSETS.get(case.path)
    if cached is None or cached[0] is not text:
        cached = (text, _case_offsets(text))
        _OFFSETS[case.path] = cached
    offsets = cached[1]
    if case.index >= len(offsets):
        return None
    line, col = _line_col(text, offsets[case.index])
    return Span.point(case.file, line, col)


_TYPES: dict[str, tuple[str, Any]] = {
    "str": ("a string", str),
    "object": ("an object", dict),
    "array": ("an array", list),
    "int": ("an integer", int),
}


def _type_ok(value: Any, code: str) -> tuple[bool, str]:
    if code == "any":
        return True, ""
    if code == "array[str]":
        return isinstance(value, list) and all(isinstance(x, str) for x in value), "an array of strings"
    label, typ = _TYPES[code]
    return isinstance(value, typ) and not isinstance(value, bool), label


def _shape_problems(obj: Mapping[str, Any], shape: Mapping[str, str], where: str) -> list[tuple[str, str]]:
    """``(path, message)`` for each way ``obj`` departs from a :mod:`kinds_doc` shape."""
    problems: list[tuple[str, str]] = []
    for name, code in shape.items():
        optional = code.endswith("?")
        code = code.rstrip("?")
        if name not in obj:
            if not optional:
                problems.append((f"{where}.{name}", f"{where.rsplit('.', 1)[-1]}.{name} is required"))
            continue
        ok, label = _type_ok(obj[name], code)
        if not ok:
            problems.append((f"{where}.{name}", f"{name} must be {label}"))
    for name in obj:
        if name not in shape and name != "extensions":
            allowed = ", ".join([*shape, "extensions"])
            problems.append((f"{where}.{name}", f"unexpected field {name!r} (allowed: {allowed})"))
    if "extensions" in obj and not isinstance(obj["extensions"], dict):
        problems.append((f"{where}.extensions", "extensions must be an object"))
    return problems


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    return "a number"


def load_file(path: Path, display: str, *, explicit: bool = True) -> SuiteFile | None:
    """Read and check one vector file. ``None`` for a non-conformance JSON file met in a folder walk."""
    def diag(code: str, msg: str, *, jpath: str | None = None, span: Span | None = None,
             hint: str | None = None) -> ConformanceInputError:
        return ConformanceInputError([Diagnostic(code, msg, path=jpath,
                                                 span=span or Span.point(display, 1, 1), hint=hint)])

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise diag("AISC-CONF-001", f"cannot read {display}: {e}", hint="check the path and permissions")
    try:
        doc = parse_json(text)
    except _JsonProblem as e:
        raise diag("AISC-CONF-002", f"{display} is not valid JSON: {e}", hint="fix the JSON syntax")
    except json.JSONDecodeError as e:
        raise diag("AISC-CONF-002", f"{display} is not valid JSON: {e.msg}",
                   span=Span.point(display, e.lineno, e.colno), hint="fix the JSON syntax")
    except ValueError as e:  # e.g. an integer literal longer than Python's digit limit
        raise diag("AISC-CONF-002", f"{display} is not valid JSON: {e}", hint="fix the JSON value")
    _TEXTS[path] = text
    if not isinstance(doc, dict):
        raise diag("AISC-CONF-003", f"{display}: the top level must be an object, found {_type_name(doc)}",
                   jpath="$", hint=f'write {{"schema": "{SCHEMA_ID}", "cases": [...]}}')
    schema = doc.get("schema")
    if not explicit and isinstance(schema, str) and not schema.startswith("ais-conformance/") \
            and "cases" not in doc:
        return None  # another kind of JSON document (a golden plan, a package file): not a suite
    problems: list[Diagnostic] = []

    def add(code: str, msg: str, jpath: str, span: Span | None = None, hint: str | None = None,
            related: tuple[Related, ...] = ()) -> None:
        problems.append(Diagnostic(code, msg, path=jpath, span=span or Span.point(display, 1, 1),
                                   hint=hint, related=related))

    if schema != SCHEMA_ID:
        add("AISC-CONF-003", f"schema must be {SCHEMA_ID!r}, found {json.dumps(schema)}", "$.schema",
            hint=f'set "schema": "{SCHEMA_ID}"')
    for key in doc:
        if key not in ROOT_KEYS:
            add("AISC-CONF-003", f"unexpected top-level field {key!r}", f"$.{key}",
                hint="allowed: schema, cases, extensions (put extra data under extensions)")
    raw_cases = doc.get("cases")
    if not isinstance(raw_cases, list):
        add("AISC-CONF-003", "cases must be an array of case objects"
            + ("" if raw_cases is None else f", found {_type_name(raw_cases)}"), "$.cases",
            hint='add "cases": [{"id": ..., "kind": ..., "input": {...}, "expect": {...}}]')
        raise ConformanceInputError(problems)

    from aisc.conformance.kinds_doc import KIND_DOCS

    offsets: list[int] | None = None
    cases: list[Case] = []
    for i, raw in enumerate(raw_cases):
        before = len(problems)

        def span_of(index: int = i) -> Span:
            nonlocal offsets
            if offsets is None:
                offsets = _case_offsets(text)
            if index < len(offsets):
                line, col = _line_col(text, offsets[index])
                return Span.point(display, line, col)
            return Span.point(display, 1, 1)

        at = f"$.cases[{i}]"
        if not isinstance(raw, dict):
            add("AISC-CONF-004", f"case {i} must be an object, found {_type_name(raw)}", at, span_of(),
                hint="a case is {id, kind, input, expect}")
            continue
        for key in raw:
            if key not in CASE_KEYS:
                add("AISC-CONF-004", f"case {i}: unexpected field {key!r}", f"{at}.{key}", span_of(),
                    hint="allowed: id, kind, input, expect, extensions")
        for key in ("id", "kind"):
            v = raw.get(key)
            if not isinstance(v, str) or not v:
                found = "missing" if key not in raw else f"found {_type_name(v)}"
                add("AISC-CONF-004", f"case {i}: {key} must be a non-empty string ({found})", f"{at}.{key}",
                    span_of(), hint=f'add "{key}": "..." to the case')
        if not isinstance(raw.get("input"), dict):
            found = "missing" if "input" not in raw else f"found {_type_name(raw.get('input'))}"
            add("AISC-CONF-004", f"case {i}: input must be an object ({found})", f"{at}.input", span_of(),
                hint='add "input": {...} to the case')
        if "expect" in raw and not isinstance(raw["expect"], dict):
            add("AISC-CONF-004", f"case {i}: expect must be an object, found {_type_name(raw['expect'])}",
                f"{at}.expect", span_of())
        if "extensions" in raw and not isinstance(raw["extensions"], dict):
            add("AISC-CONF-004", f"case {i}: extensions must be an object", f"{at}.extensions", span_of())
        if len(problems) > before:
            continue
        kind_doc = KIND_DOCS.get(raw["kind"])
        if kind_doc is not None and kind_doc.strict:
            shape_issues = _shape_problems(raw["input"], kind_doc.input, f"{at}.input")
            if "expect" in raw and kind_doc.expect is not None:
                shape_issues += _shape_problems(raw["expect"], kind_doc.expect, f"{at}.expect")
            elif "expect" not in raw and not kind_doc.expect_optional:
                shape_issues.append((f"{at}.expect", "expect is required"))
            for jpath, msg in shape_issues:
                add("AISC-CONF-006", f"case {raw['id']!r} ({raw['kind']}): {msg}", jpath, span_of(),
                    hint=f"run 'aisc conformance new-case --kind {raw['kind']}' for the expected shape")
            if shape_issues:
                continue
        cases.append(Case(raw["id"], raw["kind"], raw["input"], raw.get("expect"), display, path, i))
    if problems:
        raise ConformanceInputError(problems)
    return SuiteFile(display, path, tuple(cases))


def load(paths: Sequence[str] | None = None) -> list[SuiteFile]:
    """Load ``paths`` (files or folders), or every bundled suite when ``paths`` is empty/None.

    Raises :class:`ConformanceInputError` with every problem of every file, including case ids
    used twice in the run.
    """
    diags: list[Diagnostic] = []
    if paths:
        found, diags = _collect(paths)
    else:
        found = [(p, d, False) for p, d in bundled_files()]
    seen_paths: set[Path] = set()
    suites: list[SuiteFile] = []
    for path, display, explicit in found:
        key = path.resolve()
        if key in seen_paths:
            continue
        seen_paths.add(key)
        try:
            suite = load_file(path, display, explicit=explicit)
        except ConformanceInputError as e:
            diags.extend(e.diagnostics)
            continue
        if suite is not None:
            suites.append(suite)
    first_seen: dict[str, Case] = {}
    for suite in suites:
        for case in suite.cases:
            prev = first_seen.get(case.id)
            if prev is None:
                first_seen[case.id] = case
                continue
            diags.append(Diagnostic(
                "AISC-CONF-005", f"case id {case.id!r} is used twice in this run",
                path=f"$.cases[{case.index}].id", span=case_span(case),
                hint="give every case a unique id (ids are how reports and spec authors refer to cases)",
                related=(Related("first used here", case_span(prev)),),
            ))
    if diags:
        raise ConformanceInputError(diags)
    return suites


# ------------------------------------------------------------------ running


def select(suites: Iterable[SuiteFile], kinds: Sequence[str] = (), id_filters: Sequence[str] = ()) -> list[Case]:
    """Cases whose kind is one of ``kinds`` (if any) and whose id contains one of ``id_filters`` (if any)."""
    wanted = set(kinds)
    return [
        c
        for s in suites
        for c in s.cases
        if (not wanted or c.kind in wanted) and (not id_filters or any(f in c.id for f in id_filters))
    ]


def run_case(case: Case) -> CaseResult:
    """Check one case; never raises (a handler exception is a failed case, reported as an aisc bug)."""
    from aisc.conformance import registry
    from aisc.conformance.context import CASE_FILE

    res = registry.resolve(case.kind)
    if res.status == "unknown" or res.handler is None:
        status: Status = "unknown" if res.status == "unknown" else "failed"
        msg = f"unknown kind {case.kind!r}: {res.detail}" if status == "unknown" else res.detail
        return CaseResult(case, status, Outcome(False, message=msg), 0)
    token = CASE_FILE.set(case.path)
    start = time.perf_counter_ns()
    try:
        outcome = res.handler(case.input, case.expect)
    except Exception as e:
        outcome = Outcome(False, message=f"the {case.kind} handler ({res.module}) raised "
                                         f"{type(e).__name__}: {e} (an aisc bug)")
    finally:
        elapsed = time.perf_counter_ns() - start
        CASE_FILE.reset(token)
    if not isinstance(outcome, Outcome):
        outcome = Outcome(False, message=f"the {case.kind} handler returned {type(outcome).__name__}, "
                                         "not an Outcome (an aisc bug)")
    return CaseResult(case, "passed" if outcome.passed is True else "failed", outcome, elapsed)


def run(suites: Sequence[SuiteFile], *, kinds: Sequence[str] = (), id_filters: Sequence[str] = (),
        strict: bool = False, jobs: int = 1, pool: parallel.Pool | None = None) -> Report:
    """Run the selected cases of ``suites``; results in file order whatever the processes.

    ``pool`` (started early, see :class:`aisc.conformance.parallel.Pool`) spreads the cases over its
    processes; without one, ``jobs`` > 1 starts a pool here; 1 runs every case in this process.
    """
    from aisc.conformance import parallel

    start = time.perf_counter_ns()
    selected = select(suites, kinds, id_filters)
    if pool is not None:
        results = pool.run(selected, run_case)
    elif jobs > 1:
        with parallel.Pool.start(jobs, kinds) as own:
            results = own.run(selected, run_case)
    else:
        results = [run_case(c) for c in selected]
    return Report(tuple(suites), tuple(results), time.perf_counter_ns() - start, strict)


install_reprs(__name__)
