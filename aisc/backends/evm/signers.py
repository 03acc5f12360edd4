"""Transaction signers for the EVM backend (eth-account).

A signer is configured in the backend config, never in a plan or on the command line:

* ``{type: env, var: AISC_EVM_KEY}`` — a hex private key in the named environment variable;
* ``{type: keystore, path: ./key.json, password_env: AISC_KEYSTORE_PASSWORD}`` — an encrypted
  (Web3 Secret Storage v3) keystore file, its password in the named environment variable;
* ``{type: unlocked, address: 0x…}`` — an account the node itself holds unlocked (anvil, hardhat):
  the node signs through ``eth_signTransaction`` so the transaction hash is still known before
  broadcast; ``{type: unlocked, address, method: send}`` uses ``eth_sendTransaction`` instead for
  nodes without ``eth_signTransaction`` (weaker crash recovery, see docs/evm.md).

Key material lives only inside a private eth-account object. It never appears in a repr, an
exception message (errors from key parsing are replaced, not chained), a log line, an event or a
TxIntent.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from eth_account import Account

__all__ = [
    "LocalKeySigner",
    "SignedTx",
    "Signer",
    "SignerUnavailable",
    "UnlockedSigner",
    "load_signer",
]

_ADDR_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
_KEY_RE = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


class SignerUnavailable(Exception):
    """The configured signer cannot be used (env var unset, wrong password, bad config).

    The backend turns this into ``need_user_confirm("Missing signer for <chain>", ...)``.
    Messages never contain key material.
    """


class SignedTx:
    __slots__ = ("raw_hex", "tx_hash")

    def __init__(self, raw_hex: str, tx_hash: str) -> None:
        self.raw_hex = raw_hex
        self.tx_hash = tx_hash

    def __repr__(self) -> str:
        return f"SignedTx(tx_hash={self.tx_hash!r})"


class Signer(Protocol):
    address: str
    """Lowercase 0x address."""
    kind: str
    """``local`` (signs in process) or ``node`` (the node signs)."""

    def sign(self, tx: Mapping[str, Any]) -> SignedTx:
        """Sign a transaction dict (eth-account field names, int values). Local signers only."""
        ...


class LocalKeySigner:
    """Signs in process with a private key loaded from an env var or a keystore."""

    kind = "local"

    def __init__(self, account: Any, source: str) -> None:
        self.__account = account
        self.address = str(account.address).lower()
        self.source = source

    def __repr__(self) -> str:
        return f"LocalKeySigner(address={self.address!r}, source={self.source!r})"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # never pickle key material
        raise TypeError("signers cannot be pickled")

    def sign(self, tx: Mapping[str, Any]) -> SignedTx:
        signed = self.__account.sign_transaction(dict(tx))
        return SignedTx("0x" + bytes(signed.raw_transaction).hex(), "0x" + bytes(signed.hash).hex())


class UnlockedSigner:
    """An account unlocked on the node (dev chains)."""

    kind = "node"

    def __init__(self, address: str, method: str = "sign") -> None:
        self.address = address.lower()
        self.method = method  # "sign": eth_signTransaction + eth_sendRawTransaction; "send": eth_sendTransaction

    def __repr__(self) -> str:
        return f"UnlockedSigner(address={self.address!r}, method={self.method!r})"

    def sign(self, tx: Mapping[str, Any]) -> SignedTx:
        raise NotImplementedError("the node signs for an unlocked account")


def _key_account(raw: str, what: str) -> Any:
    text = raw.strip()
    if not _KEY_RE.match(text):
        raise SignerUnavailable(f"{what} does not hold a 32-byte hex private key")
    try:
        return Account.from_key(text if text.startswith("0x") else "0x" + text)
    except Exception:
        # The library's message may quote the value; replace it.
        raise SignerUnavailable(f"{what} holds an invalid private key") from None


_ALLOWED_KEYS: dict[str, frozenset[str]] = {
    "env": frozenset({"type", "var"}),
    "keystore": frozenset({"type", "path", "password_env"}),
    "unlocked": frozenset({"type", "address", "method"}),
}


def load_signer(config: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None) -> Any:
    """Build the signer described by ``config`` (None → None). Raises SignerUnavailable."""
    if config is None:
        return None
    env = os.environ if environ is None else environ
    if not isinstance(config, Mapping):
        raise SignerUnavailable("signer config must be an object with a 'type'")
    kind = config.get("type")
    allowed = _ALLOWED_KEYS.get(kind) if isinstance(kind, str) else None
    if allowed is not None:
        unknown = sorted(str(k) for k in config if k not in allowed)
        if unknown:
            # Only key names are reported: a misplaced value could be a private key.
            raise SignerUnavailable(
                f"signer {{type: {kind}}} has unknown keys: {', '.join(unknown)} "
                "(keys are read from an environment variable or a keystore, never from the config)"
            )
    if kind == "env":
        var = config.get("var")
        if not isinstance(var, str) or not var:
            raise SignerUnavailable("signer {type: env} needs 'var', the name of an environment variable")
        value = env.get(var)
        if not value:
            raise SignerUnavailable(f"environment variable {var} is not set")
        return LocalKeySigner(_key_account(value, f"environment variable {var}"), f"env:{var}")
    if kind == "keystore":
        path = config.get("path")
        pw_env = config.get("password_env")
        if not isinstance(path, str) or not isinstance(pw_env, str):
            raise SignerUnavailable("signer {type: keystore} needs 'path' and 'password_env'")
        password = env.get(pw_env)
        if password is None:
            raise SignerUnavailable(f"environment variable {pw_env} (keystore password) is not set")
        try:
            blob = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise SignerUnavailable(f"cannot read keystore {path}: {type(e).__name__}") from None
        try:
            key = Account.decrypt(blob, password)
        except Exception:
            raise SignerUnavailable(f"cannot decrypt keystore {path} (wrong password or corrupt file)") from None
        account = Account.from_key(key)
        del key
        return LocalKeySigner(account, f"keystore:{path}")
    if kind == "unlocked":
        addr = config.get("address")
        method = config.get("method", "sign")
        if not isinstance(addr, str) or not _ADDR_RE.match(addr):
            raise SignerUnavailable("signer {type: unlocked} needs 'address' (0x + 40 hex digits)")
        if method not in ("sign", "send"):
            raise SignerUnavailable("signer {type: unlocked} 'method' must be 'sign' or 'send'")
        return UnlockedSigner(addr, method)
    raise SignerUnavailable(f"unknown signer type {kind!r} (expected env, keystore or unlocked)")
