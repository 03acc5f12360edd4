"""Helpers shared by the CEL evaluator tests."""

from __future__ import annotations

from typing import Any

from aisc.numeric import Dec


def same(got: Any, want: Any) -> bool:
    """Equal values of the same CEL type (``1`` is not ``True``; ``Dec`` is not ``int``)."""
    if type(got) is not type(want):
        if isinstance(got, list | tuple) and isinstance(want, list | tuple):
            pass
        else:
            return False
    if isinstance(want, list | tuple):
        return len(got) == len(want) and all(same(a, b) for a, b in zip(got, want, strict=True))
    if isinstance(want, dict):
        return set(got) == set(want) and all(same(got[k], want[k]) for k in want)
    if isinstance(want, Dec):
        return bool(got.mantissa == want.mantissa and got.scale == want.scale)
    return bool(got == want)


def make_root() -> dict[str, Any]:
    return {
        "inputs": {
            "amount": 1000000,
            "bps": 50,
            "s": "hello",
            "empty": "",
            "zero": 0,
            "list": [1, 2, 3],
            "empty_list": [],
            "map": {"k": "v", "n": None, "nested": {"deep": 7}},
            "empty_map": {},
            "nul": None,
            "dec": Dec(15, 1),
            "t": True,
            "f": False,
            "big": 2**256,
            "str_amount": "1.23",
            "int_str": "42",
            "addr": "0xAbC",
            "asset": {"decimals": 6, "symbol": "USDC"},
            "asset_str": {"decimals": "18"},
            "fl": 1.5,
            "tuple": (4, 5),
        },
        "params": {"x": 2, "amount_in": "2500000"},
        "ctx": {"capabilities": ["cel:v1"], "wallet_address": "0x1111", "now": 1700000000},
        "query": {"allowance-token": {"allowance_atomic": 0}, "quote": {"amount_out": 995000}},
        "contracts": {"router": "0x2222"},
        "calculated": {"min_out_atomic": 990000},
        "policy": {"max_slippage_bps": 100},
        "nodes": {
            "q": {"outputs": {"amount_out": 1000000, "list": [10, 20], "m": {"a": 1}}},
            "empty": {},
        },
    }
