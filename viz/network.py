"""``draw_network``: an ``nn.MLP`` as the seed draws it, inputs and neurons in columns.

Each edge is one weight ``w^k_ij`` with its value and, after a backward pass, its
gradient; the colour gives the sign (blue +, orange -) and the width the magnitude.
"""

from __future__ import annotations

import itertools
from typing import Literal

import graphviz

from autograd import Value, topological_order
from nn import MLP, output_label
from viz._labels import html_symbol, number
from viz._render import ChainGraph

__all__ = ["draw_network"]

Show = Literal["value", "grad", "both"]
_POSITIVE, _NEGATIVE, _ZERO = "#2563eb", "#ea580c", "#9ca3af"


def _inputs(model: MLP) -> list[Value | None]:
    """The inputs x_1..x_n of the latest forward pass, found by label (None before any)."""
    first = model.layers[0].neurons[0].output
    if first is None:
        return [None] * model.sizes[0]
    leaves = {node.label: node for node in topological_order(first) if not node.parents}
    return [leaves.get(f"x_{i}") for i in range(1, model.sizes[0] + 1)]


def _keep_in_order(column: graphviz.Digraph, names: list[str]) -> None:
    """Invisible edges so a column reads 1, 2, 3 from the top, as in the seed."""
    for upper, lower in itertools.pairwise(names):
        column.edge(upper, lower, style="invis")


def _width(magnitude: float, largest: float) -> str:
    share = magnitude / largest if largest > 0 else 0.0
    return f"{0.6 + 3.4 * share:.2f}"


def _colour(x: float) -> str:
    return _POSITIVE if x > 0 else _NEGATIVE if x < 0 else _ZERO


def draw_network(model: MLP, *, show: Show = "both") -> ChainGraph:
    """The neuron-level picture of ``model``: x_i, then O_kj per layer, edges w^k_ij.

    ``show`` picks what the edges say and what sets their colour and width: the weight
    ``"value"``, its ``"grad"``, or ``"both"`` (coloured by the weight). Gradients appear
    once a backward pass has filled them in.

    >>> import nn
    >>> model = nn.MLP(4, [3, 2, 1], seed=0)
    >>> g = draw_network(model)
    >>> g.source.count("headlabel")  # one edge per weight: 12 + 6 + 2
    20
    """
    if not isinstance(model, MLP):
        raise TypeError(f"draw_network expects an nn.MLP, got {type(model).__name__}")
    if show not in ("value", "grad", "both"):
        raise ValueError(f"show must be 'value', 'grad' or 'both', got {show!r}")
    params = [w for layer in model.layers for n in layer.neurons for w in n.weights]
    has_grad = any(w.grad != 0.0 for w in params)
    by_grad = show == "grad"
    key = [abs(w.grad) if by_grad else abs(w.data) for w in params]
    largest = max(key, default=0.0)

    graph = ChainGraph(name="network")
    graph.attr(rankdir="LR", bgcolor="white", ranksep="3.2", nodesep="1.0", splines="line")
    graph.attr("node", fontname="Helvetica", fontsize="12", shape="circle", style="filled")
    graph.attr("edge", fontname="Helvetica", fontsize="9", arrowhead="none")
    lines = []

    with graph.subgraph(name="layer0") as column:
        column.attr(rank="same")
        for i, x in enumerate(_inputs(model), start=1):
            text = f"x<SUB>{i}</SUB>"
            if x is not None:
                text += f'<BR/><FONT POINT-SIZE="9">{number(x.data)}</FONT>'
            column.node(f"x{i}", label=f"<{text}>", fillcolor="#f3f4f6", width="0.55")
            lines.append(f"x_{i}" + (f" = {number(x.data)}" if x is not None else ""))
        _keep_in_order(column, [f"x{i}" for i in range(1, model.sizes[0] + 1)])

    for k, layer in enumerate(model.layers, start=1):
        with graph.subgraph(name=f"layer{k}") as column:
            column.attr(rank="same")
            for j, neuron in enumerate(layer.neurons, start=1):
                text = html_symbol(output_label(k, j))
                extra = []
                if neuron.output is not None:
                    extra.append(number(neuron.output.data))
                if neuron.bias is not None:
                    extra.append(f"{html_symbol(neuron.bias.label)} {number(neuron.bias.data)}")
                if extra:
                    text += '<BR/><FONT POINT-SIZE="9">' + "<BR/>".join(extra) + "</FONT>"
                fill = "#fef3c7" if k == len(model.layers) else "#dbeafe"
                column.node(f"o{k}_{j}", label=f"<{text}>", fillcolor=fill, width="0.6")
            _keep_in_order(column, [f"o{k}_{j}" for j in range(1, len(layer.neurons) + 1)])

    for k, layer in enumerate(model.layers, start=1):
        for j, neuron in enumerate(layer.neurons, start=1):
            for i, w in enumerate(neuron.weights, start=1):
                tail = f"x{i}" if k == 1 else f"o{k - 1}_{i}"
                text = html_symbol(w.label)
                if show in ("value", "both"):
                    text += f" {number(w.data, 3)}"
                if show in ("grad", "both") and has_grad:
                    text += f' <FONT POINT-SIZE="8">&#8711;{number(w.grad, 3)}</FONT>'
                shown = w.grad if by_grad else w.data
                colour = _colour(shown)
                graph.edge(
                    tail,
                    f"o{k}_{j}",
                    headlabel=f'<<TABLE BORDER="0" CELLPADDING="0" BGCOLOR="white">'
                    f"<TR><TD>{text}</TD></TR></TABLE>>",
                    labeldistance="4.2",
                    labelangle="0",
                    color=colour,
                    fontcolor=colour,
                    penwidth=_width(abs(shown), largest),
                )
                lines.append(f"{w.label} = {number(w.data)}  grad {number(w.grad)}")
    graph.text = "\n".join(lines)
    return graph
