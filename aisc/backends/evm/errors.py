"""Custom errors the EVM backend names in a revert: the standard token errors of ERC-6093 and the
common errors of OpenZeppelin Contracts 5 (access control, pausing, reentrancy, SafeERC20, ERC-2612
permits, nonces, address calls).

Revert data that starts with one of their selectors and decodes as their arguments is reported as
``Name(arg=value, ...)``; anything else stays ``custom error 0x<selector>`` with the raw data.
Selectors are computed on the first custom revert, not at import (cold start).
"""

from __future__ import annotations

import functools
from typing import Any

from aisc.backends.evm import abi as abi_mod
from aisc.backends.evm.abi import AbiError, AbiFunction

# name(type name, ...) as declared in the standards' Solidity sources
KNOWN_ERRORS: tuple[str, ...] = (
    # ERC-6093: ERC-20
    "ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
    "ERC20InvalidSender(address sender)",
    "ERC20InvalidReceiver(address receiver)",
    "ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)",
    "ERC20InvalidApprover(address approver)",
    "ERC20InvalidSpender(address spender)",
    # ERC-6093: ERC-721
    "ERC721InvalidOwner(address owner)",
    "ERC721NonexistentToken(uint256 tokenId)",
    "ERC721IncorrectOwner(address sender, uint256 tokenId, address owner)",
    "ERC721InvalidSender(address sender)",
    "ERC721InvalidReceiver(address receiver)",
    "ERC721InsufficientApproval(address operator, uint256 tokenId)",
    "ERC721InvalidApprover(address approver)",
    "ERC721InvalidOperator(address operator)",
    # ERC-6093: ERC-1155
    "ERC1155InsufficientBalance(address sender, uint256 balance, uint256 needed, uint256 tokenId)",
    "ERC1155InvalidSender(address sender)",
    "ERC1155InvalidReceiver(address receiver)",
    "ERC1155MissingApprovalForAll(address operator, address owner)",
    "ERC1155InvalidApprover(address approver)",
    "ERC1155InvalidOperator(address operator)",
    "ERC1155InvalidArrayLength(uint256 idsLength, uint256 valuesLength)",
    # OpenZeppelin Contracts 5
    "OwnableUnauthorizedAccount(address account)",
    "OwnableInvalidOwner(address owner)",
    "AccessControlUnauthorizedAccount(address account, bytes32 neededRole)",
    "AccessControlBadConfirmation()",
    "EnforcedPause()",
    "ExpectedPause()",
    "ReentrancyGuardReentrantCall()",
    "SafeERC20FailedOperation(address token)",
    "SafeERC20FailedDecreaseAllowance(address spender, uint256 currentAllowance, uint256 requestedDecrease)",
    "ERC2612ExpiredSignature(uint256 deadline)",
    "ERC2612InvalidSigner(address signer, address owner)",
    "InvalidAccountNonce(address account, uint256 currentNonce)",
    "AddressEmptyCode(address target)",
    "FailedCall()",
    "InsufficientBalance(uint256 balance, uint256 needed)",
)


def _fragment(declaration: str) -> dict[str, Any]:
    """``Name(type name, ...)`` → a JSON ABI fragment (typed as a function: same selector rule)."""
    name, _, rest = declaration.partition("(")
    params = [p.split() for p in rest.rstrip(")").split(",") if p.strip()]
    return {"type": "function", "name": name,
            "inputs": [{"type": t, "name": n} for t, n in params]}


@functools.cache
def _by_selector() -> dict[bytes, AbiFunction]:
    table: dict[bytes, AbiFunction] = {}
    for declaration in KNOWN_ERRORS:
        fn = abi_mod.parse_function(_fragment(declaration))
        table[fn.selector] = fn
    return table


def decode_known_error(data: bytes) -> tuple[str, dict[str, Any]] | None:
    """``(name, {argument: value})`` when ``data`` is one of :data:`KNOWN_ERRORS` with arguments that
    decode; integers are decimal strings, addresses lowercase hex, bytes 0x hex. None otherwise."""
    fn = _by_selector().get(bytes(data[:4]))
    if fn is None:
        return None
    try:
        values = abi_mod.decode_values(fn.inputs, bytes(data[4:]), what=f"{fn.name} arguments")
    except AbiError:
        return None
    args = {p.name: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
            for p, v in zip(fn.inputs, values, strict=True)}
    return fn.name, args
