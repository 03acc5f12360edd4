"""Import integrity: ``imports.protocols[].integrity`` checked against the imported file's bytes.

Format (Subresource-Integrity style, docs/inputs.md §Integrity): ``<alg>-<base64 digest>`` with
``alg`` one of ``sha256``, ``sha384``, ``sha512`` and the standard base64 alphabet with padding,
of the digest of the file's raw bytes (as stored on disk, before any YAML parsing). Several
space-separated entries are allowed; as in SRI, only the strongest algorithm present counts, and one
matching entry of it is enough.

Codes: AISC-WS-040 malformed integrity value; AISC-WS-041 digest mismatch (or the file cannot be read).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from aisc.diagnostics import Diagnostic

ALGORITHMS: dict[str, int] = {"sha256": 32, "sha384": 48, "sha512": 64}
"""Accepted algorithms and their digest sizes in bytes, weakest first."""

_ENTRY = re.compile(r"^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$")


def sri(data: bytes, alg: str = "sha256") -> str:
    """The integrity string of ``data`` (``sha256-…``), for tooling and docs."""
    return f"{alg}-" + base64.b64encode(hashlib.new(alg, data).digest()).decode("ascii")


def parse_integrity(text: str) -> list[tuple[str, bytes]] | str:
    """``[(alg, digest), ...]``, or an error message when ``text`` is malformed."""
    entries = text.split()
    if not entries:
        return "the integrity value is empty"
    out: list[tuple[str, bytes]] = []
    for e in entries:
        m = _ENTRY.match(e)
        if m is None:
            return f"{e!r} is not <alg>-<base64> with alg sha256, sha384 or sha512"
        alg, b64 = m.group(1), m.group(2)
        try:
            digest = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            return f"{e!r}: the digest is not valid base64"
        if len(digest) != ALGORITHMS[alg]:
            return f"{e!r}: a {alg} digest is {ALGORITHMS[alg]} bytes, this one decodes to {len(digest)}"
        out.append((alg, digest))
    return out


def check_import_integrity(workflow_doc: Any, resolved_paths: Mapping[int, str | None]) -> list[Diagnostic]:
    """Check every ``imports.protocols[i].integrity`` against the file ``resolved_paths[i]``.

    ``workflow_doc`` is the workflow's :class:`~aisc.passes.model.Doc` (anything with ``raw`` and
    ``span(path)``). Imports without ``integrity``, or not resolved (reported elsewhere), are skipped.
    """
    raw = getattr(workflow_doc, "raw", None)
    imports = raw.get("imports") if isinstance(raw, dict) else None
    protos = imports.get("protocols") if isinstance(imports, dict) else None
    if not isinstance(protos, list):
        return []
    out: list[Diagnostic] = []
    for i, imp in enumerate(protos):
        if not isinstance(imp, dict) or "integrity" not in imp:
            continue
        value = imp.get("integrity")
        path = f"$.imports.protocols[{i}].integrity"
        span = workflow_doc.span(path) if hasattr(workflow_doc, "span") else None
        name = imp.get("protocol", f"import {i}")
        parsed = parse_integrity(value) if isinstance(value, str) else "the integrity value must be a string"
        if isinstance(parsed, str):
            out.append(Diagnostic("AISC-WS-040", f"malformed integrity for {name}: {parsed}", path=path, span=span,
                                  hint="write sha256-<base64 of the sha256 of the file bytes>, e.g. the output of "
                                  "'openssl dgst -sha256 -binary FILE | openssl base64 -A'"))
            continue
        target = resolved_paths.get(i)
        if target is None:
            continue
        try:
            with open(target, "rb") as fh:
                data = fh.read()
        except OSError as e:
            out.append(Diagnostic("AISC-WS-041", f"cannot read {target} to check the integrity of {name}: "
                                  f"{e.strerror}", path=path, span=span, hint="check the import path"))
            continue
        strongest = max((alg for alg, _ in parsed), key=lambda a: ALGORITHMS[a])
        wanted = [d for alg, d in parsed if alg == strongest]
        actual = hashlib.new(strongest, data).digest()
        if actual not in wanted:
            out.append(Diagnostic(
                "AISC-WS-041",
                f"integrity mismatch for {name}: {imp.get('path')} has {strongest}-"
                f"{base64.b64encode(actual).decode('ascii')}, the import pins "
                + " ".join(f"{strongest}-{base64.b64encode(d).decode('ascii')}" for d in wanted),
                path=path, span=span,
                hint="the imported file changed since it was pinned: review the change, then update the "
                "integrity value (or restore the pinned file)"))
    return out
