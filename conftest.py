"""The doctests of nn/convert.py show PyTorch at work, so they follow the oracle tests' rule:
skipped locally without torch (with the reason), run on CI, where a missing torch fails."""

from __future__ import annotations

import importlib.util

import pytest

from tests.oracles import INSTALL_HINT, on_ci


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if on_ci() or importlib.util.find_spec("torch") is not None:
        return
    for item in items:
        if isinstance(item, pytest.DoctestItem) and item.name.startswith("nn.convert"):
            item.add_marker(pytest.mark.skip(reason=INSTALL_HINT))
