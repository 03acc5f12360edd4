"""Static policy (SPEC-MAP §7, §7.6): decide at compile time what the pack allows, guard the rest.

For every write (each composite step on its own) the pass finds the amounts that leave the wallet
(approvals, spends, native ``value``), the token, the spender and the slippage, and evaluates them
statically where it can: literals, protocol param defaults, calculated fields, deployment
``contracts``, and workflow input *defaults* (a default is only a default, so a value reached
through an input is also guarded at run time). A value that breaks the effective limits is an error
naming the rule; a value that cannot be decided becomes a runtime guard in
``node.extensions.aisc.runtime_guards`` (shapes in docs/compiler.md), which the runtime's policy gate
enforces before signing. Then the worst case per token over the whole plan is compared with the
pack's ``max_spend`` / ``max_approval``.

Effective limits = pack ``hard_constraints_defaults`` (or legacy ``hard_constraints``), then
``overrides.actions["<protocol>.<action>"|"<protocol>@<version>.<action>"]`` (the stricter of the two
keys per field), then the workflow ``policy`` which may only tighten (``AISC-POL-001`` otherwise),
then the protocol action's own ``hard_constraints`` which may also only tighten.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from aisc.diagnostics import Diagnostic, Related
from aisc.ir import amounts
from aisc.numeric import (
    DECIMAL_STRING,
    INTEGER_STRING,
    UINT256_MAX,
    Dec,
    NumericError,
    compare,
    parse_decimal_string,
)
from aisc.passes import _refs
from aisc.passes.model import Analysis, Doc, NodeInfo, Workspace, pk, target_params

UNKNOWN: Any = type("Unknown", (), {"__repr__": lambda self: "UNKNOWN"})()
UNLIMITED_WORDS = frozenset({"max", "unlimited", "infinite", "infinity", "max_uint256", "uint256_max", "maxuint256"})
MAX_DEPTH = 24
APPROVE_SPENDER = ("spender", "_spender", "delegate", "guy", "operator")
APPROVE_AMOUNT = ("amount", "value", "_value", "wad", "addedValue", "added_value")
SWAP_AMOUNT = ("amountIn", "amount_in", "amountInMaximum", "amountInMax")
SWAP_TOKEN = ("tokenIn", "token_in")
SPEND_NAMES = ("transfer", "transferfrom", "send", "deposit", "supply", "repay", "stake", "bridge")
SLIPPAGE_KEYS = ("slippage_bps", "max_slippage_bps", "slippageBps", "maxSlippageBps")
LIMIT_KEYS = ("max_slippage_bps", "allow_unlimited_approval", "max_spend", "max_approval", "max_approval_multiplier")
WORKFLOW_EXTRA_KEYS = ("tighten_only", "extensions")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")


def check_policy(ws: Workspace, an: Analysis) -> list[Diagnostic]:
    """Enforce the pack statically on every write node; record runtime guards and per-token bounds."""
    return _Policy(ws, an).run()


# ---------------------------------------------------------------------- value helpers


def as_int(v: Any) -> int | None:
    """An exact integer from an int, an IntegerString or ``0x`` hex; None otherwise (bool excluded)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        s = v.strip()
        if INTEGER_STRING.match(s):
            return int(s)
        if _HEX.match(s):
            return int(s, 16)
    return None


def is_unlimited(v: Any) -> bool:
    """Unlimited approval in any disguise: ≥ 2^256−1 (decimal, hex, int) or a word such as "max"."""
    if isinstance(v, str) and v.strip().lower() in UNLIMITED_WORDS:
        return True
    n = as_int(v)
    return n is not None and n >= UINT256_MAX


def _exact(v: Any) -> int | Dec | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | Dec):
        return v
    if isinstance(v, str) and DECIMAL_STRING.match(v.strip()):
        try:
            return parse_decimal_string(v.strip())
        except NumericError:
            return None
    return None


# ---------------------------------------------------------------------- the static evaluator


