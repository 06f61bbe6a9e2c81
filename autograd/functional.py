"""Derivatives as functions: `grad` (nestable to any order) and `gradcheck`."""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable
from typing import Any

from autograd.engine import Value, as_float, enable_grad, no_grad
from autograd.sweep import gradients

__all__ = ["grad", "gradcheck", "GradcheckError"]


class GradcheckError(Exception):
    """Backpropagation and finite differences disagree; the message lists each argument.

    >>> gradcheck(lambda x: x.relu(), 0.0)  # relu's derivative at its kink is taken as 0
    Traceback (most recent call last):
    autograd.functional.GradcheckError: gradients disagree (eps=1e-06, rtol=1e-05, atol=1e-08):
      argument 0 (= 0.0): backprop 0.0, finite differences 0.5, difference -0.5
    """


def grad(f: Callable[..., Any], argnum: int = 0) -> Callable[..., Any]:
    """The function computing d f / d(argument ``argnum``).

    Called with plain numbers it returns a float; called with Values (as happens when
    ``grad`` is nested) it returns a Value, so derivatives of any order compose. No
    ``.grad`` attribute is read or written.

    >>> grad(lambda t: t ** 3)(2.0)
    12.0
    >>> grad(grad(lambda t: t ** 3))(2.0)
    12.0
    >>> grad(lambda x, y: x * y, argnum=1)(3.0, 5.0)
    3.0
    """
    if not callable(f):
        raise TypeError(f"grad expects a function, got {type(f).__name__}: {f!r}")
    if isinstance(argnum, bool) or not isinstance(argnum, int):
        raise TypeError(f"argnum must be an int, got {type(argnum).__name__}: {argnum!r}")

    @functools.wraps(f)
    def derivative(*args: Any) -> Any:
        if not -len(args) <= argnum < len(args):
            raise ValueError(
                f"argnum {argnum} is out of range for a call with {len(args)} argument(s)"
            )
        nested = any(isinstance(a, Value) for a in args)
        with enable_grad():
            x = _fresh_variable(args[argnum])
            # The other numbers become constants, so f may call Value methods on them.
            call_args = [_constant_or_as_is(a) for a in args]
            call_args[argnum] = x
            out = f(*call_args)
        if isinstance(out, Value):
            d = gradients(out, differentiable=True).get(x, 0.0) if out.requires_grad else 0.0
        elif isinstance(out, numbers.Real) and not isinstance(out, bool):
            d = 0.0  # f does not depend on its argument
        else:
            raise TypeError(
                f"grad needs f to return a Value or a number, got {type(out).__name__}: {out!r}"
            )
        if nested:
            return d if isinstance(d, Value) else Value(d, requires_grad=False)
        return d.data if isinstance(d, Value) else float(d)

    return derivative


def _constant_or_as_is(arg: Any) -> Any:
    if isinstance(arg, numbers.Real) and not isinstance(arg, bool):
        return Value(as_float(arg, "an argument"), requires_grad=False)
    return arg


def _fresh_variable(arg: Any) -> Value:
    """A new node to differentiate with respect to.

    For a Value argument (nested ``grad``) the node is ``arg + 0``: it depends on ``arg``,
    so the outer derivative flows through, yet it is distinct from ``arg``, so an inner
    derivative never confuses the two when ``f`` also uses ``arg`` directly.
    """
    if isinstance(arg, Value):
        return arg + 0.0 if arg.requires_grad else Value(arg.data)
    return Value(as_float(arg, "the argument to differentiate"))


def gradcheck(
    f: Callable[..., Any],
    *args: float,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-8,
) -> bool:
    """Compare backpropagation with central finite differences for every argument.

    Returns True, or raises :class:`GradcheckError` listing each argument with the
    gradient by backprop, by finite differences, and the difference.

    >>> gradcheck(lambda x, y: (x * y).tanh() + x.exp(), 0.3, -1.2)
    True
    """
    if not args:
        raise ValueError("gradcheck needs at least one argument to differentiate")
    for name, number in (("eps", eps), ("rtol", rtol), ("atol", atol)):
        if as_float(number, name) < 0.0 or (name == "eps" and number == 0.0):
            raise ValueError(f"{name} must be positive, got {number!r}")
    point = [as_float(a, f"gradcheck argument {i}") for i, a in enumerate(args)]

    with enable_grad():
        variables = [Value(a) for a in point]
        out = f(*variables)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck needs f to return a Value, got {type(out).__name__}")
    backprop = gradients(out) if out.requires_grad else {}

    lines = []
    for i, variable in enumerate(variables):
        analytic = backprop.get(variable, 0.0)
        numeric = (_evaluate(f, point, i, eps) - _evaluate(f, point, i, -eps)) / (2.0 * eps)
        if not math.isfinite(numeric):
            raise OverflowError(
                f"gradcheck: the finite difference for argument {i} (= {point[i]!r}) "
                f"with eps={eps!r} overflows a float"
            )
        if abs(analytic - numeric) > atol + rtol * abs(numeric):
            lines.append(
                f"  argument {i} (= {point[i]!r}): backprop {analytic!r}, "
                f"finite differences {numeric!r}, difference {analytic - numeric:.3g}"
            )
    if lines:
        raise GradcheckError(
            f"gradients disagree (eps={eps}, rtol={rtol}, atol={atol}):\n" + "\n".join(lines)
        )
    return True


def _evaluate(f: Callable[..., Any], point: list[float], i: int, step: float) -> float:
    shifted = list(point)
    shifted[i] += step
    # The shifted point is gradcheck's, not the user's: say so when it overflows.
    where = f"argument {i} (= {point[i]!r}) shifted by {step!r}"
    if not math.isfinite(shifted[i]):
        raise OverflowError(f"gradcheck: {where} overflows a float; use a smaller eps")
    try:
        with no_grad():
            out = f(*[Value(a) for a in shifted])
    except OverflowError as error:
        raise OverflowError(f"gradcheck: f overflows at {where}: {error}") from None
    return out.data if isinstance(out, Value) else float(out)
