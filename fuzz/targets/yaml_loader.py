"""The YAML/JSON loader and the strict codec: ``aisc.frontend.load_text``.

Input: byte 0 picks the file name (its suffix decides YAML vs JSON and the expected kind), the rest
is the document text (invalid UTF-8 replaced, NUL removed: ``load_file`` rejects those before
``load_text`` sees the text).

Oracle: ``load_text`` never raises (every problem is a Diagnostic); every diagnostic has a stable
``AISC-<AREA>-<NNN>`` code, a non-empty message and, when it has a span, a span inside the text;
a document that loaded with no error and has a typed kind has a typed IR; the three renderers
accept the diagnostics.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from aisc.diagnostics import render
from aisc.frontend import load_text
from aisc.frontend.loader import STRUCTURED_KINDS
from fuzz.oracle import OracleViolation, text_of

NAME = "yaml"
ALLOWED: tuple[type[BaseException], ...] = ()
MODULES = ("aisc.frontend.loader", "aisc.frontend.yaml_reader", "aisc.frontend.json_reader",
           "aisc.frontend.scalars", "aisc.ir.codec")
INSTRUMENT = ("aisc", "yaml")

FILES = (
    "doc.ais.yaml", "doc.ais-flow.yaml", "doc.ais-pack.yaml", "doc.yaml", "doc.ais.json",
    "doc.ais-flow.json", "doc.json", "doc.ais-plan-skeleton.yaml",
)
_CODE = re.compile(r"^AISC-[A-Z]+-[0-9]{3}$")
# libyaml (YAML 1.1) also breaks lines at NEL, LS and PS; a lone CR is a break in YAML 1.2 too.
_BREAKS = re.compile("\r\n|\r|\n|\x85|\u2028|\u2029")

DICTIONARY = (
    "schema", "ais/0.0.2", "ais-flow/0.0.3", "ais-pack/0.0.2", "ais-plan-skeleton/0.0.1", "meta",
    "protocol", "actions", "queries", "execution", "params", "type", "evm_call", "evm_read",
    "solana_instruction", "composite", "abi", "args", "cel", "ref", "lit", "detect", "nodes", "deps",
    "inputs", "chain", "eip155:1", "uint256", "address", "&a ", "*a", "<<: ", "!!str ", "!!map",
    "!!binary", "? ", "- ", ": ", "---\n", "...\n", "{", "}", "[", "]", "\"", "'", "|\n", ">-\n", "%YAML 1.2\n",
    "1.5", "0x10", "1e3", "true", "null", "~", "\\u0000", "\t", "\r\n",
)


def _data_dir() -> Path:
    import aisc

    return Path(aisc.__file__).parent / "data"


def seeds() -> Iterator[bytes]:
    """The bundled example documents, each with a matching file selector byte."""
    base = _data_dir()
    for p in sorted(base.rglob("*")):
        if p.suffix not in (".yaml", ".yml", ".json") or not p.is_file() or p.stat().st_size > 64_000:
            continue
        name = p.name
        sel = 6 if name.endswith(".json") else 3
        for i, f in enumerate(FILES):
            if name.endswith(f[3:]):
                sel = i
        yield bytes([sel]) + p.read_bytes()
    yield b"\x00schema: ais/0.0.2\nmeta: {protocol: p, version: 0.0.1}\n"
    yield b"\x06{\"schema\": \"ais/0.0.2\", \"a\": [1, 2.5, {\"b\": null}]}"


def test_one(data: bytes) -> None:
    if not data:
        return
    file = FILES[data[0] % len(FILES)]
    text = text_of(data[1:]).replace("\x00", "")
    doc = load_text(text, file)
    lines = _BREAKS.split(text)
    for d in doc.diagnostics:
        if not _CODE.match(d.code):
            raise OracleViolation(f"unstable diagnostic code {d.code!r}: {d.message}")
        if not d.message:
            raise OracleViolation(f"{d.code}: empty message")
        s = d.span
        if s is not None:
            if s.file != file or s.line < 1 or s.col < 1 or (s.end_line, s.end_col) < (s.line, s.col):
                raise OracleViolation(f"{d.code}: bad span {s!r}")
            if s.line > len(lines) + 1:
                raise OracleViolation(f"{d.code}: span line {s.line} past the end ({len(lines)} lines)")
    if doc.ok and doc.kind in STRUCTURED_KINDS and doc.document is None:
        raise OracleViolation(f"{file}: loaded without errors as {doc.kind} but has no typed document")
    for fmt in ("text", "json", "sarif"):
        render(doc.diagnostics, fmt)
