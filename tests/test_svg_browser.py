"""Our SVG as Chromium draws it: sub- and superscripts smaller than their base and moved
off its baseline, no two runs of text on top of each other, spaces kept; and the same
picture as an ``<img>`` (a notebook's stored output, a slide) drawn as the page draws it.

Each ``<text>`` is matched with what Graphviz wrote for it (a ``baseline-shift`` marks a
script), so the test knows which run is a script without trusting what it checks.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import graphviz
import pytest
from browser import chromium
from PIL import Image
from test_svg import TEXT, attr, graphviz_svg, graphviz_widths, scripted_graph

import nn
import viz
from chainrule.examples import demo_sample_loss
from viz._drawing import FONT

# Every run of text in document order (a <text>'s own words, then each <tspan>): its box
# on the screen, its words, the node or edge it belongs to, and whether the browser lays
# out every character of its <text> (it drops spaces it is not told to keep). A <tspan>'s
# own box: a range's box would not show a base drawn in the width its textLength gives.
RUNS = """() => [...document.querySelectorAll("svg text")].flatMap((text) =>
  [...text.childNodes].map((part) => {
    const range = document.createRange();
    range.selectNodeContents(part);
    const r = part.nodeType === Node.ELEMENT_NODE
      ? part.getBoundingClientRect() : range.getBoundingClientRect();
    return {
      box: [r.left, r.top, r.right, r.bottom],
      words: part.textContent,
      group: text.closest("g[id]").id,
      spaced: text.getNumberOfChars() === text.textContent.length,
    };
  })
)"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def paths_picture() -> viz.ChainGraph:
    """The demo's paths to w^1_11 between neurons: a ledger of many scripted lines."""
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, 0)
    loss.backward()
    return viz.draw_paths(loss, model.weight(1, 1, 1), level="neuron")


PICTURES = {"labels": scripted_graph, "paths": paths_picture}


def in_chromium(browser: Any, graph: viz.ChainGraph, folder: Path, script: str) -> list[Any]:
    """What ``script`` finds on a page that shows ``graph``'s SVG inline."""
    svg = graph.pipe(format="svg", encoding="utf-8")
    html = folder / "page.html"
    html.write_text(f"<!DOCTYPE html><body>{svg[svg.index('<svg') :]}</body>", encoding="utf-8")
    page = browser.new_page(viewport={"width": 1600, "height": 900}, device_scale_factor=2)
    try:
        page.goto(html.as_uri())
        found: list[Any] = page.evaluate(script)
        return found
    finally:
        page.close()


def overlap(a: list[float], b: list[float]) -> float:
    """How far two boxes overlap, the lesser of across and down (0 when apart)."""
    across = min(a[2], b[2]) - max(a[0], b[0])
    down = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, min(across, down))


@pytest.mark.parametrize("name", PICTURES)
def test_scripts_are_smaller_and_off_the_baseline_and_runs_do_not_overlap(
    dot: str, browser: Any, tmp_path: Path, name: str
) -> None:
    graph = PICTURES[name]()
    runs = in_chromium(browser, graph, tmp_path, RUNS)
    written = TEXT.findall(graphviz_svg(graph))
    assert [run["words"] for run in runs] == [html.unescape(words) for _, words in written]
    kinds = [attr(attrs, "baseline-shift") for attrs, _ in written]
    assert kinds.count("sub") >= 5 and kinds.count("super") >= 4
    base = previous = runs[0]
    for run, kind in zip(runs, kinds, strict=True):
        assert run["spaced"], f"spaces dropped around {run['words']!r}"
        if kind is None:
            base = previous = run
            continue
        assert run["group"] == base["group"], (run, base)
        # right after its base (or the script before it), as the browser draws the base
        assert abs(run["box"][0] - previous["box"][2]) < 1.5, (run, previous)
        previous = run
        height, base_height = run["box"][3] - run["box"][1], base["box"][3] - base["box"][1]
        assert height < 0.85 * base_height, (run, base)
        # off the base's baseline: its middle lower or higher by a tenth of the base's height
        middle = (run["box"][1] + run["box"][3]) / 2
        base_middle = (base["box"][1] + base["box"][3]) / 2
        if kind == "sub":
            assert middle > base_middle + 0.1 * base_height, (run, base)
        else:
            assert middle < base_middle - 0.1 * base_height, (run, base)
    # Within a node or an edge, no two boxes overlap (but for a run of spaces, which has no
    # ink: a line of the ledger may reach into the spaces that keep its columns apart).
    # A glyph's box, stretched to the line's width, reaches up to a pixel past its advance.
    inked = [run for run in runs if run["words"].strip()]
    for i, run in enumerate(inked):
        for other in inked[i + 1 :]:
            if other["group"] == run["group"]:
                assert overlap(run["box"], other["box"]) < 1.5, (run, other)


# Where the browser lays out each run of text (as RUNS), from its first character's start
# to its last character's end, in the picture's own units: the advances, not the glyphs'
# boxes (a stretched glyph's box reaches a pixel past its advance).
SPANS = """() => [...document.querySelectorAll("svg text")].flatMap((text) => {
  let at = 0;
  return [...text.childNodes].map((part) => {
    const n = part.textContent.length, first = at;
    at += n;
    return [text.getStartPositionOfChar(first).x, text.getEndPositionOfChar(first + n - 1).x];
  });
})"""


