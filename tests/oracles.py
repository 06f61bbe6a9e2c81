"""PyTorch, the independent oracle: one rule for every test that needs it.

Locally a missing torch skips those tests with the reason and the install command; on CI
(``CI=true``, which installs torch) a missing torch is an error, so the oracle can never
silently stop running. A skip names what it leaves out, and pytest reports it at the line
of the test that asked, not here.
"""

from __future__ import annotations

import os
from types import ModuleType

import pytest


def skip_reason(what: str) -> str:
    """Why ``what`` is skipped without PyTorch, and how to run it.

    >>> skip_reason("notebook 05-one-network-three-ways")
    'notebook 05-one-network-three-ways needs PyTorch, which is not installed; CHAINRULE_TORCH=1 ./run test installs it'
    """  # noqa: E501
    return f"{what} needs PyTorch, which is not installed; CHAINRULE_TORCH=1 ./run test installs it"


def on_ci() -> bool:
    """Whether the tests run on CI (``CI=true``), where a missing tool fails, never skips.

    The one reading of ``CI`` for every test that needs torch, ``dot`` or a browser.
    """
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_torch(what: str) -> ModuleType:
    """``import torch`` for a test or a test module: skips locally without torch, fails on CI.

    ``what`` names what the skip leaves out (``"notebook 05-..."``, ``"the PyTorch oracle
    tests"``); the skip is reported at the caller's line.
    """
    __tracebackhide__ = True  # pytest reports the skip where require_torch was called
    if on_ci():
        import torch  # CI must run the oracle: a missing torch fails, never skips

        return torch
    return pytest.importorskip("torch", reason=skip_reason(what))
