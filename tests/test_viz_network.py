"""viz on the notes' network: neuron-level paths, draw_network, the demo's graphs and CLI."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import nn
import viz
from chainrule import examples, graphs

DATA = nn.iris_binary("setosa")


def model_and_loss(samples: int, l2: float = 0.0) -> tuple[nn.MLP, object]:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = nn.total_loss(model, DATA.X[:samples], DATA.y[:samples], l2=l2)
    return model, loss


@pytest.mark.parametrize("samples", [1, 3])
def test_neuron_level_path_counts_per_sample(samples: int) -> None:
    model, loss = model_and_loss(samples)
    expected = {(1, 1, 1): 2, (2, 1, 1): 1, (3, 1, 1): 1}
    for kij, per_sample in expected.items():
        rule = viz.explain(loss, model.weight(*kij), level="neuron")  # type: ignore[arg-type]
        assert len(rule.paths) == per_sample * samples
        assert rule.agrees
        ends = {rule.describe_path(p).split(" -> ")[1].split("[")[0] for p in rule.paths}
        assert ends == {"O_31"}


def test_regularisation_adds_one_direct_path() -> None:
    model, loss = model_and_loss(1, l2=0.1)
    rule = viz.explain(loss, model.weight(1, 1, 1), level="neuron")  # type: ignore[arg-type]
    assert len(rule.paths) == 3
    assert sum(len(p.steps) == 1 for p in rule.paths) == 1  # L -> w^1_11 through Reg
    assert rule.agrees


def test_notes_ledgers_for_the_demo() -> None:
    model, loss = model_and_loss(1)
    text = graphs.demo_ledgers(model, loss)  # type: ignore[arg-type]
    heads = [block.splitlines()[0] for block in text.split("\n\n")]
    assert heads == [
        "dL/dw^3_11 = dL/dO_31 * dO_31/dw^3_11",
        "dL/dw^2_11 = dL/dO_31 * dO_31/dO_21 * dO_21/dw^2_11",
        "dL/dw^2_21 = dL/dO_31 * dO_31/dO_21 * dO_21/dw^2_21",
        "dL/dw^1_11 = dL/dO_31 * (dO_31/dO_21 * dO_21/dO_11 + dO_31/dO_22 * dO_22/dO_11)"
        " * dO_11/dw^1_11",
    ]
    assert text.count("from backward(): agrees") == 4


def test_draw_network_edges_and_labels() -> None:
    model, loss = model_and_loss(1)
    loss.backward()  # type: ignore[attr-defined]
    source = viz.draw_network(model).source
    w = model.weight(2, 3, 1)
    colour = "#2563eb" if w.data > 0 else "#ea580c"
    edge = next(line for line in source.splitlines() if line.strip().startswith("o1_3 -> o2_1"))
    assert f'color="{colour}"' in edge
    label = next(line for line in source.splitlines() if line.strip().startswith("w2_3_1 "))
    assert "w<SUP>2</SUP><SUB>31</SUB>" in label
    assert f"&#8711; {viz._labels.number(w.grad, 3)}" in label
    assert f'fontcolor="{colour}"' in label
    real = [ln for ln in source.splitlines() if "->" in ln]
    assert len(real) == 20
    with pytest.raises(TypeError, match=r"nn\.MLP"):
        viz.draw_network("model")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="show"):
        viz.draw_network(model, show="all")  # type: ignore[arg-type]


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in points


def laid_out(graph: viz.ChainGraph) -> tuple[dict[str, Box], dict[str, tuple[float, float, float]]]:
    """The weight labels' boxes and the circles (x, y, radius) as Graphviz placed them."""
    objects = json.loads(graph.pipe(format="json"))["objects"]
    labels: dict[str, Box] = {}
    circles: dict[str, tuple[float, float, float]] = {}
    for obj in objects:
        x, y = (float(v) for v in obj["pos"].split(","))
        if obj["name"].startswith("w"):
            (points,) = [op["points"] for op in obj["_ldraw_"] if op["op"] == "P"]
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            labels[obj["name"]] = (min(xs), min(ys), max(xs), max(ys))
        else:
            circles[obj["name"]] = (x, y, float(obj["width"]) * 72 / 2)
    return labels, circles


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def touches_circle(box: Box, circle: tuple[float, float, float]) -> bool:
    x, y, r = circle
    dx = max(box[0] - x, 0.0, x - box[2])
    dy = max(box[1] - y, 0.0, y - box[3])
    return dx * dx + dy * dy < r * r


