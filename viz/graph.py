"""The operation graph: ``draw_graph``, ``draw_paths`` and the terminal form ``to_text``.

One box per Value (name, data, grad), one small circle per operation, and one edge per
operand slot, so ``a * a`` shows both of the edges along which ``a`` gets gradient. A
Value that gets gradient along several edges has an orange border and a row showing the
contributions that add up to its grad.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from autograd import Value, gradient_edges, local_derivatives, topological_order
from nn.notation import parse_label
from viz._labels import html_number, html_symbol, html_text, node_names, number
from viz._render import ChainGraph
from viz.explain import ChainRule, Level, _count, _Expr, _Sum, explain
from viz.steps import Step

__all__ = ["GradState", "draw_graph", "draw_paths", "to_text"]

_INFIX = {"+", "*", "**"}
_GREY = "#b0b7c3"
_MERGE = "#d97706"  # where gradients from several edges add up
_PATH = "#dc2626"
EdgeKey = tuple[Value, Value, int | None]  # (child, parent, operand slot or None)
Token = tuple[str, str]  # a piece of a caption: its HTML and its plain text
_FILL = {"param": "#dbeafe", "const": "#f3f4f6", "root": "#fef3c7", "inner": "#ffffff"}


def _check_rankdir(rankdir: str) -> None:
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of LR, RL, TB, BT, got {rankdir!r}")


def _check_size(order: list[Value], max_nodes: int | None) -> None:
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


def _final_state(order: list[Value]) -> GradState:
    """The state after backward: ``.grad`` as it stands, each consumer's contribution."""
    received: dict[Value, list[float]] = {node: [] for node in order}
    for node in order:
        for _, parent, d in gradient_edges(node):
            received[parent].append(node.grad * d)
    grads: dict[Value, float | None] = {node: node.grad for node in order}
    return GradState(grads, received, {node: len(r) for node, r in received.items()})


def _kind(node: Value, root: Value) -> str:
    if node is root:
        return "root"
    if not node.requires_grad:
        return "const"
    return "inner" if node.parents else "param"


class _Film:
    """Cell sizes shared by every frame of one pass, so that no frame's layout differs.

    A pass is drawn twice: while ``measuring``, each variable cell (a grad, a running
    sum, an edge's label, the caption) records its widest text over all frames; then
    every frame draws each such cell at least that wide (a generous estimate from the
    number of characters, so that no text exceeds it), pads the caption to the same number
    of lines and keeps borders equally thick. Graphviz then lays out the same sizes in
    every frame: the same positions and the same canvas.
    """

    _POINTS_PER_CHAR = 0.6  # Helvetica's digits are 0.556 em wide; a little to spare

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


def _value_label(
    node: Value,
    name: str,
    kind: str,
    show_grad: bool,
    state: GradState,
    dim: bool,
    film: _Film | None = None,
    key: str = "",
) -> str:
    """The box of one Value: name, data, grad and (where several edges meet) their sum.

    In a ``film`` (see :class:`_Film`) the grad and sum cells have fixed sizes, named
    after ``key``, and a Value fed by several edges always shows its sum row.
    """
    ink = _GREY if dim else "#111827"
    received = state.received[node]
    several = show_grad and state.expected[node] > 1 and not dim
    merge = several and (bool(received) or film is not None)
    current = node is state.processed
    border = _PATH if current else _MERGE if merge and received else ink
    fill = "#ffffff" if dim else _FILL[kind]
    title = html_symbol(name)
    title = f"<B>{title}</B>" if node.label else f'<FONT COLOR="#6b7280">{title}</FONT>'
    rows = [f'<TR><TD COLSPAN="2">{title}</TD></TR>']
    rows.append(f'<TR><TD ALIGN="LEFT">data</TD><TD ALIGN="RIGHT">{number(node.data)}</TD></TR>')
    if show_grad and kind != "const":
        grad = state.grads[node]
        if grad is None:
            text, shown = "?", f'<FONT COLOR="{_GREY}">?</FONT>'
        elif state.partial(node):
            text = f"{number(grad)} so far"
            shown = f'<FONT COLOR="{_GREY}">{text}</FONT>'
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


def _html_caption(lines: list[tuple[str, int]], film: _Film | None = None) -> str:
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


_WRAP = 110  # characters per line of a caption's ledger


