"""viz.backward_frames / write_frames: the backward pass step by step, derived by hand."""

from __future__ import annotations

import json
import random
import re
import subprocess
from pathlib import Path

import pytest
from determinism import outputs_across_processes
from notes_order import NOTES_ORDER, reads_in_order

import viz
from autograd import Value, topological_order
from viz._labels import number
from viz.graph import GradState


def _states(root: Value) -> list[GradState]:
    return [GradState.of_step(step) for step in viz.backward_steps(root)]


def edge_line(source: str, edge: str, nth: int = 0) -> str:
    return [line.strip() for line in source.splitlines() if line.strip().startswith(edge)][nth]


def node_line(source: str, node_id: str) -> str:
    lines = source.splitlines()
    return next(line for line in lines if line.strip().startswith(f"{node_id} [label"))


def square_plus() -> Value:
    """b = a * a + a at a = 2: ids a=n0, v_1=n1 (a * a), b=n2 (v_1 + a)."""
    a = Value(2.0, label="a")
    b = a * a + a
    b.label = "b"
    return b


def test_square_plus_frames_by_hand() -> None:
    b = square_plus()
    frames = viz.backward_frames(b)
    assert len(frames) == 3  # the start, then b (the +), then v_1 (the *)
    seed, after_plus, after_times = (f.source for f in frames)

    # Frame 0: only the start db/db = 1; nothing has reached v_1 or a.
    assert "<B>1</B>" in node_line(seed, "n2")
    for node_id in ("n0", "n1"):
        assert ">?</FONT>" in node_line(seed, node_id)
    assert "</B> = " not in seed  # no edge carries anything yet
    assert "step 0: backward() starts from db/db = 1" in seed
    assert "passes that" in seed  # the frame says what the steps to come will do

    # Frame 1: + sends 1 * 1 to v_1 and 1 * 1 to a; a has 1 of its 3 contributions.
    assert "><B>1</B> = 1 &#215; 1</TD>" in edge_line(after_plus, "n1 -> n2op")
    assert "><B>1</B> = 1 &#215; 1</TD>" in edge_line(after_plus, "n0 -> n2op")
    assert "<B>1</B>" in node_line(after_plus, "n1")  # v_1 complete: its only consumer sent
    a_line = node_line(after_plus, "n0")
    assert "1 so far" in a_line and "= 1 + ? + ?</FONT>" in a_line
    for nth in (0, 1):  # the * has not run: its edges are still grey
        assert 'color="#b0b7c3"' in edge_line(after_plus, "n0 -> n1op", nth)
    assert 'COLOR="#dc2626"' in node_line(after_plus, "n2")  # the node just processed

    # Frame 2: * sends 1 * 2 along each of its two slots; a = 1 + 2 + 2 = 5, complete.
    for nth in (0, 1):
        assert "><B>2</B> = 1 &#215; 2</TD>" in edge_line(after_times, "n0 -> n1op", nth)
    a_line = node_line(after_times, "n0")
    assert "<B>5</B>" in a_line and "= 1 + 2 + 2</FONT>" in a_line and "so far" not in a_line
    assert "</B>" not in edge_line(after_times, "n0 -> n2op")  # sent in an earlier step
    assert "dc2626" not in edge_line(after_times, "n0 -> n2op")

    assert [f.text.splitlines()[0] for f in frames] == [
        "a   = leaf     data 2  grad ?",
        "a   = leaf     data 2  grad 1 so far (1 of 3 contributions)",
        "a   = leaf     data 2  grad 5",
    ]


def test_frames_use_draw_graph_ids() -> None:
    b = square_plus()
    ids = {line.split()[0] for line in viz.draw_graph(b).source.splitlines() if "[label" in line}
    for frame in viz.backward_frames(b):
        assert {line.split()[0] for line in frame.source.splitlines() if "[label" in line} == ids


