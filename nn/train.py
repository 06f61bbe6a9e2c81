"""Training by gradient descent, as the notes write it: ``w_new = w_old - eta * dL/dw``.

Repeated until ``w_new ~= w_old`` (the largest change of a weight in an epoch is below
``tol``) or ``max_epochs``. Momentum and Adam are there too. ``History.stop_reason``
says honestly why training stopped: weights that stop moving are not always a fit.

>>> from nn.model import MLP
>>> model = MLP(1, [1], output_activation="linear", seed=0)
>>> history = train(model, [[1.0], [2.0]], [2.0, 4.0], lr=0.05, tol=1e-9, progress=False)
>>> history.converged, round(model.weight(1, 1, 1).data, 6)
(True, 2.0)
"""

from __future__ import annotations

import contextlib
import itertools
import math
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from tqdm import tqdm

from autograd import Value, no_grad
from autograd.replay import failed_sample
from nn.batched import BatchedLoss
from nn.checks import COUNT, NON_NEGATIVE, POSITIVE, few
from nn.evaluate import check_inputs, check_model, encode_targets, saturated_share
from nn.init import xavier_bound
from nn.labels import Label
from nn.losses import l1 as l1_penalty
from nn.losses import l2 as l2_penalty
from nn.losses import sse
from nn.model import MLP

__all__ = [
    "History",
    "TrainingDiverged",
    "OPTIMIZERS",
    "ENGINES",
    "STOP_REASONS",
    "train",
    "total_loss",
    "numerical_gradient",
]

Target = float | Sequence[float] | Label


class LossAndGradients(Protocol):
    """One batch's objective and dL/dw, from its row indices (None: every row), l2 and
    l1, at ``weights`` (one per parameter; None: the model's own)."""

    def __call__(
        self, rows: list[int] | None, l2: float, l1: float, weights: np.ndarray | None = None
    ) -> tuple[float, Sequence[float] | np.ndarray]: ...


OPTIMIZERS = ("gd", "momentum", "adam")
"""What ``train(optimizer=...)`` takes: gradient descent (the notes'), momentum, Adam."""
ENGINES = ("auto", "compiled", "interpreted")
STOP_REASONS = (
    "converged",
    "max_epochs",
    "oscillating",
    "saturated",
    "steps_too_small",
    "stalled",
    "diverged",
)
"""Every ``History.stop_reason`` there is (:func:`train` says what each one means)."""
# Measured thresholds for an honest stop_reason (see train's docstring).
SATURATED_SHARE = 0.5
STALLED_SHARE = 0.9
STILL_STEEP = 0.1
# Full-batch gradient descent at a small enough lr lowers the loss every epoch; at too
# large an lr it overshoots and the loss goes up and down. On Iris's three species at
# lr=0.01 the loss rose in about half of the last 20 epochs; at lr=0.001, in none.
OSCILLATION_WINDOW = 20
OSCILLATING_SHARE = 0.25
# ... and reaches no new low: a zig-zag that still sinks (versicolor at lr=0.001, by
# 0.9% in 20 epochs) is on its way, and a smaller lr only slows it down.
NEW_LOW = 1e-3
# At max_epochs a loss that fell by at least 1% in the last 20 epochs, going down more
# often than up, is still on its way, however high it is: Iris's three species with Adam
# at lr=0.01 fell by 13% in epochs 10-30 (no better than the mean at epoch 30, 88%
# accurate by epoch 300, still falling 1.5% per 20 epochs there); a regression target's
# offset without biases does not move at all (0.0%). Only a loss that no longer falls
# can be "stalled".
STILL_FALLING = 0.01
# A run cut short with its loss this many times its own lowest has overshot on the way
# (Iris as given, lr=0.5: lowest 7.06 at epoch 2503, 32.7 at epoch 3000, falling again):
# a larger learning rate would not help, a smaller one would.
SPIKED = 2.0
# tol=0 asks for exactly max_epochs epochs (the tests, the benchmarks and notebook 5 do
# so), and up to the default max_epochs such a run takes seconds on this data; beyond
# it, a stop rule that can never be met deserves a warning before the run starts.
FIXED_RUN_EPOCHS = 1000


