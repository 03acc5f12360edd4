"""Process exit codes: one table for every command (documented in the README).

Stable across minor versions; new codes may be added, existing ones never change meaning.
"""

from __future__ import annotations

OK = 0
"""Success: documents clean, plan compiled, run completed, all conformance cases passed."""
FAILED = 1
"""Errors found (diagnostics), a node failed during a run, or a conformance case failed."""
USAGE = 2
"""Bad command line: unknown option, missing argument, unreadable file."""
INPUT = 3
"""Bad user input for a run: inputs/ctx/config/plan invalid; nothing was executed."""
PAUSED = 4
"""The run paused and waits for a confirmation or an answer (resume it later)."""
POLICY_BLOCKED = 5
"""The policy gate hard-blocked a write; no confirmation can clear it."""
TIMEOUT = 6
"""A node's until/retry/timeout budget ran out."""
CANCELLED = 7
"""The run was cancelled by a command or a signal."""
OUTPUT_INVALID = 8
"""Bridge mode: the output document does not match the schema given with --schema-path."""
INTERNAL = 70
"""An aisc bug (an unexpected exception). Please report it."""

TABLE: dict[int, str] = {
    OK: "ok",
    FAILED: "failed",
    USAGE: "usage error",
    INPUT: "input error",
    PAUSED: "paused (awaiting confirmation)",
    POLICY_BLOCKED: "policy blocked",
    TIMEOUT: "timeout",
    CANCELLED: "cancelled",
    OUTPUT_INVALID: "bridge output does not match --schema-path",
    INTERNAL: "internal error (aisc bug)",
}
