"""The execution-time policy gate (SPEC-MAP §7.1–§7.6, R270–R286).

Three steps, each a pure function over plain data:

1. :func:`extract_gate_input` builds a ``PolicyGateInput`` snapshot for one write node from its
   resolved params, the calculated bag, the detect result, the backend's write preview (§7.2) and the
   action's risk metadata (§7.3).
2. :func:`enforce_policy_gate` decides ``ok`` / ``need_user_confirm`` / ``hard_block`` in the order
   of §7.4. Besides the reference rules it enforces what the reference SDK leaves out (§7.6):
   ``max_spend``, ``max_approval``, ``max_approval_multiplier`` (exact integer math) and
   ``overrides.actions[<action_key>].hard_constraints``, plus the runtime guards the compiler recorded
   (see docs/runtime.md).
3. :func:`gate_write_node` is the runner wrapper (§7.5): plugin allowlist, gate, confirmation
   template and scope. A ``hard_block`` is reported with ``can_confirm: false``; no confirmation
   clears it.

The pack is plain JSON data (``plan.extensions.aisc.pack``): ``{name?, version?, meta?, policy?,
token_policy?, providers?, plugins?, overrides?}`` in the ``ais-pack/0.0.2`` shapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aisc import numeric
from aisc.backends.base import CORE_EXECUTION_TYPES
from aisc.ir import amounts

Json = dict[str, Any]

UINT256_MAX = (1 << 256) - 1
DEFAULT_RISK_LEVEL = 3
_HEX_INT = re.compile(r"^0x[0-9a-fA-F]+$")
_ALL_F = re.compile(r"^0x[fF]{64}$")

# ------------------------------------------------------------------ small value helpers


def _int_like(v: Any) -> int | None:
    """An integer from an int (never a bool) or a digit string; None otherwise."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and re.fullmatch(r"-?[0-9]+", v.strip()):
        return int(v.strip())
    return None