class TrainingDiverged(ArithmeticError):
    """The loss or a weight left the floats during :func:`train`.

    The model is as it was before ``train`` was called: its weights (and classes) are
    restored. ``history`` holds the epochs that ran; ``lr`` and ``epoch`` say where.

    >>> from nn.model import MLP
    >>> model = MLP(1, [1], output_activation="linear", seed=0)
    >>> before = model.weight(1, 1, 1).data
    >>> try:
    ...     train(model, [[1.0]], [0.5], lr=1e308, progress=False)
    ... except TrainingDiverged as error:
    ...     print(error.epoch, error.lr, model.weight(1, 1, 1).data == before)
    2 1e+308 True
    """

    def __init__(self, message: str, *, lr: float, epoch: int, history: History) -> None:
        super().__init__(message)
        self.lr = lr
        self.epoch = epoch
        self.history = history


@dataclass
class History:
    """What happened in :func:`train`, epoch by epoch.

    ``losses[e]`` is the objective at the weights epoch ``e + 1`` started from (with
    ``batch_size``: the sum of that epoch's batch losses, each at the weights its batch
    started from); ``max_updates[e]`` the largest ``|w_new - w_old|`` of that epoch.
    ``final_loss`` is the objective at the weights training ended with. ``trajectories`` maps each
    parameter's label to its value before training and after every epoch (only with
    ``record_trajectories=True``). ``engine`` says which path computed the gradients
    (``"compiled"`` or ``"interpreted"``) and ``engine_note`` why.

    ``stop_reason`` is one of :data:`STOP_REASONS`, ``stop_note`` says what was measured
    and ``stop_advice`` what to try (never what is in use: an ``optimizer``, ``lr`` or
    ``bias`` already chosen); ``converged`` is true only for ``"converged"``.

    Printed, a History is one line; the lists are there to read or plot:

    >>> from nn.model import MLP
    >>> history = train(MLP(1, [1], seed=0), [[1.0]], [0.5], max_epochs=3, progress=False)
    >>> history  # doctest: +ELLIPSIS
    History(epochs=3, stop_reason='max_epochs', loss ... -> ..., lr=0.01, tol=0.0001, ...)
    >>> len(history.losses), len(history.max_updates)
    (3, 3)
    """

    lr: float
    tol: float
    optimizer: str = "gd"
    losses: list[float] = field(default_factory=list)
    max_updates: list[float] = field(default_factory=list)
    converged: bool = False
    converged_epoch: int | None = None
    final_loss: float = math.nan
    trajectories: dict[str, list[float]] | None = None
    engine: str = "interpreted"
    engine_note: str = ""
    stop_reason: str = ""
    stop_note: str = ""
    stop_advice: str = ""

    @property
    def epochs(self) -> int:
        """How many epochs ran.

        >>> History(lr=0.1, tol=1e-4, losses=[2.0, 1.5, 1.2]).epochs
        3
        """
        return len(self.losses)

    def __repr__(self) -> str:
        loss = f"loss {self.losses[0]:.4g} -> {self.final_loss:.4g}, " if self.losses else ""
        return (
            f"History(epochs={self.epochs}, stop_reason={self.stop_reason!r}, {loss}"
            f"lr={self.lr:g}, tol={self.tol:g}, optimizer={self.optimizer!r}, "
            f"engine={self.engine!r}; every epoch in .losses and .max_updates)"
        )


def total_loss(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[Target],
    *,
    l2: float = 0.0,
    l1: float = 0.0,
    task: str = "auto",
) -> Value:
    """The notes' objective ``L = sum (y - yhat)^2 + l2 * sum w^2 + l1 * sum |w|``.

    A Value labelled ``"L"``, built on the model's parameters (call ``.backward()``).
    Class labels in ``y`` count by their targets (see :mod:`nn.labels`); ``task`` is as
    in :func:`train`.

    >>> model = MLP(2, [1], init="zeros")
    >>> total_loss(model, [[1.0, 2.0]], [0.5]).data
    0.25
    """
    inputs = check_inputs(check_model(model), X).tolist()
    rows, _ = encode_targets(model, y, len(inputs), task)
    preds: list[Value] = []
    targets: list[float] = []
    for row, target in zip(inputs, rows, strict=True):
        out = model(row)
        preds.extend(out if isinstance(out, list) else [out])
        targets.extend(target)
    loss = sse(preds, targets)
    params = model.parameters()
    if l2:
        loss = loss + l2 * l2_penalty(params)
    if l1:
        loss = loss + l1 * l1_penalty(params)
    loss.label = "L"
    return loss


