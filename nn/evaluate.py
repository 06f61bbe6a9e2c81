"""A model's outputs on a whole data set: predictions, accuracy, and checks of the data.

The compiled path (the default) traces one neuron of each layer once and replays it with
numpy for every neuron of that layer over the whole batch, layer by layer: the same ops
and numbers as calling the model row by row, without building a Value per operation.
``engine="interpreted"`` calls the model on each row, as a reader of the notes would.

Data is checked up front, and problems are named in the user's terms: ``X[row 3,
column 2]`` (counting from 0, as Python does) or ``y[5]``.

>>> from nn.model import MLP
>>> model = MLP(2, [3, 1], seed=0)
>>> X = [[0.5, -1.0], [1.5, 0.25]]
>>> out = outputs(model, X)
>>> out.shape, bool(abs(out[0, 0] - model(X[0]).data) < 1e-15)  # np.tanh: within an ulp
((2, 1), True)
"""

from __future__ import annotations

import itertools
import math
import numbers
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Program, Value, no_grad, trace
from nn.activations import activation_op, saturates
from nn.labels import (
    TASKS,
    ClassEncoding,
    Label,
    as_label,
    class_labels,
    is_label,
    output_range,
)
from nn.model import MLP, Layer, Neuron

__all__ = [
    "EVAL_ENGINES",
    "outputs",
    "layer_outputs",
    "predict",
    "accuracy",
    "saturated_share",
    "SATURATED_SLOPE",
    "check_model",
    "check_inputs",
    "encode_targets",
]

EVAL_ENGINES = ("auto", "compiled", "interpreted")


def check_model(model: Any) -> MLP:
    """``model`` itself, or TypeError if it is not an :class:`nn.MLP`."""
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an nn.MLP, got {type(model).__name__}")
    return model


def check_inputs(model: MLP, X: Any) -> np.ndarray:
    """``X`` (rows of numbers, or a 2-d numpy array) as an (n, nin) array of floats.

    ValueError or TypeError names the first bad entry.

    >>> check_inputs(MLP(2, [1]), [[1, 2.5]]).tolist()
    [[1.0, 2.5]]
    >>> check_inputs(MLP(2, [1]), [[1.0, 2.0], [3.0, float("nan")]])
    Traceback (most recent call last):
    ...
    ValueError: X[row 1, column 1] is nan, not a finite number
    """
    if isinstance(X, np.ndarray):
        X = X.tolist()
    if isinstance(X, (str, bytes)) or not isinstance(X, Sequence):
        raise TypeError(f"X must be a sequence of rows, got {type(X).__name__}")
    if not X:
        raise ValueError("X is empty: it needs at least one row")
    nin = model.sizes[0]
    try:
        array = np.array(X)
    except ValueError:  # ragged rows: found and named below
        array = None
    if (
        array is not None
        and array.dtype.kind in "iuf"
        and array.shape == (len(X), nin)
        and np.isfinite(array).all()
    ):
        return array.astype(float)
    for r, row in enumerate(X):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise TypeError(f"X[row {r}] is {row!r}, not a row of {nin} numbers")
        if len(row) != nin:
            raise ValueError(f"X[row {r}] has {len(row)} values, but the model takes {nin} inputs")
        for c, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"X[row {r}, column {c}] is {value!r}, not a number")
            if not math.isfinite(value):
                raise ValueError(f"X[row {r}, column {c}] is {value!r}, not a finite number")
    raise TypeError("X must hold numbers only")  # pragma: no cover: the loop finds the entry