def _tokens(expr: _Expr, leaf: Callable[[Step], tuple[str, str]], skip_ones: bool) -> list[Token]:
    """``expr`` as (html, plain) pieces; a line may break after a `` * `` or `` + ``."""
    if isinstance(expr, Step):
        html, plain = leaf(expr)
        if plain.startswith("-"):
            return [(f"({html})", f"({plain})")]
        return [(html, plain)]
    if isinstance(expr, _Sum):
        out: list[Token] = []
        for i, term in enumerate(expr.terms):
            out += ([(" + ", " + ")] if i else []) + _tokens(term, leaf, skip_ones)
        return out
    factors = [
        f for f in expr.factors if not (skip_ones and isinstance(f, Step) and f.derivative == 1.0)
    ]
    if not factors:
        return [("1", "1")]
    out = []
    for i, factor in enumerate(factors):
        inner = _tokens(factor, leaf, skip_ones)
        if isinstance(factor, _Sum) and len(factors) > 1:
            inner = [("(", "("), *inner, (")", ")")]
        out += ([(" &#183; ", " * ")] if i else []) + inner
    return out


def _wrap(tokens: list[Token], width: int = _WRAP) -> list[tuple[str, int]]:
    """Tokens packed into lines of at most ``width`` characters (html, length)."""
    lines: list[tuple[str, int]] = []
    html, chars = "", 0
    for piece, plain in tokens:
        if chars + len(plain) > width and chars and html.endswith((" &#183; ", " + ")):
            lines.append((html, chars))
            html, chars = "", 0
        html += piece
        chars += len(plain)
    lines.append((html, chars))
    return lines


def _ledger_caption(rule: ChainRule, skip_ones: bool) -> str:
    """The ledger of ``rule`` as an HTML table: real sub- and superscripts, aligned columns.

    Long lines wrap after a `` * `` or `` + ``; with ``skip_ones`` the factors that are
    exactly 1 (the local derivatives of ``+``) are left out, and a line says so.
    """
    rows, where_rows = _ledger_rows(rule, skip_ones)
    parts = [_table(rows), *([_table(where_rows)] if where_rows else [])]
    return "<" + _table([(part,) for part in parts]) + ">"