def _loss_and_gradients(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[Sequence[float]],
    l2: float,
    l1: float,
) -> tuple[float, list[float]]:
    """One pass: the objective and dL/dw for every parameter, in ``parameters()`` order.

    The whole of an epoch's calculus lives here, so a faster (compiled or vectorised)
    path can replace just this function.
    """
    loss = total_loss(model, X, y, l2=l2, l1=l1)
    model.zero_grad()
    loss.backward()
    return loss.data, [p.grad for p in model.parameters()]


def _choose_engine(
    engine: str,
    model: MLP,
    X: np.ndarray,
    y: Sequence[Sequence[float]],
    history: History,
) -> LossAndGradients:
    """The function giving one batch's loss and gradients (from its row indices), on the
    checked inputs ``X`` (an array, one row per sample).

    Notes in ``history`` which engine it uses and why.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    lists: list[list[float]] = []  # X's rows as lists, made once if the engine needs them

    def interpreted(
        rows: list[int] | None, l2: float, l1: float, weights: np.ndarray | None = None
    ) -> tuple[float, list[float]]:
        if weights is not None:  # the graph of Values is built on the model's weights
            _write(model.parameters(), weights)
        if not lists:
            lists.extend(X.tolist())
        if rows is None:
            return _loss_and_gradients(model, lists, y, l2, l1)
        return _loss_and_gradients(model, [lists[n] for n in rows], [y[n] for n in rows], l2, l1)

    if engine == "interpreted":
        history.engine, history.engine_note = "interpreted", "asked for engine='interpreted'"
        return interpreted
    try:
        batched = BatchedLoss(model, X, y)
    except (ValueError, TypeError, ArithmeticError) as error:
        if engine == "compiled":
            raise ValueError(f"engine='compiled' is not possible here: {error}") from error
        history.engine = "interpreted"
        history.engine_note = f"falling back: the model could not be traced ({error})"
        return interpreted
    history.engine = "compiled"
    history.engine_note = (
        "one sample's loss traced once, replayed over each batch by generated numpy code"
    )
    return batched


def numerical_gradient(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[Target],
    param: Value,
    *,
    l2: float = 0.0,
    l1: float = 0.0,
    eps: float = 1e-6,
) -> float:
    """dL/d``param`` by central finite differences, ``(L(w + eps) - L(w - eps)) / 2 eps``.

    An independent check of backpropagation; ``param`` is restored afterwards.

    >>> model = MLP(1, [1], output_activation="linear", init="zeros")
    >>> round(numerical_gradient(model, [[1.0]], [1.0], model.weight(1, 1, 1)), 6)
    -2.0
    """
    if not any(p is param for p in model.parameters()):
        raise ValueError(f"param {param.label or param!r} is not a parameter of this model")
    original = param.data
    try:
        with no_grad():
            param.data = original + eps
            upper = total_loss(model, X, y, l2=l2, l1=l1).data
            param.data = original - eps
            lower = total_loss(model, X, y, l2=l2, l1=l1).data
    finally:
        param.data = original
    return (upper - lower) / (2.0 * eps)


class _Optimizer:
    """Turns gradients into weight changes ``w_new - w_old``.

    The arithmetic runs on numpy arrays over all the weights at once: elementwise IEEE
    operations, so each change is the float the same formula gives weight by weight
    (measured: a Python loop over the 1,210 weights of a 64-16-10 network cost 0.5 ms an
    epoch, a sixth of the compiled epoch).
    """

    def __init__(self, name: str, lr: float, n: int) -> None:
        self.name = name
        self.lr = lr
        self.velocity = np.zeros(n)  # momentum, and Adam's first moment
        self.second = np.zeros(n)  # Adam's second moment
        self.steps = 0

    def deltas(self, grads: np.ndarray) -> np.ndarray:
        self.steps += 1
        if self.name == "gd":
            return -self.lr * grads
        if self.name == "momentum":
            self.velocity = 0.9 * self.velocity + grads
            return -self.lr * self.velocity
        b1, b2 = 0.9, 0.999
        self.velocity = b1 * self.velocity + (1 - b1) * grads
        self.second = b2 * self.second + (1 - b2) * grads * grads
        m_scale = 1.0 / (1.0 - b1**self.steps)
        s_scale = 1.0 / (1.0 - b2**self.steps)
        return -self.lr * self.velocity * m_scale / (np.sqrt(self.second * s_scale) + 1e-8)


def train(
    model: MLP,
    X: Sequence[Sequence[float]],
    y: Sequence[Target],
    *,
    lr: float = 0.01,
    l2: float = 0.0,
    l1: float = 0.0,
    tol: float = 1e-4,
    max_epochs: int = 1000,
    optimizer: str = "gd",
    batch_size: int | None = None,
    seed: int = 0,
    progress: bool = True,
    callback: Callable[[int, History], None] | None = None,
    record_trajectories: bool = False,
    engine: str = "auto",
    task: str = "auto",
) -> History:
    """Fit ``model`` to ``(X, y)`` by minimising :func:`total_loss`; returns a History.

    The default is the notes' full-batch gradient descent: every epoch computes
    ``dL/dw`` for all weights at ``w_old`` and sets ``w_new = w_old - lr * dL/dw``. It
    stops when the largest ``|w_new - w_old|`` of an epoch is below ``tol`` or after
    ``max_epochs``. ``optimizer`` may be ``"momentum"`` (0.9) or ``"adam"``.
    With ``batch_size`` each epoch takes one step per shuffled mini-batch (shuffled by
    ``random.Random(seed)``), each batch carrying its share of the regulariser.
    ``callback(epoch, history)`` runs after every epoch, the model holding that epoch's
    weights. A tqdm bar shows progress.

    ``y`` holds numbers to fit (one per output, or a sequence per row), or class labels:
    with ``task="auto"`` a ``y`` of ints or strings is read as labels, a one-output model
    telling two classes apart and a K-output model K classes, one-hot (see
    :mod:`nn.labels`). The model then remembers its classes (``model.classes``) and
    :func:`nn.predict` answers with them; training it on numbers clears them.
    ``task="regression"`` fits ints as numbers; ``task="classification"`` also reads
    whole floats (0.0, 1.0, ...) as labels.

    Why training stopped is ``history.stop_reason``. When the weights stop moving it is
    ``"converged"`` only if that means a fit: it is ``"saturated"`` when at least half of
    the (row, tanh/sigmoid unit) pairs are saturated (:func:`nn.saturated_share`: the
    units' outputs are pinned at the ends of their range, so the gradient vanished, not
    the error), ``"steps_too_small"`` when the largest ``|dL/dw|`` is still at least 10%
    of its value at the start (the steps at ``lr`` were below ``tol``, not at a minimum;
    measuring the start costs one extra pass over the data), and ``"stalled"`` when the
    loss without the regulariser is at least 90% of the loss of predicting the mean
    target for every row (the network learnt next to nothing). At ``max_epochs`` it is
    ``"max_epochs"`` while the loss still falls (by 1% or more in the last 20 epochs,
    mostly downwards, or too few epochs to tell): the run was cut short, whatever the
    loss. A loss that no longer falls is ``"stalled"`` as above, or ``"oscillating"`` when
    it went up in at least a quarter of the last 20 epochs and reached no new low there
    (the steps overshoot: a smaller ``lr`` helps, more epochs do not), else
    ``"max_epochs"``. ``stop_advice`` never suggests what is in use. With ``tol=0``,
    which no change can beat, and more than 1,000 epochs, a UserWarning says so first.

    ``engine="auto"`` (the default) traces one sample's loss once and replays it over
    the batch with numpy (the compiled path: same rules, same numbers, far faster),
    falling back to the interpreted engine if the model cannot be traced;
    ``"interpreted"`` builds the graph of Values every epoch, as ``total_loss`` does.
    ``history.engine`` and ``history.engine_note`` tell which ran and why; the final
    loss and the checks above use the same engine.

    Bad data raises before anything changes, naming the entry (``X[row 3, column 2]``,
    ``y[5]``). Raises :class:`TrainingDiverged`, naming ``lr`` and the epoch, if the
    loss or a weight stops being a finite float. On that or any other error the model's
    weights and classes are restored to what they were before the call; an interrupt
    (Ctrl-C) keeps the weights reached so far.

    >>> from nn.model import MLP
    >>> X, y = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]], [1.0, 1.0, -1.0, -1.0]
    >>> model = MLP(2, [3, 1], seed=0)  # XOR, as -1 and 1
    >>> history = train(model, X, y, lr=0.1, max_epochs=200, progress=False)
    >>> history.stop_reason, history.losses[0] > history.final_loss
    ('max_epochs', True)
    """
    inputs = check_inputs(check_model(model), X)
    targets, classes = encode_targets(model, y, len(inputs), task)
    lr = POSITIVE.check(lr, "lr")
    l2 = NON_NEGATIVE.check(l2, "l2")
    l1 = NON_NEGATIVE.check(l1, "l1")
    tol = NON_NEGATIVE.check(tol, "tol")
    max_epochs = COUNT.check(max_epochs, "max_epochs")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    batches = _batches(len(inputs), batch_size, random.Random(seed))
    never = _unreachable_stop(tol, max_epochs)
    if never:
        warnings.warn(never, UserWarning, stacklevel=2)

    params = model.parameters()
    history = History(lr=lr, tol=tol, optimizer=optimizer)
    loss_and_gradients = _choose_engine(engine, model, inputs, targets, history)
    before = [p.data for p in params], model.classes
    large_start = _larger_than_xavier(model)
    model.classes = classes
    try:
        # The slope at the start: weights that stop while it is still this steep stopped
        # because the steps are too small, not because the slope flattened.
        start_slope = _steepest(loss_and_gradients(None, l2, l1)[1])
        # The compiled path's BLAS threads, set once for all the epochs.
        held = loss_and_gradients.threads() if isinstance(loss_and_gradients, BatchedLoss) else None
        with held or contextlib.nullcontext():
            stopped = _descend(
                model, loss_and_gradients, batches, history, len(inputs), l2, l1, max_epochs,
                _Optimizer(optimizer, lr, len(params)), progress, callback, record_trajectories,
            )  # fmt: skip
        _explain_stop(
            model, inputs, targets, loss_and_gradients, history, stopped, start_slope, l2, l1
        )
        history.stop_advice = _advice(history, model, large_start)
    except Exception:
        for p, w in zip(params, before[0], strict=True):
            p.data = w
        model.classes = before[1]
        raise
    return history


def _descend(
    model: MLP,
    loss_and_gradients: LossAndGradients,
    batches: Callable[[], list[list[int] | None]],
    history: History,
    n_rows: int,
    l2: float,
    l1: float,
    max_epochs: int,
    step: _Optimizer,
    progress: bool,
    callback: Callable[[int, History], None] | None,
    record_trajectories: bool,
) -> bool:
    """The epochs of :func:`train`; True if the weights stopped moving, False at max_epochs.

    The weights live in one array while the epochs run, and go back into the model's
    Values whenever someone may look: before each ``callback``, and at the end (also on
    an error or an interrupt).
    """
    params = model.parameters()
    lr = history.lr
    weights = np.array([p.data for p in params])
    if record_trajectories:
        history.trajectories = {p.label: [p.data] for p in params}
    # disable=None: tqdm shows the bar only on a terminal, so logs stay clean.
    bar = tqdm(total=max_epochs, disable=None if progress else True, unit="epoch", leave=False)
    # The bar's loss and update are written at most ten times a second (tqdm redraws
    # no more often): formatting them every epoch costs more than a small epoch.
    next_postfix = 0.0
    try:
        for epoch in range(1, max_epochs + 1):
            epoch_loss, largest = 0.0, 0.0
            for batch in batches():
                share = 1.0 if batch is None else len(batch) / n_rows
                try:
                    loss, grads = loss_and_gradients(batch, l2 * share, l1 * share, weights)
                except OverflowError as error:
                    reason = str(error)
                    if failed_sample(error) is not None:
                        reason += f"; {_batch_rows(batch, n_rows)}"
                    raise _diverged(reason, lr, epoch, history) from error
                with np.errstate(over="ignore", invalid="ignore"):  # reported just below
                    new = weights + step.deltas(np.asarray(grads, dtype=float))
                    change = float(np.abs(new - weights).max(initial=0.0))
                if not math.isfinite(loss) or not math.isfinite(change):
                    what = "the loss" if not math.isfinite(loss) else "a weight"
                    raise _diverged(f"{what} is no longer a finite float", lr, epoch, history)
                largest = max(largest, change)
                weights = new
                epoch_loss += loss
            history.losses.append(epoch_loss)
            history.max_updates.append(largest)
            if history.trajectories is not None:
                for p, w in zip(params, weights.tolist(), strict=True):
                    history.trajectories[p.label].append(w)
            if not bar.disable and time.monotonic() >= next_postfix:
                bar.set_postfix(loss=f"{epoch_loss:.4g}", update=f"{largest:.2g}", refresh=False)
                next_postfix = time.monotonic() + 0.1
            bar.update(1)
            if callback is not None:
                _write(params, weights)
                callback(epoch, history)
            if largest < history.tol:
                return True
        return False
    finally:
        _write(params, weights)
        bar.close()


def _write(params: Sequence[Value], weights: np.ndarray) -> None:
    """The weights into the parameters' Values."""
    for p, w in zip(params, weights.tolist(), strict=True):
        p.data = w


