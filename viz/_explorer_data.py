"""What the explorer page computes with: the traced program and what to show of it.

The page recomputes every value, gradient and local derivative itself whenever the
learner changes a number, so what is embedded is not numbers but structure: the graph as
a program of slots (:func:`autograd.trace`), the ops it uses as JavaScript generated
from their rows (:mod:`viz._js`), which Values are drawn and edited, and templates for
the texts (ledgers, formulas) with holes where the page writes the numbers.

A hole is ``<span data-h="KEY"></span>``: ``dN`` is the local derivative of
edge N as a factor (bracketed if negative), ``rN`` the same as a result, ``vN`` the
value of slot N (a factor), ``total``, ``grad`` and ``verdict`` a ledger's sum over
paths, backward's gradient and whether they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from autograd import Value, op_named, topological_order, trace
from autograd.trace import Program, slot_numbers
from nn.activations import saturates
from nn.evaluate import SATURATED_SLOPE
from nn.losses import l2 as l2_penalty
from nn.notation import is_output_label, parse_label
from nn.train import SATURATED_SHARE, STALLED_SHARE, STILL_STEEP
from viz import ledger
from viz._drawing import constant_partners, constants_read, node_kind
from viz._js import ops_javascript
from viz._labels import browser_html, html_symbol, is_inline_constant, node_names
from viz.explain import explain
from viz.steps import Level, Step, level_edges, neuron_level
from viz.symbolic import Formula, NodeFormulas

__all__ = ["Batch", "PageData", "hole", "page_data", "plain_symbol", "reading_order"]

_LEDGER_WRAP = 50  # characters per line of the page's ledger: it sits beside its "where"


def hole(key: str) -> str:
    """The element a template leaves for the page to fill in (see the module)."""
    return f'<span data-h="{key}"></span>'


@dataclass
class Batch:
    """A network's data and training settings: what the page's Train runs on.

    ``X`` and ``Y`` hold one row of inputs and of numeric targets per sample; ``xs`` and
    ``ys`` are the constants of the drawn graph that stand for one row (``x_i``, ``y``),
    ``params`` the model's parameters in ``parameters()`` order. ``meanings`` says what
    each target stands for when ``Y`` encodes classes (``setosa`` for a one-hot ``y_1``,
    ``+1 yes, -1 no`` for one output), empty when the targets are numbers to fit;
    ``neurons`` gives each neuron's output name and the parameters that feed it.
    """

    X: list[list[float]]
    Y: list[list[float]]
    xs: list[Value]
    ys: list[Value]
    params: list[Value]
    sample: int
    l2: float
    tol: float
    epochs: int
    meanings: tuple[str, ...] = ()
    neurons: tuple[tuple[str, tuple[Value, ...]], ...] = ()


@dataclass
class PageData:
    """The page's JSON (``data``) and the JavaScript of its ops (``ops_js``), with what
    the picture needs: the drawn nodes and edges by id."""

    data: dict[str, Any]
    ops_js: str
    nodes: list[Value]  # drawn, id n<i>
    ids: dict[Value, str]
    edges: list[Step]  # drawn gradient edges, id e<i>
    links: list[tuple[str, str]]  # dashed lines: a constant to a Value, by their ids
    names: dict[Value, str]


def page_data(
    root: Value,
    inputs: Sequence[Value],
    level: Level,
    editable: Sequence[Value],
    eta: float,
    batch: Batch | None,
    *,
    templates: bool,
) -> PageData:
    """Everything the page computes with, for the graph of ``root``.

    ``inputs`` become the program's inputs (every leaf whose value may change: the
    editable ones and those needing a gradient); ``templates`` adds the ledger of every
    drawn Value and the formulas of every edge and definition (left out when the picture
    summarises a network too large to draw).
    """
    order = topological_order(root)
    names = node_names(order)
    program = trace(root, list(inputs))
    slots = slot_numbers(root, list(inputs))
    drawn_nodes, edges_of = level_edges(root, level)
    drawn_edges = [edge for node in drawn_nodes for edge in edges_of.get(node, [])]
    constants: dict[Value, list[Value]] = {}
    if level == "op":
        drawn_nodes = list(order)
    else:
        constants = constants_read(drawn_edges, order, names)
        drawn_nodes = [*constants, *drawn_nodes]
    ids = {node: f"n{i}" for i, node in enumerate(drawn_nodes)}
    is_stop = (lambda node: True) if level == "op" else neuron_level(root)
    formulas = NodeFormulas(order, names, is_stop)
    slot_of_name = {name: slots[node] for node, name in formulas.names.items()}

    def value_hole(name: str) -> str:
        return hole(f"v{slot_of_name[name]}")

    edges = _Edges(slots, formulas if templates else None, value_hole, slot_of_name)
    for edge in drawn_edges:
        edges.add(edge, drawn=True)
    ledgers: dict[str, Any] = {}
    if templates:
        for node in drawn_nodes:
            if node.requires_grad and node is not root:
                ledgers[ids[node]] = _ledger(root, node, level, edges, value_hole)
    penalty = None if batch is None else _penalty(batch.params)
    programs = [program] if penalty is None else [program, penalty[0]]
    ops = list(dict.fromkeys(step.op for p in programs for step in p.instructions))
    named = [n for n in order if n.label or n is root]
    pickable = (
        [n for n in drawn_nodes if not is_inline_constant(n)]
        if templates or batch is None
        else batch.params
    )
    data: dict[str, Any] = {
        "level": level,
        "program": _program(program, ops, order, slots),
        "names": {str(slots[n]): names[n] for n in named},
        "texts": {str(slots[n]): plain_symbol(names[n]) for n in named},
        "pick": [
            {"group": group, "slots": [slots[pickable[i]] for i in members]}
            for group, members in reading_order([names[n] for n in pickable])
        ],
        "root": slots[root],
        "rootHtml": browser_html(html_symbol(names[root])),
        "stop": [slots[n] for n in order if is_stop(n)],
        "nodes": [
            _node(n, ids, slots, names, root, is_stop if templates else None, value_hole)
            for n in drawn_nodes
        ],
        "edges": edges.rows,
        "ledgers": ledgers,
        "editable": [slots[v] for v in editable],
        "start": [v.data for v in inputs],
        "eta": eta,
        "batch": None if batch is None else _batch(batch, slots, ops, penalty, order),
    }
    return PageData(
        data=data,
        ops_js=ops_javascript(ops),
        nodes=drawn_nodes,
        ids=ids,
        edges=drawn_edges,
        links=_links(constants, order, ids),
        names=names,
    )


_SUPERSCRIPT = str.maketrans(
    "0123456789", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"
)
_SUBSCRIPT = str.maketrans(
    "0123456789", "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089"
)


def plain_symbol(name: str) -> str:
    """``name`` typeset in plain text (for a list, which holds no markup): digits as
    Unicode super- and subscripts; a name with other scripts stays as it is written.

    >>> plain_symbol("w^1_11"), plain_symbol("O_{1,12}"), plain_symbol("y"), plain_symbol("v_ij")
    ('w\u00b9\u2081\u2081', 'O\u2081,\u2081\u2082', 'y', 'v_ij')
    """
    parsed = parse_label(name)
    scripts = [part for part in (parsed.sup, parsed.sub) if part] if parsed else []
    if parsed is None or not all(p.isascii() and p.replace(",", "").isdigit() for p in scripts):
        return name
    sup = parsed.sup.translate(_SUPERSCRIPT)
    return parsed.base + sup + parsed.sub.translate(_SUBSCRIPT) + parsed.copy_mark


def reading_order(names: Sequence[str]) -> list[tuple[str, list[int]]]:
    """Positions of ``names`` grouped and ordered as the lecture notes read a network:
    the inputs, then layer by layer each neuron's weights (i within j), its bias and its
    output, then the targets and the loss. Names that are not all of a network's keep
    their order, in one group named "".

    >>> reading_order(["y", "w^1_21", "O_11", "x_1", "L", "w^1_11"])
    [('inputs', [3]), ('layer 1', [5, 1, 2]), ('loss', [0, 4])]
    >>> reading_order(["x", "h"])
    [('', [0, 1])]
    """
    keys: list[tuple[int, int, int, int]] = []
    for name in names:
        parsed = parse_label(name)
        kind = "other" if parsed is None else parsed.kind
        where = parsed.indices if parsed is not None else ()
        layer = parsed.layer if parsed is not None and parsed.layer is not None else 0
        if kind == "input" and len(where) == 1:
            keys.append((0, 0, 0, where[0]))
        elif kind == "weight" and len(where) == 2:
            keys.append((layer, where[1], 0, where[0]))
        elif kind in ("bias", "output") and len(where) == 1:
            keys.append((layer, where[0], 1 if kind == "bias" else 2, 0))
        elif kind in ("target", "loss"):
            keys.append((_LAST, 0 if kind == "target" else 1, 0, where[0] if where else 0))
        else:
            return [("", list(range(len(names))))] if names else []
    groups: dict[str, list[int]] = {}
    for position in sorted(range(len(names)), key=lambda n: keys[n]):
        layer = keys[position][0]
        group = "inputs" if layer == 0 else "loss" if layer == _LAST else f"layer {layer}"
        groups.setdefault(group, []).append(position)
    return list(groups.items())


_LAST = 1 << 30  # after every layer


def _program(
    program: Program, ops: list[Any], order: list[Value], slots: dict[Value, int]
) -> dict[str, Any]:
    """A :class:`~autograd.Program` as the page's interpreter reads it: per instruction,
    its op's index in the page's table, its output slot and its operand slots (-1: none)."""
    index = {op: i for i, op in enumerate(ops)}
    code: list[int] = []
    for step in program.instructions:
        operands = [*step.operands, -1][:2]
        code += [index[step.op], step.out, *operands]
    needs_grad = [0] * program.n_slots
    for node in order:
        needs_grad[slots[node]] = int(node.requires_grad)
    return {
        "slots": program.n_slots,
        "inputs": program.n_inputs,
        "constants": [list(pair) for pair in program.constants],
        "code": code,
        "output": program.output,
        "needsGrad": needs_grad,
    }


class _Edges:
    """The page's edges: each (child, parent, operand) pair whose local derivative the page
    computes, with its formula's templates. Drawn ones first, then those only a ledger
    names (at the neuron level a ledger's edge can stand for paths the picture shows as
    several)."""

    def __init__(
        self,
        slots: dict[Value, int],
        formulas: NodeFormulas | None,
        value_hole: Callable[[str], str],
        slot_of_name: dict[str, int],
    ) -> None:
        self.slots = slots
        self.formulas = formulas
        self.value_hole = value_hole
        self.slot_of_name = slot_of_name
        self.index: dict[tuple[Value, Value, int | None], int] = {}
        self.rows: list[dict[str, Any]] = []

    def add(self, edge: Step, drawn: bool = False) -> int:
        key = (edge.child, edge.parent, edge.slot)
        if key in self.index:
            return self.index[key]
        formula = None
        if self.formulas is not None:  # without templates, no formulas either
            formula = edge.formula
            if formula is None and edge.slot is not None:
                formula = self.formulas.local(edge.child, edge.slot)
        self.index[key] = len(self.rows)
        self.rows.append(
            {
                "child": self.slots[edge.child],
                "parent": self.slots[edge.parent],
                "operand": -1 if edge.slot is None else edge.slot,
                "drawn": drawn,
                "formula": None if formula is None else _formula(formula, self.value_hole),
                # The slots of the Values its formula is written with: the page redoes
                # the formula's arithmetic with them rounded as it shows them.
                "symbols": []
                if formula is None
                else [self.slot_of_name[name] for name in formula.symbol_names()],
            }
        )
        return self.index[key]


def _formula(formula: Formula, value_hole: Callable[[str], str]) -> dict[str, Any]:
    """A formula's HTML in symbols and with holes for the values (None if it is a number)."""
    return {
        "symbols": browser_html(formula.html()),
        "values": None
        if formula.kind in ("number", "symbol")
        else browser_html(ledger.formula_template(formula, value_hole)),
    }


