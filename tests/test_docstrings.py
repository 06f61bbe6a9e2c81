"""Every public name of autograd, nn and viz shows itself at work: a runnable example
(``>>>``) in its docstring and in those of its public methods and properties. The
examples run as doctests in the suite."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

PACKAGES = ("autograd", "nn", "viz")
# Modules being rewritten by others as this is written; their names join when they land.
REWRITTEN = {"viz.explorer", "autograd.trace"}


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    """The public methods and properties ``cls`` defines itself (``__call__`` is shown
    by the class's own example, which calls it)."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            member = member.fget
        elif isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member):
            yield name, member


def _public() -> Iterator[tuple[str, Any]]:
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj) or getattr(obj, "__module__", "") in REWRITTEN:
                continue
            yield f"{package}.{name}", obj
            if inspect.isclass(obj):
                for member, function in _members(obj):
                    yield f"{package}.{name}.{member}", function


PUBLIC = dict(_public())


def test_the_check_sees_what_it_looks_for() -> None:
    assert "nn.MLP.zero_grad" in PUBLIC and "viz.ChainRule.agrees" in PUBLIC
    assert "autograd.Value.tanh" in PUBLIC and "nn.load_csv" in PUBLIC
    assert not any(name.startswith("viz.Explorer") for name in PUBLIC)


@pytest.mark.parametrize("name", list(PUBLIC))
def test_every_public_name_has_a_runnable_example(name: str) -> None:
    assert ">>>" in (inspect.getdoc(PUBLIC[name]) or ""), f"{name} has no >>> example"