def _explain_stop(
    model: MLP,
    X: np.ndarray,
    Y: list[list[float]],
    loss_and_gradients: LossAndGradients,
    history: History,
    stopped: bool,
    start_slope: float,
    l2: float,
    l1: float,
) -> None:
    """The final loss, and why training stopped: do weights that stopped mean a fit?"""
    try:
        history.final_loss, gradients = loss_and_gradients(None, l2, l1)
    except OverflowError as error:
        raise _diverged(str(error), history.lr, history.epochs, history) from error
    if not stopped:
        _explain_max_epochs(model, Y, loss_and_gradients, history, l2, l1)
        return
    share = saturated_share(model, X, engine=history.engine)
    if share >= SATURATED_SHARE:
        history.stop_reason = "saturated"
        history.stop_note = (
            f"the weights stopped moving because {share:.0%} of the tanh/sigmoid units "
            "are saturated (outputs pinned at the ends of their range, so almost no "
            "gradient flows back), not at a fit"
        )
        return
    slope = _steepest(gradients)
    if start_slope > 0.0 and slope >= STILL_STEEP * start_slope:
        history.stop_reason = "steps_too_small"
        history.stop_note = (
            f"the weights stopped moving while the loss is still steep (largest |dL/dw| = "
            f"{slope:.3g}, {slope / start_slope:.0%} of its value at the start): the steps "
            f"are smaller than tol={history.tol:g}, not at a minimum"
        )
        return
    if _stalled(model, Y, loss_and_gradients, history, l2, l1, "the weights stopped moving"):
        return
    history.stop_reason = "converged"
    history.converged, history.converged_epoch = True, history.epochs
    history.stop_note = (
        f"converged: no weight changed by more than tol={history.tol:g} in epoch "
        f"{history.epochs} (w_new ~= w_old)"
    )


