"""Algebraic identities that gradients must satisfy, checked with hypothesis."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, grad

BOUNDED = settings(max_examples=100, deadline=None)

# Functions defined (and smooth) on every real number, bounded in growth on [-20, 20].
SMOOTH: dict[str, Callable[[Any], Any]] = {
    "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "exp": lambda x: x.exp(),
    "square": lambda x: x * x,
    "cube": lambda x: x**3,
    "affine": lambda x: 2.5 * x - 1.0,
    "soft abs": lambda x: (1.0 + x * x).sqrt(),
    "2 ** x": lambda x: 2.0**x,
    "x sin x": lambda x: x * x.sin(),
}

points = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False)
coefficients = st.floats(min_value=-5.0, max_value=5.0, allow_nan=False)
functions = st.sampled_from(sorted(SMOOTH))


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@BOUNDED
@given(functions, functions, coefficients, coefficients, points)
def test_linearity(f_name: str, g_name: str, a: float, b: float, x: float) -> None:
    f, g = SMOOTH[f_name], SMOOTH[g_name]
    combined = grad(lambda t: a * f(t) + b * g(t))(x)
    assert close(combined, a * grad(f)(x) + b * grad(g)(x))


@BOUNDED
@given(functions, functions, points)
def test_product_rule(f_name: str, g_name: str, x: float) -> None:
    f, g = SMOOTH[f_name], SMOOTH[g_name]
    fx, gx = f(Value(x)).data, g(Value(x)).data
    assert close(grad(lambda t: f(t) * g(t))(x), grad(f)(x) * gx + fx * grad(g)(x))


@BOUNDED
@given(functions, functions, points)
def test_chain_rule(f_name: str, g_name: str, x: float) -> None:
    f, g = SMOOTH[f_name], SMOOTH[g_name]
    gx = g(Value(x)).data
    assert close(grad(lambda t: f(g(t)))(x), grad(f)(gx) * grad(g)(x))


@BOUNDED
@given(functions, points)
def test_quotient_rule(f_name: str, x: float) -> None:
    f = SMOOTH[f_name]
    g = lambda t: 2.0 + t.sin()  # never below 1
    fx, gx = f(Value(x)).data, g(Value(x)).data
    expected = (grad(f)(x) * gx - fx * grad(g)(x)) / (gx * gx)
    assert close(grad(lambda t: f(t) / g(t))(x), expected)


@BOUNDED
@given(points)
def test_x_times_x_and_x_squared_agree_to_second_order(x: float) -> None:
    assert grad(lambda t: t * t)(x) == grad(lambda t: t**2)(x) == 2 * x
    assert grad(grad(lambda t: t * t))(x) == grad(grad(lambda t: t**2))(x) == 2.0


@BOUNDED
@given(functions, points)
def test_gradient_of_f_plus_f_is_twice_the_gradient(f_name: str, x: float) -> None:
    f = SMOOTH[f_name]
    assert close(grad(lambda t: f(t) + f(t))(x), 2 * grad(f)(x))
    shared = lambda t: (lambda u: u + u)(f(t))  # the same node twice
    assert close(grad(shared)(x), 2 * grad(f)(x))


@BOUNDED
@given(functions, functions, points, points)
def test_grad_agrees_with_backward(f_name: str, g_name: str, x: float, y: float) -> None:
    f, g = SMOOTH[f_name], SMOOTH[g_name]
    h = lambda a, b: f(a * b) + g(a - b) * a
    a, b = Value(x), Value(y)
    h(a, b).backward()
    # h calls methods on both arguments: the one held fixed goes in as a constant Value.
    assert close(grad(h, 0)(x, Value(y, requires_grad=False)).data, a.grad)
    assert close(grad(h, 1)(Value(x, requires_grad=False), y).data, b.grad)


@BOUNDED
@given(functions, functions, points, points)
def test_mixed_partials_commute(f_name: str, g_name: str, x: float, y: float) -> None:
    f, g = SMOOTH[f_name], SMOOTH[g_name]
    h = lambda a, b: f(a) * g(b) + f(a * b)
    at = (Value(x, requires_grad=False), Value(y, requires_grad=False))
    d_xy = grad(grad(h, 0), 1)(*at).data
    d_yx = grad(grad(h, 1), 0)(*at).data
    assert close(d_xy, d_yx)


@BOUNDED
@given(functions, points, st.floats(min_value=-3.0, max_value=3.0))
def test_derivative_of_a_shift_is_the_shifted_derivative(f_name: str, x: float, c: float) -> None:
    f = SMOOTH[f_name]
    assert close(grad(lambda t: f(t + c))(x), grad(f)(x + c))


@BOUNDED
@given(points)
def test_reverse_operators_match_forward_operators(x: float) -> None:
    c = 1.75
    assert grad(lambda t: c - t)(x) == grad(lambda t: -t + c)(x) == -1.0
    assert close(grad(lambda t: c * t)(x), grad(lambda t: t * c)(x))
    if abs(x) > 1e-3:
        assert close(grad(lambda t: c / t)(x), -c / (x * x))
    assert close(grad(lambda t: c**t)(x), c**x * math.log(c))
