"""The op table: each primitive op is one row, its forward and local derivatives side by side.

This module is the only place where calculus lives. A row is made by
:func:`autograd.define_op` from two things written in plain arithmetic and the helpers
below: the **forward** (the operands to the result) and, for each operand, the **local
derivative** d(out)/d(operand) as a function of the operands and the output. Because they
are plain arithmetic, the same functions run on every kind of number:

- floats: the interpreted engine's values and first-order gradients;
- Values: a differentiable graph of the derivative, for higher-order ``grad``;
- numpy arrays: a whole batch of samples at once, in the compiled path;
- any kind that follows the protocol of :mod:`autograd.functions`: viz's formulas for
  the ledgers and pictures, and code generators.

Everything else about an op is in its row or derived from it: its Value method, its
printing (``a + b``, ``tanh(x)``), its LaTeX name, its domain errors, what the compiled
path must check, and whether ``nn`` may use it as an activation.

Helpers
-------
The ops themselves (``exp``, ``log``, ``tanh``, ``sigmoid``, ``relu``, ``absolute``,
``sin``, ``cos``, ``add``, ``multiply``, ``divide``, ``power``, and any op defined
since), which on a Value record a node; and four constant pieces: ``step(x)`` (1 where
x > 0, else 0), ``sign(x)`` (-1, 0 or 1), ``is_zero(x)`` (1 where x == 0, else 0) and
``where(condition, if_true, if_false)`` (``if_true`` where the condition is non-zero).
Do not write ``if`` or compare an operand (``x > 0``): a Value has no order and a
symbol no value, so a branch is a ``where``.

How to add an op
----------------
Call ``define_op`` with its name, its forward and one derivative rule per operand; it
returns the op, a function that applies it. Softplus, log(1 + e^x), a smooth relu::

    from autograd import Value, define_op
    from autograd.ops import exp, log, relu, sigmoid

    softplus = define_op(
        "softplus",
        lambda x: relu(x) + log(1.0 + exp(-abs(x))),  # exp never overflows this way
        [lambda x, out: sigmoid(x)],
        activation=(0.0, float("inf")),
    )
    x = Value(0.5, label="x")
    y = softplus(x)  # a node of the graph: y.op == "softplus"
    y.backward()     # x.grad == sigmoid(0.5)

That is all: ``grad`` gives its higher derivatives (the rule runs on Values),
``autograd.trace`` replays it on floats and numpy batches (the forward runs on arrays),
viz writes its formulas and ledgers (``sigmoid(x)`` for its local derivative), it pickles
by name (define it before loading), and ``nn.MLP(..., activation="softplus")`` uses it.
Give ``check=`` to refuse operands outside its domain with a named error on floats,
``infix=`` and ``latex=`` for its printing; see :func:`autograd.define_op`.

An op of this package is a row below, defined the same way, plus (for the built-in ones)
a one-line method on ``Value``; the test suite then fails, naming the op, until
``tests/op_cases.py`` holds its test case (a sympy reference and where to sample it),
which every per-op test reads.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from autograd.functions import OPS, Function, Op, define_op

__all__ = [
    "OPS",
    "absolute",
    "add",
    "cos",
    "divide",
    "exp",
    "is_zero",
    "log",
    "multiply",
    "power",
    "relu",
    "sigmoid",
    "sign",
    "sin",
    "step",
    "tanh",
    "where",
]


# --- helpers: constant pieces, on floats and arrays (other kinds: see the protocol) -----


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


step = Function(
    "step", 1, lambda x: 1.0 if x > 0.0 else 0.0, lambda x: (x > 0.0) * 1.0, r"\operatorname{step}"
)
"""1 where x > 0, else 0: relu's derivative (0 at the kink, as PyTorch takes it)."""

sign = Function("sign", 1, _sign, np.sign, r"\operatorname{sign}")
"""-1, 0 or 1: abs's derivative (the subgradient 0 at the kink, as PyTorch takes it)."""

is_zero = Function(
    "is_zero",
    1,
    lambda x: 1.0 if x == 0.0 else 0.0,
    lambda x: (x == 0.0) * 1.0,
    r"\operatorname{is\_zero}",
)
"""1 where x == 0, else 0: a condition for ``where``."""

