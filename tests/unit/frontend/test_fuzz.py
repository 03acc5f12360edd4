"""Fuzz: >= 10,000 generated/mutated inputs → no uncaught exception, no hang (per-input time bound).

Inputs: truncated and byte-flipped example files (YAML and JSON), random text rich in YAML syntax,
deep nesting, huge numbers, anchors and alias bombs, and random bytes read from disk.
"""

from __future__ import annotations

import glob
import pathlib
import random
import signal
import time
from collections.abc import Iterator
from typing import Any

from aisc.frontend import load_file, load_text
from aisc.passes.protocol_semantics import check_protocol

EX = "/work/shared/ais/examples"
TEXTS = [(p, pathlib.Path(p).read_text()) for p in sorted(glob.glob(f"{EX}/*.yaml") + glob.glob(f"{EX}/*/*.json"))]
PER_INPUT_SECONDS = 2.0
ALPHABET = " \n\t:-[]{},&*!|>'\"#%@`?~.0123456789eExyzabc_/\\\u00e9\u2028\ufeff"


class Hang(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Hang()


def generated(rng: random.Random) -> Iterator[tuple[str, str]]:
    for _ in range(3000):
        path, text = rng.choice(TEXTS)
        yield text[: rng.randrange(len(text) + 1)], path
    for _ in range(3000):
        path, text = rng.choice(TEXTS)
        chars = list(text)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(chars))
            chars[i] = rng.choice(ALPHABET)
        yield "".join(chars), path
    for i in range(2000):
        n = rng.randint(0, 200)
        yield "".join(rng.choice(ALPHABET) for _ in range(n)), ("x.ais.yaml" if i % 2 else "x.json")
    for i in range(1000):
        kind = i % 8
        depth = rng.randint(50, 5000)
        if kind == 0:
            yield "a: " + "[" * depth + "]" * depth, "d.ais.yaml"
        elif kind == 1:
            yield "[" * depth + "]" * depth, "d.json"
        elif kind == 2:
            yield "a:\n" + "".join(" " * (2 * k) + f"k{k}:\n" for k in range(min(depth, 400))), "d.ais.yaml"
        elif kind == 3:
            digits = "9" * rng.randint(1, 20000)
            yield rng.choice([f"v: {digits}\n", f"v: {digits}.5\n", f"v: 1e{digits[:7]}\n", f'{{"v": {digits}}}']), \
                rng.choice(["n.yaml", "n.json"])
        elif kind == 4:
            fan = rng.randint(2, 30)
            lines = [f"l0: &l0 [{','.join(['x'] * fan)}]"]
            for k in range(1, rng.randint(2, 12)):
                lines.append(f"l{k}: &l{k} [{','.join([f'*l{k - 1}'] * fan)}]")
            yield "\n".join(lines) + "\n", "bomb.ais.yaml"
        elif kind == 5:
            yield f"a: &a [1, *a]\nb: &b {{k: *b}}\n{'c: *zz' if i % 3 else ''}", "rec.ais.yaml"
        elif kind == 6:
            yield '{"schema": "ais/0.0.2", "a": ' + '{"b": ' * depth + "1" + "}" * depth + "}", "d.ais.json"
        else:
            yield "- " * min(depth, 3000) + "x\n", "seq.ais.yaml"


def _run(text: str, file: str) -> None:
    doc = load_text(text, file)
    if doc.kind == "protocol" and doc.document is not None:
        check_protocol(doc.document)
    for d in doc.diagnostics:
        assert d.code.startswith(("AISC-LOAD-", "AISC-SCHEMA-")), d


def test_fuzz_no_exceptions_no_hangs(tmp_path: pathlib.Path) -> None:
    rng = random.Random(20240601)
    old = signal.signal(signal.SIGALRM, _alarm)
    count = 0
    worst = 0.0
    try:
        for text, file in generated(rng):
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, PER_INPUT_SECONDS)
            try:
                _run(text, file)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            worst = max(worst, time.perf_counter() - t0)
            count += 1
        for k in range(1000):
            p = tmp_path / f"r{k}.ais.yaml"
            p.write_bytes(rng.randbytes(rng.randint(0, 300)))
            signal.setitimer(signal.ITIMER_REAL, PER_INPUT_SECONDS)
            try:
                doc = load_file(p)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            assert all(d.code.startswith(("AISC-LOAD-", "AISC-SCHEMA-")) for d in doc.diagnostics)
            count += 1
    finally:
        signal.signal(signal.SIGALRM, old)
    assert count >= 10_000
    assert worst < PER_INPUT_SECONDS
