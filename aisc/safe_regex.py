"""Regular expressions that come from documents, with a bounded cost.

Patterns written by a document author (CEL ``matches()``, a parameter's ``constraints.pattern``, a
patch guard's ``allow_path_patterns``/``allow_nodes_paths``) must not be able to stall the compiler
or the runtime. Python's ``re`` backtracks without limit, so ``^(a|a)*$`` against ``"aaaa…!"`` runs
for hours. This module runs such patterns with the ``regex`` package instead, which accepts the same
syntax as ``re`` (its default "version 0" mode is ``re``-compatible) and can stop a match after a
deadline:

* a pattern longer than :data:`MAX_PATTERN_LENGTH` characters is refused (:class:`RegexPatternError`);
* a pattern whose counted repeats would expand to more than :data:`MAX_EXPANDED_SIZE` atoms is
  refused (:class:`RegexPatternError`): the engine unrolls the minimum count of ``x{m}``/``x{m,n}``
  when it compiles, so ``(?:(?:a{1000}){1000}){1000}`` would need gigabytes;
* a pattern that does not compile is refused (:class:`RegexPatternError`, with the reason);
* a search that has not finished after :data:`MATCH_TIMEOUT_MS` milliseconds is abandoned
  (:class:`RegexTimeout`).

Compiled patterns are cached (at most :data:`CACHE_SIZE`). Bottom layer: imports nothing from aisc.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Final

__all__ = [
    "MATCH_TIMEOUT_MS",
    "MAX_EXPANDED_SIZE",
    "MAX_PATTERN_LENGTH",
    "RegexPatternError",
    "RegexTimeout",
    "SafeRegexError",
    "compile_pattern",
    "search",
]

MAX_PATTERN_LENGTH: Final = 1000
"""Longest accepted pattern, in characters."""

MAX_EXPANDED_SIZE: Final = 10_000
"""Largest size of a pattern with its counted repeats unrolled (``[0-9]{64}`` counts 64)."""

MATCH_TIMEOUT_MS: Final = 50
"""Wall-clock budget of one search, in milliseconds."""

CACHE_SIZE: Final = 512


class SafeRegexError(ValueError):
    """A document-provided regular expression could not be used; the message says why."""


class RegexPatternError(SafeRegexError):
    """The pattern is too long or is not a valid regular expression."""


class RegexTimeout(SafeRegexError):
    """The search did not finish within its time budget (a pattern with catastrophic backtracking)."""


_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def compile_pattern(pattern: str) -> Any:
    """The compiled pattern (a ``regex.Pattern``); :class:`RegexPatternError` if it is unusable."""
    if not isinstance(pattern, str):
        raise RegexPatternError(f"a regular expression must be a string, got {type(pattern).__name__}")
    rx = _cache.get(pattern)
    if rx is not None:
        return rx
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise RegexPatternError(
            f"regular expression is {len(pattern)} characters long (at most {MAX_PATTERN_LENGTH})"
        )
    size = expanded_size(pattern)
    if size > MAX_EXPANDED_SIZE:
        raise RegexPatternError(
            f"regular expression repeats too much: its counted repeats unroll to about {size} atoms "
            f"(at most {MAX_EXPANDED_SIZE}); use a smaller {{m,n}} count"
        )
    import regex  # type: ignore[import-untyped]  # no stubs; loaded on the first pattern (~10 ms)

    try:
        rx = regex.compile(pattern)
    except regex.error as e:
        raise RegexPatternError(str(e)) from None
    except (OverflowError, RecursionError, ValueError) as e:  # e.g. a repeat count beyond the engine's limit
        raise RegexPatternError(str(e) or type(e).__name__) from None
    with _cache_lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        _cache[pattern] = rx
    return rx


_REPEAT = re.compile(r"\{(\d*)(?:,(\d*))?\}")


def expanded_size(pattern: str) -> int:
    """An upper estimate of the pattern's size once the minimum counts of its ``{m}``, ``{m,}`` and
    ``{m,n}`` repeats are unrolled (what the engine does when compiling). Each atom (character,
    escape, character class) counts 1; a group counts the sum of its parts (alternatives added)."""
    stack: list[int] = [0]  # size of the sequence being built, one entry per open group
    last = 0  # size of the atom or group a following quantifier applies to
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            i += 2
            stack[-1] += 1
            last = 1
            continue
        if c == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            i = j + 1
            stack[-1] += 1
            last = 1
            continue
        if c == "(":
            stack.append(0)
            last = 0
            i += 1
            continue
        if c == ")":
            group = stack.pop() if len(stack) > 1 else 0
            stack[-1] += group
            last = group
            i += 1
            continue
        if c == "{":
            m = _REPEAT.match(pattern, i)
            if m is not None and (m.group(1) or m.group(2)):
                low = int(m.group(1) or "0")
                stack[-1] += last * max(low - 1, 0)
                last = last * max(low, 1)
                i = m.end()
                continue
        stack[-1] += 1
        last = 1
        i += 1
    return sum(stack)


def search(pattern: str, text: str, *, timeout_ms: int = MATCH_TIMEOUT_MS) -> bool:
    """True when ``pattern`` matches somewhere in ``text`` (``re.search`` semantics).

    Raises :class:`RegexPatternError` for an unusable pattern and :class:`RegexTimeout` when the
    search runs past ``timeout_ms``.
    """
    rx = compile_pattern(pattern)
    try:
        return rx.search(text, timeout=timeout_ms / 1000) is not None
    except TimeoutError:
        raise RegexTimeout(
            f"regular expression /{_short(pattern)}/ did not finish within {timeout_ms} ms "
            "(nested or overlapping quantifiers backtrack exponentially)"
        ) from None


def _short(pattern: str, limit: int = 60) -> str:
    return pattern if len(pattern) <= limit else pattern[:limit] + "…"
