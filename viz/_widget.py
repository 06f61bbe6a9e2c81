"""The notebook widget's kernel side: :func:`viz.widget` makes it (this module needs
anywidget, which ``import viz`` does not).

The page is the explorer's (:func:`viz.explorer`); the front-end module
(``explorer_assets/widget.js``) carries numbers between it and the traits below. The
kernel is the referee: every change the page sends is checked here and then taken whole,
or refused whole, its reason in ``error`` and the kernel's numbers sent back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets
from traitlets import TraitError

from nn.checks import COUNT, NON_NEGATIVE, POSITIVE, Rule, few
from nn.model import MLP
from nn.notation import output_label
from viz._labels import counted
from viz.explorer import Explorer

__all__ = ["ExplorerWidget"]

# Set by the kernel only: the page, and the labels of the numbers the traits hold.
_FIXED = ("_page", "_labels", "_row_labels")


class ExplorerWidget(anywidget.AnyWidget):
    """The explorer page bound to an ``nn.MLP`` in the kernel: see :func:`viz.widget`.

    ``sync()`` shows the model's weights as they are now in Python; ``X`` and ``Y`` are
    the data the widget trains on (with its edits), ``model`` the model it is bound to.

    >>> import nn, viz
    >>> model = nn.MLP(2, [1], seed=0)
    >>> w = viz.widget(model, [[1.0, 2.0], [0.5, -1.0]], [0.5, -0.5])
    >>> w.model is model, w.X.shape, w.Y.shape
    (True, (2, 2), (2, 1))
    >>> model.weight(1, 1, 1).data = 0.25; w.sync(); w.weights[0]
    0.25
    """

    _esm = Path(__file__).parent / "explorer_assets" / "widget.js"
    _page = traitlets.Unicode().tag(sync=True)
    _labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _row_labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    weights = traitlets.List(traitlets.Float()).tag(sync=True)
    row = traitlets.List(traitlets.Float()).tag(sync=True)
    sample = traitlets.Int().tag(sync=True)
    eta = traitlets.Float().tag(sync=True)
    l2 = traitlets.Float().tag(sync=True)
    tol = traitlets.Float().tag(sync=True)
    epochs = traitlets.Int().tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, model: MLP, page: Explorer, eta: float) -> None:
        batch = page.batch
        if batch is None:  # unreachable: viz.widget passes a network's page
            raise ValueError("a widget needs a network's page, with its data")
        self._model = model
        self._page_made = page
        self._params = list(batch.params)
        self._activations = _activations(model)
        self._X = [list(row) for row in batch.X]
        self._Y = [list(row) for row in batch.Y]
        super().__init__(
            _page=page.html,
            _labels=[p.label for p in self._params],
            _row_labels=[v.label for v in (*batch.xs, *batch.ys)],
            weights=[p.data for p in self._params],
            row=self._X[batch.sample] + self._Y[batch.sample],
            sample=batch.sample,
            eta=eta,
            l2=batch.l2,
            tol=batch.tol,
            epochs=batch.epochs,
        )

    @property
    def model(self) -> MLP:
        """The model whose parameters the widget shows and sets."""
        return self._model

    @property
    def X(self) -> np.ndarray:
        """The inputs Train uses, one row per sample, with the widget's edits (a copy)."""
        return np.array(self._X, dtype=float)

    @property
    def Y(self) -> np.ndarray:
        """The numbers the outputs are fitted to, one row per sample (a copy)."""
        return np.array(self._Y, dtype=float)

    def sync(self) -> None:
        """Show the model's weights as they are now in Python, after a change made there
        (``w.data = ...``, ``nn.train``, ``nn.load_parameters``): one message to the page.

        Raises ``traitlets.TraitError``, and changes nothing, if a weight is not a finite
        number or the model is no longer the one the widget was made with.
        """
        with self.hold_sync():
            self.weights = [p.data for p in self._params]
            self.error = ""

    # --- the page's changes: all or none ------------------------------------------------

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """A change sent by the page, taken whole or refused whole (see the module)."""
        try:
            fixed = [key for key in sync_data if key in _FIXED]
            if fixed:
                raise TraitError(f"{', '.join(fixed)} is set by the kernel, not by the page")
            self._check_model()
            super().set_state(sync_data)
        except TraitError as refusal:
            self.error = f"the kernel kept its numbers: {refusal}"
            self.send_state([key for key in sync_data if key in self.keys])
            return
        if self.error and "error" not in sync_data:
            self.error = ""

    def _check_model(self) -> None:
        """A TraitError if the model is no longer the one the widget shows."""
        why = _changed(self._model, self._params, self._activations)
        if why:
            raise TraitError(
                f"the model is not the one this widget was made with: {why}; "
                "make a new widget with viz.widget(model, X, y)"
            )

    @traitlets.validate("weights")
    def _valid_weights(self, proposal: Any) -> list[float]:
        self._check_model()
        return _numbers(proposal.value, self._labels, "weights")

    @traitlets.validate("row")
    def _valid_row(self, proposal: Any) -> list[float]:
        return _numbers(proposal.value, self._row_labels, "row")

    @traitlets.validate("sample")
    def _valid_sample(self, proposal: Any) -> int:
        sample = proposal.value
        if not 0 <= sample < len(self._X):
            raise TraitError(f"sample must be a row, 0 to {len(self._X) - 1}; got {sample}")
        return int(sample)

    @traitlets.validate("eta")
    def _valid_eta(self, proposal: Any) -> float:
        return _checked(POSITIVE, proposal.value, "eta")

    @traitlets.validate("l2", "tol")
    def _valid_penalty(self, proposal: Any) -> float:
        return _checked(NON_NEGATIVE, proposal.value, proposal.trait.name)

    @traitlets.validate("epochs")
    def _valid_epochs(self, proposal: Any) -> int:
        return _checked(COUNT, proposal.value, "epochs")

    # --- what a change does in the kernel ----------------------------------------------

    @traitlets.observe("weights")
    def _set_weights(self, change: Any) -> None:
        for p, w in zip(self._params, self.weights, strict=True):
            p.data = w

    @traitlets.observe("row")
    def _set_row(self, change: Any) -> None:
        inputs = len(self._X[self.sample])
        self._X[self.sample] = self.row[:inputs]
        self._Y[self.sample] = self.row[inputs:]

    @traitlets.observe("sample")
    def _show_row(self, change: Any) -> None:
        self.row = self._X[self.sample] + self._Y[self.sample]

    # --- display -------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        """Where a notebook has no widgets: the page as it was made (no binding)."""
        return self._page_made._repr_html_()

    def __repr__(self) -> str:
        params = counted(len(self._params), "parameter")
        return f"<ExplorerWidget: the {params} of {self._model!r}, {len(self._X)} rows>"


