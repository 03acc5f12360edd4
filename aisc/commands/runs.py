"""``aisc runs list|show RUN_ID``: the runs kept in the checkpoint store."""

from __future__ import annotations

import argparse
import sys
from typing import Any

HELP = "list or show runs kept in the checkpoint store"
DESCRIPTION = (
    "List the runs of the run store (newest first), or show one run: status, plan hash, node states,\n"
    "transaction intents (never the raw signed bytes) and notes (resumes, hook decisions,\n"
    "compensations). See docs/durability.md."
)
EPILOG = """\
examples:
  aisc runs list
  aisc runs list --status paused --format json
  aisc runs show 3f2a9c... --store ./runs.db

exit codes: 0 ok, 2 usage error, 3 unknown run or unreadable store
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("list", "show"), help="list the runs, or show one")
    parser.add_argument("run_id", nargs="?", metavar="RUN_ID", help="the run to show")
    parser.add_argument("--store", metavar="PATH", help="run store (default $AISC_HOME/runs.db)")
    parser.add_argument("--status", metavar="STATUS", help="list only runs with this status")
    parser.add_argument("--limit", type=int, metavar="N", help="list at most N runs")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def run(args: argparse.Namespace) -> int:
    from aisc import aisjson, exitcodes
    from aisc.diagnostics import Diagnostic, render
    from aisc.runtime.store import SqliteStore, StoreError, states_of

    if args.action == "show" and not args.run_id:
        print("aisc runs: 'show' needs a RUN_ID", file=sys.stderr)
        return exitcodes.USAGE
    try:
        store = SqliteStore(args.store)
    except StoreError as e:
        print(render([Diagnostic(code=e.code, message=e.message, hint=e.hint)], args.format), file=sys.stderr)
        return exitcodes.INPUT
    with store:
        if args.action == "list":
            runs = [r.summary() for r in store.list_runs(status=args.status, limit=args.limit)]
            if args.format == "json":
                print(aisjson.dumps({"runs": runs}, pretty=True))
            else:
                from aisc.runtime.progress import summary_table

                rows = [[r["run_id"], r["status"], r["category"] or "", r["workflow"] or "", r["created_at"],
                         r["updated_at"]] for r in runs]
                print(summary_table(rows, ["run", "status", "category", "workflow", "created", "updated"]))
            return exitcodes.OK
        try:
            rec = store.get_run(args.run_id)
        except StoreError as e:
            print(render([Diagnostic(code=e.code, message=e.message, hint=e.hint)], args.format), file=sys.stderr)
            return exitcodes.INPUT
        doc: dict[str, Any] = {**rec.summary(), "nodes": states_of(rec.state),
                               "intents": [i.public() for i in store.intents(rec.run_id)],
                               "notes": store.notes(rec.run_id)}
        if args.format == "json":
            print(aisjson.dumps(doc, pretty=True))
            return exitcodes.OK
        from aisc.runtime.progress import summary_table

        for k in ("run_id", "status", "category", "workflow", "plan_hash", "created_at", "updated_at",
                  "checkpoints", "error"):
            if doc.get(k) is not None:
                print(f"{k + ':':<13} {doc[k]}")
        if doc["nodes"]:
            print()
            print(summary_table([[n, s] for n, s in doc["nodes"].items()], ["node", "state"]))
        if doc["intents"]:
            print()
            print(summary_table([[i["node_id"], str(i["attempt"]), i["tx_id"], str(i["nonce"] if i["nonce"] is not None
                                                                                   else i["blockhash"] or ""),
                                  i["status"]] for i in doc["intents"]],
                                ["node", "attempt", "tx", "nonce/blockhash", "status"]))
        for n in doc["notes"]:
            print(f"note {n['ts']} {n['kind']}{' ' + n['node_id'] if n['node_id'] else ''}: "
                  f"{aisjson.dumps(n['data'])}")
        return exitcodes.OK
