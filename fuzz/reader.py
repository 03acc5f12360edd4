"""A tiny fuzzed-data reader (engine-independent stand-in for atheris.FuzzedDataProvider).

Reads past the end return zeros, so every input, however short, decodes to *something*.
"""

from __future__ import annotations


class Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            self.pos += 1
            return 0
        b = self.data[self.pos]
        self.pos += 1
        return b

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk + bytes(max(0, n - len(chunk)))

    def choice(self, options: tuple[str, ...]) -> str:
        return options[self.byte() % len(options)]

    def rest(self) -> bytes:
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk

    @property
    def exhausted(self) -> bool:
        return self.pos >= len(self.data)