def _ledger(
    root: Value, node: Value, level: Level, edges: _Edges, value_hole: Callable[[str], str]
) -> dict[str, Any]:
    """The ledger of d(root)/d(node) as templates, and its paths as lists of edges."""
    rule = explain(root, node, level=level)
    holes = ledger.Holes(
        derivative=lambda step: hole(f"d{edges.add(step)}"),
        result=lambda step: hole(f"r{edges.add(step)}"),
        symbol=value_hole,
        total=hole("total"),
        grad=hole("grad"),
        verdict=hole("verdict"),
    )
    written = ledger.browser_template(
        rule, skip_ones=level == "op", width=_LEDGER_WRAP, holes=holes
    )
    return {
        "sum": written.sum_html,
        "where": written.where_html,
        "lines": max(written.sum_rows + 1, written.where_rows),  # + 1: its title
        "paths": [[edges.add(step) for step in path.steps] for path in rule.paths],
        "factors": [edges.add(step) for step in rule.factors()],
    }


def _node(
    node: Value,
    ids: dict[Value, str],
    slots: dict[Value, int],
    names: dict[Value, str],
    root: Value,
    is_stop: Callable[[Value], bool] | None,
    value_hole: Callable[[str], str],
) -> dict[str, Any]:
    """One drawn Value: its id, slot, name, kind and, for a computed Value when
    ``is_stop`` is given, its definition over the drawn Values below it."""
    row: dict[str, Any] = {
        "id": ids[node],
        "slot": slots[node],
        "name": names[node],
        "html": browser_html(html_symbol(names[node])),
        "kind": node_kind(node, root),
    }
    if node.parents and is_stop is not None:
        row["definition"] = _formula(_definition(node, names, is_stop), value_hole)
    return row


