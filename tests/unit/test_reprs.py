"""aisc's attrs classes share one lazily built ``__repr__`` (aisc.reprs)."""

from __future__ import annotations

import importlib
import pkgutil

import attrs

import aisc
from aisc.diagnostics import Span
from aisc.ir.execution import AbiParam
from aisc.reprs import attrs_repr, install_reprs


def test_repr_reads_like_attrs_own() -> None:
    p = AbiParam(name="amount", type="uint256")
    # the span field is declared repr=False: left out, as attrs would
    assert repr(p) == "AbiParam(name='amount', type='uint256', components=None)"
    assert repr(Span("f.yaml", 1, 2, 3, 4)) == "Span(file='f.yaml', line=1, col=2, end_line=3, end_col=4)"


def test_custom_field_repr_and_nested_values() -> None:
    @attrs.frozen(repr=False)
    class Inner:
        x: int

    @attrs.frozen(repr=False)
    class Outer:
        inner: Inner
        secret: str = attrs.field(repr=lambda v: "***")

    Inner.__repr__ = attrs_repr  # type: ignore[method-assign]
    Outer.__repr__ = attrs_repr  # type: ignore[method-assign]
    assert repr(Outer(Inner(1), "k")) == "test_custom_field_repr_and_nested_values.<locals>.Outer(inner=test_custom_field_repr_and_nested_values.<locals>.Inner(x=1), secret=***)"


def test_every_aisc_attrs_class_has_a_readable_repr() -> None:
    """No class is left with object's ``<… object at 0x…>``: a module that declares attrs classes
    with repr=False must call install_reprs(__name__)."""
    missing = []
    for info in pkgutil.walk_packages(aisc.__path__, "aisc."):
        if info.name.endswith("__main__"):
            continue
        try:
            mod = importlib.import_module(info.name)
        except Exception:  # a module with optional dependencies; covered by its own tests
            continue
        for obj in vars(mod).values():
            if isinstance(obj, type) and obj.__module__ == info.name and attrs.has(obj) \
                    and obj.__repr__ is object.__repr__:
                missing.append(f"{info.name}.{obj.__qualname__}")
    assert missing == []


def test_install_leaves_own_reprs_alone() -> None:
    import sys
    import types

    mod = types.ModuleType("tests_fake_reprs")

    @attrs.frozen(repr=False)
    class Plain:
        a: int

    @attrs.frozen(repr=False)
    class Own:
        a: int

        def __repr__(self) -> str:
            return "mine"

    for cls in (Plain, Own):
        cls.__module__ = mod.__name__
        setattr(mod, cls.__name__, cls)
    sys.modules[mod.__name__] = mod
    try:
        install_reprs(mod.__name__)
    finally:
        del sys.modules[mod.__name__]
    assert repr(Own(1)) == "mine"
    assert repr(Plain(2)).endswith("Plain(a=2)")