def _ledger_rows(
    rule: ChainRule, skip_ones: bool, width: int = _WRAP
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """The ledger of ``rule`` as rows of HTML cells (Graphviz's HTML-like subset, which a
    browser also reads): the sum over paths, then its ``where`` block (empty if none).

    Lines of the sum wrap at ``width`` characters; see :func:`_ledger_caption`, which
    draws them in the pictures, and :func:`viz.explorer`, which shows them on its page.
    """

    def d(top: Value, bottom: Value) -> tuple[str, str]:
        names = rule.names
        return (
            f"d{html_symbol(names[top])}/d{html_symbol(names[bottom])}",
            f"d{names[top]}/d{names[bottom]}",
        )

    def symbol(step: Step) -> tuple[str, str]:
        return d(step.child, step.parent)

    def value(step: Step) -> tuple[str, str]:
        return html_number(step.derivative, 6), number(step.derivative, 6)

    head_html = d(rule.root, rule.wrt)[0]
    rows: list[tuple[str, ...]] = []
    expr = rule._expr
    paths = _count(len(rule.paths), "path")
    if expr is None:
        rows.append((head_html, "=", "0  (no path leads to it)"))
    else:
        for n, tokens in enumerate(
            (_tokens(expr, symbol, skip_ones), _tokens(expr, value, skip_ones))
        ):
            for i, (html, _) in enumerate(_wrap(tokens, width)):
                rows.append((head_html if n == i == 0 else "", "" if i else "=", html))
        rows.append(("", "=", f"{html_number(rule.total, 6)}  (sum over {paths})"))
    verdict = "agrees" if rule.agrees else "DIFFERS"
    rows.append(("", "", f"{html_number(rule.grad, 6)}  from backward(): {verdict}"))
    if (
        skip_ones
        and expr is not None
        and any(s.derivative == 1.0 for p in rule.paths for s in p.steps)
    ):
        rows.append(("", "", '<FONT COLOR="#6b7280">factors equal to 1 (from +) left out</FONT>'))
    where_rows: list[tuple[str, ...]] = [("where",)] if rule._where() else []
    digits = rule._where_digits()  # as many as it takes to give the results shown
    for step, formula in rule._where():
        values = () if formula.kind == "symbol" else ("=", formula.html(values=True, digits=digits))
        result = html_number(step.derivative, 6)
        where_rows.append((symbol(step)[0], "=", formula.html(), *values, "=", result))
    return rows, where_rows


def _table(rows: list[tuple[str, ...]]) -> str:
    """Rows of HTML cells as a left-aligned table, the last cell of a short row spanning."""
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


def _neuron_clusters(order: list[Value], names: dict[Value, str]) -> dict[Value, Value]:
    """For each unlabelled node computing some ``O_kj``, and ``O_kj`` itself: that ``O_kj``.

    Found from labels alone: walking down from a node named like ``O_kj`` through
    unlabelled operation nodes, up to the labelled Values the neuron reads.
    """
    owner: dict[Value, Value] = {}
    for neuron in order:
        if not is_neuron_output(names[neuron]) or neuron in owner:
            continue
        owner[neuron] = neuron
        stack = [neuron]
        while stack:
            for parent in stack.pop().parents:
                if not parent.label and parent.parents and parent not in owner:
                    owner[parent] = neuron
                    stack.append(parent)
    return owner


def _draw(
    root: Value,
    *,
    rankdir: str,
    show_grad: bool,
    edge_derivatives: bool,
    emphasis: set[Value] | None,
    caption: str,
    max_nodes: int | None,
    cluster_neurons: bool = False,
) -> ChainGraph:
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value to draw, got {type(root).__name__}")
    _check_rankdir(rankdir)
    order = topological_order(root)
    _check_size(order, max_nodes)
    state = _final_state(order)
    return _draw_state(
        root,
        order,
        state,
        rankdir=rankdir,
        show_grad=show_grad,
        edge_derivatives=edge_derivatives,
        emphasis=emphasis,
        caption=caption,
        cluster_neurons=cluster_neurons,
    )


def _draw_state(
    root: Value,
    order: list[Value],
    state: GradState,
    *,
    rankdir: str,
    show_grad: bool,
    edge_derivatives: bool,
    emphasis: set[Value] | None,
    caption: str,
    cluster_neurons: bool,
    film: _Film | None = None,
) -> ChainGraph:
    """The picture of ``order`` (ids ``n0, n1, ...`` by position) in gradient ``state``."""
    names = node_names(order)
    ids = {node: f"n{i}" for i, node in enumerate(order)}
    graph = ChainGraph(name="chainrule")
    graph.text = _text(order, names, state)
    graph.attr(rankdir=rankdir, bgcolor="white", nodesep="0.2", ranksep="0.35")
    graph.attr("node", fontname="Helvetica", fontsize="11")
    graph.attr("edge", fontname="Helvetica", fontsize="9", arrowsize="0.6")
    if caption:
        graph.attr(label=caption, labelloc="b", labeljust="l", fontname="Helvetica", fontsize="12")
    owner = _neuron_clusters(order, names) if cluster_neurons else {}
    clusters: dict[Value, ChainGraph] = {}
    for neuron in dict.fromkeys(owner.values()):
        cluster = ChainGraph(name=f"cluster_{ids[neuron]}")
        cluster.attr(
            label=f"<{html_symbol(names[neuron])}>",
            style="rounded,dashed",
            color="#6b7280",
            fontname="Helvetica",
            fontcolor="#374151",
        )
        clusters[neuron] = cluster

    def dim(node: Value) -> bool:
        return emphasis is not None and node not in emphasis

    def edge_colour(
        child: Value, parent: Value, slot: int, on_path: bool, ink: str
    ) -> dict[str, str]:
        if (child, parent, slot) in state.sent:
            return {"color": _PATH, "penwidth": "2"}
        if state.carried is not None and (child, parent, slot) not in state.carried:
            return {"color": _GREY}
        if on_path:
            return {"color": _PATH, "penwidth": "2"}
        return {"color": ink if emphasis is None else _GREY}

    for node in order:
        node_id = ids[node]
        home = clusters[owner[node]] if node in owner else graph
        if _inline_constant(node):
            home.node(
                node_id,
                label=f"<{number(node.data)}>",
                shape="plaintext",
                fontcolor=_GREY if dim(node) else "#374151",
            )
            continue
        label = _value_label(
            node, names[node], _kind(node, root), show_grad, state, dim(node), film, node_id
        )
        home.node(node_id, label=label, shape="plain")
        if not node.parents:
            continue
        ink = _GREY if dim(node) else "#374151"
        current = node is state.processed
        home.node(
            f"{node_id}op",
            label=f"<{html_text(node.op)}>",
            shape="circle",
            style="filled",
            fillcolor="#fee2e2" if current else "#ffffff" if dim(node) else "#e5e7eb",
            color=_PATH if current else ink,
            fontcolor=ink,
            width="0.3",
            margin="0.02",
        )
        on_path = emphasis is not None and not dim(node)
        waiting = state.carried is not None and not any(
            (node, parent, slot) in state.carried for slot, parent in enumerate(node.parents)
        )
        graph.edge(
            f"{node_id}op",
            node_id,
            color=_PATH if on_path or current else _GREY if waiting else ink,
            **({"penwidth": "2"} if on_path or current else {}),
        )
        for slot, (parent, d) in enumerate(zip(node.parents, local_derivatives(node), strict=True)):
            on_path = emphasis is not None and not dim(node) and not dim(parent)
            attrs = edge_colour(node, parent, slot, on_path, ink)
            if d is None:
                attrs["style"] = "dashed"
            elif film is not None or (node, parent, slot) in state.sent:
                key = f"{node_id}e{slot}"
                attrs["label"] = _sent_label(state, (node, parent, slot), d, film, key)
                if (node, parent, slot) in state.sent:
                    attrs["fontcolor"] = _PATH
            elif edge_derivatives and (emphasis is None or on_path):
                attrs["label"] = f"<{number(d)}>"
                attrs["fontcolor"] = _PATH if on_path else "#1d4ed8"
            graph.edge(ids[parent], f"{node_id}op", **attrs)
    for cluster in clusters.values():
        graph.subgraph(cluster)
    return graph


def _sent_label(state: GradState, edge: EdgeKey, d: float, film: _Film | None, key: str) -> str:
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


def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    edge_derivatives: bool = False,
    highlight: Iterable[Value] | None = None,
    max_nodes: int | None = 400,
    cluster_neurons: bool = False,
    legend: bool = True,
) -> ChainGraph:
    """The operation graph of ``root``: Values, operations, one edge per operand slot.

    ``edge_derivatives`` writes d(out)/d(operand) on each edge; ``highlight`` emphasises
    the given Values (and the edges between them) and greys out the rest;
    ``cluster_neurons`` boxes the operations that compute each neuron output ``O_kj``
    (found by label) under that name; ``legend`` explains shapes and colours below the
    picture. Past ``max_nodes`` Values it raises a ValueError
    rather than draw an unreadable picture. Building needs no ``dot``; ``.render()`` and
    ``.pipe()`` do.

    >>> from autograd import Value
    >>> a = Value(3.0, label="a"); b = a * a; b.backward()
    >>> g = draw_graph(b)
    >>> g.source.count("n0 -> n1op")  # a * a: two edges from a into the * node
    2
    """
    emphasis = None if highlight is None else set(highlight)
    return _draw(
        root,
        rankdir=rankdir,
        show_grad=show_grad,
        edge_derivatives=edge_derivatives,
        emphasis=emphasis,
        caption=_legend(show_grad) if legend else "",
        max_nodes=max_nodes,
        cluster_neurons=cluster_neurons,
    )


