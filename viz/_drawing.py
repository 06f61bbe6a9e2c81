"""The drawing kit: what the op graph, the paths and the backward frames draw alike.

Colours, a Value's box (name, data, grad, the sum where several edges meet), an edge's
"what it carries" label, captions and tables in Graphviz's HTML-like labels, the checks
every drawing makes, the lecture notes' top-to-bottom order of a network's Values, and
:class:`Film`, which gives every frame of one backward pass the same layout.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from autograd import Value, gradient_edges
from nn.notation import parse_label
from viz._labels import html_symbol, html_text, number
from viz._render import ChainGraph
from viz.steps import BackwardStep, Step

__all__ = [
    "FILL",
    "FONT",
    "GREY",
    "MERGE",
    "PATH",
    "EdgeKey",
    "Film",
    "GradState",
    "check_rankdir",
    "check_size",
    "constant_partners",
    "constants_read",
    "draw_constants",
    "edge_key",
    "html_caption",
    "html_table",
    "node_kind",
    "pin_notes_order",
    "sent_label",
    "value_box",
]

# The pictures' typeface. Graphviz measures text in it and a browser draws an SVG's text in
# it, so the two must find the same font. "Helvetica" is one of Graphviz's PostScript names,
# which it resolves through a table of its own (on Linux often to DejaVu Sans, wider than
# the Liberation Sans a browser draws for it): sub- and superscripts then stand apart from
# their bases. "Arial" is not such a name, so Graphviz asks fontconfig (or the system) for
# it as a browser does (Liberation Sans or Arimo on Linux, Arial on macOS and Windows); it
# is also one of the names a Graphviz without Pango has metrics for, and a list of names
# such as "Helvetica,Arial,sans-serif" is not (it would measure in Times, with a warning).
FONT = "Arial"
GREY = "#b0b7c3"
MERGE = "#d97706"  # where gradients from several edges add up
PATH = "#dc2626"
EdgeKey = tuple[Value, Value, int | None]  # (child, parent, operand slot or None)
# A Value's fill by its kind (see node_kind).
FILL = {"param": "#dbeafe", "const": "#f3f4f6", "root": "#fef3c7", "inner": "#ffffff"}


def check_rankdir(rankdir: str) -> None:
    """Raise ValueError unless ``rankdir`` is a direction Graphviz lays graphs out in.

    >>> check_rankdir("LR")
    >>> check_rankdir("up")
    Traceback (most recent call last):
    ValueError: rankdir must be one of LR, RL, TB, BT, got 'up'
    """
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of LR, RL, TB, BT, got {rankdir!r}")


def check_size(order: list[Value], max_nodes: int | None) -> None:
    """Raise ValueError, saying what to draw instead, if ``order`` has more than
    ``max_nodes`` Values (None: no limit).

    >>> check_size([Value(1.0)], 1)
    >>> check_size([Value(1.0), Value(2.0)], 1)
    Traceback (most recent call last):
    ValueError: the graph has 2 Values, more than max_nodes=1: a picture that size is ...
    """
    if max_nodes is None:
        return
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int or None, got {max_nodes!r}")
    if len(order) > max_nodes:
        raise ValueError(
            f"the graph has {len(order)} Values, more than max_nodes={max_nodes}: a picture "
            "that size is unreadable. Draw one sample's loss instead of the whole batch, use "
            "viz.draw_network(model) for the neuron-level view, or pass a larger max_nodes "
            "(None for no limit)."
        )


@dataclass
class GradState:
    """What a picture says about gradients, node by node.

    ``grads`` holds each node's grad so far (None: nothing has arrived yet),
    ``received`` the contributions that arrived, in order, and ``expected`` how many
    will arrive in all (one per consumer slot). A backward frame also names the node it
    just ``processed`` and the contributions it ``sent`` per edge; ``carried`` are the
    edges that have already carried gradient. An edge is (child, parent, slot).
    """

    grads: dict[Value, float | None]
    received: dict[Value, list[float]]
    expected: dict[Value, int]
    processed: Value | None = None
    sent: dict[EdgeKey, float] = field(default_factory=dict)
    carried: set[EdgeKey] | None = None

    def partial(self, node: Value) -> bool:
        """Whether ``node`` still waits for contributions from other consumers."""
        return len(self.received[node]) < self.expected[node]

    @classmethod
    def after_backward(cls, order: list[Value]) -> GradState:
        """The state after backward: ``.grad`` as it stands, each consumer's contribution.

        >>> a = Value(3.0); b = a * a; b.backward()
        >>> state = GradState.after_backward([a, b]); state.received[a], state.partial(a)
        ([3.0, 3.0], False)
        """
        received: dict[Value, list[float]] = {node: [] for node in order}
        for node in order:
            for _, parent, d in gradient_edges(node):
                received[parent].append(node.grad * d)
        grads: dict[Value, float | None] = {node: node.grad for node in order}
        return cls(grads, received, {node: len(r) for node, r in received.items()})

    @classmethod
    def of_step(cls, step: BackwardStep) -> GradState:
        """What a frame of ``step`` shows: the grads so far and what the step sent.

        >>> from viz.steps import backward_steps
        >>> a = Value(3.0); b = a * a
        >>> first = backward_steps(b)[1]  # the * sends 3 along each of its two edges
        >>> state = GradState.of_step(first); state.received[a], state.processed is b
        ([3.0, 3.0], True)
        """
        carried = {edge_key(c.edge) for received in step.received.values() for c in received}
        return cls(
            dict(step.grads),
            {node: [c.value for c in received] for node, received in step.received.items()},
            {node: len(step.received[node]) + len(step.to_come[node]) for node in step.nodes},
            processed=step.node,
            sent={edge_key(c.edge): c.value for c in step.sent},
            carried=carried,
        )


def edge_key(edge: Step) -> EdgeKey:
    """How a picture names ``edge``: (child, parent, operand slot or None)."""
    return (edge.child, edge.parent, edge.slot)


def node_kind(node: Value, root: Value) -> str:
    """How a picture fills ``node`` (see :data:`FILL`): the ``root``, a ``const``, an
    ``inner`` Value computed from others, or a ``param`` to learn.

    >>> a = Value(1.0); b = a * 2.0
    >>> node_kind(b, b), node_kind(a, b), node_kind(b.parents[1], b)
    ('root', 'param', 'const')
    """
    if node is root:
        return "root"
    if not node.requires_grad:
        return "const"
    return "inner" if node.parents else "param"


class Film:
    """Cell sizes shared by every frame of one pass, so that no frame's layout differs.

    A pass is drawn twice: while ``measuring``, each variable cell (a grad, a running
    sum, an edge's label, the caption) records its widest text over all frames; then
    every frame draws each such cell at least that wide (a generous estimate from the
    number of characters, so that no text exceeds it), pads the caption to the same number
    of lines and keeps borders equally thick. Graphviz then lays out the same sizes in
    every frame: the same positions and the same canvas.
    """

    _POINTS_PER_CHAR = 0.6  # Arial's digits are 0.556 em wide; a little to spare

    def __init__(self) -> None:
        self.measuring = True
        self.widest: dict[str, int] = {}
        self.lines = 0

    def td(self, key: str, chars: int, attrs: str = "", points: int = 11) -> str:
        """The opening ``<TD>`` of variable cell ``key`` holding ``chars`` characters."""
        if self.measuring:
            self.widest[key] = max(self.widest.get(key, 0), chars)
            return f"<TD {attrs}>"
        # CELLPADDING="2" and the cell's border take 6 points of each side's sum.
        width = round(self.widest[key] * points * self._POINTS_PER_CHAR) + 8
        height = round(points * 1.4) + 6
        # A minimum size: text never overflows, and no frame's text is wider.
        return f'<TD {attrs} WIDTH="{width}" HEIGHT="{height}">'


def value_box(
    node: Value,
    name: str,
    kind: str,
    show_grad: bool,
    state: GradState,
    dim: bool,
    film: Film | None = None,
    key: str = "",
    *,
    show_data: bool = True,
) -> str:
    """The box of one Value: name, data, grad and (where several edges meet) their sum;
    without ``show_data`` or ``show_grad`` the box leaves that row out.

    In a ``film`` (see :class:`Film`) the grad and sum cells have fixed sizes, named
    after ``key``, and a Value fed by several edges always shows its sum row.
    """
    ink = GREY if dim else "#111827"
    received = state.received.get(node, [])  # none for a constant, which gets no grad
    several = show_grad and state.expected.get(node, 0) > 1 and not dim
    merge = several and (bool(received) or film is not None)
    current = node is state.processed
    border = PATH if current else MERGE if merge and received else ink
    fill = "#ffffff" if dim else FILL[kind]
    title = html_symbol(name)
    title = f"<B>{title}</B>" if node.label else f'<FONT COLOR="#6b7280">{title}</FONT>'
    rows = [f'<TR><TD COLSPAN="2">{title}</TD></TR>']
    if show_data:
        data = number(node.data)
        rows.append(f'<TR><TD ALIGN="LEFT">data</TD><TD ALIGN="RIGHT">{data}</TD></TR>')
    if show_grad and kind != "const":
        grad = state.grads[node]
        if grad is None:
            text, shown = "?", f'<FONT COLOR="{GREY}">?</FONT>'
        elif state.partial(node):
            text = f"{number(grad)} so far"
            shown = f'<FONT COLOR="{GREY}">{text}</FONT>'
        else:
            text, shown = number(grad), f"<B>{number(grad)}</B>"
        cell = (
            '<TD ALIGN="RIGHT">' if film is None else film.td(f"{key}g", len(text), 'ALIGN="RIGHT"')
        )
        rows.append(f'<TR><TD ALIGN="LEFT">grad</TD>{cell}{shown}</TD></TR>')
    if merge:
        waiting = state.expected[node] - len(received)
        terms = "= " + " + ".join([*(number(c) for c in received), *["?"] * waiting])
        attrs = 'COLSPAN="2" BGCOLOR="#ffedd5"'
        cell = f"<TD {attrs}>" if film is None else film.td(f"{key}s", len(terms), attrs, 10)
        rows.append(f'<TR>{cell}<FONT POINT-SIZE="10">{html_text(terms)}</FONT></TD></TR>')
    thick = merge or current or film is not None
    return (
        f'<<FONT COLOR="{ink}"><TABLE BORDER="{2 if thick else 1}" CELLBORDER="0" '
        f'CELLSPACING="0" CELLPADDING="2" COLOR="{border}" BGCOLOR="{fill}">'
        + "".join(rows)
        + "</TABLE></FONT>>"
    )


def html_caption(lines: list[tuple[str, int]], film: Film | None = None) -> str:
    """Lines of HTML (each with its length in characters) as a left-aligned caption.

    One table row per line, so that subscripts keep clear of the line below; in a
    ``film`` every frame's caption has the same width and number of lines.
    """
    if film is not None:
        if film.measuring:
            film.lines = max(film.lines, len(lines))
        lines = lines + [("", 0)] * (film.lines - len(lines))
    rows = []
    for line, chars in lines:
        cell = (
            '<TD ALIGN="LEFT">' if film is None else film.td("caption", chars, 'ALIGN="LEFT"', 12)
        )
        rows.append(f"<TR>{cell}{line}</TD></TR>")
    table = '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">'
    return f"<{table}{''.join(rows)}</TABLE>>"


def html_table(rows: list[tuple[str, ...]]) -> str:
    """Rows of HTML cells as a left-aligned table, the last cell of a short row spanning.

    >>> html_table([("a", "b"), ("c",)]).count('COLSPAN="2"')
    1
    """
    columns = max(len(row) for row in rows)
    body = []
    for row in rows:
        cells = [f'<TD ALIGN="LEFT">{cell}</TD>' for cell in row[:-1]]
        span = columns - len(row) + 1
        cells.append(f'<TD ALIGN="LEFT" COLSPAN="{span}">{row[-1]}</TD>')
        body.append(f"<TR>{''.join(cells)}</TR>")
    return (
        '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" ALIGN="LEFT">'
        + "".join(body)
        + "</TABLE>"
    )


def sent_label(state: GradState, edge: EdgeKey, d: float, film: Film | None, key: str) -> str:
    """What ``edge`` carries in this step: ``contribution = grad x local derivative``.

    In a ``film`` every edge has the label's cell, empty until the edge carries.
    """
    text = ""
    if edge in state.sent:
        grad = state.grads[edge[0]] or 0.0
        text = f"<B>{number(state.sent[edge])}</B> = {number(grad)} &#215; {number(d)}"
    if film is None:
        return f"<{text}>"
    chars = len(re.sub("<[^>]*>", "", text).replace("&#215;", "x"))
    cell = film.td(key, chars, points=9)
    return f'<<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR>{cell}{text}</TD></TR></TABLE>>'


_Column = tuple[str, int, int]  # which column: "O" or "w", the layer, the copy (0: none)


def _notes_place(name: str) -> tuple[_Column, tuple[float, ...]] | None:
    """Where the lecture notes draw the Value named ``name``: its column and its place in
    that column, top first; None for a name outside the notes' notation.

    The outputs ``O_kj`` of layer k stand by j; the weights ``w^k_ij`` (and biases
    ``b^k_j``) of layer k are grouped by the neuron j they feed, i within the group.
    Several copies of one name (``O_31[2]``) make columns of their own.

    >>> _notes_place("O_12"), _notes_place("w^1_{10,3}"), _notes_place("b^2_1")
    ((('O', 1, 0), (2.0,)), (('w', 1, 0), (3.0, 10.0)), (('w', 2, 0), (1.0, inf)))
    >>> _notes_place("x_3[2]")
    (('O', 0, 2), (3.0,))
    """
    parsed = parse_label(name)
    if parsed is None:
        return None
    copy = parsed.copy or 0
    if parsed.kind == "input":  # the notes' x_i are the outputs of layer 0
        return ("O", 0, copy), (float(parsed.indices[0]),)
    if parsed.layer is None:
        return None
    if parsed.kind == "output":
        return ("O", parsed.layer, copy), (float(parsed.indices[0]),)
    if parsed.kind == "weight":
        i, j = parsed.indices
        return ("w", parsed.layer, copy), (float(j), float(i))
    if parsed.kind == "bias":
        return ("w", parsed.layer, copy), (float(parsed.indices[0]), math.inf)
    return None


def pin_notes_order(graph: ChainGraph, names: dict[str, str]) -> None:
    """Keep the notes' order in ``graph``: ``O_11`` above ``O_12`` above ``O_13``, the
    weights of ``O_11`` above those of ``O_12`` (left to right when drawn bottom up).

    ``names`` maps node ids to names. Each column of :func:`_notes_place` goes into one
    rank, chained top to bottom by invisible edges, which dot keeps in that order.
    """
    columns: dict[_Column, list[tuple[tuple[float, ...], str]]] = {}
    for node_id, name in names.items():
        place = _notes_place(name)
        if place is not None:
            columns.setdefault(place[0], []).append((place[1], node_id))
    for i, key in enumerate(sorted(columns)):
        column = sorted(columns[key])
        if len(column) < 2:
            continue
        rank = ChainGraph(name=f"notes_order_{i}")
        rank.attr(rank="same")
        for (_, upper), (_, lower) in itertools.pairwise(column):
            rank.edge(upper, lower, style="invis")
        graph.subgraph(rank)


def constants_read(
    edges: Iterable[Step], order: list[Value], names: Mapping[Value, str]
) -> dict[Value, list[Value]]:
    """The named constants of ``order`` (such as the inputs ``x_i`` and the target ``y``)
    that the formulas of ``edges`` read, each with the Values whose local derivatives
    read it: what a neuron-level picture draws beside its Values.

    >>> from viz.steps import level_edges
    >>> x = Value(0.5, label="x_1", requires_grad=False); w = Value(2.0, label="w")
    >>> o = (w * x).tanh(); o.label = "O_11"
    >>> nodes, edges = level_edges(o, "neuron")
    >>> order = [x, w, o.parents[0], o]
    >>> names = {x: "x_1", w: "w", o.parents[0]: "z_11", o: "O_11"}
    >>> [(c.label, [n.label for n in readers]) for c, readers in
    ...     constants_read(edges[o], order, names).items()]
    [('x_1', ['O_11'])]
    """
    by_name = {names[n]: n for n in order if n.label and not n.parents and not n.requires_grad}
    found: dict[Value, list[Value]] = {}
    for edge in edges:
        for name in [] if edge.formula is None else edge.formula.symbol_names():
            constant = by_name.get(name)
            if constant is not None and edge.child not in found.setdefault(constant, []):
                found[constant].append(edge.child)
    return found


def draw_constants(
    graph: ChainGraph,
    constants: dict[Value, list[Value]],
    drawn: Mapping[Value, str],
    order: list[Value],
    names: Mapping[Value, str],
    state: GradState,
    film: Film | None = None,
) -> dict[Value, str]:
    """Draw ``constants`` (see :func:`constants_read`) into a neuron-level ``graph`` whose
    Values ``drawn`` have the given ids: a box each (data, no grad), then a dashed line to
    each drawn Value it is computed with, as an input ``x_i`` is with the weights
    ``w^1_ij`` (the notes draw each weight on the edge from its input), or else a dashed
    edge to each Value that reads it, as the target ``y`` to ``L``. A constant keeps its id
    in ``drawn`` if it has one there (else ``c0``, ``c1``, ...); returns their ids.
    """
    partners = constant_partners(constants, order, drawn)
    placed = {}
    for i, (constant, readers) in enumerate(constants.items()):
        node_id = placed[constant] = drawn.get(constant, f"c{i}")
        label = value_box(constant, names[constant], "const", True, state, False, film, node_id)
        graph.node(node_id, label=label, shape="plain")
        for partner in partners[constant]:
            graph.edge(node_id, drawn[partner], style="dashed", color=GREY, dir="none")
        for reader in [] if partners[constant] else readers:
            graph.edge(node_id, drawn[reader], style="dashed", color=GREY)
    return placed


def constant_partners(
    constants: Mapping[Value, list[Value]], order: list[Value], drawn: Collection[Value]
) -> dict[Value, list[Value]]:
    """For each of ``constants``, the ``drawn`` Values it is computed with (an input
    ``x_i`` with the weights ``w^1_ij`` it multiplies), each once: what a picture joins
    it to with a dashed line, or, when there are none, to the Values that read it.

    >>> x = Value(0.5, label="x_1", requires_grad=False); w = Value(2.0, label="w")
    >>> o = (w * x).tanh()
    >>> [p.label for p in constant_partners({x: [o]}, [x, w, o.parents[0], o], {w, o})[x]]
    ['w']
    """
    users: dict[Value, list[Value]] = {}
    for node in order:
        for parent in node.parents:
            users.setdefault(parent, []).append(node)
    return {
        constant: list(
            dict.fromkeys(
                other
                for user in users.get(constant, [])
                for other in user.parents
                if other is not constant and other in drawn
            )
        )
        for constant in constants
    }
