"""``aisc catalog DIR``: an ``ais-catalog/0.0.1`` of the documents in a folder (R040–R046)."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "build an ais-catalog/0.0.1 of the documents in a directory"
DESCRIPTION = (
    "Build a catalog (ais-catalog/0.0.1) of every protocol, pack and workflow under DIR: action and\n"
    "query cards, pack cards and document hashes, stably sorted. 'hash' is sha256 over the canonical\n"
    "JSON without created_at, so the same documents always give the same hash; created_at comes from\n"
    "SOURCE_DATE_EPOCH when set."
)
EPILOG = "exit codes: 0 written (broken documents are listed with kind 'error'), 2 usage error"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", help="folder of AIS documents (walked recursively)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the catalog here (default: stdout)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                        help="diagnostics format for documents that fail to load")


def run(args: argparse.Namespace) -> int:
    import os

    from aisc import exitcodes
    from aisc.frontend import collect_paths, load_file
    from aisc.passes.catalog import build_catalog
    from aisc.passes.lower import created_at
    from aisc.passes.model import Options

    if not os.path.isdir(args.directory):
        print(f"aisc catalog: not a directory: {args.directory}", file=sys.stderr)
        return exitcodes.USAGE
    files, _ = collect_paths([args.directory])
    docs = [load_file(f) for f in files]
    cat = build_catalog(docs, root=args.directory, created_at=created_at(Options()))
    text = json.dumps(cat, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {args.output}: {len(cat['actions'])} actions, {len(cat['queries'])} queries, "
              f"{len(cat['packs'])} packs", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return exitcodes.OK
