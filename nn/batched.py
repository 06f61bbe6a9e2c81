"""Training's fast path: one sample's loss traced once, then replayed over the whole batch.

The graph of ``sum (y - yhat)^2`` for one sample has the same shape for every sample, so
:func:`autograd.trace` flattens it once and each epoch replays it with numpy, every slot
holding an array over the batch. The weights are shared inputs, so their gradients come
back summed over the batch: exactly ``dL/dw`` of the interpreted engine's total loss,
computed with the same rules from the same table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Program, Value, trace
from nn.losses import l1 as l1_penalty
from nn.losses import l2 as l2_penalty
from nn.losses import sse
from nn.model import MLP

__all__ = ["BatchedLoss"]


class BatchedLoss:
    """The seed's objective and its gradient for ``model``, by replaying traced programs.

    >>> model = MLP(2, [1], init="zeros")
    >>> loss, grads = BatchedLoss(model, 1)([[1.0, 2.0], [3.0, 4.0]], [[0.5], [1.0]], 0.0, 0.0)
    >>> loss, grads
    (1.25, [-7.0, -10.0])
    """

    def __init__(self, model: MLP, n_targets: int) -> None:
        self.params = model.parameters()
        xs = [Value(0.0, label=f"x_{i}", requires_grad=False) for i in range(1, model.sizes[0] + 1)]
        ys = [Value(0.0, label=f"y_{j}", requires_grad=False) for j in range(1, n_targets + 1)]
        out = model(xs)
        preds = out if isinstance(out, list) else [out]
        self.sample_loss: Program = trace(sse(preds, ys), [*self.params, *xs, *ys])
        self._penalties: dict[tuple[float, float], Program] = {}

    def __call__(
        self, X: Sequence[Sequence[float]], Y: Sequence[Sequence[float]], l2: float, l1: float
    ) -> tuple[float, list[float]]:
        """The objective on ``(X, Y)`` (a target row per sample) and dL/dw per parameter."""
        weights = [p.data for p in self.params]
        columns = [*np.asarray(X, dtype=float).T, *np.asarray(Y, dtype=float).T]
        losses, grads = self.sample_loss.value_and_grad([*weights, *columns])
        with np.errstate(over="ignore"):  # an infinite total is reported by train
            loss = float(np.sum(losses))
        gradients = grads[: len(weights)]
        if l2 or l1:
            penalty, penalty_grads = self._penalty(l2, l1).value_and_grad(weights)
            loss += penalty
            gradients = [g + p for g, p in zip(gradients, penalty_grads, strict=True)]
        return loss, gradients

    def _penalty(self, l2: float, l1: float) -> Program:
        """``l2 * sum w^2 + l1 * sum |w|``, traced once per pair of lambdas."""
        key = (l2, l1)
        if key not in self._penalties:
            total: Any = 0.0
            if l2:
                total = total + l2 * l2_penalty(self.params)
            if l1:
                total = total + l1 * l1_penalty(self.params)
            self._penalties[key] = trace(total, self.params)
        return self._penalties[key]
