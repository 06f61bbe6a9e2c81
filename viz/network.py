"""``draw_network``: an ``nn.MLP`` as the notes draw it, inputs and neurons in columns.

Each edge is one weight ``w^k_ij`` with its value and, after a backward pass, its
gradient; the colour gives the sign (blue +, orange -) and the width the magnitude.

The layout is computed here, not left to Graphviz, so that no two weight labels overlap:
nodes and labels get fixed positions (the ``neato`` engine keeps them). Every label sits
on its own straight edge; the labels of the edges into neuron ``j`` share one vertical
slot between the columns, a different slot for each ``j``, so labels of different
neurons never share a place, and each slot lies close enough to the left column that the
labels within it stay one row height apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from autograd import Value, as_float, topological_order
from nn import MLP
from nn.notation import input_label, output_label, parse_label
from viz._drawing import FONT
from viz._labels import DOT_STRING_LIMIT, SHOWN_LINE_CHARS, html_symbol, html_text, number
from viz._render import ChainGraph

__all__ = ["draw_network"]

Show = Literal["value", "grad", "both"]
_POSITIVE, _NEGATIVE, _ZERO = "#2563eb", "#ea580c", "#9ca3af"

# Geometry in inches. A label is at most _LABEL_HEIGHT tall (two lines of small text).
_ROW = 1.4  # vertical distance between neurons of one column
_INPUT_RADIUS, _NEURON_RADIUS = 0.4, 0.5
_PAD = 0.12  # free space around labels
_LABEL_HEIGHT = 0.34
_CHAR = 0.075  # width of one character at the labels' 9 pt, generously
_MIN_GAP = 2.2  # smallest distance between two columns
# The circles' names, in points: "x_10" still fits the smaller circle at the largest.
_NAME_SIZES = (8.0, 24.0)


def _inputs(model: MLP) -> list[Value | None]:
    """The inputs x_1..x_n of the latest forward pass, found by label (None before any)."""
    first = model.layers[0].neurons[0].output
    if first is None:
        return [None] * model.sizes[0]
    leaves = {node.label: node for node in topological_order(first) if not node.parents}
    return [leaves.get(input_label(i)) for i in range(1, model.sizes[0] + 1)]


def _width(magnitude: float, largest: float) -> str:
    share = magnitude / largest if largest > 0 else 0.0
    return f"{0.6 + 3.4 * share:.2f}"


def _colour(x: float) -> str:
    return _POSITIVE if x > 0 else _NEGATIVE if x < 0 else _ZERO


def _row_y(index: int, count: int) -> float:
    """The height of row ``index`` (0 at the top) in a column of ``count``, centred on 0."""
    return ((count - 1) / 2 - index) * _ROW


def _pos(x: float, y: float) -> str:
    return f"{x:.3f},{y:.3f}!"


@dataclass(frozen=True)
class _Label:
    """The text on one weight's edge: two lines, and how wide they print."""

    html: str
    width: float


def _weight_label(w: Value, show: Show, has_grad: bool) -> _Label:
    parsed = parse_label(w.label)
    printed = len(parsed.base + parsed.sup + parsed.sub) if parsed else len(w.label)
    first = html_symbol(w.label)
    if show in ("value", "both"):
        value = number(w.data)
        first += f" {value}"
        printed += 1 + len(value)
    lines = [first]
    if show in ("grad", "both") and has_grad:
        grad = number(w.grad)
        lines.append(f'<FONT POINT-SIZE="8">&#8711; {grad}</FONT>')
        printed = max(printed, 2 + len(grad))
    rows = "".join(f"<TR><TD>{line}</TD></TR>" for line in lines)
    html = f'<<TABLE BORDER="0" CELLPADDING="1" CELLSPACING="0" BGCOLOR="white">{rows}</TABLE>>'
    if len(html) >= DOT_STRING_LIMIT:  # ChainGraph will shorten it: lay out what is shown
        printed = min(printed, SHOWN_LINE_CHARS)
    return _Label(html, printed * _CHAR + 0.1)


