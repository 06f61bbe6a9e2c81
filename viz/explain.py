"""``explain``: a gradient as the sum, over every path, of the products of local derivatives.

The lecture notes' rule ``dh/dx = dh/dF * dF/dx + dh/dg * dg/dx``, made concrete on a live graph.
At the operation level every edge is one operand slot of one primitive op. At the neuron
level the graph is contracted onto its labelled Values (``L``, ``O_kj``, ``w^k_ij``):
the local derivative between two labelled Values is the sum over the operation paths
between them that meet no other labelled Value, which is what the notes write as
``dO_21/dO_11``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from autograd import Value, gradients, topological_order
from viz import ledger
from viz._labels import counted, node_names
from viz.ledger import Expr, Path, Product, Sum
from viz.steps import Edges, Level, Step, contract, op_edges

__all__ = ["ChainRule", "Path", "Step", "backward_gradients", "explain"]

_MAX_NESTING = 100  # deeper than this, the factorised ledger falls back to a plain sum
# What listing paths costs, measured on 16k paths of 28 steps (2 cores, noisy): about
# 1.4 us and 25 bytes per step; the estimates round up. Past _MAX_LISTED_STEPS (seconds
# and a few hundred MB) explain refuses whatever max_paths says.
_SECONDS_PER_STEP = 2e-6
_BYTES_PER_STEP = 100
_MAX_LISTED_STEPS = 5_000_000


class _Graph:
    """The edges that lie on some path from ``root`` to ``wrt``, at one level."""

    def __init__(self, root: Value, wrt: Value, level: Level) -> None:
        self.order = topological_order(root)
        self.position = {node: i for i, node in enumerate(self.order)}
        edges = op_edges(self.order)
        reaches = _reaching(self.order, wrt, edges)
        on_paths = {
            node: [edge for edge in edges[node] if edge.parent in reaches]
            for node in self.order
            if node in reaches
        }
        if level == "op":
            self.edges = on_paths
        else:
            self.edges = contract(
                self.order, on_paths, lambda n: bool(n.label) or n is root or n is wrt
            )

    def count_paths(self, top: Value, bottom: Value) -> dict[Value, int]:
        """For every node, how many paths lead from it down to ``bottom``."""
        counts: dict[Value, int] = {}
        low, high = self.position[bottom], self.position[top]
        for node in self.order[low : high + 1]:
            if node is bottom:
                counts[node] = 1
            elif node in self.edges:
                total = sum(counts.get(edge.parent, 0) for edge in self.edges[node])
                if total:
                    counts[node] = total
        return counts

    def count_steps(self, top: Value, bottom: Value, counts: dict[Value, int]) -> int:
        """How many steps all the paths from ``top`` to ``bottom`` hold together.

        By the same sweep as :meth:`count_paths` (``counts`` is its result): a path from
        a node is one step onto an operand, then a path from there.
        """
        steps: dict[Value, int] = {}
        low, high = self.position[bottom], self.position[top]
        for node in self.order[low : high + 1]:
            if node in counts and node is not bottom:
                steps[node] = sum(
                    steps.get(edge.parent, 0) + counts[edge.parent]
                    for edge in self.edges[node]
                    if edge.parent in counts
                )
        return steps.get(top, 0)

    def steps(self, node: Value, toward: dict[Value, int]) -> list[Step]:
        """The steps out of ``node`` that lead on toward the bottom of ``toward``."""
        return [edge for edge in self.edges.get(node, []) if edge.parent in toward]

    def paths(self, root: Value, wrt: Value) -> list[Path]:
        toward = self.count_paths(root, wrt)
        if root not in toward:
            return []
        found: list[Path] = []
        stack: list[tuple[Value, tuple[Step, ...]]] = [(root, ())]
        while stack:
            node, steps = stack.pop()
            if node is wrt:
                found.append(Path(steps))
                continue
            for step in reversed(self.steps(node, toward)):
                stack.append((step.parent, (*steps, step)))
        return found

    def factorise(self, top: Value, bottom: Value, depth: int = 0) -> Expr:
        """The sum over paths from ``top`` to ``bottom`` with common factors pulled out.

        The nodes every path passes through split the paths into segments in series;
        within a segment each first step starts a branch, and the branches add up.
        """
        toward = self.count_paths(top, bottom)
        total = toward[top]
        from_top: dict[Value, int] = {top: 1}
        for node in reversed(self.order[self.position[bottom] : self.position[top] + 1]):
            if node in from_top and node is not bottom:
                for step in self.steps(node, toward):
                    from_top[step.parent] = from_top.get(step.parent, 0) + from_top[node]
        cuts = [
            node
            for node in reversed(self.order[self.position[bottom] : self.position[top] + 1])
            if from_top.get(node, 0) * toward.get(node, 0) == total
        ]
        factors: list[Expr] = []
        for upper, lower in itertools.pairwise(cuts):
            branches: list[Expr] = []
            for step in self.steps(upper, toward):
                if step.parent is lower:
                    branches.append(step)
                elif depth >= _MAX_NESTING:
                    branches.extend(
                        Product((step, *p.steps)) for p in self.paths(step.parent, lower)
                    )
                else:
                    rest = self.factorise(step.parent, lower, depth + 1)
                    tail = rest.factors if isinstance(rest, Product) else (rest,)
                    branches.append(Product((step, *tail)))
            factors.append(branches[0] if len(branches) == 1 else Sum(tuple(branches)))
        return factors[0] if len(factors) == 1 else Product(tuple(factors))


def _reaching(order: list[Value], wrt: Value, edges: Edges) -> set[Value]:
    """The nodes in ``order`` from which ``wrt`` can be reached through gradient edges."""
    reaches: set[Value] = set()
    for node in order:
        if node is wrt or any(edge.parent in reaches for edge in edges[node]):
            reaches.add(node)
    return reaches


def backward_gradients(root: Value, values: Sequence[Value]) -> list[float]:
    """What one ``root.backward()`` on zeroed gradients puts in each of ``values``'
    ``.grad`` (0.0 where no gradient reaches), found by the engine's one reverse sweep
    (:func:`autograd.gradients`): no ``.grad`` is read or written.

    >>> x = Value(3.0, label="x"); y = x * x; x.grad = 5.0
    >>> backward_gradients(y, [x]), x.grad
    ([6.0], 5.0)
    """
    found = gradients(root)
    return [found.get(value, 0.0) for value in values]


def _too_many_paths(how_many: int, steps: int, max_paths: int, wrt: Value, level: Level) -> str:
    """Why ``explain`` refuses, with what listing would cost: a suggestion that can finish.

    The paths are counted, never listed, so this costs one sweep however many there are.
    """
    name = wrt.label or "wrt"
    hint = "a smaller graph (one sample's loss instead of the whole batch)"
    if level == "op":
        hint = f"level='neuron' (paths between labelled Values such as O_kj), or {hint}"
    seconds, megabytes = steps * _SECONDS_PER_STEP, steps * _BYTES_PER_STEP / 1e6
    cost = f"{steps} steps in all, about {seconds:.2g} s and {megabytes:.2g} MB to list"
    head = f"{how_many} paths lead from the root to {name} ({cost})"
    if steps <= _MAX_LISTED_STEPS:
        return (
            f"{head}, more than max_paths={max_paths}. Pass max_paths={how_many} to list "
            f"them all, or use {hint}."
        )
    return (
        f"{head}: too many to list (explain lists at most {_MAX_LISTED_STEPS} steps), "
        f"whatever max_paths is. {name}.grad from backward() already holds their sum, "
        f"found without listing them. To see them path by path, use {hint}."
    )


def _not_in_graph(root: Value, wrt: Value) -> str:
    """Why there is no chain rule for a ``wrt`` that ``root`` was not computed from."""
    name, top = wrt.label or repr(wrt), root.label or "root"
    return (
        f"explain: {name} is not in the graph of {top}: {top} was not computed from it, so "
        f"no path leads from {top} to it (is it another model's, or was {top} computed again "
        "from new Values?)"
    )


class ChainRule:
    """The chain rule for one gradient, written out path by path (see :func:`explain`).

    ``paths`` lists every path from ``root`` to ``wrt``; ``expression`` is their sum with
    the common factors pulled out; ``total`` is the sum of their products; ``grad`` is
    what ``root.backward()`` computes for ``wrt``; ``agrees`` says whether the two match.
    ``str()``, :meth:`to_latex` and :meth:`to_markdown` give the ledger in the notes' form
    (see :mod:`viz.ledger`).

    >>> x = Value(3.0, label="x"); F = x * x; F.label = "F"
    >>> g = x.tanh(); g.label = "g"; h = F * g; h.label = "h"
    >>> rule = explain(h, x, level="neuron")
    >>> [rule.describe_path(p) for p in rule.paths], round(rule.total, 6)
    (['h -> F -> x', 'h -> g -> x'], 6.059123)
    """

    def __init__(
        self, root: Value, wrt: Value, level: Level, max_paths: int, formulas: bool = True
    ) -> None:
        self.root = root
        self.wrt = wrt
        self.level: Level = level
        self.formulas = formulas
        self._graph = _Graph(root, wrt, level)
        if wrt not in self._graph.position:
            raise ValueError(_not_in_graph(root, wrt))
        counts = self._graph.count_paths(root, wrt)
        how_many = counts[root]
        steps = self._graph.count_steps(root, wrt, counts)
        if how_many > max_paths or steps > _MAX_LISTED_STEPS:
            raise ValueError(_too_many_paths(how_many, steps, max_paths, wrt, level))
        self.paths: tuple[Path, ...] = tuple(self._graph.paths(root, wrt))
        self.total: float = math.fsum(p.product for p in self.paths)
        (self.grad,) = backward_gradients(root, [wrt])
        self.names = node_names(self._graph.order)
        self.expression: Expr = self._graph.factorise(root, wrt)

    @property
    def agrees(self) -> bool:
        """Whether the sum over paths equals the gradient from backward (to rounding).

        >>> x = Value(3.0, label="x"); h = x * x + x.tanh()
        >>> rule = explain(h, x)
        >>> rule.agrees, rule.total == rule.grad
        (True, True)
        """
        return math.isclose(self.total, self.grad, rel_tol=1e-9, abs_tol=1e-12)

    def factors(self) -> list[Step]:
        """Each distinct local derivative of the ledger once, in the ledger's order.

        At the neuron level each has its ``formula`` (see :mod:`viz.symbolic`); at the op
        level the ledger derives each from its operation's row.

        >>> x = Value(0.5, label="x"); y = (x * 2.0).tanh(); y.label = "y"
        >>> rule = explain(y, x, level="neuron")
        >>> [(s.formula.text(), round(s.derivative, 4)) for s in rule.factors() if s.formula]
        [('2 * (1 - y^2)', 0.8399)]
        """
        found: dict[tuple[Value, Value, int | None], Step] = {}
        stack: list[Expr] = [self.expression]
        while stack:
            expr = stack.pop()
            if isinstance(expr, Step):
                found.setdefault((expr.child, expr.parent, expr.slot), expr)
            else:
                stack.extend(reversed(expr.factors if isinstance(expr, Product) else expr.terms))
        return list(found.values())

    def describe_path(self, path: Path) -> str:
        """One path as ``L -> O_31 -> ... -> w^1_11``.

        >>> x = Value(2.0, label="x"); y = (x * 3).tanh(); y.label = "y"
        >>> rule = explain(y, x, level="neuron")
        >>> rule.describe_path(rule.paths[0])
        'y -> x'
        """
        return " -> ".join(self.names[node] for node in path.nodes)

    # --- the ledger, written by viz.ledger ----------------------------------------------
    def __str__(self) -> str:
        return ledger.text(self)

    def __repr__(self) -> str:
        head = f"d{self.names[self.root]}/d{self.names[self.wrt]}"
        return (
            f"<ChainRule {head}: {counted(len(self.paths), 'path')}, "
            f"total={self.total!r}, grad={self.grad!r}>"
        )

    def to_latex(self) -> str:
        """The ledger as a LaTeX ``aligned`` block (symbols, numbers, sum, backward).

        >>> x = Value(3.0, label="x"); h = x * x; h.label = "h"
        >>> print(explain(h, x).to_latex())
        \\begin{aligned}
        \\frac{\\partial h}{\\partial x} &= \\frac{\\partial h}{\\partial x} + \\frac{\\partial h}{\\partial x} \\\\
        &= 3 + 3 \\\\
        &= 6 \\quad \\text{(sum over 2 paths; backward: 6)} \\\\
        &\\text{where} \\\\
        \\frac{\\partial h}{\\partial x} &= x = 3
        \\end{aligned}
        """  # noqa: E501
        return ledger.latex(self)

    def to_markdown(self) -> str:
        """The ledger as display math, then a table of the paths and their products.

        >>> x = Value(3.0, label="x"); h = x * x; h.label = "h"
        >>> print(explain(h, x).to_markdown().splitlines()[-1])
        | 2 | h -> x | 3 | 3 |
        """
        return ledger.markdown(self)

    def _repr_markdown_(self) -> str:
        """Notebook display: the ledger as math, then the table of paths."""
        return self.to_markdown()

    def _repr_latex_(self) -> str:
        """Notebook display where only LaTeX is shown: the ledger as display math."""
        return f"$$\n{self.to_latex()}\n$$"


def explain(
    root: Value,
    wrt: Value,
    *,
    level: Level = "op",
    max_paths: int = 1000,
    formulas: bool = True,
) -> ChainRule:
    """Every path from ``root`` down to ``wrt``, the product along each, and their sum.

    ``level="op"`` walks primitive operations (``a * a`` gives two paths to ``a``);
    ``level="neuron"`` walks between labelled Values, as the notes do with ``O_kj``. At
    either level (unless ``formulas=False``) the ledger writes each local derivative that
    is not a plain number as a formula from the op table's rules, then with the numbers
    put in; at the op level a plain number other than 1 as the derivative of the operation
    it comes from (``d(-O_31)/dO_31 = -1``, of ``y - O_31``). Past ``max_paths`` it raises a
    ValueError that counts the paths and says what listing them would cost; past what
    can be listed in seconds it refuses whatever ``max_paths``. A ``wrt`` that ``root`` was
    not computed from (another model's weight) is a ValueError that names it.

    >>> x = Value(3.0, label="x")
    >>> F = x * x; F.label = "F"
    >>> g = x.tanh(); g.label = "g"
    >>> h = F * g + 1; h.label = "h"
    >>> rule = explain(h, x, level="neuron")
    >>> print(rule)
    dh/dx = dh/dF * dF/dx + dh/dg * dg/dx
          = 0.995055 * 6 + 9 * 0.00986604
          = 6.05912  (sum over 2 paths)
            6.05912  from backward(): agrees
    where
      dh/dF = g                          = 0.995055
      dF/dx = 2 * x   = 2 * 3            = 6
      dh/dg = F                          = 9
      dg/dx = 1 - g^2 = 1 - 0.99505475^2 = 0.00986604
    >>> len(explain(h, x).paths)  # at the op level x * x is two paths
    3
    """
    for name, value in (("root", root), ("wrt", wrt)):
        if not isinstance(value, Value):
            raise TypeError(f"explain: {name} must be a Value, got {type(value).__name__}")
    if level not in ("op", "neuron"):
        raise ValueError(f"explain: level must be 'op' or 'neuron', got {level!r}")
    if isinstance(max_paths, bool) or not isinstance(max_paths, int) or max_paths < 1:
        raise ValueError(f"explain: max_paths must be a positive int, got {max_paths!r}")
    if root is wrt:
        raise ValueError("explain: root and wrt are the same Value (the derivative is 1)")
    if not root.requires_grad:
        raise ValueError("explain: root is a constant (no gradient flows from it)")
    if not wrt.requires_grad:
        raise ValueError(
            f"explain: wrt {wrt.label or repr(wrt)} is a constant (requires_grad=False); "
            "no gradient flows to it"
        )
    return ChainRule(root, wrt, level, max_paths, formulas)
