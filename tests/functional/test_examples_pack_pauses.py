"""The example workflows under safe-defi-pack, run by ``aisc run`` on the fake backend (issue 5).

Each example workflow is compiled WITH the pack (``aisc compile --pack``) and run as a subprocess on
the scripted fake backend (``{backend: fake, script: ...}`` per chain in ``--config``) with
``--events-jsonl`` and JSON-line commands piped on stdin. Where the run must pause is NOT asked of
aisc: a small oracle in this file reads the pack, the protocol documents and the workflow and
applies SPEC-MAP §7.3/§7.4 (R082, R083, R271, R284) to every write node:

- unknown token identity (no token object in the params, not an approve) → confirm (§7.4 step 3);
- hard constraints → hard_block: token allowlist miss under ``require_allowlist_for_symbol_resolution``,
  ``slippage_bps`` > ``max_slippage_bps`` (defaults merged with ``overrides.actions``), an unlimited
  approval under ``allow_unlimited_approval: false``, ``approval > spend × max_approval_multiplier``;
- approval thresholds (``risk_level > auto_execute_max_risk_level`` or ``>= require_approval_min_risk_level``;
  risk level from the pack override, else the protocol action, else 3) → confirm;
- a confirmation is remembered per scope ``<workflow node>:<protocol>.<action>`` (R284), so the
  two plan nodes of a composite action need one confirmation.

The oracle only decides from values it can read without CEL (``lit``, ``ref inputs.*``/``ctx.*``);
the cases are chosen so that the deciding values are of that kind. Conditions are made true by the
script (allowance 0), so every node runs.

Changes to the test copies, each where a document contradicts the spec (SPEC-MAP §2.10):

- swap-to-token (D10): ``default_chain`` eip155:1 → eip155:8453 (the pack scopes uniswap-v3 to
  eip155:8453, R078); ``args.fee`` ``nodes.q_quote.outputs.fee_tier`` (not a return of the quote
  query) → ``{lit: "500"}``; output ``nodes.a_swap.tx`` (not node state) → ``nodes.a_swap.outputs.tx_hash``.
- aave-branch-bridge-solana-deposit (D11): ``interest_rate_mode: {lit: 2}`` (a YAML number for a
  uint8, R054/R117) → ``{lit: "2"}``.
- bridge-send-wait-deposit and aave-branch-...: safe-defi-pack includes only uniswap-v3, and a
  workflow may only use protocols its pack includes (R077); their pack copy adds ``includes`` for
  the protocols they use. Its policy, token_policy, providers and overrides stay as shipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from aisc import exitcodes

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "aisc" / "data" / "examples"
if not (EXAMPLES / "safe-defi-pack.ais-pack.yaml").is_file():
    EXAMPLES = Path("/work/shared/ais/examples")

BASE = "eip155:8453"
SOL = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
WETH = {"chain_id": BASE, "address": "0x4200000000000000000000000000000000000006", "symbol": "WETH", "decimals": 18}
USDC = {"chain_id": BASE, "address": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "symbol": "USDC", "decimals": 6}
NOT_LISTED = {"chain_id": BASE, "address": "0x000000000000000000000000000000000000bEEF", "symbol": "BEEF",
              "decimals": 18}
WALLET = "0x00000000000000000000000000000000000000a1"
SOL_USER = "BPFLoaderUpgradeab1e11111111111111111111111"
MAX_UINT256 = 2**256 - 1
CTX = {"wallet_address": WALLET, "now": 1_700_000_000}

# every read returns something that lets the next node run (conditions true, until satisfied)
SCRIPT = {
    "q_quote": {"outputs": {"amount_out_atomic": 3_000_000_000}},
    "q_allowance": {"outputs": {"allowance_atomic": 0}},
    "q_weth_allowance_aave": {"outputs": {"allowance": 0}},
    "wait_arrival": {"outputs": {"lamports": 5}},
    "wait_solana_arrival": {"outputs": {"lamports": 5}},
}
CONFIG = {"chains": {chain: {"backend": "fake", "script": SCRIPT} for chain in ("eip155:1", BASE, SOL)}}

# (file, old text, new text): see the module docstring
FIXES = {
    "swap-to-token": [
        ('default_chain: "eip155:1"', 'default_chain: "eip155:8453"'),
        ('fee: { ref: "nodes.q_quote.outputs.fee_tier" }', 'fee: { lit: "500" }'),
        ('action_tx: { ref: "nodes.a_swap.tx" }', 'action_tx: { ref: "nodes.a_swap.outputs.tx_hash" }'),
    ],
    "aave-branch-bridge-solana-deposit": [
        ("interest_rate_mode: { lit: 2 }", 'interest_rate_mode: { lit: "2" }'),
    ],
    "bridge-send-wait-deposit": [],
}
WORKFLOWS = sorted(FIXES)

_yaml = YAML(typ="safe", pure=True)


def _load(path: Path) -> Any:
    return _yaml.load(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ the oracle (SPEC-MAP §7.3/§7.4)

_UNKNOWN = object()


def _arg(ref: Any, inputs: Mapping[str, Any]) -> Any:
    """A workflow/protocol ValueRef the oracle can read without CEL, else _UNKNOWN."""
    if not isinstance(ref, Mapping):
        return _UNKNOWN
    if "lit" in ref:
        return ref["lit"]
    path = ref.get("ref")
    if isinstance(path, str):
        root, _, rest = path.partition(".")
        cur: Any = {"inputs": inputs, "ctx": CTX}.get(root, _UNKNOWN)
        for seg in rest.split("."):
            if not isinstance(cur, Mapping) or seg not in cur:
                return _UNKNOWN
            cur = cur[seg]
        return cur
    return _UNKNOWN


def _int(v: Any) -> int | None:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str) and v.isdigit():
        return int(v)
    return None


@dataclass
class Docs:
    workflow: Mapping[str, Any]
    protocols: dict[str, Mapping[str, Any]]  # "name@version" -> document
    pack: Mapping[str, Any]


@dataclass
class Verdict:
    kind: str  # ok | confirm | hard
    scope: str
    reasons: list[str] = field(default_factory=list)


def _step_execution(action: Mapping[str, Any], chain: str, step_id: str | None) -> Mapping[str, Any]:
    ns = chain.split(":")[0]
    for pattern, ex in action["execution"].items():
        if pattern in (chain, f"{ns}:*"):
            if ex.get("type") == "composite":
                return next(s["execution"] for s in ex["steps"] if s["id"] == step_id)
            return dict(ex)
    raise AssertionError(f"no execution for {chain}")


def oracle(node: Mapping[str, Any], docs: Docs, inputs: Mapping[str, Any]) -> Verdict:
    """The gate decision for one write node of the plan, from the documents only."""
    src = node["source"]
    wf_id, proto_ref, action_name = src["node_id"], src["protocol"], src["action"]
    proto_name = proto_ref.split("@")[0]
    action = docs.protocols[proto_ref]["actions"][action_name]
    wf_node = next(n for n in docs.workflow["nodes"] if n["id"] == wf_id)
    params = {k: _arg(v, inputs) for k, v in (wf_node.get("args") or {}).items()}
    pack = docs.pack
    policy = pack.get("policy") or {}
    tp = pack.get("token_policy") or {}
    overrides = (pack.get("overrides") or {}).get("actions") or {}
    ov = overrides.get(f"{proto_name}.{action_name}") or overrides.get(f"{proto_ref}.{action_name}") or {}
    risk = ov.get("risk_level") or action.get("risk_level") or 3
    v = Verdict("ok", f"{wf_id}:{proto_name}.{action_name}")

    ex = _step_execution(action, node["chain"], src.get("step_id"))
    fn = str((ex.get("abi") or {}).get("name") or ex.get("instruction") or "").lower()
    approve_like = fn == "approve" or fn.endswith("approve")
    token = next((params[k] for k in ("token", "token_in", "asset", "token_out")
                  if isinstance(params.get(k), Mapping) and ("address" in params[k] or "symbol" in params[k])), None)
    if token is None and not approve_like:  # step 3: unknown_fields token_identity
        return Verdict("confirm", v.scope, ["unknown token identity"])

    hc = {**(policy.get("hard_constraints_defaults") or policy.get("hard_constraints") or {}),
          **(ov.get("hard_constraints") or {})}
    hard: list[str] = []
    confirm: list[str] = []
    allowlist = tp.get("allowlist") or []
    if token is not None and allowlist:
        cand = str(token.get("address") or token.get("symbol")).lower()
        listed = any(cand in (str(e.get("address", "")).lower(), str(e.get("symbol", "")).lower())
                     and e.get("chain") in (None, node["chain"]) for e in allowlist)
        if not listed:
            strict = (tp.get("resolution") or {}).get("require_allowlist_for_symbol_resolution") is True
            (hard if strict else confirm).append("token not in allowlist")
    slip = _int(params.get("slippage_bps", params.get("max_slippage_bps")))
    limit = _int(hc.get("max_slippage_bps"))
    if slip is not None and limit is not None and slip > limit:
        hard.append("slippage above max_slippage_bps")
    if approve_like:
        approval = _int(params.get("approval_amount", params.get("amount")))
        spend = _int(params.get("spend_amount", params.get("amount_in", params.get("amount"))))
        if approval is not None and approval >= MAX_UINT256 and hc.get("allow_unlimited_approval") is False:
            hard.append("unlimited approval")
        mult = hc.get("max_approval_multiplier")
        if mult is not None and approval is not None:
            if spend is None:
                confirm.append("approval multiplier cannot be checked")
            elif Decimal(approval) > Decimal(spend) * Decimal(str(mult)):
                hard.append("approval above spend × max_approval_multiplier")
    if hard:
        return Verdict("hard", v.scope, hard)
    appr = policy.get("approvals") or {}
    if appr.get("auto_execute_max_risk_level") is not None and risk > appr["auto_execute_max_risk_level"]:
        confirm.append("risk above auto_execute_max_risk_level")
    if appr.get("require_approval_min_risk_level") is not None and risk >= appr["require_approval_min_risk_level"]:
        confirm.append("risk at require_approval_min_risk_level")
    return Verdict("confirm" if confirm else "ok", v.scope, confirm)


def _has_detect(obj: Any) -> bool:
    if isinstance(obj, Mapping):
        return "detect" in obj or any(_has_detect(x) for x in obj.values())
    if isinstance(obj, list):
        return any(_has_detect(x) for x in obj)
    return False


def _contract_refs(obj: Any) -> set[str]:
    if isinstance(obj, Mapping):
        ref = obj.get("ref")
        own = {ref.split(".")[1]} if isinstance(ref, str) and ref.startswith("contracts.") else set()
        return own.union(*(_contract_refs(x) for x in obj.values()))
    if isinstance(obj, list):
        return set().union(*(_contract_refs(x) for x in obj))
    return set()


def _unsolvable_contracts(node: Mapping[str, Any], docs: Docs) -> dict[str, str]:
    """contracts.* refs no imported protocol deploys on the node's chain (the solver cannot fill
    them, so the node pauses for inputs) → the address the protocol declares on another chain."""
    on_chain = {name for d in docs.protocols.values() for dep in d.get("deployments") or ()
                if dep["chain"] == node["chain"] for name in dep.get("contracts") or {}}
    own = docs.protocols[node["source"]["protocol"]].get("deployments") or ()
    return {name: next(dep["contracts"][name] for dep in own if name in (dep.get("contracts") or {}))
            for name in sorted(_contract_refs(node["execution"]) - on_chain)}


@dataclass
class Expected:
    detect: list[str]          # nodes that pause for a detect choice (select_provider)
    missing: list[str]         # nodes that pause for missing contracts (apply_patches)
    confirm: list[str]         # nodes that must pause for a policy confirmation
    hard: str | None           # the node a hard_block stops at
    commands: list[dict[str, Any]]
    first_stop: set[str]       # confirm nodes paused when no confirmation is given


def expect(plan: Mapping[str, Any], docs: Docs, inputs: Mapping[str, Any]) -> Expected:
    nodes = plan["nodes"]
    deps = {n["id"]: set(n.get("deps") or ()) for n in nodes}
    exp = Expected([], [], [], None, [], set())
    confirmed: set[str] = set()
    for n in nodes:
        nid = n["id"]
        if _has_detect(n["execution"]) or _has_detect((n.get("extensions") or {}).get("aisc", {}).get("calculated_fields")):
            exp.detect.append(nid)
            exp.commands.append({"type": "select_provider",
                                 "data": {"node_id": nid, "provider": "uniswap-v3-fee-detect", "value": "500"}})
        if n["execution"]["type"] not in ("evm_call", "solana_instruction"):
            continue
        missing = _unsolvable_contracts(n, docs)
        if missing:
            exp.missing.append(nid)
            exp.commands.append({"type": "apply_patches", "data": {"patches": [
                {"op": "set", "path": f"contracts.{k}", "value": v} for k, v in missing.items()]}})
        verdict = oracle(n, docs, inputs)
        if verdict.kind == "hard":
            exp.hard = nid
            exp.commands.append({"type": "user_confirm", "data": {"node_id": nid}})  # must be rejected
            break
        if verdict.kind == "confirm" and verdict.scope not in confirmed:
            confirmed.add(verdict.scope)
            exp.confirm.append(nid)
            exp.commands.append({"id": f"ok-{nid}", "type": "user_confirm", "data": {"node_id": nid}})

    def ancestors(nid: str) -> set[str]:
        out: set[str] = set()
        stack = list(deps[nid])
        while stack:
            d = stack.pop()
            if d not in out:
                out.add(d)
                stack.extend(deps[d])
        return out

    exp.first_stop = {c for c in exp.confirm if not (ancestors(c) & set(exp.confirm))}
    return exp


# ------------------------------------------------------------------ fixtures and the runner


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Docs]]:
    root = tmp_path_factory.mktemp("ex")
    ex = root / "examples"  # the workflows' import paths are "examples/<file>" (D10 compatibility rule)
    shutil.copytree(EXAMPLES, ex)
    pack_doc = _load(ex / "safe-defi-pack.ais-pack.yaml")
    out: dict[str, tuple[Path, Docs]] = {}
    for name, fixes in FIXES.items():
        wf_path = ex / f"{name}.ais-flow.yaml"
        text = wf_path.read_text(encoding="utf-8")
        for old, new in fixes:
            assert text.count(old) == 1, f"{name}: the example changed, re-check fix {old!r}"
            text = text.replace(old, new)
        wf_path.write_text(text, encoding="utf-8")
        wf = _load(wf_path)
        protos = {}
        for imp in wf["imports"]["protocols"]:
            doc = _load(ex / Path(imp["path"]).name)
            protos[f"{doc['meta']['protocol']}@{doc['meta']['version']}"] = doc
        pack_path = ex / "safe-defi-pack.ais-pack.yaml"
        pack = dict(pack_doc)
        included = {f"{i['protocol']}@{i['version']}" for i in pack["includes"]}
        if set(protos) - included:  # R077: the pack copy must include the workflow's protocols
            pack["includes"] = list(pack["includes"]) + [
                {"protocol": p.split("@")[0], "version": p.split("@")[1], "source": "registry"}
                for p in sorted(set(protos) - included)]
            pack_path = ex / f"pack-for-{name}.ais-pack.yaml"
            with pack_path.open("w", encoding="utf-8") as fh:
                YAML(typ="safe", pure=True).dump(pack, fh)
        plan_path = root / f"{name}.plan.json"
        proc = subprocess.run([sys.executable, "-m", "aisc", "compile", str(wf_path), "--pack", str(pack_path),
                               "-o", str(plan_path), "-q"], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{name} does not compile with the pack:\n{proc.stderr}"
        out[name] = (plan_path, Docs(wf, protos, pack))
    return out


@dataclass
class Run:
    code: int
    records: list[dict[str, Any]]
    stderr: str

    def of(self, etype: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["event"]["type"] == etype]

    def nodes_with(self, etype: str, pred: Callable[[dict[str, Any]], bool] = lambda d: True) -> list[str]:
        return [r["event"]["node_id"] for r in self.of(etype) if pred(r["event"]["data"])]


def run_aisc(tmp_path: Path, plan: Path, inputs: Mapping[str, Any], commands: list[dict[str, Any]],
             events_jsonl: Callable[[Path], list[dict[str, Any]]]) -> Run:
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(CONFIG), encoding="utf-8")
    ev = tmp_path / "events.jsonl"
    stdin = "".join(json.dumps(c) + "\n" for c in commands)
    proc = subprocess.run(
        [sys.executable, "-m", "aisc", "run", str(plan), "--config", str(cfg), "--inputs", json.dumps(inputs),
         "--ctx", json.dumps(CTX), "--events-jsonl", str(ev), "--run-id", "examples"],
        input=stdin, capture_output=True, text=True, timeout=120,
        env={**os.environ, "AISC_HOME": str(tmp_path / "aisc-home")})  # the run store stays in the test
    assert ev.is_file(), f"aisc run wrote no events (exit {proc.returncode}):\n{proc.stderr}"
    return Run(proc.returncode, events_jsonl(ev), proc.stderr)


def _is_policy(data: Mapping[str, Any]) -> bool:
    return data.get("reason") not in ("detect resolution required", "missing runtime inputs")


SWAP_IN = {"token_in": WETH, "token_out": USDC, "amount_in": "1.0", "slippage_bps": 50, "recipient": WALLET}
BRIDGE_IN = {"evm_amount": 1_000_000, "solana_address": SOL_USER}
AAVE_IN = {"collateral_weth": WETH, "borrow_usdc": USDC, "collateral_amount_atomic": 10**18,
           "borrow_amount_atomic": 850_000_000, "cex_address": "0x000000000000000000000000000000000000dEaD",
           "bridge_amount_atomic": 500_000_000, "solana_address": SOL_USER}
INPUTS = {"swap-to-token": SWAP_IN, "bridge-send-wait-deposit": BRIDGE_IN, "aave-branch-bridge-solana-deposit": AAVE_IN}


# uint256 inputs are JSON integers (the CEL conditions compare them with read outputs)

# ------------------------------------------------------------------ tests


@pytest.mark.parametrize("name", WORKFLOWS)
def test_r082_example_pauses_exactly_where_the_pack_requires(
        name: str, compiled: dict[str, tuple[Path, Docs]], tmp_path: Path,
        events_jsonl: Callable[[Path], list[dict[str, Any]]]) -> None:
    """R082/R284: the run pauses at each write the pack's policy sends to a confirmation, once per
    scope, and goes on to completion after a ``user_confirm`` on stdin (exit 0)."""
    plan_path, docs = compiled[name]
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    inputs = INPUTS[name]
    exp = expect(plan, docs, inputs)
    assert exp.hard is None and exp.confirm, "the oracle must find confirmations in the shipped examples"

    run = run_aisc(tmp_path, plan_path, inputs, exp.commands, events_jsonl)
    assert run.code == exitcodes.OK, run.stderr
    assert run.nodes_with("need_user_confirm", _is_policy) == exp.confirm
    assert sorted(run.nodes_with("need_user_confirm", lambda d: not _is_policy(d))) == sorted(exp.detect + exp.missing)
    for r in run.of("need_user_confirm"):
        if _is_policy(r["event"]["data"]):
            assert r["event"]["data"]["details"]["can_confirm"] is True
    accepted = [r["event"]["data"]["command"]["id"] for r in run.of("command_accepted")]
    assert [f"ok-{c}" for c in exp.confirm] == [a for a in accepted if a.startswith("ok-")]
    assert run.of("command_rejected") == []
    # every node executed, a confirmed write only after its confirmation
    executed = run.nodes_with("node_ready")
    assert sorted(executed) == sorted(n["id"] for n in plan["nodes"])
    seqs = {r["event"].get("node_id"): r["seq"] for r in run.of("tx_sent")}
    for c in exp.confirm:
        ok_seq = next(r["seq"] for r in run.of("command_accepted") if r["event"]["data"]["command"]["id"] == f"ok-{c}")
        assert seqs[c] > ok_seq
    writes = [n["id"] for n in plan["nodes"] if n["execution"]["type"] in ("evm_call", "solana_instruction")]
    assert sorted(seqs) == sorted(writes)


@pytest.mark.parametrize("name", WORKFLOWS)
def test_r082_example_without_confirmation_stays_paused_exit_4(
        name: str, compiled: dict[str, tuple[Path, Docs]], tmp_path: Path,
        events_jsonl: Callable[[Path], list[dict[str, Any]]]) -> None:
    """Without a ``user_confirm`` the run stops paused (exit 4) at the first confirmations, and no
    write that needs one is sent."""
    plan_path, docs = compiled[name]
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    exp = expect(plan, docs, INPUTS[name])
    first = next(i for i, c in enumerate(exp.commands) if c["type"] == "user_confirm")
    run = run_aisc(tmp_path, plan_path, INPUTS[name], exp.commands[:first], events_jsonl)
    assert run.code == exitcodes.PAUSED, run.stderr
    assert set(run.nodes_with("need_user_confirm", _is_policy)) == exp.first_stop
    assert not set(run.nodes_with("tx_sent")) & set(exp.confirm)
    last_pause = run.of("engine_paused")[-1]["event"]["data"]["paused"]
    assert {p["node"] for p in last_pause} >= exp.first_stop


HARD_CASES = [
    ("swap-slippage-above-max", "swap-to-token", {**SWAP_IN, "slippage_bps": 100}),
    ("swap-token-not-allowlisted", "swap-to-token", {**SWAP_IN, "token_in": NOT_LISTED}),
    ("aave-unlimited-approval", "aave-branch-bridge-solana-deposit",
     {**AAVE_IN, "collateral_amount_atomic": MAX_UINT256}),
    ("aave-borrow-token-not-allowlisted", "aave-branch-bridge-solana-deposit", {**AAVE_IN, "borrow_usdc": NOT_LISTED}),
]


@pytest.mark.parametrize(("case", "name", "inputs"), HARD_CASES, ids=[c[0] for c in HARD_CASES])
def test_r082_hard_block_is_not_cleared_by_user_confirm_exit_5(
        case: str, name: str, inputs: dict[str, Any], compiled: dict[str, tuple[Path, Docs]], tmp_path: Path,
        events_jsonl: Callable[[Path], list[dict[str, Any]]]) -> None:
    """R082/R083: a hard constraint violation pauses the write for good: the ``user_confirm`` sent for
    it is rejected, nothing downstream runs, and the run ends policy-blocked (exit 5)."""
    plan_path, docs = compiled[name]
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    exp = expect(plan, docs, inputs)
    assert exp.hard is not None, f"{case}: the oracle must find a hard block"
    run = run_aisc(tmp_path, plan_path, inputs, exp.commands, events_jsonl)
    assert run.code == exitcodes.POLICY_BLOCKED, run.stderr
    blocked = [r for r in run.of("need_user_confirm")
               if r["event"]["node_id"] == exp.hard and _is_policy(r["event"]["data"])]
    assert len(blocked) == 1 and blocked[0]["event"]["data"]["details"]["can_confirm"] is False
    assert run.nodes_with("need_user_confirm", _is_policy) == [*exp.confirm, exp.hard]
    rejected = run.of("command_rejected")
    assert len(rejected) == 1 and rejected[0]["event"]["data"]["details"].get("node_id") == exp.hard
    downstream = {exp.hard}
    for n in plan["nodes"]:
        if set(n.get("deps") or ()) & downstream:
            downstream.add(n["id"])
    assert not set(run.nodes_with("node_ready")) & downstream
    assert not set(run.nodes_with("tx_sent")) & downstream
