"""Every SVG chainrule returns or writes has been through viz._svg.readable_svg.

What it does to Graphviz's SVG is checked here as text; how a browser then draws it, in
tests/test_svg_browser.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import graphviz
import pytest

import nn
import viz
from autograd import Value
from chainrule.examples import demo_sample_loss
from chainrule.graphs import write_demo_graphs
from viz._svg import DROP, RAISE, SCRIPT_SIZE, readable_svg

# w^1_11 = 0.5, dL/dw^1_11 and (1 - O_31^2) w^3_11 as the pictures write them, a subscript
# after a superscript and the other way round, and a run after the scripts.
LABELS = {
    "w": "<w<SUP>1</SUP><SUB>11</SUB> = 0.5>",
    "d": "<dL/dw<SUP>1</SUP><SUB>11</SUB>>",
    "f": "<(1 &#8722; O<SUB>31</SUB><SUP>2</SUP>) &#183; w<SUP>3</SUP><SUB>11</SUB>>",
}
TEXT = re.compile(r"<text ([^>]*)>([^<]*)</text>")


def scripted_graph() -> viz.ChainGraph:
    graph = viz.ChainGraph(name="labels")
    graph.attr("node", fontname="Helvetica", fontsize="14", shape="box")
    for name, label in LABELS.items():
        graph.node(name, label=label)
    graph.edge("w", "d", label="<e<SUB>1</SUB>>")
    graph.edge("d", "f")
    return graph


def graphviz_svg(graph: graphviz.Digraph) -> str:
    """What Graphviz itself writes for ``graph``, without chainrule's pass."""
    return graphviz.Source(graph.source).pipe(format="svg", encoding="utf-8")


def graphviz_widths(graph: graphviz.Digraph) -> dict[tuple[float, float], float]:
    """How wide Graphviz made each text of ``graph``: its own JSON layout, read here."""
    layout = json.loads(graphviz.Source(graph.source).pipe(format="json", encoding="utf-8"))
    found = {}
    for thing in [layout, *layout.get("objects", []), *layout.get("edges", [])]:
        for key in ("_ldraw_", "_hldraw_", "_tldraw_"):
            for op in thing.get(key, []):
                if op["op"] == "T":
                    found[(op["pt"][0], -op["pt"][1])] = op["width"]
    return found


def readable(graph: graphviz.Digraph) -> str:
    """Graphviz's SVG of ``graph`` through chainrule's pass, with Graphviz's text widths."""
    return readable_svg(graphviz_svg(graph), graphviz_widths(graph))


def attr(attrs: str, name: str) -> str | None:
    found = re.search(rf'(?<![\w-]){name}="([^"]*)"', attrs)
    return None if found is None else found[1]


def is_readable(svg: str) -> bool:
    """No script left to the browser's ``baseline-shift``, no tooltip of a DOT id."""
    return "baseline-shift" not in svg and "<title>" not in svg