class _Static:
    """Evaluates ValueRefs of one node where the value is fixed before the run."""

    def __init__(self, ws: Workspace, n: NodeInfo) -> None:
        self.ws = ws
        self.n = n
        self.use_defaults = False  # True: an input reads as its declared default (with_defaults)
        self._defaults: _Static | None = None
        self.via_input = False
        inputs = ws.workflow.get("inputs")
        self.inputs: Mapping[str, Any] = inputs if isinstance(inputs, dict) else {}
        args = n.raw.get("args")
        self.args: Mapping[str, Any] = args if isinstance(args, dict) else {}
        # what comes from the protocol alone is remembered on its document (read-only here)
        pdoc, target = n.protocol_doc, n.target
        self.contracts: Mapping[str, Any] = (
            pdoc.remember(("contracts", n.chain), _contracts, pdoc, n.chain)
            if pdoc is not None and n.chain is not None else {})
        self.params = target_params(n)
        self.calc: Mapping[str, Any] = (
            pdoc.remember(("calculated_exprs", n.is_action, n.target_name), _calculated_exprs, target)
            if pdoc is not None and target is not None else {})
        overrides = n.raw.get("calculated_overrides")
        if isinstance(overrides, dict):
            self.calc = {**self.calc,
                         **{str(k): ("wf", v.get("expr")) for k, v in overrides.items() if isinstance(v, dict)}}
        self.depth = 0

    def with_defaults(self) -> _Static:
        """This evaluator, but reading a workflow input as its declared default; made on first use
        (most writes are decided without it)."""
        d = self._defaults
        if d is None:
            d = self._defaults = object.__new__(_Static)
            d.__dict__.update(self.__dict__)
            d.use_defaults, d.via_input, d.depth, d._defaults = True, False, 0, d
        return d

    # scope "wf": inputs, nodes, ctx, contracts; scope "proto": params, calculated, contracts, ctx, query
    def value(self, vr: Any, scope: str) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                return UNKNOWN
            tag = _refs.tag_of(vr)
            if tag is None:
                return UNKNOWN
            val = vr[tag]
            if tag == "lit":
                return val
            if tag == "ref":
                return self.path([s for s in str(val).split(".") if s], scope) if isinstance(val, str) else UNKNOWN
            if tag == "object":
                out = {}
                for k, x in val.items():
                    v = self.value(x, scope)
                    if v is UNKNOWN:
                        return UNKNOWN
                    out[k] = v
                return out
            if tag == "array":
                items = [self.value(x, scope) for x in val]
                return UNKNOWN if any(i is UNKNOWN for i in items) else items
            if tag == "cel" and isinstance(val, str):
                return self.cel(val, scope)
            return UNKNOWN
        finally:
            self.depth -= 1

    def path(self, parts: list[str], scope: str) -> Any:
        if not parts:
            return UNKNOWN
        root, rest = parts[0], parts[1:]
        if root == "contracts" and rest:
            base: Any = self.contracts.get(rest[0], UNKNOWN)
            return _walk(base, rest[1:])
        if scope == "proto" and root == "params" and rest:
            name = rest[0]
            if name in self.args:
                return _walk(self.value(self.args[name], "wf"), rest[1:])
            p = self.params.get(name)
            if p is not None and "default" in p:
                return _walk(p["default"], rest[1:])
            return None if p is not None else UNKNOWN  # absent optional param → null at run time
        if scope == "proto" and root == "calculated" and rest:
            expr = self.calc.get(rest[0], UNKNOWN)
            if expr is UNKNOWN:
                return UNKNOWN
            if isinstance(expr, tuple):
                return _walk(self.value(expr[1], "wf"), rest[1:])
            return _walk(self.value(expr, "proto"), rest[1:])
        if scope == "wf" and root == "inputs" and rest:
            self.via_input = True
            decl = self.inputs.get(rest[0])
            if self.use_defaults and isinstance(decl, dict) and "default" in decl:
                return _walk(decl["default"], rest[1:])
            return UNKNOWN
        return UNKNOWN

    def cel(self, expr: str, scope: str) -> Any:
        text = expr
        if "[" in _strip(text):
            return UNKNOWN
        text = re.sub(r"\bMAX_UINT256\b", str(UINT256_MAX), text)
        root: dict[str, Any] = {}
        for dotted in _refs.cel_paths(text):
            parts = dotted.split(".")
            if len(parts) < 2:
                return UNKNOWN
            v = self.path(parts, scope)
            if v is UNKNOWN:
                return UNKNOWN
            _set(root, parts, v)
        try:
            from aisc.eval.compiler import evaluate_cel

            return evaluate_cel(text, root)
        except Exception:
            return UNKNOWN


def _strip(expr: str) -> str:
    return _refs._strip_strings(expr)


def _walk(v: Any, rest: list[str]) -> Any:
    for seg in rest:
        if v is UNKNOWN:
            return UNKNOWN
        if isinstance(v, dict):
            if seg not in v:
                return UNKNOWN
            v = v[seg]
        else:
            return UNKNOWN
    return v


def _set(root: dict[str, Any], parts: list[str], v: Any) -> None:
    cur = root
    for seg in parts[:-1]:
        nxt = cur.setdefault(seg, {})
        if not isinstance(nxt, dict):
            return
        cur = nxt
    cur[parts[-1]] = v


def _contracts(pdoc: Doc, chain: str) -> dict[str, Any]:
    """The protocol's contracts deployed on ``chain`` (``{}`` when it has no deployment there)."""
    deps = pdoc.get("deployments")
    if not isinstance(deps, list):
        return {}
    for d in deps:
        if isinstance(d, dict) and d.get("chain") == chain and isinstance(d.get("contracts"), Mapping):
            return dict(d["contracts"])
    return {}


def _calculated_exprs(target: Mapping[str, Any]) -> dict[str, Any]:
    """An action's or query's calculated fields' expressions by name."""
    fields = target.get("calculated_fields")
    return {str(k): v.get("expr") for k, v in fields.items() if isinstance(v, dict)} if isinstance(fields, dict) else {}


# ---------------------------------------------------------------------- the pass


