"""viz.draw_graph / draw_paths / to_text: DOT text, rendering, safety, missing dot."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from determinism import outputs_across_processes

import nn
import viz
from autograd import Value, topological_order
from chainrule.examples import demo_sample_loss, notes_example
from viz._drawing import FONT

HOSTILE = 'q" \\ \\N a\\ <b> <i>x</i> | { } & :\nsecond line'


def edges(source: str) -> list[str]:
    """The edge lines of a DOT text, without attributes."""
    return [line.split("[")[0].strip() for line in source.splitlines() if "->" in line]


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [el.text or "" for el in root.iter("{http://www.w3.org/2000/svg}text")]


def test_square_draws_two_edges_into_the_multiply() -> None:
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    b.backward()
    source = viz.draw_graph(b).source
    # by hand: a is n0, b is n1 with its * node n1op; one edge per operand slot
    assert edges(source) == ["n1op -> n1", "n0 -> n1op", "n0 -> n1op"]
    # a gets gradient along two edges, 3 + 3: marked, with the contributions
    assert "= 3 + 3</FONT>" in source
    assert re.search(r'n0 \[label=<<FONT[^>]*><TABLE BORDER="2"', source)


def test_sum_graph_by_hand() -> None:
    a, b = Value(2.0, label="a"), Value(5.0, label="b")
    c = a * b + a
    c.label = "c"
    c.backward()
    g = viz.draw_graph(c, edge_derivatives=True)
    assert edges(g.source) == [
        "n2op -> n2",  # v_2 = a * b
        "n0 -> n2op",
        "n1 -> n2op",
        "n3op -> n3",  # c = v_2 + a
        "n2 -> n3op",
        "n0 -> n3op",
    ]
    lines = {line.split("[")[0].strip(): line for line in g.source.splitlines() if "->" in line}
    assert "label=<5>" in lines["n0 -> n2op"]  # d(a*b)/da = b
    assert "label=<2>" in lines["n1 -> n2op"]  # d(a*b)/db = a
    assert "label=<1>" in lines["n0 -> n3op"]
    assert "= 5 + 1</FONT>" in g.source  # a: from a*b and from + : 5 + 1 = 6 = a.grad
    assert a.grad == 6.0
    assert "<B>6</B>" in g.source


def test_constants_draw_dashed_and_without_grad() -> None:
    x = Value(1.5, label="x")
    y = x**2
    source = viz.draw_graph(y).source
    dashed = [line for line in source.splitlines() if "style=dashed" in line]
    assert len(dashed) == 1 and dashed[0].strip().startswith("n1 -> n2op")
    assert "n1 [label=<2>" in source


def test_highlight_greys_the_rest() -> None:
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    source = viz.draw_graph(c, highlight=[a, c]).source
    line_b = next(line for line in source.splitlines() if line.strip().startswith("n1 -> n2op"))
    line_a = next(line for line in source.splitlines() if line.strip().startswith("n0 -> n2op"))
    assert "#b0b7c3" in line_b and "#dc2626" in line_a


def _build_demo_graph() -> str:
    x = Value(0.5, label="x")
    w = Value(-1.25, label="w")
    y = (x * w).tanh() + x.exp() * w
    y.label = "y"
    y.backward()
    return viz.draw_paths(y, w).source


def test_source_is_deterministic_within_and_across_runs(tmp_path: Path) -> None:
    assert _build_demo_graph() == _build_demo_graph()
    outputs = outputs_across_processes("test_viz_graph", "_build_demo_graph")
    assert outputs == {_build_demo_graph()}


def test_hostile_labels_are_escaped_in_the_source() -> None:
    x = Value(1.0, label=HOSTILE)
    y = x * 2
    source = viz.draw_graph(y).source
    assert "&lt;b&gt; &lt;i&gt;x&lt;/i&gt; | { } &amp; :<BR/>second line" in source
    assert "q&quot; \\\\ \\\\N a\\\\ " in source  # dot prints a doubled backslash once
    assert "<b>" not in source and "<i>" not in source


def test_hostile_labels_render_literally_with_dot(dot: str) -> None:
    x = Value(1.0, label=HOSTILE)
    plain = Value(1.0, label="plain")
    y, z = x * 2, plain * 2
    svg = viz.draw_graph(y).pipe(format="svg", encoding="utf-8")
    texts = svg_texts(svg)
    first, second = HOSTILE.split("\n")
    assert first in texts and second in texts
    reference = viz.draw_graph(z).pipe(format="svg", encoding="utf-8")
    assert svg.count('class="node"') == reference.count('class="node"')
    assert svg.count('class="edge"') == reference.count('class="edge"')


def test_renders_svg_and_png_with_dot(tmp_path: Path, dot: str) -> None:
    a = Value(2.0, label="a")
    b = (a * a).tanh()
    b.backward()
    g = viz.draw_graph(b, edge_derivatives=True)
    svg = Path(g.render(outfile=tmp_path / "g.svg"))
    png = Path(g.render(outfile=tmp_path / "g.png"))
    assert "a" in svg_texts(svg.read_text(encoding="utf-8"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_dot_gives_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    a = Value(2.0, label="a")
    g = viz.draw_graph(a * a)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot anywhere
    assert "n0 -> n1op" in g.source  # building and .source never need dot
    for attempt in (lambda: g.pipe(format="svg"), lambda: g.render(outfile=tmp_path / "x.png")):
        with pytest.raises(viz.DotNotFoundError) as info:
            attempt()
        message = str(info.value)
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
        assert info.value.__cause__ is None and info.value.__suppress_context__
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "conda install" in str(bundle["text/plain"])
    assert "v_1 = a * a" in str(bundle["text/plain"])


def test_max_nodes_guard() -> None:
    x = Value(1.0, label="x")
    y = x
    for _ in range(30):
        y = y + 1.0
    with pytest.raises(ValueError, match=r"61 Values, more than max_nodes=20"):
        viz.draw_graph(y, max_nodes=20)
    assert viz.draw_graph(y, max_nodes=None).source
    with pytest.raises(ValueError, match="max_nodes"):
        viz.draw_graph(y, max_nodes=0)


def test_bad_input() -> None:
    with pytest.raises(TypeError, match="Value"):
        viz.draw_graph(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(Value(1.0), rankdir="sideways")


def test_draw_paths_caption_is_the_ledger() -> None:
    x = Value(3.0, label="x")
    h = x * x
    h.label = "h"
    source = viz.draw_paths(h, x).source
    row = '<TD ALIGN="LEFT">dh/dx</TD><TD ALIGN="LEFT">=</TD><TD ALIGN="LEFT">dh/dx + dh/dx</TD>'
    assert row in source
    assert "from backward(): agrees" in source
    # The where block stands beside the sum, in the same table: a table in a table's
    # cell would be stretched to the cell, its columns spread apart.
    caption = next(line for line in source.splitlines() if line.strip().startswith("fontname"))
    assert caption.count("<TABLE") == 1
    where = '<TD ALIGN="LEFT">dh/dx</TD><TD ALIGN="LEFT">=</TD><TD ALIGN="LEFT">x</TD>'
    assert where in caption.split("where")[1]


def test_to_text_lists_each_value_once() -> None:
    a = Value(2.0, label="a")
    b = a * a + 1
    b.backward()
    assert viz.to_text(b).splitlines() == [
        "a   = leaf     data 2  grad 4",
        "v_1 = a * a    data 4  grad 1",
        "v_2 = v_1 + 1  data 5  grad 1",  # numbered without gaps: 1 is a constant
    ]


def one_neuron() -> tuple[Value, Value]:
    """L = (O_11 - 0.3)^2, O_11 = tanh(w^1_11 * x_1 + b^1_1): ids by hand below."""
    w = Value(0.4, label="w^1_11")  # n0
    x = Value(0.7, label="x_1", requires_grad=False)  # n1
    b = Value(0.1, label="b^1_1")  # n3 (n2 is w * x)
    o = (w * x + b).tanh()  # n4 = n2 + b, n5 = tanh
    o.label = "O_11"
    loss = (o - 0.3) ** 2
    loss.label = "L"
    return loss, w


def cluster_bodies(source: str) -> dict[str, list[str]]:
    """Each cluster's name and the ids declared inside it."""
    bodies: dict[str, list[str]] = {}
    current = None
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("subgraph cluster_"):
            current = stripped.split()[1]
            bodies[current] = []
        elif stripped == "}":
            current = None
        elif current and "[label" in stripped and not stripped.startswith("label"):
            bodies[current].append(stripped.split()[0])
    return bodies


