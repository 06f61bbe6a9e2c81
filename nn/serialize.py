"""Save and load a model's parameters as JSON (never pickle: loading runs no code).

The file records the architecture, and loading checks it against the model it fills,
so weights never land in the wrong places silently.

>>> import tempfile, pathlib
>>> from nn.model import MLP
>>> path = pathlib.Path(tempfile.mkdtemp()) / "model.json"
>>> save_parameters(MLP(4, [3, 2, 1], seed=1), path)
>>> model = MLP(4, [3, 2, 1], seed=2)
>>> load_parameters(model, path)
>>> model.weight(1, 1, 1).data == MLP(4, [3, 2, 1], seed=1).weight(1, 1, 1).data
True
"""

from __future__ import annotations

import json
import math
import numbers
import os
from typing import Any

from nn.model import MLP

__all__ = ["save_parameters", "load_parameters", "load_model", "FORMAT"]

FORMAT = "chainrule-mlp-parameters"
VERSION = 1


def _architecture(model: MLP) -> dict[str, Any]:
    return {
        "sizes": list(model.sizes),
        "bias": model.has_bias,
        "activation": model.activation,
        "output_activation": model.output_activation,
    }


def save_parameters(model: MLP, path: str | os.PathLike[str]) -> None:
    """Write ``model``'s architecture and every parameter (by its label) to ``path``."""
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an nn.MLP, got {type(model).__name__}")
    document = {
        "format": FORMAT,
        "version": VERSION,
        **_architecture(model),
        "parameters": dict((label, p.data) for label, p in model.named_parameters()),
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=1)
        f.write("\n")


def load_parameters(model: MLP, path: str | os.PathLike[str]) -> None:
    """Set ``model``'s parameters from a file written by :func:`save_parameters`.

    Raises ValueError naming the problem when the file is not such a file, its
    architecture differs from ``model``'s, or a parameter is missing, extra or not a
    finite number. The model is changed only when the whole file is valid.
    """
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an nn.MLP, got {type(model).__name__}")
    _fill(model, _read(path), path)


def load_model(path: str | os.PathLike[str]) -> MLP:
    """A new MLP with the architecture and the parameters of a :func:`save_parameters` file.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.json"
    >>> save_parameters(MLP(4, [3, 2, 1], bias=True, seed=1), path)
    >>> load_model(path)
    MLP(4, [3, 2, 1], bias=True, activation='tanh', output_activation='tanh')
    """
    document = _read(path)
    sizes = document.get("sizes")
    if not isinstance(sizes, list) or len(sizes) < 2:
        raise ValueError(f'{path}: "sizes" must list the input size and the layer sizes')
    try:
        model = MLP(
            sizes[0],
            sizes[1:],
            bias=document["bias"],
            activation=document["activation"],
            output_activation=document["output_activation"],
            init="zeros",
        )
    except KeyError as missing:
        raise ValueError(f"{path}: the architecture has no {missing}") from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: the architecture it records is not valid: {error}") from None
    _fill(model, document, path)
    return model


def _read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The file's JSON document, once it is known to be a parameter file of our version."""
    with open(path, encoding="utf-8") as f:
        try:
            document = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'{path}: not a chainrule parameter file (no "format": "{FORMAT}")')
    if document.get("version") != VERSION:
        raise ValueError(
            f"{path}: parameter file version {document.get('version')!r}, "
            f"this chainrule reads version {VERSION}"
        )
    return document


def _fill(model: MLP, document: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Check the document against ``model``; only then set the model's parameters from it."""
    for key, expected in _architecture(model).items():
        if document.get(key) != expected:
            raise ValueError(
                f"{path}: architecture mismatch: the file has {key} = "
                f"{document.get(key)!r}, the model has {key} = {expected!r}"
            )
    stored = document.get("parameters")
    if not isinstance(stored, dict):
        raise ValueError(f'{path}: "parameters" must be an object of label: number')
    labels = [label for label, _ in model.named_parameters()]
    missing = [label for label in labels if label not in stored]
    extra = sorted(set(stored) - set(labels))
    if missing or extra:
        raise ValueError(
            f"{path}: parameters missing: {missing or 'none'}; unknown: {extra or 'none'}"
        )
    values = []
    for label in labels:
        value = stored[label]
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
        ):
            raise ValueError(f"{path}: parameter {label} is {value!r}, not a finite number")
        values.append(float(value))
    for (_, p), value in zip(model.named_parameters(), values, strict=True):
        p.data = value
