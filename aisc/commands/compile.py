"""``aisc compile``: a workflow (or a tree of them) → ``ais-plan/0.0.3`` artefacts."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from typing import Any

HELP = "compile a workflow (or a tree of them) to an ais-plan/0.0.3 artefact"
DESCRIPTION = (
    "Compile a workflow (.ais-flow.yaml) or a plan skeleton to an ais-plan/0.0.3 JSON plan: strict\n"
    "checks, imports, the pack boundary, capabilities, numeric literals, static policy, then lowering.\n"
    "The plan is canonical JSON (sorted keys); meta.created_at comes from SOURCE_DATE_EPOCH when set.\n\n"
    "  aisc compile flow.ais-flow.yaml -o plan.json\n"
    "  aisc compile flow.ais-flow.yaml --pack safe.ais-pack.yaml --workspace specs/\n"
    "  aisc compile workflows/ -o plans/        (every workflow; writes nothing on any error)\n"
    "  aisc compile --example bridge-send-wait-deposit -o plan.json\n"
    "  aisc compile flow.ais-flow.yaml --emit checked   (sources|documents|workspace|checked|plan)"
)
EPILOG = (
    "exit codes: 0 compiled (warnings allowed), 1 errors found (nothing written), 2 usage error\n"
    "environment: AISC_WORKSPACE (default --workspace), SOURCE_DATE_EPOCH (reproducible created_at)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", metavar="WORKFLOW|DIR", help="workflow, plan skeleton or directory")
    parser.add_argument("--pack", metavar="P", help="the pack (.ais-pack.yaml) to enforce")
    parser.add_argument("--workspace", metavar="DIR", help="folder of protocol/pack documents (env AISC_WORKSPACE)")
    parser.add_argument("-o", "--output", metavar="PATH", help="plan file (or output folder for a DIR)")
    parser.add_argument("--emit", choices=("sources", "documents", "workspace", "checked", "plan"), default="plan",
                        help="which compilation phase to print (default: plan)")
    parser.add_argument("--example", metavar="NAME", help="compile a bundled example workflow")
    parser.add_argument("--capability", action="append", metavar="ID",
                        help="an engine capability to add to aisc's own set (repeatable)")
    parser.add_argument("--default-chain", metavar="CAIP2", help="chain for nodes without one and no default_chain")
    parser.add_argument("--no-extensions", action="store_true",
                        help="omit extensions.aisc (runtime guards, pack data, plan hash)")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="diagnostics format")
    parser.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colored text output")


def run(args: argparse.Namespace) -> int:
    from aisc import exitcodes

    if args.example:
        if args.target:
            return _usage("give either WORKFLOW or --example, not both")
        found = _example(args.example, args.workspace or os.environ.get("AISC_WORKSPACE"))
        if isinstance(found, int):
            return found
        args.target, args.workspace = found
    if not args.target:
        return _usage("missing WORKFLOW (or DIR, or --example NAME)")
    if not os.path.exists(args.target):
        return _usage(f"no such file or directory: {args.target}")
    if os.path.isdir(args.target):
        if not args.output:
            return _usage("compiling a directory needs -o OUTDIR")
        return _compile_tree(args)
    if args.pack and not os.path.isfile(args.pack):
        return _usage(f"no such pack file: {args.pack}")
    if args.workspace and not os.path.isdir(args.workspace):
        return _usage(f"no such workspace folder: {args.workspace}")
    from aisc.compiler import Compilation, plan_text
    from aisc.diagnostics import CompilationFailed

    c = Compilation(args.target, pack=args.pack, workspace=args.workspace, options=_options(args))
    try:
        if args.emit == "plan":
            text = plan_text(c.plan)
        else:
            text = json.dumps(c.emit(args.emit), indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
        diags = list(c.diagnostics)
    except CompilationFailed as e:
        _report(list(e.diagnostics), args, to_stdout=bool(args.output))
        return exitcodes.FAILED
    _report(diags, args, to_stdout=bool(args.output))
    if args.output:
        _write_atomic(args.output, text)
        if not args.quiet and args.format == "text":
            extra = ""
            if args.emit == "plan":
                import re

                m = re.search(r'"plan_hash": "(0x[0-9a-f]+)"', text)
                extra = f" ({len(c.plan['nodes'])} nodes{', plan_hash ' + m.group(1) if m else ''})"
            print(f"wrote {args.output}{extra}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return exitcodes.OK


def _options(args: argparse.Namespace) -> Any:
    from aisc.passes.capabilities import ENGINE_CAPABILITIES
    from aisc.passes.model import Options

    caps = None
    if args.capability:
        caps = tuple(ENGINE_CAPABILITIES) + tuple(args.capability)
    return Options(default_chain=args.default_chain, capabilities=caps, aisc_extensions=not args.no_extensions)


def _example(name: str, workspace: str | None) -> tuple[str, str] | int:
    from aisc import exitcodes

    if workspace:
        root = workspace
    else:
        from importlib import resources

        root = str(resources.files("aisc") / "data" / "examples")
    for suffix in (".ais-flow.yaml", ".ais-flow.yml", ".ais-plan-skeleton.json", ".json", ""):
        cand = os.path.join(root, name + suffix)
        if os.path.isfile(cand):
            return cand, root
    names = sorted(f.split(".ais-flow.")[0] for f in os.listdir(root) if ".ais-flow." in f) if os.path.isdir(root) else []
    print(f"aisc compile: no example named {name!r} in {root}", file=sys.stderr)
    if names:
        print(f"examples: {', '.join(names)}", file=sys.stderr)
    return exitcodes.USAGE


def _compile_tree(args: argparse.Namespace) -> int:
    """Every workflow under DIR; all or nothing (temp folder, renamed into place at the end)."""
    from aisc import exitcodes
    from aisc.compiler import Compilation, WorkspaceCache, plan_text
    from aisc.diagnostics import CompilationFailed, Diagnostic
    from aisc.frontend import collect_paths, load_file

    root = args.target
    files, missing = collect_paths([root] + ([args.workspace] if args.workspace else []))
    if missing:
        return _usage(missing[0].message)
    docs = [load_file(f) for f in files]
    cache = WorkspaceCache(docs)
    entries = [d for d in docs if d.kind in ("workflow", "plan_skeleton")
               and os.path.realpath(d.file).startswith(os.path.realpath(root) + os.sep)]
    diags: list[Diagnostic] = []
    outputs: dict[str, str] = {}
    failed = False
    for d in entries:
        c = Compilation(d.file, pack=args.pack, workspace=root, options=_options(args), shared=cache,
                        entry_document=d)
        try:
            outputs[_out_name(root, d.file)] = plan_text(c.plan)
            diags.extend(c.diagnostics)
        except CompilationFailed as e:
            failed = True
            diags.extend(e.diagnostics)
    _report(diags, args, to_stdout=True)
    if failed:
        print(f"aisc compile: errors in {root}; nothing written", file=sys.stderr)
        return exitcodes.FAILED
    out = os.path.abspath(args.output)
    parent = os.path.dirname(out) or "."
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".aisc-compile-", dir=parent)
    try:
        for rel, text in outputs.items():
            dest = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        old = None
        if os.path.exists(out):
            old = tempfile.mkdtemp(prefix=".aisc-old-", dir=parent)
            os.rmdir(old)
            os.rename(out, old)
        os.rename(tmp, out)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not args.quiet and args.format == "text":
        print(f"wrote {len(outputs)} plan(s) to {args.output}", file=sys.stderr)
    return exitcodes.OK


def _out_name(root: str, file: str) -> str:
    rel = os.path.relpath(file, root)
    for suf in (".ais-flow.yaml", ".ais-flow.yml", ".ais-flow.json", ".ais-plan-skeleton.json", ".json"):
        if rel.endswith(suf):
            rel = rel[: -len(suf)]
            break
    return rel + ".plan.json"


def _write_atomic(path: str, text: str) -> None:
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".aisc-", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _report(diags: list[Any], args: argparse.Namespace, *, to_stdout: bool) -> None:
    from aisc import __version__
    from aisc.diagnostics import render, sort_diagnostics

    diags = sort_diagnostics(diags)
    if args.quiet:
        diags = [d for d in diags if d.is_error]
    if not diags and args.format == "text":
        return
    stream = sys.stdout if (to_stdout and args.format != "text") else sys.stderr
    color = args.color == "always" or (args.color == "auto" and stream.isatty() and not os.environ.get("NO_COLOR"))
    out = render(diags, args.format, tool_version=__version__, color=color)
    if out:
        print(out, file=stream)


def _usage(msg: str) -> int:
    from aisc import exitcodes

    print(f"aisc compile: {msg}", file=sys.stderr)
    return exitcodes.USAGE