class _Limits:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}  # key -> static value
        self.sources: dict[str, str] = {}  # key -> where it came from
        self.dynamic: dict[str, tuple[Any, str]] = {}  # key -> (ValueRef, source) to evaluate at run time
        # amount limits in other units than values[key] ("1000000" base units vs "1.5 USDC"): they
        # cannot be ordered without the token, so each one is checked (and guarded) as well
        self.also: dict[str, list[tuple[Any, str]]] = {}

    def tighten(self, key: str, value: Any, source: str) -> None:
        cur = self.values.get(key)
        if cur is None:
            self.values[key] = value
            self.sources[key] = source
        elif key in amounts.AMOUNT_LIMIT_KEYS and _cmp_limits(key, value, cur) is None:
            if (value, source) not in self.also.setdefault(key, []):
                self.also[key].append((value, source))
        elif _tighter(key, value, cur):
            self.values[key] = value
            self.sources[key] = source

    def amount_limits(self, key: str) -> list[tuple[Any, str]]:
        """Every static limit of an amount key: the primary one, then those in other units."""
        out = [(self.values[key], self.sources.get(key, key))] if key in self.values else []
        return out + list(self.also.get(key, ()))


def _cmp_limits(key: str, a: Any, b: Any) -> int | None:
    """Order two limit values of ``key`` (-1/0/1), or None when they cannot be compared statically
    (malformed, or amounts in different units: base units vs token units vs another symbol)."""
    if key in amounts.AMOUNT_LIMIT_KEYS:
        try:
            la, lb = amounts.parse_amount_limit(a), amounts.parse_amount_limit(b)
        except amounts.AmountFormatError:
            return None
        sa = la.symbol.lower() if la.symbol else None
        sb = lb.symbol.lower() if lb.symbol else None
        if la.base_units != lb.base_units or sa != sb:
            return None
        return compare(la.value, lb.value)
    x, y = _exact(a), _exact(b)
    return compare(x, y) if x is not None and y is not None else None


def _tighter(key: str, new: Any, cur: Any) -> bool:
    if key == "allow_unlimited_approval":
        return new is False and cur is not False
    c = _cmp_limits(key, new, cur)
    return c is not None and c < 0


def _looser(key: str, new: Any, cur: Any) -> bool:
    """``new`` is less strict than ``cur`` (amounts in different units are not comparable here:
    both stay in force)."""
    if key == "allow_unlimited_approval":
        return new is not False and cur is False
    c = _cmp_limits(key, new, cur)
    return c is not None and c > 0


