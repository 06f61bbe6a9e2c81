"""The operation graph: ``draw_graph``, ``draw_paths`` and the terminal form ``to_text``.

One box per Value (name, data, grad), one small circle per operation, and one edge per
operand slot, so ``a * a`` shows both of the edges along which ``a`` gets gradient. A
Value that gets gradient along several edges has an orange border and a row showing the
contributions that add up to its grad.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from autograd import Value, gradient_edges, local_derivatives, topological_order
from viz._labels import html_symbol, html_text, node_names, number
from viz._render import ChainGraph
from viz.explain import ChainRule, Level, explain

__all__ = ["GradState", "draw_graph", "draw_paths", "to_text"]

_INFIX = {"+", "*", "**"}
_GREY = "#b0b7c3"
_MERGE = "#d97706"  # where gradients from several edges add up
_PATH = "#dc2626"
_NEURON = re.compile(r"^O_(\d+|\{[^{}]*\})(\[\d+\])?$")  # the seed's neuron outputs O_kj
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
    just ``processed`` and the contributions it ``sent`` per operand slot; ``carried`` are
    the (child, slot) edges that have already carried gradient.
    """

    grads: dict[Value, float | None]
    received: dict[Value, list[float]]
    expected: dict[Value, int]
    processed: Value | None = None
    sent: dict[tuple[Value, int | None], float] = field(default_factory=dict)
    carried: set[tuple[Value, int | None]] | None = None
    caption: list[str] = field(default_factory=list)

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


def _value_label(
    node: Value, name: str, kind: str, show_grad: bool, state: GradState, dim: bool
) -> str:
    ink = _GREY if dim else "#111827"
    received = state.received[node]
    merge = show_grad and state.expected[node] > 1 and bool(received) and not dim
    current = node is state.processed
    border = _PATH if current else _MERGE if merge else ink
    fill = "#ffffff" if dim else _FILL[kind]
    title = html_symbol(name)
    title = f"<B>{title}</B>" if node.label else f'<FONT COLOR="#6b7280">{title}</FONT>'
    rows = [f'<TR><TD COLSPAN="2">{title}</TD></TR>']
    rows.append(f'<TR><TD ALIGN="LEFT">data</TD><TD ALIGN="RIGHT">{number(node.data)}</TD></TR>')
    if show_grad and kind != "const":
        grad = state.grads[node]
        if grad is None:
            shown = f'<FONT COLOR="{_GREY}">?</FONT>'
        elif state.partial(node):
            shown = f'<FONT COLOR="{_GREY}">{number(grad)} so far</FONT>'
        else:
            shown = f"<B>{number(grad)}</B>"
        rows.append(f'<TR><TD ALIGN="LEFT">grad</TD><TD ALIGN="RIGHT">{shown}</TD></TR>')
    if merge:
        waiting = state.expected[node] - len(received)
        terms = " + ".join([*(number(c) for c in received), *["?"] * waiting])
        rows.append(
            f'<TR><TD COLSPAN="2" BGCOLOR="#ffedd5"><FONT POINT-SIZE="10">'
            f"= {html_text(terms)}</FONT></TD></TR>"
        )
    thick = merge or current
    return (
        f'<<FONT COLOR="{ink}"><TABLE BORDER="{2 if thick else 1}" CELLBORDER="0" '
        f'CELLSPACING="0" CELLPADDING="2" COLOR="{border}" BGCOLOR="{fill}">'
        + "".join(rows)
        + "</TABLE></FONT>>"
    )


def _caption(lines: list[str]) -> str:
    """Lines of plain text as a left-aligned HTML caption."""
    body = '<BR ALIGN="LEFT"/>'.join(html_text(line) for line in lines)
    return f'<{body}<BR ALIGN="LEFT"/>>'


