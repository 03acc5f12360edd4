"""``aisc history RUN_ID``: export the execution history of a stored run."""

from __future__ import annotations

import argparse
import sys

HELP = "export the execution history of a run"
DESCRIPTION = (
    "Export one workflow record plus one step record per plan node: status, attempts, timings,\n"
    "transaction hashes, failure category, hook decisions and compensations. 'json' prints one\n"
    "document {workflow, steps}; 'jsonl' prints the workflow record then one line per step.\n"
    "Field list and status mapping: docs/durability.md."
)
EPILOG = "exit codes: 0 ok, 2 usage error, 3 unknown run or unreadable store"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", metavar="RUN_ID", help="the run to export")
    parser.add_argument("--store", metavar="PATH", help="run store (default $AISC_HOME/runs.db)")
    parser.add_argument("--format", choices=("json", "jsonl"), default="json", help="output format (json)")


def run(args: argparse.Namespace) -> int:
    from aisc import aisjson, exitcodes
    from aisc.diagnostics import Diagnostic, render
    from aisc.ir.plan import PlanError
    from aisc.runtime.history import from_store
    from aisc.runtime.store import SqliteStore, StoreError

    try:
        with SqliteStore(args.store) as store:
            wf, steps = from_store(store, args.run_id)
    except StoreError as e:
        print(render([Diagnostic(code=e.code, message=e.message, hint=e.hint)], "text"), file=sys.stderr)
        return exitcodes.INPUT
    except PlanError as e:
        print(render([e.to_diagnostic("the run store")], "text"), file=sys.stderr)
        return exitcodes.INPUT
    if args.format == "jsonl":
        print(aisjson.dumps(wf))
        for s in steps:
            print(aisjson.dumps(s))
    else:
        print(aisjson.dumps({"workflow": wf, "steps": steps}, pretty=True))
    return exitcodes.OK
