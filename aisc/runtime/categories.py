"""Failure categories: the stable table behind bridge output, history records and exit codes.

Every way a run (or a bridge call) can end badly is one *category*. A category is a stable string
that orchestrators branch on, and each maps to one process exit code from :mod:`aisc.exitcodes`.
Several categories may share an exit code (``rpc_unavailable`` and ``execution_failed`` both exit
1); the category string in the JSON output is the precise answer.

Compatibility: a category name and its exit code never change once released; new categories may
be added in a minor version (consumers must treat an unknown category like ``execution_failed``).
The table is mirrored in docs/bridge.md and tested against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from aisc import exitcodes

VALIDATION: Final = "validation"
USAGE: Final = "usage"
POLICY_BLOCKED: Final = "policy_blocked"
NEEDS_CONFIRMATION: Final = "needs_confirmation"
EXECUTION_FAILED: Final = "execution_failed"
RPC_UNAVAILABLE: Final = "rpc_unavailable"
TIMEOUT: Final = "timeout"
CANCELLED: Final = "cancelled"
OUTPUT_INVALID: Final = "output_invalid"
INTERNAL: Final = "internal"

# category -> (exit code, one-line meaning)
TABLE: Final[Mapping[str, tuple[int, str]]] = {
    VALIDATION: (exitcodes.INPUT, "bad input (documents, plan, inputs, ctx, config, params); nothing was sent"),
    USAGE: (exitcodes.USAGE, "bad command line (unknown option, missing argument)"),
    POLICY_BLOCKED: (exitcodes.POLICY_BLOCKED, "the policy gate or a governance hook refused a step"),
    NEEDS_CONFIRMATION: (exitcodes.PAUSED, "the run paused for a confirmation or missing input; resume it"),
    EXECUTION_FAILED: (exitcodes.FAILED, "a step failed on chain or in the backend (revert, assert, deadlock)"),
    RPC_UNAVAILABLE: (exitcodes.FAILED, "the chain endpoint could not be reached"),
    TIMEOUT: (exitcodes.TIMEOUT, "an until/retry/timeout budget ran out"),
    CANCELLED: (exitcodes.CANCELLED, "the run was cancelled by a command or a signal"),
    OUTPUT_INVALID: (exitcodes.OUTPUT_INVALID, "bridge mode: the output does not match the caller's --schema-path "
                     "schema (the run itself may have succeeded: read 'status')"),
    INTERNAL: (exitcodes.INTERNAL, "an aisc bug (unexpected exception); please report it"),
}

CATEGORIES: Final = tuple(TABLE)


def exit_code(category: str | None) -> int:
    """The exit code of a category; ``None`` means success (0). Unknown categories exit 1."""
    if category is None:
        return exitcodes.OK
    entry = TABLE.get(category)
    return entry[0] if entry is not None else exitcodes.FAILED


def normalize(category: Any) -> str:
    """A category string from a backend (``BackendError.category``) mapped into the table."""
    if isinstance(category, str) and category in TABLE:
        return category
    return EXECUTION_FAILED


def of_run_status(status: str, error_category: str | None = None) -> str | None:
    """The category of a finished run, from the engine's run status and the first error's category.

    ``done`` → None. A failed run takes the category its failing step reported (a hook veto reports
    ``policy_blocked``, an unreachable RPC ``rpc_unavailable``); otherwise ``execution_failed``.
    """
    if status == "done":
        return None
    if status == "paused":
        return NEEDS_CONFIRMATION
    if status == "policy_blocked":
        return POLICY_BLOCKED
    if status == "timeout":
        return TIMEOUT
    if status == "cancelled":
        return CANCELLED
    if status == "internal":
        return INTERNAL
    if error_category is not None:
        return normalize(error_category)
    return EXECUTION_FAILED


def markdown_table() -> str:
    """The table as Markdown (docs/bridge.md embeds it; a test keeps the two in sync)."""
    lines = ["| category | exit code | meaning |", "|---|---|---|"]
    lines += [f"| `{c}` | {code} | {text} |" for c, (code, text) in TABLE.items()]
    return "\n".join(lines)