def lines(svg: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every ``<text>`` in ``svg``: its attributes, and its pieces in order, each as
    (attributes, words): its own words first (attributes ``""``), then each ``<tspan>``."""
    found = []
    for attrs, inner in re.findall(r"<text ([^>]*)>(.*?)</text>", svg):
        head = inner.split("<", 1)[0]
        spans = re.findall(r"<tspan ?([^>]*)>([^<]*)</tspan>", inner)
        found.append((attrs, ([("", head)] if head else []) + spans))
    return found


def test_a_line_is_one_text_its_scripts_smaller_tspans_off_the_baseline(dot: str) -> None:
    graph = scripted_graph()
    raw = graphviz_svg(graph)
    written = TEXT.findall(raw)
    kinds = [attr(attrs, "baseline-shift") for attrs, _ in written]
    assert kinds.count("sub") == 5 and kinds.count("super") == 4  # Graphviz still does it
    drawn = lines(readable(graph))
    # each label is one line: one <text> each, as many as the labels, its pieces in order
    assert len(drawn) == len(LABELS) + 1
    pieces = [piece for _, line in drawn for piece in line]
    assert [words for _, words in pieces] == [words for _, words in written]
    widths = graphviz_widths(graph)
    at = 0
    for attrs, line in drawn:
        first = written[at][0]
        assert attr(attrs, "x") == attr(first, "x") and attr(attrs, "y") == attr(first, "y")
        # as wide as Graphviz made the line, from its first piece to the end of its last
        start = (float(attr(first, "x") or 0), float(attr(first, "y") or 0))
        last = written[at + len(line) - 1][0]
        end = (float(attr(last, "x") or 0), float(attr(last, "y") or 0))
        assert float(attr(attrs, "textLength") or 0) == pytest.approx(
            end[0] + widths[end] - start[0], abs=0.01
        )
        shift = 0.0
        for (new, _), (old, _), kind in zip(line, written[at:], kinds[at:], strict=False):
            assert attr(new, "x") is None and attr(new, "y") is None  # the text flows on
            shift += float(attr(new, "dy") or 0)  # SVG's y grows downwards
            size = float(attr(old, "font-size") or 0)
            if kind is None:
                assert shift == pytest.approx(0, abs=0.01) and attr(new, "font-size") is None
                continue
            assert shift == pytest.approx(DROP * size if kind == "sub" else -RAISE * size, abs=0.01)
            assert float(attr(new, "font-size") or 0) == pytest.approx(SCRIPT_SIZE * size, abs=0.01)
        at += len(line)


def test_pieces_of_a_table_apart_stay_apart(dot: str) -> None:
    # Two cells of a row at one height: the second starts where Graphviz put it, not where
    # the first ends; without Graphviz's widths, a script still joins its base.
    graph = viz.ChainGraph()
    graph.node(
        "row", shape="plain", label="<<TABLE><TR><TD>a<SUB>1</SUB></TD><TD>b</TD></TR></TABLE>>"
    )
    drawn = lines(readable(graph))
    assert [[words for _, words in line] for _, line in drawn] == [["a", "1"], ["b"]]
    (b,) = [attrs for attrs, words in TEXT.findall(graphviz_svg(graph)) if words == "b"]
    assert attr(drawn[1][0], "x") == attr(b, "x")
    alone = lines(readable_svg(graphviz_svg(graph)))
    assert [[words for _, words in line] for _, line in alone] == [["a", "1"], ["b"]]
    assert attr(alone[0][0], "textLength") is None  # nothing says how wide Graphviz made it


def test_a_piece_looks_as_written_and_a_script_without_a_base_stays_in_place(dot: str) -> None:
    graph = viz.ChainGraph()
    graph.node("bold", label="<<B>w</B><SUP>1</SUP>>")
    graph.node("red", label='<w<SUP><FONT COLOR="red">1</FONT></SUP>>')
    graph.node("alone", label="<<SUB>0</SUB>>")
    raw = graphviz_svg(graph)
    drawn = lines(readable(graph))
    assert [[words for _, words in line] for _, line in drawn] == [["w", "1"], ["w", "1"], ["0"]]
    assert attr(drawn[0][0], "font-weight") == "bold"
    assert attr(drawn[0][1][1][0], "font-weight") == "normal"  # the base is bold, not its script
    assert attr(drawn[1][1][1][0], "fill") == "red" and attr(drawn[1][0], "fill") is None
    attrs, [(span, _)] = drawn[2]
    (old,) = [a for a, words in TEXT.findall(raw) if words == "0"]
    assert attr(attrs, "x") == attr(old, "x") and attr(attrs, "y") == attr(old, "y")
    assert float(attr(span, "dy") or 0) > 0  # lowered
    assert "baseline-shift" not in attrs + span


def test_no_tooltip_names_a_dot_id_and_ids_and_classes_stay(dot: str) -> None:
    graph = scripted_graph()
    graph.node("long", label="x" * 30_000)  # cut short: its tooltip holds the full text
    raw = graphviz_svg(graph)
    assert "<title>w</title>" in raw and "<title>w&#45;&gt;d</title>" in raw
    svg = readable_svg(raw)
    assert "<title>" not in svg
    assert re.findall(r' (?:id|class)="[^"]*"', svg) == re.findall(r' (?:id|class)="[^"]*"', raw)
    assert re.search(r'<a xlink:title="x{100}', svg), "the builder's own tooltip stays"


def test_spaces_at_the_ends_of_a_text_are_kept(dot: str) -> None:
    kept = [
        "".join(words for _, words in line)
        for attrs, line in lines(readable(scripted_graph()))
        if 'xml:space="preserve"' in attrs
    ]
    assert kept == ["w111 = 0.5"]


def test_a_second_pass_changes_nothing_and_labels_that_look_like_svg_stay(dot: str) -> None:
    graph = scripted_graph()
    graph.node("tricky", label='baseline-shift="sub" <title>n1</title> <svg x="1">')
    svg = readable(graph)
    assert readable_svg(svg) == svg
    assert readable_svg(svg, graphviz_widths(graph)) == svg
    assert "baseline&#45;shift=&quot;sub&quot; &lt;title&gt;n1&lt;/title&gt; &lt;svg" in svg


def test_pipe_render_and_notebook_display_give_the_readable_svg(dot: str, tmp_path: Path) -> None:
    graph = scripted_graph()
    expected = readable(graph)
    assert graph.pipe(format="svg", encoding="utf-8") == expected
    assert graph.pipe(format="svg") == expected.encode("utf-8")
    graph.format = "svg"
    assert graph.pipe() == expected.encode("utf-8")
    assert graph._repr_mimebundle_()["image/svg+xml"] == expected
    assert graph._repr_mimebundle_(include=["image/svg+xml"])["image/svg+xml"] == expected
    rendered = graph.render(tmp_path / "labels")  # format "svg", set above
    assert Path(rendered).read_text(encoding="utf-8") == expected
    assert not (tmp_path / "labels").exists(), "the DOT file is cleaned up"
    graph.format = "pdf"
    rendered = graph.render(outfile=tmp_path / "named.svg")  # the format from the suffix
    assert Path(rendered).read_text(encoding="utf-8") == expected


def test_a_viewer_opens_the_readable_file(
    dot: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(
        graphviz, "view", lambda path, quiet=False: opened.append(Path(path).read_text("utf-8"))
    )
    graph = scripted_graph()
    graph.format = "svg"
    graph.view(tmp_path / "labels")
    assert opened == [readable(graph)]


def test_png_is_graphvizs_own(dot: str, tmp_path: Path) -> None:
    # Graphviz's own renderer draws scripts right; its PNG is left exactly as it is.
    graph = scripted_graph()
    png = graphviz.Source(graph.source).pipe(format="png")
    assert graph.pipe(format="png") == png
    rendered = graph.render(tmp_path / "labels", format="png")
    assert Path(rendered).read_bytes() == png


def test_frames_and_the_explorer_are_readable(dot: str, tmp_path: Path) -> None:
    x = Value(3.0, label="x^1_11")
    y = x * x + x
    y.label = "y_1"
    frames = viz.backward_frames(y)
    assert "baseline-shift" in graphviz_svg(frames[0])
    written = viz.write_frames(frames, tmp_path, format="svg")
    svgs = [path.read_text(encoding="utf-8") for path in written]
    assert svgs and all(is_readable(svg) for svg in svgs)
    strip = frames._repr_html_()
    assert strip.count("<svg") == len(frames) and is_readable(strip)
    page = viz.explorer(y).html
    assert page.count("<svg") == 1
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert is_readable(svg) and 'id="node_n0"' in svg


def test_the_demos_pictures_are_readable(dot: str, tmp_path: Path) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    written = write_demo_graphs(model, demo_sample_loss(model, 0), tmp_path)
    svgs = [path for path in written if path.suffix == ".svg"]
    assert {path.stem for path in svgs} >= {"graph_loss", "network", "paths_w1_11"}
    for path in svgs:
        assert is_readable(path.read_text(encoding="utf-8")), path.name
