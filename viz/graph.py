"""The operation graph: ``draw_graph``, ``draw_paths`` and the terminal form ``to_text``.

One box per Value (name, data, grad), one small circle per operation, and one edge per
operand slot, so ``a * a`` shows both of the edges along which ``a`` gets gradient. A
Value that gets gradient along several edges has an orange border and a row showing the
contributions that add up to its grad.
"""

from __future__ import annotations

from collections.abc import Iterable

from autograd import Value, local_derivatives, topological_order
from viz._labels import html_symbol, html_text, node_names, number
from viz._render import ChainGraph
from viz.explain import explain

__all__ = ["draw_graph", "draw_paths", "to_text"]

_INFIX = {"+", "*", "**"}
_GREY = "#b0b7c3"
_MERGE = "#d97706"  # where gradients from several edges add up
_PATH = "#dc2626"
_FILL = {"param": "#dbeafe", "const": "#f3f4f6", "root": "#fef3c7", "inner": "#ffffff"}


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


def _contributions(order: list[Value]) -> dict[Value, list[float]]:
    """For each node, what each consumer slot sends it: consumer grad * local derivative."""
    received: dict[Value, list[float]] = {node: [] for node in order}
    for node in order:
        for parent, d in zip(node.parents, local_derivatives(node), strict=True):
            if d is not None:
                received[parent].append(node.grad * d)
    return received


def _kind(node: Value, root: Value) -> str:
    if node is root:
        return "root"
    if not node.requires_grad:
        return "const"
    return "inner" if node.parents else "param"


def _value_label(
    node: Value, name: str, kind: str, show_grad: bool, received: list[float], dim: bool
) -> str:
    ink = _GREY if dim else "#111827"
    merge = show_grad and len(received) > 1 and not dim
    border = _MERGE if merge else ink
    fill = "#ffffff" if dim else _FILL[kind]
    title = html_symbol(name)
    title = f"<B>{title}</B>" if node.label else f'<FONT COLOR="#6b7280">{title}</FONT>'
    rows = [f'<TR><TD COLSPAN="2">{title}</TD></TR>']
    rows.append(f'<TR><TD ALIGN="LEFT">data</TD><TD ALIGN="RIGHT">{number(node.data)}</TD></TR>')
    if show_grad and kind != "const":
        rows.append(
            f'<TR><TD ALIGN="LEFT">grad</TD><TD ALIGN="RIGHT"><B>{number(node.grad)}</B></TD></TR>'
        )
    if merge:
        terms = " + ".join(number(c) for c in received)
        rows.append(
            f'<TR><TD COLSPAN="2" BGCOLOR="#ffedd5"><FONT POINT-SIZE="10">'
            f"= {html_text(terms)}</FONT></TD></TR>"
        )
    return (
        f'<<FONT COLOR="{ink}"><TABLE BORDER="{2 if merge else 1}" CELLBORDER="0" '
        f'CELLSPACING="0" CELLPADDING="2" COLOR="{border}" BGCOLOR="{fill}">'
        + "".join(rows)
        + "</TABLE></FONT>>"
    )