def random_dag(rng: random.Random) -> tuple[Value, list[Value]]:
    leaves = [Value(rng.uniform(-1.5, 1.5), label=f"x{i}") for i in range(3)]
    nodes = list(leaves)
    for _ in range(8):
        a, b = rng.choice(nodes), rng.choice(nodes)
        pick = rng.randrange(5)
        if pick == 0:
            nodes.append(a * b)
        elif pick == 1:
            nodes.append(a + b * 0.5)
        elif pick == 2:
            nodes.append(a.tanh())
        elif pick == 3:
            nodes.append(a**2 - b)
        else:
            nodes.append(a.sigmoid() * 2.0)
    root = nodes[-1] + nodes[-2] + nodes[-3]
    return root, leaves


@pytest.mark.parametrize("seed", range(8))
def test_last_frame_is_backward_and_no_grad_is_touched(seed: int) -> None:
    root, _ = random_dag(random.Random(seed))
    order = topological_order(root)
    for i, node in enumerate(order):
        node.grad = 100.0 + i  # sentinels: backward_frames must leave them alone
    frames = viz.backward_frames(root)
    states = _states(root)
    assert [node.grad for node in order] == [100.0 + i for i in range(len(order))]

    for node in order:
        node.grad = 0.0
    root.backward()
    final = states[-1]
    for node in order:
        if node.requires_grad:
            assert final.grads[node] == pytest.approx(node.grad, rel=1e-12, abs=1e-15)
            assert not final.partial(node)
    assert frames[-1].text == viz.to_text(root)
    # The engine's order: each processed node once, consumers before their operands.
    processed = [s.processed for s in states[1:]]
    assert processed == [n for n in reversed(order) if n.parents and n.requires_grad]


def test_each_step_sends_grad_times_local_derivative() -> None:
    x = Value(0.5, label="x")
    y = (x * 3.0).tanh()
    states = _states(y)
    tanh_step = states[1]
    ((edge, sent),) = tanh_step.sent.items()
    assert edge == (y, y.parents[0], 0)
    assert sent == pytest.approx(1 - y.data**2)  # 1 * dtanh(u)/du
    times_step = states[2]
    times = y.parents[0]
    assert times_step.sent == {(times, x, 0): pytest.approx(3 * (1 - y.data**2))}


def test_write_frames(tmp_path: Path, dot: str) -> None:
    b = square_plus()
    written = viz.write_frames(viz.backward_frames(b), tmp_path / "film")
    assert [p.name for p in written] == ["frame_00.png", "frame_01.png", "frame_02.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)
    with pytest.raises(TypeError, match="list of graphs"):
        viz.write_frames(viz.draw_graph(b), tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="format"):
        viz.write_frames(viz.backward_frames(b), tmp_path, format="../x")


def test_write_frames_without_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    b = square_plus()
    frames = viz.backward_frames(b)  # building needs no dot
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(viz.DotNotFoundError):
        viz.write_frames(frames, tmp_path / "out")


def test_bad_input() -> None:
    with pytest.raises(TypeError, match="Value"):
        viz.backward_frames(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="constant"):
        viz.backward_frames(Value(1.0, requires_grad=False))
    with pytest.raises(ValueError, match="rankdir"):
        viz.backward_frames(Value(1.0), rankdir="up")
    x = Value(1.0)
    y = x
    for _ in range(20):
        y = y * 1.01
    with pytest.raises(ValueError, match="max_nodes=10"):
        viz.backward_frames(y, max_nodes=10)


def test_notes_example_frames_by_hand() -> None:
    """h = F * g + 1, F = x * x, g = tanh(x) at x = 3: the engine runs +, *, tanh, *."""
    import math

    from chainrule.examples import notes_example

    h = notes_example()
    order = topological_order(h)
    states = _states(h)
    names = [s.processed.label or s.processed.op for s in states[1:] if s.processed]
    assert names == ["h", "*", "g", "F"]
    x = order[0]
    t = math.tanh(3.0)
    via_g = 9 * (1 - t * t)  # dh/dg * dg/dx, sent when g runs
    via_f = t * 3  # dh/dF * dF/dx for each slot of x * x, sent when F runs
    expected = [[], [], [], [via_g], [via_g, via_f, via_f]]
    for state, want in zip(states, expected, strict=True):
        assert state.received[x] == pytest.approx(want, rel=1e-12)
        assert state.partial(x) == (len(want) < 3)
    assert states[-1].grads[x] == pytest.approx(2 * 3 * t + via_g, rel=1e-12)


def build_new_pictures() -> str:
    """Every picture added for frames, clusters, neuron paths and the network, as DOT."""
    import nn
    from chainrule.examples import demo_sample_loss, notes_example

    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, 0)
    loss.backward()
    parts = [f.source for f in viz.backward_frames(notes_example())]
    parts += [f.source for f in viz.backward_frames(loss, level="neuron")]
    parts.append(str(viz.explain(loss, model.weight(1, 1, 1), level="neuron")))
    parts.append(viz.draw_graph(loss).source)
    parts.append(viz.draw_graph(loss, cluster_neurons=True).source)
    parts.append(viz.draw_paths(loss, model.weight(1, 1, 1), level="neuron").source)
    parts.append(viz.draw_network(model).source)
    return "\n".join(parts)


