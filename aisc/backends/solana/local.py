"""A LiteSVM chain in process: the embedded Solana of the ``litesvm`` transport and the devserver.

:class:`LocalChain` wraps ``solders.litesvm.LiteSVM`` (SPL Token, Token-2022, ATA, Memo and the
address-lookup-table program are preloaded by LiteSVM) behind a lock, and adds what LiteSVM lacks:

- **Block progression.** LiteSVM has no blocks. Here every processed transaction is one "block": the
  height grows by one and a fresh blockhash is issued. A blockhash stays valid for
  :data:`BLOCKHASH_VALIDITY` blocks after it was issued (the cluster rule), so concurrent clients
  that fetched the same blockhash can all send. :meth:`advance_blocks` lets a test age blockhashes.
- **Signature statuses** (slot, error, logs) for every transaction sent, like a validator's status
  cache, so ``getSignatureStatuses`` and crash reconciliation work.
- **Test helpers** that write state directly (no signatures needed): :meth:`airdrop`,
  :meth:`create_mint`, :meth:`mint_to` (credits an owner's ATA, creating it), :meth:`set_lookup_table`.
  A test relayer credits the Solana side of a bridge with these.

LiteSVM reports failures by returning a ``FailedTransactionMetadata``; :meth:`send` always checks it
and returns a :class:`SendOutcome` with the error and logs.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Sequence
from typing import Any, Final

import attrs
from solders.account import Account
from solders.address_lookup_table_account import LookupTableMeta
from solders.hash import Hash
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.token.state import Mint, TokenAccount, TokenAccountState
from solders.transaction import Transaction, VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata
from solders.transaction_status import (
    InstructionErrorCustom,
    InstructionErrorFieldless,
    TransactionErrorFieldless,
    TransactionErrorInstructionError,
)

from aisc.addresses import (
    ADDRESS_LOOKUP_TABLE_PROGRAM,
    TOKENKEG,
    AddressError,
    b58decode,
    b58encode,
    derive_ata,
    parse_pubkey,
)
from aisc.numeric import to_human
from aisc.reprs import install_reprs

__all__ = ["BLOCKHASH_VALIDITY", "LOCAL_GENESIS_HASH", "LocalChain", "SendOutcome", "token_balance_from_accounts", "tx_error_json"]

BLOCKHASH_VALIDITY: Final = 150
LOCAL_GENESIS_HASH: Final = "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpLiteSVMLocaL"
"""The genesis hash a local chain reports (``getGenesisHash`` of the devserver). Its first 32
characters are mainnet-beta's CAIP-2 reference (``solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp``, the
chain every bundled example names), so a local chain stands in for that chain by default; the last
12 characters mark it as local: it is *not* mainnet-beta's genesis hash. Pass ``genesis_hash=`` to
:class:`LocalChain` to stand in for another cluster."""
MINT_LEN: Final = 82
TOKEN_ACCOUNT_LEN: Final = 165


def tx_error_json(err: Any) -> Any:
    """A LiteSVM/solders transaction error in the JSON form the Solana RPC uses."""
    if err is None:
        return None
    if isinstance(err, TransactionErrorInstructionError):
        inner = err.err
        if isinstance(inner, InstructionErrorCustom):
            inner_json: Any = {"Custom": inner.code}
        elif isinstance(inner, InstructionErrorFieldless):
            inner_json = str(inner).rsplit(".", 1)[-1]
        else:
            inner_json = str(inner)
        return {"InstructionError": [err.index, inner_json]}
    if isinstance(err, TransactionErrorFieldless):
        return str(err).rsplit(".", 1)[-1]
    return str(err)


@attrs.frozen(repr=False)
class SendOutcome:
    """The fate of one transaction sent to the local chain."""

    signature: str
    slot: int
    err: Any  # None on success, else the RPC-style JSON error
    logs: tuple[str, ...]
    compute_units: int


def token_balance_from_accounts(token_data: bytes, mint_data: bytes | None) -> dict[str, Any]:
    """``{amount, decimals, uiAmountString}`` from raw token account and mint account data."""
    if len(token_data) < TOKEN_ACCOUNT_LEN:
        raise ValueError("account is not a token account (data too short)")
    acct = TokenAccount.from_bytes(bytes(token_data[:TOKEN_ACCOUNT_LEN]))
    if mint_data is None or len(mint_data) < MINT_LEN:
        raise ValueError(f"mint {acct.mint} of the token account does not exist")
    decimals = Mint.from_bytes(bytes(mint_data[:MINT_LEN])).decimals
    return {"amount": str(acct.amount), "decimals": decimals, "uiAmountString": to_human(acct.amount, decimals)}


class LocalChain:
    """A thread-safe LiteSVM instance with block heights, blockhash windows and status records."""

    def __init__(self, *, transaction_history: int = 100_000, genesis_hash: str = LOCAL_GENESIS_HASH) -> None:
        try:
            raw = b58decode(genesis_hash)
        except AddressError:
            raw = b""
        if len(raw) != 32 or b58encode(raw) != genesis_hash:
            raise ValueError(f"genesis_hash must be the base58 text of 32 bytes, got {genesis_hash!r}")
        self.genesis_hash = genesis_hash
        """The cluster identity this chain reports (see :data:`LOCAL_GENESIS_HASH`)."""
        self._lock = threading.RLock()
        svm = LiteSVM()
        svm.with_blockhash_check(False)  # checked here, against the validity window
        svm.with_transaction_history(transaction_history)
        self.svm = svm
        self._height = 0
        self._issued: dict[str, int] = {}
        self._statuses: dict[str, SendOutcome] = {}
        self._issue_blockhash()

    # -- blocks -------------------------------------------------------------------------------

    def _issue_blockhash(self) -> None:
        self.svm.expire_blockhash()
        self._issued[str(self.svm.latest_blockhash())] = self._height

    @property
    def block_height(self) -> int:
        return self._height

    @property
    def slot(self) -> int:
        return int(self.svm.get_clock().slot)

    def latest_blockhash(self) -> tuple[Hash, int]:
        """The current blockhash and the last block height at which it is still valid."""
        with self._lock:
            h = self.svm.latest_blockhash()
            return h, self._issued[str(h)] + BLOCKHASH_VALIDITY

    def is_blockhash_valid(self, blockhash: str) -> bool:
        with self._lock:
            issued = self._issued.get(blockhash)
            return issued is not None and self._height <= issued + BLOCKHASH_VALIDITY

    def advance_blocks(self, n: int) -> None:
        """Let ``n`` empty blocks pass (ages every issued blockhash)."""
        with self._lock:
            self._height += n
            self.svm.warp_to_slot(self.slot + n)
            self._issue_blockhash()

    # -- transactions -------------------------------------------------------------------------

    def send(self, tx: Transaction | VersionedTransaction) -> SendOutcome:
        """Process ``tx``; always returns (failures carry ``err`` and logs)."""
        with self._lock:
            signature = str(tx.signatures[0])
            blockhash = str(tx.message.recent_blockhash)
            slot = self.slot
            if not self.is_blockhash_valid(blockhash):
                return SendOutcome(signature, slot, "BlockhashNotFound", (), 0)
            result = self.svm.send_transaction(tx)
            if isinstance(result, FailedTransactionMetadata):
                meta = result.meta()
                outcome = SendOutcome(
                    signature, slot, tx_error_json(result.err()), tuple(meta.logs()), int(meta.compute_units_consumed())
                )
                if outcome.err == "AlreadyProcessed":
                    return outcome  # the first status stays
            else:
                outcome = SendOutcome(signature, slot, None, tuple(result.logs()), int(result.compute_units_consumed()))
            self._statuses[signature] = outcome
            self._height += 1
            self.svm.warp_to_slot(slot + 1)
            self._issue_blockhash()
            return outcome

    def simulate(self, tx: Transaction | VersionedTransaction) -> SendOutcome:
        """Run ``tx`` without committing it."""
        with self._lock:
            signature = str(tx.signatures[0])
            if not self.is_blockhash_valid(str(tx.message.recent_blockhash)):
                return SendOutcome(signature, self.slot, "BlockhashNotFound", (), 0)
            result = self.svm.simulate_transaction(tx)
            if isinstance(result, FailedTransactionMetadata):
                meta = result.meta()
                return SendOutcome(
                    signature,
                    self.slot,
                    tx_error_json(result.err()),
                    tuple(meta.logs()),
                    int(meta.compute_units_consumed()),
                )
            m = result.meta()
            return SendOutcome(signature, self.slot, None, tuple(m.logs()), int(m.compute_units_consumed()))

    def status(self, signature: str) -> SendOutcome | None:
        with self._lock:
            return self._statuses.get(signature)

    # -- accounts -----------------------------------------------------------------------------

    def get_account(self, address: str) -> Account | None:
        with self._lock:
            return self.svm.get_account(parse_pubkey(address))

    def get_balance(self, address: str) -> int:
        with self._lock:
            return int(self.svm.get_balance(parse_pubkey(address)) or 0)

    def set_account(self, address: str, account: Account) -> None:
        with self._lock:
            self.svm.set_account(parse_pubkey(address), account)

    def minimum_balance_for_rent_exemption(self, data_len: int) -> int:
        with self._lock:
            return int(self.svm.minimum_balance_for_rent_exemption(data_len))

    def token_balance(self, address: str) -> dict[str, Any]:
        """``{amount, decimals, uiAmountString}``; ValueError when not a token account."""
        with self._lock:
            acct = self.get_account(address)
            if acct is None:
                raise ValueError(f"token account {address} does not exist")
            if len(acct.data) < TOKEN_ACCOUNT_LEN:
                raise ValueError(f"account {address} is not a token account")
            mint = TokenAccount.from_bytes(bytes(acct.data[:TOKEN_ACCOUNT_LEN])).mint
            mint_acct = self.svm.get_account(mint)
            return token_balance_from_accounts(acct.data, None if mint_acct is None else mint_acct.data)

    # -- test helpers (direct state writes) ---------------------------------------------------

    def airdrop(self, address: str, lamports: int) -> None:
        """Credit lamports (writes the balance; works for any account)."""
        with self._lock:
            key = parse_pubkey(address)
            acct = self.svm.get_account(key)
            if acct is None:
                self.svm.set_account(key, Account(lamports, b"", Pubkey.from_string("11111111111111111111111111111111")))
            else:
                self.svm.set_account(
                    key, Account(acct.lamports + lamports, acct.data, acct.owner, acct.executable, acct.rent_epoch)
                )

    def airdrop_tx(self, address: str, lamports: int) -> str:
        """Airdrop through a real LiteSVM transfer; returns its signature (with a recorded status)."""
        with self._lock:
            result = self.svm.airdrop(parse_pubkey(address), lamports)
            if isinstance(result, FailedTransactionMetadata):
                raise ValueError(f"airdrop failed: {tx_error_json(result.err())}")
            sig = str(result.signature())
            self._statuses[sig] = SendOutcome(sig, self.slot, None, tuple(result.logs()), 0)
            return sig

    def create_mint(
        self,
        mint_authority: str,
        decimals: int,
        *,
        mint: str | None = None,
        token_program: str = TOKENKEG,
        freeze_authority: str | None = None,
    ) -> str:
        """Write an initialized mint account; returns its address (random unless given)."""
        address = mint or str(Keypair().pubkey())
        state = Mint(
            parse_pubkey(mint_authority),
            0,
            decimals,
            True,
            None if freeze_authority is None else parse_pubkey(freeze_authority),
        )
        rent = self.minimum_balance_for_rent_exemption(MINT_LEN)
        self.set_account(address, Account(rent, bytes(state), parse_pubkey(token_program)))
        return address

    def mint_to(self, mint: str, owner: str, amount: int, *, token_program: str = TOKENKEG) -> str:
        """Credit ``amount`` atomic units to ``owner``'s ATA (created if missing); returns the ATA."""
        with self._lock:
            ata = derive_ata(owner, mint, token_program)
            mint_acct = self.get_account(mint)
            if mint_acct is None:
                raise ValueError(f"mint {mint} does not exist")
            m = Mint.from_bytes(bytes(mint_acct.data[:MINT_LEN]))
            new_mint = Mint(m.mint_authority, m.supply + amount, m.decimals, True, m.freeze_authority)
            self.set_account(
                mint,
                Account(mint_acct.lamports, bytes(new_mint) + bytes(mint_acct.data[MINT_LEN:]), mint_acct.owner),
            )
            existing = self.get_account(ata)
            if existing is None:
                state = TokenAccount(
                    parse_pubkey(mint), parse_pubkey(owner), amount, None, TokenAccountState.Initialized, None, 0
                )
                rent = self.minimum_balance_for_rent_exemption(TOKEN_ACCOUNT_LEN)
                self.set_account(ata, Account(rent, bytes(state), parse_pubkey(token_program)))
            else:
                t = TokenAccount.from_bytes(bytes(existing.data[:TOKEN_ACCOUNT_LEN]))
                state = TokenAccount(
                    t.mint, t.owner, t.amount + amount, t.delegate, t.state, t.is_native, t.delegated_amount,
                    t.close_authority,
                )
                self.set_account(
                    ata,
                    Account(existing.lamports, bytes(state) + bytes(existing.data[TOKEN_ACCOUNT_LEN:]), existing.owner),
                )
            return ata

    def set_lookup_table(self, addresses: Sequence[str], *, key: str | None = None) -> str:
        """Write an active address lookup table holding ``addresses``; returns its address."""
        with self._lock:
            table_key = key or str(Keypair().pubkey())
            # last_extended_slot in the past: the addresses are usable at once.
            meta = LookupTableMeta(last_extended_slot=max(self.slot - 1, 0), authority=None)
            data = _serialize_lookup_table(meta, [parse_pubkey(a) for a in addresses])
            rent = self.minimum_balance_for_rent_exemption(len(data))
            self.set_account(table_key, Account(rent, data, parse_pubkey(ADDRESS_LOOKUP_TABLE_PROGRAM)))
            return table_key


def _serialize_lookup_table(meta: LookupTableMeta, addresses: Sequence[Pubkey]) -> bytes:
    """The on-chain layout: u32 type tag (1 = lookup table) + meta (52 bytes) + 2 bytes padding + keys."""
    head = struct.pack("<I", 1)
    body = struct.pack("<QQB", meta.deactivation_slot, meta.last_extended_slot, meta.last_extended_slot_start_index)
    body += b"\x00" if meta.authority is None else b"\x01" + bytes(meta.authority)
    raw = head + body
    raw = raw.ljust(56, b"\x00")
    return raw + b"".join(bytes(a) for a in addresses)


install_reprs(__name__)
