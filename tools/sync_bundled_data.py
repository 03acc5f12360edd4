#!/usr/bin/env python3
"""Copy the repo's conformance suites into the package, so a built wheel ships them.

    python tools/sync_bundled_data.py          # make aisc/data/conformance equal to conformance/
    python tools/sync_bundled_data.py --check  # exit 1 (listing the differences) if they differ

Source of truth: the top-level ``conformance/`` folder (``upstream/`` and ``aisc/``). The copy in
``aisc/data/conformance`` is what ``aisc conformance`` runs without arguments. Only ``*.json``,
``*.yaml`` and ``*.md`` files are copied (the package data globs); anything else is ignored.

The upstream AIS examples (``../shared/ais/examples``) are copied the same way to
``aisc/data/examples`` (what ``aisc compile --example NAME`` compiles). When that source folder is
not present (e.g. a CI checkout without the shared spec tree) the examples pair is skipped.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "conformance"
TARGET = REPO / "aisc" / "data" / "conformance"
SUFFIXES = (".json", ".yaml", ".md")
EXAMPLES_SOURCE = REPO.parent / "shared" / "ais" / "examples"
EXAMPLES_TARGET = REPO / "aisc" / "data" / "examples"


def tree(root: Path) -> dict[str, bytes]:
    """relative posix path -> content, for the data files under ``root``."""
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in SUFFIXES and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def differences(source: Path = SOURCE, target: Path = TARGET) -> list[str]:
    """Human-readable differences between the two trees (empty when in sync)."""
    a, b = tree(source), tree(target)
    out = [f"missing in the package copy: {k}" for k in sorted(a.keys() - b.keys())]
    out += [f"only in the package copy: {k}" for k in sorted(b.keys() - a.keys())]
    out += [f"differs: {k}" for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]
    return out


def sync(source: Path = SOURCE, target: Path = TARGET) -> list[str]:
    """Make ``target`` equal to ``source``; returns what changed."""
    changes = differences(source, target)
    if not changes:
        return []
    if target.exists():
        shutil.rmtree(target)
    for rel, data in tree(source).items():
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    return changes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="only compare; exit 1 when the trees differ")
    args = p.parse_args(argv)
    if not SOURCE.is_dir():
        print(f"sync_bundled_data: {SOURCE} not found", file=sys.stderr)
        return 2
    pairs = [(SOURCE, TARGET)]
    if EXAMPLES_SOURCE.is_dir():
        pairs.append((EXAMPLES_SOURCE, EXAMPLES_TARGET))
    if args.check:
        stale = False
        for src, dst in pairs:
            diffs = differences(src, dst)
            for d in diffs:
                print(f"{dst.relative_to(REPO)}: {d}")
            stale = stale or bool(diffs)
        if stale:
            print("bundled data is stale: run python tools/sync_bundled_data.py", file=sys.stderr)
            return 1
        print("bundled data is in sync")
        return 0
    for src, dst in pairs:
        changes = sync(src, dst)
        for c in changes:
            print(c)
        print(f"synced {src} -> {dst.relative_to(REPO)} ({len(changes)} change(s))")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
