"""``$``-paths of document nodes: keys that are identifiers are dotted, others quoted; every path
parses back to its keys."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from aisc.ir.codec import parse_path, path_key

ASCII_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def test_identifiers_dotted_others_quoted() -> None:
    assert path_key("$", "swap") == "$.swap"
    assert path_key("$.a", "_b9") == "$.a._b9"
    assert path_key("$", "eip155:1") == '$["eip155:1"]'
    assert path_key("$", "9lives") == '$["9lives"]'
    assert path_key("$", 'say "hi"') == '$["say \\"hi\\""]'
    assert path_key("$", "") == '$[""]'


def test_non_ascii_and_trailing_newline_keys_are_quoted() -> None:
    # Python identifiers may be non-ASCII; AIS paths dot only ASCII ones
    assert path_key("$", "café") == '$["café"]'
    # a regex anchored with $ would accept "a\n" as an identifier and give an unparseable path
    assert path_key("$", "a\n") == '$["a\n"]'
    assert parse_path(path_key("$", "a\n")) == ["a\n"]


@given(st.lists(st.text(max_size=8), min_size=1, max_size=4))
def test_paths_parse_back_to_their_keys(keys: list[str]) -> None:
    p = "$"
    for k in keys:
        p = path_key(p, k)
    assert parse_path(p) == keys


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=6))
def test_dotted_exactly_for_ascii_identifiers(key: str) -> None:
    dotted = path_key("$", key) == f"$.{key}"
    assert dotted == (ASCII_IDENT.fullmatch(key) is not None)
