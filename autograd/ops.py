"""The table of primitive operations: each row holds a forward and its local derivatives.

This module is the only place where calculus lives. A row says how to compute an op on
plain floats (``forward``), the same on numpy arrays (``forward_array``, used by the
compiled path to run a whole batch at once), and, for each operand slot, the local
derivative d(out)/d(operand) as a function of the operands and the output.

The derivative rules are written with plain arithmetic and the few helpers below, so one
rule serves three kinds of number: floats (fast first-order gradients), Values (a
differentiable graph of the derivative, for higher-order gradients) and numpy arrays (a
batch of samples in the compiled path).

Adding an op is adding a row here and a one-line method on ``Value``.
"""

from __future__ import annotations

import math
import operator
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Op", "OPS", "op_named"]


@dataclass(frozen=True, slots=True)
class Op:
    """One primitive operation.

    ``forward`` maps floats to a float and raises a named error outside its domain;
    ``forward_array`` computes the same elementwise on numpy arrays. ``derivatives``
    holds one rule per operand slot; rule ``i`` is called as ``rule(*operands, out)``
    and returns d(out)/d(operand i).

    >>> OPS["*"].forward(3.0, 4.0), OPS["*"].derivatives[0](3.0, 4.0, 12.0)
    (12.0, 4.0)
    """

    name: str
    forward: Callable[..., float]
    forward_array: Callable[..., Any]
    derivatives: tuple[Callable[..., Any], ...]

    def __post_init__(self) -> None:
        # Value keeps its operands in two slots (see Value.__slots__).
        if len(self.derivatives) not in (1, 2):
            raise ValueError(
                f"op {self.name!r}: an op takes one or two operands, "
                f"got {len(self.derivatives)} derivative rules"
            )

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle a row of :data:`OPS` by its name: its rules are lambdas, looked up on load."""
        if OPS.get(self.name) is not self:
            raise pickle.PicklingError(
                f"op {self.name!r} is not a row of autograd.OPS, so it cannot be pickled by name"
            )
        return (op_named, (self.name,))

    @property
    def arity(self) -> int:
        """How many operands the op takes."""
        return len(self.derivatives)


def op_named(name: str) -> Op:
    """The row of :data:`OPS` called ``name``, or a ValueError naming it.

    >>> op_named("tanh").arity
    1
    """
    try:
        return OPS[name]
    except KeyError:
        raise ValueError(f"unknown op {name!r}; the ops are {', '.join(OPS)}") from None


# --- helpers that let one rule run on floats, Values and arrays -----------------------


def _number(x: Any) -> Any:
    """The number(s) inside ``x``: rules that branch on a value need data, not a node."""
    if isinstance(x, (float, np.ndarray)):
        return x
    return x.data


def _sin(x: Any) -> Any:
    if isinstance(x, float):
        return math.sin(x)
    return np.sin(x) if isinstance(x, np.ndarray) else x.sin()


def _cos(x: Any) -> Any:
    if isinstance(x, float):
        return math.cos(x)
    return np.cos(x) if isinstance(x, np.ndarray) else x.cos()


def _log(x: Any) -> Any:
    if isinstance(x, float):
        return math.log(x)
    return np.log(x) if isinstance(x, np.ndarray) else x.log()


def _step(x: Any) -> Any:
    """1 where x > 0, else 0: the derivative of relu (taken as 0 at 0, as PyTorch does)."""
    if isinstance(x, float):
        return 1.0 if x > 0.0 else 0.0
    if isinstance(x, np.ndarray):
        return (x > 0.0).astype(float)
    if hasattr(x, "step"):  # a symbolic operand (viz's formulas) keeps the rule's shape
        return x.step()
    return 1.0 if x.data > 0.0 else 0.0


def _sign(x: Any) -> Any:
    """-1, 0 or 1: the derivative of abs (the subgradient 0 at 0, as PyTorch chooses)."""
    if isinstance(x, np.ndarray):
        return np.sign(x)
    if hasattr(x, "sign"):  # a symbolic operand (viz's formulas) keeps the rule's shape
        return x.sign()
    v = _number(x)
    return 1.0 if v > 0.0 else -1.0 if v < 0.0 else 0.0


# --- forwards on floats: a named error outside the domain ----------------------------


def _pow(base: float, exponent: float) -> float:
    if base == 0.0 and exponent < 0.0:
        raise ZeroDivisionError(
            f"** : 0.0 cannot be raised to a negative power ({exponent!r}); division by zero"
        )
    if base < 0.0 and not exponent.is_integer():
        raise ValueError(
            f"** : a negative base ({base!r}) with a fractional exponent ({exponent!r}) "
            "has no real value"
        )
    return float(base**exponent)


def _log_forward(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"log is defined only for x > 0, got x = {x!r}")
    return math.log(x)


def _sigmoid(x: float) -> float:
    # Two branches so that exp never sees a large positive argument.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sigmoid_array(x: Any) -> Any:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _relu(x: float) -> float:
    return x if x > 0.0 else 0.0


# --- local derivatives that need more than one line ----------------------------------


def _dpow_dbase(base: Any, exponent: Any, out: Any) -> Any:
    b, e = _number(base), _number(exponent)
    if isinstance(b, np.ndarray) or isinstance(e, np.ndarray):
        # Elementwise; an infinite slope at 0 shows up as inf for the caller to report.
        return np.where(e == 0.0, 0.0, exponent * base ** (exponent - 1.0))
    if e == 0.0:
        return 0.0  # x ** 0 is the constant 1, even at x = 0
    if b == 0.0 and e < 1.0:
        raise ValueError(f"** : the derivative of x ** {e!r} is infinite at x = 0.0")
    return exponent * base ** (exponent - 1.0)


def _dpow_dexponent(base: Any, exponent: Any, out: Any) -> Any:
    # d(a**b)/db = a**b * log(a); at a = 0 the one-sided limit (b > 0) is 0.
    b = _number(base)
    if isinstance(b, np.ndarray):
        return np.where(b == 0.0, 0.0, out * np.log(np.where(b == 0.0, 1.0, b)))
    if b == 0.0:
        return 0.0
    return out * _log(base)


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op("+", operator.add, operator.add, (lambda a, b, out: 1.0, lambda a, b, out: 1.0)),
        Op("*", operator.mul, operator.mul, (lambda a, b, out: b, lambda a, b, out: a)),
        Op("**", _pow, np.power, (_dpow_dbase, _dpow_dexponent)),
        Op("exp", math.exp, np.exp, (lambda x, out: out,)),
        Op("log", _log_forward, np.log, (lambda x, out: 1.0 / x,)),
        Op("tanh", math.tanh, np.tanh, (lambda x, out: 1.0 - out * out,)),
        Op("sigmoid", _sigmoid, _sigmoid_array, (lambda x, out: out * (1.0 - out),)),
        Op("relu", _relu, lambda x: np.maximum(x, 0.0), (lambda x, out: _step(x),)),
        Op("abs", abs, np.abs, (lambda x, out: _sign(x),)),
        Op("sin", math.sin, np.sin, (lambda x, out: _cos(x),)),
        Op("cos", math.cos, np.cos, (lambda x, out: -_sin(x),)),
    )
}
"""The op table: each primitive op's row (its forward and local derivatives), by name."""
