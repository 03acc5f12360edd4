"""Helpers for the Solana backend tests: a tiny ValueRef evaluator (lit/ref/object/array) standing in
for the runtime's, NodeCall construction and account/literal shorthands."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aisc.backends.base import NodeCall, TxIntent

CHAIN = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"


def make_evaluate(root: Mapping[str, Any]) -> Callable[[Any], Any]:
    def ev(v: Any) -> Any:
        if not isinstance(v, Mapping) or len(v) != 1:
            raise AssertionError(f"not a ValueRef: {v!r}")
        (tag, body), = v.items()
        if tag == "lit":
            return body
        if tag == "ref":
            cur: Any = root
            for part in body.split("."):
                if not isinstance(cur, Mapping) or part not in cur:
                    raise KeyError(body)
                cur = cur[part]
            return cur
        if tag == "object":
            return {k: ev(x) for k, x in body.items()}
        if tag == "array":
            return [ev(x) for x in body]
        raise AssertionError(f"unsupported ValueRef tag {tag}")

    return ev


def make_call(
    execution: Mapping[str, Any],
    root: Mapping[str, Any] | None = None,
    *,
    intents: list[TxIntent] | None = None,
    simulate: bool = False,
    chain: str = CHAIN,
) -> NodeCall:
    sink = intents if intents is not None else []
    return NodeCall(
        node_id="n1",
        chain=chain,
        execution=execution,
        evaluate=make_evaluate(root or {}),
        record_intent=sink.append,
        simulate=simulate,
    )


def lit(v: Any) -> dict[str, Any]:
    return {"lit": v}


def account(name: str, pubkey: str, signer: bool = False, writable: bool = False) -> dict[str, Any]:
    return {"name": name, "pubkey": lit(pubkey), "signer": lit(signer), "writable": lit(writable)}
