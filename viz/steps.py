"""``backward_steps``: the backward pass as data, one step per node it processes.

The engine's reverse sweep (:func:`autograd.backpropagate`), recorded by its hook after
every node: :func:`viz.backward_frames` draws these steps, and a page or notebook can
replay them. A step names the node processed, what it sends along each edge (its grad
times the local derivative), every node's grad so far and the edges whose contributions
are still to come. ``.grad`` is never read or written.

At ``level="op"`` an edge is one operand slot of one primitive operation. At
``level="neuron"`` the graph is contracted onto its labelled Values (``L``, ``O_kj``,
``w^k_ij``, ``b^k_j``), its root and its leaves: the local derivative between two of them
is the sum over the operation paths between them that meet no other such Value, which is
what the lecture notes write as ``dO_21/dO_11``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from autograd import Value, backpropagate, gradient_edges, topological_order
from viz._labels import node_names
from viz.symbolic import Formula, NodeFormulas

__all__ = [
    "BackwardStep",
    "Contribution",
    "Edges",
    "Level",
    "Step",
    "backward_steps",
    "contract",
    "level_edges",
    "neuron_level",
    "op_edges",
]

Level = Literal["op", "neuron"]


@dataclass(frozen=True)
class Step:
    """One edge: ``child`` depends on ``parent`` with local ``derivative``.

    ``slot`` is the operand position at the operation level, None at the neuron level
    (where one edge may stand for several operation paths, summed). At the neuron level
    ``formula`` is the derivative as a formula over the named Values, from the op table's
    rules, e.g. ``(1 - O_21^2) * w^2_11`` for dO_21/dO_11 (None at the operation level).

    >>> a = Value(3.0, label="a"); b = a * a; b.label = "b"
    >>> [(e.parent.label, e.slot, e.derivative) for e in op_edges([a, b])[b]]  # d(a*a)/da
    [('a', 0, 3.0), ('a', 1, 3.0)]
    """

    child: Value
    parent: Value
    slot: int | None
    derivative: float
    formula: Formula | None = field(default=None, compare=False)


Edges = dict[Value, list[Step]]


@dataclass(frozen=True)
class Contribution:
    """What one edge carries: the child's ``grad`` times the edge's local derivative.

    >>> a = Value(3.0, label="a"); b = a * a; b.label = "b"
    >>> first = backward_steps(b)[1].sent[0]  # b sends grad 1 times d(a*a)/da along slot 0
    >>> first.edge.parent.label, first.grad, first.edge.derivative
    ('a', 1.0, 3.0)
    """

    edge: Step
    grad: float

    @property
    def value(self) -> float:
        """``grad * edge.derivative``, the amount added to the parent's grad.

        >>> a = Value(3.0); b = a * a
        >>> [c.value for c in backward_steps(b)[1].sent]  # one per operand slot: 3 + 3
        [3.0, 3.0]
        """
        return self.grad * self.edge.derivative


@dataclass(frozen=True)
class BackwardStep:
    """The state of the backward pass after step ``index`` (0: only the start, 1 at the root).

    ``node`` is the node just processed (None at step 0) and ``sent`` what it passed to
    each operand. ``grads`` holds every node's grad so far (None: nothing arrived yet),
    ``received`` the contributions that arrived, in order, and ``to_come`` the edges that
    will still bring some. ``nodes`` (in topological order) and ``edges`` (per child) are
    the graph at this pass's level, the same objects in every step of one pass.

    >>> a = Value(3.0, label="a"); b = a * a; b.label = "b"
    >>> start, first = backward_steps(b)
    >>> start.node, start.grads[a], first.node is b, first.grads[a]
    (None, None, True, 6.0)
    """

    index: int
    node: Value | None
    sent: tuple[Contribution, ...]
    grads: Mapping[Value, float | None]
    received: Mapping[Value, tuple[Contribution, ...]]
    to_come: Mapping[Value, tuple[Step, ...]]
    nodes: tuple[Value, ...]
    edges: Mapping[Value, list[Step]]

    def complete(self, node: Value) -> bool:
        """Whether every contribution to ``node``'s grad has arrived.

        >>> a = Value(3.0); b = a * a
        >>> [step.complete(a) for step in backward_steps(b)]  # both arrive in step 1
        [False, True]
        """
        return not self.to_come[node]


def contract(order: list[Value], op_edges: Edges, is_stop: Callable[[Value], bool]) -> Edges:
    """``op_edges`` contracted onto the nodes where ``is_stop`` holds.

    From each stop node, walk down through the other nodes, summing the products of local
    derivatives that arrive at each stop node below: one edge per pair, slot None, with
    the same sum as a formula. ``order`` is topological; ``op_edges`` maps each node to
    its operation-level edges.
    """
    position = {node: i for i, node in enumerate(order)}
    formulas = NodeFormulas(order, node_names(order), is_stop)
    contracted: Edges = {}
    for start in op_edges:
        if not is_stop(start):
            continue
        region = [start]
        seen = {start}
        stack = [start]
        while stack:
            node = stack.pop()
            if node is not start and is_stop(node):
                continue
            for edge in op_edges.get(node, []):
                if edge.parent not in seen:
                    seen.add(edge.parent)
                    region.append(edge.parent)
                    stack.append(edge.parent)
        region.sort(key=position.__getitem__)

        def below(node: Value, start: Value = start) -> list[Step]:
            """The edges the sweep from ``start`` follows: none out of another stop node."""
            return [] if node is not start and is_stop(node) else op_edges.get(node, [])

        arriving = backpropagate(
            region,
            lambda node: [(edge.slot, edge.parent, edge.derivative) for edge in below(node)],
            {start: 1.0},
            zero=0.0,
        )
        symbolic = backpropagate(
            region,
            lambda node: [
                (e.slot, e.parent, formulas.local(node, e.slot or 0)) for e in below(node)
            ],
            {start: Formula.constant(1.0)},
            zero=Formula.constant(0.0),
        )
        ends = [n for n in region if n is not start and is_stop(n)]
        contracted[start] = [Step(start, end, None, arriving[end], symbolic[end]) for end in ends]
    return contracted


def op_edges(order: list[Value]) -> Edges:
    """Every node's operation-level edges: one per operand slot that needs a gradient."""
    return {
        node: [Step(node, parent, slot, d) for slot, parent, d in gradient_edges(node)]
        for node in order
    }


