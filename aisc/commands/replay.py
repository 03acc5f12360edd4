"""``aisc replay --trace FILE | --run RUN_ID [--until-node N]``: re-render a recorded run."""

from __future__ import annotations

import argparse
import sys
from typing import Any

HELP = "replay a trace or a stored run, optionally up to a node"
DESCRIPTION = (
    "Re-render the progress and the summary of a run from its recorded events (a --trace or\n"
    "--events-jsonl file, or a run in the store); nothing is executed. With --until-node N, stop\n"
    "when N completes and print the runtime state at that point ('--show-state'): from a stored run\n"
    "it is the exact checkpoint; from a trace it is rebuilt from the events (reads exact, writes\n"
    "approximate). See docs/durability.md."
)
EPILOG = "exit codes: 0 ok, 2 usage error, 3 unreadable trace, unknown run or node"


def configure(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--trace", metavar="FILE", help="a trace or events JSON-lines file")
    src.add_argument("--run", metavar="RUN_ID", help="a run of the store")
    parser.add_argument("--store", metavar="PATH", help="run store for --run (default $AISC_HOME/runs.db)")
    parser.add_argument("--until-node", metavar="NODE", help="stop when this node completes")
    parser.add_argument("--show-state", action="store_true", help="print the runtime state at the end")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def _fail(code: str, message: str, hint: str) -> int:
    from aisc import exitcodes
    from aisc.diagnostics import Diagnostic, render

    print(render([Diagnostic(code=code, message=message, hint=hint)], "text"), file=sys.stderr)
    return exitcodes.INPUT


def run(args: argparse.Namespace) -> int:
    from aisc import aisjson, exitcodes
    from aisc.runtime.replay import ReplayError, replay_events, state_from_checkpoints
    from aisc.runtime.store import SqliteStore, StoreError
    from aisc.runtime.trace import TraceError, read_trace

    stored: dict[str, Any] | None = None
    try:
        if args.trace:
            records = read_trace(args.trace)
        else:
            with SqliteStore(args.store) as store:
                store.get_run(args.run)
                records = store.events(args.run)
                checkpoints = store.checkpoints(args.run)
            if args.until_node or args.show_state:
                stored = state_from_checkpoints(checkpoints, args.until_node)
        folded = replay_events(records, args.until_node)
    except TraceError as e:
        return _fail("AISC-REPLAY-001", f"{args.trace}: {e}", "pass a file written by --trace or --events-jsonl")
    except StoreError as e:
        return _fail(e.code, e.message, e.hint)
    except ReplayError as e:
        return _fail("AISC-REPLAY-002", str(e), "pick a node id of the plan that ran (see 'aisc runs show')")
    state = stored if stored is not None else {"root": folded["root"], "exact": folded["exact"]}
    if args.format == "json":
        doc: dict[str, Any] = {k: folded[k] for k in ("run_id", "events", "states", "status", "until_node")}
        if args.show_state or args.until_node:
            doc["state"] = state
        print(aisjson.dumps(doc, pretty=True))
        return exitcodes.OK
    from aisc.runtime.progress import ProgressView, summary_table

    ids = list(folded["states"])
    view = ProgressView(sys.stdout, ids, live=False)
    for rec in records[: folded["events"]]:
        view.emit(rec)
    print(summary_table([[n, s, folded["notes"].get(n, "")] for n, s in folded["states"].items()],
                        ["node", "state", "note"]))
    print(f"run {folded['run_id']}: {folded['status']} ({folded['events']} events"
          + (f", until node {args.until_node}" if args.until_node else "") + ")")
    if args.show_state or args.until_node:
        print(aisjson.dumps(state, pretty=True))
    return exitcodes.OK
