"""``backward_frames``: the backward pass as a film, one picture per step of the engine.

Frame 0 holds only the seed d(root)/d(root) = 1. Each later frame shows the node the
engine just processed (red border), the contribution it sent along each operand edge
(its grad times the local derivative, written on the edge in red) and every node's grad
as accumulated so far: grey "so far" with a "?" per contribution still to come while a
node waits for other consumers, bold once complete. The running sums are computed here
from :func:`autograd.gradient_edges`; no ``.grad`` is read or written. Node ids are
those of :func:`viz.draw_graph`, so the frames line up with it and with each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from autograd import Value, topological_order
from viz._labels import node_names, number
from viz._render import ChainGraph
from viz.graph import GradState, _caption, _check_rankdir, _check_size, _draw_state, _formula
from viz.steps import BackwardStep, backward_steps

__all__ = ["backward_frames", "write_frames"]


def _state(step: BackwardStep, names: dict[Value, str], total: int) -> GradState:
    """What frame ``step.index`` shows: the grads so far and what the step sent."""
    root_name = names[step.nodes[-1]]
    if step.node is None:
        lines = [f"step 0: the seed d{root_name}/d{root_name} = 1"]
    else:
        name = names[step.node]
        grad = step.grads[step.node] or 0.0
        lines = [
            f"step {step.index} of {total}: {name} = {_formula(step.node, names)} "
            f"passes its grad {number(grad)} to its operands"
        ]
        for sent in step.sent:
            parent = names[sent.edge.parent]
            lines.append(
                f"  d{root_name}/d{name} * d{name}/d{parent} = {number(sent.grad)} * "
                f"{number(sent.edge.derivative)} = {number(sent.value)} -> {parent}"
            )
    carried = {(c.edge.child, c.edge.slot) for received in step.received.values() for c in received}
    return GradState(
        dict(step.grads),
        {node: [c.value for c in received] for node, received in step.received.items()},
        {node: len(step.received[node]) + len(step.to_come[node]) for node in step.nodes},
        processed=step.node,
        sent={(c.edge.child, c.edge.slot): c.value for c in step.sent},
        carried=carried,
        caption=lines,
    )


def _states(root: Value, order: list[Value]) -> list[GradState]:
    """The gradient state after the seed and after each node the engine processes."""
    names = node_names(order)
    steps = backward_steps(root)
    return [_state(step, names, len(steps) - 1) for step in steps]


def backward_frames(
    root: Value, *, rankdir: str = "LR", max_nodes: int | None = 100
) -> list[ChainGraph]:
    """One graph per step of ``root.backward()``, in the engine's order (see the module).

    The last frame's gradients are those ``root.backward()`` computes on zeroed
    gradients; no ``.grad`` is touched. Past ``max_nodes`` Values it raises ValueError.

    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); b = a * a + a; b.label = "b"
    >>> frames = backward_frames(b)
    >>> len(frames)  # the seed, then + and *
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
    _check_rankdir(rankdir)
    order = topological_order(root)
    _check_size(order, max_nodes)
    return [
        _draw_state(
            root,
            order,
            state,
            rankdir=rankdir,
            show_grad=True,
            edge_derivatives=False,
            emphasis=None,
            caption=_caption(state.caption),
            cluster_neurons=False,
        )
        for state in _states(root, order)
    ]


def write_frames(
    frames: Sequence[ChainGraph], out_dir: str | Path, *, format: str = "png"
) -> list[Path]:
    """Render ``frames`` to ``out_dir``/frame_00.``format``, frame_01, ...; runs ``dot``.

    Returns the files written, in order. Raises :class:`viz.DotNotFoundError` without
    Graphviz.
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
