"""The operation graph: ``draw_graph``, ``draw_paths`` and the terminal form ``to_text``.

One box per Value (name, data, grad), one small circle per operation, and one edge per
operand slot, so ``a * a`` shows both of the edges along which ``a`` gets gradient. A
Value that gets gradient along several edges has an orange border and a row showing the
contributions that add up to its grad. The boxes, colours and captions come from the
drawing kit (``viz._drawing``), the ledgers under the paths from :mod:`viz.ledger`.
"""

from __future__ import annotations

from collections.abc import Iterable

from autograd import Value, local_derivatives, topological_order
from nn.notation import is_output_label
from viz import ledger
from viz._drawing import (
    FILL,
    FONT,
    GREY,
    MERGE,
    PATH,
    Film,
    GradState,
    check_rankdir,
    check_size,
    constants_read,
    draw_constants,
    html_table,
    node_kind,
    pin_notes_order,
    sent_label,
    value_box,
)
from viz._labels import (
    html_number,
    html_symbol,
    html_text,
    is_inline_constant,
    node_formula,
    node_names,
    number,
)
from viz._render import ChainGraph
from viz.explain import ChainRule, Level, explain

__all__ = ["GradState", "draw_graph", "draw_paths", "draw_state", "to_text"]

# Operations along a path, one rank each, that a slide holds side by side; a longer path
# is drawn with each operation in its result's rank.
_LONG_PATH = 8


def _neuron_clusters(order: list[Value], names: dict[Value, str]) -> dict[Value, Value]:
    """For each unlabelled node computing some ``O_kj``, and ``O_kj`` itself: that ``O_kj``.

    Found from labels alone: walking down from a node named like ``O_kj`` through
    unlabelled operation nodes, up to the labelled Values the neuron reads.
    """
    owner: dict[Value, Value] = {}
    for neuron in order:
        if not is_output_label(names[neuron]) or neuron in owner:
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
    shown: set[Value] | None = None,
    show_data: bool = True,
    stack_ops: bool = False,
) -> ChainGraph:
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value to draw, got {type(root).__name__}")
    check_rankdir(rankdir)
    order = topological_order(root)
    check_size(order if shown is None else [n for n in order if n in shown], max_nodes)
    state = GradState.after_backward(order)
    return draw_state(
        root,
        order,
        state,
        rankdir=rankdir,
        show_grad=show_grad,
        edge_derivatives=edge_derivatives,
        emphasis=emphasis,
        caption=caption,
        cluster_neurons=cluster_neurons,
        shown=shown,
        show_data=show_data,
        stack_ops=stack_ops,
    )


