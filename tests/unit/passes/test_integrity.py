"""``imports.protocols[].integrity`` (SRI-style sha256/384/512 of the imported file's bytes)."""

from __future__ import annotations

import base64
import hashlib
import shutil
from pathlib import Path

import pytest

from aisc.compiler import Compilation
from aisc.passes.integrity import check_import_integrity, parse_integrity, sri

WS = Path(__file__).resolve().parents[2] / "golden" / "workspace"
PROTO = WS / "protocols" / "demo.ais.yaml"
DATA = PROTO.read_bytes()


def _b64(alg: str, data: bytes = DATA) -> str:
    return f"{alg}-" + base64.b64encode(hashlib.new(alg, data).digest()).decode()


def _check(tmp_path: Path, integrity: str | None) -> list[tuple[str, int | None]]:
    ws = tmp_path / "ws"
    shutil.copytree(WS, ws)
    flow = ws / "flows" / "pay.ais-flow.yaml"
    text = flow.read_text()
    if integrity is not None:
        text = text.replace('path: "../protocols/demo.ais.yaml" }',
                            f'path: "../protocols/demo.ais.yaml", integrity: "{integrity}" }}')
    flow.write_text(text)
    w = Compilation(flow, workspace=ws).workspace
    found = check_import_integrity(w.workflow, {i.index: i.resolved for i in w.imports})
    for d in found:
        assert d.path == "$.imports.protocols[0].integrity" and d.hint
    return [(d.code, d.span.line if d.span else None) for d in found]


@pytest.mark.parametrize("value", [
    _b64("sha256"), _b64("sha384"), _b64("sha512"),
    f"{_b64('sha256', b'other')} {_b64('sha512')}",  # only the strongest algorithm counts
    f"{_b64('sha512', b'other')} {_b64('sha512')}",  # one match among the strongest is enough
], ids=["sha256", "sha384", "sha512", "strongest_wins", "any_of_strongest"])
def test_integrity_matches(tmp_path: Path, value: str) -> None:
    assert _check(tmp_path, value) == []


def test_no_integrity_is_not_checked(tmp_path: Path) -> None:
    assert _check(tmp_path, None) == []


@pytest.mark.parametrize(("value", "code"), [
    (_b64("sha256", DATA + b"\n"), "AISC-WS-041"),
    (f"{_b64('sha256')} {_b64('sha384', b'x')}", "AISC-WS-041"),
    ("md5-" + base64.b64encode(hashlib.md5(DATA).digest()).decode(), "AISC-WS-040"),
    ("sha256-" + hashlib.sha256(DATA).hexdigest(), "AISC-WS-040"),
    ("sha256-AAAA", "AISC-WS-040"),
    ("sha256-!!!!", "AISC-WS-040"),
    ("", "AISC-WS-040"),
    ("sha256=" + _b64("sha256")[7:], "AISC-WS-040"),
], ids=["changed_file", "weaker_ok_stronger_bad", "md5", "hex_not_base64", "wrong_length", "bad_chars", "empty",
        "wrong_separator"])
def test_integrity_errors_point_at_the_value(tmp_path: Path, value: str, code: str) -> None:
    assert _check(tmp_path, value) == [(code, 10)]


def test_mismatch_message_shows_both_digests(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(WS, ws)
    flow = ws / "flows" / "pay.ais-flow.yaml"
    pinned = _b64("sha256", b"old")
    flow.write_text(flow.read_text().replace('path: "../protocols/demo.ais.yaml" }',
                                             f'path: "../protocols/demo.ais.yaml", integrity: "{pinned}" }}'))
    w = Compilation(flow, workspace=ws).workspace
    (d,) = check_import_integrity(w.workflow, {i.index: i.resolved for i in w.imports})
    assert pinned in d.message and _b64("sha256") in d.message and "demo-pay@0.0.1" in d.message


def test_sri_helper_and_parser() -> None:
    assert sri(b"abc") == "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    assert parse_integrity(sri(b"abc", "sha384")) == [("sha384", hashlib.sha384(b"abc").digest())]