def _neuron_clusters(order: list[Value], names: dict[Value, str]) -> dict[Value, Value]:
    """For each unlabelled node computing some ``O_kj``, and ``O_kj`` itself: that ``O_kj``.

    Found from labels alone: walking down from a node named like ``O_kj`` through
    unlabelled operation nodes, up to the labelled Values the neuron reads.
    """
    owner: dict[Value, Value] = {}
    for neuron in order:
        if not _NEURON.match(names[neuron]) or neuron in owner:
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
        graph.attr(label=caption, labelloc="b", labeljust="l", fontname="Courier")
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

    def edge_colour(child: Value, slot: int, on_path: bool, ink: str) -> dict[str, str]:
        if (child, slot) in state.sent:
            return {"color": _PATH, "penwidth": "2"}
        if state.carried is not None and (child, slot) not in state.carried:
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
        label = _value_label(node, names[node], _kind(node, root), show_grad, state, dim(node))
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
            (node, slot) in state.carried for slot in range(len(node.parents))
        )
        graph.edge(
            f"{node_id}op",
            node_id,
            color=_PATH if on_path or current else _GREY if waiting else ink,
            **({"penwidth": "2"} if on_path or current else {}),
        )
        for slot, (parent, d) in enumerate(zip(node.parents, local_derivatives(node), strict=True)):
            on_path = emphasis is not None and not dim(node) and not dim(parent)
            attrs = edge_colour(node, slot, on_path, ink)
            if d is None:
                attrs["style"] = "dashed"
            elif (node, slot) in state.sent:
                sent = state.sent[node, slot]
                grad = state.grads[node]
                attrs["label"] = (
                    f"<<B>{number(sent)}</B> = {number(grad or 0.0)} &#215; {number(d)}>"
                )
                attrs["fontcolor"] = _PATH
            elif edge_derivatives and (emphasis is None or on_path):
                attrs["label"] = f"<{number(d)}>"
                attrs["fontcolor"] = _PATH if on_path else "#1d4ed8"
            graph.edge(ids[parent], f"{node_id}op", **attrs)
    for cluster in clusters.values():
        graph.subgraph(cluster)
    return graph


def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    edge_derivatives: bool = False,
    highlight: Iterable[Value] | None = None,
    max_nodes: int | None = 400,
    cluster_neurons: bool = False,
) -> ChainGraph:
    """The operation graph of ``root``: Values, operations, one edge per operand slot.

    ``edge_derivatives`` writes d(out)/d(operand) on each edge; ``highlight`` emphasises
    the given Values (and the edges between them) and greys out the rest;
    ``cluster_neurons`` boxes the operations that compute each neuron output ``O_kj``
    (found by label) under that name. Past ``max_nodes`` Values it raises a ValueError
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
        caption="",
        max_nodes=max_nodes,
        cluster_neurons=cluster_neurons,
    )


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
    the neuron-level derivative such as dO_31/dO_21, as in the seed's formula. The caption
    is the ledger of :func:`viz.explain` at that level. ``max_nodes`` bounds the op-level
    drawing (the whole graph); a neuron-level one is bounded by ``max_paths``.

    >>> from autograd import Value
    >>> x = Value(2.0, label="x"); y = x * x + x.tanh(); y.backward()
    >>> g = draw_paths(y, x)
    >>> [e.strip() for e in g.source.splitlines() if "n0 ->" in e][1]  # x * x, slot 2
    'n0 -> n1op [label=<2> color="#dc2626" fontcolor="#dc2626" penwidth=2]'
    """
    rule = explain(root, wrt, level=level, max_paths=max_paths)
    caption = _caption(str(rule).split("\n"))
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
    graph.attr(label=caption, labelloc="b", labeljust="l", fontname="Courier")
    for node in order:
        if node in on_paths:
            kind = _kind(node, rule.root)
            label = _value_label(node, rule.names[node], kind, True, state, dim=False)
            graph.node(ids[node], label=label, shape="plain")
    position = {node: i for i, node in enumerate(order)}
    for (child, parent), step in sorted(
        steps.items(), key=lambda item: (position[item[0][0]], position[item[0][1]])
    ):
        d = f"&#8706;{html_symbol(rule.names[child])}/&#8706;{html_symbol(rule.names[parent])}"
        graph.edge(
            ids[parent],
            ids[child],
            label=f"<{d} = {number(step.derivative)}>",
            color=_PATH,
            fontcolor=_PATH,
            penwidth="2",
        )
    return graph


def _inline_constant(node: Value) -> bool:
    """An unnamed constant (such as the 2 of ``x ** 2``): written as a number, not a node."""
    return not (node.label or node.parents or node.requires_grad)


def _formula(node: Value, names: dict[Value, str]) -> str:
    """How ``node`` is computed, e.g. ``v_1 + a`` or ``tanh(x)``; ``leaf`` for inputs."""
    operands = [number(p.data) if _inline_constant(p) else names[p] for p in node.parents]
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
