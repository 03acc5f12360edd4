"""Associated token account derivation for the ``derive_ata`` CEL extra (standard SPL rules)."""

from __future__ import annotations

TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
ASSOCIATED_TOKEN_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"


def associated_token_address(owner: str, mint: str, token_program: str | None = None) -> str:
    """PDA of seeds ``[owner, token_program, mint]`` under the associated token program.

    Raises ``ValueError`` for a string that is not a base58 public key."""
    from solders.pubkey import Pubkey

    def key(name: str, s: str) -> Pubkey:
        try:
            return Pubkey.from_string(s)
        except Exception:
            raise ValueError(f"{name} is not a base58 public key: {s!r}") from None

    o = key("owner", owner)
    m = key("mint", mint)
    p = key("token_program", token_program or TOKEN_PROGRAM)
    ata, _bump = Pubkey.find_program_address([bytes(o), bytes(p), bytes(m)], key("program", ASSOCIATED_TOKEN_PROGRAM))
    return str(ata)
