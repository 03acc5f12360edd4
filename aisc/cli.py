"""The ``aisc`` command line: parse arguments, call one command module, return its exit code.

Thin by design: each subcommand lives in ``aisc.commands.<module>`` and exposes ``HELP`` (one line),
``configure(parser)`` and ``run(args) -> int``. Only the chosen command's module is imported, so
``aisc --version`` and ``aisc --help`` stay fast (cold start matters).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from typing import Any, NoReturn

# name -> (module, one-line help). The one-line help is duplicated here so ``aisc --help`` does not
# import every command.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("check", "load and strictly check AIS documents (files or directories)"),
    "compile": ("compile", "compile a workflow (or a tree of them) to an ais-plan/0.0.3 artefact"),
    "eval": ("eval", "evaluate one AIS CEL expression against a context"),
    "hash": ("hash", "print the specHash (JCS + keccak256) of a document"),
    "catalog": ("catalog", "build an ais-catalog/0.0.1 of the documents in a directory"),
    "run": ("run", "execute a plan, a workflow or a bundle against EVM/Solana backends"),
    "demo": ("demo", "compile and run a bundled example on the in-process Solana VM"),
    "runs": ("runs", "list or show runs kept in the checkpoint store"),
    "history": ("history", "export the execution history of a run"),
    "replay": ("replay", "replay a trace or a stored run, optionally up to a node"),
    "plan-diff": ("plan_diff", "compare two plans"),
    "bridge": ("bridge", "one-JSON bridge mode for orchestrators (exec-workflow, exec-capability)"),
    "conformance": ("conformance", "run AIS conformance vectors (bundled suites by default)"),
    "bundle": ("bundle", "pack a compiled plan with its sources into an offline bundle"),
    "verify": ("verify", "verify an offline bundle's digests and specHashes"),
}

EPILOG = """\
exit codes:
  0  ok                          4  paused, awaiting confirmation
  1  errors found / run failed   5  policy blocked
  2  usage error                 6  timeout
  3  input error (nothing ran)   7  cancelled
 70  internal error (aisc bug)   8  bridge output failed --schema-path

Run 'aisc COMMAND --help' for the options of one command.
"""


def _top_parser() -> argparse.ArgumentParser:
    from aisc import __version__

    p = argparse.ArgumentParser(
        prog="aisc",
        description="aisc: check, compile and run AIS (Agent Interaction Spec) documents.",
        epilog="commands:\n"
        + "\n".join(f"  {name:<12} {helptext}" for name, (_, helptext) in COMMANDS.items())
        + "\n\n"
        + EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"aisc {__version__}")
    p.add_argument("command", nargs="?", help=argparse.SUPPRESS)
    return p


def _command_parser(name: str, mod: Any) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"aisc {name}",
        description=getattr(mod, "DESCRIPTION", None) or mod.HELP,
        epilog=getattr(mod, "EPILOG", None),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mod.configure(p)
    return p


def main(argv: list[str] | None = None) -> int:
    from aisc import exitcodes

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # the common probe: answer without building the argparse parser
        from aisc import __version__

        print(f"aisc {__version__}")
        return exitcodes.OK
    if not argv or argv[0] in ("-h", "--help", "--version") or argv[0] not in COMMANDS:
        top = _top_parser()
        if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
            close = [c for c in COMMANDS if c.startswith(argv[0][:2])]
            hint = f" (did you mean: {', '.join(close)}?)" if close else ""
            print(f"aisc: unknown command '{argv[0]}'{hint}", file=sys.stderr)
            print("run 'aisc --help' for the list of commands", file=sys.stderr)
            return exitcodes.USAGE
        try:
            top.parse_args(argv)
        except SystemExit as e:
            return int(e.code or 0)
        top.print_help()
        return exitcodes.USAGE if not argv else exitcodes.OK
    name = argv[0]
    mod = importlib.import_module(f"aisc.commands.{COMMANDS[name][0]}")
    parser = _command_parser(name, mod)
    try:
        args = parser.parse_args(argv[1:])
    except SystemExit as e:
        return exitcodes.USAGE if e.code not in (0, None) else exitcodes.OK
    try:
        return int(mod.run(args))
    except KeyboardInterrupt:
        print("aisc: interrupted", file=sys.stderr)
        return exitcodes.CANCELLED
    except BrokenPipeError:
        return exitcodes.OK
    except Exception as e:  # the last line of defence: never a traceback to a user
        import os
        import traceback

        print(f"aisc: internal error (this is an aisc bug, please report it): {type(e).__name__}: {e}",
              file=sys.stderr)
        if os.environ.get("AISC_DEBUG"):
            traceback.print_exc()
        else:
            print("aisc: set AISC_DEBUG=1 to see the traceback", file=sys.stderr)
        return exitcodes.INTERNAL


def entry() -> NoReturn:
    """The ``aisc`` program (console script and ``python -m aisc``): :func:`main`, then exit.

    Before the interpreter shuts down, every object still alive is frozen (:func:`gc.freeze`): the
    shutdown's full collections then skip them. Those collections walk all of eth-abi's, lark's and
    the IR's module-level objects and took 60-100 ms of a ~400 ms ``aisc conformance`` (10 ms
    frozen). Everything else of the shutdown is unchanged: atexit handlers run, files are flushed and
    closed, modules are torn down and reference counting frees what it frees. Only cyclic garbage
    still uncollected at exit is left to the operating system; nothing of aisc's relies on its
    finalizers (stores, traces and event sinks are closed by the commands themselves).
    In-process callers (tests, embedders) use :func:`main`, which freezes nothing.
    """
    code = main()
    gc.freeze()
    raise SystemExit(code)


if __name__ == "__main__":
    entry()
