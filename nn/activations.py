"""The activations a layer may use: the op table's rows that say they are one, and "linear".

An activation is a row of :data:`autograd.OPS` defined with an output range
(``define_op(..., activation=(low, high))``): tanh, relu and sigmoid, and any op defined
so since. Everything ``nn`` knows of one (its targets for classes, whether it saturates,
its PyTorch module) is derived from its row.
"""

from __future__ import annotations

from autograd import OPS, Op

__all__ = ["ACTIVATIONS", "activation_op"]


def activation_op(name: str, what: str = "activation") -> Op | None:
    """The op table's row for activation ``name``, None for ``"linear"``; ValueError if
    ``name`` is neither (an activation is a row with an output range, see ``define_op``),
    which calls it ``what``.

    >>> activation_op("tanh").activation, activation_op("linear")
    ((-1.0, 1.0), None)
    """
    if name == "linear":
        return None
    op = OPS.get(name)
    if op is None or op.activation is None:
        names = [n for n, row in OPS.items() if row.activation is not None]
        offered = ", ".join([*names, "linear"])
        raise ValueError(f"unknown {what} {name!r}; choose one of {offered}")
    return op


ACTIVATIONS = (*(name for name, op in OPS.items() if op.activation is not None), "linear")
"""The activations a layer of an :class:`~nn.MLP` can apply, by name: the op table's rows
with an output range (as the package defines them), and ``"linear"``, the identity."""