def _amount_str(v: Any) -> str | None:
    """Normalize an amount to a base-unit string (§7.3): int → str, 0x hex → decimal, strings trimmed."""
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int):
        return str(v)
    if isinstance(v, numeric.Dec):
        return str(v.mantissa // numeric.pow10(v.scale))  # truncation like the reference
    if isinstance(v, str):
        s = v.strip()
        if _HEX_INT.match(s):
            return str(int(s, 16))
        return s or None
    return None


def _is_unlimited(v: Any) -> bool:
    if isinstance(v, bool) or v is None:
        return False
    if isinstance(v, str):
        s = v.strip()
        if s.lower() == "max" or _ALL_F.match(s):
            return True
        n = _int_like(s)
        if n is None and _HEX_INT.match(s):
            n = int(s, 16)
        return n is not None and n >= UINT256_MAX
    if isinstance(v, int):
        return v >= UINT256_MAX
    return False


def _first(rec: Mapping[str, Any], keys: Sequence[str]) -> tuple[str, Any] | None:
    for k in keys:
        if k in rec and rec[k] is not None:
            return k, rec[k]
    return None


def _rec(v: Any) -> Mapping[str, Any]:
    return v if isinstance(v, Mapping) else {}


# ------------------------------------------------------------------ pack access


def pack_policy(pack: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    p = _rec(pack).get("policy")
    return p if isinstance(p, Mapping) else None


def pack_identity(pack: Mapping[str, Any] | None) -> Json:
    pk = _rec(pack)
    meta = _rec(pk.get("meta"))
    out: Json = {}
    name = meta.get("name", pk.get("name"))
    version = meta.get("version", pk.get("version"))
    if isinstance(name, str):
        out["name"] = name
    if isinstance(version, str):
        out["version"] = version
    return out


def action_override(pack: Mapping[str, Any] | None, protocol: str | None, action: str | None) -> Mapping[str, Any]:
    """``overrides.actions["<p>.<a>"]`` then ``["<p>@<v>.<a>"]``."""
    if not protocol or not action:
        return {}
    actions = _rec(_rec(_rec(pack).get("overrides")).get("actions"))
    name = protocol.split("@", 1)[0]
    for key in (f"{name}.{action}", f"{protocol}.{action}"):
        if isinstance(actions.get(key), Mapping):
            return actions[key]  # type: ignore[no-any-return]
    return {}


# ------------------------------------------------------------------ extraction (§7.3)

_APPROVE_SPENDER = ("spender", "_spender", "delegate", "guy")
_APPROVE_AMOUNT = ("amount", "value", "_value", "wad")
_SWAP_SPEND = ("amountIn", "amount_in", "amountInMaximum", "amountInMax")
_SWAP_SLIPPAGE = ("slippageBps", "maxSlippageBps", "slippage_bps")


def _fn_class(name: str) -> str | None:
    n = name.lower()
    if n == "approve" or n.endswith("approve"):
        return "approve"
    if "swap" in n or "exactinput" in n or "exactoutput" in n:
        return "swap"
    return None


def _lookup_arg(args: Mapping[str, Any], keys: Sequence[str]) -> Any:
    """First of ``keys`` among the top-level args, then inside struct (object) args."""
    hit = _first(args, keys)
    if hit is not None:
        return hit[1]
    for v in args.values():
        if isinstance(v, Mapping):
            hit = _first(v, keys)
            if hit is not None:
                return hit[1]
    return None


class _Gate:
    def __init__(self, base: Json) -> None:
        self.d = base
        self.sources: dict[str, list[str]] = {}

    def set(self, field: str, value: Any, source: str, *, overwrite: bool = False) -> None:
        if value is None:
            return
        if field in self.d and not overwrite:
            return
        self.d[field] = value
        self.sources.setdefault(field, [])
        if source not in self.sources[field]:
            self.sources[field].append(source)


def extract_gate_input(
    *,
    node_id: str,
    chain: str,
    pack: Mapping[str, Any] | None = None,
    workflow_node_id: str | None = None,
    step_id: str | None = None,
    protocol: str | None = None,
    action: str | None = None,
    params: Mapping[str, Any] | None = None,
    calculated: Mapping[str, Any] | None = None,
    detect_result: Any = None,
    preview: Mapping[str, Any] | None = None,
    action_risk_level: int | None = None,
    action_risk_tags: Sequence[str] = (),
    runtime_risk_level: int | None = None,
    runtime_risk_tags: Sequence[str] = (),
    token_amounts: Mapping[str, Any] | None = None,
) -> Json:
    """Build the PolicyGateInput of one write node (SPEC-MAP §7.3).

    ``token_amounts`` maps the node's ``token_amount`` params to the name of their asset param (or
    None), as the compiler records them in ``node.extensions.aisc.token_amounts``. Amounts are
    compared in base units: a human amount (such a param, a ``Dec``, or any DecimalString with a
    fraction) is converted exactly with its asset's ``decimals`` (the asset param, else the pack's
    token allowlist); when that is impossible the next source (calculated, detect result, preview)
    gives the amount, and only if none does is the human value kept (the gate then asks for
    confirmation because it cannot check the limits).
    """
    base: Json = {"node_id": node_id, "workflow_node_id": workflow_node_id or node_id}
    if step_id:
        base["step_id"] = step_id
    if protocol and action:
        base["action_ref"] = f"{protocol}/{action}"
        base["action_key"] = f"{protocol.split('@', 1)[0]}.{action}"
    base["chain"] = chain
    params = _rec(params)
    if params:
        base["params"] = dict(params)
    if preview is not None:
        base["preview"] = dict(preview)
    g = _Gate(base)

    # risk level / tags
    ov = action_override(pack, protocol, action)
    ov_level = _int_like(ov.get("risk_level"))
    if runtime_risk_level is not None:
        level, src = runtime_risk_level, "runtime"
    elif ov_level is not None:
        level, src = ov_level, "pack_override"
    elif action_risk_level is not None:
        level, src = action_risk_level, "action"
    else:
        level, src = DEFAULT_RISK_LEVEL, "default"
    g.set("risk_level", max(1, min(5, level)), src)
    tags: list[str] = []
    tag_src: list[str] = []
    for s, ts in (("action", action_risk_tags), ("pack_override", ov.get("risk_tags") or ()),
                  ("runtime", runtime_risk_tags)):
        for t in ts:
            if isinstance(t, str) and t not in tags:
                tags.append(t)
                if s not in tag_src:
                    tag_src.append(s)
    if tags:
        g.d["risk_tags"] = tags
        g.sources["risk_tags"] = tag_src

    # value sources in priority order: params > calculated > detect_result
    calc = _rec(params.get("calculated")) or _rec(calculated)
    det = _rec(detect_result if detect_result is not None else params.get("detect_result"))
    layers = (("params", params), ("calculated", calc), ("detect_result", det))
    merged: dict[str, Any] = {}
    for _, rec in reversed(layers):
        merged.update(rec)
    tok_obj: Mapping[str, Any] = {}
    for k in ("token", "token_in", "asset", "token_out"):
        tok = merged.get(k)
        if isinstance(tok, Mapping) and any(x in tok for x in ("address", "symbol", "chain_id", "chain")):
            tok_obj = tok
            break
    allowlist = _rec(_rec(pack).get("token_policy")).get("allowlist")
    token_decimals = amounts.asset_decimals(tok_obj)
    if token_decimals is None:
        ident = tok_obj.get("address") if isinstance(tok_obj.get("address"), str) else tok_obj.get("symbol")
        if isinstance(ident, str):
            token_decimals = amounts.asset_decimals(amounts.allowlist_entry(allowlist, chain=chain, token=ident))
    ta = _rec(token_amounts)
    pending: dict[str, tuple[Any, str]] = {}  # human amounts that could not be converted

    def amount_of(field: str, src_name: str, rec: Mapping[str, Any], key: str, value: Any) -> str | None:
        declared = src_name == "params" and key in ta
        if not declared and not amounts.is_human_amount(value):
            return _amount_str(value)
        dec = token_decimals
        if declared and isinstance(ta.get(key), str):
            asset = rec.get(str(ta[key]))
            dec = amounts.asset_decimals(asset)
            if dec is None and isinstance(asset, Mapping):
                ident = asset.get("address") if isinstance(asset.get("address"), str) else asset.get("symbol")
                if isinstance(ident, str):
                    dec = amounts.asset_decimals(amounts.allowlist_entry(allowlist, chain=chain, token=ident))
        if dec is not None:
            try:
                return str(amounts.human_to_atomic(value, dec))
            except amounts.AmountFormatError:
                pass
        pending.setdefault(field, (value, src_name))
        return None

    for src_name, rec in layers:
        hit = _first(rec, ("slippage_bps", "max_slippage_bps"))
        if hit is not None and _int_like(hit[1]) is not None:
            g.set("slippage_bps", _int_like(hit[1]), src_name)
        hit = _first(rec, ("approval_amount", "max_approval"))
        if hit is not None:
            g.set("approval_amount", amount_of("approval_amount", src_name, rec, *hit), src_name)
        hit = _first(rec, ("spend_amount", "amount_in", "amount"))
        if hit is not None:
            g.set("spend_amount", amount_of("spend_amount", src_name, rec, *hit), src_name)
        if isinstance(rec.get("unlimited_approval"), bool):
            g.set("unlimited_approval", rec["unlimited_approval"], src_name)
        else:
            for k in ("approval_amount", "max_approval", "amount"):
                if k in rec and _is_unlimited(rec[k]):
                    g.set("unlimited_approval", True, src_name)
                    break
    if tok_obj:
        if isinstance(tok_obj.get("address"), str):
            g.set("token_address", tok_obj["address"], "params")
        if isinstance(tok_obj.get("symbol"), str):
            g.set("token_symbol", tok_obj["symbol"], "params")
    if token_decimals is not None and tok_obj:
        g.set("token_decimals", token_decimals, "params")

    # preview fills what is still unset
    fn_class: str | None = None
    sol_ix: str | None = None
    pv = _rec(preview)
    kind = pv.get("kind")
    if kind == "evm_tx":
        fn_class = _fn_class(str(pv.get("function_name") or ""))
        args = _rec(pv.get("args"))
        if fn_class == "approve":
            g.set("token_address", pv.get("to") if isinstance(pv.get("to"), str) else None, "preview")
            sp = _lookup_arg(args, _APPROVE_SPENDER)
            g.set("spender_address", sp if isinstance(sp, str) else None, "preview")
            amt = _lookup_arg(args, _APPROVE_AMOUNT)
            g.set("approval_amount", _amount_str(amt), "preview")
            if _is_unlimited(amt):
                g.set("unlimited_approval", True, "preview")
        elif fn_class == "swap":
            g.set("spend_amount", _amount_str(_lookup_arg(args, _SWAP_SPEND)), "preview")
            sl = _int_like(_lookup_arg(args, _SWAP_SLIPPAGE))
            g.set("slippage_bps", sl, "preview")
    elif kind == "solana_instruction":
        sol_ix = str(pv.get("instruction") or "").lower()
        accounts = {a.get("name"): a.get("pubkey") for a in pv.get("accounts") or () if isinstance(a, Mapping)}
        data = _rec(pv.get("data_fields"))
        owner = accounts.get("owner") or accounts.get("authority")
        g.set("owner_address", owner if isinstance(owner, str) else None, "preview")
        mint = accounts.get("mint")
        if isinstance(mint, str):
            g.set("mint_address", mint, "preview")
            g.set("token_address", mint, "preview")
        if sol_ix == "approve":
            amt = data.get("amount", data.get("value"))
            g.set("approval_amount", _amount_str(amt), "preview")
            dl = accounts.get("delegate")
            g.set("spender_address", dl if isinstance(dl, str) else None, "preview")
            if _is_unlimited(amt):
                g.set("unlimited_approval", True, "preview")
        elif sol_ix in ("transfer", "transfer_checked"):
            g.set("spend_amount", _amount_str(data.get("amount", data.get("value"))), "preview")
        src_acct = accounts.get("source")
        g.set("token_address", src_acct if isinstance(src_acct, str) else None, "preview")

    for field, (value, src_name) in pending.items():
        human = numeric.format_decimal(value) if isinstance(value, numeric.Dec) else _amount_str(value)
        g.set(field, human, src_name)  # kept only when no source gave base units

    # classification
    d = g.d
    hard: list[str] = []
    missing: list[str] = []
    unknown: list[str] = []
    if pv.get("compile_error"):
        hard.append("preview_compile")
        unknown.append("preview_compile")
    if fn_class == "approve":
        missing += [f for f in ("token_address", "approval_amount", "spender_address") if f not in d]
    elif fn_class == "swap":
        missing += [f for f in ("spend_amount", "slippage_bps") if f not in d]
    if sol_ix == "approve":
        missing += [f for f in ("approval_amount", "spender_address") if f not in d]
        if "token_address" not in d and "mint_address" not in d:
            missing.append("token_or_mint")
    elif sol_ix in ("transfer", "transfer_checked"):
        if "spend_amount" not in d:
            missing.append("spend_amount")
        if "token_address" not in d and "mint_address" not in d:
            missing.append("token_or_mint")
    if not any(k in d for k in ("token_address", "token_symbol", "mint_address")):
        unknown.append("token_identity")
    if (fn_class == "swap" or sol_ix in ("transfer", "transfer_checked")) and "spend_amount" not in d \
            and "spend_amount" not in unknown:
        unknown.append("spend_amount")
    if hard:
        d["hard_block_fields"] = hard
    if missing:
        d["missing_fields"] = missing
    if unknown:
        d["unknown_fields"] = unknown
    if g.sources:
        d["field_sources"] = {k: list(v) for k, v in g.sources.items()}
    return d


# ------------------------------------------------------------------ constraints (§7.4 + §7.6)


def _violation(field: str, message: str, constraint: str, value: Any, limit: Any) -> Json:
    return {"field": field, "message": message, "constraint": constraint, "value": value, "limit": limit}


def _token_entry(token_policy: Mapping[str, Any], gi: Mapping[str, Any]) -> Mapping[str, Any] | None:
    cand = gi.get("token_address") or gi.get("token_symbol")
    if not isinstance(cand, str):
        return None
    c = cand.lower()
    chain = gi.get("chain")
    for e in token_policy.get("allowlist") or ():
        if not isinstance(e, Mapping):
            continue
        hit = (isinstance(e.get("address"), str) and e["address"].lower() == c) or (
            isinstance(e.get("symbol"), str) and e["symbol"].lower() == c)
        if hit and (not chain or e.get("chain") == chain):
            return e
    return None


def parse_multiplier(v: Any) -> numeric.Number | None:
    """``max_approval_multiplier`` as an exact number, or None: a plan carries it as a DecimalString
    (``"1.05"``, ≥ 1) and nothing else — a JSON number (a float in other tools) is refused."""
    try:
        return amounts.parse_multiplier(v)
    except amounts.AmountFormatError:
        return None


def _guard_applies(guard: Mapping[str, Any], gi: Mapping[str, Any]) -> bool:
    tok = guard.get("token")
    if not isinstance(tok, str) or not tok:
        return True
    have = [gi.get("token_address"), gi.get("token_symbol"), gi.get("mint_address")]
    return any(isinstance(h, str) and h.lower() == tok.lower() for h in have)


def _guard_amount(guard: Mapping[str, Any], fallback: int | None) -> int | None:
    """The guard's own (evaluated) ``amount`` when present, else the gate input's amount."""
    if "amount" not in guard:
        return fallback
    v = guard["amount"]
    if _is_unlimited(v):
        return UINT256_MAX
    return _int_like(_amount_str(v))


def validate_constraints(
    policy: Mapping[str, Any] | None,
    token_policy: Mapping[str, Any] | None,
    gi: Mapping[str, Any],
    *,
    override_constraints: Mapping[str, Any] | None = None,
    guards: Sequence[Mapping[str, Any]] = (),
) -> tuple[list[Json], list[str]]:
    """(violations, approval_reasons) for one gate input."""
    violations: list[Json] = []
    approvals: list[str] = []
    policy = _rec(policy)
    tp = _rec(token_policy)

    # token allowlist
    entry = _token_entry(tp, gi)
    allow = tp.get("allowlist") or []
    cand = gi.get("token_address") or gi.get("token_symbol")
    if allow and isinstance(cand, str) and entry is None:
        res = _rec(tp.get("resolution"))
        msg = f"Token {cand} not in allowlist"
        if res.get("require_allowlist_for_symbol_resolution") is True or "strict" in res:
            violations.append(_violation("token", msg, "token_allowlist", cand, None))
        else:
            approvals.append(msg)

    hc: dict[str, Any] = dict(_rec(policy.get("hard_constraints_defaults") or policy.get("hard_constraints")))
    hc.update({k: v for k, v in _rec(override_constraints).items() if k != "extensions"})

    slip = gi.get("slippage_bps")
    max_slip = _int_like(hc.get("max_slippage_bps"))
    if isinstance(slip, int) and max_slip is not None and slip > max_slip:
        violations.append(_violation("slippage_bps", f"slippage {slip} bps exceeds max {max_slip} bps",
                                     "max_slippage_bps", slip, max_slip))
    unlimited = gi.get("unlimited_approval") is True
    if unlimited and hc.get("allow_unlimited_approval") is False:
        violations.append(_violation("approval_amount", "unlimited approval is not allowed",
                                     "allow_unlimited_approval", True, False))

    spend = _int_like(gi.get("spend_amount"))
    approval = _int_like(gi.get("approval_amount"))
    spent = next((t for t in (gi.get("token_address"), gi.get("token_symbol"), gi.get("mint_address"))
                  if isinstance(t, str) and t), None)
    dec_raw = gi.get("token_decimals")
    spent_decimals = dec_raw if isinstance(dec_raw, int) and not isinstance(dec_raw, bool) else None
    chain = gi.get("chain") if isinstance(gi.get("chain"), str) else None

    def check_limit(field: str, amount: int | None, constraint: str, raw: Any, source: str) -> None:
        if raw is None:
            return
        res = amounts.resolve_amount_limit(raw, chain=chain, token=spent, decimals=spent_decimals,
                                           allowlist=tp.get("allowlist"))
        if not res.applies:
            return  # a limit in another token's units ("1000 USDC" while spending WETH)
        limit = res.atomic
        if limit is None:
            approvals.append(f"cannot check {constraint} ({source}): {res.problem}")
            return
        if field == "approval_amount" and unlimited and amount is None:
            violations.append(_violation(field, f"unlimited approval exceeds {constraint} {limit}",
                                         constraint, "unlimited", str(limit)))
            return
        if amount is None:
            got = gi.get(field)
            if got is not None:
                why = ("is a token amount whose decimals are unknown" if amounts.is_human_amount(got)
                       else "is not an integer")
                approvals.append(f"cannot check {constraint}: {field} {got!r} {why}")
            return
        if amount > limit:
            violations.append(_violation(field, f"{field} {amount} exceeds {constraint} {limit}",
                                         constraint, str(amount), str(limit)))

    check_limit("spend_amount", spend, "max_spend", hc.get("max_spend"), "pack")
    check_limit("approval_amount", approval, "max_approval", hc.get("max_approval"), "pack")

    def check_multiplier(raw: Any, reference: Any, source: str) -> None:
        if raw is None or (approval is None and not unlimited):
            return
        mult = parse_multiplier(raw)
        if mult is None:
            approvals.append(f"cannot check max_approval_multiplier ({source}): {raw!r} is not a DecimalString >= 1")
            return
        ref = _int_like(reference) if reference is not None else spend
        if ref is None:
            approvals.append("cannot check max_approval_multiplier: no spend amount to compare the approval with")
            return
        m, s = numeric.parts(mult)
        limit_text = numeric.format_decimal(numeric.mul(ref, mult))
        if unlimited and approval is None:
            violations.append(_violation("approval_amount", "unlimited approval exceeds max_approval_multiplier",
                                         "max_approval_multiplier", "unlimited", limit_text))
            return
        assert approval is not None
        if approval * numeric.pow10(s) > ref * m:  # approval > ref * mult, exactly
            violations.append(_violation(
                "approval_amount",
                f"approval_amount {approval} exceeds {numeric.format_decimal(mult)} x spend {ref}",
                "max_approval_multiplier", str(approval), limit_text))

    check_multiplier(hc.get("max_approval_multiplier"), None, "pack")

    for guard in guards:
        if not isinstance(guard, Mapping) or not _guard_applies(guard, gi):
            continue
        kind = guard.get("kind")
        if kind == "max_spend":
            check_limit("spend_amount", _guard_amount(guard, spend), "max_spend", guard.get("limit_atomic"),
                        "runtime guard")
        elif kind == "max_approval":
            check_limit("approval_amount", _guard_amount(guard, approval), "max_approval",
                        guard.get("limit_atomic"), "runtime guard")
        elif kind == "max_approval_multiplier":
            check_multiplier(guard.get("multiplier"), guard.get("spend_atomic"), "runtime guard")
        elif kind == "max_slippage_bps":
            lim = _int_like(guard.get("limit"))
            if isinstance(slip, int) and lim is not None and slip > lim:
                violations.append(_violation("slippage_bps", f"slippage {slip} bps exceeds max {lim} bps",
                                             "max_slippage_bps", slip, lim))
        elif kind == "allow_unlimited_approval":
            if unlimited and guard.get("allow") is False:
                violations.append(_violation("approval_amount", "unlimited approval is not allowed",
                                             "allow_unlimited_approval", True, False))
        else:
            approvals.append(f"unknown runtime guard kind {kind!r}")

    # approvals by risk
    level = gi.get("risk_level")
    ap = _rec(policy.get("approvals"))
    if isinstance(level, int) and not isinstance(level, bool):
        auto_max = _int_like(ap.get("auto_execute_max_risk_level"))
        if auto_max is not None and level > auto_max:
            approvals.append(f"risk_level {level} > auto_execute_max_risk_level {auto_max}")
        req_min = _int_like(ap.get("require_approval_min_risk_level"))
        if req_min is not None and level >= req_min:
            approvals.append(f"risk_level {level} >= require_approval_min_risk_level {req_min}")
        thr = _int_like(policy.get("risk_threshold"))
        if thr is not None and level > thr:
            approvals.append(f"risk_level {level} > risk_threshold {thr}")
    required = [t for t in policy.get("approval_required") or () if isinstance(t, str)]
    hit = [t for t in gi.get("risk_tags") or () if t in required]
    if hit:
        approvals.append(f"risk tags require approval: {', '.join(hit)}")
    return _dedup_violations(violations), _dedup(approvals)


def _dedup_violations(items: Iterable[Json]) -> list[Json]:
    """One violation per (field, constraint, value, limit): a pack limit and a runtime guard carrying
    the same limit report the same fact once."""
    out: list[Json] = []
    seen: set[tuple[str, ...]] = set()
    for v in items:
        key = tuple(repr(v.get(k)) for k in ("field", "constraint", "value", "limit"))
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _dedup(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for i in items:
        if i not in out:
            out.append(i)
    return out


def enforce_policy_gate(
    pack: Mapping[str, Any] | None,
    gate_input: Mapping[str, Any],
    *,
    guards: Sequence[Mapping[str, Any]] = (),
) -> Json:
    """The gate decision, in the order of SPEC-MAP §7.4.

    Step 0 (no ``pack.policy`` → ok) is kept, but runtime guards still apply without a policy.
    """
    policy = pack_policy(pack)
    gi = dict(gate_input)
    if policy is None and not guards:
        return {"ok": True, "kind": "ok"}
    if gi.get("hard_block_fields"):
        return {"ok": False, "kind": "hard_block", "reason": "policy gate required fields are missing",
                "details": {"gate_input": gi, "hard_block_fields": list(gi["hard_block_fields"])}}
    if gi.get("missing_fields"):
        return {"ok": False, "kind": "need_user_confirm", "reason": "policy gate input is incomplete",
                "details": {"gate_input": gi, "missing_fields": list(gi["missing_fields"])}}
    if gi.get("unknown_fields"):
        return {"ok": False, "kind": "need_user_confirm", "reason": "policy gate input has unknown fields",
                "details": {"gate_input": gi, "unknown_fields": list(gi["unknown_fields"])}}
    action_ref = gi.get("action_ref")
    protocol = action = None
    if isinstance(action_ref, str) and "/" in action_ref:
        protocol, action = action_ref.rsplit("/", 1)
    ov = action_override(pack, protocol, action)
    violations, approvals = validate_constraints(
        policy, _rec(pack).get("token_policy"), gi,
        override_constraints=_rec(ov.get("hard_constraints")), guards=guards)
    if violations:
        return {"ok": False, "kind": "hard_block", "reason": "policy hard constraint violation",
                "details": {"gate_input": gi, "violations": violations}}
    if approvals:
        return {"ok": False, "kind": "need_user_confirm", "reason": "policy approval required",
                "details": {"gate_input": gi, "approval_reasons": approvals}}
    return {"ok": True, "kind": "ok"}


# ------------------------------------------------------------------ allowlists (§7.5)


def check_execution_plugin_allowed(pack: Mapping[str, Any] | None, exec_type: str, chain: str) -> Json:
    if exec_type in CORE_EXECUTION_TYPES:
        return {"ok": True, "kind": "ok"}
    plugins = _rec(_rec(pack).get("plugins"))
    enabled = [e for e in _rec(plugins.get("execution")).get("enabled") or () if isinstance(e, Mapping)]
    if not enabled:
        if _strict_allowlist(pack):
            return {"ok": False, "kind": "hard_block", "reason": "plugin execution allowlist is empty",
                    "details": {"type": exec_type, "chain": chain}}
        return {"ok": True, "kind": "ok"}
    for e in enabled:
        chains = e.get("chains") or []
        if e.get("type") == exec_type and (not chains or chain in chains):
            return {"ok": True, "kind": "ok"}
    return {"ok": False, "kind": "hard_block", "reason": "plugin execution type is not allowlisted by pack",
            "details": {"type": exec_type, "chain": chain}}


def _strict_allowlist(pack: Mapping[str, Any] | None) -> bool:
    ext = _rec(_rec(pack).get("extensions"))
    return ext.get("strict_allowlist") is True


def _detect_entries(pack: Mapping[str, Any] | None, kind: str, chain: str) -> list[Mapping[str, Any]]:
    det = _rec(_rec(_rec(pack).get("providers")).get("detect"))
    out = []
    for e in det.get("enabled") or ():
        if isinstance(e, Mapping) and e.get("kind") == kind:
            chains = e.get("chains") or []
            if not chains or chain in chains:
                out.append(e)
    return out


def check_detect_allowed(pack: Mapping[str, Any] | None, kind: str, chain: str,
                         provider: str | None = None) -> Json:
    det = _rec(_rec(_rec(pack).get("providers")).get("detect"))
    if not det.get("enabled"):
        if _strict_allowlist(pack):
            return {"ok": False, "kind": "hard_block", "reason": "detect allowlist is empty"}
        return {"ok": True, "kind": "ok"}
    entries = _detect_entries(pack, kind, chain)
    if not entries:
        return {"ok": False, "kind": "hard_block", "reason": "detect kind is not allowlisted by pack",
                "details": {"kind": kind, "chain": chain}}
    if provider is not None and not any(e.get("provider") == provider for e in entries):
        return {"ok": False, "kind": "hard_block", "reason": "detect provider is not allowlisted by pack",
                "details": {"kind": kind, "chain": chain, "provider": provider}}
    return {"ok": True, "kind": "ok"}


def pick_detect_provider(pack: Mapping[str, Any] | None, kind: str, chain: str,
                         provider: str | None = None, candidates: Sequence[str] | None = None) -> Json:
    """Explicit provider (checked), else the best entry by priority desc then name."""
    if provider is not None:
        chk = check_detect_allowed(pack, kind, chain, provider)
        return {**chk, "provider": provider} if chk["ok"] else chk
    entries = _detect_entries(pack, kind, chain)
    if candidates is not None:
        entries = [e for e in entries if e.get("provider") in candidates]
    if not entries:
        return {"ok": False, "kind": "hard_block",
                "reason": "no detect provider available for kind/chain in pack allowlist",
                "details": {"kind": kind, "chain": chain}}

    def prio(e: Mapping[str, Any]) -> int:
        p = _int_like(e.get("priority"))
        return p if p is not None else 0

    best = sorted(entries, key=lambda e: (-prio(e), str(e.get("provider"))))[0]
    return {"ok": True, "kind": "ok", "provider": best.get("provider")}


# ------------------------------------------------------------------ runner wrapper (§7.5, R284–R286)


def confirmation_scope_key(workflow_node_id: str, action_key: str | None) -> str:
    """The key a confirmation is remembered under: ``<workflow_node_id>:<protocol>.<action>``."""
    return f"{workflow_node_id}:{action_key}" if action_key else workflow_node_id


def gate_write_node(
    pack: Mapping[str, Any] | None,
    gate_input: Mapping[str, Any],
    *,
    execution_type: str,
    guards: Sequence[Mapping[str, Any]] = (),
) -> Json:
    """Plugin allowlist + gate, mapped to ``{kind: ok|need_user_confirm|hard_block, reason, details}``
    where ``details`` is the ``need_user_confirm`` payload (R183–R186, R284–R286)."""
    chain = str(gate_input.get("chain"))
    plugin = check_execution_plugin_allowed(pack, execution_type, chain)
    if not plugin["ok"]:
        gate = plugin
        confirm_kind = "policy_allowlist"
    else:
        gate = enforce_policy_gate(pack, gate_input, guards=guards)
        confirm_kind = "policy_gate"
        if gate["ok"]:
            return {"kind": "ok", "gate": gate}
    gd = _rec(gate.get("details"))
    hit: list[str] = [str(gate["reason"])]
    hit += [str(r) for r in gd.get("approval_reasons") or ()]
    hit += [f"missing_field:{f}" for f in gd.get("missing_fields") or ()]
    hit += [f"unknown_field:{f}" for f in gd.get("unknown_fields") or ()]
    hit += [f"hard_block_field:{f}" for f in gd.get("hard_block_fields") or ()]
    hit += [str(v.get("message")) for v in gd.get("violations") or () if isinstance(v, Mapping)]
    hit = _dedup(hit)
    node_id = str(gate_input.get("node_id"))
    wf_node = str(gate_input.get("workflow_node_id") or node_id)
    action_key = gate_input.get("action_key")
    policy = _rec(pack_policy(pack))
    thresholds: Json = {}
    for k in ("auto_execute_max_risk_level", "require_approval_min_risk_level"):
        if k in _rec(policy.get("approvals")):
            thresholds[k] = policy["approvals"][k]
    for k, v in _rec(policy.get("hard_constraints_defaults") or policy.get("hard_constraints")).items():
        if k != "extensions":
            thresholds[k] = v
    # an allowlist miss is confirmable (reference runner); a gate hard_block never is
    blocked = confirm_kind == "policy_gate" and gate["kind"] == "hard_block"
    if confirm_kind == "policy_allowlist":
        title = "Confirmation needed: execution type is not in the pack allowlist"
        recommendation = "Use an allowed provider or execution type, or cancel the run."
    else:
        title = "Confirmation needed: a policy rule was triggered"
        recommendation = "Check the risk and the thresholds before confirming; otherwise cancel and adjust the parameters."
    if blocked:
        title = "Blocked by policy: this write cannot run"
        recommendation = ("A hard constraint was violated; no confirmation can clear it. Change the inputs "
                          "(apply_patches) or cancel.")
    action_ref = gate_input.get("action_ref")
    scope_key = confirmation_scope_key(wf_node, action_key if isinstance(action_key, str) else None)
    template = {
        "title": title,
        "summary": f"{execution_type} on {chain} for node {wf_node}"
                   + (f" ({action_ref})" if action_ref else "") + f": {gate['reason']}",
        "action": {k: v for k, v in {
            "action_ref": action_ref, "action_key": action_key, "chain": chain,
            "execution_type": execution_type, "workflow_node_id": wf_node}.items() if v is not None},
        "risk": {"level": gate_input.get("risk_level", DEFAULT_RISK_LEVEL), "hit_rules": hit,
                 "thresholds": thresholds},
        "recommendation": recommendation,
    }
    details: Json = {
        "kind": confirm_kind,
        "node_id": node_id,
        "workflow_node_id": wf_node,
        "action_ref": action_ref if isinstance(action_ref, str) else f"{node_id}/{execution_type}",
        "chain": chain,
        "execution_type": execution_type,
        "pack": pack_identity(pack),
        "policy": thresholds,
        "gate": gate,
        "hit_reasons": hit,
        "can_confirm": not blocked,
        "confirmation_scope": {"mode": "workflow_node", "key": scope_key,
                               "alternatives": ["action_key", "tx_hash"]},
        "confirmation_template": template,
        "pack_summary": pack_identity(pack),
        "policy_summary": {"gate_kind": gate["kind"], "risk_level": gate_input.get("risk_level"),
                           "thresholds": thresholds,
                           **({"missing_fields": list(gd["missing_fields"])} if gd.get("missing_fields") else {})},
    }
    if isinstance(action_key, str):
        details["action_key"] = action_key
    kind = "hard_block" if blocked else "need_user_confirm"
    return {"kind": kind, "reason": str(gate["reason"]), "details": details, "gate": gate}