def _explain_max_epochs(
    model: MLP,
    Y: list[list[float]],
    loss_and_gradients: LossAndGradients,
    history: History,
    l2: float,
    l1: float,
) -> None:
    """Why training ran to max_epochs: still on its way, stalled, or oscillating."""
    ran = f"stopped after max_epochs={history.epochs}"
    last = history.max_updates[-1]
    rises, window = _loss_rises(history.losses)
    recent = history.losses[-window - 1 :]
    fell = 1.0 - recent[-1] / recent[0] if window and recent[0] > 0.0 else 0.0
    still_falling = fell >= STILL_FALLING and rises < OSCILLATING_SHARE * window
    # Too few epochs to tell, or a loss still falling: the run was cut short, whatever
    # the loss is now. Then stalled: a network that cannot fit the data (a regression
    # target's offset without biases) also jumps about, but a smaller lr would not help.
    if window and not still_falling:
        if _stalled(model, Y, loss_and_gradients, history, l2, l1, ran):
            return
        earlier = history.losses[: -window - 1]
        # Oscillating: the loss goes up and down, and the ups and downs reach no new low.
        if rises >= OSCILLATING_SHARE * window and earlier:
            best_before = min(earlier)
            if min(recent) >= best_before * (1.0 - NEW_LOW):
                history.stop_reason = "oscillating"
                history.stop_note = (
                    f"{ran} with the loss oscillating, not falling: it went up in {rises} of "
                    f"the last {window} epochs, between {min(recent):.4g} and "
                    f"{max(recent):.4g}, never below its earlier low of {best_before:.4g}, and "
                    f"the weights still move by up to {last:.2g} an epoch: the steps overshoot"
                )
                return
    history.stop_reason = "max_epochs"
    falling = f", the loss down by {100 * fell:.2g}% in the last {window} epochs" if window else ""
    history.stop_note = (
        f"{ran} with the weights still moving (by up to {last:.2g} in the last epoch, "
        f"tol={history.tol:g}){falling}"
    )


