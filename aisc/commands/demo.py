"""``aisc demo``: compile a bundled workflow and run it end to end on the in-process Solana VM.

Everything the demo needs ships in the wheel under ``aisc/data/demo`` (workflow, pack, a manifest
``demos.yaml``) and ``aisc/data/examples`` (the protocols): no file of the user's, no network, no
checkpoint store. The chain is a fresh LiteSVM seeded from the manifest; the signer is an ephemeral
key that lives only in this process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

import attrs

from aisc.reprs import install_reprs

HELP = "compile and run a bundled example on the in-process Solana VM"
DESCRIPTION = (
    "Compile a bundled demo workflow and execute it end to end on an in-process Solana VM (LiteSVM):\n"
    "a fresh local chain seeded with a token mint and balances, an ephemeral signer, the pack's policy\n"
    "gate in front of every write. Prints the live progress view, then a summary with the token\n"
    "balances before and after. Needs no files, no network and no running services.\n\n"
    "  aisc demo\n"
    "  aisc demo --list\n"
    "  aisc demo --example spl-transfer --events-jsonl events.jsonl"
)
EPILOG = "exit codes: 0 the demo ran to completion, 1 a node failed, 2 usage error (unknown demo), 4 paused"

DEFAULT_DEMO = "spl-transfer"
SIGNER = "signer"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--example", metavar="NAME", default=DEFAULT_DEMO,
                        help=f"which bundled demo to run (default: {DEFAULT_DEMO}; see --list)")
    parser.add_argument("--list", action="store_true", help="list the bundled demos and exit")
    parser.add_argument("--events-jsonl", metavar="PATH|-",
                        help="also write the engine events as JSON lines ('-' = stdout; the summary then goes to stderr)")
    parser.add_argument("--trace-redact", choices=("default", "audit", "off"), default="default",
                        help="event redaction mode (private keys are always removed)")


# ------------------------------------------------------------------ the manifest


@attrs.frozen(repr=False)
class Balance:
    label: str
    owner: str  # base58 or "signer"
    symbol: str
    mint: str | None  # None: native SOL (lamports)


@attrs.frozen(repr=False)
class Demo:
    name: str
    title: str
    workflow: str
    pack: str | None
    chain: str
    seed: Mapping[str, Any]
    inputs: Mapping[str, Any]
    balances: tuple[Balance, ...]


def demo_dir() -> str:
    """The folder of the bundled demos (inside the installed package)."""
    from importlib import resources

    return str(resources.files("aisc") / "data" / "demo")


def load_demos(root: str | None = None) -> dict[str, Demo]:
    """Read ``demos.yaml``. The manifest ships with aisc: a malformed one is an aisc bug."""
    import yaml  # type: ignore[import-untyped]

    from aisc.diagnostics import InternalError

    root = root or demo_dir()
    path = os.path.join(root, "demos.yaml")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as fh:
        raw = yaml.load(fh, Loader=loader)  # a safe loader: plain data only
    if not isinstance(raw, Mapping):
        raise InternalError(f"{path}: the demo manifest must be a mapping")
    demos: dict[str, Demo] = {}
    for name, d in raw.items():
        try:
            balances = tuple(
                Balance(str(b["label"]), str(b["owner"]), str(b["symbol"]),
                        None if b.get("mint") is None else str(b["mint"]))
                for b in d.get("balances") or ()
            )
            demos[str(name)] = Demo(
                name=str(name), title=str(d["title"]), workflow=os.path.join(root, str(d["workflow"])),
                pack=None if d.get("pack") is None else os.path.join(root, str(d["pack"])),
                chain=str(d["chain"]), seed=dict(d.get("seed") or {}), inputs=dict(d.get("inputs") or {}),
                balances=balances,
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise InternalError(f"{path}: demo {name!r} is malformed ({e!r})") from None
    return demos


# ------------------------------------------------------------------ running


@attrs.define(repr=False)
class Outcome:
    """What one demo run produced (also used by tests)."""

    exit_code: int
    status: str
    signer: str
    before: list[int]
    after: list[int]
    transactions: list[tuple[str, str]]
    node_states: dict[str, str]
    plan_nodes: int
    plan_hash: str | None
    seconds: float
    error: str | None = None


def run(args: argparse.Namespace) -> int:
    from aisc import exitcodes

    demos = load_demos()
    if args.list:
        width = max(len(n) for n in demos)
        for name, d in demos.items():
            print(f"{name:<{width}}  {d.title}")
        return exitcodes.OK
    demo = demos.get(args.example)
    if demo is None:
        print(f"aisc demo: no demo named {args.example!r} (available: {', '.join(demos)})", file=sys.stderr)
        return exitcodes.USAGE
    events_on_stdout = args.events_jsonl in ("-", "stdout")
    out = sys.stderr if events_on_stdout else sys.stdout
    return run_demo(demo, out=out, err=sys.stderr, events_jsonl=args.events_jsonl, redact=args.trace_redact).exit_code


def _who(owner: str, signer: str) -> str:
    return signer if owner == SIGNER else owner


def _read_balances(chain: Any, balances: Sequence[Balance], signer: str) -> list[int]:
    from aisc.addresses import derive_ata

    values: list[int] = []
    for b in balances:
        owner = _who(b.owner, signer)
        if b.mint is None:
            values.append(chain.get_balance(owner))
            continue
        ata = derive_ata(owner, b.mint, str(chain.get_account(b.mint).owner))
        values.append(int(chain.token_balance(ata)["amount"]) if chain.get_account(ata) is not None else 0)
    return values


def _decimals(chain: Any, b: Balance) -> int:
    if b.mint is None:
        return 9
    from solders.token.state import Mint

    return int(Mint.from_bytes(bytes(chain.get_account(b.mint).data[:82])).decimals)


def run_demo(demo: Demo, *, out: IO[str], err: IO[str], events_jsonl: str | None = None,
             redact: Any = "default") -> Outcome:
    """Compile ``demo``'s workflow, seed a fresh LiteSVM chain, run the plan, print the summary."""
    from aisc import exitcodes
    from aisc.backends.registry import BackendRegistry
    from aisc.backends.solana.seed import make_backend
    from aisc.compiler import Compilation, plan_hash
    from aisc.diagnostics import CompilationFailed, render
    from aisc.ir.plan import plan_from_json
    from aisc.passes.capabilities import ENGINE_CAPABILITIES
    from aisc.runtime.engine import Engine, RunOptions
    from aisc.runtime.events import CallbackSink, EventSink, JsonlSink, MultiSink
    from aisc.runtime.progress import ProgressView, summary_table

    t0 = time.perf_counter()
    w = out.write
    w(f"aisc demo {demo.name}: {demo.title}\n")

    def failed(message: str, code: int) -> Outcome:
        print(f"aisc demo: {message}", file=err)
        return Outcome(code, "failed", "", [], [], [], {}, 0, None, time.perf_counter() - t0, message)

    try:
        # the demo's own folder as the workspace: AISC_WORKSPACE (the user's documents) never leaks in
        c = Compilation(demo.workflow, pack=demo.pack, workspace=os.path.dirname(demo.workflow))
        plan_json = c.plan
    except CompilationFailed as e:  # bundled documents that do not compile: an aisc bug, but say so clearly
        print(render(list(e.diagnostics), "text"), file=err)
        return failed(f"the bundled workflow {os.path.basename(demo.workflow)} did not compile", exitcodes.FAILED)
    plan = plan_from_json(plan_json)
    phash = plan_hash(plan_json)
    pack = (plan_json.get("extensions", {}).get("aisc", {}) or {}).get("pack") or {}
    pack_text = f" + pack {pack['name']}@{pack['version']}" if pack.get("name") else ""
    w(f"  compiled  {os.path.basename(demo.workflow)}{pack_text} -> {len(plan.nodes)} plan nodes"
      f" (plan_hash {phash[:18]}…)\n")

    backend = make_backend(demo.chain, transport="litesvm", signer={"type": "ephemeral"}, airdrop_lamports=0,
                           seed=dict(demo.seed))
    signer = backend.signer_address(demo.chain)
    chain = backend.local_chain
    assert signer is not None and chain is not None
    w(f"  chain     {demo.chain} served by an in-process LiteSVM (no network)\n")
    w(f"  signer    {signer} (ephemeral, seeded by the demo manifest)\n\n")
    out.flush()
    before = _read_balances(chain, demo.balances, signer)

    registry = BackendRegistry()
    registry.register(backend)
    txs: list[tuple[str, str]] = []

    def on_event(rec: Mapping[str, Any]) -> None:
        ev = rec.get("event") or {}
        if ev.get("type") == "tx_sent":
            txs.append((str(ev.get("node_id")), str((ev.get("data") or {}).get("tx_hash"))))

    view = ProgressView(err, [n.id for n in plan.nodes], live=err.isatty())
    sinks: list[EventSink] = [view, CallbackSink(on_event)]
    if events_jsonl:
        try:
            sinks.append(JsonlSink(events_jsonl))
        except OSError as e:
            return failed(f"cannot write events to {events_jsonl}: {e.strerror}", exitcodes.INPUT)
    sink = MultiSink(sinks)
    opts = RunOptions(capabilities=frozenset(ENGINE_CAPABILITIES), redact=redact)
    engine = Engine(plan, registry, inputs=dict(demo.inputs), ctx={"wallet_address": signer}, options=opts, sink=sink)
    try:
        result = engine.run()
    finally:
        sink.close()
    view.finish()
    after = _read_balances(chain, demo.balances, signer)
    registry.close()
    seconds = time.perf_counter() - t0

    from aisc.numeric import to_human

    w("\n" + summary_table(
        [[nid, r.state, str(r.attempts), str(r.error or (r.pause or {}).get("reason") or "")]
         for nid, r in result.nodes.items()], ["node", "state", "attempts", "note"]) + "\n\n")
    rows = []
    for b, x, y in zip(demo.balances, before, after, strict=True):
        dec = _decimals(chain, b)
        delta = y - x
        sign = "+" if delta > 0 else "-" if delta < 0 else ""
        rows.append([b.label, b.symbol, to_human(x, dec), to_human(y, dec), sign + to_human(abs(delta), dec)])
    w(summary_table(rows, ["balance", "token", "before", "after", "change"]) + "\n")
    if txs:
        w("\n" + summary_table([[n, s] for n, s in txs], ["transaction of node", "signature"]) + "\n")
    exit_code = result.exit_code
    w(f"\ndemo {demo.name}: {result.status} in {seconds:.2f} s (exit {exit_code}: {exitcodes.TABLE[exit_code]})\n")
    out.flush()
    return Outcome(exit_code, result.status, signer, before, after, txs,
                   {nid: r.state for nid, r in result.nodes.items()}, len(plan.nodes), phash, seconds,
                   result.error)


install_reprs(__name__)
