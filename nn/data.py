"""Data: the Iris set shipped with the package, a CSV loader and a standardiser.

>>> iris = load_iris()
>>> len(iris), iris.feature_names[0], iris.classes
(150, 'sepal_length', ('setosa', 'versicolor', 'virginica'))
>>> task = iris_binary("setosa")
>>> sorted(set(task.y)), sum(1 for t in task.y if t > 0)
([-1.0, 1.0], 50)
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = ["Dataset", "load_iris", "iris_binary", "standardize", "load_csv"]

IRIS_SPECIES = ("setosa", "versicolor", "virginica")


@dataclass(frozen=True)
class Dataset:
    """Rows of features ``X`` with one target each in ``y``.

    ``classes`` names the classes when ``y`` holds class codes 0, 1, ... (empty otherwise).
    """

    X: list[list[float]]
    y: list[float]
    feature_names: tuple[str, ...]
    target_name: str
    classes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.X)


def load_iris() -> Dataset:
    """Fisher's Iris data: 150 rows, 4 features in cm, ``y`` = 0, 1, 2 for the species.

    The CSV ships in the package (``nn/data/iris.csv``; provenance in its README).
    """
    text = resources.files("nn").joinpath("data/iris.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    header, body = rows[0], rows[1:]
    X = [[float(cell) for cell in row[:4]] for row in body]
    y = [float(IRIS_SPECIES.index(row[4])) for row in body]
    return Dataset(X, y, tuple(header[:4]), header[4], IRIS_SPECIES)


def iris_binary(positive: str = "setosa", *, standardized: bool = True) -> Dataset:
    """One species (target +1) against the other two (target -1), for a tanh output.

    Features are standardised (mean 0, standard deviation 1 per column) unless
    ``standardized=False``. ``"setosa"`` is the default: it is separable from the others,
    which is what a 20-weight network without biases learns to >= 95% accuracy.

    >>> iris_binary("virginica").y[-1], iris_binary("virginica").y[0]
    (1.0, -1.0)
    """
    if positive not in IRIS_SPECIES:
        raise ValueError(f"unknown species {positive!r}; choose one of {', '.join(IRIS_SPECIES)}")
    iris = load_iris()
    code = float(IRIS_SPECIES.index(positive))
    X = standardize(iris.X)[0] if standardized else iris.X
    y = [1.0 if c == code else -1.0 for c in iris.y]
    return Dataset(X, y, iris.feature_names, f"{positive} (+1) vs the others (-1)")


def standardize(
    X: Sequence[Sequence[float]],
) -> tuple[list[list[float]], list[float], list[float]]:
    """Each column shifted to mean 0 and scaled to standard deviation 1.

    Returns ``(Z, means, stds)``; a constant column becomes zeros (its std is reported
    as 1.0), since there is nothing to scale. Apply the same ``means`` and ``stds`` to
    new data.

    >>> Z, means, stds = standardize([[1.0, 5.0], [3.0, 5.0]])
    >>> Z, means, stds
    ([[-1.0, 0.0], [1.0, 0.0]], [2.0, 5.0], [1.0, 1.0])
    """
    if not X:
        raise ValueError("standardize needs at least one row")
    width = len(X[0])
    for n, row in enumerate(X):
        if len(row) != width:
            raise ValueError(f"row {n} has {len(row)} values, row 0 has {width}")
    count = len(X)
    means = [math.fsum(row[c] for row in X) / count for c in range(width)]
    stds = []
    for c in range(width):
        var = math.fsum((row[c] - means[c]) ** 2 for row in X) / count
        stds.append(math.sqrt(var) if var > 0.0 else 1.0)
    Z = [[(row[c] - means[c]) / stds[c] for c in range(width)] for row in X]
    return Z, means, stds


def load_csv(path: str | os.PathLike[str], *, target: str | int = -1) -> Dataset:
    """A numeric CSV file with a header row; ``target`` names (or indexes) the y column.

    Every other column is a feature. Blank lines are skipped. A ragged row or a cell
    that is not a number raises ValueError naming the line (1-based, the header is 1).
    """
    with open(path, newline="", encoding="utf-8") as f:
        rows = [(n, row) for n, row in enumerate(csv.reader(f), start=1) if row]
    if not rows:
        raise ValueError(f"{path}: the file is empty; it needs a header row and data rows")
    header = [name.strip() for name in rows[0][1]]
    column = _target_column(header, target, path)
    if len(rows) < 2:
        raise ValueError(f"{path}: there are no data rows below the header")
    X: list[list[float]] = []
    y: list[float] = []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise ValueError(
                f"{path}, line {line}: {len(row)} cells, but the header has {len(header)}"
            )
        numbers = [_cell(cell, path, line, header[c]) for c, cell in enumerate(row)]
        y.append(numbers[column])
        X.append(numbers[:column] + numbers[column + 1 :])
    features = tuple(header[:column] + header[column + 1 :])
    if not features:
        raise ValueError(f"{path}: the only column is the target; there are no features")
    return Dataset(X, y, features, header[column])


def _target_column(header: list[str], target: Any, path: Any) -> int:
    if isinstance(target, str):
        if target not in header:
            raise ValueError(
                f"{path}: no column named {target!r}; the columns are {', '.join(header)}"
            )
        return header.index(target)
    if isinstance(target, bool) or not isinstance(target, int):
        raise TypeError(f"target must be a column name or index, got {target!r}")
    if not -len(header) <= target < len(header):
        raise ValueError(f"{path}: target index {target} is out of range for {len(header)} columns")
    return target % len(header)


def _cell(cell: str, path: Any, line: int, column: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(
            f"{path}, line {line}, column {column!r}: {cell!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise ValueError(f"{path}, line {line}, column {column!r}: {cell!r} is not finite")
    return value
