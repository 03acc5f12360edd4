"""``aisc bundle WORKFLOW -o FILE``: compile a workflow and pack the plan with its sources."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

HELP = "pack a compiled plan with its sources into an offline bundle"
DESCRIPTION = (
    "Compile WORKFLOW and write an offline bundle (.tar.gz): the plan, every source document it came\n"
    "from (workflow, pack, protocols, in their folder layout) and manifest.json with the sha256 and\n"
    "specHash of each member and the plan hash. The archive is deterministic: with SOURCE_DATE_EPOCH\n"
    "set, the same inputs give the same bytes. Check a bundle with 'aisc verify', run it with\n"
    "'aisc run BUNDLE' (which verifies it first). See docs/compat.md.\n\n"
    "  aisc bundle flow.ais-flow.yaml --pack safe.ais-pack.yaml -o flow.bundle.tar.gz"
)
EPILOG = "exit codes: 0 written, 1 the workflow has errors (nothing written), 2 usage error"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workflow", metavar="WORKFLOW", help="the workflow (or plan skeleton) to compile")
    parser.add_argument("--pack", metavar="P", help="the pack (.ais-pack.yaml) to enforce")
    parser.add_argument("--workspace", metavar="DIR", help="folder of protocol/pack documents (env AISC_WORKSPACE)")
    parser.add_argument("-o", "--output", metavar="FILE", required=True, help="the bundle to write (.tar.gz)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="diagnostics format")


def run(args: argparse.Namespace) -> int:
    from aisc import __version__, exitcodes
    from aisc.diagnostics import CompilationFailed, render

    for path, what, check in ((args.workflow, "workflow", os.path.isfile), (args.pack, "pack", os.path.isfile),
                              (args.workspace, "workspace folder", os.path.isdir)):
        if path is not None and not check(path):
            print(f"aisc bundle: no such {what}: {path}", file=sys.stderr)
            return exitcodes.USAGE
    from aisc.bundles import build_bundle

    try:
        data, manifest = build_bundle(args.workflow, pack=args.pack, workspace=args.workspace)
    except CompilationFailed as e:
        print(render(e.diagnostics, args.format, tool_version=__version__), file=sys.stderr)
        return exitcodes.FAILED
    out = os.path.abspath(args.output)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".aisc-bundle-", dir=os.path.dirname(out))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, out)
    except OSError as e:
        print(f"aisc bundle: cannot write {args.output}: {e.strerror}", file=sys.stderr)
        return exitcodes.USAGE
    n = len(manifest["members"])
    print(f"wrote {args.output}: {n} members + manifest, plan hash {manifest['plan']['plan_hash']}", file=sys.stderr)
    return exitcodes.OK
