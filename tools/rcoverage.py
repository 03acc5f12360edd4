#!/usr/bin/env python3
"""Generate the R-number coverage table: which spec requirements (R001–R326) tests name.

A test covers a requirement when its name, parametrize id, docstring or a comment on the test's
lines contains the R-number (``R194``, ``r194``, also inside identifiers such as ``test_r194_x`` or
``"r194-case"``). A mention inside a test marked ``xfail`` does not count: such a requirement is
listed as a known gap. Requirements no test can check are listed, with the reason, in the reviewed
:data:`NOT_TESTED` table; they never count as covered. The requirement list is read from
SPEC-MAP.md (``../shared/ais/SPEC-MAP.md`` or ``--spec-map``; without it, the requirement ids and
levels of the committed table, so that ``--check`` also runs in a clone on its own). Output: Markdown (default) or JSON.

    python tools/rcoverage.py                # prints the table
    python tools/rcoverage.py -o docs/requirements-coverage.md
    python tools/rcoverage.py --format json
    python tools/rcoverage.py --check        # exit 1 if the committed table is stale
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQ_LINE = re.compile(r"^- (R\d{3}) \[([^\]]+)\] (.*)$")
# not preceded by a letter or digit (so "test_r194_x" and "r194-case" count, "0xr194" does not)
MENTION = re.compile(r"(?<![A-Za-z0-9])[Rr](\d{3})(?![0-9])")

#: Reviewed list of requirements that no test checks, with the reason. Keep it short: anything aisc
#: implements gets a real test instead. These rows never count as covered.
NOT_TESTED: dict[str, str] = {
    "R005": "a goal for the spec's own vector suite (every MUST has a vector), not behaviour of aisc; "
            "this table is how aisc tracks its side of it",
    "R240": "on-chain registry identity (protocolId = keccak256(owner, protocol)): aisc has no registry "
            "client; SPEC-MAP §8 asks for nothing beyond interfaces and the pair encoding is unspecified",
    "R243": "registry lookup latestByName: no registry client in aisc (SPEC-MAP §8)",
    "R244": "registry 'latest verified version' lookup: no registry client in aisc (SPEC-MAP §8)",
    "R245": "discovery API (pagination, verified-by-default, caching): non-normative reference, "
            "not implemented in aisc (SPEC-MAP §8)",
    "R246": "domain verification is an empty placeholder in the spec; nothing to implement or test",
    "R310": "fragments are authoring templates (docs/ais-fragments.md), not a document type aisc reads; "
            "there are no slot/failure-policy declarations to check",
    "R311": "same as R310: aisc has no fragment construct that could bypass the pack; the pack "
            "boundary itself is tested under R022–R028 and R073",
}


def find_spec_map(arg: str | None) -> Path | None:
    cands = [Path(arg)] if arg else [ROOT.parent / "shared/ais/SPEC-MAP.md", ROOT / "docs/SPEC-MAP.md"]
    return next((c for c in cands if c.is_file()), None)


def requirements(spec_map: Path) -> list[tuple[str, str, str]]:
    out = []
    for line in spec_map.read_text(encoding="utf-8").splitlines():
        m = REQ_LINE.match(line.strip())
        if m:
            out.append((m.group(1), m.group(2), m.group(3)))
    return out


TABLE = ROOT / "docs/requirements-coverage.md"
TABLE_ROW = re.compile(r"^\| (R\d{3}) \| ([^|]+) \| ")


def table_requirements(table: Path) -> list[tuple[str, str, str]]:
    """``(id, level, "")`` of every requirement in the committed coverage table (first table only;
    the texts are not in it)."""
    out: list[tuple[str, str, str]] = []
    for line in table.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            break
        m = TABLE_ROW.match(line)
        if m:
            out.append((m.group(1), m.group(2).strip(), ""))
    return out


def _xfail_lines(text: str) -> set[int]:
    """Line numbers (1-based) of test functions decorated with ``xfail`` (decorators included)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            "xfail" in ast.unparse(d) for d in node.decorator_list
        ):
            start = min(d.lineno for d in node.decorator_list)
            lines.update(range(start, (node.end_lineno or node.lineno) + 1))
    return lines


