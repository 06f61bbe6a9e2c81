"""Random graphs for the tests of the compiled path: recipes that build the same DAG of
Values at any point, and network-shaped ones, with Hypothesis strategies for both.

``math_forwards`` makes every op's forward on arrays its forward on floats, elementwise,
so that a batch replay and the engine use the same numbers (numpy's exp, tanh, log and
** may round one ulp away from math's).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from autograd import OPS, Value, topological_order, trace

SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 2.2e-308, -1e-300, 1e-200, 1e-20, 1.0, -1.0, 0.5, -2.0]
SPECIAL += [3.0, 800.0, -800.0, 709.0, 1e20, -1e150, 1e300, -1e300]
NUMBERS = st.one_of(
    st.sampled_from(SPECIAL),
    st.floats(-10.0, 10.0),
    st.floats(-1e300, 1e300),
    st.builds(
        lambda sign, exponent: sign * 10.0**exponent,
        st.sampled_from([-1.0, 1.0]),
        st.floats(-300.0, 300.0),
    ),
)


@dataclass(frozen=True)
class Graph:
    """A recipe for a DAG: node n applies ``steps[n]`` to earlier nodes (leaves first)."""

    requires_grad: tuple[bool, ...]  # one per input
    constants: tuple[float, ...]
    steps: tuple[tuple[str, int, int], ...]  # op, first operand, second (unused if unary)

    def build(self, point: list[float]) -> tuple[Value, list[Value]]:
        inputs = [
            Value(x, f"in{i}", requires_grad=rg)
            for i, (x, rg) in enumerate(zip(point, self.requires_grad, strict=True))
        ]
        leaves = [*inputs, *(Value(c, requires_grad=False) for c in self.constants)]
        nodes: dict[int, Value] = dict(enumerate(leaves))
        for n in self.build_order(len(leaves)):
            name, i, j = self.steps[n - len(leaves)]
            operands = (nodes[i], nodes[j]) if OPS[name].arity == 2 else (nodes[i],)
            nodes[n] = OPS[name](*operands)
        return nodes[len(leaves) + len(self.steps) - 1], inputs

    def build_order(self, n_leaves: int) -> list[int]:
        """The nodes the output depends on, operands first and the first operand first:
        the order of a nested expression, and of a trace. (When two ops of one sample
        both fail, the engine raises for the one built first.)"""
        order: list[int] = []
        seen: set[int] = set()
        stack = [(n_leaves + len(self.steps) - 1, False)]
        while stack:
            n, finished = stack.pop()
            if finished:
                order.append(n)
                continue
            if n in seen or n < n_leaves:
                continue
            seen.add(n)
            stack.append((n, True))
            name, i, j = self.steps[n - n_leaves]
            stack.extend([(j, False), (i, False)] if OPS[name].arity == 2 else [(i, False)])
        return order

    def run(
        self, point: list[float], with_grad: bool = True
    ) -> tuple[float, list[float]] | BaseException:
        """The engine's output and input gradients at ``point``, or the error it raises."""
        try:
            out, inputs = self.build(point)
            if with_grad and out.requires_grad:
                out.backward()
        except (ArithmeticError, ValueError) as error:
            return error
        return out.data, [v.grad for v in inputs]


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    n_inputs = draw(st.integers(1, 4))
    requires_grad = tuple(draw(st.lists(st.booleans(), min_size=n_inputs, max_size=n_inputs)))
    constants = tuple(draw(st.lists(NUMBERS, max_size=2)))
    steps = []
    n_nodes = n_inputs + len(constants)
    for _ in range(draw(st.integers(1, 10))):
        name = draw(st.sampled_from(sorted(OPS)))
        # Mostly recent nodes, so that graphs are deep as well as wide.
        i = draw(st.integers(max(0, n_nodes - 4), n_nodes - 1))
        j = draw(st.integers(0, n_nodes - 1))
        steps.append((name, i, j))
        n_nodes += 1
    return Graph(requires_grad, constants, tuple(steps))


