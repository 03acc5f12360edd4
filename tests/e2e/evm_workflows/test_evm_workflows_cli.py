"""End to end on anvil, from YAML to confirmed receipts, through the real command line.

Each test writes a workspace (protocols, pack, one workflow from specs/) for the running anvil,
runs ``python -m aisc compile`` then ``python -m aisc run`` as subprocesses with the signing key in
an environment variable, validates every engine event line against the engine-event schema, and
checks the outcome ON CHAIN with direct ``eth_call``s (eth-abi encoding, not aisc's ABI module).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from evm_chain import DEV_ADDRS, DEV_KEYS, SUPPLY, Chain
from evmwf import SENDER, Cli, Run, big, call, run_config, token_asset, topic

from aisc import exitcodes

pytestmark = pytest.mark.anvil

TOKEN_UNIT = 10**18
SPENDER = DEV_ADDRS[1]
RECIPIENT = DEV_ADDRS[2]


def balance(chain: Chain, holder: str) -> int:
    return int(call(chain, chain.addr["token"], "balanceOf(address)", ["address"], [holder], ["uint256"]))


def allowance(chain: Chain, owner: str, spender: str) -> int:
    return int(call(chain, chain.addr["token"], "allowance(address,address)", ["address", "address"],
                    [owner, spender], ["uint256"]))


def assert_key_not_leaked(run: Run, *texts: str) -> None:
    secret = DEV_KEYS[0][2:].lower()
    for text in (run.stdout, run.stderr, *run.lines, *texts):
        assert secret not in text.lower()


# ------------------------------------------------------------------------------------------------
# 1. approve → transfer → balance query with an assert


def test_r156_r202_approve_transfer_then_assert_balance(anvil: Chain, tmp_path: Path) -> None:
    """R156 (writes of one account serialized), R202 (named outputs): approve, transfer and two
    asserted reads; balances and allowance checked on chain; tx_sent/tx_confirmed/query_result."""
    cli = Cli(anvil, tmp_path, "approve-transfer-check")
    plan = cli.compile(pack=True)
    nonce0 = anvil.nonce(SENDER)
    allowed, amount = 500 * TOKEN_UNIT, 100 * TOKEN_UNIT
    run = cli.run(plan, {"token": token_asset(anvil), "spender": SPENDER, "recipient": RECIPIENT,
                         "allowance_atomic": big(allowed), "amount_atomic": big(amount)})
    assert run.rc == exitcodes.OK, run.describe()

    # on chain, read directly
    assert balance(anvil, RECIPIENT) == amount
    assert balance(anvil, SENDER) == SUPPLY - amount
    assert allowance(anvil, SENDER, SPENDER) == allowed
    assert anvil.nonce(SENDER) == nonce0 + 2  # exactly one transaction per write node

    # event stream: plan_ready first, seq contiguous, one tx per write, receipts match the chain
    assert run.events[0]["type"] == "plan_ready"
    assert [r["seq"] for r in run.records] == list(range(len(run.records)))
    assert len({r["run_id"] for r in run.records}) == 1
    for node in ("approve", "transfer"):
        sent = run.one("tx_sent", node)["data"]["tx_hash"]
        receipt = run.one("tx_confirmed", node)["data"]["receipt"]
        assert receipt["transaction_hash"] == sent and receipt["status"] == 1
        onchain = anvil.rpc("eth_getTransactionReceipt", [sent])
        assert onchain["status"] == "0x1"
        assert int(onchain["blockNumber"], 16) == receipt["block_number"]
        assert onchain["from"].lower() == SENDER and onchain["to"].lower() == anvil.addr["token"]
    order = [(e["type"], e.get("node_id")) for e in run.events]
    assert order.index(("tx_confirmed", "approve")) < order.index(("tx_sent", "transfer"))
    transfer_logs = run.one("tx_confirmed", "transfer")["data"]["receipt"]["logs"]
    assert [lg["topics"][0] for lg in transfer_logs] == [topic("Transfer(address,address,uint256)")]
    assert run.one("query_result", "balance")["data"]["outputs"] == {"balance": amount}
    assert run.one("query_result", "allowance")["data"]["outputs"] == {"allowance": allowed}
    assert not run.of("error")
    assert_key_not_leaked(run, plan.read_text(), (tmp_path / "config.json").read_text())


# ------------------------------------------------------------------------------------------------
# 2. evm_multicall through the router, evm_multiread with multicall3 and rpc_batch


def test_r205_r206_router_multicall_then_multiread(anvil: Chain, tmp_path: Path) -> None:
    """R206: one router transaction with a per-call condition (note(99) left out) and a deadline;
    R205: the same reads through Multicall3 aggregate3 and through a JSON-RPC batch, both equal
    to direct eth_calls."""
    cli = Cli(anvil, tmp_path, "router-batch")
    plan = cli.compile()
    token, router = anvil.addr["token"], anvil.addr["router"]
    nonce0 = anvil.nonce(SENDER)
    latest = int(anvil.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    run = cli.run(plan, {"token": token_asset(anvil), "router": router, "recipient": RECIPIENT,
                         "note_value": 11, "pull_amount": 600, "sweep_amount": 250, "deadline": latest + 3600})
    assert run.rc == exitcodes.OK, run.describe()
    assert anvil.nonce(SENDER) == nonce0 + 2  # approve + ONE router transaction

    receipt = run.one("tx_confirmed", "batch")["data"]["receipt"]
    onchain = anvil.rpc("eth_getTransactionByHash", [run.one("tx_sent", "batch")["data"]["tx_hash"]])
    assert onchain["to"].lower() == router
    assert onchain["input"][:10] == "0x5ae401dc"  # multicall(uint256 deadline, bytes[] data)
    noted = [lg for lg in receipt["logs"] if lg["topics"][0] == topic("Noted(address,uint256)")]
    assert len(noted) == 1  # the note(99) call was excluded by its condition

    direct = {
        "holder_balance": {"balance": balance(anvil, RECIPIENT)},
        "router_balance": {"balance": balance(anvil, router)},
        "counter": {"n": int(call(anvil, router, "counter()", [], [], ["uint256"]))},
        "note": {"value": int(call(anvil, router, "notes(address)", ["address"], [SENDER], ["uint256"]))},
        "token_name": {"name": call(anvil, token, "name()", [], [], ["string"])},
    }
    assert direct == {"holder_balance": {"balance": 250}, "router_balance": {"balance": 350},
                      "counter": {"n": 1}, "note": {"value": 11}, "token_name": {"name": "Test"}}
    assert run.one("query_result", "read_mc3")["data"]["outputs"] == direct
    assert run.one("query_result", "read_batch")["data"]["outputs"] == direct


# ------------------------------------------------------------------------------------------------
# 3. reverts and preflight simulation


def test_mined_revert_reports_reason_and_exit_1(anvil: Chain, tmp_path: Path) -> None:
    """A router batch that passes gas estimation but is mined after its deadline: receipt status 0,
    the replayed revert reason in the error event and on stderr, exit code 1 (failed)."""
    cli = Cli(anvil, tmp_path, "router-batch")
    plan = cli.compile()
    latest = int(anvil.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    inputs = {"token": token_asset(anvil), "router": anvil.addr["router"], "recipient": RECIPIENT,
              "note_value": 5, "pull_amount": 0, "sweep_amount": 0, "deadline": latest + 100}
    anvil.rpc("evm_setAutomine", [False])  # the fixture turns it back on
    proc, events = cli.popen(plan, inputs)
    try:
        nonce0 = anvil.nonce(SENDER)
        deadline = time.monotonic() + 30
        mined = 0
        while proc.poll() is None and time.monotonic() < deadline:
            if anvil.nonce(SENDER, "pending") > nonce0 + mined:
                # first approve_router (mined normally), then batch: mined 1000 s later than its deadline
                if mined == 1:
                    ts = int(anvil.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
                    anvil.rpc("evm_setNextBlockTimestamp", [max(ts, latest) + 1000])
                anvil.rpc("evm_mine")
                mined += 1
            time.sleep(0.02)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    run = Run((proc.returncode, out, err), events)
    assert run.rc == exitcodes.FAILED, run.describe()
    assert mined == 2
    error = run.one("error", "batch")["data"]
    assert error["category"] == "execution_failed" and error["retryable"] is False
    assert "TestRouter: deadline passed" in error["reason"]
    assert "TestRouter: deadline passed" in run.stderr
    # the broadcast transaction is named in the error details (the engine emits tx_sent/tx_confirmed
    # only for a successful result, so a mined revert has neither event)
    details = error["details"]
    assert details["receipt"]["status"] == 0 and details["revert"]["reason"] == "TestRouter: deadline passed"
    receipt = anvil.rpc("eth_getTransactionReceipt", [details["tx_hash"]])
    assert receipt["status"] == "0x0" and receipt["to"].lower() == anvil.addr["router"]
    assert anvil.nonce(SENDER) == nonce0 + 2  # approve + the reverted batch, nothing re-sent
    assert not run.of("query_result")


def test_estimate_revert_is_not_broadcast_and_exits_1(anvil: Chain, tmp_path: Path) -> None:
    """A transfer above the balance reverts at gas estimation: reason surfaced, exit 1, nonce unchanged."""
    cli = Cli(anvil, tmp_path, "transfer")
    plan = cli.compile()
    nonce0 = anvil.nonce(SENDER, "pending")
    run = cli.run(plan, {"token": token_asset(anvil), "recipient": RECIPIENT, "amount_atomic": big(SUPPLY + 1)})
    assert run.rc == exitcodes.FAILED, run.describe()
    error = run.one("error", "transfer")["data"]
    assert "TestToken: transfer amount exceeds balance" in error["reason"]
    assert "nothing was broadcast" in error["reason"]
    assert error["category"] == "execution_failed"
    assert "TestToken: transfer amount exceeds balance" in run.stderr
    assert not run.of("tx_sent")
    assert anvil.nonce(SENDER, "pending") == nonce0
    assert balance(anvil, RECIPIENT) == 0


def test_r325_preflight_simulate_blocks_failing_write(anvil: Chain, tmp_path: Path) -> None:
    """R325: with the workflow's ``preflight.simulate`` the write is simulated (eth_call) first and
    a failing simulation blocks it: category simulation_failed, exit 1, nothing broadcast.

    Fails today: the compiler records ``extensions.aisc.preflight`` in the plan but ``aisc run``
    never sets ``RunOptions.simulate`` from it (and has no ``--simulate`` flag), so the write is only
    stopped later by the gas estimate (category execution_failed).
    """
    cli = Cli(anvil, tmp_path, "transfer-simulated")
    plan = cli.compile()
    nonce0 = anvil.nonce(SENDER, "pending")
    run = cli.run(plan, {"token": token_asset(anvil), "recipient": RECIPIENT, "amount_atomic": big(SUPPLY + 1)})
    assert run.rc == exitcodes.FAILED, run.describe()
    assert anvil.nonce(SENDER, "pending") == nonce0
    assert not run.of("tx_sent")
    error = run.one("error", "transfer")["data"]
    assert "TestToken: transfer amount exceeds balance" in error["reason"]
    assert error["category"] == "simulation_failed", error


# ------------------------------------------------------------------------------------------------
# 4. policy: max_spend


def test_r272_max_spend_blocks_transfer_exit_5(anvil: Chain, tmp_path: Path) -> None:
    """R272: the pack caps spend at 1000 TST ("1000.0", 18 decimals from the allowlist); a transfer
    of 1000 TST + 1 wei is hard-blocked (exit 5, not confirmable even with --yes), nothing is sent."""
    cli = Cli(anvil, tmp_path, "transfer")
    plan = cli.compile(pack=True)
    nonce0 = anvil.nonce(SENDER, "pending")
    run = cli.run(plan, {"token": token_asset(anvil), "recipient": RECIPIENT,
                         "amount_atomic": big(1000 * TOKEN_UNIT + 1)}, extra=["--yes"])
    assert run.rc == exitcodes.POLICY_BLOCKED, run.describe()
    assert not run.of("tx_sent")
    assert anvil.nonce(SENDER, "pending") == nonce0
    assert balance(anvil, RECIPIENT) == 0
    pause = run.one("need_user_confirm", "transfer")["data"]
    assert pause["details"]["can_confirm"] is False
    assert pause["details"]["gate"]["kind"] == "hard_block"
    violations = {(v["constraint"], v["value"], v["limit"]) for v in pause["details"]["gate"]["details"]["violations"]}
    assert violations == {("max_spend", str(1000 * TOKEN_UNIT + 1), str(1000 * TOKEN_UNIT))}
    assert "policy blocked" in run.stderr


def test_r272_spend_at_the_limit_runs(anvil: Chain, tmp_path: Path) -> None:
    """R272 boundary: exactly 1000 TST passes the same gate and is transferred."""
    cli = Cli(anvil, tmp_path, "transfer")
    plan = cli.compile(pack=True)
    run = cli.run(plan, {"token": token_asset(anvil), "recipient": RECIPIENT, "amount_atomic": big(1000 * TOKEN_UNIT)})
    assert run.rc == exitcodes.OK, run.describe()
    assert balance(anvil, RECIPIENT) == 1000 * TOKEN_UNIT


# ------------------------------------------------------------------------------------------------
# signer and config


def test_missing_signer_pauses_exit_4(anvil: Chain, tmp_path: Path) -> None:
    """No key in the environment: the write pauses with need_user_confirm (exit 4), nothing is sent."""
    cli = Cli(anvil, tmp_path, "transfer")
    plan = cli.compile()
    nonce0 = anvil.nonce(SENDER, "pending")
    run = cli.run(plan, {"token": token_asset(anvil), "recipient": RECIPIENT, "amount_atomic": 1}, key=False)
    assert run.rc == exitcodes.PAUSED, run.describe()
    assert run.one("need_user_confirm", "transfer")["data"]["reason"] == "Missing signer for eip155:31337"
    assert not run.of("tx_sent")
    assert anvil.nonce(SENDER, "pending") == nonce0


def test_builtin_evm_backend_in_run_config(anvil: Chain, tmp_path: Path) -> None:
    """The documented config ``{backend: evm, rpc_url, signer}`` (docs/runtime.md) runs a transfer."""
    cli = Cli(anvil, tmp_path, "transfer")
    plan = cli.compile()
    run = cli.run(plan, {"token": token_asset(anvil), "recipient": RECIPIENT, "amount_atomic": 7},
                  config=run_config(anvil))
    assert run.rc == exitcodes.OK, run.describe()
    assert balance(anvil, RECIPIENT) == 7