where = Function(
    "where", 3, lambda condition, a, b: a if condition else b, np.where, r"\operatorname{where}"
)
"""``if_true`` where ``condition`` is non-zero, else ``if_false``: a branch every kind can take."""


# --- domains: a named error on floats where a forward is not defined ------------------


def _check_divide(a: float, b: float) -> None:
    if b == 0.0:
        raise ZeroDivisionError(f"division by zero: {a!r} / {b!r}")


def _check_power(base: float, exponent: float) -> None:
    if base == 0.0 and exponent < 0.0:
        raise ZeroDivisionError(
            f"** : 0.0 cannot be raised to a negative power ({exponent!r}); division by zero"
        )
    if base < 0.0 and not exponent.is_integer():
        raise ValueError(
            f"** : a negative base ({base!r}) with a fractional exponent ({exponent!r}) "
            "has no real value"
        )


def _check_log(x: float) -> None:
    if x <= 0.0:
        raise ValueError(f"log is defined only for x > 0, got x = {x!r}")


def _sigmoid(x: float) -> float:
    # exp only ever sees -|x|, so it cannot overflow: 1 / (1 + e) for x > 0, else e / (1 + e).
    e = exp(-abs(x))
    return where(step(x), 1.0, e) / (1.0 + e)


# --- the table: one row per op --------------------------------------------------------

add: Op = define_op("+", operator.add, [lambda a, b, out: 1.0, lambda a, b, out: 1.0], infix="+")
multiply: Op = define_op("*", operator.mul, [lambda a, b, out: b, lambda a, b, out: a], infix="*")
divide: Op = define_op(
    "/",
    operator.truediv,
    # -out / b rather than -a / b**2: for a / a the two paths then cancel exactly.
    [lambda a, b, out: 1.0 / b, lambda a, b, out: -out / b],
    check=_check_divide,
    infix="/",
)
power: Op = define_op(
    "**",
    operator.pow,
    [
        # Where the exponent is 0 this is 0 * x ** 1 = 0: x ** 0 is the constant 1, even at
        # x = 0, whose x ** -1 is never formed.
        lambda base, exponent, out: (
            exponent * base ** where(is_zero(exponent), 1.0, exponent - 1.0)
        ),
        # d(a**b)/db = a**b * log(a); at a = 0 (b > 0) the one-sided limit is 0. A negative
        # base has no log: log's own error, when a gradient for the exponent is needed.
        lambda base, exponent, out: out * log(where(is_zero(base), 1.0, base)),
    ],
    check=_check_power,
    infix="**",
)
exp: Op = define_op("exp", math.exp, [lambda x, out: out], numpy=np.exp, latex=r"\exp")
log: Op = define_op(
    "log",
    math.log,
    [lambda x, out: 1.0 / x],
    numpy=np.log,
    check=_check_log,
    latex=r"\log",
    propagates_non_finite=True,
    may_overflow=False,
)
tanh: Op = define_op(
    "tanh",
    math.tanh,
    [lambda x, out: 1.0 - out * out],
    numpy=np.tanh,
    latex=r"\tanh",
    activation=(-1.0, 1.0),
    may_overflow=False,
)
relu: Op = define_op(
    "relu", lambda x: where(step(x), x, 0.0), [lambda x, out: step(x)], activation=(0.0, math.inf)
)
sigmoid: Op = define_op(
    "sigmoid", _sigmoid, [lambda x, out: out * (1.0 - out)], activation=(0.0, 1.0)
)
absolute: Op = define_op("abs", abs, [lambda x, out: sign(x)])
sin: Op = define_op(
    "sin",
    math.sin,
    [lambda x, out: cos(x)],
    numpy=np.sin,
    latex=r"\sin",
    propagates_non_finite=True,
    may_overflow=False,
)
cos: Op = define_op(
    "cos",
    math.cos,
    [lambda x, out: -sin(x)],
    numpy=np.cos,
    latex=r"\cos",
    propagates_non_finite=True,
    may_overflow=False,
)
