"""``aisc check PATH...``: load and strictly check AIS documents; report every diagnostic at once."""

from __future__ import annotations

import argparse
import os
import sys

HELP = "load and strictly check AIS documents (files or directories)"
DESCRIPTION = (
    "Load every AIS document under the given paths (directories are walked recursively for\n"
    ".ais.yaml, .ais-pack.yaml, .ais-flow.yaml, .yml variants and .json), check them against the\n"
    "strict schemas and run the protocol semantic checks. All diagnostics are reported at once."
)
EPILOG = "exit codes: 0 clean (warnings allowed), 1 errors found, 2 usage error (e.g. a missing path)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or directories to check")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output format")
    parser.add_argument("-q", "--quiet", action="store_true", help="print errors only, no summary")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colored text output")


def run(args: argparse.Namespace) -> int:
    from aisc import __version__, exitcodes
    from aisc.diagnostics import Diagnostic, has_errors, render, sort_diagnostics
    from aisc.frontend import collect_paths, load_file

    files, missing = collect_paths(args.paths)
    if missing:
        for d in missing:
            print(f"aisc check: {d.message}", file=sys.stderr)
        return exitcodes.USAGE
    diags: list[Diagnostic] = []
    for f in files:
        doc = load_file(f)
        diags.extend(doc.diagnostics)
        if doc.kind == "protocol" and doc.document is not None:
            from aisc.passes.protocol_semantics import check_protocol

            diags.extend(check_protocol(doc.document))
    diags = sort_diagnostics(diags)
    if args.quiet:
        diags = [d for d in diags if d.is_error]
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    if args.format != "text" or diags:
        out = render(diags, args.format, tool_version=__version__, color=color)
        if out:
            print(out)
    errors = sum(1 for d in diags if d.is_error)
    warnings = sum(1 for d in diags if d.severity == "warning")
    if args.format == "text" and not args.quiet:
        print(f"checked {len(files)} document{'s' if len(files) != 1 else ''}: "
              f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}",
              file=sys.stderr)
    return exitcodes.FAILED if has_errors(diags) else exitcodes.OK