def draw_state(
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
    film: Film | None = None,
    shown: set[Value] | None = None,
    show_data: bool = True,
    stack_ops: bool = False,
) -> ChainGraph:
    """The picture of ``order`` (ids ``n0, n1, ...`` by position) in gradient ``state``:
    what :func:`draw_graph` draws, and each op-level frame of :func:`viz.backward_frames`.

    ``emphasis`` (None: everything) is drawn in full, the rest in grey; only the Values
    in ``shown`` are drawn (None: all), an operation only where some of its operands
    are. In a ``film`` every variable cell has the size it has in every frame of the pass.
    ``show_data`` and ``show_grad`` say whether boxes (and the text form) give each
    Value's data and grad. ``stack_ops`` draws each operation in its result's rank, right
    above or below it: a long chain of operations (one path through a network) then takes
    half the width and steps down like a staircase.

    >>> from autograd import Value, topological_order
    >>> a = Value(3.0, label="a"); b = a * a; b.backward()
    >>> order = topological_order(b)
    >>> g = draw_state(b, order, GradState.after_backward(order), rankdir="LR",
    ...     show_grad=True, edge_derivatives=False, emphasis=None, caption="",
    ...     cluster_neurons=False)
    >>> print(g.text)
    a   = leaf   data 3  grad 6
    v_1 = a * a  data 9  grad 1
    """
    names = node_names(order)
    ids = {node: f"n{i}" for i, node in enumerate(order)}
    graph = ChainGraph(name="chainrule")
    graph.text = _text(order, names, state, show_data=show_data, show_grad=show_grad)
    # Close ranks: a network's graph is a long chain of operations, and a picture that
    # wide is read on a screen or a slide only if it is no wider than it needs to be.
    graph.attr(rankdir=rankdir, bgcolor="white", nodesep="0.1", ranksep="0.1")
    graph.attr("node", fontname=FONT, fontsize="11")
    graph.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.6")
    if caption:
        graph.attr(label=caption, labelloc="b", labeljust="l", fontname=FONT, fontsize="12")
    owner = _neuron_clusters(order, names) if cluster_neurons else {}
    clusters: dict[Value, ChainGraph] = {}
    for neuron in dict.fromkeys(owner.values()):
        cluster = ChainGraph(name=f"cluster_{ids[neuron]}")
        cluster.attr(
            label=f"<{html_symbol(names[neuron])}>",
            style="rounded,dashed",
            color="#6b7280",
            fontname=FONT,
            fontcolor="#374151",
        )
        clusters[neuron] = cluster

    def dim(node: Value) -> bool:
        return emphasis is not None and node not in emphasis

    def edge_colour(
        child: Value, parent: Value, slot: int, on_path: bool, ink: str
    ) -> dict[str, str]:
        if (child, parent, slot) in state.sent:
            return {"color": PATH, "penwidth": "2"}
        if state.carried is not None and (child, parent, slot) not in state.carried:
            return {"color": GREY}
        if on_path:
            return {"color": PATH, "penwidth": "2"}
        return {"color": ink if emphasis is None else GREY}

    for node in order:
        if shown is not None and node not in shown:
            continue
        node_id = ids[node]
        home = clusters[owner[node]] if node in owner else graph
        if is_inline_constant(node):
            home.node(  # as small as its number, so that its dashed edge starts at it
                node_id,
                label=f"<{number(node.data)}>",
                shape="plaintext",
                fontcolor=GREY if dim(node) else "#374151",
                width="0",
                height="0",
                margin="0.02",
            )
            continue
        kind = node_kind(node, root)
        label = value_box(
            node, names[node], kind, show_grad, state, dim(node), film, node_id, show_data=show_data
        )
        home.node(node_id, label=label, shape="plain")
        if not node.parents or (shown is not None and not shown.intersection(node.parents)):
            continue
        ink = GREY if dim(node) else "#374151"
        current = node is state.processed
        home.node(
            f"{node_id}op",
            label=f"<{html_text(node.op)}>",
            shape="circle",
            style="filled",
            fillcolor="#fee2e2" if current else "#ffffff" if dim(node) else "#e5e7eb",
            color=PATH if current else ink,
            fontcolor=ink,
            width="0.3",
            margin="0.02",
        )
        if stack_ops:
            stack = ChainGraph(name=f"stack_{node_id}")
            stack.attr(rank="same")
            stack.node(f"{node_id}op")
            stack.node(node_id)
            home.subgraph(stack)
        on_path = emphasis is not None and not dim(node)
        waiting = state.carried is not None and not any(
            (node, parent, slot) in state.carried for slot, parent in enumerate(node.parents)
        )
        graph.edge(
            f"{node_id}op",
            node_id,
            color=PATH if on_path or current else GREY if waiting else ink,
            **({"penwidth": "2"} if on_path or current else {}),
        )
        for slot, (parent, d) in enumerate(zip(node.parents, local_derivatives(node), strict=True)):
            if shown is not None and parent not in shown:
                continue
            on_path = emphasis is not None and not dim(node) and not dim(parent)
            attrs = edge_colour(node, parent, slot, on_path, ink)
            if d is None:
                attrs["style"] = "dashed"
            elif film is not None or (node, parent, slot) in state.sent:
                key = f"{node_id}e{slot}"
                attrs["label"] = sent_label(state, (node, parent, slot), d, film, key)
                if (node, parent, slot) in state.sent:
                    attrs["fontcolor"] = PATH
            elif edge_derivatives and (emphasis is None or on_path):
                attrs["label"] = f"<{number(d)}>"
                attrs["fontcolor"] = PATH if on_path else "#1d4ed8"
            graph.edge(ids[parent], f"{node_id}op", **attrs)
    for cluster in clusters.values():
        graph.subgraph(cluster)
    return graph


