"""The `Value` node and reverse-mode differentiation over the graph of Values.

A Value records the op that made it (a name in :data:`autograd.ops.OPS`) and its operands
in order. Backpropagation walks the graph once, iteratively, in reverse topological
order, and adds up the contribution of every path: the seed's
``dh/dx = dh/dF * dF/dx + dh/dg * dg/dx``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from autograd.ops import OPS, Op

__all__ = ["Value", "no_grad", "zero_grad", "local_derivatives", "topological_order"]

# Whether operations record their operands. A ContextVar rather than a module global so
# that threads and async tasks each have their own setting.
_RECORDING: ContextVar[bool] = ContextVar("chainrule_recording", default=True)


@contextmanager
def no_grad() -> Iterator[None]:
    """Within this block, operations record no parents: results are constant leaves.

    Use it for evaluation and for the weight-update step of training.

    >>> w = Value(2.0)
    >>> with no_grad():
    ...     y = w * 3
    >>> y.parents, y.requires_grad
    ((), False)
    """
    token = _RECORDING.set(False)
    try:
        yield
    finally:
        _RECORDING.reset(token)


@contextmanager
def _recording() -> Iterator[None]:
    """Record operations even inside ``no_grad`` (``grad`` needs the graph it builds)."""
    token = _RECORDING.set(True)
    try:
        yield
    finally:
        _RECORDING.reset(token)


def _to_float(data: Any, what: str = "Value data") -> float:
    """``data`` as a finite Python float, or a TypeError/ValueError naming what was given."""
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(
            f"{what} must be a real number (int, float or a numpy scalar), "
            f"got {type(data).__name__}: {data!r}"
        )
    value = float(data)
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value


class Value:
    """A scalar in a computation graph: its data, its gradient, and how it was made.

    ``op`` is the name of the operation that produced it (``""`` for a leaf) and
    ``parents`` its operands in operand order, duplicates kept. Values compare by
    identity, so they can be dict keys and set members.

    >>> x = Value(3.0, label="x")
    >>> y = x * x + x.tanh()
    >>> y.backward()
    >>> round(x.grad, 6)  # 2x + (1 - tanh(x)^2), summed over both paths
    6.009866
    >>> (x * x).parents == (x, x)
    True
    """

    __slots__ = ("data", "grad", "label", "op", "parents", "requires_grad")

    data: float
    grad: float
    op: str
    parents: tuple[Value, ...]
    label: str
    requires_grad: bool

    def __init__(self, data: float, label: str = "", *, requires_grad: bool = True) -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}: {label!r}")
        if not isinstance(requires_grad, bool):
            raise TypeError(f"requires_grad must be a bool, got {requires_grad!r}")
        self.data = _to_float(data)
        self.grad = 0.0
        self.op = ""
        self.parents = ()
        self.label = label
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self.op else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label}{op})"

    # --- primitives: one line each onto the table ---------------------------------------
    def __add__(self, other: Value | float) -> Value:
        return _binary("+", self, other)

    def __radd__(self, other: Value | float) -> Value:
        return _binary("+", other, self)

    def __mul__(self, other: Value | float) -> Value:
        return _binary("*", self, other)

    def __rmul__(self, other: Value | float) -> Value:
        return _binary("*", other, self)

    def __pow__(self, exponent: Value | float) -> Value:
        return _binary("**", self, exponent)

    def __rpow__(self, base: Value | float) -> Value:
        return _binary("**", base, self)

    def exp(self) -> Value:
        """e ** self."""
        return _apply(OPS["exp"], (self,))

    def log(self) -> Value:
        """Natural logarithm; ValueError for data <= 0."""
        return _apply(OPS["log"], (self,))

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _apply(OPS["tanh"], (self,))

    def sigmoid(self) -> Value:
        """Logistic function 1 / (1 + e ** -self)."""
        return _apply(OPS["sigmoid"], (self,))

    def relu(self) -> Value:
        """max(self, 0); the derivative at 0 is taken as 0."""
        return _apply(OPS["relu"], (self,))

    def __abs__(self) -> Value:
        return _apply(OPS["abs"], (self,))

    def abs(self) -> Value:
        """|self|; the derivative at 0 is taken as 0."""
        return _apply(OPS["abs"], (self,))

    def sin(self) -> Value:
        """Sine."""
        return _apply(OPS["sin"], (self,))

    def cos(self) -> Value:
        """Cosine."""
        return _apply(OPS["cos"], (self,))

    # --- derived ops: composed from the primitives ---------------------------------------
    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return self + (-other)

    def __rsub__(self, other: Value | float) -> Value:
        return other + (-self)

    def __truediv__(self, other: Value | float) -> Value:
        _check_divisor(self, other)
        return self * other**-1.0

    def __rtruediv__(self, other: Value | float) -> Value:
        _check_divisor(other, self)
        return other * self**-1.0

    def sqrt(self) -> Value:
        """Square root; ValueError for data < 0."""
        if self.data < 0.0:
            raise ValueError(f"sqrt is defined only for x >= 0, got x = {self.data!r}")
        return self**0.5

    # --- differentiation -----------------------------------------------------------------
    def backward(self) -> None:
        """Set ``.grad`` of every node this Value depends on to d(self)/d(node).

        The seed is d(self)/d(self) = 1. Every call recomputes the gradients of the
        intermediate nodes from scratch and **adds** into the leaves, as PyTorch does:
        for ``y = x * x * x`` at x = 3, two calls leave ``x.grad == 54.0``. Reset the
        leaves with :func:`zero_grad` between steps.

        >>> x = Value(3.0); y = x * x * x
        >>> y.backward(); y.backward(); x.grad
        54.0
        """
        for node, gradient in _gradients(self).items():
            if node.parents:
                node.grad = gradient
            else:
                node.grad += gradient


def _check_divisor(numerator: Any, divisor: Any) -> None:
    value = divisor.data if isinstance(divisor, Value) else divisor
    if isinstance(value, numbers.Real) and value == 0:
        top = numerator.data if isinstance(numerator, Value) else numerator
        raise ZeroDivisionError(f"division by zero: {top!r} / {value!r}")


def _operand(x: Any) -> Value | None:
    """A Value for an operand: Values pass, real numbers become constants, else None."""
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    return Value(float(x), requires_grad=False)


def _binary(name: str, left: Any, right: Any) -> Value:
    a, b = _operand(left), _operand(right)
    if a is None or b is None:
        return NotImplemented
    if name == "**" and b.requires_grad and a.data < 0.0:
        raise ValueError(
            f"** : a negative base ({a.data!r}) with a Value exponent has no derivative "
            "with respect to the exponent (it needs log(base))"
        )
    return _apply(OPS[name], (a, b))


def _apply(op: Op, operands: tuple[Value, ...]) -> Value:
    """Run ``op`` forward on the operands' data and record the new node."""
    try:
        data = op.forward(*[v.data for v in operands])
    except OverflowError:
        data = math.inf
    if not math.isfinite(data):
        args = ", ".join(repr(v.data) for v in operands)
        raise OverflowError(f"{op.name}({args}) overflows a float")
    node = Value.__new__(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    if _RECORDING.get():
        node.op = op.name
        node.parents = operands
        node.requires_grad = any(v.requires_grad for v in operands)
    else:
        node.op = ""
        node.parents = ()
        node.requires_grad = False
    return node


def topological_order(root: Value, *, only_requiring_grad: bool = False) -> list[Value]:
    """Every node ``root`` depends on, each once, parents before children, root last.

    Iterative (no recursion limit) and deterministic: operands are visited in order.

    >>> a = Value(1.0, label="a"); b = a * a; c = b + a
    >>> [v.label or v.op for v in topological_order(c)]
    ['a', '*', '+']
    """
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for parent in reversed(node.parents):
            if parent not in visited and (parent.requires_grad or not only_requiring_grad):
                stack.append((parent, False))
    return order


def local_derivatives(node: Value) -> tuple[float | None, ...]:
    """d(node)/d(parent) for each operand slot, as floats (None for a constant operand).

    >>> a = Value(3.0); b = Value(4.0)
    >>> local_derivatives(a * b)
    (4.0, 3.0)
    """
    if not node.parents:
        return ()
    rules = OPS[node.op].derivatives
    args = [p.data for p in node.parents]
    args.append(node.data)
    return tuple(
        float(rule(*args)) if parent.requires_grad else None
        for rule, parent in zip(rules, node.parents, strict=True)
    )


def _gradients(root: Value, *, create_graph: bool = False) -> dict[Value, Any]:
    """d(root)/d(node) for every node that requires grad, by one reverse sweep.

    With ``create_graph`` the rules run on the nodes themselves, so the gradients are
    Values whose own graph can be differentiated again; otherwise they are floats.
    """
    if not root.requires_grad:
        raise ValueError(
            "backward() needs a Value that requires grad; this one is a constant "
            "(made from plain numbers or under no_grad)"
        )
    order = topological_order(root, only_requiring_grad=True)
    grads: dict[Value, Any]
    if create_graph:
        grads = {root: Value(1.0, requires_grad=False)}
        with _recording():
            for node in reversed(order):
                _propagate(node, grads, [*node.parents, node])
        return grads
    grads = dict.fromkeys(order, 0.0)
    grads[root] = 1.0
    for node in reversed(order):
        if not math.isfinite(grads[node]):
            raise OverflowError(f"the gradient overflowed a float at {_describe(node)}")
        _propagate(node, grads, [*(p.data for p in node.parents), node.data])
    return grads


def _propagate(node: Value, grads: dict[Value, Any], args: list[Any]) -> None:
    """Add node's gradient times each local derivative into its operands' gradients.

    ``args`` are the operands then the output, as floats or as the nodes themselves.
    """
    if not node.parents or node not in grads:
        return
    gradient = grads[node]
    rules = OPS[node.op].derivatives
    for rule, parent in zip(rules, node.parents, strict=True):
        if not parent.requires_grad:
            continue
        try:
            contribution = gradient * rule(*args)
        except OverflowError:
            raise OverflowError(
                f"the local derivative of {node.op} overflowed a float at {_describe(node)}"
            ) from None
        previous = grads.get(parent)
        grads[parent] = contribution if previous is None else previous + contribution


def _describe(node: Value) -> str:
    name = f" {node.label!r}" if node.label else ""
    kind = f"the output of {node.op}" if node.op else "a leaf"
    return f"{kind}{name} (data = {node.data!r})"


def zero_grad(values: Iterable[Value]) -> None:
    """Set ``.grad`` to 0.0 on each Value: leaves accumulate across ``backward()`` calls.

    >>> w = Value(2.0); (w * w).backward(); zero_grad([w]); w.grad
    0.0
    """
    for v in values:
        if not isinstance(v, Value):
            raise TypeError(f"zero_grad expects Values, got {type(v).__name__}: {v!r}")
        v.grad = 0.0