class _Policy:
    def __init__(self, ws: Workspace, an: Analysis) -> None:
        self.ws = ws
        self.an = an
        self.wf = ws.workflow
        self.pack = ws.pack
        self.diags: list[Diagnostic] = []
        self.totals: dict[str, dict[str, Any]] = {}
        # (limit, token, chain) -> its resolution: writes of one workflow share a few of each
        self.resolved: dict[tuple[str | int, str | None, str], amounts.LimitResolution] = {}

    def err(self, code: str, msg: str, doc: Doc, path: str, hint: str, *, severity: str = "error",
            related: tuple[Related, ...] = ()) -> None:
        self.diags.append(Diagnostic(code=code, message=msg, severity=severity,  # type: ignore[arg-type]
                                     path=path, span=doc.span(path), hint=hint, related=related))

    def run(self) -> list[Diagnostic]:
        base = self.pack_limits()
        self.workflow_policy(base)
        self.check_overrides()
        for n in self.ws.nodes:
            if n.is_action and n.target is not None and n.spec is not None:
                self.node(n, base)
        self.plan_bounds(base)
        return self.diags

    # ------------------------------------------------------------------ limits

    def pack_limits(self) -> _Limits:
        lim = _Limits()
        if self.pack is None:
            return lim
        policy = self.pack.get("policy")
        if not isinstance(policy, dict):
            return lim
        key = "hard_constraints_defaults" if isinstance(policy.get("hard_constraints_defaults"), Mapping) else \
            "hard_constraints"
        hc = policy.get(key)
        if isinstance(hc, dict):
            for k in LIMIT_KEYS:
                if k in hc:
                    self.check_limit_value(k, hc[k], self.pack, f"$.policy.{key}.{k}")
                    lim.values[k] = hc[k]
                    lim.sources[k] = f"pack.policy.{key}.{k}"
        return lim

    def check_limit_value(self, k: str, v: Any, doc: Doc, path: str) -> None:
        """The one documented format (aisc.ir.amounts, docs/runtime.md): amounts are strings; a
        multiplier is an exact decimal ≥ 1."""
        if k in amounts.AMOUNT_LIMIT_KEYS:
            if not isinstance(v, str):
                self.err("AISC-POL-010", f"{k} {_show(v)} is not a string", doc, path, amounts.LIMIT_HINT)
                return
            try:
                lim = amounts.parse_amount_limit(v)
            except amounts.AmountFormatError as e:
                self.err("AISC-POL-010", f"{k}: {e.message}", doc, path, e.hint)
                return
            if lim.symbol is not None:
                tp = self.pack.get("token_policy") if self.pack is not None else None
                allow = tp.get("allowlist") if isinstance(tp, dict) else None
                if amounts.allowlist_entry(allow, chain=None, symbol=lim.symbol) is None:
                    self.err("AISC-POL-010", f"{k} {v!r} names {lim.symbol}, which is not in the pack's "
                             "token_policy.allowlist", doc, path,
                             "use the symbol of an allowlisted token (its decimals convert the amount), or "
                             "write the limit in base units")
        if k == "max_approval_multiplier":
            try:
                amounts.parse_multiplier(v, allow_number=True)
            except amounts.AmountFormatError as e:
                self.err("AISC-POL-010", f"{e.message} (an exact decimal ≥ 1 is required)", doc, path, e.hint)

    def workflow_policy(self, base: _Limits) -> None:
        """The workflow may only tighten the pack (tighten-only is not optional)."""
        policy = self.wf.get("policy")
        if not isinstance(policy, dict):
            return
        hc = policy.get("hard_constraints")
        if isinstance(hc, dict):
            for k, raw in hc.items():
                path = pk("$.policy.hard_constraints", k)
                if k == "tighten_only":
                    if raw is not True and not (_refs.tag_of(raw) == "lit" and raw["lit"] is True):
                        self.err("AISC-POL-002", "workflow policy cannot turn tighten_only off: a workflow may only "
                                 "tighten the pack", self.wf, path, "remove tighten_only or set it to true")
                    continue
                if k == "extensions":
                    continue
                if k not in LIMIT_KEYS:
                    self.err("AISC-POL-003", f"unknown workflow hard constraint {k!r} (ignored)", self.wf, path,
                             "known: " + ", ".join(LIMIT_KEYS), severity="warning")
                    continue
                v = raw
                if _refs.is_vr(raw):
                    if _refs.tag_of(raw) != "lit":
                        base.dynamic[k] = (raw, "workflow.policy.hard_constraints." + k)
                        continue
                    v = raw["lit"]
                self.check_limit_value(k, v, self.wf, path)
                cur = base.values.get(k)
                if cur is not None and _looser(k, v, cur):
                    self.err("AISC-POL-001", f"workflow policy {k}={_show(v)} loosens the pack's {_show(cur)}; "
                             "a workflow may only tighten the pack", self.wf, path,
                             f"use a value at least as strict as the pack's ({_show(cur)}) or remove it")
                    continue
                base.tighten(k, v, "workflow.policy.hard_constraints." + k)
        approvals = policy.get("approvals")
        pack_ap = {}
        if self.pack is not None and isinstance(self.pack.get("policy"), Mapping):
            pa = self.pack.get("policy").get("approvals")
            pack_ap = dict(pa) if isinstance(pa, dict) else {}
        if isinstance(approvals, dict):
            for k, v in approvals.items():
                path = pk("$.policy.approvals", k)
                if k in ("auto_execute_max_risk_level", "require_approval_min_risk_level"):
                    lv = v["lit"] if _refs.tag_of(v) == "lit" else v
                    cur = pack_ap.get(k)
                    if isinstance(lv, int) and isinstance(cur, int) and lv > cur:
                        self.err("AISC-POL-001", f"workflow policy approvals.{k}={lv} loosens the pack's {cur}; "
                                 "a workflow may only tighten the pack", self.wf, path,
                                 f"use a value ≤ {cur} or remove it")
                elif k == "use_pack_defaults":
                    if v is False:
                        self.err("AISC-POL-002", "workflow policy cannot opt out of the pack's approval defaults",
                                 self.wf, path, "remove use_pack_defaults or set it to true")
                elif k != "extensions":
                    self.err("AISC-POL-003", f"unknown workflow approvals key {k!r} (ignored)", self.wf, path,
                             "known: auto_execute_max_risk_level, require_approval_min_risk_level, "
                             "use_pack_defaults", severity="warning")

    def check_overrides(self) -> None:
        """Override keys must name an included protocol's action (a typo silently disables it)."""
        if self.pack is None:
            return
        ov = self.pack.get("overrides")
        actions = ov.get("actions") if isinstance(ov, dict) else None
        if not isinstance(actions, dict):
            return
        known: set[str] = set()
        includes = self.pack.get("includes")
        for inc in includes if isinstance(includes, list) else []:
            if not isinstance(inc, dict):
                continue
            key = f"{inc.get('protocol')}@{inc.get('version')}"
            doc = self.ws.protocols.get(key)
            acts = doc.get("actions") if doc is not None else None
            for a in acts if isinstance(acts, dict) else ():
                known.add(f"{inc.get('protocol')}.{a}")
                known.add(f"{key}.{a}")
        for k, body in actions.items():
            path = pk("$.overrides.actions", k)
            if known and k not in known:
                self.err("AISC-POL-013", f"pack override {k!r} matches no action of an included protocol, so it "
                         "never applies", self.pack, path,
                         'key overrides as "<protocol>.<action>" or "<protocol>@<version>.<action>"')
            hc = body.get("hard_constraints") if isinstance(body, dict) else None
            if isinstance(hc, dict):
                for hk, hv in hc.items():
                    if hk in LIMIT_KEYS:
                        self.check_limit_value(hk, hv, self.pack, pk(f"{path}.hard_constraints", hk))

    def node_limits(self, n: NodeInfo, base: _Limits, st: _Static) -> _Limits:
        lim = _Limits()
        lim.values = dict(base.values)
        lim.sources = dict(base.sources)
        lim.dynamic = dict(base.dynamic)
        lim.also = {k: list(v) for k, v in base.also.items()}
        if self.pack is not None:
            ov = self.pack.get("overrides")
            actions = ov.get("actions") if isinstance(ov, dict) else None
            if isinstance(actions, dict):
                name = n.protocol.split("@", 1)[0]
                hits = [k for k in (f"{name}.{n.target_name}", f"{n.protocol}.{n.target_name}") if k in actions]
                # a per-action override replaces the default; with both keys the stricter value wins
                first = True
                for key in hits:
                    body = actions[key]
                    hc = body.get("hard_constraints") if isinstance(body, dict) else None
                    if not isinstance(hc, dict):
                        continue
                    for k in LIMIT_KEYS:
                        if k in hc:
                            src = f"pack.overrides.actions[{key}].hard_constraints.{k}"
                            if first or k not in lim.sources or not lim.sources[k].startswith("pack.overrides"):
                                lim.values[k] = hc[k]
                                lim.sources[k] = src
                            else:
                                lim.tighten(k, hc[k], src)
                    first = False
                # the workflow's static tightening still applies on top of an override
                for k, src in base.sources.items():
                    if src.startswith("workflow."):
                        lim.tighten(k, base.values[k], src)
        hc = n.target.get("hard_constraints") if n.target is not None else None
        if isinstance(hc, dict):
            for k in LIMIT_KEYS:
                if k not in hc:
                    continue
                v = st.value(hc[k], "proto")
                src = f"protocol {n.protocol}/{n.target_name} hard_constraints.{k}"
                if v is UNKNOWN:
                    lim.dynamic.setdefault(k, (hc[k], src))
                    continue
                cur = lim.values.get(k)
                if cur is not None and _looser(k, v, cur):
                    path = pk(f"{n.target_path}.hard_constraints", k)
                    self.diags.append(Diagnostic(
                        code="AISC-POL-011", severity="warning",
                        message=f"{n.protocol}/{n.target_name} declares {k}={_show(v)}, looser than the pack's "
                        f"{_show(cur)}; the pack's limit applies", path=path,
                        span=n.protocol_doc.span(path) if n.protocol_doc else None,
                        hint="a protocol cannot loosen the pack"))
                    continue
                lim.tighten(k, v, src)
        return lim

    # ------------------------------------------------------------------ one write node

    def node(self, n: NodeInfo, base: _Limits) -> None:
        st = _Static(self.ws, n)
        lim = self.node_limits(n, base, st)
        ops = [(n.id if sid is None else f"{n.id}__{sid}", op, chain) for sid, op, chain in _node_ops(n)]
        for pid, op, chain in ops:
            if op is None:
                continue
            for field, vr in op.amounts:
                self.amount(n, pid, op, field, vr, chain, lim, st)
        self.multiplier(n, ops, lim, st)
        self.slippage(n, lim, st)
        self.confirmations(n)

    def amount(self, n: NodeInfo, pid: str, op: _Op, field: str, vr: Any, chain: str, lim: _Limits,
               st: _Static) -> None:
        st.via_input = False
        v = st.value(vr, "proto")
        dv = st.with_defaults().value(vr, "proto") if v is UNKNOWN else v
        token = st.value(op.token, "proto") if op.token is not None else UNKNOWN
        tkey = _token_key(token, chain, op.native)
        where = f'node "{n.id}"' + (f" (plan node {pid})" if pid != n.id else "")
        self.token_allowlist(n, pid, token, chain, op)
        if field == "approval":
            unlimited_text = _cel_unlimited(vr)
            if lim.values.get("allow_unlimited_approval") is False or "allow_unlimited_approval" in lim.dynamic:
                bad = (dv is not UNKNOWN and is_unlimited(dv)) or (v is UNKNOWN and dv is UNKNOWN and unlimited_text)
                if bad and lim.values.get("allow_unlimited_approval") is False:
                    shown = _show(dv) if dv is not UNKNOWN else "MAX_UINT256"
                    self.node_err(n, "AISC-POL-004", f"{where} approves an unlimited amount ({shown}), but "
                                  f"allow_unlimited_approval is false ({lim.sources.get('allow_unlimited_approval')})",
                                  "approve the exact amount the next step spends")
                elif v is UNKNOWN:
                    self.guard(pid, {"kind": "allow_unlimited_approval", "allow": False,
                                     "source": lim.sources.get("allow_unlimited_approval", "policy")})
        limit_key = "max_approval" if field == "approval" else "max_spend"
        for limit, limit_src in lim.amount_limits(limit_key):
            res = self.resolve_limit(limit, token, chain)
            if not res.applies:
                continue  # a limit in another token's units ("1000 USDC" while this spends WETH)
            la = res.atomic
            if dv is not UNKNOWN and la is not None:
                amount = as_int(dv)
                if field == "approval" and is_unlimited(dv):
                    amount = UINT256_MAX
                if amount is not None and amount > la:
                    origin = " (through an input's default)" if v is UNKNOWN else ""
                    self.node_err(n, "AISC-POL-005" if field == "approval" else "AISC-POL-006",
                                  f"{where} {'approves' if field == 'approval' else 'spends'} {amount}{origin}, "
                                  f"above {limit_key} {la} ({limit_src})",
                                  f"lower the amount to at most {la}")
            if v is UNKNOWN or st.via_input:
                g: dict[str, Any] = {"kind": limit_key, "limit_atomic": str(la) if la is not None else limit,
                                     "amount": vr, "source": limit_src}
                tok = token if isinstance(token, str) else res.token
                if tok:
                    g["token"] = tok
                self.guard(pid, g)
        if limit_key in lim.dynamic:
            dyn, src = lim.dynamic[limit_key]
            self.guard(pid, {"kind": limit_key, "limit_atomic": dyn, "amount": vr, "source": src})
        # plan-wide worst case
        tot = self.totals.setdefault(tkey, {"spend": 0, "approval": 0, "nodes": []})
        tot["nodes"].append(pid)
        amount = as_int(dv) if dv is not UNKNOWN else None
        if field == "approval" and dv is not UNKNOWN and is_unlimited(dv):
            amount = UINT256_MAX
        if amount is None or tot[field] is None:
            tot[field] = None
        else:
            tot[field] += amount
        tot.setdefault("chain", chain)
        tot.setdefault("token", token if token is not UNKNOWN else None)

    def multiplier(self, n: NodeInfo, ops: list[tuple[str, _Op | None, str]], lim: _Limits,
                   st: _Static) -> None:
        mult = lim.values.get("max_approval_multiplier")
        if mult is None or _exact(mult) is None:
            return
        m = _exact(mult)
        approvals = [(pid, vr) for pid, op, _c in ops if op for f, vr in op.amounts if f == "approval"]
        spends = [(pid, vr) for pid, op, _c in ops if op for f, vr in op.amounts if f == "spend"]
        if not approvals or not spends:
            return
        spend_vr = spends[0][1]
        s = as_int(st.value(spend_vr, "proto"))
        for pid, vr in approvals:
            a_val = st.value(vr, "proto")
            a = UINT256_MAX if a_val is not UNKNOWN and is_unlimited(a_val) else as_int(a_val)
            if a is not None and s is not None:
                from aisc.numeric import mul

                limit = mul(s, m)  # type: ignore[arg-type]
                if compare(a, limit) > 0:
                    self.node_err(n, "AISC-POL-007", f'node "{n.id}" approves {a}, more than '
                                  f"max_approval_multiplier {_show(mult)} × spend {s} "
                                  f"({lim.sources.get('max_approval_multiplier')})",
                                  "approve at most the spend times the multiplier")
            else:
                self.guard(pid, {"kind": "max_approval_multiplier", "multiplier": _show(mult),
                                 "spend_atomic": spend_vr, "source": lim.sources.get("max_approval_multiplier")})

    def slippage(self, n: NodeInfo, lim: _Limits, st: _Static) -> None:
        if "max_slippage_bps" not in lim.values and "max_slippage_bps" not in lim.dynamic:
            return
        args = n.raw.get("args")
        args = args if isinstance(args, dict) else {}
        params = st.params
        key = next((k for k in SLIPPAGE_KEYS if k in args or k in params), None)
        if key is None:
            return
        vr = {"ref": f"params.{key}"}
        v = st.value(vr, "proto")
        dv = st.with_defaults().value(vr, "proto") if v is UNKNOWN else v
        limit = lim.values.get("max_slippage_bps")
        if limit is not None:
            got, cap = as_int(dv) if dv is not UNKNOWN else None, as_int(limit)
            if got is not None and cap is not None and got > cap:
                origin = " (through an input's default)" if v is UNKNOWN else ""
                path = pk(f"{n.path}.args", key)
                self.err("AISC-POL-008", f'node "{n.id}" allows slippage {got} bps{origin}, above max_slippage_bps '
                         f"{cap} ({lim.sources.get('max_slippage_bps')})", self.wf,
                         path if key in args else n.path, f"use at most {cap} bps")
            if v is UNKNOWN and cap is not None:
                self.guard(n.id, {"kind": "max_slippage_bps", "limit": cap,
                                  "source": lim.sources.get("max_slippage_bps")})
        if "max_slippage_bps" in lim.dynamic:
            dyn, src = lim.dynamic["max_slippage_bps"]
            self.guard(n.id, {"kind": "max_slippage_bps", "limit": dyn, "source": src})

    def token_allowlist(self, n: NodeInfo, pid: str, token: Any, chain: str, op: _Op) -> None:
        if self.pack is None or op.native:
            return
        tp = self.pack.get("token_policy")
        allow = tp.get("allowlist") if isinstance(tp, dict) else None
        if not isinstance(allow, list) or not allow:
            return
        if not isinstance(token, str):
            return  # decided at run time by the gate, which has the pack's allowlist
        ok = any(isinstance(e, dict) and (str(e.get("address", "")).lower() == token.lower()
                                             or str(e.get("symbol", "")).lower() == token.lower())
                 and e.get("chain") in (None, chain) for e in allow)
        if ok:
            return
        res = tp.get("resolution") if isinstance(tp, dict) else None
        strict = isinstance(res, dict) and (res.get("require_allowlist_for_symbol_resolution") is True
                                               or "strict" in res)
        self.node_err(n, "AISC-POL-009", f'node "{n.id}" uses token {token} on {chain}, which is not in the pack\'s '
                      "token allowlist" + ("" if strict else " (the run will ask for confirmation)"),
                      "use an allowlisted token", severity="error" if strict else "warning")

    def confirmations(self, n: NodeInfo) -> None:
        """Risk thresholds: record (as a note) that the gate will ask for confirmation."""
        if self.pack is None or n.target is None:
            return
        policy = self.pack.get("policy")
        if not isinstance(policy, dict):
            return
        level = n.target.get("risk_level")
        if not isinstance(level, int) or isinstance(level, bool):
            return
        ap_raw = policy.get("approvals")
        ap: Mapping[str, Any] = ap_raw if isinstance(ap_raw, dict) else {}
        reasons = []
        auto_max, req_min = ap.get("auto_execute_max_risk_level"), ap.get("require_approval_min_risk_level")
        if isinstance(auto_max, int) and level > auto_max:
            reasons.append(f"risk_level {level} > auto_execute_max_risk_level {auto_max}")
        if isinstance(req_min, int) and level >= req_min:
            reasons.append(f"risk_level {level} >= require_approval_min_risk_level {req_min}")
        thr = policy.get("risk_threshold")
        if isinstance(thr, int) and not isinstance(thr, bool) and level > thr:
            reasons.append(f"risk_level {level} > risk_threshold {thr}")
        if reasons:
            self.diags.append(Diagnostic(code="AISC-POL-012", severity="note",
                                         message=f'node "{n.id}" will need user confirmation: ' + "; ".join(reasons),
                                         path=n.path, span=self.wf.span(n.path)))

    # ------------------------------------------------------------------ plan-wide bound

    def plan_bounds(self, base: _Limits) -> None:
        summary: dict[str, Any] = {}
        for tkey in sorted(self.totals):
            tot = self.totals[tkey]
            entry: dict[str, Any] = {f: (str(tot[f]) if tot[f] is not None else "unbounded")
                                     for f in ("spend", "approval")}
            entry["nodes"] = list(tot["nodes"])
            summary[tkey] = entry
            for field, key, code in (("spend", "max_spend", "AISC-POL-014"), ("approval", "max_approval", "AISC-POL-014")):
                total = tot[field]
                if total is None or len(tot["nodes"]) < 2:
                    continue
                for limit, limit_src in base.amount_limits(key):
                    res = self.resolve_limit(limit, tot.get("token"), str(tot.get("chain")))
                    la = res.atomic if res.applies else None
                    if la is not None and total > la:
                        self.err(code, f"the plan's worst-case total {field} of {tkey} is {total} over "
                                 f"{len(tot['nodes'])} writes ({', '.join(tot['nodes'])}), above {key} {la} "
                                 f"({limit_src})", self.wf, "$.nodes",
                                 f"split the work across runs or lower the amounts to a total ≤ {la}")
            if (tot["approval"] is not None and tot["approval"] >= UINT256_MAX and len(tot["nodes"]) > 1
                    and base.values.get("allow_unlimited_approval") is False
                    and not any(d.code == "AISC-POL-004" for d in self.diags)):
                self.err("AISC-POL-004", f"approvals of {tkey} add up to an unlimited amount over "
                         f"{', '.join(tot['nodes'])}, but allow_unlimited_approval is false", self.wf, "$.nodes",
                         "approve only what each step spends")
        limits = {k: _show(v) for k, v in sorted(base.values.items())}
        if summary or limits:
            self.an.policy_summary = {"limits": limits, "per_token": summary}

    # ------------------------------------------------------------------ helpers

    def resolve_limit(self, limit: Any, token: Any, chain: str) -> amounts.LimitResolution:
        """A pack amount limit for a write spending ``token`` on ``chain`` (aisc.ir.amounts): base
        units as is; token units with the allowlist's decimals; a symbol limit only for its token.
        Remembered for the pass per (limit, token, chain) when the limit is a string or an integer."""
        tok = token if isinstance(token, str) else None
        key = (limit, tok, chain) if isinstance(limit, (str, int)) else None
        hit = self.resolved.get(key) if key is not None else None
        if hit is not None:
            return hit
        tp = self.pack.get("token_policy") if self.pack is not None else None
        allow = tp.get("allowlist") if isinstance(tp, dict) else None
        got = amounts.resolve_amount_limit(limit, chain=chain, token=tok, decimals=self.token_decimals(tok, chain),
                                           allowlist=allow)
        if key is not None:
            self.resolved[key] = got
        return got

    def token_decimals(self, token: Any, chain: str) -> int | None:
        if self.pack is None or not isinstance(token, str):
            return None
        tp = self.pack.get("token_policy")
        allow = tp.get("allowlist") if isinstance(tp, dict) else None
        for e in allow if isinstance(allow, list) else []:
            if (isinstance(e, dict) and str(e.get("address", "")).lower() == token.lower()
                    and e.get("chain") == chain and isinstance(e.get("decimals"), int)):
                return int(e["decimals"])
        return None

    def guard(self, pid: str, g: dict[str, Any]) -> None:
        g = {k: v for k, v in g.items() if v is not None}
        lst = self.an.runtime_guards.setdefault(pid, [])
        if g not in lst:
            lst.append(g)

    def node_err(self, n: NodeInfo, code: str, msg: str, hint: str, *, severity: str = "error") -> None:
        self.err(code, msg, self.wf, n.path, hint, severity=severity)


