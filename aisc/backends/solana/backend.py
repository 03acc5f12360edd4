"""``SolanaBackend``: executes ``solana_instruction`` and ``solana_read`` nodes on one Solana chain.

Configuration (a mapping, as loaded from the runner config)::

    chain: "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"   # CAIP-2 id this backend serves (required)
    transport: litesvm | rpc                           # default litesvm (in process, no network)
    rpc_url: "http://127.0.0.1:8899"                   # required for rpc
    signer: {type: env, var: SOLANA_KEYPAIR}           # JSON array of 64 ints or base58 of 64 bytes
          | {type: keypair_file, path: ~/.config/solana/id.json}
          | {type: ephemeral}                           # fresh random key (litesvm: funded by airdrop)
    confirm_timeout_ms: 60000                          # confirmation polling limit (rpc)
    poll_interval_ms: 400
    commitment: confirmed                              # confirmed | finalized
    skip_preflight: false
    airdrop_lamports: 10000000000                      # litesvm + ephemeral only

Cluster check (rpc transport): before its first read, write or reconcile the backend asks the
endpoint for ``getGenesisHash`` and compares its first 32 characters with the chain's CAIP-2
reference (``solana:devnet``/``testnet``/``mainnet``/``mainnet-beta`` are mapped to their genesis
references first, see :data:`CLUSTER_REFERENCES`); a mismatch fails with category ``validation``
(AISC-SOLANA-022) before anything is signed. A reference that is not a genesis prefix
(``solana:localnet``) cannot be checked: a warning is logged and the check is skipped. The in-process
LiteSVM chain is not checked: it stands in for whichever chain the backend is configured for.

A write builds one transaction: optional ComputeBudget ``SetComputeUnitLimit`` (``compute_units``),
then the instruction; a v0 message when ``lookup_tables`` is given (the tables are fetched from the
chain), a legacy message otherwise. The fee payer and only signer is the configured key. Before the
broadcast the backend records a :class:`TxIntent` (signature, blockhash, base64 raw bytes); on resume
:meth:`SolanaBackend.reconcile` decides from the signature status and blockhash validity.

The secret key never leaves this module: it is not logged, not put in errors, intents or events.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs
from solders.address_lookup_table_account import AddressLookupTable, AddressLookupTableAccount
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.transaction import Transaction, VersionedTransaction

from aisc.addresses import ADDRESS_LOOKUP_TABLE_PROGRAM, AddressError, parse_pubkey
from aisc.backends.base import BackendError, ExecResult, NodeCall, TxIntent
from aisc.backends.solana.instructions import (
    InstructionError,
    coerce_bool,
    coerce_uint,
    compute_unit_limit_instruction,
    encode_instruction,
)
from aisc.backends.solana.local import LocalChain
from aisc.backends.solana.reads import execute_read
from aisc.backends.solana.transport import LiteSVMTransport, RpcTransport, SendFailure, Transport
from aisc.reprs import install_reprs

__all__ = ["CLUSTER_REFERENCES", "SolanaBackend", "genesis_reference"]

_log = logging.getLogger(__name__)

EXECUTION_TYPES: Final = frozenset({"solana_instruction", "solana_read"})
E_CONFIG = "AISC-SOLANA-020"
E_SIGNER = "AISC-SOLANA-008"
E_LOOKUP = "AISC-SOLANA-010"
E_TX_FAILED = "AISC-SOLANA-011"
E_EXPIRED = "AISC-SOLANA-012"
E_TIMEOUT = "AISC-SOLANA-013"
E_CLUSTER = "AISC-SOLANA-022"
CLUSTER_REFERENCES: Final = {
    "mainnet": "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
    "mainnet-beta": "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
    "devnet": "EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
    "testnet": "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z",
}
"""Cluster names some documents use as CAIP-2 references (SPEC-MAP D18) → the genesis-hash prefix
(the standard CAIP-2 reference) of that public cluster."""
_B58 = frozenset("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")


def genesis_reference(chain: str) -> str | None:
    """The genesis-hash prefix (32 base58 characters) that the CAIP-2 id ``chain`` names, or None
    when its reference is neither such a prefix nor a name in :data:`CLUSTER_REFERENCES`."""
    ref = chain.partition(":")[2]
    ref = CLUSTER_REFERENCES.get(ref, ref)
    if len(ref) == 32 and set(ref) <= _B58:
        return ref
    return None
_CONFIRMED = {"confirmed": ("confirmed", "finalized"), "finalized": ("finalized",)}


def _config_error(message: str, field: str) -> BackendError:
    return BackendError(message, category="validation", details={"code": E_CONFIG, "field": field})


def _load_keypair(spec: Any, env: Mapping[str, str]) -> Keypair | None:
    """The configured keypair; error messages never contain key material."""
    if spec is None:
        return None
    if not isinstance(spec, Mapping) or not isinstance(spec.get("type"), str):
        raise _config_error("signer must be {type: env|keypair_file|ephemeral, ...}", "signer")
    kind = spec["type"]
    if kind == "ephemeral":
        return Keypair()
    if kind == "env":
        var = spec.get("var")
        if not isinstance(var, str) or not var:
            raise _config_error("signer.var must name an environment variable", "signer.var")
        raw = env.get(var)
        if not raw:
            raise _config_error(f"environment variable {var} (signer.var) is not set", "signer.var")
        return _parse_secret(raw.strip(), f"environment variable {var}")
    if kind == "keypair_file":
        path = spec.get("path")
        if not isinstance(path, str) or not path:
            raise _config_error("signer.path must be a keypair file path", "signer.path")
        p = Path(path).expanduser()
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as e:
            raise _config_error(f"cannot read keypair file {p}: {e.strerror}", "signer.path") from None
        return _parse_secret(text.strip(), f"keypair file {p}")
    raise _config_error(f"unknown signer type {kind!r} (env, keypair_file or ephemeral)", "signer.type")


def _parse_secret(raw: str, where: str) -> Keypair:
    try:
        if raw.startswith("["):
            ints = json.loads(raw)
            if not (isinstance(ints, list) and len(ints) == 64 and all(type(i) is int and 0 <= i < 256 for i in ints)):
                raise ValueError
            return Keypair.from_bytes(bytes(ints))
        return Keypair.from_base58_string(raw)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # solders may panic on malformed input; the text never goes into the message
        raise _config_error(
            f"{where} does not hold a Solana keypair (expected a JSON array of 64 bytes or base58 of 64 bytes)",
            "signer",
        ) from None


@attrs.frozen(repr=False)
class _Built:
    program: str
    instruction: str
    accounts: tuple[dict[str, Any], ...]
    ixs: tuple[Instruction, ...]
    main: Instruction
    data_fields: dict[str, Any]
    discriminator: str | None
    compute_units: int | None
    lookup_tables: tuple[str, ...]


class SolanaBackend:
    """The Solana backend (LiteSVM in process, or a cluster over JSON-RPC)."""

    name = "solana"

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        local_chain: LocalChain | None = None,
        env: Mapping[str, str] | None = None,
        transport: Transport | None = None,
    ) -> None:
        chain = config.get("chain")
        if not isinstance(chain, str) or not chain.startswith("solana:"):
            raise _config_error("chain must be a CAIP-2 id starting with 'solana:'", "chain")
        self.chain = chain
        kind = config.get("transport", "litesvm")
        self.commitment = str(config.get("commitment", "confirmed"))
        if self.commitment not in _CONFIRMED:
            raise _config_error("commitment must be confirmed or finalized", "commitment")
        self.confirm_timeout_s = self._ms(config, "confirm_timeout_ms", 60_000) / 1000
        self.poll_interval_s = self._ms(config, "poll_interval_ms", 400) / 1000
        self.local_chain: LocalChain | None = None
        if transport is not None:
            self.transport: Transport = transport
        elif kind == "litesvm":
            self.local_chain = local_chain or LocalChain()
            self.transport = LiteSVMTransport(self.local_chain)
        elif kind == "rpc":
            url = config.get("rpc_url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise _config_error("transport rpc needs rpc_url (http:// or https://)", "rpc_url")
            skip = config.get("skip_preflight", False)
            if not isinstance(skip, bool):
                raise _config_error("skip_preflight must be a boolean", "skip_preflight")
            self.transport = RpcTransport(url, commitment=self.commitment, skip_preflight=skip)
        else:
            raise _config_error(f"unknown transport {kind!r} (litesvm or rpc)", "transport")
        signer_spec = config.get("signer")
        self.__keypair = _load_keypair(signer_spec, os.environ if env is None else env)
        ephemeral = isinstance(signer_spec, Mapping) and signer_spec.get("type") == "ephemeral"
        self._cluster_checked = not self.transport.verify_cluster
        self._cluster_lock = threading.Lock()
        self.cluster_warning: str | None = None
        """Set when the cluster could not be checked (a chain reference that is no genesis prefix)."""
        if self.__keypair is not None and self.local_chain is not None and ephemeral:
            self.local_chain.airdrop(str(self.__keypair.pubkey()), self._ms(config, "airdrop_lamports", 10**10))

    @staticmethod
    def _ms(config: Mapping[str, Any], key: str, default: int) -> int:
        v = config.get(key, default)
        if type(v) is not int or v < 0:
            raise _config_error(f"{key} must be a non-negative integer", key)
        return v

    def __repr__(self) -> str:
        return f"SolanaBackend(chain={self.chain!r}, transport={self.transport.name!r}, signer={self.signer_address(self.chain)!r})"

    # -- Backend protocol ---------------------------------------------------------------------

    def supports(self, chain: str, execution_type: str) -> bool:
        return chain == self.chain and execution_type in EXECUTION_TYPES

    def signer_address(self, chain: str) -> str | None:
        if chain != self.chain or self.__keypair is None:
            return None
        return str(self.__keypair.pubkey())

    def close(self) -> None:
        self.transport.close()

    def execute(self, call: NodeCall) -> ExecResult:
        etype = call.execution_type
        if etype == "solana_read":
            return self._read(call)
        if etype != "solana_instruction":
            raise BackendError(
                f"the Solana backend cannot execute {etype!r}",
                category="validation",
                details={"code": E_CONFIG},
            )
        built = self._build(call)
        if self.__keypair is None:
            return ExecResult(
                need_user_confirm=(
                    f"Missing signer for solana_instruction on {self.chain}: configure signer to sign and send",
                    {"node_id": call.node_id, "preview": self._preview_of(built)},
                )
            )
        return self._send(call, built)

    def preview(self, call: NodeCall) -> dict[str, Any]:
        base = {"chain": call.chain, "exec_type": call.execution_type}
        if call.execution_type != "solana_instruction":
            return {"kind": "execution", **base}
        try:
            built = self._build(call)
        except BackendError as e:
            return {"kind": "execution", **base, "compile_error": str(e)}
        return self._preview_of(built) | {"chain": call.chain}

    def reconcile(self, intent: TxIntent) -> ExecResult | None:
        self._ensure_cluster()
        status = self.transport.signature_statuses([intent.tx_id], True)[0]
        if status is not None:
            return self._settled(intent.tx_id, status)
        if intent.blockhash is not None and not self.transport.is_blockhash_valid(intent.blockhash):
            return None  # the transaction can never land: safe to build and send a new one
        if intent.raw is None:
            raise BackendError(
                f"transaction {intent.tx_id} is not visible yet and its blockhash is still valid",
                category="timeout",
                retryable=True,
                details={"code": E_TIMEOUT, "signature": intent.tx_id},
            )
        # Re-broadcasting the same signed bytes is safe: one signature lands at most once.
        raw = base64.b64decode(intent.raw)
        tx = VersionedTransaction.from_bytes(raw)
        failure = self.transport.send(tx, raw)
        if failure is not None and failure.err not in ("AlreadyProcessed",):
            if failure.err == "BlockhashNotFound":
                return None
            raise self._failed(intent.tx_id, failure)
        conf = self._await(intent.tx_id, intent.blockhash)
        if conf is None:
            return None
        return self._result(intent.tx_id, conf)

    # -- reads --------------------------------------------------------------------------------

    def _ensure_cluster(self) -> None:
        """Once per backend: the endpoint serves the cluster the chain id names (see module docstring)."""
        if self._cluster_checked:
            return
        with self._cluster_lock:
            if self._cluster_checked:
                return
            endpoint = getattr(self.transport, "url", self.transport.name)
            expected = genesis_reference(self.chain)
            if expected is None:
                self.cluster_warning = (
                    f"cannot check which cluster {endpoint} serves: the reference of {self.chain} is not a "
                    f"genesis-hash prefix (nor one of {', '.join(sorted(CLUSTER_REFERENCES))})"
                )
                _log.warning("%s", self.cluster_warning)
                self._cluster_checked = True
                return
            try:
                genesis = self.transport.genesis_hash()
            except BackendError as e:
                raise BackendError(
                    f"cannot check which cluster {endpoint} serves (getGenesisHash): {e}; nothing was sent",
                    category="rpc_unavailable",
                    retryable=True,
                    details={**e.details, "code": E_CLUSTER},
                ) from None
            if genesis[:32] != expected:
                raise BackendError(
                    f"cluster mismatch: the RPC endpoint {endpoint} serves the cluster with genesis hash {genesis}, "
                    f"the plan node needs {self.chain} (genesis hash starting {expected}); nothing was sent",
                    category="validation",
                    details={"code": E_CLUSTER, "expected": expected, "actual": genesis},
                )
            self._cluster_checked = True

    def _read(self, call: NodeCall) -> ExecResult:
        self._ensure_cluster()
        method = call.execution.get("method")
        if not isinstance(method, str):
            raise BackendError("solana_read needs a method name", category="validation", details={"code": "AISC-SOLANA-014"})
        if "params" in call.execution and call.execution["params"] is not None:
            params = call.evaluate(call.execution["params"])
        else:
            params = call.evaluate({"ref": "params"})
        return ExecResult(outputs=execute_read(self.transport, method, params))

    # -- writes -------------------------------------------------------------------------------

    def _build(self, call: NodeCall) -> _Built:
        spec = call.execution
        ev = call.evaluate

        def fail(e: InstructionError | AddressError, field: str | None = None) -> BackendError:
            code = e.code if isinstance(e, InstructionError) else "AISC-SOLANA-001"
            f = e.field if isinstance(e, InstructionError) else field
            return BackendError(str(e), category="validation", details={"code": code, "field": f})

        instruction = spec.get("instruction")
        if not isinstance(instruction, str) or not instruction:
            raise BackendError("solana_instruction needs an instruction name", category="validation", details={"code": E_CONFIG, "field": "instruction"})
        try:
            program = str(parse_pubkey(ev(spec.get("program")), what="program"))
        except AddressError as e:
            raise fail(e, "program") from None
        raw_accounts = spec.get("accounts") or []
        accounts: list[dict[str, Any]] = []
        for a in raw_accounts:
            accounts.append(
                {
                    "name": a.get("name"),
                    "pubkey": ev(a["pubkey"]) if "pubkey" in a else None,
                    "signer": ev(a["signer"]) if "signer" in a else False,
                    "writable": ev(a["writable"]) if "writable" in a else False,
                }
            )
        data = ev(spec["data"]) if spec.get("data") is not None else None
        disc = ev(spec["discriminator"]) if spec.get("discriminator") is not None else None
        cu_raw = ev(spec["compute_units"]) if spec.get("compute_units") is not None else None
        lt_raw = ev(spec["lookup_tables"]) if spec.get("lookup_tables") is not None else None
        try:
            main = encode_instruction(program, instruction, accounts, data, disc)
            ixs: list[Instruction] = []
            cu: int | None = None
            if cu_raw is not None:
                cu_ix = compute_unit_limit_instruction(cu_raw)
                cu = coerce_uint(cu_raw, field="compute_units", max_value=2**32 - 1)
                ixs.append(cu_ix)
            ixs.append(main)
        except (InstructionError, AddressError) as e:
            raise fail(e) from None
        tables: tuple[str, ...] = ()
        if lt_raw is not None:
            if not isinstance(lt_raw, (list, tuple)):
                raise BackendError("lookup_tables must be a list of base58 addresses", category="validation", details={"code": E_LOOKUP, "field": "lookup_tables"})
            try:
                tables = tuple(str(parse_pubkey(t, what=f"lookup_tables[{i}]")) for i, t in enumerate(lt_raw))
            except AddressError as e:
                raise BackendError(str(e), category="validation", details={"code": E_LOOKUP, "field": "lookup_tables"}) from None
        fields: dict[str, Any] = {}
        if isinstance(data, Mapping):
            for k in ("amount", "value", "decimals"):
                if k in data and data[k] is not None:
                    fields[k] = data[k] if isinstance(data[k], str) else str(data[k])
        return _Built(
            program,
            instruction,
            tuple(
                {
                    "name": a["name"],
                    "pubkey": str(a["pubkey"]),
                    "signer": coerce_bool(a["signer"], field="signer"),
                    "writable": coerce_bool(a["writable"], field="writable"),
                }
                for a in accounts
            ),
            tuple(ixs),
            main,
            fields,
            None if disc is None else str(disc),
            cu,
            tables,
        )

    @staticmethod
    def _preview_of(b: _Built) -> dict[str, Any]:
        data_hex = "0x" + bytes(b.main.data).hex()
        out: dict[str, Any] = {
            "kind": "solana_instruction",
            "exec_type": "solana_instruction",
            "program_id": b.program,
            "instruction": b.instruction,
            "accounts": [dict(a) for a in b.accounts],
            "lookup_tables": list(b.lookup_tables),
            "data_fields": dict(b.data_fields),
            "discriminator_summary": b.discriminator if b.discriminator is not None else data_hex[:4],
            "data_summary": data_hex if len(data_hex) <= 130 else f"{data_hex[:130]}… ({len(b.main.data)} bytes)",
        }
        if b.compute_units is not None:
            out["compute_units"] = b.compute_units
        return out

    def _lookup_accounts(self, tables: tuple[str, ...]) -> list[AddressLookupTableAccount]:
        out: list[AddressLookupTableAccount] = []
        for t in tables:
            acct = self.transport.get_account(t)
            if acct is None or acct.owner != ADDRESS_LOOKUP_TABLE_PROGRAM:
                raise BackendError(
                    f"lookup table {t} does not exist or is not an address lookup table",
                    category="validation",
                    details={"code": E_LOOKUP, "field": "lookup_tables"},
                )
            try:
                table = AddressLookupTable.deserialize(acct.data)
            except Exception:
                raise BackendError(
                    f"lookup table {t} has malformed data", category="validation", details={"code": E_LOOKUP}
                ) from None
            out.append(AddressLookupTableAccount(Pubkey.from_string(t), table.addresses))
        return out

    def _send(self, call: NodeCall, b: _Built) -> ExecResult:
        kp = self.__keypair
        assert kp is not None
        self._ensure_cluster()
        me = kp.pubkey()
        for ix in b.ixs:
            for m in ix.accounts:
                if m.is_signer and m.pubkey != me:
                    raise BackendError(
                        f"account {m.pubkey} must sign {b.instruction}, but the only configured signer is {me}",
                        category="validation",
                        details={"code": E_SIGNER},
                    )
        alts = self._lookup_accounts(b.lookup_tables) if b.lookup_tables else []
        blockhash, last_valid = self.transport.latest_blockhash()
        tx: Transaction | VersionedTransaction
        if alts:
            try:
                msg0 = MessageV0.try_compile(me, list(b.ixs), alts, blockhash)
            except Exception as e:
                raise BackendError(
                    f"cannot compile a v0 message with the lookup tables: {e}", category="validation", details={"code": E_LOOKUP}
                ) from None
            tx = VersionedTransaction(msg0, [kp])
        else:
            tx = VersionedTransaction(Message.new_with_blockhash(list(b.ixs), me, blockhash), [kp])
        raw = bytes(tx)
        signature = str(tx.signatures[0])
        if call.simulate:
            sim = self.transport.simulate(tx, raw)
            if sim is not None:
                raise self._failed(signature, sim, simulated=True)
        call.record_intent(
            TxIntent(
                chain=self.chain,
                account=str(me),
                tx_id=signature,
                blockhash=str(blockhash),
                raw=base64.b64encode(raw).decode("ascii"),
                extra={"last_valid_block_height": last_valid, "transport": self.transport.name},
            )
        )
        failure = self.transport.send(tx, raw)
        # From here on the transaction was broadcast: a failure still reports tx_sent (as the EVM
        # backend does), so the event log and `aisc history` show the signature that went out.
        sent: tuple[tuple[str, Mapping[str, Any]], ...] = (("tx_sent", {"tx_hash": signature}),)
        if failure is not None:  # rejected by the node (nothing sent) or landed and failed on chain
            raise self._failed(signature, failure, events=sent if failure.landed else ())
        try:
            conf = self._await(signature, str(blockhash))
        except BackendError as e:
            raise e.with_events(sent) from None
        if conf is None:
            raise BackendError(
                f"transaction {signature} expired (blockhash no longer valid) before it landed; it can be re-sent",
                category="execution_failed",
                retryable=True,
                details={"code": E_EXPIRED, "signature": signature},
                events=sent,
            )
        return self._result(signature, conf)

    def _failed(self, signature: str, f: SendFailure, *, simulated: bool = False,
                events: tuple[tuple[str, Mapping[str, Any]], ...] = ()) -> BackendError:
        what = "simulation" if simulated else "transaction"
        return BackendError(
            f"Solana {what} failed: {json.dumps(f.err)}",
            category="execution_failed",
            # Only a transaction rejected for its blockhash is surely harmless to build again.
            retryable=not f.landed and f.err == "BlockhashNotFound",
            details={"code": E_TX_FAILED, "signature": signature, "err": f.err, "logs": list(f.logs), "landed": f.landed},
            events=events,
        )

    def _await(self, signature: str, blockhash: str | None) -> dict[str, Any] | None:
        """Poll until confirmed (the confirmation), or None once the blockhash expired unseen."""
        deadline = time.monotonic() + self.confirm_timeout_s
        wanted = _CONFIRMED[self.commitment]
        while True:
            status = self.transport.signature_statuses([signature], False)[0]
            if status is not None:
                if status.get("err") is not None:
                    logs = self.transport.transaction_logs(signature)
                    raise self._failed(signature, SendFailure(status["err"], logs, landed=True))
                if status.get("confirmationStatus") in wanted:
                    return {"slot": status.get("slot"), "confirmationStatus": status.get("confirmationStatus")}
            elif blockhash is not None and not self.transport.is_blockhash_valid(blockhash):
                # One last look: it may have landed just before the hash expired.
                if self.transport.signature_statuses([signature], True)[0] is None:
                    return None
                continue
            if time.monotonic() >= deadline:
                raise BackendError(
                    f"transaction {signature} not confirmed within {self.confirm_timeout_s:g} s",
                    category="timeout",
                    retryable=False,
                    details={"code": E_TIMEOUT, "signature": signature},
                )
            time.sleep(self.poll_interval_s)

    def _settled(self, signature: str, status: Mapping[str, Any]) -> ExecResult:
        if status.get("err") is not None:
            raise self._failed(signature, SendFailure(status["err"], self.transport.transaction_logs(signature), landed=True))
        if status.get("confirmationStatus") not in _CONFIRMED[self.commitment]:
            raise BackendError(
                f"transaction {signature} landed but is not {self.commitment} yet",
                category="timeout",
                retryable=True,
                details={"code": E_TIMEOUT, "signature": signature},
            )
        return self._result(signature, {"slot": status.get("slot"), "confirmationStatus": status.get("confirmationStatus")})

    @staticmethod
    def _result(signature: str, confirmation: dict[str, Any]) -> ExecResult:
        return ExecResult(
            outputs={"signature": signature, "confirmation": confirmation},
            events=(("tx_sent", {"tx_hash": signature}), ("tx_confirmed", {"receipt": confirmation})),
        )


install_reprs(__name__)
