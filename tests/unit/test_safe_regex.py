"""aisc.safe_regex: document-provided regular expressions with bounded cost, and its three users
(CEL matches(), a parameter's constraints.pattern, the patch guard's path patterns)."""

from __future__ import annotations

import time

import pytest

from aisc import safe_regex
from aisc.eval import CelEvalError, evaluate_cel
from aisc.ir.values import validate_value
from aisc.runtime.patch import GuardPolicy, check_path_allowed

REDOS = ("^(a|a)*$", "a" * 40 + "!")  # exponential backtracking: hours with Python's re

# ------------------------------------------------------------------ the helper

SEARCH_OK: list[tuple[str, str, str, bool]] = [
    ("search-not-fullmatch", "ell", "hello", True),
    ("anchored", "^ell", "hello", False),
    ("hex-address", "^0x[0-9a-fA-F]{40}$", "0x" + "ab" * 20, True),
    ("uuid", "^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$",
     "123e4567-e89b-12d3-a456-426614174000", True),
    ("nested-plus-no-blowup", "^(a+)+$", "a" * 30 + "!", False),
    ("repeat-range-not-unrolled", "^a{0,100000}$", "a" * 50, True),
    ("at-the-expansion-limit", "a{10000}", "a" * 10000, True),
    ("at-the-length-limit", "a" * safe_regex.MAX_PATTERN_LENGTH, "a" * 1000, True),
]


@pytest.mark.parametrize(("pattern", "text", "want"), [c[1:] for c in SEARCH_OK], ids=[c[0] for c in SEARCH_OK])
def test_search_keeps_re_semantics(pattern: str, text: str, want: bool) -> None:
    assert safe_regex.search(pattern, text) is want


PATTERN_ERRORS: list[tuple[str, str, str]] = [
    ("unbalanced", "(", "missing )"),
    ("too-long", "a" * (safe_regex.MAX_PATTERN_LENGTH + 1), "1001 characters long (at most 1000)"),
    ("huge-repeat", "a{1000000000}", "repeats too much"),
    ("nested-repeats", "(?:(?:a{1000}){1000}){1000}", "repeats too much"),
    ("repeat-of-a-group", "(?:ab){5001}", "repeats too much"),
    ("min-of-a-range-is-unrolled", "(?:a{300,}){300,}", "repeats too much"),
]


@pytest.mark.parametrize(("pattern", "message"), [c[1:] for c in PATTERN_ERRORS], ids=[c[0] for c in PATTERN_ERRORS])
def test_unusable_pattern_is_refused_before_matching(pattern: str, message: str) -> None:
    t0 = time.monotonic()
    with pytest.raises(safe_regex.RegexPatternError, match=message.replace("(", r"\(").replace(")", r"\)")):
        safe_regex.compile_pattern(pattern)
    assert time.monotonic() - t0 < 0.5


EXPANDED: list[tuple[str, int]] = [
    ("abc", 3),
    ("[a-z]{64}", 64),
    (r"\d{3}-\d{4}", 8),
    ("(?:ab){3}", 12),  # '?', ':', 'a', 'b' counted, times 3 (an over-estimate is fine)
    ("[{]{5}", 5),
    (r"\{99}", 4),  # an escaped brace is no repeat
    ("a{,5}", 1),
]


@pytest.mark.parametrize(("pattern", "size"), EXPANDED, ids=[c[0] for c in EXPANDED])
def test_expanded_size_estimate(pattern: str, size: int) -> None:
    assert safe_regex.expanded_size(pattern) == size


@pytest.mark.parametrize(("pattern", "text"), [REDOS, ("(x+x+)+y", "x" * 3000), (r"^(\w+\s?)*$", "a" * 5000 + "!")])
def test_catastrophic_backtracking_times_out(pattern: str, text: str) -> None:
    t0 = time.monotonic()
    with pytest.raises(safe_regex.RegexTimeout, match=f"did not finish within {safe_regex.MATCH_TIMEOUT_MS} ms"):
        safe_regex.search(pattern, text)
    assert time.monotonic() - t0 < 1.0


def test_non_string_pattern_is_refused() -> None:
    with pytest.raises(safe_regex.RegexPatternError, match="must be a string"):
        safe_regex.compile_pattern(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------ users

def test_cel_matches_times_out_with_a_cel_error() -> None:
    with pytest.raises(CelEvalError, match=r"matches\(\) timed out after 50 ms"):
        evaluate_cel(f"matches('{REDOS[1]}', '{REDOS[0]}')", {})


@pytest.mark.parametrize(("pattern", "message"), [("a{1000000000}", "repeats too much"),
                                                  ("x" * 1001, "at most 1000")])
def test_cel_matches_refuses_unusable_patterns(pattern: str, message: str) -> None:
    with pytest.raises(CelEvalError, match=rf"matches\(\) invalid regular expression: .*{message}"):
        evaluate_cel("matches(s, p)", {"s": "a", "p": pattern})


CONSTRAINT_CASES: list[tuple[str, str, str, list[str]]] = [
    ("matches", "^[a-z]+$", "abc", []),
    ("no-match", "^[a-z]+$", "ABC", ["AISC-INPUT-021"]),
    ("invalid", "(", "a", ["AISC-INPUT-023"]),
    ("too-long", "a" * 1001, "a", ["AISC-INPUT-023"]),
    ("redos-times-out", REDOS[0], REDOS[1], ["AISC-INPUT-023"]),
]


@pytest.mark.parametrize(("pattern", "value", "codes"), [c[1:] for c in CONSTRAINT_CASES],
                         ids=[c[0] for c in CONSTRAINT_CASES])
def test_param_constraint_pattern_is_bounded(pattern: str, value: str, codes: list[str]) -> None:
    problems = validate_value("string", value, chain_family=None, path="$.x", constraints={"pattern": pattern})
    assert [p.code for p in problems] == codes


GUARD_CASES: list[tuple[str, str, str | None]] = [
    ("allowed-by-pattern", "^params\\.fee$", None),
    ("redos-pattern-never-matches", REDOS[0], "not allowed"),
    ("invalid-pattern-never-matches", "(", "not allowed"),
    ("huge-repeat-never-matches", "a{1000000000}", "not allowed"),
]


@pytest.mark.parametrize(("pattern", "want"), [c[1:] for c in GUARD_CASES], ids=[c[0] for c in GUARD_CASES])
def test_patch_guard_pattern_fails_closed(pattern: str, want: str | None) -> None:
    path = "params.fee" if want is None else "params." + REDOS[1]
    reason = check_path_allowed(path, GuardPolicy(allow_path_patterns=(pattern,)))
    if want is None:
        assert reason is None
    else:
        assert reason is not None and want in reason
