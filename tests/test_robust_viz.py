"""Issue 9 in viz: refusals whose suggestions can be followed, and text that shows what
the user wrote, in Markdown and LaTeX as in the pictures."""

from __future__ import annotations

import re
import time

import pytest

import nn
import viz
from autograd import Value
from viz._labels import latex_symbol, markdown_text


def _doubling(levels: int) -> tuple[Value, Value]:
    """y with 2 ** levels op-level paths down to x (two products per level)."""
    x = Value(1.0, label="x")
    y = x
    for _ in range(levels):
        y = y * 1.0 + y * 1.0
    y.label = "y"
    y.backward()
    return y, x


def _count_paths_by_brute_force(y: Value, x: Value) -> int:
    count, stack = 0, [y]
    while stack:
        node = stack.pop()
        if node is x:
            count += 1
        stack.extend(p for p in node.parents if p.requires_grad)
    return count


def test_the_suggested_max_paths_can_be_followed() -> None:
    y, x = _doubling(10)
    with pytest.raises(ValueError, match=r"Pass max_paths=(\d+)") as refused:
        viz.explain(y, x)
    suggested = re.search(r"max_paths=(\d+) to list", str(refused.value))
    assert suggested is not None
    rule = viz.explain(y, x, max_paths=int(suggested.group(1)))
    assert len(rule.paths) == _count_paths_by_brute_force(y, x) == 2**10
    assert rule.agrees


def test_paths_beyond_what_can_be_listed_are_refused_at_once_with_their_cost() -> None:
    y, x = _doubling(50)
    for max_paths in (1000, 2**60):  # following an old suggestion ran out of memory
        start = time.perf_counter()
        with pytest.raises(ValueError) as refused:
            viz.explain(y, x, max_paths=max_paths)
        assert time.perf_counter() - start < 5.0
        message = str(refused.value)
        assert f"{2**50} paths" in message and "too many to list" in message
        assert "Pass max_paths" not in message  # no suggestion that cannot finish
        # The steps: the paths through each of the 50 levels have 3 steps each (* then +,
        # and the first level's), counted, never listed.
        assert re.search(r"\(\d+ steps in all, about [\d.e+]+ s and [\d.e+]+ MB to list\)", message)
    # The neuron level it suggests is one path here: it finishes.
    assert len(viz.explain(y, x, level="neuron").paths) == 1


def test_markdown_shows_labels_as_written() -> None:
    x = Value(3.0, label="a<b>\nc|d*e_f")
    h = x * x
    h.label = "h"
    table = viz.explain(h, x).to_markdown().split("$$")[-1]
    row = table.strip().splitlines()[-1]
    assert row == r"| 2 | h -> a&lt;b&gt;<br>c\|d\*e\_f | 3 | 3 |"
    assert markdown_text("plain") == "plain"


@pytest.mark.parametrize(
    ("name", "latex"),
    [
        ("w^1_11", "w^{1}_{11}"),
        ("w^%_{\\}", r"\text{w\^{}\%\_\{\textbackslash{}\}}"),
        ("a<b>|c", r"\text{a\textless{}b\textgreater{}\textbar{}c}"),
        ("two\n\nlines\tand tab", r"\text{two lines and tab}"),
        ("O_31[2]", "O_{31}[2]"),
    ],
)
def test_latex_never_breaks_on_a_label(name: str, latex: str) -> None:
    assert latex_symbol(name) == latex


# --- labels too long for dot -------------------------------------------------------------

LONG = "x" * 19_999 + "END"  # past dot's limit of 16384 characters for one string


def _long_graphs() -> dict[str, viz.ChainGraph]:
    x = Value(2.0, label=LONG)
    y = x * x
    y.label = "y"
    y.backward()
    model = nn.MLP(2, [1], seed=0)
    model.weight(1, 1, 1).label = LONG
    model([1.0, 2.0]).backward()
    return {
        "draw_graph": viz.draw_graph(y),
        "draw_paths": viz.draw_paths(y, x),
        "draw_paths neuron": viz.draw_paths(y, x, level="neuron"),
        "backward_frames": viz.backward_frames(y)[-1],
        "draw_network": viz.draw_network(model),
    }


@pytest.mark.parametrize("builder", list(_long_graphs()))
def test_a_label_too_long_for_dot_is_shortened_visibly(builder: str, dot: str) -> None:
    graph = _long_graphs()[builder]
    # dot rejects a string of 16384 characters or more: the label whole would fail here
    svg = graph.pipe(format="svg", encoding="utf-8")
    assert "x" * 100 + "\u2026" in svg  # shown shortened, with an ellipsis
    assert "x" * 7000 in svg  # and at length in the tooltip (an SVG title)
    assert "x" * 16384 not in graph.source


def test_fit_label_keeps_short_labels_and_the_markup_of_long_ones() -> None:
    from viz._labels import DOT_STRING_LIMIT, fit_label

    short = "<" + "y" * (DOT_STRING_LIMIT - 3) + ">"
    assert fit_label(short) == (short, None)
    rows = "".join(f"<TR><TD>row {i}</TD></TR>" for i in range(3))
    shown, tooltip = fit_label(f"<<TABLE><TR><TD>{LONG}</TD></TR>{rows}</TABLE>>")
    assert shown == f"<<TABLE><TR><TD>{'x' * 119}\u2026</TD></TR>{rows}</TABLE>>"
    assert tooltip is not None and tooltip.startswith("x" * 1000)
    # Escaped text is cut as it shows, never inside an entity or a doubled backslash.
    shown, _ = fit_label("<<B>" + "&lt;\\\\" * 10_000 + "</B>>")
    assert shown == "<<B>" + "&lt;\\\\" * 59 + "&lt;\u2026</B>>"


def test_a_label_of_many_short_lines_is_cut_to_forty(dot: str) -> None:
    caption = "<" + "<BR/>".join(f"line {i}" for i in range(3000)) + ">"
    graph = viz.ChainGraph()
    graph.attr(label=caption)
    graph.node("a")
    svg = graph.pipe(format="svg", encoding="utf-8")
    assert ">line 39<" in svg and ">line 40<" not in svg
    assert "\u2026 (2960 more lines)" in svg


def test_tabs_in_labels_are_shown(dot: str) -> None:
    x = Value(1.0, label="a\tb")
    y = x * 2.0
    y.backward()
    svg = viz.draw_graph(y).pipe(format="svg", encoding="utf-8")
    assert "a\u21e5b" in svg
