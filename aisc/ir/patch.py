"""RuntimePatch (R290): ``{op: set|merge, path: non-empty string, value: any JSON, extensions?}``.

The runtime decodes patches from plain JSON with :func:`aisc.ir.codec.structure_plain`
(``structure_plain("runtime_patch", obj)``), which never touches the document front end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from aisc.diagnostics import Span
from aisc.reprs import install_reprs

PATCH_OPS = ("set", "merge")


@attrs.frozen(slots=True, kw_only=True, repr=False)
class RuntimePatch:
    op: str
    path: str
    value: Any = None
    has_value: bool = False
    extensions: Mapping[str, Any] | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


install_reprs(__name__)
