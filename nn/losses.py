"""Losses and regularisers, as separate pieces that add up to the lecture notes' objective.

``L = sse(preds, targets) + lam * l2(model.parameters())`` is the notes'
``L = sum (y - yhat)^2 + Reg``.

>>> from autograd import Value
>>> sse([Value(0.5), Value(-1.0)], [1.0, -1.0]).data
0.25
>>> l2([Value(3.0), Value(-4.0)]).data, l1([Value(3.0), Value(-4.0)]).data
(25.0, 7.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from autograd import Value, as_float
from nn.notation import target_label

__all__ = ["sse", "mse", "l2", "l1"]


def sse(preds: Sequence[Value | float], targets: Sequence[Value | float]) -> Value:
    """Sum of squared errors ``sum_n (y_n - yhat_n)^2``: the lecture notes' loss.

    Targets are numbers, or Values when the loss is traced for replay on other data. A
    number becomes a constant labelled ``y`` (``y_1``, ``y_2``, ... for several), so that
    pictures and ledgers read ``(y - yhat)^2`` as the notes write it.

    >>> sse([0.0, 2.0], [1.0, 1.0]).data
    2.0
    """
    _check_pair(preds, targets)
    total: Value | None = None
    for n, (p, y) in enumerate(zip(preds, targets, strict=True)):
        target = y
        if not isinstance(y, Value):
            label = target_label(None if len(preds) == 1 else n + 1)
            target = Value(as_float(y, f"targets[{n}]"), label=label, requires_grad=False)
        # One ** node, not error * error: the graph then has the notes' paths, one per
        # route through the network, instead of two per route into the square.
        square = (target - _value(p, f"preds[{n}]")) ** 2
        total = square if total is None else total + square
    if total is None:
        raise ValueError("sse needs at least one prediction")
    return total


def mse(preds: Sequence[Value | float], targets: Sequence[Value | float]) -> Value:
    """Mean squared error: :func:`sse` divided by the number of predictions.

    >>> mse([0.0, 2.0], [1.0, 1.0]).data
    1.0
    """
    return sse(preds, targets) * (1.0 / len(preds))


def l2(params: Sequence[Value]) -> Value:
    """``sum w^2`` over ``params`` (weight decay); multiply by your lambda.

    >>> l2([Value(1.0), Value(2.0)]).data
    5.0
    """
    total: Value | None = None
    for n, w in enumerate(params):
        v = _value(w, f"params[{n}]")
        total = v * v if total is None else total + v * v
    return _or_zero(total)


def l1(params: Sequence[Value]) -> Value:
    """``sum |w|`` over ``params`` (pushes weights to exactly 0); multiply by your lambda.

    >>> l1([Value(1.0), Value(-2.0)]).data
    3.0
    """
    total: Value | None = None
    for n, w in enumerate(params):
        v = abs(_value(w, f"params[{n}]"))
        total = v if total is None else total + v
    return _or_zero(total)


def _or_zero(total: Value | None) -> Value:
    return Value(0.0, requires_grad=False) if total is None else total


def _check_pair(preds: Any, targets: Any) -> None:
    for name, seq in (("preds", preds), ("targets", targets)):
        if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence):
            raise TypeError(f"{name} must be a sequence, got {type(seq).__name__}: {seq!r}")
    if len(preds) != len(targets):
        raise ValueError(
            f"preds and targets differ in length: {len(preds)} predictions, {len(targets)} targets"
        )


def _value(x: Any, what: str) -> Value:
    if isinstance(x, Value):
        return x
    return Value(as_float(x, what), requires_grad=False)