def test_new_pictures_are_deterministic_across_runs() -> None:
    outputs = outputs_across_processes("test_viz_frames", "build_new_pictures")
    assert outputs == {build_new_pictures()}


def node_positions(frame: viz.ChainGraph) -> list[str]:
    """The laid-out position and size of every node, from dot's plain output."""
    plain = frame.pipe(format="plain", encoding="utf-8")
    return [" ".join(line.split()[:6]) for line in plain.splitlines() if line.startswith("node")]


def mlp_loss() -> tuple[Value, list[Value]]:
    import nn
    from chainrule.examples import demo_sample_loss

    model = nn.MLP(4, [3, 2, 1], seed=0)
    return demo_sample_loss(model, 0), model.parameters()


@pytest.mark.parametrize("level", ["op", "neuron"])
def test_every_frame_has_the_same_layout_and_canvas(level: str) -> None:
    from chainrule.examples import notes_example

    root = notes_example() if level == "op" else mlp_loss()[0]
    frames = viz.backward_frames(root, level=level)  # type: ignore[arg-type]
    layouts = [frame.pipe(format="plain", encoding="utf-8").splitlines()[0] for frame in frames]
    assert len(set(layouts)) == 1  # "graph scale width height": one canvas
    positions = [node_positions(frame) for frame in frames]
    assert all(p == positions[0] for p in positions)
    # dot warns when a text is wider than its cell: the size estimates must be generous.
    for frame in frames:
        run = subprocess.run(["dot", "-Tplain"], input=frame.source, capture_output=True, text=True)
        assert run.stderr == ""


def test_neuron_frames_step_through_the_network() -> None:
    """One frame per neuron, loss first; each edge says grad x local derivative."""
    loss, params = mlp_loss()
    frames = viz.backward_frames(loss, level="neuron")
    assert len(frames) == 1 + 7  # the start, L, O_31, O_22, O_21, O_13, O_12, O_11
    for p in params:
        p.grad = 0.0
    loss.backward()
    last = dict(line.split("  ", 1) for line in frames[-1].text.splitlines())
    for p in params:
        assert last[p.label] == f"data {number(p.data)}  grad {number(p.grad)}"
    # Frame 2 is O_31: it sends grad dL/dO_31 times (1 - O_31^2) * O_21 to w^3_11.
    o31 = loss.parents[0].parents[1].parents[0]  # L = (y + O_31 * -1) ** 2
    assert o31.label == "O_31"
    o21 = next(p for p in o31.parents[0].parents if p.label == "").parents[1]
    assert o21.label == "O_21"
    dl_do31 = -2 * (1.0 - o31.data)
    local = (1 - o31.data**2) * o21.data
    source = frames[2].source
    assert f"<B>{number(dl_do31 * local)}</B> = " in source
    assert "(1 &#8722; O<SUB>31</SUB><SUP>2</SUP>) &#183; O<SUB>21</SUB>" in source
    assert "step 2 of 7: O<SUB>31</SUB> passes its grad" in source


def test_write_gif_and_notebook_strip(tmp_path: Path) -> None:
    from PIL import Image

    b = square_plus()
    frames = viz.backward_frames(b)
    gif = viz.write_gif(frames, tmp_path / "pass.gif", seconds_per_frame=0.5)
    with Image.open(gif) as picture:
        assert picture.format == "GIF" and picture.n_frames == len(frames)
        assert picture.info["duration"] == 500
    html = frames._repr_html_()
    assert html.count("<svg") == len(frames)
    with pytest.raises(ValueError, match="seconds_per_frame"):
        viz.write_gif(frames, tmp_path / "x.gif", seconds_per_frame=0)
    with pytest.raises(TypeError, match="non-empty list"):
        viz.write_gif([], tmp_path / "x.gif")


