"""Test helpers shipped with the runtime: engine-event schema validation.

``validate_event(record)`` checks one record (a dict, or one JSON line) against the
``ais-engine-event/0.0.3`` JSON schema. A dict is first serialized with the ais-json codec and
parsed back, so what is validated is exactly what a JSONL consumer would read. The schema is
loaded from ``aisc/data/schemas/engine-event.schema.json`` when the package ships it, else from the
shared spec checkout. Needs ``jsonschema`` (a dev dependency).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

_SHARED = Path("/work/shared/ais/schemas/0.0.2/engine-event.schema.json")


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema  # type: ignore[import-untyped]

    packaged = Path(__file__).resolve().parents[1] / "data" / "schemas" / "engine-event.schema.json"
    path = packaged if packaged.is_file() else _SHARED
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_event(record: Mapping[str, Any] | str) -> dict[str, Any]:
    """Raise ``AssertionError`` listing every schema violation; return the parsed JSON record."""
    from aisc.runtime.events import dumps_record

    line = record if isinstance(record, str) else dumps_record(record)
    parsed = json.loads(line)
    errors = sorted(_validator().iter_errors(parsed), key=lambda e: list(e.absolute_path))
    if errors:
        msgs = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors)
        raise AssertionError(f"engine event does not match the schema: {msgs}\n{line}")
    if not isinstance(parsed, dict):
        raise AssertionError("engine event is not a JSON object")
    return parsed
