"""Training's fast path: one sample's loss traced once, then replayed over the whole batch.

The graph of ``sum (y - yhat)^2`` for one sample has the same shape for every sample, so
:func:`autograd.trace` flattens it once and each epoch replays it over the batch, in
the numpy code generated for it (see :mod:`autograd.codegen`; ``BatchedLoss(...).source``
shows it). The weights are shared inputs, so their gradients come back summed over the
batch: exactly ``dL/dw`` of the interpreted engine's total loss, computed with the same
rules from the same table.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

import numpy as np

from autograd import Program, Value, trace
from autograd.replay import BatchReplay, batch_replay
from nn.losses import l1 as l1_penalty
from nn.losses import l2 as l2_penalty
from nn.losses import sse
from nn.model import MLP
from nn.notation import input_label, target_label

__all__ = ["BatchedLoss"]


def _check_finite(data: np.ndarray, where: str) -> None:
    """A ValueError naming the first entry of ``data`` that is not a finite number."""
    bad = np.argwhere(~np.isfinite(data))
    if len(bad):
        row, column = (int(i) for i in bad[0])
        entry = where.format(row=row, column=column)
        value = float(data[row, column])
        raise ValueError(f"{entry} is {value!r}: the data must be finite numbers")


class BatchedLoss:
    """The notes' objective and its gradient on ``(X, Y)``, by replaying traced programs.

    ``Y`` holds one row of targets per sample. The data become numpy columns once, here
    (a non-finite entry is refused, naming its row and column); each call picks the rows
    of one batch.

    >>> model = MLP(2, [1], init="zeros")
    >>> batched = BatchedLoss(model, [[1.0, 2.0], [3.0, 4.0]], [[0.5], [1.0]])
    >>> loss, gradients = batched([0, 1], l2=0.0, l1=0.0)
    >>> loss, gradients.tolist()
    (1.25, [-7.0, -10.0])
    """

    def __init__(
        self, model: MLP, X: Sequence[Sequence[float]] | np.ndarray, Y: Sequence[Sequence[float]]
    ):
        self.params = model.parameters()
        x_array, y_array = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
        _check_finite(x_array, "X[{row}][{column}]")
        _check_finite(y_array, "y[{row}]" if y_array.shape[1] == 1 else "y[{row}][{column}]")
        # One row per column of the data: a batch is one gather, and a full batch none.
        self.columns = np.ascontiguousarray(np.concatenate([x_array, y_array], axis=1).T)
        inputs, targets = range(1, model.sizes[0] + 1), range(1, y_array.shape[1] + 1)
        xs = [Value(0.0, label=input_label(i), requires_grad=False) for i in inputs]
        ys = [Value(0.0, label=target_label(j), requires_grad=False) for j in targets]
        out = model(xs)
        preds = out if isinstance(out, list) else [out]
        self.sample_loss: Program = trace(sse(preds, ys), [*self.params, *xs, *ys])
        # The weights shared by every sample, the data batched: the generated code.
        batched = np.array([False] * len(self.params) + [True] * (len(xs) + len(ys)))
        self.replay: BatchReplay = batch_replay(self.sample_loss, batched)
        self._penalties: dict[str, Program] = {}

    def threads(self) -> AbstractContextManager[None]:
        """BLAS's threads for a run of calls on the whole data, set once (see
        :meth:`autograd.replay.BatchReplay.threads`)."""
        return self.replay.threads(self.columns.shape[1])

    @property
    def source(self) -> str:
        """The numpy source of one replay over a batch: forward, checks and backward."""
        return self.replay.source

    def penalty(self, name: str) -> Program:
        """``sum w^2`` (``"l2"``) or ``sum |w|`` (``"l1"``) traced on the parameters, once.

        Traced with lambda = 1 and scaled per call: multiplying by lambda afterwards
        gives the interpreted engine's numbers exactly (lambda * 2w == 2 * (lambda * w)).
        """
        if name not in self._penalties:
            build = l2_penalty if name == "l2" else l1_penalty
            self._penalties[name] = trace(build(self.params), self.params)
        return self._penalties[name]

    def __call__(
        self,
        rows: Sequence[int] | None,
        l2: float,
        l1: float,
        weights: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray]:
        """The objective on the given rows (None: all of them) and dL/dw per parameter,
        in ``parameters()`` order; at ``weights`` (one per parameter) or, by default,
        the model's own."""
        if weights is None:
            weights = np.array([p.data for p in self.params])
        columns = self.columns if rows is None else self.columns[:, np.asarray(rows, dtype=int)]
        result = self.replay.run(weights, columns, with_grad=True)
        if result is None:  # a check fired: the interpreted replay finds the sample
            losses, grads = self.sample_loss.value_and_grad([*weights.tolist(), *columns])
            gradients = np.array(grads[: len(weights)])
        else:
            losses, summed, _ = result
            gradients = np.asarray(summed)
        with np.errstate(over="ignore"):  # an infinite total is reported by train
            loss = float(np.sum(losses))
        for lam, name in ((l2, "l2"), (l1, "l1")):
            if lam:
                value, penalty_grads = self.penalty(name).value_and_grad(weights.tolist())
                loss += lam * value
                gradients = gradients + lam * np.array(penalty_grads)
        return loss, gradients