def _stalled(
    model: MLP,
    Y: list[list[float]],
    loss_and_gradients: LossAndGradients,
    history: History,
    l2: float,
    l1: float,
    how: str,
) -> bool:
    """Mark ``history`` "stalled" if the fit is no better than predicting the mean target.

    ``how`` says how training ended ("the weights stopped moving", "stopped after ...").
    """
    data_loss = loss_and_gradients(None, 0.0, 0.0)[0] if (l2 or l1) else history.final_loss
    constant = 0.0  # the loss of predicting each target column's mean for every row
    for column in zip(*Y, strict=True):
        mean = math.fsum(column) / len(column)
        constant += math.fsum((t - mean) ** 2 for t in column)
    if not (constant > 0.0 and data_loss >= STALLED_SHARE * constant):
        return False
    history.stop_reason = "stalled"
    history.stop_note = (
        f"{how} at a loss sum (y - yhat)^2 = {data_loss:.4g}, no better than predicting the "
        f"mean target for every row ({constant:.4g}): the network cannot fit this data as it is"
    )
    return True


def _advice(history: History, model: MLP, large_start: bool) -> str:
    """What to try after ``history`` stopped without converging, never what is in use.

    The one writer of advice: the command line rewords its argument names as flags
    (``lr=0.001`` as ``--lr 0.001``, `` `seed` `` as ``--seed``). ``large_start``: some
    weight training started from was larger than Xavier's initialiser draws.
    """
    reason, lr = history.stop_reason, history.lr
    smaller = f"a smaller learning rate, e.g. lr={lr / 10:g}"
    if reason == "oscillating":
        return f"try {smaller}; more epochs will not help"
    if reason == "saturated":
        init = ", or smaller initial weights, e.g. init='xavier'" if large_start else ""
        return f"try {smaller}{init}"
    if reason == "steps_too_small":
        return (
            f"try a larger learning rate, e.g. lr={10 * lr:g}, or a smaller `tol`, "
            f"e.g. tol={history.tol / 10:g}"
        )
    if reason == "max_epochs":
        lowest = min(history.losses)
        _, window = _loss_rises(history.losses)  # 0: too few epochs to tell
        if window and history.losses[-1] > SPIKED * lowest:
            return (
                f"try {smaller}: the loss ends at {history.losses[-1]:.4g}, above its "
                f"lowest, {lowest:.4g} in epoch {history.losses.index(lowest) + 1}, so "
                "the steps overshoot"
            )
        adam = "" if history.optimizer == "adam" else ", or optimizer='adam'"
        return (
            f"allow more epochs, e.g. max_epochs={2 * history.epochs}, or try a larger "
            f"learning rate, e.g. lr={2 * lr:g}{adam}"
        )
    if reason == "stalled":
        biases = "" if model.has_bias else "biases (bias=True), "
        return f"try {biases}more hidden neurons (`nouts`), or another `init` or `seed`"
    return ""