# ---------------------------------------------------------------------- classification


def _node_ops(n: NodeInfo) -> list[tuple[str | None, _Op | None, str]]:
    """``(step id, what the write does, chain)`` for each write of an action node: one for a plain
    execution; one per step of a composite, with ``None`` for the last step, whose plan node keeps the
    workflow node's id. From the protocol alone, so remembered on its document per target, selected
    execution and chain (the ``_Op`` objects are shared: read-only)."""
    assert n.protocol_doc is not None
    return n.protocol_doc.remember(("policy_ops", n.target_name, n.spec_key, n.chain), _spec_ops, n.spec, n.chain)


def _spec_ops(spec: Mapping[str, Any], chain: str | None) -> list[tuple[str | None, _Op | None, str]]:
    if spec.get("type") != "composite":
        return [(None, _classify(spec), str(chain))]
    steps = [s for s in spec.get("steps") or [] if isinstance(s, dict)]
    return [(None if i == len(steps) - 1 else str(s.get("id")), _classify(s["execution"]), str(s.get("chain") or chain))
            for i, s in enumerate(steps) if isinstance(s.get("execution"), dict)]


class _Op:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.amounts: list[tuple[str, Any]] = []  # ("approval"|"spend", ValueRef)
        self.token: Any = None
        self.spender: Any = None
        self.native = False
        self.paths: dict[str, str] = {}


