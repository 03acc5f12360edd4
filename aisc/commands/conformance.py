"""``aisc conformance``: run AIS conformance vectors; scaffold cases; print the file schema."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aisc.conformance import parallel

HELP = "run AIS conformance vectors (bundled suites by default)"
DESCRIPTION = """\
Run ais-conformance/0.0.2 vector files (files or folders; without PATH, every suite bundled with
aisc: the upstream AIS vectors and aisc's own). Each case is checked by the handler of its kind.

  aisc conformance [options] [PATH ...]        run vectors
  aisc conformance new-case --kind K [--id ID]  print a case skeleton for kind K
  aisc conformance schema [--extended]          print the vector file JSON schema
  aisc conformance list-kinds                   list the case kinds and their shapes"""
EPILOG = """\
exit codes:
  0  every selected case passed (cases of an unknown kind are reported, not failures)
  1  a case failed, or (with --strict) a case has an unknown kind
  2  usage error, unreadable or malformed vector file, or no case selected

A folder is searched recursively for *.json (folders named 'golden' are skipped).
See docs/conformance.md for how to write cases."""

SUBCOMMANDS = ("new-case", "schema", "list-kinds")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="vector files or folders (default: the bundled suites); or a subcommand")
    p.add_argument("--format", choices=("text", "json", "junit"), default="text",
                   help="report format (default: text)")
    p.add_argument("--kind", action="append", default=[], metavar="K",
                   help="only run cases of kind K (repeatable); with new-case: the kind to scaffold")
    p.add_argument("-k", dest="id_filters", action="append", default=[], metavar="SUBSTR",
                   help="only run cases whose id contains SUBSTR (repeatable: any of them)")
    p.add_argument("--strict", action="store_true",
                   help="a case of an unknown kind is an error (exit 1)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="text format: print only failures and the closing line")
    p.add_argument("-j", "--jobs", default="auto", metavar="N",
                   help="processes to run the cases in, grouped by handler module (default: auto = 2 "
                        "when this machine gives aisc two cores, else 1; 1 runs everything in this process)")
    p.add_argument("--id", dest="case_id", metavar="ID", help="new-case: the id of the new case")
    p.add_argument("--extended", action="store_true",
                   help="schema: also accept aisc's own kinds (any other kind with an object input)")


def _usage(msg: str) -> int:
    from aisc import exitcodes

    print(f"aisc conformance: {msg}", file=sys.stderr)
    return exitcodes.USAGE


def run(args: argparse.Namespace) -> int:
    paths: list[str] = list(args.paths)
    if paths and paths[0] in SUBCOMMANDS:
        sub, rest = paths[0], paths[1:]
        if rest:
            return _usage(f"{sub} takes no PATH arguments (got: {' '.join(rest)})")
        if sub == "new-case":
            return _new_case(args)
        if sub == "schema":
            return _schema(args)
        return _list_kinds(args)
    if args.case_id is not None or args.extended:
        return _usage("--id and --extended only apply to 'new-case' and 'schema'")
    return _run(args, paths)


def _jobs(value: str) -> int | None:
    """``--jobs``: ``auto`` or 1..MAX_JOBS; ``None`` when invalid."""
    from aisc.conformance import parallel

    if value == "auto":
        return parallel.auto_jobs()
    if value.isdigit() and 1 <= int(value) <= parallel.MAX_JOBS:
        return int(value)
    return None


def _run(args: argparse.Namespace, paths: list[str]) -> int:
    from aisc import gcpause
    from aisc.conformance import parallel

    jobs = _jobs(args.jobs)
    if jobs is None:
        return _usage(f"--jobs takes 'auto' or a whole number from 1 to {parallel.MAX_JOBS}, not {args.jobs!r}")
    # No cyclic collection during the run (workers inherit the pause): the imports and cases of a
    # cold run triggered ~170 of them, 14-17 ms in each process; peak memory is the same.
    # The workers start now and import what their cases need while this process reads the vectors.
    with gcpause.paused(), parallel.Pool.start(jobs, args.kind) as pool:
        return _load_and_run(args, paths, pool)


def _load_and_run(args: argparse.Namespace, paths: list[str], pool: parallel.Pool) -> int:
    from aisc import exitcodes
    from aisc.conformance import runner

    try:
        suites = runner.load(paths or None)
    except runner.ConformanceInputError as e:
        from aisc.diagnostics import render

        if args.format == "json":
            print(render(e.diagnostics, "json"))
        else:
            print(render(e.diagnostics, "text"), file=sys.stderr)
            print(f"aisc conformance: {len(e.diagnostics)} problem(s) in the vector files; nothing was run",
                  file=sys.stderr)
        return exitcodes.USAGE
    if not suites:
        return _usage("no ais-conformance/0.0.2 files found in " + " ".join(paths))
    report = runner.run(suites, kinds=args.kind, id_filters=args.id_filters, strict=args.strict, pool=pool)
    if not report.results:
        filters = [f"--kind {k}" for k in args.kind] + [f"-k {s}" for s in args.id_filters]
        return _usage("no case matches " + " ".join(filters) + " (see 'aisc conformance list-kinds')")
    from aisc.conformance import report as rendering

    if args.format == "json":
        print(rendering.render_json(report))
    elif args.format == "junit":
        print(rendering.render_junit(report))
    else:
        print(rendering.render_text(report, quiet=args.quiet))
    return exitcodes.OK if report.ok else exitcodes.FAILED


def _new_case(args: argparse.Namespace) -> int:
    from aisc import exitcodes
    from aisc.conformance.kinds_doc import KIND_DOCS, scaffold

    if len(args.kind) != 1:
        return _usage("new-case needs exactly one --kind K (see 'aisc conformance list-kinds')")
    kind = args.kind[0]
    if kind not in KIND_DOCS:
        from difflib import get_close_matches

        close = get_close_matches(kind, list(KIND_DOCS), n=3)
        hint = f" (did you mean: {', '.join(close)}?)" if close else ""
        return _usage(f"unknown kind {kind!r}{hint}; see 'aisc conformance list-kinds'")
    doc = KIND_DOCS[kind]
    if doc.planned:
        print(f"aisc conformance: note: the shape of {kind} is not documented yet ({doc.issue}); "
              "the skeleton has empty input/expect", file=sys.stderr)
    print(json.dumps(scaffold(kind, args.case_id), indent=2, ensure_ascii=False))
    return exitcodes.OK


def conformance_schema(*, extended: bool = False) -> dict[str, Any]:
    """The ``ais-conformance/0.0.2`` file schema shipped with aisc (upstream copy).

    ``extended`` adds one branch accepting any kind that is not an upstream kind, with an object
    ``input`` and an optional object ``expect`` (aisc's own suites use such kinds).
    """
    from importlib.resources import files

    text = files("aisc").joinpath("data", "schemas", "conformance.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    if not extended:
        return schema
    defs = schema["$defs"]
    upstream_kinds = [
        branch_def["properties"]["kind"]["const"]
        for ref in defs["Def_4"]["anyOf"]
        for branch_def in [defs[ref["$ref"].rsplit("/", 1)[-1]]]
    ]
    defs["AiscCase"] = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "kind": {"type": "string", "minLength": 1, "not": {"enum": upstream_kinds}},
            "input": {"type": "object"},
            "expect": {"type": "object"},
            "extensions": {"$ref": "#/$defs/extensions_10"},
        },
        "required": ["id", "kind", "input"],
        "additionalProperties": False,
    }
    defs["Def_4"]["anyOf"].append({"$ref": "#/$defs/AiscCase"})
    schema["$id"] = "urn:aisc:ais-conformance-extended:0.0.2"
    schema["title"] = "AIS Conformance Vectors (ais-conformance/0.0.2) with aisc's own kinds"
    return schema


def _schema(args: argparse.Namespace) -> int:
    from aisc import exitcodes

    if args.kind or args.id_filters or args.case_id:
        return _usage("schema takes no --kind/-k/--id")
    print(json.dumps(conformance_schema(extended=args.extended), indent=2, ensure_ascii=False))
    return exitcodes.OK


def _list_kinds(args: argparse.Namespace) -> int:
    from importlib.util import find_spec

    from aisc import exitcodes
    from aisc.conformance import registry
    from aisc.conformance.kinds_doc import KIND_DOCS, shape_text

    def feature_missing(module: str | None) -> bool:
        try:
            return module is not None and find_spec(module) is None
        except ImportError:
            return True

    available = registry.available_kinds()
    kinds = list(KIND_DOCS) + sorted(k for k in available if k not in KIND_DOCS)
    rows: list[dict[str, Any]] = []
    for kind in kinds:
        doc = KIND_DOCS.get(kind)
        res = registry.resolve(kind)
        if res.status == "ok" and not feature_missing(doc.feature if doc else None):
            status = "available"
        else:
            status = "planned" if doc and doc.planned else "not implemented"
        rows.append({
            "kind": kind,
            "status": status,
            "origin": doc.origin if doc else "aisc",
            "issue": doc.issue if doc else "",
            "module": res.module or "",
            "summary": doc.summary if doc else "(not documented in aisc.conformance.kinds_doc)",
            "input": shape_text(doc.input) if doc and not doc.planned else "",
            "expect": shape_text(doc.expect) if doc and not doc.planned else "",
            "check": doc.check if doc else "",
        })
    if args.format == "json":
        print(json.dumps({"kinds": rows}, indent=2, ensure_ascii=False))
        return exitcodes.OK
    width = max(len(r["kind"]) for r in rows)
    for r in rows:
        print(f"{r['kind']:<{width}}  {r['status']:<15}  {r['origin']:<8}  {r['summary']}")
        if r["input"]:
            print(f"{'':<{width}}  input:  {r['input']}")
            print(f"{'':<{width}}  expect: {r['expect']}")
    return exitcodes.OK