def _larger_than_xavier(model: MLP) -> bool:
    """Whether a weight is larger than Xavier's uniform initialiser ever draws it."""
    for layer in model.layers:
        bound = xavier_bound(len(layer.neurons[0].weights), len(layer.neurons))
        if any(abs(w.data) > bound for neuron in layer.neurons for w in neuron.weights):
            return True
    return False


def _unreachable_stop(tol: float, max_epochs: int) -> str:
    """A warning when the stop rule can never be met in a long run ("" otherwise).

    The rule is ``max |w_new - w_old| < tol``; no change is below 0, so ``tol=0`` runs
    every epoch. (Any ``tol > 0`` can be met: a step below a weight's float spacing
    leaves it exactly as it was.)
    """
    if tol > 0.0 or max_epochs <= FIXED_RUN_EPOCHS:
        return ""
    return (
        f"tol={tol:g} can never be met: training stops once no weight changes by `tol` or "
        f"more in an epoch, and no change is below 0, so it will run all "
        f"max_epochs={max_epochs} epochs; to stop when w_new ~= w_old, give a `tol` > 0, "
        f"e.g. tol=0.0001"
    )


def _loss_rises(losses: Sequence[float]) -> tuple[int, int]:
    """``(rises, window)``: in how many of the last epochs (at most 20) the loss went up.

    A rise is an epoch whose loss exceeds the one before by more than rounding (one part
    in 1e9). ``window`` is 0 when fewer than 5 epochs ran: too few to tell.

    >>> _loss_rises([9, 8, 7, 6, 5, 4]), _loss_rises([5, 7, 5, 7, 5, 7])
    ((0, 5), (3, 5))
    """
    window = min(OSCILLATION_WINDOW, len(losses) - 1)
    if window < 5:
        return 0, 0
    recent = losses[-window - 1 :]
    rises = sum(1 for a, b in itertools.pairwise(recent) if b > a + 1e-9 * abs(a))
    return rises, window


