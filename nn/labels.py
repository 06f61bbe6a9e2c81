"""Class labels: how a model with one or K outputs learns and reports them.

Targets that are ints or strings are class labels. Two classes fit a one-output model:
the first class (in sorted order) is the output's low value, the second its high value.
K classes fit a K-output model, one-hot. The low and high values follow the output
activation: -1 and +1 for ``tanh`` (and ``linear``), 0 and 1 for ``sigmoid`` (and
``relu``). A prediction is the class whose value the output is nearest: the output's
sign (or side of 0.5) for one output, the largest output (argmax) for K.

>>> encoding = ClassEncoding(("cat", "dog"), outputs=1, output_activation="tanh")
>>> encoding.encode("dog"), encoding.decode([-0.3])
([1.0], 'cat')
>>> digits = ClassEncoding(tuple(range(10)), outputs=10, output_activation="sigmoid")
>>> digits.encode(2)[:4], digits.decode([0.1, 0.2, 0.9, 0, 0, 0, 0, 0, 0, 0.3])
([0.0, 0.0, 1.0, 0.0], 2)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nn.activations import activation_op

__all__ = [
    "Label",
    "TASKS",
    "ClassEncoding",
    "is_label",
    "output_range",
    "class_labels",
    "as_label",
    "looks_like_classes",
]

Label = int | str
TASKS = ("auto", "classification", "regression")


def is_label(target: Any) -> bool:
    """Whether ``target`` is a class label: an int (not a bool) or a string.

    >>> is_label(3), is_label("cat"), is_label(3.0), is_label(True)
    (True, True, False, False)
    """
    if isinstance(target, bool):
        return False
    return isinstance(target, (str, numbers.Integral))


def output_range(output_activation: str) -> tuple[float, float]:
    """The (low, high) target values that stand for "no" and "yes" at an output.

    The activation's own range, within -1 and 1: an unbounded end (relu's top,
    both ends of ``linear``) is taken as 1 or -1.

    >>> output_range("tanh"), output_range("sigmoid"), output_range("relu")
    ((-1.0, 1.0), (0.0, 1.0), (0.0, 1.0))
    """
    op = activation_op(output_activation)
    low, high = (-math.inf, math.inf) if op is None or op.activation is None else op.activation
    return max(low, -1.0), min(high, 1.0)


@dataclass(frozen=True)
class ClassEncoding:
    """The targets a model with ``outputs`` outputs learns for each class, and back.

    >>> iris = ClassEncoding(("setosa", "versicolor", "virginica"), 3, "tanh")
    >>> iris.encode("versicolor"), iris.decode([0.1, -0.2, 0.7])
    ([-1.0, 1.0, -1.0], 'virginica')
    """

    classes: tuple[Label, ...]
    outputs: int
    output_activation: str

    def __post_init__(self) -> None:
        wanted = 2 if self.outputs == 1 else self.outputs
        if len(self.classes) == 1:
            raise ValueError(
                f"y holds only one class, {self.classes[0]!r}: there is nothing to tell apart"
            )
        if len(self.classes) != wanted:
            names = ", ".join(repr(c) for c in self.classes)
            if self.outputs == 1:
                advice = (
                    f"a one-output model tells 2 classes apart; for {len(self.classes)} "
                    f"classes give the last layer {len(self.classes)} neurons (one-hot)"
                )
            else:
                advice = f"a model with {self.outputs} outputs takes {self.outputs} (one-hot)"
            raise ValueError(f"y holds {len(self.classes)} classes ({names}); {advice}")

    def encode(self, label: Label) -> list[float]:
        """The target values for ``label``: one number, or a one-hot row of K.

        >>> two = ClassEncoding(("no", "yes"), 1, "sigmoid")  # the ends of sigmoid's range
        >>> two.encode("no"), two.encode("yes")
        ([0.0], [1.0])
        """
        low, high = output_range(self.output_activation)
        index = self.classes.index(label)
        if self.outputs == 1:
            return [high if index == 1 else low]
        return [high if k == index else low for k in range(self.outputs)]

    def decode(self, outputs: Sequence[float]) -> Label:
        """The class whose target ``outputs`` is nearest (argmax for K outputs).

        >>> two = ClassEncoding(("no", "yes"), 1, "tanh")  # targets -1 and 1: 0 between
        >>> two.decode([0.3]), two.decode([-0.3])
        ('yes', 'no')
        """
        if self.outputs == 1:
            low, high = output_range(self.output_activation)
            return self.classes[1] if outputs[0] > (low + high) / 2 else self.classes[0]
        best = max(range(self.outputs), key=lambda k: outputs[k])
        return self.classes[best]


def class_labels(y: Sequence[Any], name: str = "y") -> tuple[Label, ...]:
    """The distinct labels of ``y``, sorted (numbers by value, strings alphabetically).

    Whole floats count as ints, so 0.0/1.0/2.0 class codes become 0, 1, 2. Anything else
    raises ValueError naming the entry.

    >>> class_labels(["b", "a", "b"]), class_labels([2, 0.0, 1])
    (('a', 'b'), (0, 1, 2))
    """
    seen: set[Label] = set()
    kinds: set[type] = set()
    for n, target in enumerate(y):
        label = as_label(target, f"{name}[{n}]")
        seen.add(label)
        kinds.add(type(label))
    if len(kinds) > 1:
        raise ValueError(f"{name} mixes numbers and strings; class labels must be one or other")
    return tuple(sorted(seen))


def as_label(target: Any, what: str) -> Label:
    """``target`` as a class label; a whole float becomes an int."""
    if is_label(target):
        return target if isinstance(target, str) else int(target)
    if isinstance(target, numbers.Real) and not isinstance(target, bool):
        value = float(target)
        if math.isfinite(value) and value.is_integer():
            return int(value)
    raise ValueError(
        f"{what} is {target!r}, not a class label (an int, a string, or a whole number)"
    )


def looks_like_classes(y: Sequence[Any], *, max_classes: int = 10) -> bool:
    """Whether a column read from a file looks like class labels rather than numbers.

    Yes for text; for numbers, yes when all are whole, at most ``max_classes`` distinct
    values occur and each occurs at least twice (a measurement repeats less). A guess:
    the command line says what it guessed and how to override it.

    >>> looks_like_classes([0, 1, 2, 1, 0, 2]), looks_like_classes([3, 6, 9, 12, 15])
    (True, False)
    >>> looks_like_classes(["cat", "dog"]), looks_like_classes([0.5, 1.0, 0.5, 1.0])
    (True, False)
    """
    if any(isinstance(t, str) for t in y):
        return True
    if not all(isinstance(t, numbers.Real) and float(t).is_integer() for t in y):
        return False
    counts: dict[float, int] = {}
    for t in y:
        counts[float(t)] = counts.get(float(t), 0) + 1
    return len(counts) <= max_classes and min(counts.values()) >= 2
