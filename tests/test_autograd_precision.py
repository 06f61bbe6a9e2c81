"""Higher-order gradients as close to exact as the rules allow, against sympy's exact values.

Where two paths of the chain rule carry the same amount with opposite signs, the sum is
exactly zero only if both contributions are rounded the same way. ``a / a`` is the
classic case: with division as ``a * a**-1`` the two paths give ``1/a`` and
``a * (-a**-2)``, which differ in the last bit, and each further derivative multiplies
the residue by ``1/a``; with a division row whose rules are ``1/b`` and ``-out/b``
(``out = a/b = 1`` exactly) they cancel exactly, at every order.
"""

from __future__ import annotations

import math

import pytest
import sympy as sp

from autograd import Value, grad

X = sp.Symbol("x", real=True)


def test_a_quotient_of_a_node_by_itself_has_derivative_exactly_zero() -> None:
    for x in (0.0031, -0.0123, 0.4, 2.5):
        assert grad(lambda t: t.tanh() / t.tanh())(x) == 0.0
        assert grad(grad(lambda t: t.sin() / t.sin()))(x) == 0.0
        leaf = Value(x)
        (leaf.exp() / leaf.exp()).backward()
        assert leaf.grad == 0.0


# Points where a * a**-1 put the third derivative 1e-9 to 2e-8 (relative) from exact.
@pytest.mark.parametrize(
    ("x", "c"),
    [
        (-0.003083947735287751, -0.3007619394395755),
        (-0.00613116616921161, -0.6393780669861293),
        (0.0027639067151392638, 0.767947128073815),
    ],
)
def test_third_derivatives_through_a_quotient_match_sympy(x: float, c: float) -> None:
    def f(t: Value) -> Value:
        return (c + t.tanh() / t.tanh()) ** -2 + t * t * t

    exact = (c + sp.tanh(X) / sp.tanh(X)) ** -2 + X**3
    derivative = f
    for order in (1, 2, 3):
        derivative = grad(derivative)
        expected = float(sp.diff(exact, X, order).subs(X, x).evalf(30))
        assert math.isclose(derivative(x), expected, rel_tol=1e-9, abs_tol=1e-9), order