def _legend(show_grad: bool) -> str:
    """What the shapes, colours and lines of :func:`draw_graph` mean, as a caption."""

    def swatch(fill: str, border: str = "#111827", width: int = 1) -> str:
        return (
            f'<TD WIDTH="18" HEIGHT="12" BORDER="{width}" COLOR="{border}" BGCOLOR="{fill}"> </TD>'
        )

    items = [
        (swatch(_FILL["param"]), "a Value to learn (a leaf): name, data, grad"),
        (swatch(_FILL["inner"]), "a Value computed from others (v_1, v_2, ... when unnamed)"),
        (swatch(_FILL["root"]), "the root, where backward() starts (grad 1)"),
        (swatch(_FILL["const"]), "a named constant, such as the target y (no grad)"),
        ("<TD>&#9711;</TD>", "an operation; one arrow per operand, into the op"),
        (
            '<TD><FONT COLOR="#9ca3af">- - &#8594;</FONT></TD>',
            "from a constant: no gradient flows back along it",
        ),
        ('<TD><FONT COLOR="#374151">2</FONT></TD>', "an unnamed constant, written as its number"),
    ]
    if show_grad:
        items.append(
            (
                swatch("#ffedd5", _MERGE, 2),
                "grad arrives along several arrows; the orange row adds them up",
            )
        )
    rows = "".join(
        f'<TR>{mark}<TD ALIGN="LEFT"><FONT POINT-SIZE="10">{html_text(text)}</FONT></TD></TR>'
        for mark, text in items
    )
    return f'<<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="1">{rows}</TABLE>>'