def _numbers(values: Sequence[float], labels: Sequence[str], what: str) -> list[float]:
    """``values``, one finite number per label, or a TraitError saying which is not."""
    if len(values) != len(labels):
        raise TraitError(
            f"{what} must hold one number for each of {few(labels, 3)}; got {len(values)}"
        )
    for label, value in zip(labels, values, strict=True):
        if not math.isfinite(value):
            raise TraitError(f"{label} must be a finite number, got {value!r}")
    return list(values)


def _checked(rule: Rule[Any], value: Any, name: str) -> Any:
    try:
        return rule.check(value, name)
    except (TypeError, ValueError) as refusal:
        raise TraitError(str(refusal)) from None


def _activations(model: MLP) -> list[list[str]]:
    return [[neuron.activation for neuron in layer.neurons] for layer in model.layers]


def _changed(model: MLP, params: list[Any], activations: list[list[str]]) -> str:
    """How ``model`` differs from the parameters and activations a widget was made with
    ("" if it does not)."""
    now = model.parameters()
    if len(now) != len(params):
        return f"it has {counted(len(now), 'parameter')} now, the widget {len(params)}"
    for old, new in zip(params, now, strict=True):
        if old is not new:
            return f"its {new.label} is another Value than the widget's"
    # The same parameters: the same layers and neurons.
    for k, (before, after) in enumerate(zip(activations, _activations(model), strict=True), 1):
        for j, (old_name, new_name) in enumerate(zip(before, after, strict=True), start=1):
            if old_name != new_name:
                return f"{output_label(k, j)} applies {new_name} now, {old_name} in the widget"
    return ""
