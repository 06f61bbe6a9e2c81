"""``widget``: the live explorer in a notebook, bound to a model in the kernel.

The explorer page of :func:`viz.explorer` as a Jupyter widget (anywidget: JupyterLab,
Notebook 7, VS Code) whose numbers are the model's own: an edit or a Train in the widget
sets the weights' ``.data`` in Python, and ``sync()`` after a change made in Python (a
weight set by hand, ``nn.train``, ``nn.load_parameters``) redraws the widget. It needs
the ``jupyter`` extra, ``pip install chainrule[jupyter]``; ``import viz`` does not.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from nn.model import MLP
from viz.explorer import explorer

if TYPE_CHECKING:
    from viz._widget import ExplorerWidget

__all__ = ["widget"]

_MISSING = (
    "viz.widget needs anywidget, which is not installed: pip install chainrule[jupyter] "
    "(without it, viz.explorer(model, X, y) shows the same page, not bound to the model)"
)


def widget(
    model: MLP,
    X: Any,
    y: Any,
    *,
    sample: int = 0,
    eta: float = 0.01,
    l2: float = 0.0,
    tol: float = 1e-4,
    epochs: int = 100,
    task: str = "auto",
    title: str = "",
) -> ExplorerWidget:
    """The explorer page of ``model`` on ``(X, y)`` as a notebook widget bound to ``model``.

    The arguments are :func:`viz.explorer`'s, and so is the page. Show the widget as a
    cell's last line. It and the kernel hold the same numbers, as traits:

    - ``weights``: the model's parameters in ``parameters()`` order. A weight typed into
      the widget sets its ``.data`` in Python at once; Train sets them all, in one
      message at most every quarter of a second while it runs, and at its end. After
      changing them in Python, call ``sync()`` and the widget shows them: after
      ``nn.train(model, w.X, w.Y, lr=w.eta, l2=w.l2, tol=w.tol)``, for instance.
    - ``row`` and ``sample``: the shown row's ``x_i`` then ``y``, and its index. The widget
      trains on its own copy of the data, ``w.X`` and ``w.Y`` (the numbers the outputs
      are fitted to): an edit of ``x_i`` or ``y`` changes that copy, never your arrays.
    - ``eta``, ``l2``, ``tol``, ``epochs``: Train's settings, ``nn.train``'s ``lr``, ``l2``,
      ``tol`` and how many epochs one Train runs at most. Set them from either side.
    - ``error``: why the latest change was refused, by the kernel or by the page ("" if
      none). A refused change leaves both sides' numbers as they were; the widget shows
      the reason above the page.

    The widget stays bound to the Values it was made with: once the model has other
    parameters or another activation, its changes are refused and ``sync()`` raises,
    saying what changed; make a new widget. Where a notebook has no widgets (a
    code-hosting site, nbconvert) it shows the page as it was made, as ``viz.explorer``
    does. Without anywidget it raises ModuleNotFoundError, saying in one line to
    ``pip install chainrule[jupyter]``.

    >>> import nn, viz
    >>> data = nn.iris_binary("setosa")
    >>> model = nn.MLP(4, [3, 2, 1], seed=0)
    >>> w = viz.widget(model, data.X, data.y, eta=0.01)
    >>> w.weights[0] == model.weight(1, 1, 1).data, w.row == [*data.X[0], data.y[0]]
    (True, True)
    >>> w.set_state({"weights": [0.5] + w.weights[1:]})  # an edit in the widget
    >>> model.weight(1, 1, 1).data
    0.5
    >>> model.weight(1, 1, 1).data = -0.25; w.sync()  # a change in Python
    >>> w.weights[0]
    -0.25
    """
    if not isinstance(model, MLP):
        raise TypeError(
            f"widget: expected an nn.MLP with its data, widget(model, X, y), got "
            f"{type(model).__name__}; for an expression, viz.explorer(root) makes its page"
        )
    if importlib.util.find_spec("anywidget") is None:
        raise ModuleNotFoundError(_MISSING, name="anywidget")
    from viz._widget import ExplorerWidget

    page = explorer(
        model, X, y, sample=sample, eta=eta, l2=l2, tol=tol, epochs=epochs, task=task, title=title
    )
    return ExplorerWidget(model, page, eta)