def _definition(node: Value, names: dict[Value, str], is_stop: Callable[[Value], bool]) -> Formula:
    """``node`` as its op applied to its operands, written out down to the Values where
    ``is_stop`` holds: ``tanh(w^1_11 * x_1 + ...)`` for ``O_11``."""
    memo: dict[Value, Formula] = {}

    def leaf(n: Value) -> Formula | None:
        if is_inline_constant(n):
            return Formula.constant(n.data)
        if is_stop(n) or not n.parents:
            return Formula.symbol(names[n], n.data)
        return None

    stack = [node]
    while stack:  # operands first, without recursion
        top = stack[-1]
        waiting = [p for p in top.parents if p not in memo and leaf(p) is None]
        if waiting:
            stack.extend(waiting)
            continue
        stack.pop()
        operands = [memo[p] if p in memo else leaf(p) for p in top.parents]
        result = op_named(top.op)(*operands)
        memo[top] = result if isinstance(result, Formula) else Formula.constant(result)
    return memo[node]


def _links(
    constants: dict[Value, list[Value]], order: list[Value], ids: dict[Value, str]
) -> list[tuple[str, str]]:
    """The dashed lines from each drawn constant (``x_i``, ``y``) to the Values it is
    computed with, or else that read it, as the neuron-level pictures draw them."""
    partners = constant_partners(constants, order, ids)
    return [
        (ids[constant], ids[end])
        for constant, readers in constants.items()
        for end in partners[constant] or readers
    ]


