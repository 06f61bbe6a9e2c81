"""The rows of the op table run on any kind of number that follows the protocol.

A kind written here, in the test, and nowhere in the package: :class:`Source`, which
writes numpy source code, as the compiled path's code generator and the explorer page's
JavaScript will. Every row's forward and local derivatives, run on it, give code that
computes what the row computes on floats. Nothing in ``autograd`` knows this kind.

Also here: the facts the compiled path reads from each row (``propagates_non_finite``,
``may_overflow``) hold for its forward on arrays.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from op_cases import case_for

from autograd import OPS, Function, Op

# What this kind must know by name: the elementary functions and the helpers.
ELEMENTARY = {"exp": "np.exp", "log": "np.log", "tanh": "np.tanh", "sin": "np.sin", "cos": "np.cos"}
HELPERS = {
    "step": "(({0}) > 0) * 1.0",
    "sign": "np.sign({0})",
    "is_zero": "(({0}) == 0) * 1.0",
    "where": "np.where({0}, {1}, {2})",
}


class Source:
    """A number that is a numpy expression, as text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _binary(self, symbol: str, other: Any, swap: bool = False) -> Source:
        a, b = (source(other), self.text) if swap else (self.text, source(other))
        return Source(f"({a} {symbol} {b})")

    def __add__(self, other: Any) -> Source:
        return self._binary("+", other)

    def __radd__(self, other: Any) -> Source:
        return self._binary("+", other, swap=True)

    def __sub__(self, other: Any) -> Source:
        return self._binary("-", other)

    def __rsub__(self, other: Any) -> Source:
        return self._binary("-", other, swap=True)

    def __mul__(self, other: Any) -> Source:
        return self._binary("*", other)

    def __rmul__(self, other: Any) -> Source:
        return self._binary("*", other, swap=True)

    def __truediv__(self, other: Any) -> Source:
        return self._binary("/", other)

    def __rtruediv__(self, other: Any) -> Source:
        return self._binary("/", other, swap=True)

    def __pow__(self, other: Any) -> Source:
        return self._binary("**", other)

    def __rpow__(self, other: Any) -> Source:
        return self._binary("**", other, swap=True)

    def __neg__(self) -> Source:
        return Source(f"(-{self.text})")

    def __abs__(self) -> Source:
        return Source(f"np.abs({self.text})")

    def __chainrule_apply__(self, function: Function, operands: tuple[Any, ...]) -> Source:
        if isinstance(function, Op):
            if function.elementary:
                return Source(f"{ELEMENTARY[function.name]}({source(operands[0])})")
            return as_source(function.forward(*operands))  # written in arithmetic: expand
        return Source(HELPERS[function.name].format(*map(source, operands)))


def source(x: Any) -> str:
    return x.text if isinstance(x, Source) else repr(float(x))


def as_source(x: Any) -> Source:
    return x if isinstance(x, Source) else Source(source(x))


def compiled(expression: Source, arity: int) -> Any:
    names = ", ".join([*("x0", "x1")[:arity], "out"])
    return eval(f"lambda {names}: {expression.text}", {"np": np})


def test_this_kind_knows_every_elementary_op_of_the_table() -> None:
    unknown = [name for name, op in OPS.items() if op.elementary and name not in ELEMENTARY]
    assert not unknown, f"elementary ops a new kind must know by name: {unknown}"


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_row_runs_on_a_kind_written_outside_the_package(name: str) -> None:
    op, case = OPS[name], case_for(name)
    symbols = [Source("x0"), Source("x1")][: op.arity]
    forward = compiled(as_source(op(*symbols)), op.arity)
    rules = [
        compiled(as_source(rule(*symbols, Source("out"))), op.arity) for rule in op.derivatives
    ]
    points = case.points()
    columns = [np.array(column) for column in zip(*points, strict=True)]
    outs = [op(*point) for point in points]
    with np.errstate(all="ignore"):
        assert forward(*columns, None) == pytest.approx(outs, rel=1e-13)
        for i, rule in enumerate(rules):
            expected = [
                op.derivatives[i](*point, out) for point, out in zip(points, outs, strict=True)
            ]
            got = np.broadcast_to(rule(*columns, np.array(outs)), len(points))
            assert list(got) == pytest.approx(expected, rel=1e-12), (name, i)


SPECIAL = [math.inf, -math.inf, math.nan]
FINITE = [0.0, -0.0, 5e-324, 1e-300, 0.5, 1.0, -1.0, 2.0, -3.5, 1e10, -1e300, 1.7e308]


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if op.propagates_non_finite))
def test_an_op_said_to_propagate_non_finite_values_does(name: str) -> None:
    op = OPS[name]
    for slot in range(op.arity):
        for bad, *others in itertools.product(SPECIAL, *[FINITE + SPECIAL] * (op.arity - 1)):
            operands = [*others[:slot], bad, *others[slot:]]
            with np.errstate(all="ignore"):
                result = op.on_arrays(*(np.array([x]) for x in operands))
            assert not np.isfinite(result).any(), (name, operands)


@pytest.mark.parametrize("name", sorted(n for n, op in OPS.items() if not op.may_overflow))
def test_an_op_said_not_to_overflow_differently_rounds_alike_near_the_float_max(name: str) -> None:
    op = OPS[name]
    for operands in itertools.product(FINITE, repeat=op.arity):
        try:
            on_floats = op.on_floats(*operands)
        except (ArithmeticError, ValueError):
            continue
        with np.errstate(all="ignore"):
            on_arrays = float(op.on_arrays(*(np.array([x]) for x in operands))[0])
        if on_floats != on_arrays:  # an ulp apart: then far from the float max
            assert max(abs(on_floats), abs(on_arrays)) < 1e300, (name, operands)
