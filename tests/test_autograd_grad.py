"""grad (nestable, side-effect free) and gradcheck."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest

from autograd import GradcheckError, Value, grad, gradcheck, no_grad


def test_grad_returns_a_float_for_float_arguments() -> None:
    d = grad(lambda t: t**3)(2.0)
    assert type(d) is float and d == 12.0


def test_gradients_of_gradients() -> None:
    cube = lambda t: t**3
    assert grad(grad(cube))(2.0) == 12.0  # 6t
    assert grad(grad(grad(cube)))(2.0) == 6.0
    assert grad(grad(grad(grad(cube))))(2.0) == 0.0


def test_higher_derivatives_of_exp_and_sin_cycle() -> None:
    x0 = 0.7
    d = lambda t: t.sin()
    expected = [math.cos(x0), -math.sin(x0), -math.cos(x0), math.sin(x0), math.cos(x0)]
    for want in expected:
        d = grad(d)
        assert d(x0) == pytest.approx(want, rel=1e-12)
    e = lambda t: t.exp()
    for _ in range(5):
        e = grad(e)
        assert e(x0) == pytest.approx(math.exp(x0), rel=1e-12)


def test_argnum_selects_the_argument() -> None:
    # Only operators here: the argument not differentiated is passed through as a float.
    f = lambda x, y: x * x * y + 3.0**y
    x0, y0 = 1.5, -0.4
    d_dy = x0 * x0 + 3.0**y0 * math.log(3.0)
    assert grad(f, argnum=0)(x0, y0) == pytest.approx(2 * x0 * y0)
    assert grad(f, argnum=1)(x0, y0) == pytest.approx(d_dy)
    assert grad(f, argnum=-1)(x0, y0) == pytest.approx(d_dy)
    assert grad(grad(f, argnum=0), argnum=1)(x0, y0) == pytest.approx(2 * x0)
    assert grad(grad(f, argnum=1), argnum=0)(x0, y0) == pytest.approx(2 * x0)


def test_grad_of_a_function_not_depending_on_its_argument_is_zero() -> None:
    assert grad(lambda t: 5.0)(2.0) == 0.0
    assert grad(lambda x, y: y * y, argnum=0)(2.0, 3.0) == 0.0
    assert grad(grad(lambda t: t * 2.0))(1.0) == 0.0


def test_grad_accepts_ints() -> None:
    assert grad(lambda t: t * t)(3) == 6.0


def test_nested_grad_has_no_perturbation_confusion() -> None:
    # d/dy [ y * (d/dx x*y)(x=y) ]: the inner derivative is y (x is a fresh variable even
    # though it is evaluated at y), so the whole is d/dy y^2 = 2y. Confusing the two
    # variables would differentiate y*y inside and give d/dy 2y^2 = 4y.
    y0 = 3.0
    outer = lambda y: y * grad(lambda x: x * y)(y)
    assert grad(outer)(y0) == 2 * y0


def test_nested_grad_of_a_closure_over_the_outer_variable() -> None:
    # Siskind & Pearlmutter's example: d/dx [ x * (d/dy (x + y))(1) ] = d/dx [ x * 1 ] = 1.
    f = lambda x: x * grad(lambda y: x + y)(1.0)
    assert grad(f)(5.0) == 1.0


def test_grad_does_not_touch_any_grad_attribute() -> None:
    w = Value(2.0)
    w.grad = 123.0
    made_inside: list[Value] = []

    def f(t: Value) -> Value:
        out = (w * t).tanh() + t * t
        made_inside.append(out)
        return out

    x0 = 0.3
    assert grad(f)(x0) == pytest.approx(w.data * (1 - math.tanh(w.data * x0) ** 2) + 2 * x0)
    grad(grad(f))(x0)
    arg = Value(x0)
    arg.grad = -7.0
    grad(f)(arg)
    assert w.grad == 123.0
    assert arg.grad == -7.0
    assert all(node.grad == 0.0 for node in made_inside)


def test_grad_called_with_a_value_returns_a_value_on_the_graph() -> None:
    x = Value(2.0)
    d = grad(lambda t: t**3)(x)  # 3 x^2 as a node that depends on x
    assert isinstance(d, Value) and d.data == 12.0
    d.backward()
    assert x.grad == 12.0  # d/dx 3x^2 = 6x


def test_grad_agrees_with_backward() -> None:
    def f(a: Value, b: Value) -> Value:
        shared = a * b
        return shared.tanh() * shared + (a / b).sigmoid() - b.exp()

    a0, b0 = 0.8, -1.3
    a, b = Value(a0), Value(b0)
    f(a, b).backward()
    # f calls methods on both arguments, so the one held fixed goes in as a constant Value.
    d_da = grad(f, 0)(a0, Value(b0, requires_grad=False))
    d_db = grad(f, 1)(Value(a0, requires_grad=False), b0)
    assert d_da.data == pytest.approx(a.grad, rel=1e-14)
    assert d_db.data == pytest.approx(b.grad, rel=1e-14)


def test_grad_works_inside_no_grad() -> None:
    with no_grad():
        d = grad(lambda t: t * t * t)(2.0)
        dd = grad(grad(lambda t: t * t * t))(2.0)
    assert (d, dd) == (12.0, 12.0)


def test_grad_keeps_the_function_name() -> None:
    def square(t: Value) -> Value:
        return t * t

    assert grad(square).__name__ == "square"


def test_gradcheck_returns_true_for_correct_gradients() -> None:
    assert gradcheck(lambda x: x.sin() * x.exp(), 0.4) is True
    assert gradcheck(lambda x, y: (x * y).tanh() + x**y, 1.3, 0.7) is True
    assert gradcheck(lambda x, y, z: (x / y).log() + z.relu() * x.cos(), 2.0, 0.5, 1.5) is True


def test_gradcheck_reports_a_wrong_derivative_with_both_numbers() -> None:
    # Rebuilding a factor from .data cuts it out of the graph: backprop sees x * c with
    # c = 0.3 constant, so it reports 0.3 where the true derivative of x^2 is 0.6.
    x0 = 0.3
    with pytest.raises(GradcheckError) as raised:
        gradcheck(lambda x, y: x * Value(x.data) + y, x0, 1.0)
    message = str(raised.value)
    assert "argument 0" in message
    assert "argument 1" not in message  # y's gradient is right
    numbers = [float(s) for s in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", message)]
    assert any(n == pytest.approx(x0) for n in numbers)  # backprop's
    assert any(n == pytest.approx(2 * x0, rel=1e-6) for n in numbers)  # finite differences'


def test_gradcheck_reports_a_wrong_op_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    # A wrong row in the op table must be caught; the engine looks rows up at run time.
    from autograd.ops import OPS

    right = OPS["sin"].derivatives[0]
    wrong = dataclasses.replace(OPS["sin"], derivatives=(lambda x, out: 2.0 * right(x, out),))
    monkeypatch.setitem(OPS, "sin", wrong)
    with pytest.raises(GradcheckError, match="argument 0") as raised:
        gradcheck(lambda x: x.sin(), 0.5)
    assert repr(2.0 * math.cos(0.5)) in str(raised.value)
    assert re.search(r"0\.877582", str(raised.value))  # cos(0.5) by finite differences


@pytest.mark.parametrize("bad", [{"eps": 0.0}, {"eps": -1e-6}, {"rtol": -1.0}, {"atol": -1.0}])
def test_gradcheck_rejects_bad_tolerances(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        gradcheck(lambda x: x * x, 1.0, **bad)


def test_gradcheck_needs_an_argument_and_a_value_result() -> None:
    with pytest.raises(ValueError, match="argument"):
        gradcheck(lambda: Value(1.0))
    with pytest.raises(TypeError, match="Value"):
        gradcheck(lambda x: "not a value", 1.0)


def test_grad_passes_the_other_numbers_as_constants_so_methods_work_on_them() -> None:
    # d/dx [x * sin(y)] = sin(y), with y a plain number at the call.
    assert grad(lambda x, y: x * y.sin())(1.0, 2.0) == pytest.approx(math.sin(2.0))
    assert grad(lambda x, y: x * y.sin(), argnum=1)(3.0, 2.0) == pytest.approx(3 * math.cos(2.0))
