"""Graphviz's SVG made to read right in every browser, also as an ``<img>``: the one pass
that every SVG chainrule returns or writes goes through (``ChainGraph.pipe`` and
``ChainGraph.render`` apply it; notebooks, frames, the demo and the explorer use those).

Three things Graphviz writes that a browser does not draw as Graphviz meant:

- the ``<SUB>`` and ``<SUP>`` of an HTML-like label are ``<text>`` elements of their own,
  full size, with ``baseline-shift``, which SVG defines only on ``<tspan>``: Firefox
  ignores it, Chromium shifts them at full size into the lines above and below;
- a run of text that starts with a space (`` = 0.5`` after ``w^1_11``) loses it, as SVG
  drops a text's leading spaces: ``=`` is drawn where Graphviz put the space;
- every node, edge and cluster has a ``<title>`` holding its DOT name (``n25``,
  ``n0->n25``), which a browser shows as the tooltip on hover.

A line's pieces become one ``<text>`` that the browser draws from the line's start, each
script a smaller ``<tspan>`` moved off the baseline, the whole line stretched to the width
Graphviz gave it (``textLength``). Graphviz lays text out with each glyph's advance rounded
to whole pixels, most of all in a small script, so a browser's pieces are a few percent
wider or narrower than Graphviz's: drawn where Graphviz put them they stood apart, with a
gap after every script. Which pieces make one line, Graphviz's layout says (its JSON has
every piece's width, :func:`text_widths`): a piece continues a line where the piece before
it ends; the next cell of a table starts elsewhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["readable_svg", "text_widths"]

# A script's size and how far its baseline moves, as fractions of its base's font size:
# raised and lowered within the room a line leaves (the explorer's rows leave 2 points
# above and below a name).
SCRIPT_SIZE = 0.75
RAISE = 0.28  # a superscript's baseline, up
DROP = 0.22  # a subscript's baseline, down

# Texts that Graphviz wrote one after another, each on its own line of the file.
_TEXTS = re.compile(r"<text [^>]*>[^<]*</text>(?:\n<text [^>]*>[^<]*</text>)*")
_TEXT = re.compile(r"<text ([^>]*)>([^<]*)</text>")
_ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')
# How a piece may look unlike the line's first piece, and how it looks when Graphviz says
# nothing.
_LOOK = {"font-family": "serif", "font-weight": "normal", "font-style": "normal",
         "text-decoration": "none", "fill": "black"}  # fmt: skip
# Every <title> Graphviz writes names a DOT id: the graph's, a node's, an edge's, a cluster's.
# A label cut short for dot keeps its full text in Graphviz's own tooltip (<a xlink:title>).
_TITLE = re.compile(r"<title>[^<]*</title>\n?")

# Where a text starts in the SVG (its x and y as written, y growing downwards).
Point = tuple[float, float]


def text_widths(layout: str) -> dict[Point, float]:
    """The width Graphviz gave each text, by where it starts, from Graphviz's JSON layout
    (``dot -Tjson``) of the same graph.

    >>> layout = '{"objects": [{"_ldraw_": [{"op": "T", "pt": [12.5, 47.9], "width": 7.0}]}]}'
    >>> text_widths(layout)
    {(12.5, -47.9): 7.0}
    """
    return {
        (round(op["pt"][0], 2), round(-op["pt"][1], 2)): float(op["width"])
        for op in _drawn(json.loads(layout))
        if op.get("op") == "T"
    }


def _drawn(tree: Any) -> Iterator[dict[str, Any]]:
    """Every drawing operation in a JSON layout: the graph's, its clusters', nodes', edges'."""
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _drawn(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _drawn(value)


def readable_svg(svg: str, widths: Mapping[Point, float] | None = None) -> str:
    """``svg`` as Graphviz wrote it, drawn in a browser as Graphviz meant it: each line of
    a label one text, its sub- and superscripts smaller, raised or lowered, right after
    their base, the line as wide as Graphviz made it; the spaces of every text kept; no
    tooltips naming DOT ids. ``widths`` (:func:`text_widths` of the same layout) says
    which pieces make one line; without it a script joins the text before it. Ids,
    classes and every other element stay as they are, and a second pass changes nothing.

    >>> print(readable_svg('<text text-anchor="start" x="1" y="-20" font-size="12.00">w</text>\\n'
    ...                    '<text text-anchor="start" x="9" y="-20" baseline-shift="sub" '
    ...                    'font-size="12.00">11</text>\\n'
    ...                    '<text text-anchor="start" x="20" y="-20" font-size="12.00">/d</text>',
    ...                    {(1, -20): 8, (9, -20): 11, (20, -20): 12}))
    ... # doctest: +NORMALIZE_WHITESPACE
    <text text-anchor="start" x="1" y="-20" font-size="12.00" textLength="31.00"
      lengthAdjust="spacingAndGlyphs"><tspan>w</tspan><tspan dy="2.64"
      font-size="9.00">11</tspan><tspan dy="-2.64">/d</tspan></text>
    >>> readable_svg('<text x="19" y="-20" font-size="12.00"> = 0.5</text>')
    '<text x="19" y="-20" font-size="12.00" xml:space="preserve"> = 0.5</text>'
    >>> readable_svg('<g id="node1" class="node">\\n<title>n25</title>\\n</g>')
    '<g id="node1" class="node">\\n</g>'
    """
    known = widths or {}
    return _TITLE.sub("", _TEXTS.sub(lambda texts: _lines(texts[0], known), svg))


def _lines(texts: str, widths: Mapping[Point, float]) -> str:
    """Texts Graphviz wrote one after another, each line of them as one ``<text>``."""
    pieces = [(dict(_ATTRIBUTE.findall(attrs)), words) for attrs, words in _TEXT.findall(texts)]
    lines: list[list[tuple[dict[str, str], str]]] = []
    for piece in pieces:
        if lines and _continues(lines[-1][-1][0], piece[0], widths):
            lines[-1].append(piece)
        else:
            lines.append([piece])
    return "\n".join(_line(line, widths) for line in lines)


def _continues(
    before: dict[str, str], piece: dict[str, str], widths: Mapping[Point, float]
) -> bool:
    """Whether Graphviz wrote ``piece`` right where the text ``before`` it ends."""
    if piece.get("y") != before.get("y") or not _from_start(before) or not _from_start(piece):
        return False
    width = widths.get(_start(before))
    if width is None or _start(piece) not in widths:
        return "baseline-shift" in piece
    return abs(_start(before)[0] + width - _start(piece)[0]) < 0.01


def _from_start(attrs: dict[str, str]) -> bool:
    return attrs.get("text-anchor", "start") == "start" and "x" in attrs and "y" in attrs


def _start(attrs: dict[str, str]) -> Point:
    return round(float(attrs.get("x", 0)), 2), round(float(attrs.get("y", 0)), 2)


def _line(line: list[tuple[dict[str, str], str]], widths: Mapping[Point, float]) -> str:
    """One line of a label: its first piece's ``<text>``, the rest ``<tspan>`` elements
    that follow on from it, scripts smaller and off the baseline."""
    attrs = {name: value for name, value in line[0][0].items() if name != "baseline-shift"}
    # SVG drops these spaces unless told to keep them; a root's xml:space does not reach
    # into a <text> in Chromium, so each text that needs it says so.
    if any(re.search(r"^ | $|  ", words) for _, words in line):
        attrs.setdefault("xml:space", "preserve")
    drawn = [widths.get(_start(piece)) for piece, _ in line]
    if len(line) > 1 and None not in drawn:
        attrs["textLength"] = f"{sum(w for w in drawn if w is not None):.2f}"
        attrs["lengthAdjust"] = "spacingAndGlyphs"
    body, shift = "", 0.0
    for piece, words in line:
        look = _unlike(piece, attrs)
        size = float(piece.get("font-size", 14))  # Graphviz's default font size
        moved = {"super": -RAISE * size, "sub": DROP * size}.get(
            piece.get("baseline-shift", ""), 0.0
        )
        if round(moved - shift, 2):
            look = {"dy": f"{moved - shift:.2f}", **look}
        if moved:
            look["font-size"] = f"{SCRIPT_SIZE * size:.2f}"
        elif piece.get("font-size") != attrs.get("font-size"):
            look["font-size"] = f"{size:.2f}"
        shift = moved
        body += f"<tspan{_written(look)}>{words}</tspan>" if look or len(line) > 1 else words
    return f"<text{_written(attrs)}>{body}</text>"


def _unlike(piece: dict[str, str], first: dict[str, str]) -> dict[str, str]:
    """How a piece looks that the line's first does not: bold, italic, a colour, a font."""
    return {
        name: piece.get(name, normal)
        for name, normal in _LOOK.items()
        if piece.get(name) != first.get(name)
    }


def _written(attrs: dict[str, str]) -> str:
    return "".join(f' {name}="{value}"' for name, value in attrs.items())
