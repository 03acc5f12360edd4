"""``aisc bridge``: one JSON document on stdout for orchestrators that spawn aisc as a subprocess.

``exec-workflow`` runs a workflow or a plan; ``exec-capability`` runs one protocol action or query
(a one-node plan is synthesized and compiled); ``schema`` prints the output JSON Schema. Whatever
happens (bad arguments, invalid documents, a failed or paused run, an aisc bug), stdout carries
exactly one JSON document and the exit code comes from the failure-category table
(:mod:`aisc.runtime.categories`); logs go to stderr. Contract: docs/bridge.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

HELP = "one-JSON bridge mode for orchestrators (exec-workflow, exec-capability)"
DESCRIPTION = (
    "Bridge mode for orchestrators: stdout is exactly one JSON document (schema: 'aisc bridge schema'),\n"
    "logs go to stderr, and the exit code maps to a stable failure category. See docs/bridge.md."
)
EPILOG = """\
examples:
  aisc bridge exec-workflow --workflow flow.ais-flow.yaml --inputs in.json --config chains.yaml --yes
  aisc bridge exec-workflow --resume RUN_ID --yes
  aisc bridge exec-capability --protocol erc20.ais.yaml --query balance-of --chain eip155:1 \\
      --params '{"token": {...}, "owner": "0x..."}' --config chains.yaml
  aisc bridge schema