def test_cluster_neurons_boxes_the_ops_of_each_o_kj() -> None:
    loss, _ = one_neuron()
    loss.backward()
    assert "subgraph" not in viz.draw_graph(loss).source
    source = viz.draw_graph(loss, cluster_neurons=True).source
    # by hand: O_11 is n5; inside: w*x (n2), + b (n4), tanh (n5) with their op circles.
    # Not inside: the weight, input and bias it reads, nor the loss after it.
    assert cluster_bodies(source) == {"cluster_n5": ["n2", "n2op", "n4", "n4op", "n5", "n5op"]}
    assert "label=<O<SUB>11</SUB>>" in source
    assert viz.draw_graph(loss, cluster_neurons=True).source == source


def test_cluster_neurons_on_the_notes_network() -> None:
    import nn

    model = nn.MLP(4, [3, 2, 1], seed=0)
    out = model([0.1, 0.2, 0.3, 0.4])
    bodies = cluster_bodies(viz.draw_graph(out, cluster_neurons=True).source)
    assert len(bodies) == 6  # O_11..O_13, O_21, O_22, O_31
    # a neuron with n inputs (no bias by default): n products, n - 1 sums, one activation,
    # each a Value box and an op circle: layer 1 has n = 4, layer 2 n = 3, layer 3 n = 2
    assert sorted(len(ids) for ids in bodies.values()) == [8, 12, 12, 16, 16, 16]


