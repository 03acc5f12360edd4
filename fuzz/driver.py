"""atheris entry point: ``python -m fuzz.driver TARGET [libFuzzer flags] [corpus dirs]``.

Imports the target (and the lazily imported modules it reaches) under atheris instrumentation, so
libFuzzer sees line/branch coverage of aisc and of the parsers underneath (libyaml's Python side,
lark, eth-abi). Normally started by ``fuzz/run.py``.
"""

from __future__ import annotations

import importlib
import sys

import atheris  # type: ignore[import-not-found, import-untyped, unused-ignore]

from fuzz.targets import TARGETS


def mod_instrument(name: str) -> tuple[str, ...]:
    """Packages to instrument for ``name``: aisc and the parser it drives (not eth-abi: its
    type-string parser is slow enough instrumented to trip the 2 s hang limit on a busy machine)."""
    return {"yaml": ("aisc", "yaml"), "cel": ("aisc", "lark")}.get(name, ("aisc",))


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: python -m fuzz.driver {{{','.join(TARGETS)}}} [libFuzzer flags]")
    name = sys.argv[1]
    with atheris.instrument_imports(include=list(mod_instrument(name))):
        mod = importlib.import_module(TARGETS[name])
        for m in mod.MODULES:
            importlib.import_module(m)
    atheris.Setup([sys.argv[0], *sys.argv[2:]], mod.test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