def _steepest(gradients: Sequence[float] | np.ndarray) -> float:
    """The largest |dL/dw|: how steep the loss is at the current weights."""
    return float(np.max(np.abs(np.asarray(gradients, dtype=float)), initial=0.0))


def _batch_rows(batch: list[int] | None, n_rows: int) -> str:
    """Which rows of the data a batch holds, for an error naming "sample k of the batch":
    rows count from 0, where a CSV file's messages count its lines from 1 with the header."""
    first = "the first data row, line 2 of a CSV file under its header"
    if batch is None or batch == list(range(n_rows)):
        return f"the batch is every row in order, counted from 0: sample 0 is {first}"
    return f"the batch holds the rows {few(batch)}, counted from 0 (row 0 is {first})"


def _diverged(reason: str, lr: float, epoch: int, history: History) -> TrainingDiverged:
    history.stop_reason = "diverged"
    return TrainingDiverged(
        f"training diverged at epoch {epoch} with lr={lr:g}: {reason}. The model's weights "
        f"are restored to what they were before training; try a smaller learning rate, "
        f"e.g. lr={lr / 10:g}",
        lr=lr,
        epoch=epoch,
        history=history,
    )


def _batches(
    n: int, batch_size: int | None, rng: random.Random
) -> Callable[[], list[list[int] | None]]:
    """A function giving one epoch's batches of row indices (None: every row)."""
    if batch_size is None:
        return lambda: [None]
    size = COUNT.check(batch_size, "batch_size")

    def shuffled() -> list[list[int] | None]:
        order = list(range(n))
        rng.shuffle(order)
        return [order[s : s + size] for s in range(0, n, size)]

    return shuffled
