"""The command line's examples: the lecture notes' network on Iris, and their small h.

The demo, ``draw``, ``explain`` and ``explore`` all show the lecture notes' 4 -> 3 -> 2
-> 1 network on one Iris sample (:func:`demo_sample_loss`, one species against the
others); the step-by-step pictures start from the lecture notes' ``h = F * g + 1``
(:func:`notes_example`).
"""

from __future__ import annotations

import nn
from autograd import Value, topological_order
from nn.checks import between

__all__ = [
    "DEFAULT_OUT",
    "DEMO_SAMPLE",
    "DEMO_L2",
    "DEMO_LAYERS",
    "DEMO_LR",
    "DEMO_MAX_EPOCHS",
    "DEMO_SPECIES",
    "DEMO_TOL",
    "NOTES_WEIGHTS",
    "demo_sample_loss",
    "notes_example",
    "sample_title",
]

# Where the commands write their files unless given --out.
DEFAULT_OUT = "chainrule-out"
# The demo's network and data: the notes' 4 -> 3 -> 2 -> 1 MLP on Iris, one species
# against the others.
DEMO_LAYERS = (3, 2, 1)
DEMO_SPECIES = "setosa"
DEMO_SAMPLE = between(0, 149)
"""The number of an Iris sample (of its 150 rows, counted from 0): ``--sample``."""
# The demo's training settings, measured: on Iris (setosa vs the others, standardised)
# the notes' network converges (largest weight change < tol) in about 300 epochs to 100%
# accuracy. The explorer page of the demo's network starts from the same.
DEMO_LR = 0.01
DEMO_L2 = 1e-3
DEMO_TOL = 3e-4
DEMO_MAX_EPOCHS = 3000
# The lecture notes' worked examples, from the output layer down: (k, i, j) of w^k_ij.
NOTES_WEIGHTS = ((3, 1, 1), (2, 1, 1), (2, 2, 1), (1, 1, 1))


def notes_example() -> Value:
    """The notes' h = F * g + 1 with F = x * x and g = tanh(x), at x = 3 (labels x, F, g, h).

    >>> h = notes_example(); h.label, round(h.data, 4)
    ('h', 9.9555)
    """
    x = Value(3.0, label="x")
    F = x * x
    F.label = "F"
    g = x.tanh()
    g.label = "g"
    h = F * g + 1
    h.label = "h"
    return h


def sample_title(loss: Value, sample: int = 0, species: str = DEMO_SPECIES) -> str:
    """What a picture of ``loss`` (from :func:`demo_sample_loss`) shows, in one line.

    >>> model = nn.MLP(4, [3, 2, 1], seed=0)
    >>> print(sample_title(demo_sample_loss(model, 0)))
    Gradients of one sample's loss: Iris sample 0 (setosa: y = 1), yhat = O_31 = -0.9108, L = (y - yhat)^2 = 3.651
    """  # noqa: E501
    named = {node.label: node for node in topological_order(loss) if node.label}
    output = nn.output_label(len(DEMO_LAYERS), 1)
    y, yhat = named[nn.target_label()].data, named[output].data
    kind = species if y > 0 else f"not {species}"
    return (
        f"Gradients of one sample's loss: Iris sample {sample} ({kind}: y = {y:g}), "
        f"yhat = {output} = {yhat:.4g}, L = (y - yhat)^2 = {loss.data:.4g}"
    )


def demo_sample_loss(model: nn.MLP, sample: int = 0, species: str = DEMO_SPECIES) -> Value:
    """The loss ``L = (y - yhat)^2`` of one Iris sample on ``model``, labelled ``L``.

    The target is a constant labelled ``y`` and ``yhat`` is the output ``O_31``, so that
    pictures and formulas read as the lecture notes write the loss.

    >>> model = nn.MLP(4, [3, 2, 1], seed=0)
    >>> loss = demo_sample_loss(model, 0)
    >>> loss.label, round(loss.data, 4)
    ('L', 3.6512)
    """
    data = nn.iris_binary(species)
    DEMO_SAMPLE.check(sample, "sample")
    y = Value(data.y[sample], label=nn.target_label(), requires_grad=False)
    yhat = model(data.X[sample])
    if isinstance(yhat, list):  # unreachable for the demo's one output; kept for mypy
        raise ValueError(f"the demo's network has one output, this one has {len(yhat)}")
    loss = (y - yhat) ** 2
    loss.label = nn.loss_label()
    return loss