def test_draw_paths_neuron_level_is_the_notes_picture() -> None:
    x = Value(0.7, label="x_1", requires_grad=False)
    w = Value(0.4, label="w^1_11")
    o11 = (w * x).tanh()
    o11.label = "O_11"
    o21, o22 = (o11 * -0.6).tanh(), (o11 * 0.9).tanh()
    o21.label, o22.label = "O_21", "O_22"
    o31 = (o21 * 0.5 + o22 * -0.8).tanh()
    o31.label = "O_31"
    loss = (o31 - 0.3) ** 2
    loss.label = "L"
    loss.backward()
    g = viz.draw_paths(loss, w, level="neuron")
    ids = {line.split()[0]: line for line in g.source.splitlines() if "[label=<<FONT" in line}
    # w^1_11, O_11, O_21, O_22, O_31, L, and x_1, which dO_11/dw^1_11 reads: nothing else
    assert len(ids) == 7
    x_id = next(node_id for node_id, line in ids.items() if "x<SUB>1</SUB>" in line)
    w_id = next(node_id for node_id, line in ids.items() if "w<SUP>1</SUP>" in line)
    links = [line for line in g.source.splitlines() if f"{x_id} -> " in line]
    assert links == [f'\t{x_id} -> {w_id} [color="#b0b7c3" dir=none style=dashed]']
    full = viz.draw_graph(loss).source  # the same ids as the operation graph
    for node_id in ids:
        assert f"\t{node_id} [label=<<FONT" in full
    labels = [
        line.split("label=<")[1].split(">")[0]
        for line in g.source.splitlines()
        # not the edges that keep the order, nor the constant's line
        if "->" in line and "style=invis" not in line and "style=dashed" not in line
    ]
    assert len(labels) == 6
    # the notes' local derivatives by hand: tanh' = 1 - O^2 times the weight
    d21 = (1 - o21.data**2) * -0.6
    d22 = (1 - o22.data**2) * 0.9
    d31_21 = (1 - o31.data**2) * 0.5
    d31_22 = (1 - o31.data**2) * -0.8
    text = g.source
    for name, value in (
        ("O<SUB>21</SUB>/dO<SUB>11</SUB>", d21),
        ("O<SUB>22</SUB>/dO<SUB>11</SUB>", d22),
        ("O<SUB>31</SUB>/dO<SUB>21</SUB>", d31_21),
        ("O<SUB>31</SUB>/dO<SUB>22</SUB>", d31_22),
        ("L/dO<SUB>31</SUB>", 2 * (o31.data - 0.3)),
        ("O<SUB>11</SUB>/dw<SUP>1</SUP><SUB>11</SUB>", (1 - o11.data**2) * 0.7),
    ):
        shown = viz._labels.html_number(value)
        assert re.search(f"d{re.escape(name)} = .*?<B>= {re.escape(shown)}</B>", text), name
    assert (
        "dL/dw^1_11 = dL/dO_31 * (dO_31/dO_21 * dO_21/dO_11 + dO_31/dO_22 * dO_22/dO_11)"
        " * dO_11/dw^1_11" in g.text
    )
    caption = 'dL/dw<SUP>1</SUP><SUB>11</SUB></TD><TD ALIGN="LEFT">=</TD>'
    assert caption in text  # the ledger under the picture, with real subscripts
    with pytest.raises(ValueError, match="level"):
        viz.draw_paths(loss, w, level="layer")  # type: ignore[arg-type]


def test_draw_graph_explains_itself_and_names_without_gaps() -> None:
    x = Value(0.5, label="x")
    y = Value(1.0, label="y", requires_grad=False)
    loss = (y - (x * 2.0).tanh()) ** 2
    loss.backward()
    source = viz.draw_graph(loss).source
    for words in ("dashed", "no gradient flows", "adds them up", "the target y"):
        assert words in source or words.replace("dashed", "- - ") in source
    names = [line.split(" = ")[0].strip() for line in viz.to_text(loss).splitlines()]
    unnamed = [n for n in names if n.startswith("v_")]
    assert unnamed == [f"v_{i}" for i in range(1, len(unnamed) + 1)]
    assert "legend" not in viz.draw_graph(loss, legend=False).source
    assert "adds them up" not in viz.draw_graph(loss, legend=False).source