def draw_paths(
    root: Value,
    wrt: Value,
    *,
    rankdir: str = "LR",
    level: Level = "op",
    max_paths: int = 1000,
    max_nodes: int | None = 400,
) -> ChainGraph:
    """The graph with every path from ``root`` to ``wrt`` in red, derivatives on its edges.

    At ``level="op"`` everything off the paths is grey. At ``level="neuron"`` only the
    labelled Values on the paths are drawn (``L``, ``O_kj``, ``w^k_ij``), each edge with
    the neuron-level derivative such as dO_31/dO_21, as in the notes' formula. The caption
    is the ledger of :func:`viz.explain` at that level. ``max_nodes`` bounds the op-level
    drawing (the whole graph); a neuron-level one is bounded by ``max_paths``.

    >>> from autograd import Value
    >>> x = Value(2.0, label="x"); y = x * x + x.tanh(); y.backward()
    >>> g = draw_paths(y, x)
    >>> [e.strip() for e in g.source.splitlines() if "n0 ->" in e][1]  # x * x, slot 2
    'n0 -> n1op [label=<2> color="#dc2626" fontcolor="#dc2626" penwidth=2]'
    """
    rule = explain(root, wrt, level=level, max_paths=max_paths)
    caption = _ledger_caption(rule, skip_ones=level == "op")
    if level == "neuron":
        return _draw_neuron_paths(rule, rankdir=rankdir, caption=caption)
    on_paths = {node for path in rule.paths for node in path.nodes}
    return _draw(
        root,
        rankdir=rankdir,
        show_grad=True,
        edge_derivatives=True,
        emphasis=on_paths,
        caption=caption,
        max_nodes=max_nodes,
    )


def _draw_neuron_paths(rule: ChainRule, *, rankdir: str, caption: str) -> ChainGraph:
    """The contracted graph of ``rule``'s paths: labelled Values, neuron-level derivatives.

    Node ids are those of :func:`draw_graph` (position in the topological order).
    """
    _check_rankdir(rankdir)
    order = topological_order(rule.root)
    ids = {node: f"n{i}" for i, node in enumerate(order)}
    state = _final_state(order)
    steps = {(s.child, s.parent): s for path in rule.paths for s in path.steps}
    on_paths = {node for path in rule.paths for node in path.nodes} | {rule.root, rule.wrt}
    graph = ChainGraph(name="chainrule")
    graph.text = str(rule)
    graph.attr(rankdir=rankdir, bgcolor="white", nodesep="0.3", ranksep="1.1")
    graph.attr("node", fontname="Helvetica", fontsize="11")
    graph.attr("edge", fontname="Helvetica", fontsize="10", arrowsize="0.6")
    graph.attr(label=caption, labelloc="b", labeljust="l", fontname="Helvetica", fontsize="12")
    for node in order:
        if node in on_paths:
            kind = _kind(node, rule.root)
            label = _value_label(node, rule.names[node], kind, True, state, dim=False)
            graph.node(ids[node], label=label, shape="plain")
    _pin_notes_order(graph, {ids[node]: rule.names[node] for node in order if node in on_paths})
    position = {node: i for i, node in enumerate(order)}
    for (child, parent), step in sorted(
        steps.items(), key=lambda item: (position[item[0][0]], position[item[0][1]])
    ):
        d = f"d{html_symbol(rule.names[child])}/d{html_symbol(rule.names[parent])}"
        formula = "" if step.formula is None else f" = {step.formula.html()}"
        value = html_number(step.derivative)
        graph.edge(
            ids[parent],
            ids[child],
            label=f"<{_table([(d + formula,), (f'<B>= {value}</B>',)])}>",
            color=_PATH,
            fontcolor=_PATH,
            penwidth="2",
        )
    return graph


def is_neuron_output(name: str) -> bool:
    """Whether ``name`` is a neuron's output ``O_kj`` (or a copy of one, ``O_kj[n]``).

    >>> is_neuron_output("O_31[2]"), is_neuron_output("w^1_11")
    (True, False)
    """
    parsed = parse_label(name)
    return parsed is not None and parsed.kind == "output"