@pytest.mark.parametrize(
    ("seed", "bias", "show"),
    [(0, False, "both"), (1, True, "both"), (2, False, "grad"), (3, True, "value")],
)
def test_network_labels_never_overlap(seed: int, bias: bool, show: str, dot: str) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=seed, bias=bias)
    loss = nn.total_loss(model, DATA.X[seed : seed + 1], DATA.y[seed : seed + 1])
    loss.backward()
    labels, circles = laid_out(viz.draw_network(model, show=show))  # type: ignore[arg-type]
    assert len(labels) == 20 and len(circles) == 4 + 3 + 2 + 1
    names = sorted(labels)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not overlap(labels[a], labels[b]), (a, b)
        for node, circle in circles.items():
            assert not touches_circle(labels[a], circle), (a, node)
    # The lecture notes' layout: inputs left, one column per layer, O_k1 .. O_kn from the top.
    columns = [["x1", "x2", "x3", "x4"], ["o1_1", "o1_2", "o1_3"], ["o2_1", "o2_2"], ["o3_1"]]
    for column in columns:
        assert len({circles[n][0] for n in column}) == 1
    lefts = [circles[column[0]][0] for column in columns]
    assert lefts == sorted(set(lefts))
    for column in columns:
        heights = [circles[n][1] for n in column]
        assert heights == sorted(heights, reverse=True)  # y grows upwards in Graphviz