def test_op_level_caption_leaves_out_factors_of_one_and_wraps() -> None:
    x = Value(0.3, label="x")
    y = x
    for _ in range(30):
        y = y + 1.0
    y = y * x
    y.label = "y"
    y.backward()
    source = viz.draw_paths(y, x).source
    assert "factors equal to 1 (from +) left out" in source
    rows = re.findall(r'<TD ALIGN="LEFT" COLSPAN="1">([^<]*(?:<[^T][^<]*)*)</TD>', source)
    assert rows and max(len(re.sub("<[^>]*>|&#183;", "*", r)) for r in rows) <= 120


def test_op_paths_draw_the_paths_and_the_operands_their_derivatives_read() -> None:
    """d(a * b)/da reads b, so b is drawn (in grey); what only computes b is left out."""
    a, b, c = Value(0.5, label="a"), Value(-2.0, label="b"), Value(0.3, label="c")
    b2 = (c * c + b).tanh()
    b2.label = "t"
    y = a * b2 + c
    y.label = "y"
    y.backward()
    source = viz.draw_paths(y, a).source
    titles = re.findall(r'<TD COLSPAN="2">(?:<B>|<FONT COLOR="#6b7280">)([^<]+)', source)
    # v_1 = a * t and y on the paths; t, read by d(a * t)/da, and c, the other operand
    # of y's +, beside them; not b, which only computes t
    assert sorted(titles) == ["a", "c", "t", "v", "y"]  # v: v_1, its subscript cut here
    order = topological_order(y)
    t_id = f"n{order.index(b2)}"
    assert f"\t{t_id}op " not in source  # t's own operation is off the paths: not drawn
    assert f'\t{t_id} [label=<<FONT COLOR="#b0b7c3">' in source  # grey
    with pytest.raises(ValueError, match="max_nodes"):
        viz.draw_paths(y, a, max_nodes=3)  # five Values are drawn


def test_every_picture_is_drawn_in_the_one_font() -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, 0)
    loss.backward()
    w = model.weight(1, 1, 1)
    pictures = [
        viz.draw_graph(loss, cluster_neurons=True),
        viz.draw_paths(loss, w),
        viz.draw_paths(loss, w, level="neuron"),
        viz.draw_network(model, title="one sample"),
        viz.backward_frames(loss, level="neuron")[1],
        viz.backward_frames(notes_example())[1],
    ]
    for picture in pictures:
        fonts = re.findall(r'fontname=(?:"([^"]*)"|(\w+))', picture.source)
        assert {quoted or plain for quoted, plain in fonts} == {FONT}


def test_a_graph_can_leave_out_every_answer_of_the_forward_and_backward_pass() -> None:
    x = Value(0.7, label="x")
    F = x * x
    g = (x * 3.0).tanh()
    h = F * g + 2.0
    F.label, g.label, h.label = "F", "g", "h"
    h.backward()
    blank = viz.draw_graph(h, show_data=False, show_grad=False)
    answers = [n for n in topological_order(h) if n.requires_grad]
    for node in answers:
        for shown in {f"{node.data:.4g}", f"{node.grad:.4g}"} - {"1"}:  # 1: v_1's subscript
            assert f">{shown}<" not in blank.source, (node.label, shown)
            assert shown not in blank.text.split(), (node.label, shown)
    assert ">data<" not in blank.source and ">grad<" not in blank.source
    assert blank.text.splitlines()[0].split() == ["x", "=", "leaf"]
    assert "label=<3>" in blank.source and "label=<2>" in blank.source  # written in formulas
    assert "a Value to learn (a leaf): name<" in blank.source
    full = viz.draw_graph(h)
    assert all(f">{n.data:.4g}<" in full.source for n in answers)
    assert "a Value to learn (a leaf): name, data, grad<" in full.source


def test_a_long_op_level_path_steps_down_to_fit_a_slide(dot: str) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, 0)
    loss.backward()
    paths = viz.draw_paths(loss, model.weight(1, 1, 1))  # 15 operations from L to w^1_11
    ops = re.findall(r"^\t(n\d+)op \[", paths.source, re.M)
    stacked = re.findall(r"\{\s*rank=same\s+(n\d+)op\s+(n\d+)\s*\}", paths.source)
    assert sorted(stacked) == sorted((op, op) for op in ops)  # each op beside its result
    png = paths.pipe(format="png")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width / height < 2.5  # a slide is 16:9; drawn in one row it was 3.7 : 1
    h = notes_example()
    x = next(v for v in topological_order(h) if v.label == "x")
    assert "rank=same" not in viz.draw_paths(h, x).source  # 3 operations: one row
