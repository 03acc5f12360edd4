"""The run config's ``seed`` for a local LiteSVM chain (aisc.backends.solana.seed) and the factory."""

from __future__ import annotations

from typing import Any

import pytest
from solders.keypair import Keypair

from aisc.addresses import TOKEN_2022_PROGRAM, derive_ata
from aisc.backends.registry import BackendRegistry
from aisc.backends.solana import make_backend
from aisc.backends.solana.local import LocalChain
from aisc.backends.solana.seed import E_SEED, SeedError, apply_seed, parse_seed

CHAIN = "solana:localnet"
MINT = "DemoMint11111111111111111111111111111111111"
OWNER = "DemoRecipient111111111111111111111111111111"

BAD_SEEDS: list[tuple[str, Any, str]] = [
    ("not_object", [], "seed"),
    ("unknown_top_field", {"accounts": []}, "seed.accounts"),
    ("airdrop_not_list", {"airdrop": {"to": OWNER}}, "seed.airdrop"),
    ("airdrop_missing_lamports", {"airdrop": [{"to": OWNER}]}, "seed.airdrop[0]"),
    ("airdrop_bad_address", {"airdrop": [{"to": "0x1111", "lamports": 1}]}, "seed.airdrop[0].to"),
    ("airdrop_float_string", {"airdrop": [{"to": OWNER, "lamports": "1.5"}]}, "seed.airdrop[0].lamports"),
    ("airdrop_bool", {"airdrop": [{"to": OWNER, "lamports": True}]}, "seed.airdrop[0].lamports"),
    ("airdrop_negative", {"airdrop": [{"to": OWNER, "lamports": -1}]}, "seed.airdrop[0].lamports"),
    ("airdrop_over_u64", {"airdrop": [{"to": OWNER, "lamports": str(2**64)}]}, "seed.airdrop[0].lamports"),
    ("airdrop_extra_field", {"airdrop": [{"to": OWNER, "lamports": 1, "sol": 1}]}, "seed.airdrop[0].sol"),
    ("mint_missing_decimals", {"mints": [{"address": MINT}]}, "seed.mints[0]"),
    ("mint_decimals_over_u8", {"mints": [{"decimals": 256}]}, "seed.mints[0].decimals"),
    ("mint_address_signer", {"mints": [{"address": "signer", "decimals": 6}]}, "seed.mints[0].address"),
    ("mint_bad_program", {"mints": [{"decimals": 6, "token_program": OWNER}]}, "seed.mints[0].token_program"),
    ("mint_to_missing_amount", {"mints": [{"decimals": 6, "mint_to": [{"owner": OWNER}]}]},
     "seed.mints[0].mint_to[0]"),
    ("mint_to_over_supply", {"mints": [{"decimals": 6, "mint_to": [{"owner": OWNER, "amount": str(2**63)},
                                                                   {"owner": OWNER, "amount": str(2**63)}]}]},
     "seed.mints[0].mint_to"),
]


@pytest.mark.parametrize(("seed", "field"), [(s, f) for _, s, f in BAD_SEEDS], ids=[i for i, _, _ in BAD_SEEDS])
def test_bad_seed_names_the_field(seed: Any, field: str) -> None:
    with pytest.raises(SeedError) as e:
        parse_seed(seed)
    assert e.value.field == field
    assert e.value.details["code"] == E_SEED
    assert e.value.category == "validation"


def test_apply_seed_writes_balances_and_mints() -> None:
    chain = LocalChain()
    signer = str(Keypair.from_seed(bytes([3]) * 32).pubkey())
    seed = parse_seed({
        "airdrop": [{"to": "signer", "lamports": "5000"}, {"to": OWNER, "lamports": 7}],
        "mints": [
            {"address": MINT, "decimals": 6, "mint_to": [{"owner": "signer", "amount": "100"}, {"owner": OWNER,
                                                                                          "amount": 2}]},
            {"decimals": 2, "token_program": TOKEN_2022_PROGRAM, "mint_to": [{"owner": OWNER, "amount": "9"}]},
        ],
    })
    report = apply_seed(chain, seed, signer)
    assert chain.get_balance(signer) == 5000
    assert chain.get_balance(OWNER) == 7
    assert report["mints"][0] == MINT
    assert chain.token_balance(derive_ata(signer, MINT))["amount"] == "100"
    assert chain.token_balance(derive_ata(OWNER, MINT)) == {"amount": "2", "decimals": 6, "uiAmountString": "0.000002"}
    other = report["mints"][1]
    assert str(chain.get_account(other).owner) == TOKEN_2022_PROGRAM  # type: ignore[union-attr]
    assert chain.token_balance(derive_ata(OWNER, other, TOKEN_2022_PROGRAM))["amount"] == "9"


@pytest.mark.parametrize(("seed", "field"), [
    ({"airdrop": [{"to": "signer", "lamports": 1}]}, "seed.airdrop[0].to"),
    ({"mints": [{"decimals": 6}]}, "seed.mints[0].authority"),
])
def test_signer_word_without_signer_is_an_error(seed: Any, field: str) -> None:
    with pytest.raises(SeedError) as e:
        apply_seed(LocalChain(), parse_seed(seed), None)
    assert e.value.field == field


def test_mint_address_already_taken() -> None:
    chain = LocalChain()
    chain.airdrop(MINT, 1)
    with pytest.raises(SeedError) as e:
        apply_seed(chain, parse_seed({"mints": [{"address": MINT, "decimals": 0, "authority": OWNER}]}), None)
    assert e.value.field == "seed.mints[0].address"


def test_registry_builds_seeded_backend_from_config() -> None:
    """``backend: solana`` in the run config goes through the seeding factory."""
    reg = BackendRegistry.from_config({"chains": {CHAIN: {
        "backend": "solana", "signer": {"type": "ephemeral"}, "airdrop_lamports": 0,
        "seed": {"airdrop": [{"to": "signer", "lamports": "42"}], "mints": [{"address": MINT, "decimals": 9}]},
    }}})
    backend: Any = reg.for_node(CHAIN, "solana_read")
    signer = backend.signer_address(CHAIN)
    assert backend.local_chain.get_balance(signer) == 42
    assert backend.local_chain.get_account(MINT) is not None
    reg.close()


def test_factory_rejects_seed_on_rpc() -> None:
    with pytest.raises(SeedError) as e:
        make_backend(CHAIN, transport="rpc", rpc_url="http://127.0.0.1:1", seed={})
    assert e.value.field == "seed"
