"""The tools some doctests need. The doctests of nn/convert.py show PyTorch at work, so
they follow the oracle tests' rule (skipped locally without torch, with the reason; run on
CI, where a missing torch fails); the ``no_torch`` fixture shows what users without it
see. A doctest that draws a picture with Graphviz is marked ``needs_dot`` and follows the
``dot`` fixture's rule in the same way."""

from __future__ import annotations

import importlib.util
import shutil
import sys

import pytest

from tests.oracles import on_ci, skip_reason

# What an example calls when it runs Graphviz's dot: rendering, piping, writing frames.
_RUNS_DOT = (".pipe(", ".render(", "write_frames(", "write_gif(", "_repr_html_(", "explorer(")


def _runs_dot(item: pytest.DoctestItem) -> bool:
    examples = item.dtest.examples if item.dtest is not None else []
    return any(call in example.source for example in examples for call in _RUNS_DOT)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    without_torch = not on_ci() and importlib.util.find_spec("torch") is None
    without_dot = not on_ci() and shutil.which("dot") is None
    for item in items:
        if not isinstance(item, pytest.DoctestItem):
            continue
        if without_torch and item.name.startswith("nn.convert"):
            item.add_marker(pytest.mark.skip(reason=skip_reason(f"the doctest {item.name}")))
        if _runs_dot(item):
            item.add_marker(pytest.mark.needs_dot)
            if without_dot:
                reason = f"the doctest {item.name} runs Graphviz's dot, which is not on PATH"
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def no_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import torch`` fails, as where PyTorch is not installed."""
    monkeypatch.setitem(sys.modules, "torch", None)