def _penalty(params: list[Value]) -> tuple[Program, list[Value], dict[Value, int]]:
    """The Reg term ``sum w^2`` traced on the parameters, as ``nn.train``'s compiled path
    traces it (it multiplies by lambda afterwards)."""
    penalty = l2_penalty(params)
    return trace(penalty, params), topological_order(penalty), slot_numbers(penalty, params)


def _batch(
    batch: Batch,
    slots: dict[Value, int],
    ops: list[Any],
    penalty: tuple[Program, list[Value], dict[Value, int]] | None,
    order: list[Value],
) -> dict[str, Any]:
    """A network's data and training settings, with the program of its Reg term and the
    units whose saturation the page measures when the weights stop moving."""
    if penalty is None:  # unreachable: page_data traces it for every batch
        raise ValueError("a batch needs its penalty program")
    program, penalty_order, penalty_slots = penalty
    return {
        "X": batch.X,
        "Y": batch.Y,
        "inputs": [slots[x] for x in batch.xs],
        "targets": [slots[y] for y in batch.ys],
        "params": [slots[p] for p in batch.params],
        "sample": batch.sample,
        "l2": batch.l2,
        "tol": batch.tol,
        "epochs": batch.epochs,
        "meanings": list(batch.meanings),
        "neurons": [
            {"output": browser_html(html_symbol(name)), "params": [slots[p] for p in params]}
            for name, params in batch.neurons
        ],
        "penalty": _program(program, ops, penalty_order, penalty_slots),
        "bounded": [slots[n] for n in order if _bounded_unit(n)],
        # nn.train's measured thresholds for calling stopped weights a fit.
        "stops": {
            "saturatedShare": SATURATED_SHARE,
            "saturatedSlope": SATURATED_SLOPE,
            "stillSteep": STILL_STEEP,
            "stalledShare": STALLED_SHARE,
        },
    }


def _bounded_unit(node: Value) -> bool:
    """Whether ``node`` is a neuron's output through an activation that saturates (tanh,
    sigmoid): the units :func:`nn.saturated_share` counts, by the same test."""
    if not (node.label and is_output_label(node.label) and node.parents):
        return False
    return saturates(op_named(node.op))
