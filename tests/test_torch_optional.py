"""PyTorch stays optional: without it the conversions say how to get it. No torch needed."""

from __future__ import annotations

import sys

import pytest

import nn


@pytest.mark.usefixtures("no_torch")
def test_without_pytorch_the_conversions_name_the_install_command() -> None:
    install = f"install it with: {sys.executable} -m pip install torch"
    with pytest.raises(ImportError, match=r"nn\.to_torch needs PyTorch, which is not") as e:
        nn.to_torch(nn.MLP(4, [3, 2, 1]))
    assert install in str(e.value)
    with pytest.raises(ImportError, match=r"nn\.from_torch needs PyTorch") as e:
        nn.from_torch(object())
    assert install in str(e.value)


def test_to_torch_takes_a_chainrule_model() -> None:
    with pytest.raises(TypeError, match=r"model must be an nn\.MLP, got list"):
        nn.to_torch([1.0, 2.0])  # type: ignore[arg-type]