def traced(graph: Graph, first: list[float]) -> Any:
    """The graph traced at a point where the engine can build it (its shape is fixed)."""
    n = len(graph.requires_grad)
    for point in (first, [0.5] * n, [1.5] * n, [0.1 * (i + 1) for i in range(n)]):
        try:
            out, inputs = graph.build(point)
        except (ArithmeticError, ValueError):
            continue
        return trace(out, inputs)
    assume(False)


def batch_inputs(data: st.DataObject, batched: list[bool]) -> list[Any]:
    """One input per flag: an array of the same 1 to 5 samples where ``batched``, else a
    float shared by them."""
    size = data.draw(st.integers(1, 5))
    return [
        np.array(data.draw(st.lists(NUMBERS, min_size=size, max_size=size)))
        if is_batched
        else data.draw(NUMBERS)
        for is_batched in batched
    ]


@contextmanager
def math_forwards() -> Iterator[None]:
    """Every op's forward on arrays made its forward on floats, elementwise (numpy's inf
    or nan where the float forward raises), so that a batch replay and the engine use
    the same numbers."""
    saved = {name: op.on_arrays for name, op in OPS.items()}

    def elementwise(op: Any, numpy_forward: Callable[..., Any]) -> Callable[..., Any]:
        def one(*operands: float) -> float:
            try:
                return op.on_floats(*map(float, operands))  # not numpy scalars: ** differs
            except (ArithmeticError, ValueError):
                with np.errstate(all="ignore"):  # numpy scalars: inf or nan, never raise
                    return float(numpy_forward(*map(np.float64, operands)))

        return np.vectorize(one, otypes=[float])

    try:
        for name, op in OPS.items():
            object.__setattr__(op, "on_arrays", elementwise(op, saved[name]))
        yield
    finally:
        for name, op in OPS.items():
            object.__setattr__(op, "on_arrays", saved[name])


UNARY_OPS = sorted(name for name, op in OPS.items() if op.arity == 1)
WEIGHTS = st.one_of(st.floats(-2.0, 2.0), st.sampled_from([0.0, 5e-324, -1e-300, 1e-20]))


@dataclass(frozen=True)
class Layered:
    """A network-shaped graph: each layer's neurons sum weight * value over the layer
    below (plus a bias), then apply an op; the output sums the last layer."""

    n_inputs: int
    layers: tuple[tuple[int, str], ...]  # (width, op)
    bias: bool

    def n_weights(self) -> int:
        total, below = 0, self.n_inputs
        for width, _ in self.layers:
            total += width * (below + self.bias)
            below = width
        return total

    def build(self, weights: list[Value], xs: list[Value]) -> Value:
        h, k = xs, 0
        for width, name in self.layers:
            below = []
            for _ in range(width):
                z = weights[k] * h[0]
                for v, w in zip(h[1:], weights[k + 1 :], strict=False):
                    z = z + w * v
                k += len(h)
                if self.bias:
                    z = z + weights[k]
                    k += 1
                below.append(OPS[name](z))
            h = below
        out = h[0]
        for v in h[1:]:
            out = out + v
        return out

    def run(self, weights: list[float], xs: list[float]) -> tuple[float, list[float]] | Exception:
        try:
            ws = [Value(w) for w in weights]
            out = self.build(ws, [Value(x, requires_grad=False) for x in xs])
            out.backward()
        except (ArithmeticError, ValueError) as error:
            return error
        return out.data, [w.grad for w in ws]

    def largest(self, weights: list[float], xs: list[float]) -> float:
        """The largest |value| of any node of the graph at this point."""
        out = self.build([Value(w) for w in weights], [Value(x) for x in xs])
        return max(abs(node.data) for node in topological_order(out))


@st.composite
def layered(draw: st.DrawFn) -> Layered:
    # At least 4 x 4 products in the first layer: enough for a matrix product.
    n_inputs = draw(st.integers(4, 6))
    widths = [draw(st.integers(4, 9)), *draw(st.lists(st.integers(2, 9), max_size=2))]
    layers = tuple((width, draw(st.sampled_from(UNARY_OPS))) for width in widths)
    return Layered(n_inputs, layers, draw(st.booleans()))
