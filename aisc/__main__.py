"""``python -m aisc``."""

from aisc.cli import entry

entry()