def mentions(tests_dir: Path, xfail: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """R-number → files that name it. Mentions inside xfail tests go to ``xfail`` instead."""
    found: dict[str, set[str]] = {}
    for f in sorted(tests_dir.rglob("*.py")):
        rel = f.relative_to(ROOT).as_posix()
        text = f.read_text(encoding="utf-8", errors="replace")
        skip = _xfail_lines(text)
        for m in MENTION.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            target = xfail if line in skip else found
            if target is not None:
                target.setdefault(f"R{m.group(1)}", set()).add(rel)
    # own conformance vectors name R-numbers in their ids too
    for f in sorted((ROOT / "conformance").rglob("*.json")):
        rel = f.relative_to(ROOT).as_posix()
        for n in MENTION.findall(f.read_text(encoding="utf-8", errors="replace")):
            found.setdefault(f"R{n}", set()).add(rel)
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec-map")
    ap.add_argument("--format", choices=["md", "json"], default="md")
    ap.add_argument("-o", "--output")
    ap.add_argument("--check", action="store_true", help="compare with docs/requirements-coverage.md")
    a = ap.parse_args()
    sm = find_spec_map(a.spec_map)
    if sm is not None:
        reqs = requirements(sm)
    elif a.spec_map is None and TABLE.exists():
        # a checkout without the shared spec tree (a CI clone on its own): the committed table lists
        # every requirement id and level, which is all the Markdown output needs
        print(f"rcoverage: SPEC-MAP.md not found; using the requirement list of {TABLE.relative_to(ROOT)}",
              file=sys.stderr)
        reqs = table_requirements(TABLE)
    else:
        print("rcoverage: SPEC-MAP.md not found (use --spec-map)", file=sys.stderr)
        return 2
    xfail: dict[str, set[str]] = {}
    hits = mentions(ROOT / "tests", xfail)
    ids = {r for r, _, _ in reqs}
    bad = sorted(r for r in NOT_TESTED if r in hits or r not in ids)
    if bad:
        print(f"rcoverage: NOT_TESTED lists requirements that are tested or unknown: {', '.join(bad)}; "
              "remove them from the table", file=sys.stderr)
        return 1
    covered = [r for r, _, _ in reqs if r in hits]
    gaps = [r for r, _, _ in reqs if r not in hits and r in xfail]
    untested = [r for r, _, _ in reqs if r not in hits and r not in xfail and r not in NOT_TESTED]
    if a.format == "json":
        text = json.dumps(
            {
                "total": len(reqs),
                "covered": len(covered),
                "requirements": [
                    {"id": r, "level": lvl, "text": t, "files": sorted(hits.get(r, ())),
                     **({"xfail_files": sorted(xfail[r])} if r in gaps else {}),
                     **({"not_tested": NOT_TESTED[r]} if r in NOT_TESTED else {})}
                    for r, lvl, t in reqs
                ],
                "known_gaps": gaps,
                "not_tested": dict(sorted(NOT_TESTED.items())),
                "missing": untested,
            },
            indent=2,
        )
    else:
        lines = [
            "# Spec requirement coverage",
            "",
            "Generated by `python tools/rcoverage.py -o docs/requirements-coverage.md`; do not edit.",
            "A requirement counts as covered when a test (or an own conformance vector) names its R-number;",
            "a mention inside an `xfail` test does not count.",
            "",
            f"**{len(covered)} of {len(reqs)} requirements are named by at least one test.** "
            f"{len(gaps)} known gap(s) (only a strict-xfail test names them), {len(NOT_TESTED)} not testable "
            f"(see the last section), {len(untested)} with no test at all.",
            "",
            "Requirement texts: see SPEC-MAP.md §1 (not copied here).",
            "",
            "| R | level | tests |",
            "|---|---|---|",
        ]
        for r, lvl, _t in reqs:
            files = sorted(hits.get(r, ()))
            cell = ", ".join(f"`{Path(f).name}`" for f in files[:4]) + (f" +{len(files) - 4}" if len(files) > 4 else "")
            if not cell and r in gaps:
                cell = "known gap: xfail in " + ", ".join(f"`{Path(f).name}`" for f in sorted(xfail[r]))
            elif not cell and r in NOT_TESTED:
                cell = "not tested (see below)"
            lines.append(f"| {r} | {lvl} | {cell or '—'} |")
        if gaps:
            lines += ["", "## Known gaps (a strict-xfail test documents the missing behaviour)", ""]
            lines += [f"- {r}: " + ", ".join(f"`{f}`" for f in sorted(xfail[r])) for r in gaps]
        lines += ["", "## Not covered by a test, and why", "",
                  "Reviewed list `NOT_TESTED` in `tools/rcoverage.py`; these do not count as covered.", "",
                  "| R | level | reason |", "|---|---|---|"]
        levels = {r: lvl for r, lvl, _ in reqs}
        lines += [f"| {r} | {levels[r]} | {NOT_TESTED[r]} |" for r in sorted(NOT_TESTED)]
        if untested:
            lines += ["", "## No test and no reason (to do)", "", ", ".join(untested)]
        text = "\n".join(lines) + "\n"
    if a.check:
        cur = TABLE.read_text(encoding="utf-8") if TABLE.exists() else ""
        if cur != text:
            print("rcoverage: docs/requirements-coverage.md is stale; regenerate it", file=sys.stderr)
            return 1
        return 0
    if a.output:
        Path(a.output).write_text(text, encoding="utf-8")
        print(f"{len(covered)}/{len(reqs)} requirements covered -> {a.output}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