def level_edges(root: Value, level: Level) -> tuple[list[Value], Edges]:
    """The nodes (topological order) and edges of ``root``'s graph at ``level``.

    >>> x = Value(2.0, label="x"); y = (x * x).tanh(); y.label = "y"
    >>> nodes, edges = level_edges(y, "neuron")
    >>> [n.label for n in nodes], [round(s.derivative, 4) for s in edges[y]]
    (['x', 'y'], [0.0054])
    """
    if level not in ("op", "neuron"):
        raise ValueError(f"level must be 'op' or 'neuron', got {level!r}")
    order = topological_order(root)
    edges = op_edges(order)
    if level == "op":
        return order, edges
    is_stop = neuron_level(root)
    contracted = contract(order, edges, is_stop)
    return [node for node in order if is_stop(node) and node.requires_grad], contracted


def neuron_level(root: Value) -> Callable[[Value], bool]:
    """Whether a Value of ``root``'s graph stands at the neuron level: labelled (``L``,
    ``O_kj``, ``w^k_ij``, ``x_i``), the root itself, or a leaf.

    >>> x = Value(2.0, label="x"); y = (x * x).tanh()
    >>> stands = neuron_level(y); stands(x), stands(y.parents[0]), stands(y)
    (True, False, True)
    """
    return lambda node: bool(node.label) or node is root or not node.parents


def backward_steps(root: Value, level: Level = "op") -> list[BackwardStep]:
    """The backward pass from ``root`` as data: the start, then one step per node processed.

    Nodes are processed in reversed topological order, as ``root.backward()`` does; nodes
    that send nothing (leaves, constants) get no step. The last step's grads are what
    ``root.backward()`` computes on zeroed gradients. No ``.grad`` is touched.

    >>> a = Value(2.0, label="a"); b = a * a + a; b.label = "b"
    >>> steps = backward_steps(b)
    >>> [s.node.label if s.node else "start" for s in steps]
    ['start', 'b', '']
    >>> [round(c.value, 3) for c in steps[2].sent]  # the * sends grad 1 times 2, twice
    [2.0, 2.0]
    >>> steps[1].grads[a], len(steps[1].to_come[a]), steps[2].grads[a]
    (1.0, 2, 5.0)
    """
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    if not root.requires_grad:
        raise ValueError("root is a constant (no gradient flows from it)")
    order, edges = level_edges(root, level)
    nodes = tuple(order)
    to_come: dict[Value, list[Step]] = {node: [] for node in nodes}
    for node in nodes:
        for edge in edges.get(node, []):
            to_come[edge.parent].append(edge)
    received: dict[Value, list[Contribution]] = {node: [] for node in nodes}

    def snapshot(
        index: int, node: Value | None, sent: tuple[Contribution, ...], grads: Mapping[Value, float]
    ) -> BackwardStep:
        return BackwardStep(
            index=index,
            node=node,
            sent=sent,
            grads={n: grads.get(n) for n in nodes},
            received={n: tuple(r) for n, r in received.items()},
            to_come={n: tuple(e) for n, e in to_come.items()},
            nodes=nodes,
            edges=edges,
        )

    steps = [snapshot(0, None, (), {root: 1.0})]

    def record(node: Value, grad: float, grads: Mapping[Value, float]) -> None:
        """The sweep's hook: ``node`` has sent ``grad`` times each local derivative."""
        if not edges.get(node):
            return  # a leaf or a constant: it sends nothing, so it gets no step
        sent = tuple(Contribution(edge, grad) for edge in edges[node])
        for contribution in sent:
            received[contribution.edge.parent].append(contribution)
            to_come[contribution.edge.parent].remove(contribution.edge)
        steps.append(snapshot(len(steps), node, sent, grads))

    backpropagate(
        nodes,
        lambda node: [(edge.slot, edge.parent, edge.derivative) for edge in edges.get(node, [])],
        {root: 1.0},
        zero=0.0,
        on_step=record,
    )
    return steps
