"""``aisc verify BUNDLE``: check an offline bundle before trusting it."""

from __future__ import annotations

import argparse
import json
import os
import sys

HELP = "verify an offline bundle's digests and specHashes"
DESCRIPTION = (
    "Check an offline bundle made by 'aisc bundle': safe member names (no absolute paths, '..', links,\n"
    "duplicates or oversize members), the manifest's own digest, the size, sha256 and specHash of every\n"
    "member, the plan hash, and that the bundled sources recompile to exactly the bundled plan.\n"
    "Every problem names the member it concerns. 'aisc run BUNDLE' runs the same checks first."
)
EPILOG = "exit codes: 0 the bundle is intact, 1 it is not (diagnostics name the members), 2 usage error"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", metavar="BUNDLE", help="the bundle (.tar.gz) to check")
    parser.add_argument("--no-recompile", action="store_true",
                        help="skip recompiling the sources (digests and hashes are still checked)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output format")


def run(args: argparse.Namespace) -> int:
    from aisc import __version__, exitcodes
    from aisc.diagnostics import render

    if not os.path.isfile(args.bundle):
        print(f"aisc verify: no such file: {args.bundle}", file=sys.stderr)
        return exitcodes.USAGE
    from aisc.bundles import verify_bundle

    v = verify_bundle(args.bundle, recompile=not args.no_recompile)
    if args.format == "json":
        m = v.manifest or {}
        print(json.dumps({"ok": v.ok, "bundle": args.bundle, "recompiled": v.recompiled,
                          "plan_hash": (m.get("plan") or {}).get("plan_hash"),
                          "members": [e["path"] for e in m.get("members") or []],
                          "diagnostics": [d.to_json() for d in v.diagnostics]}, indent=2, sort_keys=True))
    else:
        if v.diagnostics:
            print(render(list(v.diagnostics), args.format, tool_version=__version__), file=sys.stderr)
        if v.ok and v.manifest is not None and args.format == "text":
            n = len(v.manifest["members"])
            how = "recompiled to identical bytes" if v.recompiled else "recompile skipped"
            print(f"{args.bundle}: OK ({n} members, plan hash {v.manifest['plan']['plan_hash']}, {how})")
    return exitcodes.OK if v.ok else exitcodes.FAILED
