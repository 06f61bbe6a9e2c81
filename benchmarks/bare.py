"""The least a node engine can be: chainrule's node layout, the four DAG ops written inline.

No checks, no op table, no constants, no ``requires_grad``, no labels: chainrule's
interpreted engine with every feature stripped. Run as Python (the ``bare-python``
contender) it is what any engine with one Python object per node pays at least; compiled
to C by mypyc (``bare-native``, built by ``run.py`` in a temporary folder) it is what a
native node would give. Typed so that mypyc compiles it to native attributes and calls.
Standard library only.
"""

from __future__ import annotations

import math

# The DAG's op codes, as in workloads.py (this module must compile on its own).
ADD, MUL, TANH, EXP = 0, 1, 2, 3


class BareValue:
    """A node: its data and gradient, the op code that made it and up to two operands."""

    __slots__ = ("data", "first", "grad", "op", "second")

    data: float
    grad: float
    op: int
    first: BareValue | None
    second: BareValue | None

    def __init__(
        self,
        data: float,
        op: int = -1,
        first: BareValue | None = None,
        second: BareValue | None = None,
    ) -> None:
        self.data = data
        self.grad = 0.0
        self.op = op
        self.first = first
        self.second = second

    def __add__(self, other: BareValue) -> BareValue:
        return BareValue(self.data + other.data, ADD, self, other)

    def __mul__(self, other: BareValue) -> BareValue:
        return BareValue(self.data * other.data, MUL, self, other)

    def tanh(self) -> BareValue:
        return BareValue(math.tanh(self.data), TANH, self)

    def exp(self) -> BareValue:
        return BareValue(math.exp(self.data), EXP, self)

    def backward(self) -> None:
        """Gradients of self for every node it depends on; fresh nodes start at grad 0."""
        order: list[BareValue] = []
        visited: set[BareValue] = set()
        # None on the stack marks "the node below it has had all its parents emitted".
        stack: list[BareValue | None] = [self]
        while stack:
            node = stack.pop()
            if node is None:
                done = stack.pop()
                if done is not None:
                    order.append(done)
            elif node not in visited:
                visited.add(node)
                stack.append(node)
                stack.append(None)
                if node.second is not None and node.second not in visited:
                    stack.append(node.second)
                if node.first is not None and node.first not in visited:
                    stack.append(node.first)
        self.grad = 1.0
        for node in reversed(order):
            a, b, g = node.first, node.second, node.grad
            if a is None:  # a leaf
                continue
            if b is None:
                a.grad += g * (1.0 - node.data * node.data) if node.op == TANH else g * node.data
            elif node.op == ADD:
                a.grad += g
                b.grad += g
            else:
                a.grad += g * b.data
                b.grad += g * a.data
