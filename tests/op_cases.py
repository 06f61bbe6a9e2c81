"""One test case per op of the table: its exact value (sympy) and where to sample it.

Every per-op test reads this table through :func:`case_for`, parametrized over the ops
of ``autograd.OPS``: an op added to the table without a case here fails those tests,
naming the op.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sympy as sp

from autograd import OPS, Value

X, Y = sp.symbols("x y", real=True)
SYMBOLS = (X, Y)


@dataclass(frozen=True)
class Domain:
    """Where an operand is sampled: ``lo <= x <= hi``, or (``either_sign``) ``lo <= |x| <= hi``,
    which keeps kinks and poles at 0 out of the sample."""

    lo: float
    hi: float
    either_sign: bool = False

    def sample(self, rng: random.Random) -> float:
        x = rng.uniform(self.lo, self.hi)
        return rng.choice((-1.0, 1.0)) * x if self.either_sign else x

    def squash(self, v: Value) -> Value:
        """Any Value mapped into [lo, hi], smoothly: graphs of any data stay in the domain."""
        return self.lo + (self.hi - self.lo) * v.sigmoid()


def uniform(lo: float, hi: float) -> Domain:
    return Domain(lo, hi)


def away_from_zero(lo: float, hi: float) -> Domain:
    return Domain(lo, hi, either_sign=True)


@dataclass(frozen=True)
class OpCase:
    name: str
    symbolic: sp.Expr  # the op's value, in X, or X and Y for two operands
    domains: tuple[Domain, ...]
    third_order: bool = False  # smooth enough to compare third derivatives with sympy

    @property
    def arity(self) -> int:
        return len(self.domains)

    def points(self, count: int = 15) -> list[tuple[float, ...]]:
        rng = random.Random(f"ops-{self.name}")
        return [tuple(d.sample(rng) for d in self.domains) for _ in range(count)]

    def apply_squashed(self, *operands: Value) -> Value:
        """The op on operands squashed into its domain: for random graphs of any data."""
        return OPS[self.name](*(d.squash(v) for d, v in zip(self.domains, operands, strict=True)))


CASES: dict[str, OpCase] = {
    case.name: case
    for case in [
        OpCase("+", X + Y, (uniform(-5, 5), uniform(-5, 5))),
        OpCase("*", X * Y, (uniform(-5, 5), uniform(-5, 5))),
        OpCase("/", X / Y, (uniform(-5, 5), away_from_zero(0.3, 5)), third_order=True),
        OpCase("**", X**Y, (uniform(0.2, 3), uniform(-2.5, 2.5)), third_order=True),
        OpCase("exp", sp.exp(X), (uniform(-4, 4),), third_order=True),
        OpCase("log", sp.log(X), (uniform(0.1, 6),), third_order=True),
        OpCase("tanh", sp.tanh(X), (uniform(-3, 3),), third_order=True),
        OpCase("relu", sp.Piecewise((X, X > 0), (0, True)), (away_from_zero(0.05, 5),)),
        OpCase("sigmoid", 1 / (1 + sp.exp(-X)), (uniform(-6, 6),), third_order=True),
        OpCase("abs", sp.Abs(X), (away_from_zero(0.05, 5),)),
        OpCase("sin", sp.sin(X), (uniform(-6, 6),), third_order=True),
        OpCase("cos", sp.cos(X), (uniform(-6, 6),), third_order=True),
    ]
}

# The helpers of autograd.ops that rules call, as sympy functions.
HELPERS: dict[str, Callable[..., Any]] = {
    "step": lambda x: sp.Piecewise((1, x > 0), (0, True)),  # as relu's case writes it
    "sign": sp.sign,
}


def case_for(name: str) -> OpCase:
    """The test case of op ``name``; a failure naming the op if it has none."""
    case = CASES.get(name)
    if case is None:
        pytest.fail(f"op {name!r} has no test case: add one to tests/op_cases.py")
    return case


def sympy_call(name: str, *args: sp.Expr) -> sp.Expr:
    """The op or helper ``name`` applied to sympy expressions, from its case above."""
    if name in HELPERS:
        return HELPERS[name](*args)
    case = case_for(name)
    return case.symbolic.subs(dict(zip(SYMBOLS[: len(args)], args, strict=True)), simultaneous=True)


def random_graph(rng: random.Random, leaves: list[Value], size: int) -> Value:
    """A DAG over every op of the table, with heavy reuse: each node takes operands from
    the last few nodes. Operands are squashed into each op's domain and binary results
    through tanh, so values stay tame whatever the inputs; the structure never depends on
    the data, so a trace of it fits other inputs."""
    unary = sorted(name for name, op in OPS.items() if op.arity == 1)
    binary = sorted(name for name, op in OPS.items() if op.arity == 2)
    nodes = list(leaves)
    for _ in range(size):
        a = nodes[-1 - rng.randrange(min(len(nodes), 6))]
        if rng.random() < 0.4:
            nodes.append(case_for(rng.choice(unary)).apply_squashed(a))
        else:
            b = nodes[-1 - rng.randrange(min(len(nodes), 6))]
            nodes.append(case_for(rng.choice(binary)).apply_squashed(a, b).tanh())
    total = nodes[-1]
    for node in nodes[-5:-1]:
        total = total + node * 0.5
    return total
