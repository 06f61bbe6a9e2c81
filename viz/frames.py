"""``backward_frames``: the backward pass as a film, one picture per step of the engine.

Frame 0 holds only the start, d(root)/d(root) = 1. Each later frame shows the node just
processed (red border), the contribution it sent along each edge (its grad times the
local derivative, written on the edge in red) and every node's grad as accumulated so
far: grey "so far" with a "?" per contribution still to come while a node waits for
other consumers, bold once complete. The steps are :func:`viz.backward_steps`, at the
operation level (node ids those of :func:`viz.draw_graph`) or the neuron level (one
frame per labelled Value, each local derivative also written as its formula). No
``.grad`` is read or written. All frames of one pass have the same layout and size, so
that nothing moves when stepping through them or playing them as a GIF.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from pathlib import Path

from autograd import Value, topological_order
from viz import ledger
from viz._drawing import (
    FONT,
    GREY,
    PATH,
    Film,
    GradState,
    check_rankdir,
    check_size,
    constants_read,
    draw_constants,
    edge_key,
    html_caption,
    node_kind,
    pin_notes_order,
    sent_label,
    value_box,
)
from viz._labels import html_number, html_symbol, html_text, node_formula, node_names, number
from viz._render import ChainGraph, DotNotFoundError, install_hint
from viz.graph import draw_state
from viz.steps import BackwardStep, Level, backward_steps

__all__ = ["Frames", "backward_frames", "write_frames", "write_gif"]

Line = tuple[str, str]  # a caption line: its HTML and its plain text


def _caption(step: BackwardStep, names: dict[Value, str], total: int, level: Level) -> list[Line]:
    """The frame's ledger: which node passes what, as grad x local derivative (see
    :func:`viz.ledger.sent_lines`).
    """

    def d(top: Value, bottom: Value) -> Line:
        return (
            f"d{html_symbol(names[top])}/d{html_symbol(names[bottom])}",
            f"d{names[top]}/d{names[bottom]}",
        )

    root = step.nodes[-1]
    if step.node is None:
        html, plain = d(root, root)
        sender = "Value whose grad" if level == "neuron" else "operation whose result's grad"
        explanation = [
            f"Then each step takes the next {sender} is complete and passes that",
            "grad down each edge times the local derivative; every Value adds up what arrives",
            "(grey: so far, with a ? for each contribution still to come).",
        ]
        start = "step 0: backward() starts from {} = 1; every other grad is unknown (?)."
        return [(start.format(html), start.format(plain))] + [
            (html_text(t), t) for t in explanation
        ]
    node = step.node
    grad, grad_html = number(step.grads[node] or 0.0), html_number(step.grads[node] or 0.0)
    name_html, name = html_symbol(names[node]), names[node]
    head = d(root, node)
    if level == "op":
        what = f" = {node_formula(node, names)}"
        lines = [
            (
                f"step {step.index} of {total}: {name_html}{html_text(what)} passes its grad "
                f"{head[0]} = {grad_html} to its operands",
                f"step {step.index} of {total}: {name}{what} passes its grad "
                f"{head[1]} = {grad} to its operands",
            )
        ]
    else:
        lines = [
            (
                f"step {step.index} of {total}: {name_html} passes its grad {head[0]} = "
                f"{grad_html} to the Values it reads",
                f"step {step.index} of {total}: {name} passes its grad {head[1]} = {grad} "
                "to the Values it reads",
            )
        ]
    return lines + ledger.sent_lines(step, names)


class Frames(list[ChainGraph]):
    """The frames of one backward pass: a list of graphs, all drawn at the same size.

    In a notebook it shows as a strip of pictures, one per step, side by side.

    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); b = a * a; b.label = "b"
    >>> frames = backward_frames(b)
    >>> len(frames), frames._repr_html_().count("<svg")  # the start, then the *
    (2, 2)
    """

    def _repr_html_(self) -> str:
        """The frames as inline SVG in a row that scrolls sideways (needs ``dot``)."""
        try:
            pictures = [frame.pipe(format="svg", encoding="utf-8") for frame in self]
        except DotNotFoundError:
            text = "\n\n".join(frame.text for frame in self)
            return f"<pre>{html.escape(install_hint())}\n\n{html.escape(text)}</pre>"
        cells = "".join(
            f'<div style="flex:none;margin-right:24px">{svg[svg.index("<svg") :]}</div>'
            for svg in pictures
        )
        return f'<div style="display:flex;overflow-x:auto">{cells}</div>'


def backward_frames(
    root: Value,
    *,
    level: Level = "op",
    rankdir: str = "LR",
    max_nodes: int | None = 100,
) -> Frames:
    """One graph per step of ``root.backward()``, in the engine's order (see the module).

    At ``level="op"`` a step is one operation; at ``level="neuron"`` one labelled Value
    (for an ``nn.MLP``: the loss, then each neuron ``O_kj``), with each local derivative
    written as a formula in the caption. Every frame of one pass has the same layout and
    size. The last frame's gradients are those ``root.backward()`` computes on zeroed
    gradients; no ``.grad`` is touched. Past ``max_nodes`` Values it raises ValueError.

    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); b = a * a + a; b.label = "b"
    >>> frames = backward_frames(b)
    >>> len(frames)  # the start, then + and *
    3
    >>> print(frames[1].text)
    a   = leaf     data 2  grad 1 so far (1 of 3 contributions)
    v_1 = a * a    data 4  grad 1
    b   = v_1 + a  data 6  grad 1
    >>> print(frames[2].text.splitlines()[0])
    a   = leaf     data 2  grad 5
    """
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value to draw, got {type(root).__name__}")
    if not root.requires_grad:
        raise ValueError("backward_frames: root is a constant (no gradient flows from it)")
    if level not in ("op", "neuron"):
        raise ValueError(f"backward_frames: level must be 'op' or 'neuron', got {level!r}")
    check_rankdir(rankdir)
    order = topological_order(root)
    check_size(order, max_nodes)
    names = node_names(order)
    steps = backward_steps(root, level)
    film = Film()
    # The named constants the neuron-level formulas read (x_i, y), drawn beside the Values.
    edges = [edge for node_edges in steps[0].edges.values() for edge in node_edges]
    constants = constants_read(edges, order, names) if level == "neuron" else {}

    def draw(step: BackwardStep) -> ChainGraph:
        caption = html_caption(
            [(html, len(plain)) for html, plain in _caption(step, names, len(steps) - 1, level)],
            film,
        )
        state = GradState.of_step(step)
        if level == "neuron":
            return _draw_neuron_step(step, state, order, names, constants, rankdir, caption, film)
        return draw_state(
            root,
            order,
            state,
            rankdir=rankdir,
            show_grad=True,
            edge_derivatives=False,
            emphasis=None,
            caption=caption,
            cluster_neurons=False,
            film=film,
        )

    for step in steps:  # measure every frame's cells, then draw them at one size
        draw(step)
    film.measuring = False
    return Frames(draw(step) for step in steps)


def _draw_neuron_step(
    step: BackwardStep,
    state: GradState,
    order: list[Value],
    names: dict[Value, str],
    constants: dict[Value, list[Value]],
    rankdir: str,
    caption: str,
    film: Film,
) -> ChainGraph:
    """One neuron-level frame: the labelled Values, each edge with what it carried, and
    the ``constants`` their formulas read (see :func:`viz._drawing.draw_constants`)."""
    ids = {node: f"n{i}" for i, node in enumerate(step.nodes)}
    graph = ChainGraph(name="chainrule")
    graph.attr(rankdir=rankdir, bgcolor="white", nodesep="0.15", ranksep="0.8")
    graph.attr("node", fontname=FONT, fontsize="11")
    graph.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.6")
    graph.attr(label=caption, labelloc="b", labeljust="l", fontname=FONT, fontsize="12")
    rows = []
    for node in step.nodes:
        kind = node_kind(node, order[-1])  # the last in topological order: the root
        label = value_box(node, names[node], kind, True, state, False, film, ids[node])
        graph.node(ids[node], label=label, shape="plain")
        grad = state.grads[node]
        shown = "?" if grad is None else number(grad)
        if grad is not None and state.partial(node):
            shown += " so far"
        rows.append(f"{names[node]}  data {number(node.data)}  grad {shown}")
    ids |= draw_constants(graph, constants, ids, order, names, state, film)
    rows += [f"{names[c]}  data {number(c.data)}" for c in constants]
    pin_notes_order(graph, {node_id: names[node] for node, node_id in ids.items()})
    for child in step.nodes:
        for edge in step.edges.get(child, []):
            key = edge_key(edge)
            colour = (
                {"color": PATH, "penwidth": "2"}
                if key in state.sent
                else {"color": "#374151"}
                if state.carried is not None and key in state.carried
                else {"color": GREY}
            )
            label = sent_label(
                state, key, edge.derivative, film, f"{ids[child]}e{ids[edge.parent]}"
            )
            graph.edge(ids[edge.parent], ids[child], label=label, fontcolor=PATH, **colour)
    graph.text = "\n".join(rows)
    return graph


def write_frames(
    frames: Sequence[ChainGraph], out_dir: str | Path, *, format: str = "png"
) -> list[Path]:
    """Render ``frames`` to ``out_dir``/frame_00.``format``, frame_01, ...; runs ``dot``.

    Returns the files written, in order. Raises :class:`viz.DotNotFoundError` without
    Graphviz.

    >>> import tempfile
    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); b = a * a + a; b.label = "b"
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     [path.name for path in write_frames(backward_frames(b), folder, format="svg")]
    ['frame_00.svg', 'frame_01.svg', 'frame_02.svg']
    """
    if isinstance(frames, ChainGraph) or not all(isinstance(f, ChainGraph) for f in frames):
        raise TypeError("write_frames expects a list of graphs, as backward_frames returns")
    if not isinstance(format, str) or not format.isalnum():
        raise ValueError(f"format must be a Graphviz output format such as 'png', got {format!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    width = max(2, len(str(len(frames) - 1)))
    written = []
    for i, frame in enumerate(frames):
        target = out / f"frame_{i:0{width}d}.{format}"
        target.write_bytes(frame.pipe(format=format))
        written.append(target)
    return written


def write_gif(
    frames: Sequence[ChainGraph], path: str | Path, *, seconds_per_frame: float = 1.5
) -> Path:
    """Render ``frames`` into one animated GIF at ``path`` (looping); runs ``dot``.

    Uses Pillow, which matplotlib brings. Frames of unequal size are centred on a white
    canvas of the largest (those of :func:`backward_frames` are all the same size).
    Raises :class:`viz.DotNotFoundError` without Graphviz.

    >>> import tempfile
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); b = a * a + a; b.label = "b"
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     gif = write_gif(backward_frames(b), Path(folder) / "backward.gif")
    ...     with Image.open(gif) as picture:
    ...         print(picture.format, picture.n_frames)
    GIF 3
    """
    from PIL import Image  # Pillow: only needed here, and slow to import

    if isinstance(frames, ChainGraph) or not frames:
        raise TypeError("write_gif expects a non-empty list of graphs, as backward_frames returns")
    if not isinstance(seconds_per_frame, (int, float)) or not seconds_per_frame > 0:
        raise ValueError(f"seconds_per_frame must be a positive number, got {seconds_per_frame!r}")
    pictures = [Image.open(io.BytesIO(frame.pipe(format="png"))).convert("RGB") for frame in frames]
    width = max(p.width for p in pictures)
    height = max(p.height for p in pictures)
    canvases = []
    for picture in pictures:
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(picture, ((width - picture.width) // 2, (height - picture.height) // 2))
        canvases.append(canvas)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    canvases[0].save(
        target,
        format="GIF",
        save_all=True,
        append_images=canvases[1:],
        duration=round(seconds_per_frame * 1000),
        loop=0,
    )
    return target