def encode_targets(
    model: MLP, y: Any, n_rows: int, task: str = "auto"
) -> tuple[list[list[float]], tuple[Label, ...] | None]:
    """The numeric targets of ``y``, one row per sample, and the classes (None for numbers).

    ``task="auto"`` reads ``y`` as class labels when every entry is an int or a string
    (see :mod:`nn.labels`), as numbers to fit otherwise. ``"classification"`` also takes
    whole floats as labels; ``"regression"`` fits ints as numbers. A model that already
    knows its classes (trained or loaded) keeps them.

    >>> encode_targets(MLP(2, [1]), ["no", "yes", "no"], 3)
    ([[-1.0], [1.0], [-1.0]], ('no', 'yes'))
    >>> encode_targets(MLP(2, [1]), [0, 1], 2, task="regression")
    ([[0.0], [1.0]], None)
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    y = _as_targets(y, n_rows)
    if task == "auto":
        task = "classification" if y and all(is_label(t) for t in y) else "regression"
    if task == "regression":
        fast = _numbers_at_once(y, n_rows, model.sizes[-1])
        if fast is not None:
            return fast, None
        return [_numeric_target(model, t, n) for n, t in enumerate(y)], None
    known = class_labels(y) if model.classes is None else model.classes
    encoding = ClassEncoding(known, model.sizes[-1], model.output_activation)
    return [encoding.encode(label) for label in _labels_among(known, y)], known


def _numbers_at_once(y: Sequence[Any], n_rows: int, outputs: int) -> list[list[float]] | None:
    """Targets that are all plain finite numbers of the right shape, read in one numpy
    call (a row at a time in Python costs 9 ms on the 1,797 digits); None otherwise, for
    :func:`_numeric_target` to check each and name the first bad one."""
    try:
        array = np.array(y)
    except ValueError:  # ragged
        return None
    if array.dtype.kind not in "iuf" or not np.isfinite(array).all():
        return None
    # numpy reads True among floats as 1.0; a target that is a bool is refused, by name.
    entries = y if array.ndim == 1 else itertools.chain.from_iterable(y)
    if any(type(v) is bool or type(v) is np.bool_ for v in entries):
        return None
    if array.shape == (n_rows,) and outputs == 1:
        array = array.reshape(n_rows, 1)
    if array.shape != (n_rows, outputs):
        return None
    rows: list[list[float]] = array.astype(float).tolist()
    return rows


def _as_targets(y: Any, n_rows: int) -> Sequence[Any]:
    """``y`` as a sequence of one target per row (a numpy array becomes a list)."""
    if isinstance(y, np.ndarray):
        y = y.tolist()
    if isinstance(y, (str, bytes)) or not isinstance(y, Sequence):
        raise TypeError(f"y must be a sequence of targets, got {type(y).__name__}")
    if len(y) != n_rows:
        raise ValueError(f"X has {n_rows} rows but y has {len(y)} targets")
    return y


def _labels_among(known: tuple[Label, ...], y: Sequence[Any]) -> list[Label]:
    """The labels of ``y``, each one of ``known``; ValueError naming the first that is not."""
    labels = [as_label(target, f"y[{n}]") for n, target in enumerate(y)]
    for n, label in enumerate(labels):
        if label not in known:
            raise ValueError(
                f"y[{n}] is {y[n]!r}, not one of the model's classes "
                f"({', '.join(repr(c) for c in known)})"
            )
    return labels


def _numeric_target(model: MLP, target: Any, n: int) -> list[float]:
    outputs = model.sizes[-1]
    if isinstance(target, str):
        raise ValueError(
            f"y[{n}] is {target!r}, a string, but y is being fitted as numbers; "
            "class labels must all be ints or strings (or pass task='classification')"
        )
    if isinstance(target, numbers.Real) and not isinstance(target, bool):
        values: list[Any] = [target]
    elif isinstance(target, Sequence):
        values = list(target)
    else:
        raise TypeError(
            f"y[{n}] is {target!r}: a target is a number, a sequence of numbers (one per "
            "output) or a class label (an int or a string)"
        )
    if len(values) != outputs:
        raise ValueError(
            f"y[{n}] has {len(values)} value(s), but the model has {outputs} output(s)"
        )
    for j, value in enumerate(values):
        where = f"y[{n}]" if outputs == 1 else f"y[{n}][{j}]"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{where} is {value!r}, not a number")
        if not math.isfinite(value):
            raise ValueError(f"{where} is {value!r}, not a finite number")
    return [float(v) for v in values]


def _check_engine(engine: str) -> str:
    if engine not in EVAL_ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(EVAL_ENGINES)}")
    return engine


def _neuron_program(layer: Layer) -> Program:
    """One neuron of ``layer`` traced on inputs ``[*its parameters, *its inputs]``.

    Every neuron of a layer has the same ops, so one program serves them all. It is traced
    on a fresh neuron, so the model's own ``Neuron.output`` is left alone.
    """
    first = layer.neurons[0]
    nin = len(first.weights)
    twin = Neuron(
        nin,
        k=layer.k,
        j=1,
        bias=first.bias is not None,
        activation=first.activation,
        init="zeros",
        rng=random.Random(0),
    )
    xs = [Value(0.0, requires_grad=False) for _ in range(nin)]
    return trace(twin(xs), [*twin.parameters(), *xs])


def layer_outputs(model: MLP, X: Any, *, engine: str = "auto") -> list[np.ndarray]:
    """The outputs ``O_kj`` of every layer k on every row: one (n, size of k) array each.

    >>> model = MLP(2, [3, 1], seed=0)
    >>> [layer.shape for layer in layer_outputs(model, [[0.1, 0.2]] * 5)]
    [(5, 3), (5, 1)]
    """
    inputs = check_inputs(check_model(model), X)
    if _check_engine(engine) == "interpreted":
        rows: list[list[list[float]]] = [[] for _ in model.layers]
        with no_grad():
            for row in inputs.tolist():
                model(row)  # every neuron keeps its output O_kj of this row
                for k, layer in enumerate(model.layers):
                    rows[k].append([_output(neuron) for neuron in layer.neurons])
        return [np.array(r) for r in rows]
    columns = list(inputs.T)
    result = []
    for layer in model.layers:
        program = _neuron_program(layer)
        columns = [
            np.asarray(program([*(p.data for p in neuron.parameters()), *columns]))
            for neuron in layer.neurons
        ]
        result.append(np.stack(columns, axis=1))
    return result


def _output(neuron: Neuron) -> float:
    if neuron.output is None:  # cannot happen after a forward pass; for the type checker
        raise RuntimeError(f"neuron {neuron!r} has no output")
    return neuron.output.data


def outputs(model: MLP, X: Any, *, engine: str = "auto") -> np.ndarray:
    """The model's outputs on every row of ``X``: an (n, outputs) array of floats.

    ``engine="auto"`` and ``"compiled"`` replay traced neurons with numpy;
    ``"interpreted"`` calls the model on each row. Both give the same numbers.

    >>> model = MLP(1, [1], output_activation="linear", init="zeros")
    >>> model.weight(1, 1, 1).data = 2.0
    >>> outputs(model, [[1.0], [3.0]]).tolist()
    [[2.0], [6.0]]
    """
    return layer_outputs(model, X, engine=engine)[-1]


def predict(model: MLP, X: Any, *, engine: str = "auto") -> list[Any]:
    """The model's answer for every row: a class label if it was trained on labels.

    Otherwise the output itself: a float for a one-output model, a list for K outputs.

    >>> model = MLP(1, [1], output_activation="linear", init="zeros")
    >>> model.weight(1, 1, 1).data = 2.0
    >>> predict(model, [[1.0], [3.0]])
    [2.0, 6.0]
    >>> model.classes = ("small", "large")
    >>> predict(model, [[-1.0], [3.0]])
    ['small', 'large']
    """
    out = outputs(model, X, engine=engine)
    if model.classes is not None:
        encoding = ClassEncoding(model.classes, model.sizes[-1], model.output_activation)
        return [encoding.decode(row) for row in out.tolist()]
    if model.sizes[-1] == 1:
        return out[:, 0].tolist()
    return out.tolist()


def accuracy(model: MLP, X: Any, y: Any, *, engine: str = "auto") -> float:
    """The fraction of rows the model gets right.

    For a model trained on class labels, ``y`` holds labels, compared with
    :func:`predict`. Otherwise ``y`` holds the numeric targets of a classifier: one
    output is right when it is on the target's side of the middle of its range (0 for
    tanh, 0.5 for sigmoid), K outputs when the largest is where the target's is.

    >>> model = MLP(1, [1], output_activation="linear", init="uniform", seed=3)
    >>> accuracy(model, [[1.0], [-1.0]], [1.0, -1.0]) in (0.0, 1.0)
    True
    """
    inputs = check_inputs(check_model(model), X)
    if model.classes is not None:
        y = _as_targets(y, len(inputs))
        wanted = _labels_among(model.classes, y)
        labels = predict(model, inputs.tolist(), engine=engine)
        return sum(a == b for a, b in zip(labels, wanted, strict=True)) / len(inputs)
    if isinstance(y, Sequence) and any(isinstance(t, str) for t in y):
        raise ValueError(
            "y holds class labels, but this model was not trained on class labels; "
            "train it on them first (nn.train(model, X, labels))"
        )
    targets, _ = encode_targets(model, y, len(inputs), "regression")
    out = outputs(model, inputs.tolist(), engine=engine)
    wanted_array = np.array(targets)
    if model.sizes[-1] == 1:
        low, high = output_range(model.output_activation)
        middle = (low + high) / 2
        right = (out[:, 0] > middle) == (wanted_array[:, 0] > middle)
    else:
        right = out.argmax(axis=1) == wanted_array.argmax(axis=1)
    return float(right.mean())


SATURATED_SLOPE = 1e-4
"""A unit's local derivative below this share of its largest: saturated."""


