"""Front end: YAML 1.2 / JSON files → positioned nodes → typed IR documents.

Entry points: :func:`load_file`, :func:`load_text`, :func:`load_paths`, :class:`LoadedDocument`,
:func:`span_at`. Every problem is a Diagnostic (``AISC-LOAD-NNN`` here, ``AISC-SCHEMA-NNN`` from the
strict codec in :mod:`aisc.ir.codec`); nothing raises on bad input.

May import: aisc.ir, aisc.diagnostics, aisc.numeric (and PyYAML's libyaml parser, lazily).
"""

from aisc.frontend.loader import (
    KINDS,
    SUPPORTED_SCHEMAS,
    LoadedDocument,
    collect_paths,
    load_file,
    load_paths,
    load_text,
    parse_data,
    span_at,
    suffix_kind,
)

__all__ = [
    "KINDS",
    "SUPPORTED_SCHEMAS",
    "LoadedDocument",
    "collect_paths",
    "load_file",
    "load_paths",
    "load_text",
    "parse_data",
    "span_at",
    "suffix_kind",
]
