"""The activations a layer may use: the op table's rows that say they are one, and "linear".

An activation is a row of :data:`autograd.OPS` defined with an output range
(``define_op(..., activation=(low, high))``): tanh, relu and sigmoid, and any op defined
so since. Everything ``nn`` knows of one (its targets for classes, whether it saturates,
its PyTorch module) is derived from its row, and :func:`activation_names` reads the table
when asked: an op defined after ``import nn`` is offered as the built-in ones are.
"""

from __future__ import annotations

import math

from autograd import OPS, Op

__all__ = ["activation_names", "activation_op", "saturates"]


def activation_names() -> tuple[str, ...]:
    """The activations a layer of an :class:`~nn.MLP` can apply, by name, as the op table
    stands now: its rows with an output range, then ``"linear"``, the identity.

    >>> activation_names()
    ('tanh', 'relu', 'sigmoid', 'linear')
    >>> from autograd import OPS, define_op
    >>> softsign = define_op("softsign", lambda x: x / (1 + abs(x)),
    ...                      [lambda x, out: 1 / (1 + abs(x)) ** 2], activation=(-1.0, 1.0))
    >>> activation_names()
    ('tanh', 'relu', 'sigmoid', 'softsign', 'linear')
    >>> del OPS["softsign"]  # (this example leaves the table as it was)
    """
    return (*(name for name, op in OPS.items() if op.activation is not None), "linear")


def activation_op(name: str, what: str = "activation") -> Op | None:
    """The op table's row for activation ``name``, None for ``"linear"``; ValueError if
    ``name`` is neither (an activation is a row with an output range, see ``define_op``),
    which calls it ``what`` and, for a name the table lacks, says how to define it.

    >>> activation_op("tanh").activation, activation_op("linear")
    ((-1.0, 1.0), None)
    >>> activation_op("softsign")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: unknown activation 'softsign': choose one of tanh, relu, sigmoid, linear, or ...
    """
    if name == "linear":
        return None
    op = OPS.get(name) if isinstance(name, str) else None
    if op is not None and op.activation is not None:
        return op
    offered = ", ".join(activation_names())
    if op is not None:
        raise ValueError(
            f"{what} {name!r}: the op {name!r} has no output range, so it is not an activation; "
            f"choose one of {offered}"
        )
    if not isinstance(name, str):
        raise ValueError(f"unknown {what} {name!r}; choose one of {offered}")
    raise ValueError(
        f"unknown {what} {name!r}: choose one of {offered}, or define it first with "
        f"autograd.define_op({name!r}, forward, derivatives, activation=(low, high))"
    )


def saturates(op: Op | None) -> bool:
    """Whether units through activation ``op`` can saturate: its range is bounded at both
    ends (tanh, sigmoid; not relu, not ``None`` for linear), so an output pinned near an
    end passes almost no gradient back.

    >>> saturates(activation_op("tanh")), saturates(activation_op("relu")), saturates(None)
    (True, False, False)
    """
    return (
        op is not None
        and op.activation is not None
        and all(math.isfinite(end) for end in op.activation)
    )