def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    edge_derivatives: bool = False,
    highlight: Iterable[Value] | None = None,
    max_nodes: int | None = 400,
    cluster_neurons: bool = False,
    legend: bool = True,
) -> ChainGraph:
    """The operation graph of ``root``: Values, operations, one edge per operand slot.

    ``show_data=False`` and ``show_grad=False`` leave out each Value's data and grad rows
    (names, operations and the numbers written into formulas stay): a forward pass to
    work out by hand. ``edge_derivatives`` writes d(out)/d(operand) on each edge;
    ``highlight`` emphasises the given Values (and the edges between them) and greys out
    the rest; ``cluster_neurons`` boxes the operations that compute each neuron output
    ``O_kj`` (found by label) under that name; ``legend`` explains shapes and colours
    below the picture. Past ``max_nodes`` Values it raises a ValueError rather than draw
    an unreadable picture. Building needs no ``dot``; ``.render()`` and ``.pipe()`` do.

    >>> from autograd import Value
    >>> a = Value(3.0, label="a"); b = a * a; b.backward()
    >>> g = draw_graph(b)
    >>> g.source.count("n0 -> n1op")  # a * a: two edges from a into the * node
    2
    >>> print(draw_graph(b, show_data=False, show_grad=False).text)  # nothing to give away
    a   = leaf
    v_1 = a * a
    """
    emphasis = None if highlight is None else set(highlight)
    return _draw(
        root,
        rankdir=rankdir,
        show_grad=show_grad,
        edge_derivatives=edge_derivatives,
        emphasis=emphasis,
        caption=_legend(show_data, show_grad) if legend else "",
        max_nodes=max_nodes,
        cluster_neurons=cluster_neurons,
        show_data=show_data,
    )


