"""EVM backend overhead: 50 ERC20 transfers through EvmBackend.execute vs a minimal httpx script.

Both sides run against the same local anvil in the same process and make the same JSON-RPC calls
per write: one batch [eth_estimateGas, eth_feeHistory, eth_maxPriorityFeePerGas], local signing
with eth-account, eth_sendRawTransaction, then eth_getTransactionReceipt polling (plus eth_chainId
and eth_getTransactionCount once per run). Rounds alternate between the variants; the table shows
medians. Target: ratio (aisc / direct) <= 1.2.

``aisc-engine`` runs the compiled 50-node transfer plan through the engine in this process
(scheduler, policy gate, evaluation, events, EVM backend): the plan path without start-up costs.
Whole-process rows (skip with --no-cli): ``direct-proc`` runs the same direct script in a fresh
``python`` process; ``aisc-run`` runs a compiled 50-node transfer plan (the erc20 example protocol)
with ``python -m aisc run --no-store`` (startup, imports, plan checks, policy gate, events and the
engine included); ``aisc-run+store`` the same with the default SQLite run store in a scratch
AISC_HOME. Compilation happens once, before timing.

    python bench/evm.py [--writes 50] [--rounds 5] [--no-cli]

Needs anvil (tools/chain-deps/install.sh, or AISC_ANVIL). Writes bench/out/evm.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.address import to_checksum_address

from aisc.backends.base import NodeCall
from aisc.backends.evm.backend import EvmBackend

REPO = Path(__file__).resolve().parents[1]
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil dev account 0 (public)
ADDR = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
BOB = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
TRANSFER_ABI = {
    "type": "function",
    "name": "transfer",
    "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
    "outputs": [{"name": "ok", "type": "bool"}],
}


def find_anvil() -> str:
    cand = os.environ.get("AISC_ANVIL") or str(
        REPO / "tools/chain-deps/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
    )
    if os.access(cand, os.X_OK):
        return cand
    found = shutil.which("anvil")
    if not found:
        sys.exit("anvil not found: run tools/chain-deps/install.sh or set AISC_ANVIL")
    return found


def rpc(http: httpx.Client, url: str, method: str, params: list[Any]) -> Any:
    body = http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).json()
    if "error" in body:
        raise RuntimeError(body["error"])
    return body["result"]


def direct(url: str, token: str, writes: int) -> None:
    """The baseline: the same JSON-RPC calls, written by hand."""
    http = httpx.Client(timeout=10)
    ids = iter(range(1, 10**9))
    chain_id = int(rpc(http, url, "eth_chainId", []), 16)
    nonce = int(rpc(http, url, "eth_getTransactionCount", [ADDR, "pending"]), 16)
    acct = Account.from_key(KEY)
    for i in range(writes):
        data = "0xa9059cbb" + encode(["address", "uint256"], [BOB, i + 1]).hex()
        req = {"from": ADDR, "to": token, "data": data, "value": "0x0"}
        batch = [
            {"jsonrpc": "2.0", "id": next(ids), "method": "eth_estimateGas", "params": [req]},
            {"jsonrpc": "2.0", "id": next(ids), "method": "eth_feeHistory", "params": ["0x1", "latest", []]},
            {"jsonrpc": "2.0", "id": next(ids), "method": "eth_maxPriorityFeePerGas", "params": []},
        ]
        est, hist, tip = (r["result"] for r in sorted(http.post(url, json=batch).json(), key=lambda r: r["id"]))
        gas = int(est, 16)
        tip_i = int(tip, 16)
        tx = {"chainId": chain_id, "nonce": nonce, "to": to_checksum_address(token), "value": 0, "data": data,
              "gas": gas + gas // 5, "maxFeePerGas": 2 * int(hist["baseFeePerGas"][-1], 16) + tip_i,
              "maxPriorityFeePerGas": tip_i, "type": 2}
        signed = acct.sign_transaction(tx)
        h = rpc(http, url, "eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
        delay = 0.005
        while rpc(http, url, "eth_getTransactionReceipt", [h]) is None:
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        nonce += 1
    http.close()


def via_backend(url: str, token: str, writes: int) -> None:
    be = EvmBackend({"chain": "eip155:31337", "rpc_url": url, "signer": {"type": "env", "var": "K"}},
                    environ={"K": KEY})
    for i in range(writes):
        ex = {"type": "evm_call", "to": {"lit": token}, "abi": TRANSFER_ABI,
              "args": {"to": {"lit": BOB}, "amount": {"lit": str(i + 1)}}}
        res = be.execute(NodeCall(node_id=f"w{i}", chain="eip155:31337", execution=ex, evaluate=lambda v: v["lit"]))
        assert res.outputs["receipt"]["status"] == 1
    be.close()





def via_engine(plan_path: Path, inputs_path: Path, url: str, writes: int) -> None:
    """The compiled plan through the engine in this process: scheduler, policy gate, events (to a
    list), evaluation and the EVM backend, without process start-up and imports."""
    from aisc import aisjson
    from aisc.backends.registry import BackendRegistry
    from aisc.ir.plan import plan_from_json
    from aisc.runtime.engine import Engine, RunOptions
    from aisc.runtime.events import ListSink

    plan = plan_from_json(aisjson.loads(plan_path.read_text()))
    inputs = aisjson.loads(inputs_path.read_text())
    os.environ["AISC_BENCH_KEY"] = KEY
    reg = BackendRegistry.from_config({"chains": {"eip155:31337": {
        "backend": "evm", "rpc_url": url, "signer": {"type": "env", "var": "AISC_BENCH_KEY"}}}})
    try:
        res = Engine(plan, reg, inputs=inputs, options=RunOptions(), sink=ListSink()).run()
    finally:
        reg.close()
    done = sum(1 for r in res.nodes.values() if r.state == "done")
    if res.status != "done" or done != writes:
        raise RuntimeError(f"engine run ended {res.status} with {done}/{writes} nodes done")


def prepare_cli(tmp: Path, url: str, token: str, writes: int) -> tuple[list[str], dict[str, str], Path]:
    """Compile a ``writes``-node transfer workflow once; return the ``aisc run`` command, its env and
    the scratch AISC_HOME. The key is only in the environment (anvil dev account 0, public)."""
    erc20 = (REPO / "aisc/data/examples/erc20.ais.yaml").read_text()
    erc20 = erc20.replace("deployments:\n", f'deployments:\n  - chain: "eip155:31337"\n    contracts: {{ token: "{token}" }}\n', 1)
    (tmp / "erc20.ais.yaml").write_text(erc20)
    nodes = "".join(
        f"  - {{ id: t{i:03d}, type: action_ref, protocol: \"erc20@0.0.2\", action: transfer, args: "
        f"{{ token: {{ ref: inputs.token }}, to: {{ lit: \"{BOB}\" }}, amount: {{ lit: \"{i + 1}\" }} }} }}\n"
        for i in range(writes)
    )
    (tmp / "bench.ais-flow.yaml").write_text(
        'schema: "ais-flow/0.0.3"\n'
        'meta: { name: "bench-transfers", version: "0.0.1" }\n'
        'default_chain: "eip155:31337"\n'
        'imports: { protocols: [ { protocol: "erc20@0.0.2", path: "erc20.ais.yaml" } ] }\n'
        "inputs: { token: { type: asset, required: true } }\n"
        f"nodes:\n{nodes}"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({"SOURCE_DATE_EPOCH": "0", "NO_COLOR": "1", "AISC_BENCH_KEY": KEY, "AISC_HOME": str(tmp / "home"),
                "PYTHONPATH": str(tmp)})
    plan = tmp / "bench.plan.json"
    subprocess.run([sys.executable, "-m", "aisc", "compile", str(tmp / "bench.ais-flow.yaml"), "--workspace", str(tmp),
                    "-o", str(plan), "-q"], check=True, env=env)
    chain_cfg: dict[str, Any] = {"backend": "evm", "rpc_url": url,
                                 "signer": {"type": "env", "var": "AISC_BENCH_KEY"}}
    config: dict[str, Any] = {"chains": {"eip155:31337": chain_cfg}}
    (tmp / "config.json").write_text(json.dumps(config))
    (tmp / "inputs.json").write_text(json.dumps({"token": {"chain_id": "eip155:31337", "address": token.lower()}}))
    cmd = [sys.executable, "-m", "aisc", "run", str(plan), "--inputs", str(tmp / "inputs.json"),
           "--config", str(tmp / "config.json"), "--events-jsonl", str(tmp / "events.jsonl")]
    return cmd, env, tmp / "home"


def run_cli(cmd: list[str], env: dict[str, str], writes: int) -> None:
    p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"aisc run exited {p.returncode}: {p.stderr[-2000:]}")
    events = Path(cmd[cmd.index("--events-jsonl") + 1]).read_text().splitlines()
    confirmed = sum(1 for line in events if '"type":"tx_confirmed"' in line)
    if confirmed != writes:
        raise RuntimeError(f"aisc run confirmed {confirmed} transactions, expected {writes}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--writes", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-cli", action="store_true", help="skip the whole-process rows")
    ap.add_argument("--child-direct", nargs=2, metavar=("URL", "TOKEN"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_direct:  # the direct script as a process of its own (direct-proc row)
        direct(args.child_direct[0], args.child_direct[1], args.writes)
        return 0

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([find_anvil(), "--host", "127.0.0.1", "--port", str(port), "--silent"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    cleanup: list[Path] = []
    try:
        http = httpx.Client(timeout=10)
        for _ in range(300):
            try:
                rpc(http, url, "eth_chainId", [])
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        art = json.loads((REPO / "contracts/build/TestToken.json").read_text())
        code = art["bytecode"] + encode(["string", "string", "uint256"], ["B", "B", 10**30]).hex()
        h = rpc(http, url, "eth_sendTransaction", [{"from": ADDR, "data": code, "gas": hex(3_000_000)}])
        receipt = None
        while receipt is None:
            time.sleep(0.01)
            receipt = rpc(http, url, "eth_getTransactionReceipt", [h])
        token = receipt["contractAddress"]

        direct(url, token, 3)  # warm up both paths (imports, connection setup, caches)
        via_backend(url, token, 3)
        variants: list[tuple[str, Any]] = [("direct", lambda: direct(url, token, args.writes)),
                                           ("aisc", lambda: via_backend(url, token, args.writes))]
        if not args.no_cli:
            tmp = Path(tempfile.mkdtemp(prefix="aisc-bench-evm-"))
            cleanup.append(tmp)
            cmd, env, _home = prepare_cli(tmp, url, token, args.writes)
            child = [sys.executable, str(Path(__file__).resolve()), "--writes", str(args.writes),
                     "--child-direct", url, token]
            plan_path, inputs_path = Path(cmd[cmd.index("run") + 1]), tmp / "inputs.json"
            via_engine(plan_path, inputs_path, url, args.writes)  # warm up
            variants += [
                ("aisc-engine", lambda: via_engine(plan_path, inputs_path, url, args.writes)),
                ("direct-proc", lambda: subprocess.run(child, check=True, env=env)),
                ("aisc-run", lambda: run_cli([*cmd, "--no-store"], env, args.writes)),
                ("aisc-run+store", lambda: run_cli(cmd, env, args.writes)),
            ]
            run_cli([*cmd, "--no-store"], env, args.writes)  # warm up (page cache, .pyc)
        times: dict[str, list[float]] = {name: [] for name, _ in variants}
        for _ in range(args.rounds):
            for name, fn in variants:
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
        http.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for d in cleanup:
            shutil.rmtree(d, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["aisc"] / med["direct"]
    ratios = {"aisc/direct": round(ratio, 4)}
    if "aisc-run" in med:
        ratios["aisc-engine/direct"] = round(med["aisc-engine"] / med["direct"], 4)
        ratios["aisc-run/direct-proc"] = round(med["aisc-run"] / med["direct-proc"], 4)
        ratios["aisc-run/direct"] = round(med["aisc-run"] / med["direct"], 4)
        ratios["aisc-run+store/direct-proc"] = round(med["aisc-run+store"] / med["direct-proc"], 4)
    print(f"EVM writes: {args.writes} ERC20 transfers on anvil, {args.rounds} rounds, medians")
    print(f"{'variant':<16}{'total s':>10}{'ms/write':>10}")
    for k in med:
        print(f"{k:<16}{med[k]:>10.3f}{med[k] / args.writes * 1000:>10.2f}")
    print(f"ratio aisc/direct: {ratio:.3f} (target <= 1.2) {'OK' if ratio <= 1.2 else 'OVER TARGET'}")
    for k, v in ratios.items():
        if k != "aisc/direct":
            print(f"ratio {k}: {v:.3f}")
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "evm.json").write_text(json.dumps({
        "benchmark": "evm_writes",
        "writes": args.writes,
        "rounds": args.rounds,
        "median_s": med,
        "all_s": times,
        "ratio": round(ratio, 4),
        "ratios": ratios,
        "target_ratio": 1.2,
        "ok": ratio <= 1.2,
    }, indent=2) + "\n")
    return 0 if ratio <= 1.2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