@pytest.mark.parametrize("name", PICTURES)
def test_a_line_reads_without_gaps_as_wide_as_graphviz_made_it(
    dot: str, browser: Any, tmp_path: Path, name: str
) -> None:
    # Graphviz's layout says which pieces make a line: each starts where the one before it
    # ends. In the browser no gap opens between them (a script and what follows it stood
    # up to 7 points apart), and the line ends where Graphviz ended it.
    graph = PICTURES[name]()
    spans = in_chromium(browser, graph, tmp_path, SPANS)
    widths = graphviz_widths(graph)
    pieces = []
    for attrs, _ in TEXT.findall(graphviz_svg(graph)):
        x, y = float(attr(attrs, "x") or 0), float(attr(attrs, "y") or 0)
        pieces.append((x, y, widths[(x, y)], attr(attrs, "text-anchor")))
    assert len(pieces) == len(spans)
    joined = line_start = 0
    for i, ((x, y, width, anchor), (_, end)) in enumerate(zip(pieces, spans, strict=True)):
        after = pieces[i + 1] if i + 1 < len(pieces) else None
        if after and anchor == "start" and after[1] == y and after[0] == x + width:
            joined += 1
            assert abs(spans[i + 1][0] - end) < 0.1, (i, pieces[i : i + 2], spans[i : i + 2])
            continue
        if i > line_start:  # a line of several pieces ends where Graphviz ended it
            assert end == pytest.approx(x + width, abs=0.1), (pieces[line_start : i + 1], spans)
        line_start = i + 1
    assert joined >= 6


def test_an_img_of_the_svg_is_drawn_as_the_page_draws_it(
    dot: str, browser: Any, tmp_path: Path
) -> None:
    # A notebook's stored picture and a slide's are an <img>: no page CSS reaches inside
    # it and nothing runs there; the file alone must draw the scripts.
    svg = scripted_graph().pipe(format="svg", encoding="utf-8")
    picture = tmp_path / "labels.svg"
    picture.write_text(svg, encoding="utf-8")
    style = "<style>body{margin:0} svg,img{display:block}</style>"
    pages = {
        "inline": f"{style}{svg[svg.index('<svg') :]}",
        "img": f'{style}<img src="{picture.name}">',
    }
    shots = []
    page = browser.new_page(viewport={"width": 800, "height": 600}, device_scale_factor=2)
    try:
        for kind, body in pages.items():
            path = tmp_path / f"{kind}.html"
            path.write_text(f"<!DOCTYPE html><body>{body}</body>", encoding="utf-8")
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            # Under load an <img> may still be decoding, or the page's fonts loading, at
            # "load": wait for both, so that the two shots show finished drawings.
            page.evaluate(
                "async () => { await document.fonts.ready;"
                " for (const img of document.images) await img.decode(); }"
            )
            shot = page.locator("svg, img").first.screenshot()
            shots.append(Image.open(io.BytesIO(shot)).convert("L"))
    finally:
        page.close()
    # The same pixels, but for the smoothing of glyphs' edges (an <img> is drawn without
    # subpixel smoothing): Graphviz's own SVG as an <img> differs in 1.7% of its pixels.
    assert shots[0].size == shots[1].size
    differing = [abs(a - b) > 96 for a, b in zip(*(s.tobytes() for s in shots), strict=True)]
    assert sum(differing) < 0.002 * len(differing)


def test_graphviz_measures_the_pictures_font_as_the_browser_draws_it(
    dot: str, browser: Any
) -> None:
    # Graphviz lays text out in the width it measures; a browser draws an SVG's text in
    # the font it finds for the name. Under a name Graphviz resolves through a table of its
    # own (Helvetica: DejaVu Sans on Linux, where a browser draws Liberation Sans) the
    # browser's text was 13% narrower: scripts stood apart from their bases.
    line = "dL/dO = -2 * (y - O) = (-3.82163) * (0.149527 + 0.193846) from backward()"
    page = browser.new_page()
    try:
        for size in (9, 10, 11, 12):
            source = (
                f'digraph {{ a [shape=plaintext margin=0 fontname="{FONT}" fontsize={size} '
                f'label="{line}"] }}'
            )
            xdot = graphviz.Source(source).pipe(format="xdot", encoding="utf-8")
            measured = re.search(r"T [\d.]+ [\d.-]+ -?\d ([\d.]+) \d+ -", xdot)
            assert measured is not None, xdot
            drawn = page.evaluate(
                """([text, size, font]) => {
                  const context = document.createElement("canvas").getContext("2d");
                  context.font = `${size}px ${font}`;
                  return context.measureText(text).width;
                }""",
                [line, size, FONT],
            )
            # Graphviz rounds each glyph's advance to a whole pixel: a few percent apart
            assert 0.95 < drawn / float(measured[1]) < 1.05, (size, drawn, measured[1])
    finally:
        page.close()
