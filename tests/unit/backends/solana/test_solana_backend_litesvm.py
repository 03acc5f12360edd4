"""SolanaBackend on the in-process LiteSVM transport (R231, R234; SPEC-MAP §5.4, §7.2)."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from solana_testkit import CHAIN, account, lit, make_call
from solders.keypair import Keypair
from solders.message import MessageV0
from solders.token.state import TokenAccount
from solders.transaction import VersionedTransaction

from aisc.addresses import ATA_PROGRAM, COMPUTE_BUDGET_PROGRAM, SYSTEM_PROGRAM, TOKENKEG, derive_ata
from aisc.backends.base import Backend, BackendError, NodeCall, TxIntent
from aisc.backends.solana.backend import SolanaBackend
from aisc.backends.solana.local import LocalChain
from aisc.backends.solana.transport import LiteSVMTransport

BOB = str(Keypair.from_seed(bytes([42]) * 32).pubkey())


def amount_of(chain: LocalChain, ata: str) -> int:
    return int(chain.token_balance(ata)["amount"])


@pytest.fixture
def mint(chain: LocalChain, wallet: str) -> str:
    m = chain.create_mint(wallet, 6)
    chain.mint_to(m, wallet, 5_000_000)
    return m


def create_ata_exec(payer: str, owner: str, mint: str) -> dict[str, Any]:
    return {
        "type": "solana_instruction",
        "program": lit(ATA_PROGRAM),
        "instruction": "create_idempotent",
        "discriminator": lit("0x01"),
        "accounts": [
            account("payer", payer, True, True),
            account("associated_token", derive_ata(owner, mint), False, True),
            account("owner", owner),
            account("mint", mint),
            account("system_program", SYSTEM_PROGRAM),
            account("token_program", TOKENKEG),
        ],
        "data": {"object": {}},
        "compute_units": lit("30000"),
    }


def transfer_exec(src: str, dst: str, auth: str, amount: Any, **extra: Any) -> dict[str, Any]:
    return {
        "type": "solana_instruction",
        "program": lit(TOKENKEG),
        "instruction": "transfer",
        "discriminator": lit("0x03"),
        "accounts": [account("source", src, False, True), account("destination", dst, False, True), account("authority", auth, True)],
        "data": {"object": {"amount": {"ref": "calculated.amount_atomic"}}},
        **extra,
    }, {"calculated": {"amount_atomic": amount}}


def test_is_a_backend(backend: SolanaBackend) -> None:
    assert isinstance(backend, Backend)
    assert backend.supports(CHAIN, "solana_instruction") and backend.supports(CHAIN, "solana_read")
    assert not backend.supports(CHAIN, "evm_call")
    assert not backend.supports("solana:devnet", "solana_read")
    assert backend.signer_address("solana:devnet") is None


def test_r231_ata_create_idempotent_then_transfer(backend: SolanaBackend, chain: LocalChain, wallet: str, mint: str) -> None:
    intents: list[TxIntent] = []
    res = backend.execute(make_call(create_ata_exec(wallet, BOB, mint), intents=intents))
    bob_ata = derive_ata(BOB, mint)
    acct = chain.get_account(bob_ata)
    assert acct is not None and str(acct.owner) == TOKENKEG
    assert amount_of(chain, bob_ata) == 0
    # idempotent: a second create succeeds and changes nothing
    backend.execute(make_call(create_ata_exec(wallet, BOB, mint)))
    ex, root = transfer_exec(derive_ata(wallet, mint), bob_ata, wallet, "1250000")
    res = backend.execute(make_call(ex, root, intents=intents))
    assert amount_of(chain, bob_ata) == 1_250_000
    assert amount_of(chain, derive_ata(wallet, mint)) == 3_750_000
    sig = res.outputs["signature"]
    assert intents[-1].tx_id == sig and intents[-1].account == wallet and intents[-1].chain == CHAIN
    assert res.outputs["confirmation"]["confirmationStatus"] == "finalized"
    assert res.events == (("tx_sent", {"tx_hash": sig}), ("tx_confirmed", {"receipt": res.outputs["confirmation"]}))


def test_transfer_checked_and_approve(backend: SolanaBackend, chain: LocalChain, wallet: str, mint: str) -> None:
    backend.execute(make_call(create_ata_exec(wallet, BOB, mint)))
    src, dst = derive_ata(wallet, mint), derive_ata(BOB, mint)
    ex = {
        "type": "solana_instruction",
        "program": lit(TOKENKEG),
        "instruction": "transfer_checked",
        "accounts": [account("source", src), account("mint", mint), account("destination", dst), account("owner", wallet, True)],
        "data": {"object": {"amount": lit(700), "decimals": lit(6)}},
    }
    backend.execute(make_call(ex))
    assert amount_of(chain, dst) == 700
    bad_decimals = dict(ex, data={"object": {"amount": lit(1), "decimals": lit(9)}})
    with pytest.raises(BackendError) as info:
        backend.execute(make_call(bad_decimals))
    assert info.value.details["logs"], "failed transaction must carry its logs"

    approve = {
        "type": "solana_instruction",
        "program": lit(TOKENKEG),
        "instruction": "approve",
        "accounts": [account("source", src), account("delegate", BOB), account("owner", wallet, True)],
        "data": {"object": {"amount": lit("12345")}},
    }
    backend.execute(make_call(approve))
    acct = chain.get_account(src)
    assert acct is not None
    state = TokenAccount.from_bytes(bytes(acct.data[:165]))
    assert str(state.delegate) == BOB and state.delegated_amount == 12345


def test_failing_instruction_reports_logs(backend: SolanaBackend, chain: LocalChain, wallet: str, mint: str) -> None:
    backend.execute(make_call(create_ata_exec(wallet, BOB, mint)))
    ex, root = transfer_exec(derive_ata(wallet, mint), derive_ata(BOB, mint), wallet, 10**12)
    intents: list[TxIntent] = []
    with pytest.raises(BackendError) as info:
        backend.execute(make_call(ex, root, intents=intents))
    e = info.value
    assert e.category == "execution_failed" and not e.retryable
    assert e.details["code"] == "AISC-SOLANA-011"
    assert e.details["err"] == {"InstructionError": [0, {"Custom": 1}]}
    assert any("insufficient funds" in line for line in e.details["logs"])
    assert intents and intents[0].tx_id == e.details["signature"]
    assert amount_of(chain, derive_ata(wallet, mint)) == 5_000_000
    # it landed (failed on chain, fee paid): the error still says the signature went out
    assert e.details["landed"] is True and chain.status(e.details["signature"]) is not None
    assert e.events == (("tx_sent", {"tx_hash": e.details["signature"]}),)


def test_simulate_failure_sends_nothing(backend: SolanaBackend, chain: LocalChain, wallet: str, mint: str) -> None:
    backend.execute(make_call(create_ata_exec(wallet, BOB, mint)))
    ex, root = transfer_exec(derive_ata(wallet, mint), derive_ata(BOB, mint), wallet, 10**12)
    intents: list[TxIntent] = []
    height = chain.block_height
    with pytest.raises(BackendError, match="simulation failed") as info:
        backend.execute(make_call(ex, root, intents=intents, simulate=True))
    assert intents == [] and chain.block_height == height
    assert info.value.details["logs"]
    assert info.value.events == ()  # nothing was sent


def test_compute_unit_limit_instruction_is_sent_and_enforced(backend: SolanaBackend, chain: LocalChain, wallet: str, mint: str) -> None:
    intents: list[TxIntent] = []
    backend.execute(make_call(create_ata_exec(wallet, BOB, mint), intents=intents))
    tx = VersionedTransaction.from_bytes(base64.b64decode(intents[0].raw or ""))
    keys = tx.message.account_keys
    first = tx.message.instructions[0]
    assert str(keys[first.program_id_index]) == COMPUTE_BUDGET_PROGRAM
    assert bytes(first.data) == bytes([2]) + (30000).to_bytes(4, "little")
    # a limit far too small for ATA creation makes the transaction fail
    tight = create_ata_exec(wallet, str(Keypair().pubkey()), mint) | {"compute_units": lit(300)}
    with pytest.raises(BackendError) as info:
        backend.execute(make_call(tight))
    assert any("exceeded CUs" in line for line in info.value.details["logs"])


def test_v0_message_with_lookup_table(backend: SolanaBackend, chain: LocalChain, wallet: str, mint: str) -> None:
    backend.execute(make_call(create_ata_exec(wallet, BOB, mint)))
    src, dst = derive_ata(wallet, mint), derive_ata(BOB, mint)
    table = chain.set_lookup_table([dst, BOB, mint, src])
    ex, root = transfer_exec(src, dst, wallet, 99, lookup_tables={"array": [lit(table)]})
    intents: list[TxIntent] = []
    backend.execute(make_call(ex, root, intents=intents))
    assert amount_of(chain, dst) == 99
    msg = VersionedTransaction.from_bytes(base64.b64decode(intents[0].raw or "")).message
    assert isinstance(msg, MessageV0)
    assert [str(lk.account_key) for lk in msg.address_table_lookups] == [table]


def test_missing_lookup_table_is_a_validation_error(backend: SolanaBackend, wallet: str, mint: str) -> None:
    ex, root = transfer_exec(derive_ata(wallet, mint), derive_ata(BOB, mint), wallet, 1, lookup_tables=lit([BOB]))
    with pytest.raises(BackendError, match="not an address lookup table") as info:
        backend.execute(make_call(ex, root))
    assert info.value.category == "validation"


def test_r234_reads(backend: SolanaBackend, chain: LocalChain, wallet: str, mint: str) -> None:
    def read(method: str, params: Any) -> Any:
        return backend.execute(make_call({"type": "solana_read", "method": method, "params": params})).outputs

    ata = derive_ata(wallet, mint)
    assert read("getTokenAccountBalance", {"object": {"address": lit(ata)}}) == {
        "result": {"amount": "5000000", "decimals": 6, "uiAmountString": "5"}
    }
    chain.airdrop(BOB, 1234)
    assert read("getBalance", {"object": {"pubkey": lit(BOB)}}) == {"lamports": 1234}
    info = read("getAccountInfo", {"object": {"address": lit(ata)}})
    assert info["exists"] is True and info["owner"] == TOKENKEG and info["data_len"] == 165
    assert len(base64.b64decode(info["data_base64"])) == 165
    assert read("getAccountInfo", lit([str(Keypair().pubkey())])) == {"exists": False}
    ex, root = transfer_exec(ata, ata, wallet, 1)
    sig = backend.execute(make_call(ex, root)).outputs["signature"]
    statuses = read("getSignatureStatuses", {"object": {"signatures": lit([sig, "1" * 64]), "searchTransactionHistory": lit(True)}})
    assert statuses["statuses"][1] is None
    assert statuses["statuses"][0]["err"] is None and statuses["statuses"][0]["confirmationStatus"] == "finalized"


def test_read_params_default_to_node_params(backend: SolanaBackend, chain: LocalChain) -> None:
    chain.airdrop(BOB, 77)
    call = make_call({"type": "solana_read", "method": "getBalance"}, {"params": {"address": BOB}})
    assert backend.execute(call).outputs == {"lamports": 77}


@pytest.mark.parametrize(
    ("method", "params", "fragment"),
    [
        ("getBalance", {"object": {}}, "needs params.address"),
        ("getBalance", {"object": {"address": lit("0x12")}}, "not base58"),
        ("getProgramAccounts", {"object": {}}, "not supported"),
        ("getSignatureStatuses", {"object": {"signatures": lit("")}}, "list of base58 signatures"),
        ("getTokenAccountBalance", {"object": {"address": lit(BOB)}}, "does not exist"),
    ],
)
def test_read_errors(backend: SolanaBackend, method: str, params: Any, fragment: str) -> None:
    with pytest.raises(BackendError, match=fragment):
        backend.execute(make_call({"type": "solana_read", "method": method, "params": params}))


def test_no_signer_needs_user_confirm(chain: LocalChain, mint: str, wallet: str) -> None:
    b = SolanaBackend({"chain": CHAIN}, local_chain=chain)
    assert b.signer_address(CHAIN) is None
    ex, root = transfer_exec(derive_ata(wallet, mint), derive_ata(BOB, mint), wallet, 1)
    res = b.execute(make_call(ex, root))
    assert res.need_user_confirm is not None
    reason, details = res.need_user_confirm
    assert "Missing signer" in reason and details["preview"]["instruction"] == "transfer"
    assert res.outputs == {}


def test_foreign_signer_is_rejected(backend: SolanaBackend, wallet: str, mint: str) -> None:
    ex, root = transfer_exec(derive_ata(BOB, mint), derive_ata(wallet, mint), BOB, 1)
    with pytest.raises(BackendError, match="must sign") as info:
        backend.execute(make_call(ex, root))
    assert info.value.details["code"] == "AISC-SOLANA-008"


def test_encoding_error_is_validation(backend: SolanaBackend, wallet: str, mint: str) -> None:
    ex, root = transfer_exec(derive_ata(wallet, mint), derive_ata(BOB, mint), wallet, 2**64)
    with pytest.raises(BackendError, match=r"data\.amount .* out of range") as info:
        backend.execute(make_call(ex, root))
    assert info.value.category == "validation" and info.value.details["field"] == "data.amount"


def test_preview_shape(backend: SolanaBackend, wallet: str, mint: str) -> None:
    ex, root = transfer_exec(derive_ata(wallet, mint), derive_ata(BOB, mint), wallet, 1500, compute_units=lit("10000"))
    p = backend.preview(make_call(ex, root))
    assert p == {
        "kind": "solana_instruction",
        "chain": CHAIN,
        "exec_type": "solana_instruction",
        "program_id": TOKENKEG,
        "instruction": "transfer",
        "accounts": [
            {"name": "source", "pubkey": derive_ata(wallet, mint), "signer": False, "writable": True},
            {"name": "destination", "pubkey": derive_ata(BOB, mint), "signer": False, "writable": True},
            {"name": "authority", "pubkey": wallet, "signer": True, "writable": False},
        ],
        "compute_units": 10000,
        "lookup_tables": [],
        "data_fields": {"amount": "1500"},
        "discriminator_summary": "0x03",
        "data_summary": "0x03dc05000000000000",
    }
    bad, root = transfer_exec(derive_ata(wallet, mint), derive_ata(BOB, mint), wallet, -5)
    p2 = backend.preview(make_call(bad, root))
    assert p2["kind"] == "execution" and "out of range" in p2["compile_error"]
    assert backend.preview(make_call({"type": "solana_read", "method": "getBalance"})) == {
        "kind": "execution",
        "chain": CHAIN,
        "exec_type": "solana_read",
    }


def test_generic_instruction_runs_memo(backend: SolanaBackend, chain: LocalChain, wallet: str) -> None:
    memo = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"
    ex = {
        "type": "solana_instruction",
        "program": lit(memo),
        "instruction": "memo",
        "accounts": [account("signer", wallet, True, False)],
        "data": lit("0x" + b"hello aisc".hex()),
    }
    sig = backend.execute(make_call(ex)).outputs["signature"]
    st = chain.status(sig)
    assert st is not None and st.err is None and any("hello aisc" in line for line in st.logs)


# -- reconcile ------------------------------------------------------------------------------


def test_reconcile_landed_transaction(backend: SolanaBackend, wallet: str, mint: str) -> None:
    intents: list[TxIntent] = []
    ex, root = transfer_exec(derive_ata(wallet, mint), derive_ata(wallet, mint), wallet, 1)
    res = backend.execute(make_call(ex, root, intents=intents))
    again = backend.reconcile(intents[0])
    assert again is not None and again.outputs["signature"] == res.outputs["signature"]


def _intent_without_send(backend: SolanaBackend, wallet: str, mint: str) -> TxIntent:
    """Capture the intent, then crash before the broadcast."""
    captured: list[TxIntent] = []

    class Crash(Exception):
        pass

    def record(intent: TxIntent) -> None:
        captured.append(intent)
        raise Crash

    ex, root = transfer_exec(derive_ata(wallet, mint), derive_ata(wallet, mint), wallet, 3)
    call = make_call(ex, root)
    call = NodeCall(call.node_id, call.chain, call.execution, call.evaluate, record_intent=record)
    with pytest.raises(Crash):
        backend.execute(call)
    return captured[0]


def test_reconcile_unsent_with_valid_blockhash_rebroadcasts(backend: SolanaBackend, chain: LocalChain, wallet: str, mint: str) -> None:
    intent = _intent_without_send(backend, wallet, mint)
    assert chain.status(intent.tx_id) is None
    res = backend.reconcile(intent)
    assert res is not None and res.outputs["signature"] == intent.tx_id
    assert chain.status(intent.tx_id) is not None
    # a second reconcile finds it landed and does not send again
    height = chain.block_height
    assert backend.reconcile(intent) is not None and chain.block_height == height


def test_reconcile_expired_blockhash_is_safe_to_resend(backend: SolanaBackend, chain: LocalChain, wallet: str, mint: str) -> None:
    intent = _intent_without_send(backend, wallet, mint)
    chain.advance_blocks(151)
    assert backend.reconcile(intent) is None
    assert chain.status(intent.tx_id) is None


def test_reconcile_failed_transaction_raises(backend: SolanaBackend, wallet: str, mint: str) -> None:
    intents: list[TxIntent] = []
    ex, root = transfer_exec(derive_ata(wallet, mint), derive_ata(wallet, mint), wallet, 10**13)
    with pytest.raises(BackendError):
        backend.execute(make_call(ex, root, intents=intents))
    with pytest.raises(BackendError) as info:
        backend.reconcile(intents[0])
    assert info.value.details["landed"] is True and info.value.details["logs"]


# -- configuration and secrets --------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"chain": "eip155:1"}, "chain"),
        ({"chain": CHAIN, "transport": "ws"}, "transport"),
        ({"chain": CHAIN, "transport": "rpc"}, "rpc_url"),
        ({"chain": CHAIN, "signer": {"type": "ledger"}}, "signer.type"),
        ({"chain": CHAIN, "signer": {"type": "env", "var": "AISC_TEST_UNSET_VAR"}}, "signer.var"),
        ({"chain": CHAIN, "signer": {"type": "keypair_file", "path": "/nonexistent/id.json"}}, "signer.path"),
        ({"chain": CHAIN, "confirm_timeout_ms": True}, "confirm_timeout_ms"),
        ({"chain": CHAIN, "commitment": "processed"}, "commitment"),
    ],
)
def test_config_errors(config: dict[str, Any], field: str) -> None:
    with pytest.raises(BackendError) as info:
        SolanaBackend(config, env={})
    assert info.value.category == "validation" and info.value.details["field"] == field


def test_signer_from_env_and_file(tmp_path: Any, chain: LocalChain) -> None:
    kp = Keypair.from_seed(bytes([9]) * 32)
    b1 = SolanaBackend({"chain": CHAIN, "signer": {"type": "env", "var": "K"}}, env={"K": str(list(bytes(kp)))}, local_chain=chain)
    b2 = SolanaBackend({"chain": CHAIN, "signer": {"type": "env", "var": "K"}}, env={"K": str(kp)}, local_chain=chain)
    f = tmp_path / "id.json"
    f.write_text(str(list(bytes(kp))))
    b3 = SolanaBackend({"chain": CHAIN, "signer": {"type": "keypair_file", "path": str(f)}}, local_chain=chain)
    assert b1.signer_address(CHAIN) == b2.signer_address(CHAIN) == b3.signer_address(CHAIN) == str(kp.pubkey())


def test_bad_secret_is_not_echoed() -> None:
    secret = "5" * 80
    with pytest.raises(BackendError) as info:
        SolanaBackend({"chain": CHAIN, "signer": {"type": "env", "var": "K"}}, env={"K": secret})
    assert secret not in str(info.value) and secret not in repr(info.value.details)


def test_secret_key_never_logged_or_recorded(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], chain: LocalChain) -> None:
    kp = Keypair.from_seed(bytes([11]) * 32)
    secret_b58 = str(kp)
    secret_hex = bytes(kp)[:32].hex()
    caplog.set_level(logging.DEBUG)
    b = SolanaBackend({"chain": CHAIN, "signer": {"type": "env", "var": "K"}}, env={"K": secret_b58}, local_chain=chain)
    wallet = str(kp.pubkey())
    chain.airdrop(wallet, 10**10)
    m = chain.create_mint(wallet, 6)
    chain.mint_to(m, wallet, 10)
    intents: list[TxIntent] = []
    ex, root = transfer_exec(derive_ata(wallet, m), derive_ata(wallet, m), wallet, 1)
    res = b.execute(make_call(ex, root, intents=intents))
    with pytest.raises(BackendError) as failed:
        b.execute(make_call(*transfer_exec(derive_ata(wallet, m), derive_ata(wallet, m), wallet, 10**9), intents=intents))
    out = capsys.readouterr()
    haystack = "\n".join(
        [caplog.text, out.out, out.err, repr(b), repr(res), repr(intents), str(failed.value), repr(failed.value.details)]
    )
    raw_intents = b"".join(base64.b64decode(i.raw or "") for i in intents)
    for needle in (secret_b58, secret_hex, secret_hex.upper()):
        assert needle not in haystack
    assert bytes(kp)[:32] not in raw_intents


def _failing_send(chain: LocalChain, mint: str, transport: LiteSVMTransport, **config: Any
                  ) -> tuple[SolanaBackend, Any, list[TxIntent]]:
    """A funded ephemeral signer sends one ATA creation through ``transport``, which makes it fail."""
    b = SolanaBackend({"chain": CHAIN, "signer": {"type": "ephemeral"}, **config}, transport=transport)
    signer = b.signer_address(CHAIN)
    assert signer is not None
    chain.airdrop(signer, 10**9)
    intents: list[TxIntent] = []
    with pytest.raises(BackendError) as info:
        b.execute(make_call(create_ata_exec(signer, BOB, mint), intents=intents))
    return b, info, intents


def test_expired_blockhash_is_rejected_and_retryable(chain: LocalChain, mint: str) -> None:
    stale, last_valid = chain.latest_blockhash()
    chain.advance_blocks(151)

    class StaleTransport(LiteSVMTransport):
        def latest_blockhash(self) -> Any:
            return stale, last_valid

    b, info, intents = _failing_send(chain, mint, StaleTransport(chain))
    assert info.value.details["err"] == "BlockhashNotFound" and info.value.retryable
    assert chain.status(intents[0].tx_id) is None
    assert b.reconcile(intents[0]) is None
    assert info.value.events == ()  # rejected before it landed: no tx_sent


def test_unconfirmed_send_still_reports_tx_sent(chain: LocalChain, mint: str) -> None:
    """A transaction that was broadcast but whose confirmation never comes (here: the status reply
    is lost every time) fails with a timeout that carries tx_sent for the signature that went out."""

    class Blind(LiteSVMTransport):
        def signature_statuses(self, signatures: Any, search_history: bool) -> Any:
            return [None for _ in signatures]

    _, info, intents = _failing_send(chain, mint, Blind(chain), confirm_timeout_ms=50, poll_interval_ms=10)
    e = info.value
    assert e.category == "timeout" and not e.retryable
    assert e.events == (("tx_sent", {"tx_hash": intents[0].tx_id}),)
    assert chain.status(intents[0].tx_id) is not None  # it did land: resume reconciles it