Column = tuple[str, int, int]  # which column: "O" or "w", the layer, the copy (0: none)


def _notes_place(name: str) -> tuple[Column, tuple[float, ...]] | None:
    """Where the lecture notes draw the Value named ``name``: its column and its place in
    that column, top first; None for a name outside the notes' notation.

    The outputs ``O_kj`` of layer k stand by j; the weights ``w^k_ij`` (and biases
    ``b^k_j``) of layer k are grouped by the neuron j they feed, i within the group.
    Several copies of one name (``O_31[2]``) make columns of their own.

    >>> _notes_place("O_12"), _notes_place("w^1_{10,3}"), _notes_place("b^2_1")
    ((('O', 1, 0), (2.0,)), (('w', 1, 0), (3.0, 10.0)), (('w', 2, 0), (1.0, inf)))
    """
    parsed = parse_label(name)
    if parsed is None or parsed.layer is None:
        return None
    copy = parsed.copy or 0
    if parsed.kind == "output":
        return ("O", parsed.layer, copy), (float(parsed.indices[0]),)
    if parsed.kind == "weight":
        i, j = parsed.indices
        return ("w", parsed.layer, copy), (float(j), float(i))
    if parsed.kind == "bias":
        return ("w", parsed.layer, copy), (float(parsed.indices[0]), math.inf)
    return None


def _pin_notes_order(graph: ChainGraph, names: dict[str, str]) -> None:
    """Keep the notes' order in ``graph``: ``O_11`` above ``O_12`` above ``O_13``, the
    weights of ``O_11`` above those of ``O_12`` (left to right when drawn bottom up).

    ``names`` maps node ids to names. Each column of :func:`_notes_place` goes into one
    rank, chained top to bottom by invisible edges, which dot keeps in that order.
    """
    columns: dict[Column, list[tuple[tuple[float, ...], str]]] = {}
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


def _inline_constant(node: Value) -> bool:
    """An unnamed constant (such as the 2 of ``x ** 2``): written as a number, not a node."""
    return not (node.label or node.parents or node.requires_grad)


def _formula(node: Value, names: dict[Value, str], symbol: Callable[[str], str] = str) -> str:
    """How ``node`` is computed, e.g. ``v_1 + a`` or ``tanh(x)``; ``leaf`` for inputs.

    ``symbol`` writes each operand's name (``html_symbol`` for HTML)."""
    operands = [number(p.data) if _inline_constant(p) else symbol(names[p]) for p in node.parents]
    if not node.parents:
        return "leaf" if node.requires_grad else "constant"
    if node.op in _INFIX:
        return f" {node.op} ".join(operands)
    return f"{node.op}({', '.join(operands)})"


def to_text(root: Value, state: GradState | None = None) -> str:
    """The graph as lines of plain text, one per Value, for a terminal.

    ``state`` (from a backward frame) replaces the ``.grad`` values: a grad still waiting
    for contributions reads ``so far``, one that has none yet ``?``.

    >>> from autograd import Value
    >>> a = Value(0.5, label="a"); b = (a * a).tanh(); b.label = "b"; b.backward()
    >>> print(to_text(b))
    a   = leaf       data 0.5     grad 0.94
    v_1 = a * a      data 0.25    grad 0.94
    b   = tanh(v_1)  data 0.2449  grad 1
    """
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    order = topological_order(root)
    return _text(order, node_names(order), state)


def _text(order: list[Value], names: dict[Value, str], state: GradState | None) -> str:
    """:func:`to_text` of a graph already in topological order and named."""
    rows = []
    for node in order:
        if _inline_constant(node):
            continue  # it appears in its users' formulas, as a number
        grad = ""
        if node.requires_grad:
            grad = f"grad {number(node.grad)}"
            if state is not None:
                so_far = state.grads[node]
                if so_far is None:
                    grad = "grad ?"
                else:
                    grad = f"grad {number(so_far)}"
                    if state.partial(node):
                        got, want = len(state.received[node]), state.expected[node]
                        grad += f" so far ({got} of {want} contributions)"
        rows.append((names[node], _formula(node, names), f"data {number(node.data)}", grad))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        f"{n.ljust(widths[0])} = {f.ljust(widths[1])}  {d.ljust(widths[2])}  {g}".rstrip()
        for n, f, d, g in rows
    )
