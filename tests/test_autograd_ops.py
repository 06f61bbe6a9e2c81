"""Every op's value and derivatives against independent references.

References: exact symbolic derivatives from sympy (first, second and, for a few ops,
third order) and central finite differences of the engine's own forward pass. Each op
is checked at many seeded random points inside its domain.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sympy as sp
from op_cases import CASES, SYMBOLS, Domain, X, Y, away_from_zero, case_for, uniform

from autograd import OPS, Value, define_op, grad, local_derivatives, no_grad

POINTS_PER_CASE = 15


@dataclass(frozen=True)
class Case:
    """An op applied through the engine, checked against its exact value in sympy."""

    name: str
    engine: Callable[..., Value]
    symbolic: sp.Expr  # in X, or X and Y for two arguments
    domains: tuple[Domain, ...]
    third_order: bool = False

    @property
    def arity(self) -> int:
        return len(self.domains)

    def points(self) -> list[tuple[float, ...]]:
        rng = random.Random(f"ops-{self.name}")
        return [tuple(d.sample(rng) for d in self.domains) for _ in range(POINTS_PER_CASE)]


def primitive(name: str) -> Case:
    """The row ``name`` of the table, applied by calling it, with its case of op_cases."""
    case = case_for(name)
    return Case(name, OPS[name], case.symbolic, case.domains, case.third_order)


HALF = sp.Rational(5, 2)  # the number 2.5, exactly

# Every row of the table, with its case from tests/op_cases.py.
PRIMITIVE_NAMES = sorted(OPS)

# Operations composed from the primitives, and operators with a number on either side.
DERIVED = [
    Case("neg", lambda x: -x, -X, (uniform(-5, 5),)),
    Case("sub", lambda x, y: x - y, X - Y, (uniform(-5, 5), uniform(-5, 5))),
    Case("div operator", lambda x, y: x / y, X / Y, (uniform(-5, 5), away_from_zero(0.3, 5))),
    Case("abs()", lambda x: abs(x), sp.Abs(X), (away_from_zero(0.05, 5),)),
    Case("sqrt", lambda x: x.sqrt(), sp.sqrt(X), (uniform(0.1, 6),), third_order=True),
    Case("x + 2.5", lambda x: x + 2.5, X + HALF, (uniform(-5, 5),)),
    Case("2.5 + x", lambda x: 2.5 + x, HALF + X, (uniform(-5, 5),)),
    Case("x - 2.5", lambda x: x - 2.5, X - HALF, (uniform(-5, 5),)),
    Case("2.5 - x", lambda x: 2.5 - x, HALF - X, (uniform(-5, 5),)),
    Case("x * 2.5", lambda x: x * 2.5, X * HALF, (uniform(-5, 5),)),
    Case("2.5 * x", lambda x: 2.5 * x, HALF * X, (uniform(-5, 5),)),
    Case("x / 2.5", lambda x: x / 2.5, X / HALF, (uniform(-5, 5),)),
    Case("2.5 / x", lambda x: 2.5 / x, HALF / X, (away_from_zero(0.3, 5),)),
    Case("2 ** x", lambda x: 2**x, 2**X, (uniform(-4, 4),)),
    Case("x ** 3 (negative base)", lambda x: x**3, X**3, (uniform(-3, 3),)),
    Case("x ** 2.5", lambda x: x**2.5, X**HALF, (uniform(0.1, 4),)),
    Case("x ** -2", lambda x: x**-2, X**-2, (away_from_zero(0.3, 4),)),
    Case("x ** 0", lambda x: x**0, sp.Integer(1) + 0 * X, (uniform(-4, 4),)),
    Case("x ** x", lambda x: x**x, X**X, (uniform(0.2, 3),)),
]


def every_case() -> list[Any]:
    """The primitives (one test each, by name) and the derived cases, as pytest params."""
    return [
        *(pytest.param(name, id=name) for name in PRIMITIVE_NAMES),
        *(pytest.param(case, id=case.name) for case in DERIVED),
    ]


def resolve(case: Case | str) -> Case:
    return primitive(case) if isinstance(case, str) else case


# Symbolic derivatives are 0 away from the kink of abs and relu; we never sample the kink.
_MODULES = [
    {
        "DiracDelta": lambda *args: 0.0,
        "sign": lambda v: math.copysign(1.0, v) if v else 0.0,
    },
    "math",
]


def numeric(expr: sp.Expr, arity: int) -> Callable[..., float]:
    f = sp.lambdify(SYMBOLS[:arity], expr, modules=_MODULES)
    return lambda *xs: float(f(*xs))


def close(actual: float, expected: float, rel: float = 1e-9, abs_: float = 1e-10) -> bool:
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_)


def forward(case: Case, point: tuple[float, ...]) -> float:
    with no_grad():
        return case.engine(*[Value(p) for p in point]).data


def test_every_row_of_the_op_table_has_a_case() -> None:
    missing = sorted(set(OPS) - set(CASES))
    assert not missing, f"ops without a test case in tests/op_cases.py: {missing}"


@pytest.mark.parametrize("name", PRIMITIVE_NAMES)
def test_primitive_records_its_name_operands_and_arity(name: str) -> None:
    case = primitive(name)
    operands = [Value(p) for p in case.points()[0]]
    node = case.engine(*operands)
    assert node.op == case.name
    assert node.parents == tuple(operands)
    assert OPS[case.name].arity == case.arity


@pytest.mark.parametrize("case", every_case())
def test_value_matches_sympy(case: Case | str) -> None:
    case = resolve(case)
    exact = numeric(case.symbolic, case.arity)
    for point in case.points():
        assert close(forward(case, point), exact(*point)), point


@pytest.mark.parametrize("case", every_case())
def test_backward_matches_central_differences(case: Case | str) -> None:
    case = resolve(case)
    h = 1e-6
    for point in case.points():
        leaves = [Value(p) for p in point]
        case.engine(*leaves).backward()
        for i, leaf in enumerate(leaves):
            up, down = list(point), list(point)
            up[i] += h
            down[i] -= h
            estimate = (forward(case, tuple(up)) - forward(case, tuple(down))) / (2 * h)
            assert close(leaf.grad, estimate, rel=1e-6, abs_=1e-6), (point, i)


@pytest.mark.parametrize("case", every_case())
def test_first_and_second_derivatives_match_sympy(case: Case | str) -> None:
    case = resolve(case)
    symbols = SYMBOLS[: case.arity]
    for i in range(case.arity):
        first = numeric(sp.diff(case.symbolic, symbols[i]), case.arity)
        d_i = grad(case.engine, argnum=i)
        for point in case.points():
            via_grad = d_i(*point)
            leaves = [Value(p) for p in point]
            case.engine(*leaves).backward()
            assert close(via_grad, first(*point)), (point, i)
            assert close(leaves[i].grad, first(*point)), (point, i)
        for j in range(case.arity):
            second = numeric(sp.diff(case.symbolic, symbols[i], symbols[j]), case.arity)
            d_ij = grad(d_i, argnum=j)
            for point in case.points():
                assert close(d_ij(*point), second(*point)), (point, i, j)


# Third derivatives of the smooth ops (a missing case is named by the tests above).
SMOOTH = [
    *(
        pytest.param(name, id=name)
        for name in PRIMITIVE_NAMES
        if getattr(CASES.get(name), "third_order", False)
    ),
    *(pytest.param(case, id=case.name) for case in DERIVED if case.third_order),
]


@pytest.mark.parametrize("case", SMOOTH)
def test_third_derivatives_match_sympy(case: Case | str) -> None:
    case = resolve(case)
    symbols = SYMBOLS[: case.arity]
    for i, j, k in itertools.product(range(case.arity), repeat=3):
        exact = numeric(sp.diff(case.symbolic, symbols[i], symbols[j], symbols[k]), case.arity)
        d_ijk = grad(grad(grad(case.engine, argnum=i), argnum=j), argnum=k)
        for point in case.points()[:5]:
            assert close(d_ijk(*point), exact(*point), rel=1e-8), (point, i, j, k)


@pytest.mark.parametrize("case", every_case())
def test_second_derivative_matches_differences_of_the_first(case: Case | str) -> None:
    case = resolve(case)
    # Independent of sympy: the engine's second derivative against central differences
    # of its own first derivative.
    h = 1e-5
    d = grad(case.engine)
    dd = grad(d)
    for point in case.points()[:5]:
        rest = point[1:]
        estimate = (d(point[0] + h, *rest) - d(point[0] - h, *rest)) / (2 * h)
        assert close(dd(*point), estimate, rel=1e-5, abs_=1e-5), point


@pytest.mark.parametrize("name", PRIMITIVE_NAMES)
def test_local_derivatives_match_sympy(name: str) -> None:
    case = primitive(name)
    symbols = SYMBOLS[: case.arity]
    partials = [numeric(sp.diff(case.symbolic, s), case.arity) for s in symbols]
    for point in case.points():
        local = local_derivatives(case.engine(*[Value(p) for p in point]))
        assert len(local) == case.arity
        for i, partial in enumerate(partials):
            value: Any = local[i]
            assert isinstance(value, float)
            assert close(value, partial(*point)), (point, i)


@pytest.mark.parametrize("name", [name for name in PRIMITIVE_NAMES if OPS[name].arity == 2])
def test_local_derivative_of_a_constant_operand_is_none(name: str) -> None:
    case = primitive(name)
    x, y = case.points()[0]
    partial_x = numeric(sp.diff(case.symbolic, X), 2)
    local = local_derivatives(case.engine(Value(x), Value(y, requires_grad=False)))
    assert local[1] is None
    assert local[0] is not None and close(local[0], partial_x(x, y))


def test_local_derivatives_of_a_leaf_are_empty() -> None:
    assert local_derivatives(Value(1.0)) == ()


def test_abs_and_relu_take_the_subgradient_zero_at_the_kink() -> None:
    # The convention PyTorch uses; documented in the op table.
    for method in (Value.abs, Value.relu):
        x = Value(0.0)
        method(x).backward()
        assert x.grad == 0.0


def test_relu_passes_positive_and_blocks_negative() -> None:
    assert Value(-2.0).relu().data == 0.0
    assert Value(2.0).relu().data == 2.0


def test_sigmoid_is_stable_far_from_zero() -> None:
    # A naive 1 / (1 + exp(-x)) overflows at x = -1000.
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    x = Value(-1000.0)
    x.sigmoid().backward()
    assert x.grad == 0.0


def test_a_row_with_more_than_two_operands_is_refused_with_its_name() -> None:
    rule = lambda *args: 1.0
    with pytest.raises(ValueError, match=r"'fma'.*one or two operands"):
        define_op("fma", lambda a, b, c: a * b + c, [rule, rule, rule])
    assert "fma" not in OPS
