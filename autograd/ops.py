"""The table of primitive operations: each row holds a forward and its local derivatives.

This module is the only place where calculus lives. A row says how to compute an op on
plain floats and, for each operand slot, the local derivative d(out)/d(operand) as a
function of the operands and the output. The derivative rules are written with plain
arithmetic (and the small helpers below), so the same rule runs on floats, giving fast
first-order gradients, and on :class:`~autograd.Value` nodes, giving a differentiable
graph of the derivative itself for higher-order gradients.

Adding an op is adding a row here and a one-line method on ``Value``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Op", "OPS"]


@dataclass(frozen=True)
class Op:
    """One primitive operation.

    ``forward`` maps floats to a float and raises a named error outside its domain.
    ``derivatives`` holds one rule per operand slot; rule ``i`` is called as
    ``rule(*operands, out)`` and returns d(out)/d(operand i).

    >>> OPS["*"].forward(3.0, 4.0), OPS["*"].derivatives[0](3.0, 4.0, 12.0)
    (12.0, 4.0)
    """

    name: str
    forward: Callable[..., float]
    derivatives: tuple[Callable[..., Any], ...]

    @property
    def arity(self) -> int:
        """How many operands the op takes."""
        return len(self.derivatives)


def _number(x: Any) -> float:
    """The float inside ``x``: rules that branch on a value need a number, not a node."""
    return x if isinstance(x, float) else x.data


def _sin(x: Any) -> Any:
    return math.sin(x) if isinstance(x, float) else x.sin()


def _cos(x: Any) -> Any:
    return math.cos(x) if isinstance(x, float) else x.cos()


def _log(x: Any) -> Any:
    return math.log(x) if isinstance(x, float) else x.log()


# --- forwards: floats in, a float out, a named error outside the domain --------------


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


def _relu(x: float) -> float:
    return x if x > 0.0 else 0.0


# --- local derivatives that need more than one line ----------------------------------


def _dpow_dbase(base: Any, exponent: Any, out: Any) -> Any:
    e = _number(exponent)
    if e == 0.0:
        return 0.0  # x ** 0 is the constant 1, even at x = 0
    if _number(base) == 0.0 and e < 1.0:
        raise ValueError(f"** : the derivative of x ** {e!r} is infinite at x = 0.0")
    return exponent * base ** (exponent - 1.0)


def _dpow_dexponent(base: Any, exponent: Any, out: Any) -> Any:
    # d(a**b)/db = a**b * log(a); at a = 0 the one-sided limit (b > 0) is 0.
    if _number(base) == 0.0:
        return 0.0
    return out * _log(base)


def _dabs(x: Any, out: Any) -> float:
    # The subgradient 0 at x = 0, as PyTorch chooses.
    v = _number(x)
    return 1.0 if v > 0.0 else -1.0 if v < 0.0 else 0.0


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op("+", lambda a, b: a + b, (lambda a, b, out: 1.0, lambda a, b, out: 1.0)),
        Op("*", lambda a, b: a * b, (lambda a, b, out: b, lambda a, b, out: a)),
        Op("**", _pow, (_dpow_dbase, _dpow_dexponent)),
        Op("exp", math.exp, (lambda x, out: out,)),
        Op("log", _log_forward, (lambda x, out: 1.0 / x,)),
        Op("tanh", math.tanh, (lambda x, out: 1.0 - out * out,)),
        Op("sigmoid", _sigmoid, (lambda x, out: out * (1.0 - out),)),
        Op("relu", _relu, (lambda x, out: 1.0 if _number(x) > 0.0 else 0.0,)),
        Op("abs", abs, (_dabs,)),
        Op("sin", math.sin, (lambda x, out: _cos(x),)),
        Op("cos", math.cos, (lambda x, out: -_sin(x),)),
    )
}
