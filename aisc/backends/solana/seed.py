"""Seeding a local LiteSVM chain from the run config, and the ``solana`` backend factory.

A ``litesvm`` chain starts empty. For demos and local tests, the chain config may carry a ``seed``
that is written into the chain's state (no transactions, no signatures) when the backend is built::

    chains:
      "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp":
        backend: solana
        transport: litesvm
        signer: {type: ephemeral}
        seed:
          airdrop:                                  # lamports credited to an address
            - {to: signer, lamports: "2000000000"}
          mints:                                    # SPL Token mints written as initialized
            - address: "DemoMint11111111111111111111111111111111111"
              decimals: 6
              authority: signer                     # mint authority (default: signer)
              token_program: "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"   # default; or Token-2022
              mint_to:                              # credited to the owner's associated token account
                - {owner: signer, amount: "100000000"}

``signer`` stands for the address of the backend's configured signer. Amounts are exact integers
(an int or a decimal-digit string; never a float). A seed on the ``rpc`` transport is a config
error: a real cluster cannot be written to.

:func:`make_backend` is the factory behind ``backend: solana`` in the run config
(:mod:`aisc.backends.registry`): it builds a :class:`SolanaBackend`, then applies the seed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from aisc.addresses import TOKEN_2022_PROGRAM, TOKENKEG, AddressError, derive_ata, parse_pubkey
from aisc.backends.base import BackendError
from aisc.backends.solana.backend import SolanaBackend
from aisc.backends.solana.local import LocalChain
from aisc.reprs import install_reprs

__all__ = ["E_SEED", "MintSeed", "Seed", "SeedError", "apply_seed", "make_backend", "parse_seed"]

E_SEED: Final = "AISC-SOLANA-021"
SIGNER: Final = "signer"
_DIGITS = re.compile(r"^(0|[1-9][0-9]*)$")
_U64_MAX: Final = 2**64 - 1


class SeedError(BackendError):
    """A bad ``seed`` section; ``details`` carry the code and the field path inside the seed."""

    def __init__(self, message: str, field: str) -> None:
        where = f"seed.{field}" if field else "seed"
        super().__init__(f"{where}: {message}", category="validation", details={"code": E_SEED, "field": where})
        self.field = where


@attrs.frozen(repr=False)
class Credit:
    owner: str  # base58, or "signer"
    amount: int


@attrs.frozen(repr=False)
class MintSeed:
    address: str | None
    decimals: int
    authority: str
    token_program: str
    mint_to: tuple[Credit, ...]


@attrs.frozen(repr=False)
class Seed:
    airdrop: tuple[Credit, ...] = ()
    mints: tuple[MintSeed, ...] = ()


def _uint(v: Any, field: str, *, limit: int = _U64_MAX) -> int:
    if type(v) is int and v >= 0:
        n = v
    elif isinstance(v, str) and _DIGITS.match(v):
        n = int(v)
    else:
        raise SeedError(f"expected a non-negative integer or a decimal-digit string, got {v!r}", field)
    if n > limit:
        raise SeedError(f"{n} is out of range (0..{limit})", field)
    return n


def _address(v: Any, field: str, *, signer_ok: bool = True) -> str:
    if signer_ok and v == SIGNER:
        return SIGNER
    if not isinstance(v, str):
        raise SeedError(f"expected a base58 address{' or signer' if signer_ok else ''}, got {v!r}", field)
    try:
        parse_pubkey(v)
    except AddressError:
        raise SeedError(f"{v!r} is not a base58 Solana address", field) from None
    return v


def _obj(v: Any, field: str, allowed: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(v, Mapping):
        raise SeedError("expected an object", field)
    extra = sorted(set(v) - set(allowed))
    if extra:
        raise SeedError(f"unknown field {extra[0]!r} (allowed: {', '.join(allowed)})", f"{field}.{extra[0]}".lstrip("."))
    return v


def _list(v: Any, field: str) -> list[Any]:
    if v is None:
        return []
    if not isinstance(v, list):
        raise SeedError("expected a list", field)
    return v


def parse_seed(raw: Any) -> Seed:
    """Validate a ``seed`` config section; raises :class:`SeedError` naming the field."""
    if not isinstance(raw, Mapping):
        raise SeedError("expected an object {airdrop: [...], mints: [...]}", "")
    top = _obj(raw, "", ("airdrop", "mints"))
    airdrops: list[Credit] = []
    for i, a in enumerate(_list(top.get("airdrop"), "airdrop")):
        f = f"airdrop[{i}]"
        a = _obj(a, f, ("to", "lamports"))
        if "to" not in a or "lamports" not in a:
            raise SeedError("needs 'to' and 'lamports'", f)
        airdrops.append(Credit(_address(a["to"], f"{f}.to"), _uint(a["lamports"], f"{f}.lamports")))
    mints: list[MintSeed] = []
    for i, m in enumerate(_list(top.get("mints"), "mints")):
        f = f"mints[{i}]"
        m = _obj(m, f, ("address", "decimals", "authority", "token_program", "mint_to"))
        if "decimals" not in m:
            raise SeedError("needs 'decimals'", f)
        program = m.get("token_program", TOKENKEG)
        if program not in (TOKENKEG, TOKEN_2022_PROGRAM):
            raise SeedError(f"token_program must be SPL Token ({TOKENKEG}) or Token-2022 ({TOKEN_2022_PROGRAM})",
                            f"{f}.token_program")
        credits = []
        for j, c in enumerate(_list(m.get("mint_to"), f"{f}.mint_to")):
            cf = f"{f}.mint_to[{j}]"
            c = _obj(c, cf, ("owner", "amount"))
            if "owner" not in c or "amount" not in c:
                raise SeedError("needs 'owner' and 'amount'", cf)
            credits.append(Credit(_address(c["owner"], f"{cf}.owner"), _uint(c["amount"], f"{cf}.amount")))
        if sum(c.amount for c in credits) > _U64_MAX:
            raise SeedError("the credited amounts exceed the u64 supply", f"{f}.mint_to")
        mints.append(MintSeed(
            address=None if m.get("address") is None else _address(m["address"], f"{f}.address", signer_ok=False),
            decimals=_uint(m["decimals"], f"{f}.decimals", limit=255),
            authority=_address(m.get("authority", SIGNER), f"{f}.authority"),
            token_program=str(program),
            mint_to=tuple(credits),
        ))
    return Seed(tuple(airdrops), tuple(mints))


def apply_seed(chain: LocalChain, seed: Seed, signer: str | None) -> dict[str, Any]:
    """Write ``seed`` into ``chain``; returns ``{mints: [address...], accounts: {owner: [ata...]}}``.

    ``signer`` replaces the word ``signer``; without a signer such an entry is a :class:`SeedError`.
    """

    def who(addr: str, field: str) -> str:
        if addr != SIGNER:
            return addr
        if signer is None:
            raise SeedError("'signer' is used but the chain has no signer configured", field)
        return signer

    for i, a in enumerate(seed.airdrop):
        chain.airdrop(who(a.owner, f"airdrop[{i}].to"), a.amount)
    mints: list[str] = []
    atas: dict[str, list[str]] = {}
    for i, m in enumerate(seed.mints):
        if m.address is not None and chain.get_account(m.address) is not None:
            raise SeedError(f"account {m.address} already exists", f"mints[{i}].address")
        addr = chain.create_mint(who(m.authority, f"mints[{i}].authority"), m.decimals, mint=m.address,
                                 token_program=m.token_program)
        mints.append(addr)
        for j, c in enumerate(m.mint_to):
            owner = who(c.owner, f"mints[{i}].mint_to[{j}].owner")
            ata = chain.mint_to(addr, owner, c.amount, token_program=m.token_program)
            assert ata == derive_ata(owner, addr, m.token_program)
            atas.setdefault(owner, []).append(ata)
    return {"mints": mints, "accounts": atas}


def make_backend(chain: str, **config: Any) -> SolanaBackend:
    """The ``backend: solana`` factory: ``SolanaBackend({chain, **config})``, then the ``seed`` if any."""
    raw_seed = config.pop("seed", None)
    seed = parse_seed(raw_seed) if raw_seed is not None else None
    if seed is not None and config.get("transport", "litesvm") != "litesvm":
        raise SeedError("a seed only applies to the litesvm transport (a cluster cannot be written to)", "")
    backend = SolanaBackend({"chain": chain, **config})
    if seed is not None:
        assert backend.local_chain is not None
        apply_seed(backend.local_chain, seed, backend.signer_address(chain))
    return backend


install_reprs(__name__)