exit codes (failure categories): 0 ok, 1 execution_failed/rpc_unavailable, 2 usage, 3 validation,
4 needs_confirmation, 5 policy_blocked, 6 timeout, 7 cancelled, 8 output_invalid, 70 internal
"""

BRIDGE_SCHEMA = "aisc-bridge-output/1"
SCHEMA_RESOURCE = ("aisc", "data/schemas/bridge-output.schema.json")
CAPABILITY_NODE = "capability"


# ------------------------------------------------------------------ argument parsing (errors → JSON)


def _usage(command: str, message: str) -> int:
    from aisc import exitcodes

    print(f"aisc bridge: {message}", file=sys.stderr)
    doc = document(command, status="rejected", category="usage",
                   error={"category": "usage", "code": "AISC-BRIDGE-001", "message": message,
                          "hint": "run 'aisc bridge --help'"})
    _print(doc)
    return exitcodes.USAGE


def _usage_exit(command: str, message: str) -> NoReturn:
    sys.exit(_usage(command, message))


class _JsonErrorParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        command = self.prog.split()[-1] if self.prog.split()[-1].startswith("exec-") else "bridge"
        _usage_exit(command, message)


def configure(parser: argparse.ArgumentParser) -> None:
    from aisc.commands import _durability

    parser.error = lambda message: _usage_exit("bridge", message)  # type: ignore[method-assign]
    sub = parser.add_subparsers(dest="sub", metavar="SUBCOMMAND", parser_class=_JsonErrorParser)
    wf = sub.add_parser("exec-workflow", help="run a workflow (compiled first) or a plan",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    src = wf.add_mutually_exclusive_group()
    src.add_argument("--workflow", metavar="FILE", help="an ais-flow/0.0.3 workflow to compile and run")
    src.add_argument("--plan", metavar="FILE", help="an ais-plan/0.0.3 JSON to run")
    wf.add_argument("--inputs", metavar="FILE|JSON", help="workflow inputs (file or inline JSON)")
    wf.add_argument("--pack", metavar="PACK", help="the pack to enforce when compiling")
    wf.add_argument("--workspace", metavar="DIR", help="protocol/pack folder when compiling")
    _common(wf)
    _durability.add_arguments(wf)
    cap = sub.add_parser("exec-capability", help="run one protocol action or query",
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    cap.add_argument("--protocol", metavar="FILE", required=True, help="the protocol document (ais/0.0.2)")
    what = cap.add_mutually_exclusive_group(required=True)
    what.add_argument("--action", metavar="ACTION", help="the action id to execute")
    what.add_argument("--query", metavar="QUERY", help="the query id to execute")
    cap.add_argument("--chain", metavar="CAIP2", required=True, help="the chain to run on (e.g. eip155:1)")
    cap.add_argument("--params", metavar="FILE|JSON", help="the action/query params (file or inline JSON)")
    cap.add_argument("--pack", metavar="PACK", help="the pack to enforce")
    _common(cap)
    _durability.add_arguments(cap, resume=False)
    sub.add_parser("schema", help="print the JSON Schema of the bridge output")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ctx", metavar="FILE|JSON", help="runtime context (wallet_address, ...)")
    p.add_argument("--config", metavar="FILE|JSON", help="chains → backend, RPC URL, signer reference")
    p.add_argument("--yes", action="store_true", help="confirm policy approvals (never clears a hard block)")
    p.add_argument("--simulate", action="store_true",
                   help="simulate every write before broadcast; also on when the workflow sets preflight.simulate")
    p.add_argument("--run-id", metavar="ID", help="run id (default: random)")
    p.add_argument("--max-concurrency", type=int, default=8, metavar="N", help="nodes running at once (8)")
    p.add_argument("--trace-redact", choices=("default", "audit", "off"), default="default",
                   help="event redaction mode (private keys are always removed)")
    p.add_argument("--schema-path", metavar="FILE", help="validate the output against this JSON Schema")


# ------------------------------------------------------------------ the output document


def document(command: str, *, status: str, category: str | None, run_id: str | None = None,
             error: Mapping[str, Any] | None = None, diagnostics: Sequence[Mapping[str, Any]] = (),
             workflow: Mapping[str, Any] | None = None, steps: Sequence[Mapping[str, Any]] = (),
             paused: Sequence[Mapping[str, Any]] = (), outputs: Mapping[str, Any] | None = None,
             compensations: Sequence[Mapping[str, Any]] = (), capability: Mapping[str, Any] | None = None,
             resumed: bool = False) -> dict[str, Any]:
    from aisc import __version__
    from aisc.runtime import categories as cat

    doc: dict[str, Any] = {
        "schema": BRIDGE_SCHEMA,
        "command": command,
        "ok": category is None,
        "status": status,
        "category": category,
        "exit_code": cat.exit_code(category),
        "run_id": run_id,
        "resumed": resumed,
        "error": dict(error) if error else None,
        "diagnostics": [dict(d) for d in diagnostics],
        "workflow": dict(workflow) if workflow else None,
        "steps": [dict(s) for s in steps],
        "paused": [dict(p) for p in paused],
        "outputs": dict(outputs or {}),
        "compensations": [dict(c) for c in compensations],
        "aisc_version": __version__,
    }
    if capability is not None:
        doc["capability"] = dict(capability)
    return doc


def _print(doc: Mapping[str, Any], stream: Any = None) -> None:
    from aisc import aisjson

    out = stream if stream is not None else sys.stdout
    out.write(aisjson.dumps(doc) + "\n")
    out.flush()


def _diag_json(d: Any) -> dict[str, Any]:
    j: dict[str, Any] = dict(d.to_json())
    return j


def _reject(command: str, category: str, code: str, message: str, hint: str | None = None,
            path: str | None = None, diagnostics: Sequence[Any] = ()) -> dict[str, Any]:
    print(f"aisc bridge: {category}[{code}]: {message}" + (f" (hint: {hint})" if hint else ""), file=sys.stderr)
    err: dict[str, Any] = {"category": category, "code": code, "message": message}
    if hint:
        err["hint"] = hint
    if path:
        err["path"] = path
    return document(command, status="rejected", category=category, error=err,
                    diagnostics=[_diag_json(d) for d in diagnostics])


# ------------------------------------------------------------------ run


def schema_text() -> str:
    from importlib.resources import files

    return (files(SCHEMA_RESOURCE[0]) / SCHEMA_RESOURCE[1]).read_text(encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    from aisc import exitcodes

    if args.sub is None:
        return _usage("bridge", "a subcommand is required: exec-workflow, exec-capability or schema")
    if args.sub == "schema":
        sys.stdout.write(schema_text())
        return exitcodes.OK
    real_stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # anything printed while running is a log line
        doc = _execute(args.sub, args)
    _print(doc, real_stdout)
    return int(doc["exit_code"])


def _execute(command: str, args: argparse.Namespace) -> dict[str, Any]:
    validator = None
    if args.schema_path:
        try:
            validator = _load_validator(args.schema_path)
        except _SchemaProblem as e:
            return _reject(command, "validation", "AISC-BRIDGE-003", e.message, e.hint)
    try:
        doc = _execute_run(command, args)
    except KeyboardInterrupt:
        print("aisc bridge: interrupted", file=sys.stderr)
        doc = document(command, status="cancelled", category="cancelled",
                       error={"category": "cancelled", "code": "AISC-BRIDGE-007", "message": "interrupted"})
    except Exception as e:  # last line of defence: still one JSON document
        import traceback

        print(f"aisc bridge: internal error (this is an aisc bug, please report it): {type(e).__name__}: {e}",
              file=sys.stderr)
        if os.environ.get("AISC_DEBUG"):
            traceback.print_exc()
        doc = document(command, status="failed", category="internal",
                       error={"category": "internal", "code": "AISC-BRIDGE-999",
                              "message": f"{type(e).__name__}: {e}"})
    if validator is not None:
        errors = sorted(validator.iter_errors(_plain(doc)), key=lambda x: list(x.absolute_path))
        doc["schema_validation"] = {"schema": args.schema_path, "valid": not errors,
                                    "errors": [f"{'/'.join(map(str, x.absolute_path)) or '<root>'}: {x.message}"
                                               for x in errors[:20]]}
        if errors:
            from aisc.runtime import categories as cat

            print(f"aisc bridge: the output does not match {args.schema_path} ({len(errors)} error(s))",
                  file=sys.stderr)
            if doc["category"] is None:
                doc["category"] = cat.OUTPUT_INVALID
                doc["ok"] = False
                doc["exit_code"] = cat.exit_code(cat.OUTPUT_INVALID)
    return doc


def _plain(doc: Mapping[str, Any]) -> Any:
    import json

    from aisc import aisjson

    return json.loads(aisjson.dumps(doc))


class _SchemaProblem(Exception):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _load_validator(path: str) -> Any:
    import json

    try:
        import jsonschema  # type: ignore[import-untyped]
    except ImportError:
        raise _SchemaProblem("--schema-path needs the 'jsonschema' package, which is not installed",
                             "pip install jsonschema (or drop --schema-path)") from None
    try:
        with open(path, encoding="utf-8") as fh:
            schema = json.load(fh)
    except OSError as e:
        raise _SchemaProblem(f"cannot read --schema-path {path}: {e.strerror}", "check the path") from None
    except ValueError as e:
        raise _SchemaProblem(f"--schema-path {path} is not JSON: {e}", "pass a JSON Schema file") from None
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        raise _SchemaProblem(f"--schema-path {path} is not a valid JSON Schema: {e.message}",
                             "fix the schema") from None
    return cls(schema)


def _execute_run(command: str, args: argparse.Namespace) -> dict[str, Any]:
    from aisc.backends.registry import BackendRegistry, ConfigError
    from aisc.commands import _durability as dur
    from aisc.commands import run as runcmd
    from aisc.runtime.durable import DurableRunner, ResumeError
    from aisc.runtime.engine import PlanInputError, RunOptions, check_runnable
    from aisc.runtime.events import EventSink, ListSink

    if args.max_concurrency < 1:
        return _reject(command, "usage", "AISC-BRIDGE-001", "--max-concurrency must be at least 1")
    resume = getattr(args, "resume", None)
    if command == "exec-workflow" and bool(resume) == bool(args.workflow or args.plan):
        return _reject(command, "usage", "AISC-BRIDGE-001", "give --workflow FILE or --plan FILE, or --resume RUN_ID",
                       "see 'aisc bridge exec-workflow --help'")
    capability: dict[str, Any] | None = None
    store: Any = None
    try:
        store = dur.open_store(args)
        if resume:
            from aisc.ir.plan import plan_from_json
            from aisc.runtime.store import StoreError

            try:
                rec = store.get_run(resume)
            except StoreError as se:
                raise dur.DurabilityError(se.code, se.message, se.hint) from None
            plan = plan_from_json(rec.plan)
            inputs = dict(rec.options.get("inputs") or {})
            ctx = dict(rec.options.get("ctx") or {})
            config = runcmd.load_data(args.config, "config") if args.config else rec.options.get("config")
            args.hooks = list(args.hooks or ()) or list(rec.options.get("hooks") or ())
        elif command == "exec-workflow":
            plan = _load_workflow_or_plan(args)
            inputs = runcmd._object(runcmd.load_data(args.inputs, "inputs"), "inputs") if args.inputs else {}
            ctx = runcmd._object(runcmd.load_data(args.ctx, "ctx"), "ctx") if args.ctx else {}
            config = runcmd.load_data(args.config, "config") if args.config else None
        else:
            plan, capability = _capability_plan(args)
            inputs = {}
            ctx = runcmd._object(runcmd.load_data(args.ctx, "ctx"), "ctx") if args.ctx else {}
            config = runcmd.load_data(args.config, "config") if args.config else None
        check_runnable(plan)
        router = BackendRegistry.from_config(config)
        hooks = dur.load_hooks(args)
    except runcmd._InputError as e:
        return _reject(command, "validation", e.code, e.message, e.hint, e.path)
    except runcmd._Compile as c:
        first = c.diags[0] if c.diags else None
        return _reject(command, "validation", first.code if first else "AISC-BRIDGE-002",
                       first.message if first else "compilation failed", first.hint if first else None,
                       first.path if first else None, diagnostics=c.diags)
    except _CapabilityError as e:
        return _reject(command, "validation", e.code, e.message, e.hint, diagnostics=e.diagnostics)
    except ConfigError as e:
        return _reject(command, "validation", "AISC-RUN-005", f"bad --config: {e.message}",
                       "see docs/runtime.md for the config format", e.path)
    except PlanInputError as e:
        return _reject(command, "validation", "AISC-RUN-006", e.message, "fix the plan", e.path)
    except dur.DurabilityError as e:
        return _reject(command, "validation", e.code, e.message, e.hint)
    events = ListSink()
    sinks: list[EventSink] = [events]
    if args.trace:
        from aisc.runtime.trace import TraceSink

        try:
            sinks.append(TraceSink(args.trace, args.trace_redact, inputs=inputs, ctx=ctx))
        except OSError as oe:
            return _reject(command, "validation", "AISC-RUN-001", f"cannot write the trace {args.trace}: {oe.strerror}",
                           "check the path")
    opts = RunOptions(max_concurrency=args.max_concurrency, auto_confirm=args.yes, run_id=args.run_id,
                      redact=args.trace_redact, capabilities=dur.engine_capabilities(ctx),
                      simulate=dur.wants_simulation(plan, args.simulate))
    runner = DurableRunner(router, store=store, hooks=hooks, sinks=sinks, options=opts,
                           compensate=not args.no_compensate)
    try:
        try:
            if resume:
                outcome = runner.resume(resume)
            else:
                outcome = runner.start(plan, inputs=inputs, ctx=ctx, launch=dur.launch_options(args, config))
        except ResumeError as e:
            return _reject(command, "validation", e.code, e.message, e.hint)
    finally:
        router.close()
        for s in sinks[1:]:
            s.close()
    doc = _outcome_doc(command, outcome, events.records, store, capability)
    if store is not None:
        store.close()
    return doc


def _outcome_doc(command: str, outcome: Any, events: Sequence[Mapping[str, Any]], store: Any,
                 capability: dict[str, Any] | None) -> dict[str, Any]:
    from aisc.runtime.history import RUN_STATUS, step_records
    from aisc.runtime.store import plan_digest

    plan = outcome.plan
    intents = [i.public() for i in store.intents(outcome.run_id)] if store is not None else []
    notes = store.notes(outcome.run_id) if store is not None else []
    result = outcome.result
    nodes: Mapping[str, Any] = result.nodes if result is not None else {}
    steps = step_records(plan, nodes, events, intents, notes, outcome.run_id, outcome.category)
    root_nodes = (result.root.get("nodes") or {}) if result is not None else {}
    outputs = {nid: dict((root_nodes.get(nid) or {}).get("outputs") or {}) for nid, r in nodes.items()
               if r.state == "done" and isinstance(root_nodes.get(nid), Mapping)}
    if capability is not None:
        outputs = outputs.get(CAPABILITY_NODE, {})
    paused = []
    for p in outcome.paused:
        det = dict(p.get("details") or {})
        paused.append({"node_id": p.get("node"), "reason": p.get("reason"), "kind": det.get("kind"),
                       "can_confirm": bool(det.get("can_confirm", False)), "details": det})
    error = None
    if outcome.category is not None:
        error = {"category": outcome.category, "code": "AISC-BRIDGE-020",
                 "message": outcome.error or outcome.status, "node_id": outcome.error_node}
    wf = {"name": plan.meta.name if plan.meta else None,
          "version": next((n.source.workflow.version for n in plan.nodes if n.source and n.source.workflow), None),
          "plan_hash": plan_digest(_plan_json(plan))}
    return document(command, status=RUN_STATUS.get(outcome.status, outcome.status), category=outcome.category,
                    run_id=outcome.run_id, error=error, workflow=wf, steps=steps, paused=paused, outputs=outputs,
                    compensations=outcome.compensations, capability=capability, resumed=outcome.resumed)


def _plan_json(plan: Any) -> dict[str, Any]:
    from aisc.ir.plan import plan_to_json

    return plan_to_json(plan)


def _load_workflow_or_plan(args: argparse.Namespace) -> Any:
    from aisc.commands import run as runcmd

    if args.plan:
        from aisc import aisjson
        from aisc.ir.plan import PlanError, plan_from_json

        try:
            with open(args.plan, encoding="utf-8") as fh:
                obj = aisjson.loads(fh.read())
        except OSError as e:
            raise runcmd._InputError("AISC-RUN-001", f"cannot read {args.plan}: {e.strerror}", "check the path") from None
        except ValueError as e:
            raise runcmd._InputError("AISC-RUN-002", f"{args.plan} is not valid JSON: {e}", "fix the JSON") from None
        try:
            return plan_from_json(obj)
        except PlanError as e:
            d = e.to_diagnostic(args.plan)
            raise runcmd._InputError(d.code, d.message, d.hint or "", d.path) from None
    if not os.path.isfile(args.workflow):
        raise runcmd._InputError("AISC-RUN-001", f"no such file: {args.workflow}", "give the path of a workflow")
    args.target = args.workflow
    return runcmd._compile(args)


class _CapabilityError(Exception):
    def __init__(self, code: str, message: str, hint: str, diagnostics: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.diagnostics = list(diagnostics)


def _capability_plan(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """Compile a one-node workflow around the protocol's action or query."""
    import json

    from aisc.commands import run as runcmd
    from aisc.frontend import load_file

    if not os.path.isfile(args.protocol):
        raise _CapabilityError("AISC-BRIDGE-010", f"no such protocol file: {args.protocol}", "check --protocol")
    doc = load_file(args.protocol)
    errors = [d for d in doc.diagnostics if d.is_error]
    raw = doc.raw
    meta = raw.get("meta") if isinstance(raw, Mapping) else None
    if errors or not isinstance(meta, Mapping) or not isinstance(raw, Mapping) or raw.get("schema") != "ais/0.0.2":
        raise _CapabilityError("AISC-BRIDGE-011", f"{args.protocol} is not a valid ais/0.0.2 protocol",
                               "pass a protocol document to --protocol", errors)
    ref = f"{meta.get('protocol')}@{meta.get('version')}"
    kind, name = ("action_ref", args.action) if args.action else ("query_ref", args.query)
    table = raw.get("actions" if args.action else "queries") or {}
    if not isinstance(table, Mapping) or name not in table:
        known = ", ".join(sorted(str(k) for k in table)) if isinstance(table, Mapping) else ""
        raise _CapabilityError("AISC-BRIDGE-012", f"{ref} has no {'action' if args.action else 'query'} {name!r}",
                               f"known: {known or 'none'}")
    params = runcmd._object(runcmd.load_data(args.params, "params"), "params") if args.params else {}
    node: dict[str, Any] = {"id": CAPABILITY_NODE, "type": kind, "protocol": ref,
                            ("action" if args.action else "query"): name, "chain": args.chain,
                            "args": {k: {"lit": v} for k, v in params.items()}}
    workflow = {"schema": "ais-flow/0.0.3", "meta": {"name": f"capability-{meta.get('protocol')}-{name}",
                                                     "version": "0.0.1"},
                "default_chain": args.chain,
                "imports": {"protocols": [{"protocol": ref, "path": os.path.abspath(args.protocol)}]},
                "nodes": [node]}
    from aisc import aisjson

    with tempfile.TemporaryDirectory(prefix="aisc-bridge-") as tmp:
        path = os.path.join(tmp, "capability.ais-flow.yaml")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(aisjson.dumps(json.loads(aisjson.dumps(workflow)), pretty=True))
        ns = argparse.Namespace(target=path, pack=args.pack, workspace=os.path.dirname(os.path.abspath(args.protocol)))
        plan = runcmd._compile(ns)
    return plan, {"protocol": ref, ("action" if args.action else "query"): name, "chain": args.chain}