def _draw(
    root: Value,
    *,
    rankdir: str,
    show_grad: bool,
    edge_derivatives: bool,
    emphasis: set[Value] | None,
    caption: str,
    max_nodes: int | None,
) -> ChainGraph:
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value to draw, got {type(root).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of LR, RL, TB, BT, got {rankdir!r}")
    order = topological_order(root)
    _check_size(order, max_nodes)
    names = node_names(order)
    ids = {node: f"n{i}" for i, node in enumerate(order)}
    received = _contributions(order)
    graph = ChainGraph(name="chainrule")
    graph.text = to_text(root)
    graph.attr(rankdir=rankdir, bgcolor="white", nodesep="0.2", ranksep="0.35")
    graph.attr("node", fontname="Helvetica", fontsize="11")
    graph.attr("edge", fontname="Helvetica", fontsize="9", arrowsize="0.6")
    if caption:
        graph.attr(label=caption, labelloc="b", labeljust="l", fontname="Courier")

    def dim(node: Value) -> bool:
        return emphasis is not None and node not in emphasis

    for node in order:
        node_id = ids[node]
        if not node.requires_grad and not node.parents and not node.label:
            # An unnamed constant such as the 2 in x ** 2: just its number.
            graph.node(
                node_id,
                label=f"<{number(node.data)}>",
                shape="plaintext",
                fontcolor=_GREY if dim(node) else "#374151",
            )
            continue
        label = _value_label(
            node, names[node], _kind(node, root), show_grad, received[node], dim(node)
        )
        graph.node(node_id, label=label, shape="plain")
        if not node.parents:
            continue
        ink = _GREY if dim(node) else "#374151"
        graph.node(
            f"{node_id}op",
            label=f"<{html_text(node.op)}>",
            shape="circle",
            style="filled",
            fillcolor="#ffffff" if dim(node) else "#e5e7eb",
            color=ink,
            fontcolor=ink,
            width="0.3",
            margin="0.02",
        )
        on_path = emphasis is not None and not dim(node)
        graph.edge(
            f"{node_id}op",
            node_id,
            color=_PATH if on_path else ink,
            **({"penwidth": "2"} if on_path else {}),
        )
        for parent, d in zip(node.parents, local_derivatives(node), strict=True):
            on_path = emphasis is not None and not dim(node) and not dim(parent)
            attrs = {"color": _PATH if on_path else (ink if emphasis is None else _GREY)}
            if on_path:
                attrs["penwidth"] = "2"
            if d is None:
                attrs["style"] = "dashed"
            elif edge_derivatives and (emphasis is None or on_path):
                attrs["label"] = f"<{number(d)}>"
                attrs["fontcolor"] = _PATH if on_path else "#1d4ed8"
            graph.edge(ids[parent], f"{node_id}op", **attrs)
    return graph


def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    edge_derivatives: bool = False,
    highlight: Iterable[Value] | None = None,
    max_nodes: int | None = 400,
) -> ChainGraph:
    """The operation graph of ``root``: Values, operations, one edge per operand slot.

    ``edge_derivatives`` writes d(out)/d(operand) on each edge; ``highlight`` emphasises
    the given Values (and the edges between them) and greys out the rest. Past
    ``max_nodes`` Values it raises a ValueError rather than draw an unreadable picture.
    Building needs no ``dot``; ``.render()`` and ``.pipe()`` do.

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
    )


def draw_paths(
    root: Value,
    wrt: Value,
    *,
    rankdir: str = "LR",
    max_paths: int = 1000,
    max_nodes: int | None = 400,
) -> ChainGraph:
    """The graph with every path from ``root`` to ``wrt`` in red, derivatives on its edges.

    Everything off the paths is grey; the caption is the ledger of :func:`viz.explain`.

    >>> from autograd import Value
    >>> x = Value(2.0, label="x"); y = x * x + x.tanh(); y.backward()
    >>> g = draw_paths(y, x)
    >>> [e.strip() for e in g.source.splitlines() if "n0 ->" in e][1]  # x * x, slot 2
    'n0 -> n1op [label=<2> color="#dc2626" fontcolor="#dc2626" penwidth=2]'
    """
    rule = explain(root, wrt, max_paths=max_paths)
    on_paths = {node for path in rule.paths for node in path.nodes}
    caption = "<" + '<BR ALIGN="LEFT"/>'.join(html_text(line) for line in str(rule).split("\n"))
    caption += '<BR ALIGN="LEFT"/>>'
    return _draw(
        root,
        rankdir=rankdir,
        show_grad=True,
        edge_derivatives=True,
        emphasis=on_paths,
        caption=caption,
        max_nodes=max_nodes,
    )


def to_text(root: Value) -> str:
    """The graph as lines of plain text, one per Value, for a terminal.

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
    names = node_names(order)
    rows = []
    for node in order:
        if not (node.label or node.parents or node.requires_grad):
            continue  # unnamed constants appear inline, as numbers
        operands = [
            names[p] if p.label or p.parents or p.requires_grad else number(p.data)
            for p in node.parents
        ]
        if not node.parents:
            formula = "leaf" if node.requires_grad else "constant"
        elif node.op in _INFIX:
            formula = f" {node.op} ".join(operands)
        else:
            formula = f"{node.op}({', '.join(operands)})"
        grad = f"grad {number(node.grad)}" if node.requires_grad else ""
        rows.append((names[node], formula, f"data {number(node.data)}", grad))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        f"{n.ljust(widths[0])} = {f.ljust(widths[1])}  {d.ljust(widths[2])}  {g}".rstrip()
        for n, f, d, g in rows
    )
