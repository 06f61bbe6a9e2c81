"""Save and load a model's parameters as JSON (never pickle: loading runs no code).

The file records the architecture, and loading checks it against the model it fills,
so weights never land in the wrong places silently. It also keeps what predicting on new
data needs: the model's classes, and optionally the feature names, the target's name and
the standardisation statistics (:func:`load_model` reads them all back).

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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nn.data import apply_standardization
from nn.labels import ClassEncoding, Label, is_label
from nn.model import ACTIVATIONS, MLP

__all__ = ["save_parameters", "load_parameters", "load_model", "SavedModel", "FORMAT"]

FORMAT = "chainrule-mlp-parameters"
VERSION = 1


def _architecture(model: MLP) -> dict[str, Any]:
    return {
        "sizes": list(model.sizes),
        "bias": model.has_bias,
        "activation": model.activation,
        "output_activation": model.output_activation,
    }


def save_parameters(
    model: MLP,
    path: str | os.PathLike[str],
    *,
    feature_names: Sequence[str] | None = None,
    target_name: str | None = None,
    standardization: tuple[Sequence[float], Sequence[float]] | None = None,
) -> None:
    """Write ``model``'s architecture, classes and every parameter (by label) to ``path``.

    ``feature_names``, ``target_name`` and ``standardization`` (the ``(means, stds)`` of
    :func:`nn.standardize`) are kept for :func:`load_model`, to prepare new data.
    """
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an nn.MLP, got {type(model).__name__}")
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        **_architecture(model),
        "parameters": dict((label, p.data) for label, p in model.named_parameters()),
    }
    if model.classes is not None:
        document["classes"] = list(model.classes)
    if feature_names is not None:
        document["features"] = list(feature_names)
    if target_name is not None:
        document["target"] = target_name
    if standardization is not None:
        means, stds = standardization
        document["standardization"] = {"means": list(means), "stds": list(stds)}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=1)
        f.write("\n")


def load_parameters(model: MLP, path: str | os.PathLike[str]) -> None:
    """Set ``model``'s parameters (and classes) from a file of :func:`save_parameters`.

    Raises ValueError naming the problem when the file is not such a file, its
    architecture differs from ``model``'s, or a parameter is missing, extra or not a
    finite number. The model is changed only when the whole file is valid.
    """
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an nn.MLP, got {type(model).__name__}")
    _fill(model, _read(path), path)


def _read(path: str | os.PathLike[str]) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        try:
            document = json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from None
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a chainrule parameter file (not UTF-8 text)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'{path}: not a chainrule parameter file (no "format": "{FORMAT}")')
    if document.get("version") != VERSION:
        raise ValueError(
            f"{path}: parameter file version {document.get('version')!r}, "
            f"this chainrule reads version {VERSION}"
        )
    return document


def _fill(model: MLP, document: dict[str, Any], path: Any) -> None:
    """Check ``document`` against ``model`` completely, then set the parameters and classes."""
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
    values = [_finite(stored[label], f"{path}: parameter {label}") for label in labels]
    classes = _classes(document.get("classes"), model, path)
    for (_, p), value in zip(model.named_parameters(), values, strict=True):
        p.data = value
    model.classes = classes


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} is {value!r}, not a finite number")
    try:
        number = float(value)
    except OverflowError:  # a JSON integer with hundreds of digits
        raise ValueError(
            f"{what} is an integer of {len(str(value))} digits, too large for a float"
        ) from None
    if not math.isfinite(number):
        raise ValueError(f"{what} is {value!r}, not a finite number")
    return number


def _classes(stored: Any, model: MLP, path: Any) -> tuple[Label, ...] | None:
    if stored is None:
        return None
    if not isinstance(stored, list) or not all(is_label(c) for c in stored):
        raise ValueError(f'{path}: "classes" must be a list of ints or strings, got {stored!r}')
    if len(set(stored)) != len(stored):
        raise ValueError(f'{path}: "classes" lists a class twice: {stored!r}')
    try:
        ClassEncoding(tuple(stored), model.sizes[-1], model.output_activation)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return tuple(stored)


@dataclass(frozen=True)
class SavedModel:
    """A model read back by :func:`load_model`, with what preparing new data needs.

    ``feature_names``, ``target_name``, ``means`` and ``stds`` are None when the file
    does not record them.
    """

    model: MLP
    feature_names: tuple[str, ...] | None
    target_name: str | None
    means: list[float] | None
    stds: list[float] | None

    def prepare(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        """``X`` standardised with the training data's statistics (as is, without them)."""
        if self.means is None or self.stds is None:
            return [list(row) for row in X]
        return apply_standardization(X, self.means, self.stds)


def load_model(path: str | os.PathLike[str]) -> SavedModel:
    """Build the model a file of :func:`save_parameters` describes, and fill it.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.json"
    >>> save_parameters(MLP(2, [3, 1], bias=True), path, feature_names=["a", "b"])
    >>> saved = load_model(path)
    >>> saved.model, saved.feature_names
    (MLP(2, [3, 1], bias=True, activation='tanh', output_activation='tanh'), ('a', 'b'))
    """
    document = _read(path)
    sizes = document.get("sizes")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes)
    ):
        raise ValueError(f'{path}: "sizes" must list at least two layer sizes, got {sizes!r}')
    for key in ("activation", "output_activation"):
        if document.get(key) not in ACTIVATIONS:
            raise ValueError(f"{path}: {key} is {document.get(key)!r}, not one of {ACTIVATIONS}")
    if not isinstance(document.get("bias"), bool):
        raise ValueError(f'{path}: "bias" must be true or false, got {document.get("bias")!r}')
    model = MLP(
        sizes[0],
        sizes[1:],
        bias=document["bias"],
        activation=document["activation"],
        output_activation=document["output_activation"],
    )
    _fill(model, document, path)
    features = document.get("features")
    if features is not None and (
        not isinstance(features, list)
        or len(features) != sizes[0]
        or not all(isinstance(name, str) for name in features)
    ):
        raise ValueError(f'{path}: "features" must list {sizes[0]} column names')
    target = document.get("target")
    if target is not None and not isinstance(target, str):
        raise ValueError(f'{path}: "target" must be a column name, got {target!r}')
    means = stds = None
    if "standardization" in document:
        scaling = document["standardization"]
        if not isinstance(scaling, dict) or set(scaling) != {"means", "stds"}:
            raise ValueError(f'{path}: "standardization" must hold "means" and "stds"')
        for key in ("means", "stds"):
            if not isinstance(scaling[key], list) or len(scaling[key]) != sizes[0]:
                raise ValueError(f'{path}: standardization "{key}" must list {sizes[0]} numbers')
        means = [_finite(v, f"{path}: a standardization mean") for v in scaling["means"]]
        stds = [_finite(v, f"{path}: a standardization std") for v in scaling["stds"]]
        if any(s <= 0.0 for s in stds):
            raise ValueError(f"{path}: a standardization std is not positive")
    return SavedModel(model, None if features is None else tuple(features), target, means, stds)
