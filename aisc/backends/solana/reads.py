"""``solana_read``: the four core read methods (R234, SPEC-MAP §5.4) and their output shapes.

=========================  =========================================  ==================================================
method                     params                                     outputs
=========================  =========================================  ==================================================
``getBalance``             ``{address|pubkey}`` or ``[address]``      ``{lamports: int}``
``getTokenAccountBalance`` ``{address|pubkey|account}``               ``{result: {amount: str, decimals: int,
                           or ``[address]``                            uiAmountString: str}}``
``getAccountInfo``         ``{address|pubkey}`` or ``[address]``      ``{exists: true, lamports, owner, executable,
                                                                      rentEpoch, data_base64, data_len}`` or
                                                                      ``{exists: false}``
``getSignatureStatuses``   ``[sig, ...]`` or ``{signatures,           ``{statuses: [status | null, ...]}``, each status
                           searchTransactionHistory?}``               ``{slot, confirmations, err, status,
                                                                      confirmationStatus}`` as the RPC returns it
=========================  =========================================  ==================================================

``getTokenAccountBalance`` deliberately leaves out the RPC's ``uiAmount`` (a float): ``amount`` is the
exact atomic amount as a decimal string and ``uiAmountString`` the exact human amount.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Final

from aisc.addresses import AddressError, parse_pubkey
from aisc.backends.base import BackendError
from aisc.backends.solana.transport import Transport

__all__ = ["READ_METHODS", "execute_read"]

READ_METHODS: Final = ("getBalance", "getTokenAccountBalance", "getAccountInfo", "getSignatureStatuses")
E_READ = "AISC-SOLANA-014"


def _bad(message: str, field: str = "params") -> BackendError:
    return BackendError(message, category="validation", details={"code": E_READ, "field": field})


def _address(method: str, params: Any, keys: Sequence[str]) -> str:
    value: Any = None
    if isinstance(params, Mapping):
        for k in keys:
            if params.get(k) is not None:
                value = params[k]
                break
        else:
            raise _bad(f"{method} needs params.{' or params.'.join(keys)} (a base58 public key)")
    elif isinstance(params, Sequence) and not isinstance(params, (str, bytes)) and params:
        value = params[0]
    elif isinstance(params, str):
        value = params
    else:
        raise _bad(f"{method} needs params.{keys[0]} (a base58 public key)")
    try:
        return str(parse_pubkey(value, what=f"{method} address"))
    except AddressError as e:
        raise _bad(str(e), field=f"params.{keys[0]}") from None


def _signatures(params: Any) -> tuple[list[str], bool]:
    search = False
    sigs: Any = params
    if isinstance(params, Mapping):
        sigs = params.get("signatures")
        flag = params.get("searchTransactionHistory", False)
        if not isinstance(flag, bool):
            raise _bad("searchTransactionHistory must be a boolean", "params.searchTransactionHistory")
        search = flag
    if isinstance(sigs, str):
        sigs = [sigs]
    if not isinstance(sigs, Sequence) or not all(isinstance(s, str) and s for s in sigs):
        raise _bad("getSignatureStatuses needs params.signatures: a list of base58 signatures", "params.signatures")
    if len(sigs) > 256:
        raise _bad(f"getSignatureStatuses takes at most 256 signatures, got {len(sigs)}", "params.signatures")
    return list(sigs), search


def execute_read(transport: Transport, method: str, params: Any) -> dict[str, Any]:
    """Run one core read; raise :class:`BackendError` for unknown methods or bad params."""
    if method == "getBalance":
        return {"lamports": transport.get_balance(_address(method, params, ("address", "pubkey")))}
    if method == "getTokenAccountBalance":
        address = _address(method, params, ("address", "pubkey", "account"))
        return {"result": transport.get_token_account_balance(address)}
    if method == "getAccountInfo":
        acct = transport.get_account(_address(method, params, ("address", "pubkey")))
        if acct is None:
            return {"exists": False}
        return {
            "exists": True,
            "lamports": acct.lamports,
            "owner": acct.owner,
            "executable": acct.executable,
            "rentEpoch": acct.rent_epoch,
            "data_base64": base64.b64encode(acct.data).decode("ascii"),
            "data_len": len(acct.data),
        }
    if method == "getSignatureStatuses":
        sigs, search = _signatures(params)
        return {"statuses": transport.signature_statuses(sigs, search)}
    raise _bad(
        f"solana_read method {method!r} is not supported by the core backend (supported: {', '.join(READ_METHODS)})",
        "method",
    )