def saturated_share(
    model: MLP, X: Any, *, threshold: float = SATURATED_SLOPE, engine: str = "auto"
) -> float:
    """The share of (row, unit) pairs, over units with a bounded activation such as tanh
    or sigmoid, whose unit is saturated on that row.

    A unit is saturated when its local derivative (``1 - O^2`` for tanh, ``O (1 - O)``
    for sigmoid: the op table's rule) is below ``threshold`` times its value at 0, the
    largest: its output is pinned at the edge of its range and almost no gradient flows
    back through it. 0.0 when the model has no such units.

    >>> model = MLP(1, [1], init="zeros")
    >>> model.weight(1, 1, 1).data = 50.0
    >>> saturated_share(model, [[1.0], [0.0]])  # tanh(50) is pinned at 1, tanh(0) is not
    0.5
    """
    saturated, total = 0, 0
    below = check_inputs(check_model(model), X)
    layers = zip(model.weight_matrices(), layer_outputs(model, X, engine=engine), strict=True)
    for (W, b, activation), out in layers:
        op = activation_op(activation)
        if op is not None and saturates(op):
            rule = op.derivatives[0]
            z = below @ W if b is None else below @ W + b
            slope = rule(z, out)
            largest = rule(0.0, op(0.0))
            saturated += int(np.count_nonzero(slope < threshold * largest))
            total += out.size
        below = out
    return saturated / total if total else 0.0