def _column_gap(heads: int, width: float, tail_radius: float) -> tuple[float, list[float]]:
    """The distance to the next column and, per head neuron, where its labels sit (0..1).

    Slot j's labels lie at fraction t_j of their edges. Labels into one head start from
    tails one row apart and so sit (1 - t_j) rows apart: t_j <= t_max keeps them apart.
    """
    t_max = 1 - (_LABEL_HEIGHT + 2 * _PAD) / _ROW
    first = tail_radius + _PAD + width / 2
    centres = [first + j * (width + _PAD) for j in range(heads)]
    last = centres[-1]
    gap = max(_MIN_GAP, last / t_max, last + width / 2 + _PAD + _NEURON_RADIUS)
    return gap, [c / gap for c in centres]


def draw_network(
    model: MLP,
    *,
    show: Show = "both",
    title: str = "",
    weight_labels: bool = True,
    legend: bool = True,
    name_size: float = 12,
) -> ChainGraph:
    """The neuron-level picture of ``model``: x_i, then O_kj per layer, edges w^k_ij.

    ``show`` picks what the edges say and what sets their colour and width: the weight
    ``"value"``, its ``"grad"``, or ``"both"`` (coloured by the weight). Gradients appear
    once a backward pass has filled them in. ``title`` is written above the network:
    say there whose gradients these are (which sample, its ``y`` and ``yhat``).
    ``weight_labels=False`` leaves the edges' labels out and ``legend=False`` the line
    under the picture: a printed page that lists the weights in tables, at a size where
    those labels would be too small to read, says them itself. ``name_size`` is the
    point size of the names in the circles (8 to 24; the lines under them stay at 9):
    such a page, which prints the picture at half its size, asks for 24.

    >>> import nn
    >>> model = nn.MLP(4, [3, 2, 1], seed=0)
    >>> g = draw_network(model)
    >>> g.source.count(" -> ")  # one edge per weight: 12 + 6 + 2
    20
    >>> "fontsize=24" in draw_network(model, name_size=24).source
    True
    """
    if not isinstance(model, MLP):
        raise TypeError(f"draw_network expects an nn.MLP, got {type(model).__name__}")
    if show not in ("value", "grad", "both"):
        raise ValueError(f"show must be 'value', 'grad' or 'both', got {show!r}")
    size, (low, high) = as_float(name_size, "name_size"), _NAME_SIZES
    if not low <= size <= high:
        raise ValueError(f"name_size must be from {low:g} to {high:g} points, got {size:g}")
    params = [w for layer in model.layers for n in layer.neurons for w in n.weights]
    has_grad = any(w.grad != 0.0 for w in params)
    by_grad = show == "grad"
    key = [abs(w.grad) if by_grad else abs(w.data) for w in params]
    largest = max(key, default=0.0)

    graph = ChainGraph(name="network", engine="neato")
    # neato keeps the pinned positions; edges drawn first so the labels sit on top.
    # layout=neato too, so that the DOT source alone (the demo writes it without dot) keeps them.
    graph.attr(bgcolor="white", splines="line", outputorder="edgesfirst", pad="0.2", layout="neato")
    graph.attr("node", fontname=FONT, fontsize=f"{size:g}", shape="circle", style="filled")
    graph.attr("edge", fontname=FONT, fontsize="9", arrowhead="none")
    lines = []

    inputs = _inputs(model)
    for i, x in enumerate(inputs, start=1):
        graph.node(
            f"x{i}",
            label=_circle_label(html_symbol(input_label(i)), [] if x is None else [number(x.data)]),
            fillcolor="#f3f4f6",
            width=f"{2 * _INPUT_RADIUS}",
            fixedsize="true",
            pos=_pos(0.0, _row_y(i - 1, len(inputs))),
        )
        lines.append(input_label(i) + (f" = {number(x.data)}" if x is not None else ""))

    column_x = 0.0
    tail_radius = _INPUT_RADIUS
    for k, layer in enumerate(model.layers, start=1):
        labels = [[_weight_label(w, show, has_grad) for w in n.weights] for n in layer.neurons]
        width = max(label.width for row in labels for label in row)
        gap, slots = _column_gap(len(layer.neurons), width, tail_radius)
        tails = len(layer.neurons[0].weights)
        for j, neuron in enumerate(layer.neurons, start=1):
            extra = []
            if neuron.output is not None:
                extra.append(number(neuron.output.data))
            if neuron.bias is not None:
                extra.append(f"{html_symbol(neuron.bias.label)} {number(neuron.bias.data)}")
            fill = "#fef3c7" if k == len(model.layers) else "#dbeafe"
            head_y = _row_y(j - 1, len(layer.neurons))
            graph.node(
                f"o{k}_{j}",
                label=_circle_label(html_symbol(output_label(k, j)), extra),
                fillcolor=fill,
                width=f"{2 * _NEURON_RADIUS}",
                fixedsize="true",
                pos=_pos(column_x + gap, head_y),
            )
            t = slots[j - 1]
            for i, (w, label) in enumerate(zip(neuron.weights, labels[j - 1], strict=True), 1):
                tail = f"x{i}" if k == 1 else f"o{k - 1}_{i}"
                shown = w.grad if by_grad else w.data
                colour = _colour(shown)
                graph.edge(tail, f"o{k}_{j}", color=colour, penwidth=_width(abs(shown), largest))
                lines.append(f"{w.label} = {number(w.data)}  grad {number(w.grad)}")
                if not weight_labels:
                    continue
                tail_y = _row_y(i - 1, tails)
                graph.node(
                    f"w{k}_{i}_{j}",
                    label=label.html,
                    shape="plaintext",
                    style="",
                    fontsize="9",
                    fontcolor=colour,
                    margin="0",
                    width="0",
                    height="0",
                    pos=_pos(column_x + t * gap, (1 - t) * tail_y + t * head_y),
                )
        column_x += gap
        tail_radius = _NEURON_RADIUS
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    if title:
        top = max(_row_y(0, len(layer.neurons)) for layer in model.layers)
        top = max(top, _row_y(0, len(inputs))) + _NEURON_RADIUS + 0.45
        graph.node(
            "title",
            label=f"<<B>{html_text(title)}</B>>",
            shape="plaintext",
            style="",
            fontsize="13",
            pos=_pos(column_x / 2, top),
        )
        lines.insert(0, title)
    ran = any(neuron.output is not None for layer in model.layers for neuron in layer.neurons)
    if legend:
        graph.attr(label=_legend(show, has_grad, ran), labelloc="b", fontsize="10",
                   fontcolor="#374151")  # fmt: skip
    graph.attr(fontname=FONT)
    graph.text = "\n".join(lines)
    return graph


def _circle_label(name: str, lines: list[str]) -> str:
    """A circle's text: the name, then smaller lines, in table rows so that a subscript
    keeps clear of the line under it."""
    rows = f"<TR><TD>{name}</TD></TR>" + "".join(
        f'<TR><TD><FONT POINT-SIZE="9">{line}</FONT></TD></TR>' for line in lines
    )
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{rows}</TABLE>>'


def _legend(show: Show, has_grad: bool, ran: bool) -> str:
    """What the colours, widths and numbers mean, so the picture explains itself."""
    by = "gradient dL/dw" if show == "grad" else "weight w"
    parts = [f"edge colour: sign of the {by} (blue +, orange \u2212)", f"width: |{by}|"]
    if show != "value":
        parts.append(
            "\u2207: dL/dw from the last backward()" if has_grad else "\u2207: no backward() yet"
        )
    if ran:
        parts.append("circles: the outputs O_kj of the last forward pass")
    else:
        parts.append("circles: the neurons O_kj (no forward pass yet)")
    return "   \u00b7   ".join(parts)