def _classify(spec: Mapping[str, Any]) -> _Op | None:
    t = spec.get("type")
    if t == "evm_call":
        abi_raw, args_raw = spec.get("abi"), spec.get("args")
        abi: Mapping[str, Any] = abi_raw if isinstance(abi_raw, dict) else {}
        name = str(abi.get("name", "")).lower()
        args: Mapping[str, Any] = args_raw if isinstance(args_raw, dict) else {}
        op: _Op | None = None
        if name == "approve" or name.endswith("approve") or "increaseallowance" in name:
            op = _Op("approve")
            op.token = spec.get("to")
            op.spender = next((args[k] for k in APPROVE_SPENDER if k in args), None)
            amt = next((k for k in APPROVE_AMOUNT if k in args), None)
            if amt is not None:
                op.amounts.append(("approval", args[amt]))
                op.paths["approval"] = f"args.{amt}"
        elif "swap" in name or "exactinput" in name or "exactoutput" in name:
            op = _Op("swap")
            flat = dict(_flatten_args(args))
            amt = next((k for k in SWAP_AMOUNT if k in flat), None)
            if amt is not None:
                op.amounts.append(("spend", flat[amt]))
            op.token = next((flat[k] for k in SWAP_TOKEN if k in flat), None)
        elif name in SPEND_NAMES:
            op = _Op("spend")
            amt = next((k for k in APPROVE_AMOUNT if k in args), None)
            if amt is not None:
                op.amounts.append(("spend", args[amt]))
            op.token = spec.get("to") if name in ("transfer", "transferfrom") else None
        value = spec.get("value")
        if isinstance(value, dict) and not (_refs.tag_of(value) == "lit" and as_int(value["lit"]) == 0):
            nat = _Op("native")
            nat.native = True
            nat.amounts.append(("spend", value))
            if op is None:
                return nat
            op.amounts.append(("spend", value))
        return op
    if t == "solana_instruction":
        ins = str(spec.get("instruction", "")).lower()
        data = spec.get("data")
        fields: Mapping[str, Any] = (data["object"] if isinstance(data, dict) and _refs.tag_of(data) == "object"
                                     else {})
        accounts = {a.get("name"): a.get("pubkey") for a in spec.get("accounts") or [] if isinstance(a, dict)}
        if ins in ("approve", "approve_checked"):
            op = _Op("approve")
            op.spender = accounts.get("delegate")
            op.token = accounts.get("mint") or accounts.get("source")
            if "amount" in fields:
                op.amounts.append(("approval", fields["amount"]))
            return op
        if ins in ("transfer", "transfer_checked"):
            op = _Op("spend")
            op.token = accounts.get("mint") or accounts.get("source")
            if "amount" in fields:
                op.amounts.append(("spend", fields["amount"]))
            return op
    return None


def _flatten_args(args: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    for k, v in args.items():
        if _refs.tag_of(v) == "object":
            yield from _flatten_args(v["object"])
        else:
            yield str(k), v


def _cel_unlimited(vr: Any) -> bool:
    for tag, val, _ in _refs.leaves(vr, "$"):
        if tag == "cel" and isinstance(val, str) and re.search(r"\bMAX_UINT256\b|pow\(\s*2\s*,\s*256\s*\)", val):
            return True
        if tag == "lit" and is_unlimited(val):
            return True
    return False


def _token_key(token: Any, chain: str, native: bool) -> str:
    if native:
        return f"native@{chain}"
    if isinstance(token, str):
        return f"{token.lower()}@{chain}"
    if isinstance(token, dict) and isinstance(token.get("address"), str):
        return f"{str(token['address']).lower()}@{chain}"
    return f"unknown-token@{chain}"


def _show(v: Any) -> str:
    if isinstance(v, Dec):
        from aisc.numeric import format_decimal

        return format_decimal(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)

