"""Catalog cards ``ais-catalog/0.0.1`` (R040–R046): searchable summaries of a folder of documents.

Not part of :data:`aisc.passes.PIPELINE`; ``aisc catalog DIR`` calls :func:`build_catalog`.
Arrays are stably sorted (cards by protocol, version, id; packs by name, version; detect providers
by kind, priority descending, provider), and ``hash`` is ``sha256`` over the JCS text of the catalog
without ``created_at`` (R044–R046).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

from aisc.passes.model import pack_identity

CATALOG_SCHEMA = "ais-catalog/0.0.1"


def build_catalog(documents: Sequence[Any], *, root: str, created_at: str) -> dict[str, Any]:
    """The catalog of loaded documents (``LoadedDocument``-like: file, kind, raw, ok)."""
    from aisc.jcs import JcsError, spec_hash

    docs: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    queries: list[dict[str, Any]] = []
    packs: list[dict[str, Any]] = []
    for d in documents:
        rel = os.path.relpath(d.file, root).replace(os.sep, "/")
        ok = bool(getattr(d, "ok", True)) and isinstance(d.raw, dict)
        kind = d.kind if ok and d.kind in ("protocol", "pack", "workflow") else "error"
        entry: dict[str, Any] = {"path": rel, "kind": kind}
        if isinstance(d.raw, dict):
            with contextlib.suppress(JcsError):
                entry["hash"] = spec_hash(d.raw)
        raw = d.raw if ok else {}
        if kind == "protocol":
            meta = raw.get("meta") or {}
            p, v = str(meta.get("protocol")), str(meta.get("version"))
            entry["id"] = f"{p}@{v}"
            proto_caps = [c for c in raw.get("capabilities_required") or [] if isinstance(c, str)]
            for aid, a in (raw.get("actions") or {}).items():
                if isinstance(a, dict):
                    actions.append(_card(p, v, str(aid), a, proto_caps, is_action=True))
            for qid, q in (raw.get("queries") or {}).items():
                if isinstance(q, dict):
                    queries.append(_card(p, v, str(qid), q, proto_caps, is_action=False))
        elif kind == "pack":
            ident = _identity(raw)
            if ident:
                entry["id"] = f"{ident[0]}@{ident[1]}"
            packs.append(_pack_card(raw, ident))
        elif kind == "workflow":
            meta = raw.get("meta") or {}
            entry["id"] = f"{meta.get('name')}@{meta.get('version')}"
        docs.append(entry)
    docs.sort(key=lambda e: (e["path"], e["kind"]))
    card_key = lambda c: (c["protocol"], c["version"], c["id"])  # noqa: E731
    actions.sort(key=card_key)
    queries.sort(key=card_key)
    packs.sort(key=lambda c: (c["name"], c["version"]))
    body: dict[str, Any] = {"schema": CATALOG_SCHEMA, "documents": docs, "actions": actions,
                            "queries": queries, "packs": packs}
    return {"schema": CATALOG_SCHEMA, "created_at": created_at, "hash": catalog_hash(body), **{
        k: v for k, v in body.items() if k != "schema"}}


def catalog_hash(catalog: Mapping[str, Any]) -> str:
    """sha256 hex of the JCS text of the catalog without ``created_at`` and ``hash`` (R046)."""
    from aisc.jcs import canonicalize

    body = {k: v for k, v in catalog.items() if k not in ("created_at", "hash")}
    return hashlib.sha256(canonicalize(_plain(body)).encode("utf-8")).hexdigest()


def _identity(raw: Mapping[str, Any]) -> tuple[str, str] | None:
    from aisc.passes.model import Doc

    return pack_identity(Doc(file="", kind="pack", raw=raw))


def _card(p: str, v: str, tid: str, t: Mapping[str, Any], proto_caps: list[str], *, is_action: bool) -> dict[str, Any]:
    card: dict[str, Any] = {"ref": f"{p}@{v}/{tid}", "protocol": p, "version": v, "id": tid}
    if isinstance(t.get("description"), str):
        card["description"] = t["description"]
    if is_action:
        card["risk_level"] = t.get("risk_level")
        if t.get("risk_tags"):
            card["risk_tags"] = list(t["risk_tags"])
    params = []
    for prm in t.get("params") or []:
        if isinstance(prm, dict):
            e = {"name": prm.get("name"), "type": prm.get("type")}
            if "required" in prm:
                e["required"] = prm["required"]
            if "asset_ref" in prm:
                e["asset_ref"] = prm["asset_ref"]
            params.append(e)
    if params:
        card["params"] = params
    rets = [{"name": r.get("name"), "type": r.get("type")} for r in t.get("returns") or [] if isinstance(r, dict)]
    if rets:
        card["returns"] = rets
    if is_action and t.get("requires_queries"):
        card["requires_queries"] = list(t["requires_queries"])
    caps = sorted(set(proto_caps) | {c for c in t.get("capabilities_required") or [] if isinstance(c, str)})
    if caps:
        card["capabilities_required"] = caps
    block_raw = t.get("execution")
    block: Mapping[str, Any] = block_raw if isinstance(block_raw, dict) else {}
    types: set[str] = set()
    for spec in block.values():
        if isinstance(spec, dict):
            types.add(str(spec.get("type")))
            if spec.get("type") == "composite":
                for s in spec.get("steps") or []:
                    ex = s.get("execution") if isinstance(s, dict) else None
                    if isinstance(ex, dict):
                        types.add(str(ex.get("type")))
    card["execution_types"] = sorted(types)
    card["execution_chains"] = sorted(str(k) for k in block)
    return card


def _pack_card(raw: Mapping[str, Any], ident: tuple[str, str] | None) -> dict[str, Any]:
    card: dict[str, Any] = {"name": ident[0] if ident else "", "version": ident[1] if ident else ""}
    meta_raw = raw.get("meta")
    meta: Mapping[str, Any] = meta_raw if isinstance(meta_raw, dict) else {}
    desc = meta.get("description") or raw.get("description")
    if isinstance(desc, str):
        card["description"] = desc
    incs = []
    for inc in raw.get("includes") or []:
        if isinstance(inc, dict):
            e = {"protocol": inc.get("protocol"), "version": inc.get("version")}
            if inc.get("chain_scope"):
                e["chain_scope"] = list(inc["chain_scope"])
            incs.append(e)
    card["includes"] = sorted(incs, key=lambda e: (str(e["protocol"]), str(e["version"])))
    for key in ("policy", "token_policy", "plugins"):
        if isinstance(raw.get(key), Mapping):
            card[key] = raw[key]
    prov = raw.get("providers")
    if isinstance(prov, dict):
        out: dict[str, Any] = {}
        det = (prov.get("detect") or {}).get("enabled") if isinstance(prov.get("detect"), Mapping) else None
        if isinstance(det, list):
            out["detect"] = sorted((e for e in det if isinstance(e, dict)),
                                   key=lambda e: (str(e.get("kind")), -_num(e.get("priority")), str(e.get("provider"))))
        quo = (prov.get("quote") or {}).get("enabled") if isinstance(prov.get("quote"), Mapping) else None
        if isinstance(quo, list):
            out["quote"] = sorted((e for e in quo if isinstance(e, dict)),
                                  key=lambda e: (-_num(e.get("priority")), str(e.get("provider"))))
        card["providers"] = out
    ov = raw.get("overrides")
    if isinstance(ov, dict) and isinstance(ov.get("actions"), Mapping):
        card["overrides"] = {"action_keys": sorted(str(k) for k in ov["actions"])}
    return card


def _num(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def _plain(v: Any) -> Any:
    from aisc.numeric import Dec, format_decimal

    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, Dec):
        return format_decimal(v)
    return v