def test_demo_graphs_render(tmp_path: Path, dot: str) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = examples.demo_sample_loss(model, 0)
    written = graphs.write_demo_graphs(model, loss, tmp_path)
    pictures = [
        f"{stem}.{ext}"
        for stem in ("graph_loss", "network", "paths_w1_11", "paths_w1_11_neuron")
        for ext in ("svg", "png")
    ]
    # h = x * x * tanh(x) + 1 has four operations: the start, then one frame for each
    frames = [f"backward_frames/frame_0{i}.png" for i in range(5)]
    # the loss's pass at the neuron level: the start, L, then the six neurons O_kj
    frames += [f"backward_frames_neuron/frame_0{i}.png" for i in range(8)]
    frames.append("backward_neuron.gif")
    explorer = ["explorer.html"]  # tested in test_explorer*.py
    assert [p.relative_to(tmp_path).as_posix() for p in written] == pictures + frames + explorer
    for path in written:
        data = path.read_bytes()
        if path.suffix == ".png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
        elif path.suffix == ".gif":
            assert data[:6] == b"GIF89a"
        elif path.suffix == ".svg":
            ET.fromstring(data)
    neuron_svg = (tmp_path / "paths_w1_11_neuron.svg").read_text(encoding="utf-8")
    # L, O_31, O_21, O_22, O_11, w^1_11, and the x_1 and y their formulas read
    assert neuron_svg.count('class="node"') == 8


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chainrule")
    graphs.add_graph_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_explain_command(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(["explain", "w^2_11"])
    assert args.weight == (2, 1, 1)
    assert args.run(args) == 0
    assert capsys.readouterr().out.startswith("dL/dw^2_11 = dL/dO_31 * dO_31/dO_21")
    assert parse(["explain", "w^1_{10,3}"]).weight == (1, 10, 3)
    with pytest.raises(SystemExit):
        parse(["explain", "w11"])


def test_draw_command(tmp_path: Path, capsys: pytest.CaptureFixture[str], dot: str) -> None:
    args = parse(["draw", "w^3_21", "--out", str(tmp_path)])
    assert args.run(args) == 0
    assert (tmp_path / "paths_w3_21.png").exists() and (tmp_path / "network.svg").exists()


def test_the_picture_carries_its_own_legend() -> None:
    import nn
    from viz import draw_network

    model = nn.MLP(4, [3, 2, 1], seed=0)
    fresh = draw_network(model).source
    assert "\u2207: no backward() yet" in fresh
    assert "the neurons O_kj (no forward pass yet)" in fresh and "last forward" not in fresh
    out = model([0.1, 0.2, 0.3, 0.4])
    assert "the outputs O_kj of the last forward pass" in draw_network(model).source
    out.backward()
    source = draw_network(model).source
    assert "sign of the weight w (blue +, orange \u2212)" in source
    assert "\u2207: dL/dw from the last backward()" in source
    assert "sign of the gradient dL/dw" in draw_network(model, show="grad").source
    assert "\u2207" not in draw_network(model, show="value").source.split("label=")[-1]


def test_network_names_the_sample_and_keeps_subscripts_off_the_numbers() -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0, bias=True)
    loss = examples.demo_sample_loss(model, 3)
    title = examples.sample_title(loss, 3)
    out = model.layers[-1].neurons[0].output
    assert out is not None
    assert f"Iris sample 3 (setosa: y = 1), yhat = O_31 = {out.data:.4g}" in title
    assert f"L = (y - yhat)^2 = {loss.data:.4g}" in title
    source = viz.draw_network(model, title=title).source
    assert title.replace("'", "&#x27;") in source
    # name, value and bias each in a table row of its own, not lines of one text
    assert '<TR><TD>O<SUB>11</SUB></TD></TR><TR><TD><FONT POINT-SIZE="9">' in source
    assert "b<SUP>1</SUP><SUB>1</SUB> 0</FONT></TD></TR>" in source
    with pytest.raises(TypeError, match="title"):
        viz.draw_network(model, title=3)  # type: ignore[arg-type]


def test_draw_network_can_leave_out_its_weight_labels_and_legend() -> None:
    model = nn.MLP(2, [2, 1], seed=0)
    full, bare = viz.draw_network(model), viz.draw_network(model, weight_labels=False, legend=False)
    assert "w1_1_1" in full.source and "edge colour" in full.source
    assert "w1_1_1" not in bare.source and "edge colour" not in bare.source
    assert bare.source.count(" -> ") == full.source.count(" -> ") == 6


def test_draw_network_names_its_circles_at_the_size_asked_and_they_fit(dot: str) -> None:
    model = nn.MLP(10, [12, 1], seed=0, bias=True)  # the widest names: x_10, O_1,12
    nn.total_loss(model, [[0.123456] * 10], [1.0]).backward()  # value and bias lines too
    for size in (12, 24):  # the default, and the largest
        objects = json.loads(viz.draw_network(model, name_size=size).pipe(format="json"))
        circles = [o for o in objects["objects"] if o["name"][0] in "xo"]
        assert len(circles) == 10 + 12 + 1
        for circle in circles:
            ops = circle["_ldraw_"]
            fonts = [op["size"] for op in ops if op["op"] == "F"]
            assert fonts[0] == size and set(fonts[2:]) <= {size, 9.0}, circle["name"]
            top = max(op["pt"][1] for op in ops if op["op"] == "T")
            name = [op for op in ops if op["op"] == "T" and op["pt"][1] == top]
            assert sum(op["width"] for op in name) < 0.85 * float(circle["width"]) * 72
    for bad, error in (("24", TypeError), (True, TypeError), (30, ValueError), (4, ValueError)):
        with pytest.raises(error, match="name_size"):
            viz.draw_network(model, name_size=bad)  # type: ignore[arg-type]