def _legend(show_data: bool, show_grad: bool) -> str:
    """What the shapes, colours and lines of :func:`draw_graph` mean, as a caption."""
    rows = ", ".join(["name", *(["data"] if show_data else []), *(["grad"] if show_grad else [])])

    def swatch(fill: str, border: str = "#111827", width: int = 1) -> str:
        return (
            f'<TD WIDTH="18" HEIGHT="12" BORDER="{width}" COLOR="{border}" BGCOLOR="{fill}"> </TD>'
        )

    items = [
        (swatch(FILL["param"]), f"a Value to learn (a leaf): {rows}"),
        (
            swatch(FILL["inner"]),
            "a Value computed from others (unnamed: z_kj, a neuron's sum, or v_1, v_2, ...)",
        ),
        (
            swatch(FILL["root"]),
            "the root, where backward() starts" + (" (grad 1)" if show_grad else ""),
        ),
        (swatch(FILL["const"]), "a named constant, such as the target y (no grad)"),
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
                swatch("#ffedd5", MERGE, 2),
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
    """Every path from ``root`` to ``wrt`` in red, derivatives on its edges.

    At ``level="op"`` the operations on the paths are drawn with all their operands, the
    ones off the paths in grey (a local derivative such as d(a * b)/da reads b); the rest
    of the graph is left out (:func:`draw_graph` draws it all). On a path of more than
    8 operations each operation stands right above (or below) its result, so that the
    picture fits a slide. At ``level="neuron"`` the
    labelled Values on the paths are drawn (``L``, ``O_kj``, ``w^k_ij``), each edge with
    the neuron-level derivative such as dO_31/dO_21, as in the notes' formula, and the
    named constants those derivatives read (``x_i``, ``y``) with dashed edges. The
    caption is the ledger of :func:`viz.explain` at that level. ``max_nodes`` bounds the
    op-level drawing; a neuron-level one is bounded by ``max_paths``.

    >>> from autograd import Value
    >>> x = Value(2.0, label="x"); y = x * x + x.tanh(); y.backward()
    >>> g = draw_paths(y, x)
    >>> [e.strip() for e in g.source.splitlines() if "n0 ->" in e][1]  # x * x, slot 2
    'n0 -> n1op [label=<2> color="#dc2626" fontcolor="#dc2626" penwidth=2]'
    """
    rule = explain(root, wrt, level=level, max_paths=max_paths)
    caption = ledger.graphviz(rule, skip_ones=level == "op")
    if level == "neuron":
        return _draw_neuron_paths(rule, rankdir=rankdir, caption=caption)
    on_paths = {node for path in rule.paths for node in path.nodes} | {root}
    operands = {parent for node in on_paths for parent in node.parents}
    return _draw(
        root,
        rankdir=rankdir,
        show_grad=True,
        edge_derivatives=True,
        emphasis=on_paths,
        caption=caption,
        max_nodes=max_nodes,
        shown=on_paths | operands,
        stack_ops=max((len(path.steps) for path in rule.paths), default=0) > _LONG_PATH,
    )


def _draw_neuron_paths(rule: ChainRule, *, rankdir: str, caption: str) -> ChainGraph:
    """The contracted graph of ``rule``'s paths: labelled Values, neuron-level derivatives.

    Node ids are those of :func:`draw_graph` (position in the topological order).
    """
    check_rankdir(rankdir)
    order = topological_order(rule.root)
    ids = {node: f"n{i}" for i, node in enumerate(order)}
    state = GradState.after_backward(order)
    steps = {(s.child, s.parent): s for path in rule.paths for s in path.steps}
    on_paths = {node for path in rule.paths for node in path.nodes} | {rule.root, rule.wrt}
    graph = ChainGraph(name="chainrule")
    graph.text = str(rule)
    graph.attr(rankdir=rankdir, bgcolor="white", nodesep="0.3", ranksep="1.1")
    graph.attr("node", fontname=FONT, fontsize="11")
    graph.attr("edge", fontname=FONT, fontsize="10", arrowsize="0.6")
    graph.attr(label=caption, labelloc="b", labeljust="l", fontname=FONT, fontsize="12")
    for node in order:
        if node in on_paths:
            kind = node_kind(node, rule.root)
            label = value_box(node, rule.names[node], kind, True, state, dim=False)
            graph.node(ids[node], label=label, shape="plain")
    constants = constants_read(steps.values(), order, rule.names)
    drawn = {node: ids[node] for node in order if node in on_paths or node in constants}
    draw_constants(graph, constants, drawn, order, rule.names, state)
    pin_notes_order(graph, {node_id: rule.names[node] for node, node_id in drawn.items()})
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
            label=f"<{html_table([(d + formula,), (f'<B>= {value}</B>',)])}>",
            color=PATH,
            fontcolor=PATH,
            penwidth="2",
        )
    return graph


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


def _text(
    order: list[Value],
    names: dict[Value, str],
    state: GradState | None,
    *,
    show_data: bool = True,
    show_grad: bool = True,
) -> str:
    """:func:`to_text` of a graph already in topological order and named, leaving out the
    data or the grad unless ``show_data`` or ``show_grad``."""
    rows = []
    for node in order:
        if is_inline_constant(node):
            continue  # it appears in its users' formulas, as a number
        grad = ""
        if node.requires_grad and show_grad:
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
        data = f"data {number(node.data)}" if show_data else ""
        rows.append((names[node], node_formula(node, names), data, grad))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        f"{n.ljust(widths[0])} = {f.ljust(widths[1])}  {d.ljust(widths[2])}  {g}".rstrip()
        for n, f, d, g in rows
    )