def test_notebook_strip_without_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    frames = viz.backward_frames(square_plus())
    monkeypatch.setenv("PATH", str(tmp_path))
    html = frames._repr_html_()
    assert "Graphviz" in html and "grad 5" in html


def dot_centres(graph: viz.ChainGraph, names: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Where dot puts each node, by the name of the Value it draws (``names``: id to name),
    y growing downwards as on the page."""
    objects = json.loads(graph.pipe(format="json"))["objects"]
    centres = {}
    for obj in objects:
        if obj["name"] in names:
            x, y = (float(v) for v in obj["pos"].split(","))
            centres[names[obj["name"]]] = (x, -y)
    return centres


def test_neuron_frames_stand_in_the_notes_order() -> None:
    loss, _ = mlp_loss()
    nodes = viz.backward_steps(loss, "neuron")[0].nodes
    names = {f"n{i}": node.label for i, node in enumerate(nodes)}
    for frame in viz.backward_frames(loss, level="neuron")[:2]:
        centres = dot_centres(frame, names)
        for column in NOTES_ORDER:
            assert reads_in_order([centres[name] for name in column]), column


def test_neuron_paths_stand_in_the_notes_order() -> None:
    loss, params = mlp_loss()
    loss.backward()
    w = next(p for p in params if p.label == "w^1_11")
    graph = viz.draw_paths(loss, w, level="neuron")
    order = topological_order(loss)
    names = {f"n{i}": node.label for i, node in enumerate(order) if node.label}
    centres = dot_centres(graph, names)
    assert reads_in_order([centres["O_21"], centres["O_22"]])


def test_neuron_captions_have_the_formulas_minus_sign() -> None:
    loss, _ = mlp_loss()
    for frame in viz.backward_frames(loss, level="neuron")[1:]:
        (caption,) = [line for line in frame.source.splitlines() if "passes its grad" in line]
        assert not re.search(r"(?<![\w&#])-\d", caption), caption


def drawn_names(source: str, order: list[Value]) -> dict[str, str]:
    """The id of every box in a DOT source, by the name (label) of the Value it draws."""
    from viz._labels import html_symbol

    by_title = {f"<B>{html_symbol(n.label)}</B>": n.label for n in order if n.label}
    names = {}
    for line in source.splitlines():
        match = re.match(r"\t(\w+) \[label=<<FONT[^>]*><TABLE[^>]*><TR><TD[^>]*>(<B>.*?</B>)", line)
        if match:
            names[match[1]] = by_title[match[2]]
    return names


def test_neuron_frames_draw_the_inputs_and_the_target() -> None:
    """The formulas read x_i and y: every frame shows them, each input with a dashed line
    to the weights it meets (the notes draw a weight on the edge from its input), the
    target with a dashed edge into L, the inputs in their order, left of the weights."""
    loss, _ = mlp_loss()
    order = topological_order(loss)
    frames = viz.backward_frames(loss, level="neuron")
    for frame in frames:
        ids = drawn_names(frame.source, order)
        dashed = [
            re.match(r"\t(\w+) -> (\w+) \[(.*)\]", line)
            for line in frame.source.splitlines()
            if "style=dashed" in line
        ]
        links = sorted((ids[m[1]], ids[m[2]], "dir=none" in m[3]) for m in dashed if m)
        expected = [(f"x_{i}", f"w^1_{i}{j}", True) for i in range(1, 5) for j in range(1, 4)]
        assert links == sorted([*expected, ("y", "L", False)])
        for i in range(1, 5):
            assert f"\nx_{i}  data " in f"\n{frame.text}"
    centres = dot_centres(frames[0], ids)
    assert reads_in_order([centres[f"x_{i}"] for i in range(1, 5)])
    assert max(centres[f"x_{i}"][0] for i in range(1, 5)) < centres["w^1_11"][0]
