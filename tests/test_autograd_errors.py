"""Bad input gets a clear, named error: never a silent NaN, an assert or a wrong number."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from autograd import Value, grad, zero_grad


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ("1.0", "str"),
        (None, "NoneType"),
        (1 + 2j, "complex"),
        (True, "bool"),
        ([1.0], "list"),
        (Value(1.0), "Value"),
    ],
)
def test_value_of_a_non_number_is_a_type_error_naming_it(data: Any, named: str) -> None:
    with pytest.raises(TypeError, match=named):
        Value(data)


@pytest.mark.parametrize("data", [math.nan, math.inf, -math.inf])
def test_value_of_nan_or_inf_is_a_value_error(data: float) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(data))):
        Value(data)


def test_label_must_be_a_str() -> None:
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("x", [0.0, -1.0, -0.0])
def test_log_outside_its_domain_names_log_and_the_value(x: float) -> None:
    with pytest.raises(ValueError, match=rf"log.*{re.escape(repr(x))}"):
        Value(x).log()


def test_negative_base_with_a_fractional_exponent() -> None:
    with pytest.raises(ValueError, match=r"-8\.0"):
        Value(-8.0) ** 0.5
    with pytest.raises(ValueError, match=r"-8\.0"):
        (-8.0) ** Value(0.5)


def test_negative_base_with_a_value_exponent_has_no_derivative_for_the_exponent() -> None:
    # (-8) ** b is real only at integer b, so d/db (= a**b * log(a)) does not exist:
    # the value is computed, and a gradient for the exponent is refused by name.
    base, exponent = Value(-8.0, label="a"), Value(2.0, label="b")
    power = base**exponent
    assert power.data == 64.0
    with pytest.raises(ValueError) as raised:
        power.backward()
    message = str(raised.value)
    assert message.startswith("** : the derivative with respect to exponent is undefined")
    assert "base = -8.0, exponent = 2.0" in message and "log" in message
    assert base.grad == exponent.grad == 0.0  # a failed backward changes no .grad
    with pytest.raises(ValueError, match=r"exponent is undefined at base = -8\.0"):
        grad(lambda b: (-8.0) ** b)(2.0)
    # With a constant exponent there is nothing to refuse: d/da a**2 = 2a.
    a = Value(-8.0)
    (a**2.0).backward()
    assert a.grad == -16.0


def test_sqrt_of_a_negative_number() -> None:
    with pytest.raises(ValueError, match=r"sqrt.*-1\.0"):
        Value(-1.0).sqrt()


@pytest.mark.parametrize(
    "divide",
    [
        lambda: 1 / Value(0.0),
        lambda: Value(3.0) / 0,
        lambda: Value(3.0) / 0.0,
        lambda: Value(3.0) / Value(0.0),
        lambda: Value(0.0) / Value(-0.0),
    ],
    ids=["1/Value(0)", "x/0", "x/0.0", "x/Value(0)", "0/-0"],
)
def test_division_by_zero(divide: Any) -> None:
    with pytest.raises(ZeroDivisionError):
        divide()


def test_zero_to_a_negative_power() -> None:
    with pytest.raises(ZeroDivisionError, match=r"\*\*"):
        Value(0.0) ** -1
    with pytest.raises(ZeroDivisionError, match=r"\*\*"):
        0 ** Value(-1.0)


@pytest.mark.parametrize(
    ("overflow", "op"),
    [
        (lambda: Value(1000.0).exp(), "exp"),
        (lambda: Value(1e200) * 1e200, r"\*"),
        (lambda: Value(1e308) + Value(1e308), r"\+"),
        (lambda: Value(1e200) ** 2, r"\*\*"),
        (lambda: 10.0 ** Value(400.0), r"\*\*"),
    ],
    ids=["exp", "*", "+", "x**2", "10**x"],
)
def test_overflow_names_the_op(overflow: Any, op: str) -> None:
    with pytest.raises(OverflowError, match=op):
        overflow()


def test_gradient_overflow_during_backward() -> None:
    # The forward pass is finite (log(1e-300) * 1e10 = -6.9e12) but the gradient
    # 1e10 / 1e-300 is not.
    x = Value(1e-300)
    y = x.log() * 1e10
    with pytest.raises(OverflowError, match="overflow"):
        y.backward()


def test_gradient_overflow_in_a_nested_grad() -> None:
    with pytest.raises(OverflowError):
        grad(grad(lambda t: t.log() * 1e10))(1e-300)


@pytest.mark.parametrize(
    ("operation", "named"),
    [
        (lambda x: x + "a", r"\+.*str"),
        (lambda x: x - "a", r"-.*str"),
        (lambda x: x * [1], r"multiply sequence|\*.*list"),
        (lambda x: x / "a", r"/.*str"),
        (lambda x: x ** "a", r"\*\*.*str"),
        (lambda x: "a" - x, r"-.*str"),
        (lambda x: "a" / x, r"/.*str"),
        (lambda x: "a" ** x, r"\*\*.*str"),
        (lambda x: x + None, r"\+.*NoneType"),
        (lambda x: x / None, r"/.*NoneType"),
        (lambda x: x * (1 + 2j), r"\*.*complex"),
        (lambda x: x + True, r"\+.*bool"),
        (lambda x: x - True, r"-.*bool"),
        (lambda x: x / True, r"/.*bool"),
        (lambda x: x ** True, r"\*\*.*bool"),
        (lambda x: True - x, r"-.*bool"),
        (lambda x: True / x, r"/.*bool"),
    ],
    ids=[
        "x+str", "x-str", "x*list", "x/str", "x**str", "str-x", "str/x", "str**x", "x+None",
        "x/None", "x*complex", "x+bool", "x-bool", "x/bool", "x**bool", "bool-x", "bool/x",
    ],
)  # fmt: skip
def test_operators_with_unsupported_types_name_the_operator_and_type(
    operation: Any, named: str
) -> None:
    # A bool is rejected although it is an int: Value(3) - True == 2.0 would hide a bug.
    with pytest.raises(TypeError, match=named):
        operation(Value(2.0))


@pytest.mark.parametrize(
    "operation", [lambda x: "a" + x, lambda x: [1] * x], ids=["str+x", "list*x"]
)
def test_unsupported_type_on_the_left_is_a_type_error(operation: Any) -> None:
    with pytest.raises(TypeError):
        operation(Value(2.0))


def test_operands_must_be_finite() -> None:
    with pytest.raises(ValueError, match="nan"):
        Value(1.0) + math.nan
    with pytest.raises(ValueError, match="inf"):
        Value(1.0) * math.inf


def test_backward_on_a_constant_is_a_clear_error() -> None:
    constant = Value(2.0, requires_grad=False)
    with pytest.raises(ValueError, match="constant"):
        (constant * 3.0).backward()


def test_grad_of_a_non_callable() -> None:
    with pytest.raises(TypeError, match="function"):
        grad(3.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("argnum", ["0", 1.0, True])
def test_grad_with_a_non_int_argnum(argnum: Any) -> None:
    with pytest.raises(TypeError, match="argnum"):
        grad(lambda x: x, argnum=argnum)


@pytest.mark.parametrize("argnum", [2, -3])
def test_grad_with_an_out_of_range_argnum(argnum: int) -> None:
    with pytest.raises(ValueError, match=rf"argnum {argnum}.*2 argument"):
        grad(lambda x, y: x * y, argnum=argnum)(1.0, 2.0)


def test_grad_of_a_function_returning_a_str() -> None:
    with pytest.raises(TypeError, match="str"):
        grad(lambda x: "oops")(1.0)


@pytest.mark.parametrize("arg", ["1.0", None, True, math.nan])
def test_grad_at_a_bad_point(arg: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        grad(lambda x: x * x)(arg)


def test_zero_grad_rejects_non_values() -> None:
    with pytest.raises(TypeError, match="float"):
        zero_grad([Value(1.0), 2.0])  # type: ignore[list-item]


def test_derivative_of_sqrt_at_zero_is_not_silently_infinite() -> None:
    x = Value(0.0)
    y = x.sqrt()
    assert y.data == 0.0
    with pytest.raises((ValueError, ZeroDivisionError, OverflowError)):
        y.backward()


def test_an_integer_too_large_for_a_float_is_named() -> None:
    with pytest.raises(ValueError, match="too large for a float"):
        Value(10**400)
    with pytest.raises(ValueError, match="too large for a float"):
        Value(1.0) * 10**400


def test_a_subclass_of_value_is_an_operand() -> None:
    class Parameter(Value):
        __slots__ = ()

    assert (Value(2.0) * Parameter(3.0)).data == 6.0
