"""The reverse sweep: one algorithm behind every gradient chainrule computes.

:func:`backpropagate` walks a graph from its output back to its inputs, in reverse
topological order. Each node, once every contribution to its gradient has arrived, sends
``its gradient * the local derivative`` along each edge to its operands, where the
contributions add up: the chain rule summed over every path. It works on any nodes and
any kind of number, with a hook per step:

- :func:`gradients` runs it on a graph of Values with the op table's rules on floats, or
  on the Values themselves (a differentiable graph: higher-order ``grad``);
- viz's step-by-step frames and ledgers run it with a hook that records each step, at the
  level of ops or contracted onto the notes' neurons, on numbers and on formulas.

Copies kept for speed, each tested equal to this one: ``Value.backward`` (floats, on the
``.grad`` attributes) and the compiled path's replay (slots of a traced program).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, MutableMapping, Sequence
from functools import partial
from typing import Any, TypeVar

from autograd.engine import Value, describe, enable_grad, gradient_edges, topological_order

__all__ = ["backpropagate", "gradients"]

Node = TypeVar("Node", bound=Hashable)


def backpropagate(
    order: Sequence[Node],
    edges: Callable[[Node], Iterable[tuple[Any, Node, Any]]],
    seed: Mapping[Node, Any],
    *,
    zero: Any = None,
    on_step: Callable[[Node, Any, MutableMapping[Node, Any]], None] | None = None,
) -> dict[Node, Any]:
    """The gradient of the output with respect to every node that gradient reaches.

    ``order`` lists the nodes with every operand before the nodes using it; ``seed`` gives
    the gradients to start from (``{output: 1.0}``). ``edges(node)`` gives each edge out of
    ``node`` that gradient flows through, in operand order, as
    :func:`~autograd.gradient_edges` does: ``(slot, operand, local derivative)``, the slot
    the caller's own (the sweep does not read it). Contributions add up starting from
    ``zero`` (``0.0`` for floats), or, if it is None, from the first contribution itself
    (which keeps a graph of Values free of ``0 +`` nodes). After a node has sent its
    contributions, ``on_step(node, its gradient, the gradients so far)`` is called: the
    hook of the step-by-step views.

    >>> a = Value(2.0, label="a"); b = a * a + a
    >>> grads = backpropagate(topological_order(b), gradient_edges, {b: 1.0}, zero=0.0)
    >>> grads[a]  # 2a + 1
    5.0
    """
    grads: dict[Node, Any] = dict(seed)
    for node in reversed(order):
        gradient = grads.get(node)
        if gradient is None:
            continue
        for _, operand, local in edges(node):
            contribution = gradient * local
            previous = grads.get(operand, zero)
            grads[operand] = contribution if previous is None else previous + contribution
        if on_step is not None:
            on_step(node, gradient, grads)
    return grads


def gradients(root: Value, *, differentiable: bool = False) -> dict[Value, Any]:
    """d(root)/d(node) for every node of ``root``'s graph that gradient reaches.

    No ``.grad`` is read or written. The rules run on floats, or, if ``differentiable``,
    on the nodes themselves: each gradient is then a Value whose graph can be
    differentiated again (``grad`` of ``grad``). Errors are ``backward()``'s.

    >>> x = Value(3.0); y = x * x * x
    >>> gradients(y)[x], gradients(y, differentiable=True)[x].data
    (27.0, 27.0)
    """
    if not root.requires_grad:
        raise ValueError(
            "backward() needs a Value that requires grad; this one is a constant "
            "(made from plain numbers or under no_grad)"
        )
    order = topological_order(root, only_requiring_grad=True)
    if differentiable:
        with enable_grad():
            seed = {root: Value(1.0, requires_grad=False)}
            return backpropagate(order, partial(gradient_edges, differentiable=True), seed)
    return backpropagate(order, gradient_edges, {root: 1.0}, zero=0.0, on_step=_check_finite)


def _check_finite(node: Value, gradient: float, grads: MutableMapping[Value, Any]) -> None:
    if not math.isfinite(gradient):
        raise OverflowError(f"the gradient overflowed a float at {describe(node)}")
