"""PyTorch, the independent oracle: one rule for every test that needs it.

Locally a missing torch skips those tests with the reason and the install command; on CI
(``CI=true``, which installs torch) a missing torch is an error, so the oracle can never
silently stop running.
"""

from __future__ import annotations

import os
from types import ModuleType

import pytest

INSTALL_HINT = "PyTorch is not installed; CHAINRULE_TORCH=1 ./run test installs it"


def on_ci() -> bool:
    """Whether the tests run on CI (``CI=true``), where a missing tool fails, never skips.

    The one reading of ``CI`` for every test that needs torch, ``dot`` or a browser.
    """
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_torch() -> ModuleType:
    """``import torch`` for a test module: skips it locally without torch, fails on CI."""
    if on_ci():
        import torch  # CI must run the oracle: a missing torch fails, never skips

        return torch
    return pytest.importorskip("torch", reason=INSTALL_HINT)
