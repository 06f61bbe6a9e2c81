"""Save and load a model's parameters as JSON (never pickle: loading runs no code).

The file records the architecture, and loading checks it against the model it fills,
so weights never land in the wrong places silently. It also keeps what predicting on new
data needs: the model's classes, and optionally the feature names, the target's name and
the standardisation statistics of the features and of a numeric target
(:func:`load_model` reads them all back; :meth:`SavedModel.predict` applies them).

Loading checks the file before building anything: the layer sizes against the number of
parameters the file holds (so a few bytes cannot ask for a billion weights), and every
message names the file and the entry (``parameter w^2_31``, ``the standardization mean of
feature 'x'``).

>>> import tempfile
>>> from pathlib import Path
>>> from nn.model import MLP
>>> with tempfile.TemporaryDirectory() as folder:
...     path = Path(folder) / "model.json"
...     save_parameters(MLP(4, [3, 2, 1], seed=1), path)
...     model = MLP(4, [3, 2, 1], seed=2)
...     load_parameters(model, path)
>>> model.weight(1, 1, 1).data == MLP(4, [3, 2, 1], seed=1).weight(1, 1, 1).data
True
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nn.activations import activation_op
from nn.checks import COUNT, few, shown
from nn.data import apply_standardization
from nn.evaluate import predict
from nn.labels import ClassEncoding, Label, is_label
from nn.model import MLP, parameter_count

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
    target_standardization: tuple[float, float] | None = None,
) -> None:
    """Write ``model``'s architecture, classes and every parameter (by label) to ``path``.

    ``feature_names``, ``target_name``, ``standardization`` (the ``(means, stds)`` of
    :func:`nn.standardize`) and ``target_standardization`` (the ``(mean, std)`` a numeric
    target was standardised with: the model's outputs are ``(y - mean) / std``) are kept
    for :func:`load_model`, to prepare new data and scale predictions back.

    A parameter that is not a finite number (after a diverged run, say) is refused,
    named, and nothing is written: JSON has no NaN, and the file could not be loaded.

    >>> import json, tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "model.json"
    ...     save_parameters(MLP(2, [1], seed=0), path, feature_names=["a", "b"])
    ...     stored = json.loads(path.read_text(encoding="utf-8"))
    >>> stored["sizes"], list(stored["parameters"]), stored["features"]
    ([2, 1], ['w^1_11', 'w^1_21'], ['a', 'b'])
    """
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an nn.MLP, got {type(model).__name__}")
    parameters = dict((label, p.data) for label, p in model.named_parameters())
    broken = [f"{label} = {value!r}" for label, value in parameters.items()
              if not math.isfinite(value)]  # fmt: skip
    if broken:
        raise ValueError(
            f"{path}: not saved: {len(broken):,} parameter(s) are not finite numbers, which a "
            f"parameter file cannot hold: {few(broken)}"
        )
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        **_architecture(model),
        "parameters": parameters,
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
    if target_standardization is not None:
        mean, std = target_standardization
        document["target_standardization"] = {"mean": mean, "std": std}
    text = json.dumps(document, indent=1, allow_nan=False) + "\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def load_parameters(model: MLP, path: str | os.PathLike[str] | None = None) -> None:
    """Set ``model``'s parameters (and classes) from a file of :func:`save_parameters`.

    Raises ValueError naming the problem when the file is not such a file, its
    architecture differs from ``model``'s, or a parameter is missing, extra or not a
    finite number. The model is changed only when the whole file is valid. To build the
    model a file describes, rather than fill one, use :func:`load_model`.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "model.json"
    ...     save_parameters(MLP(2, [1], seed=1), path)
    ...     model = MLP(2, [1], seed=2)
    ...     load_parameters(model, path)
    ...     try:
    ...         load_parameters(MLP(3, [1]), path)
    ...     except ValueError as error:
    ...         print(str(error).split(": ", 1)[1])  # after the file's name
    architecture mismatch: the file has sizes = [2, 1], the model has sizes = [3, 1]
    >>> model.weight(1, 1, 1).data == MLP(2, [1], seed=1).weight(1, 1, 1).data
    True
    """
    if path is None and isinstance(model, (str, os.PathLike)):
        raise TypeError(
            f"load_parameters(model, path) fills a model you have built; to build the model "
            f"the file describes, use nn.load_model({os.fspath(model)!r}).model"
        )
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an nn.MLP, got {type(model).__name__}")
    if path is None:
        raise TypeError("load_parameters(model, path) needs the path of a parameter file")
    _fill(model, _read(path), path)


class _LongInteger:
    """A JSON integer with more digits than Python reads (4,300): known by its length."""

    def __init__(self, text: str) -> None:
        self.digits = len(text.lstrip("-"))

    def __repr__(self) -> str:
        return f"an integer of {self.digits:,} digits"


def _integer(text: str) -> int | _LongInteger:
    try:
        return int(text)
    except ValueError:  # Python's limit on digits; the entry that holds it is named later
        return _LongInteger(text)


def _read(path: str | os.PathLike[str]) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        try:
            document = json.load(f, parse_int=_integer)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from None
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a chainrule parameter file (not UTF-8 text)") from None
        except RecursionError:  # Python's JSON reader nests as deep as its recursion limit
            raise ValueError(
                f"{path}: not a chainrule parameter file (its JSON nests lists or objects "
                "thousands deep; a parameter file nests three deep)"
            ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'{path}: not a chainrule parameter file (no "format": "{FORMAT}")')
    if document.get("version") != VERSION:
        raise ValueError(
            f"{path}: parameter file version {shown(document.get('version'))}, "
            f"this chainrule reads version {VERSION}"
        )
    return document


def _fill(model: MLP, document: dict[str, Any], path: Any) -> None:
    """Check ``document`` against ``model`` completely, then set the parameters and classes."""
    for key, expected in _architecture(model).items():
        if document.get(key) != expected:
            raise ValueError(
                f"{path}: architecture mismatch: the file has {key} = "
                f"{shown(document.get(key))}, the model has {key} = {expected!r}"
            )
    stored = _stored_parameters(document, path)
    labels = [label for label, _ in model.named_parameters()]
    missing = [label for label in labels if label not in stored]
    extra = sorted(set(stored) - set(labels))
    if missing or extra:
        raise ValueError(
            f"{path}: parameters missing: {few(missing) or 'none'}; unknown: {few(extra) or 'none'}"
        )
    values = [_finite(stored[label], f"{path}: parameter {label}") for label in labels]
    classes = _classes(document.get("classes"), model, path)
    for (_, p), value in zip(model.named_parameters(), values, strict=True):
        p.data = value
    model.classes = classes


def _stored_parameters(document: dict[str, Any], path: Any) -> dict[str, Any]:
    stored = document.get("parameters")
    if not isinstance(stored, dict):
        raise ValueError(f'{path}: "parameters" must be an object of label: number')
    return stored


def _finite(value: Any, what: str) -> float:
    if isinstance(value, _LongInteger):
        raise ValueError(f"{what} is {value!r}, too large for a float")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} is {shown(value)}, not a finite number")
    try:
        number = float(value)
    except OverflowError:  # a JSON integer with hundreds of digits
        raise ValueError(f"{what} is {shown(value)}, too large for a float") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} is {value!r}, not a finite number")
    return number


def _classes(stored: Any, model: MLP, path: Any) -> tuple[Label, ...] | None:
    if stored is None:
        return None
    if not isinstance(stored, list) or not all(is_label(c) for c in stored):
        raise ValueError(
            f'{path}: "classes" must be a list of ints or strings, got {shown(stored)}'
        )
    if len(set(stored)) != len(stored):
        twice = sorted(str(c) for c, n in Counter(stored).items() if n > 1)
        raise ValueError(f'{path}: "classes" lists a class more than once: {few(twice)}')
    try:
        ClassEncoding(tuple(stored), model.sizes[-1], model.output_activation)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return tuple(stored)


@dataclass(frozen=True)
class SavedModel:
    """A model read back by :func:`load_model`, with what preparing new data needs.

    ``feature_names``, ``target_name``, ``means`` and ``stds`` (the features'), and
    ``target_mean`` and ``target_std`` (a numeric target's) are None when the file does
    not record them. :meth:`predict` applies them all.

    >>> saved = SavedModel(MLP(1, [1]), ("x",), "y", [10.0], [2.0])
    >>> saved.prepare([[12.0], [9.0]])  # (x - mean) / std, as the training data was
    [[1.0], [-0.5]]
    """

    model: MLP
    feature_names: tuple[str, ...] | None
    target_name: str | None
    means: list[float] | None
    stds: list[float] | None
    target_mean: float | None = None
    target_std: float | None = None

    def prepare(self, X: Sequence[Sequence[float]]) -> list[list[float]]:
        """``X`` standardised with the training data's statistics (as is, without them).

        >>> SavedModel(MLP(2, [1]), None, None, None, None).prepare([(1.0, 2.0)])
        [[1.0, 2.0]]
        """
        if self.means is None or self.stds is None:
            return [list(row) for row in X]
        return apply_standardization(X, self.means, self.stds)

    def predict(self, X: Sequence[Sequence[float]]) -> list[Any]:
        """The model's predictions for the rows ``X``, in the target's own terms.

        The rows are prepared (:meth:`prepare`); a class label comes back as itself, a
        number scaled back from the standardised target the model was trained on.

        >>> model = MLP(1, [1], output_activation="linear", init="zeros")
        >>> model.weight(1, 1, 1).data = 1.0  # predicts the standardised target as is
        >>> saved = SavedModel(model, None, None, [0.0], [1.0], target_mean=100.0, target_std=10.0)
        >>> saved.predict([[0.5], [-1.0]])  # 100 + 10 * output
        [105.0, 90.0]
        """
        predictions = predict(self.model, self.prepare(X))
        if self.target_mean is None or self.target_std is None:
            return predictions
        mean, std = self.target_mean, self.target_std
        return [
            [mean + std * v for v in p] if isinstance(p, list) else mean + std * p
            for p in predictions
        ]


def load_model(path: str | os.PathLike[str]) -> SavedModel:
    """Build the model a file of :func:`save_parameters` describes, and fill it.

    The file's layer sizes must describe as many parameters as it holds; that is checked
    before anything is built.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "model.json"
    ...     save_parameters(MLP(2, [3, 1], bias=True), path, feature_names=["a", "b"])
    ...     saved = load_model(path)
    >>> saved.model, saved.feature_names
    (MLP(2, [3, 1], bias=True, activation='tanh', output_activation='tanh'), ('a', 'b'))
    >>> len(saved.predict([[0.5, -1.0], [1.0, 2.0]]))
    2
    """
    document = _read(path)
    sizes = document.get("sizes")
    if not isinstance(sizes, list) or len(sizes) < 2 or not all(COUNT.allows(n) for n in sizes):
        raise ValueError(
            f'{path}: "sizes" must list at least two layer sizes (ints >= 1), got {shown(sizes)}'
        )
    for key in ("activation", "output_activation"):
        name = document.get(key)
        if not isinstance(name, str):
            raise ValueError(f'{path}: "{key}" must name an activation, got {shown(name)}')
        try:  # a user's activation loads once its op is defined, as the built-in ones do
            activation_op(name, key)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
    bias = document.get("bias")
    if not isinstance(bias, bool):
        raise ValueError(f'{path}: "bias" must be true or false, got {shown(bias)}')
    stored = _stored_parameters(document, path)
    count = parameter_count(sizes, bias)
    if count != len(stored):
        network = " -> ".join(map(shown, sizes[:10])) + (" -> ..." if len(sizes) > 10 else "")
        raise ValueError(
            f"{path}: its sizes ({network}, {'with' if bias else 'without'} biases) describe "
            f"{shown(count)} parameters, but it holds {len(stored):,}"
        )
    model = MLP(
        sizes[0],
        sizes[1:],
        bias=bias,
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
        raise ValueError(f'{path}: "target" must be a column name, got {shown(target)}')
    means = stds = None
    if "standardization" in document:
        means, stds = _feature_scaling(document["standardization"], features, sizes[0], path)
    target_mean = target_std = None
    if "target_standardization" in document:
        target_mean, target_std = _target_scaling(document["target_standardization"], path)
    return SavedModel(
        model,
        None if features is None else tuple(features),
        target,
        means,
        stds,
        target_mean,
        target_std,
    )


def _feature_scaling(
    scaling: Any, features: list[str] | None, width: int, path: Any
) -> tuple[list[float], list[float]]:
    """The features' ``(means, stds)`` from a file's "standardization" entry, checked."""
    if not isinstance(scaling, dict) or set(scaling) != {"means", "stds"}:
        raise ValueError(f'{path}: "standardization" must hold "means" and "stds"')
    for key in ("means", "stds"):
        if not isinstance(scaling[key], list) or len(scaling[key]) != width:
            raise ValueError(f'{path}: standardization "{key}" must list {width} numbers')
    names = (
        [f"feature {name!r}" for name in features]
        if features
        else [f"feature {c}" for c in range(1, width + 1)]
    )
    means = [_finite(v, f"{path}: the standardization mean of {name}")
             for v, name in zip(scaling["means"], names, strict=True)]  # fmt: skip
    stds = [_finite(v, f"{path}: the standardization std of {name}")
            for v, name in zip(scaling["stds"], names, strict=True)]  # fmt: skip
    for std, name in zip(stds, names, strict=True):
        if std <= 0.0:
            raise ValueError(f"{path}: the standardization std of {name} is {std!r}, not > 0")
    return means, stds


def _target_scaling(scaling: Any, path: Any) -> tuple[float, float]:
    """The target's ``(mean, std)`` from a file's "target_standardization" entry, checked."""
    if not isinstance(scaling, dict) or set(scaling) != {"mean", "std"}:
        raise ValueError(f'{path}: "target_standardization" must hold "mean" and "std"')
    mean = _finite(scaling["mean"], f"{path}: the target's standardization mean")
    std = _finite(scaling["std"], f"{path}: the target's standardization std")
    if std <= 0.0:
        raise ValueError(f"{path}: the target's standardization std is {std!r}, not > 0")
    return mean, std
