"""One ``__repr__`` for aisc's attrs classes.

attrs writes and compiles a ``__repr__`` for every class it builds, which is about a third of the cost
of building the class; with ~150 classes that is ~20 ms of every cold start. aisc's classes are
therefore declared with ``repr=False``, and each module that declares some ends with
``install_reprs(__name__)``, which gives them this shared one: the same ``Name(field=value, ...)``
text attrs would print (fields declared ``repr=False`` left out), worked out when it is called.
Bottom layer: imports only attrs.
"""

from __future__ import annotations

import sys
from typing import Any

import attrs

__all__ = ["attrs_repr", "install_reprs"]


def attrs_repr(self: Any) -> str:
    """``ClassName(a=1, b='x')`` over the fields whose ``repr`` is not false."""
    parts = []
    for a in attrs.fields(type(self)):
        if a.repr is False:
            continue
        value = getattr(self, a.name, None)
        text = a.repr(value) if callable(a.repr) else repr(value)
        parts.append(f"{a.name}={text}")
    return f"{type(self).__qualname__}({', '.join(parts)})"


def install_reprs(module: str) -> None:
    """Give every attrs class defined at the top of ``module`` that has no ``__repr__`` of its own
    :func:`attrs_repr`."""
    for obj in list(vars(sys.modules[module]).values()):
        if (isinstance(obj, type) and obj.__module__ == module and attrs.has(obj)
                and obj.__repr__ is object.__repr__):
            obj.__repr__ = attrs_repr  # type: ignore[method-assign]
