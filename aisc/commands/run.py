"""``aisc run PLAN.json | WORKFLOW``: execute a plan against EVM/Solana backends."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

HELP = "execute a plan, a workflow or a bundle against EVM/Solana backends"
DESCRIPTION = (
    "Run an ais-plan/0.0.3 (or compile a workflow first, then run it). Nodes run in dependency order\n"
    "with the policy gate in front of every write. When a node needs a confirmation the run pauses:\n"
    "on a terminal you are asked y/N; with a pipe on stdin, JSON-line commands are read\n"
    "(user_confirm, apply_patches, select_provider, cancel). See docs/runtime.md."
)
EPILOG = """\
examples:
  aisc run plan.json --inputs '{"amount": "1000000"}' --ctx ctx.yaml --config chains.yaml
  aisc run plan.json --dry-run
  aisc run flow.ais-flow.yaml --pack safe.ais-pack.yaml --events-jsonl - --yes

exit codes: 0 done, 1 a node failed, 2 usage error, 3 input error (nothing ran),
4 paused awaiting confirmation, 5 policy blocked, 6 timeout, 7 cancelled
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="PLAN_OR_WORKFLOW", nargs="?",
                        help="a plan JSON file, or a workflow to compile (omit with --resume)")
    parser.add_argument("--inputs", metavar="FILE|JSON", help="workflow inputs: a JSON/YAML file or inline JSON")
    parser.add_argument("--ctx", metavar="FILE|JSON", help="runtime context (wallet_address, ...): file or inline")
    parser.add_argument("--config", metavar="FILE|JSON", help="chains → backend, RPC URL, signer reference")
    parser.add_argument("--pack", metavar="PACK", help="the pack to enforce when compiling a workflow")
    parser.add_argument("--workspace", metavar="DIR", help="protocol/pack folder when compiling a workflow")
    parser.add_argument("--events-jsonl", metavar="PATH|-", help="write engine events as JSON lines ('-' = stdout)")
    parser.add_argument("--trace-redact", choices=("default", "audit", "off"), default="default",
                        help="event redaction mode (private keys are always removed)")
    parser.add_argument("--yes", action="store_true", help="confirm policy approvals (never clears a hard block)")
    parser.add_argument("--dry-run", action="store_true", help="evaluate readiness and policy; execute nothing")
    parser.add_argument("--simulate", action="store_true",
                        help="simulate every write before broadcast (eth_call + estimateGas, Solana simulate); "
                             "a failing simulation blocks the write. Also on when the workflow sets preflight.simulate")
    parser.add_argument("--max-concurrency", type=int, default=8, metavar="N", help="nodes running at once (8)")
    parser.add_argument("--run-id", metavar="ID", help="run id for events (default: random)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="diagnostics format")
    from aisc.commands import _durability

    _durability.add_arguments(parser)


# ------------------------------------------------------------------ input loading


class _InputError(Exception):
    def __init__(self, code: str, message: str, hint: str, path: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.hint, self.path = code, message, hint, path


def load_data(spec: str, what: str) -> Any:
    """A JSON/YAML file or inline JSON/YAML text → plain data (ais-json tags revived; numbers exact, no floats)."""
    from aisc import aisjson

    text = spec
    name = f"--{what}"
    if os.path.isfile(spec):
        name = spec
        try:
            with open(spec, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as e:
            raise _InputError("AISC-RUN-001", f"cannot read {spec}: {e.strerror}", "check the path", None) from None
    elif spec.endswith((".json", ".yaml", ".yml")):
        raise _InputError("AISC-RUN-001", f"no such file: {spec}", f"give a file path or inline JSON for --{what}")
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")) or name.endswith(".json"):
        try:
            return aisjson.loads(text)
        except ValueError as e:
            if name.endswith(".json"):
                raise _InputError("AISC-RUN-002", f"{name} is not valid JSON: {e}", "fix the JSON syntax") from None
    from aisc.frontend import parse_data

    node, diags = parse_data(text, name if name.endswith((".yaml", ".yml")) else f"<{name}>.yaml")
    errors = [d for d in diags if d.is_error]
    if node is None or errors:
        first = errors[0] if errors else None
        where = f" ({first.span})" if first is not None and first.span is not None else ""
        raise _InputError("AISC-RUN-002", f"{name} is neither JSON nor YAML{where}: "
                          f"{first.message if first else 'empty document'}",
                          "pass a file path, or inline JSON such as '{\"amount\": \"100\"}'") from None
    return aisjson.revive(node.value)  # type: ignore[attr-defined]


def _object(v: Any, what: str) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, Mapping):
        raise _InputError("AISC-RUN-003", f"--{what} must be an object (a map of names to values)",
                          "wrap the values in an object: {\"name\": value}", "$")
    return dict(v)


def _load_plan(args: argparse.Namespace) -> Any:
    from aisc import aisjson
    from aisc.ir.plan import PlanError, plan_from_json

    target = args.target
    if not os.path.isfile(target):
        raise _InputError("AISC-RUN-001", f"no such file: {target}", "give the path of a plan JSON or a workflow")
    obj = None
    from aisc.bundles import BundleError, is_bundle, load_verified_bundle

    if is_bundle(target):
        try:
            obj = load_verified_bundle(target)[0]
        except BundleError as e:
            d = e.diagnostics[0]
            raise _InputError(d.code, d.message, d.hint or "", d.path) from None
    elif target.endswith(".json"):
        try:
            with open(target, encoding="utf-8") as fh:
                obj = aisjson.loads(fh.read())
        except (OSError, ValueError) as e:
            raise _InputError("AISC-RUN-002", f"{target} is not valid JSON: {e}", "fix the JSON syntax") from None
    if isinstance(obj, Mapping) and obj.get("schema") == "ais-plan/0.0.3":
        try:
            return plan_from_json(obj)
        except PlanError as e:
            d = e.to_diagnostic(target)
            raise _InputError(d.code, d.message, d.hint or "", d.path) from None
    return _compile(args)


def _compile(args: argparse.Namespace) -> Any:
    try:
        from aisc.compiler import compile_workflow
    except ImportError as e:
        raise _InputError("AISC-RUN-004", f"{args.target} is not an ais-plan/0.0.3 JSON, and the compiler is not "
                          f"available in this build ({e})", "compile it first with 'aisc compile' and run the plan") from None
    from aisc.diagnostics import CompilationFailed

    try:
        return compile_workflow(args.target, pack=args.pack, workspace=args.workspace)
    except CompilationFailed as e:
        raise _Compile(list(e.diagnostics)) from None


class _Compile(Exception):
    def __init__(self, diags: list[Any]) -> None:
        self.diags = diags


# ------------------------------------------------------------------ commands while paused


class PipeCommands:
    """JSON-line commands from a pipe (one command per line, ais-json codec)."""

    def __init__(self, stream: IO[str], err: IO[str]) -> None:
        self.stream = stream
        self.err = err

    def next_command(self, paused: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        from aisc import aisjson

        while True:
            line = self.stream.readline()
            if not line:
                return None
            if not line.strip():
                continue
            try:
                cmd = aisjson.loads(line)
            except ValueError as e:
                return {"type": "__invalid__", "data": {"error": str(e)}}
            return cmd if isinstance(cmd, Mapping) else {"type": "__invalid__", "data": {}}


class TtyPrompt:
    """Asks the person at the terminal to confirm each confirmable paused node (y/N)."""

    def __init__(self, inp: IO[str], out: IO[str]) -> None:
        self.inp = inp
        self.out = out
        self.asked: set[str] = set()

    def next_command(self, paused: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
        for p in paused:
            d = p.get("details") or {}
            node = str(p.get("node"))
            if not d.get("can_confirm") or node in self.asked:
                continue
            self.asked.add(node)
            t = d.get("confirmation_template") or {}
            w = self.out.write
            w("\n" + str(t.get("title") or f"Confirmation needed for node {node}") + "\n")
            w(f"  {t.get('summary') or p.get('reason')}\n")
            risk = t.get("risk") or {}
            if risk:
                w(f"  risk level: {risk.get('level')}\n")
            for h in d.get("hit_reasons") or [p.get("reason")]:
                w(f"  - {h}\n")
            if t.get("recommendation"):
                w(f"  {t['recommendation']}\n")
            w("Confirm? [y/N] ")
            self.out.flush()
            ans = self.inp.readline().strip().lower()
            if ans in ("y", "yes"):
                return {"type": "user_confirm", "data": {"node_id": node}}
            return None
        for p in paused:
            d = p.get("details") or {}
            if d.get("kind") == "missing_inputs":
                self.out.write(f"node {p.get('node')} needs inputs: {', '.join(d.get('missing_refs') or [])}\n")
        return None


# ------------------------------------------------------------------ run


def run(args: argparse.Namespace) -> int:
    from aisc import exitcodes
    from aisc.diagnostics import Diagnostic, render

    err = sys.stderr

    def fail(e: _InputError) -> int:
        d = Diagnostic(code=e.code, message=e.message, hint=e.hint or None, path=e.path)
        print(render([d], args.format), file=err)
        return exitcodes.INPUT

    if args.max_concurrency < 1:
        print("aisc run: --max-concurrency must be at least 1", file=err)
        return exitcodes.USAGE
    from aisc.commands import _durability as dur

    if bool(args.resume) == bool(args.target) or (args.resume and args.dry_run):
        print("aisc run: give a PLAN_OR_WORKFLOW, or --resume RUN_ID (without --dry-run)", file=err)
        return exitcodes.USAGE
    store: Any = None
    stored: Any = None
    try:
        if not args.dry_run:
            store = dur.open_store(args)
        if args.resume:
            from aisc.ir.plan import plan_from_json
            from aisc.runtime.store import StoreError

            try:
                stored = store.get_run(args.resume)
            except StoreError as se:
                raise dur.DurabilityError(se.code, se.message, se.hint) from None
            plan = plan_from_json(stored.plan)
            inputs = dict(stored.options.get("inputs") or {})
            ctx = dict(stored.options.get("ctx") or {})
            config = load_data(args.config, "config") if args.config else stored.options.get("config")
            args.hooks = list(args.hooks or ()) or list(stored.options.get("hooks") or ())
        else:
            plan = _load_plan(args)
            inputs = _object(load_data(args.inputs, "inputs"), "inputs") if args.inputs else {}
            ctx = _object(load_data(args.ctx, "ctx"), "ctx") if args.ctx else {}
            config = load_data(args.config, "config") if args.config else None
            from aisc.commands._inputs import check_run_inputs

            bad = check_run_inputs(plan, inputs, args.inputs)
            if any(d.is_error for d in bad):
                print(render(bad, args.format), file=err)
                return exitcodes.INPUT
    except dur.DurabilityError as de:
        print(render([de.diagnostic()], args.format), file=err)
        return exitcodes.INPUT
    except _InputError as e:
        return fail(e)
    except _Compile as c:
        print(render(c.diags, args.format), file=err)
        return exitcodes.FAILED

    from aisc.backends.registry import BackendRegistry, ConfigError
    from aisc.runtime.engine import Engine, PlanInputError, RunOptions, check_runnable
    from aisc.runtime.events import EventSink, JsonlSink, MultiSink
    from aisc.runtime.progress import ProgressView, summary_table

    try:
        router = BackendRegistry.from_config(config)
    except ConfigError as e:
        return fail(_InputError("AISC-RUN-005", f"bad --config: {e.message}",
                                "see docs/runtime.md for the config format", e.path))
    sinks: list[EventSink] = []
    if args.events_jsonl:
        try:
            sinks.append(JsonlSink(args.events_jsonl))
        except OSError as e:
            return fail(_InputError("AISC-RUN-001", f"cannot write events to {args.events_jsonl}: {e.strerror}",
                                    "check the path"))
    events_on_stdout = args.events_jsonl in ("-", "stdout")
    view = ProgressView(err, [n.id for n in plan.nodes], live=err.isatty() and not args.dry_run)
    sinks.append(view)
    commands: Any = None
    if not args.dry_run:
        commands = TtyPrompt(sys.stdin, err) if sys.stdin.isatty() else PipeCommands(sys.stdin, err)
    opts = RunOptions(max_concurrency=args.max_concurrency, auto_confirm=args.yes, run_id=args.run_id,
                      redact=args.trace_redact, capabilities=dur.engine_capabilities(ctx),
                      simulate=dur.wants_simulation(plan, args.simulate))
    try:
        check_runnable(plan)
        hooks = None if args.dry_run else dur.load_hooks(args)
        if args.trace and not args.dry_run:
            from aisc.runtime.trace import TraceSink

            sinks.append(TraceSink(args.trace, args.trace_redact, inputs=inputs, ctx=ctx,
                                   info={"resumed": bool(args.resume)}))
    except PlanInputError as e:
        return fail(_InputError("AISC-RUN-006", e.message, "fix the plan (until needs a read node and retry)",
                                e.path))
    except dur.DurabilityError as de:
        print(render([de.diagnostic()], args.format), file=err)
        return exitcodes.INPUT
    except OSError as oe:
        return fail(_InputError("AISC-RUN-001", f"cannot write the trace {args.trace}: {oe.strerror}",
                                "check the path"))
    out = err if events_on_stdout else sys.stdout
    outcome: Any = None
    try:
        if args.dry_run:
            engine = Engine(plan, router, inputs=inputs, ctx=ctx, options=opts, sink=MultiSink(sinks))
            rows = engine.dry_run()
            print(summary_table([[r["node"], r["io"], r["chain"], r["type"], r["status"], r["details"]]
                                 for r in rows], ["node", "io", "chain", "type", "status", "details"]), file=out)
            blocked = any(r["status"] == "policy_blocked" for r in rows)
            stuck = any(r["status"] in ("blocked", "needs_confirmation") for r in rows)
            return exitcodes.POLICY_BLOCKED if blocked else exitcodes.PAUSED if stuck else exitcodes.OK
        from aisc.runtime.durable import DurableRunner, ResumeError

        runner = DurableRunner(router, store=store, hooks=hooks, sinks=sinks, commands=commands, options=opts,
                               compensate=not args.no_compensate)
        try:
            if args.resume:
                outcome = runner.resume(args.resume)
            else:
                outcome = runner.start(plan, inputs=inputs, ctx=ctx, launch=dur.launch_options(args, config))
        except ResumeError as re_:
            print(render([Diagnostic(code=re_.code, message=re_.message, hint=re_.hint)], args.format), file=err)
            return exitcodes.INPUT
    finally:
        MultiSink(sinks).close()
        router.close()
        if store is not None:
            store.close()
    view.finish()
    result = outcome.result
    table: list[list[str]] = []
    for nid, r in (result.nodes.items() if result is not None else ()):
        note = r.error or ((r.pause or {}).get("reason") or "")
        table.append([nid, r.state, str(r.attempts), str(note)])
    if table:
        width = shutil.get_terminal_size().columns if err.isatty() else None
        print(summary_table(table, ["node", "state", "attempts", "note"], width=width), file=err)
    for comp in outcome.compensations:
        print(f"compensation {comp.get('compensation_id')} ({comp.get('action')}): {comp.get('status')}"
              + (f" - {comp['error']}" if comp.get("error") else ""), file=err)
    code = outcome.exit_code
    why = f" - {outcome.error}" if outcome.error and result is None else ""
    print(f"run {outcome.run_id}: {outcome.status}{why} (exit {code}: {exitcodes.TABLE.get(code, '')})", file=err)
    if store is not None and outcome.status != "done":
        print(f"resume with: aisc run --resume {outcome.run_id}"
              + (f" --store {args.store}" if args.store else ""), file=err)
    if out is sys.stdout and not events_on_stdout:
        out.flush()
    return int(code)
