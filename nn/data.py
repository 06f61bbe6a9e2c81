"""Data: Iris and the 8x8 digits shipped with the package, a CSV loader, a standardiser.

>>> iris = load_iris()
>>> len(iris), iris.feature_names[0], iris.classes
(150, 'sepal_length', ('setosa', 'versicolor', 'virginica'))
>>> task = iris_binary("setosa")
>>> sorted(set(task.y)), sum(1 for t in task.y if t > 0)
([-1.0, 1.0], 50)
"""

from __future__ import annotations

import csv
import gzip
import math
import os
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = [
    "Dataset",
    "load_iris",
    "iris_binary",
    "load_digits",
    "standardize",
    "apply_standardization",
    "load_csv",
    "csv_header",
    "read_text",
    "train_test_split",
]

IRIS_SPECIES = ("setosa", "versicolor", "virginica")
# A number written with a decimal comma, as many locales save CSV files ("5,1").
DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")


@dataclass(frozen=True)
class Dataset:
    """Rows of features ``X`` with one target each in ``y``.

    ``y`` holds numbers, or class labels (ints or strings, see :mod:`nn.labels`).
    ``classes`` names the classes when ``y`` holds class codes 0, 1, ... (empty otherwise).
    ``lines`` gives each row's line in the file it was read from (1-based, the header is
    line 1; empty when not read from a file).

    >>> data = Dataset([[0.5, 1.0], [2.0, -1.0]], ["cat", "dog"], ("weight", "age"), "kind")
    >>> len(data), data.X[1], data.y[1]
    (2, [2.0, -1.0], 'dog')
    """

    X: list[list[float]]
    y: list[Any]
    feature_names: tuple[str, ...]
    target_name: str
    classes: tuple[str, ...] = ()
    lines: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.X)


