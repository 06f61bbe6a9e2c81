"""Shared test set-up: the ``needs_dot`` marker and the ``dot`` fixture.

A test that runs Graphviz's ``dot`` asks for the ``dot`` fixture and is marked
``needs_dot`` automatically, so ``pytest -m "not needs_dot"`` leaves it out. Without
``dot`` on PATH such a test is skipped with the reason, except under CI (``CI=true``),
where a missing ``dot`` is a failure: CI must never pass by skipping the pictures.
"""

from __future__ import annotations

import shutil

import pytest
from oracles import on_ci


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "dot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.needs_dot)


@pytest.fixture
def dot() -> str:
    """The path of Graphviz's ``dot``; skips the test without it (fails it under CI)."""
    path = shutil.which("dot")
    if path is None:
        reason = "Graphviz's dot is not on PATH (install graphviz to run this test)"
        if on_ci():
            pytest.fail(f"{reason}; CI must run every test that renders", pytrace=False)
        pytest.skip(reason)
    return path
