"""PyTorch in the tests: the doctests of nn/convert.py show it at work, so they follow the
oracle tests' rule (skipped locally without torch, with the reason; run on CI, where a
missing torch fails); the ``no_torch`` fixture shows what users without it see."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.oracles import on_ci, skip_reason


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if on_ci() or importlib.util.find_spec("torch") is not None:
        return
    for item in items:
        if isinstance(item, pytest.DoctestItem) and item.name.startswith("nn.convert"):
            item.add_marker(pytest.mark.skip(reason=skip_reason(f"the doctest {item.name}")))


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import torch`` fails, as where PyTorch is not installed."""
    monkeypatch.setitem(sys.modules, "torch", None)