def load_iris() -> Dataset:
    """Fisher's Iris data: 150 rows, 4 features in cm, ``y`` = 0, 1, 2 for the species.

    The codes are ints, so :func:`nn.train` reads them as class labels (``classes`` names
    them): ``nn.train(nn.MLP(4, [5, 3]), X, iris.y)`` learns the three species one-hot.

    The CSV ships in the package (``nn/data/iris.csv``; provenance in its README).

    >>> iris = load_iris()
    >>> len(iris), iris.X[0], iris.y[0], iris.classes[iris.y[-1]]
    (150, [5.1, 3.5, 1.4, 0.2], 0, 'virginica')
    """
    text = resources.files("nn").joinpath("data/iris.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    header, body = rows[0], rows[1:]
    X = [[float(cell) for cell in row[:4]] for row in body]
    y = [IRIS_SPECIES.index(row[4]) for row in body]
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
    code = IRIS_SPECIES.index(positive)
    X = standardize(iris.X)[0] if standardized else iris.X
    y = [1.0 if c == code else -1.0 for c in iris.y]
    return Dataset(X, y, iris.feature_names, f"{positive} (+1) vs the others (-1)")


def load_digits() -> Dataset:
    """The 8x8 handwritten digits: 1,797 images of 64 pixels (0 to 16), ``y`` = 0 .. 9.

    UCI's "Optical Recognition of Handwritten Digits" (test part), CC BY 4.0; the file
    ships in the package (``nn/data/digits.csv.gz``; provenance in its README). Pixel
    ``p_r_c`` is row r, column c of the image (0-based). ``y`` holds int labels, so
    :func:`nn.train` reads them as classes.

    >>> digits = load_digits()
    >>> len(digits), len(digits.X[0]), digits.feature_names[9], digits.y[:5]
    (1797, 64, 'p_1_1', [0, 1, 2, 3, 4])
    """
    raw = resources.files("nn").joinpath("data/digits.csv.gz").read_bytes()
    rows = list(csv.reader(gzip.decompress(raw).decode("ascii").splitlines()))
    X = [[float(cell) for cell in row[:64]] for row in rows]
    y = [int(row[64]) for row in rows]
    names = tuple(f"p_{r}_{c}" for r in range(8) for c in range(8))
    return Dataset(X, y, names, "digit", tuple(str(d) for d in range(10)))


def train_test_split(
    X: Sequence[Sequence[float]],
    y: Sequence[Any],
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """``(X_train, X_test, y_train, y_test)``: a random ``test_fraction`` of rows held out.

    The rows are drawn by ``random.Random(seed)``; each part keeps the original order.

    >>> X_train, X_test, y_train, y_test = train_test_split([[1], [2], [3], [4]], "abcd")
    >>> X_test, y_test, len(X_train)
    ([[3]], ['c'], 3)
    """
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} targets")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)):
        raise TypeError(f"test_fraction must be a number, got {test_fraction!r}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction!r}")
    n_test = min(len(X) - 1, max(1, round(len(X) * test_fraction)))
    if n_test < 1:
        raise ValueError(f"cannot split {len(X)} row(s) into a training and a test part")
    order = list(range(len(X)))
    random.Random(seed).shuffle(order)
    test, train = sorted(order[:n_test]), sorted(order[n_test:])
    return [X[n] for n in train], [X[n] for n in test], [y[n] for n in train], [y[n] for n in test]


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
    return apply_standardization(X, means, stds), means, stds


def apply_standardization(
    X: Sequence[Sequence[float]], means: Sequence[float], stds: Sequence[float]
) -> list[list[float]]:
    """``(x - mean) / std`` per column, with statistics from :func:`standardize`.

    >>> apply_standardization([[4.0, 5.0]], [2.0, 5.0], [2.0, 1.0])
    [[1.0, 0.0]]
    """
    width = len(means)
    for n, row in enumerate(X):
        if len(row) != width:
            raise ValueError(f"row {n} has {len(row)} values, the statistics are for {width}")
    return [[(row[c] - means[c]) / stds[c] for c in range(width)] for row in X]


def load_csv(
    path: str | os.PathLike[str],
    *,
    target: str | int | None = -1,
    features: Sequence[str] | None = None,
) -> Dataset:
    """A CSV file with a header row; ``target`` names (or indexes) the y column.

    The other columns are the features, all numbers (or only the columns named in
    ``features``, in that order). ``target=None`` reads no target (``y`` is empty). The
    target column may hold numbers or class labels: whole numbers are read as ints (class
    labels to :func:`nn.train`, see :mod:`nn.labels`), a column with any text as strings.
    The delimiter (comma, semicolon or tab) is detected; a UTF-8 byte-order mark is
    skipped; blank lines are skipped. A column name given twice, a ragged row or a
    feature that is not a number raises ValueError naming the line (1-based, the header
    is 1) and the column.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "pets.csv"
    ...     _ = path.write_text("weight;age;kind\\n4.1;2;cat\\n30;5;dog\\n", encoding="utf-8")
    ...     pets = load_csv(path, target="kind")
    >>> pets.feature_names, pets.X, pets.y, pets.lines
    (('weight', 'age'), [[4.1, 2.0], [30.0, 5.0]], ['cat', 'dog'], (2, 3))
    """
    rows = [(n, row) for n, row in enumerate(_reader(read_text(path)), start=1) if row]
    if not rows:
        raise ValueError(f"{path}: the file is empty; it needs a header row and data rows")
    header = [name.strip() for name in rows[0][1]]
    _check_unique(header, path)
    column = None if target is None else _target_column(header, target, path)
    if features is None:
        chosen = [c for c in range(len(header)) if c != column]
    else:
        missing = [name for name in features if name not in header]
        if missing:
            raise ValueError(
                f"{path}: no column named {', '.join(map(repr, missing))}; "
                f"the columns are {', '.join(header)}"
            )
        chosen = [header.index(name) for name in features]
    if len(rows) < 2:
        raise ValueError(f"{path}: there are no data rows below the header")
    if not chosen:
        raise ValueError(f"{path}: the only column is the target; there are no features")
    X: list[list[float]] = []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise ValueError(
                f"{path}, line {line}: {len(row)} cells, but the header has {len(header)}"
            )
        X.append([_cell(row[c], path, line, header[c]) for c in chosen])
    y: list[Any] = []
    if column is not None:
        y = _target_cells([(line, row[column]) for line, row in rows[1:]], path, header[column])
    return Dataset(
        X,
        y,
        tuple(header[c] for c in chosen),
        "" if column is None else header[column],
        lines=tuple(line for line, _ in rows[1:]),
    )


def csv_header(path: str | os.PathLike[str]) -> list[str]:
    """The column names of a CSV file, read as :func:`load_csv` reads them.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "pets.csv"
    ...     _ = path.write_text("weight, age ,kind\\n4.1,2,cat\\n", encoding="utf-8")
    ...     csv_header(path)
    ['weight', 'age', 'kind']
    """
    rows = [row for row in _reader(read_text(path)) if row]
    return [name.strip() for name in rows[0]] if rows else []


SAVE_AS_UTF8 = "save the file as UTF-8 (CSV UTF-8 in a spreadsheet)"


def read_text(path: str | os.PathLike[str], *, remedy: str = SAVE_AS_UTF8) -> str:
    """The text of a user's file, read as UTF-8; a UTF-8 byte-order mark is dropped.

    The one reader of the files a user hands over (CSV files, class lists, keys): a file
    in another encoding is refused with a ValueError naming the file, the first byte that
    is not UTF-8 and ``remedy``, what to do about it. Line ends are kept as they are
    (``newline=""``), as the csv module wants them.

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "names.txt"
    ...     _ = path.write_bytes("Zoë\\n".encode("latin-1"))
    ...     read_text(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: .../names.txt: not UTF-8 text (byte 0xeb at position 2); save the file as UTF-8 (CSV UTF-8 in a spreadsheet)
    """  # noqa: E501
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return f.read()
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path}: not UTF-8 text (byte {error.object[error.start]:#04x} at position "
            f"{error.start}); {remedy}"
        ) from None


def _reader(text: str) -> Any:
    """A csv reader for ``text`` with its delimiter: comma, semicolon or tab."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:  # one column, or nothing to tell by: the comma it is
        dialect = csv.excel
    return csv.reader(text.splitlines(), dialect)


def _target_cells(cells: list[tuple[int, str]], path: Any, column: str) -> list[Any]:
    """The target column: ints if all are whole numbers, floats if numbers, else strings."""
    values: list[Any] = []
    text_line = None
    for line, cell in cells:
        cell = cell.strip()
        if not cell:
            raise ValueError(f"{path}, line {line}, column {column!r}: the target is empty")
        try:
            values.append(int(cell))
            continue
        except ValueError:
            pass
        try:
            number = float(cell)
        except ValueError:
            text_line = text_line or line
            values.append(cell)
            continue
        if not math.isfinite(number):
            raise ValueError(f"{path}, line {line}, column {column!r}: {cell!r} is not finite")
        values.append(number)
    if text_line is None:
        return values if all(isinstance(v, int) for v in values) else [float(v) for v in values]
    for (line, cell), value in zip(cells, values, strict=True):
        if isinstance(value, float):
            raise ValueError(
                f"{path}, line {line}, column {column!r}: {cell.strip()!r} is a number but "
                f"line {text_line} holds text; a target column holds numbers or class labels"
            )
    return [str(v) if isinstance(v, int) else v for v in values]


def _check_unique(header: list[str], path: Any) -> None:
    """ValueError naming the first column name the header gives twice, and its positions."""
    for name in header:
        positions = [n for n, other in enumerate(header, start=1) if other == name]
        if len(positions) > 1:
            where = ", ".join(map(str, positions))
            raise ValueError(
                f"{path}, line 1: the column name {name!r} appears more than once (columns "
                f"{where}); give each column its own name"
            )


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
        hint = ""
        if DECIMAL_COMMA.fullmatch(cell.strip()):
            point = cell.strip().replace(",", ".")
            hint = f" (a decimal comma? write {point}: save the file with decimal points)"
        raise ValueError(
            f"{path}, line {line}, column {column!r}: {cell!r} is not a number{hint}"
        ) from None
    if not math.isfinite(value):
        raise ValueError(f"{path}, line {line}, column {column!r}: {cell!r} is not finite")
    return value
