"""``aisc hash FILE...``: the specHash of each document (YAML → data model → JCS → keccak256)."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "print the specHash (JCS + keccak256) of a document"
DESCRIPTION = (
    "Print the specHash of each AIS document: the file is parsed (YAML 1.2 or JSON) into the JSON\n"
    "data model, canonicalized with JCS (RFC 8785) and hashed with keccak256 (\"0x\" + 64 hex digits).\n"
    "Formatting, comments and key order do not change the hash."
)
EPILOG = "exit codes: 0 hashed, 1 a document has errors, 2 usage error (missing file)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="documents to hash")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                        help="text: '<hash>  <file>' lines; json: [{file, hash}]; diagnostics use it too")


def run(args: argparse.Namespace) -> int:
    import os

    from aisc import __version__, exitcodes
    from aisc.diagnostics import render
    from aisc.frontend import load_file
    from aisc.jcs import JcsError, spec_hash

    for f in args.files:
        if not os.path.isfile(f):
            print(f"aisc hash: no such file: {f}", file=sys.stderr)
            return exitcodes.USAGE
    results: list[dict[str, str]] = []
    diags = []
    for f in args.files:
        doc = load_file(f)
        errors = [d for d in doc.diagnostics if d.is_error and d.code.startswith("AISC-LOAD")]
        if errors or doc.raw is None:
            diags.extend(errors or doc.diagnostics)
            continue
        try:
            results.append({"file": f, "hash": spec_hash(doc.raw)})
        except JcsError as e:
            print(f"aisc hash: {f}: {e}", file=sys.stderr)
            return exitcodes.FAILED
    if diags:
        print(render(diags, args.format, tool_version=__version__), file=sys.stderr)
        return exitcodes.FAILED
    if args.format == "json":
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"{r['hash']}  {r['file']}")
    return exitcodes.OK
