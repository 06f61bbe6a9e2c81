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

A script becomes a smaller ``<tspan>`` of its base's ``<text>``. Graphviz lays text out
with each glyph's advance rounded to whole pixels, so a browser draws a run a few percent
wider or narrower than Graphviz measured it: the base is drawn in the width Graphviz gave
it (``textLength``), its first script where Graphviz put it, a second script right after
the first. Drawn smaller than Graphviz measured them, the scripts end before the run that
Graphviz placed after them, which keeps its place.
"""

from __future__ import annotations

import re

__all__ = ["readable_svg"]

# A script's size and how far its baseline moves, as fractions of its base's font size.
# Graphviz measures a script's width at 5/6 of full size: drawn smaller, a script ends
# before the run that Graphviz placed after it. Raised and lowered within the room a
# line leaves (the explorer's rows leave 2 points above and below a name).
SCRIPT_SIZE = 0.75
RAISE = 0.28  # a superscript's baseline, up
DROP = 0.22  # a subscript's baseline, down

# A run of text and the scripts Graphviz wrote right after it on the same baseline (a
# superscript and a subscript, in either order), or a text on its own.
_RUN = re.compile(
    r'<text (?=[^>]*\by="(?P<y>[^"]*)")(?P<attrs>[^>]*)>(?P<words>[^<]*)</text>'
    r'(?P<scripts>(?:\n<text (?=[^>]*\by="(?P=y)")[^>]*baseline-shift="[^"]*"[^>]*>[^<]*</text>)*)'
)
_TEXT = re.compile(r"<text ([^>]*)>([^<]*)</text>")
_ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')
# How a script may look unlike its base, and how it looks when Graphviz says nothing.
_LOOK = {"font-family": "serif", "font-weight": "normal", "font-style": "normal",
         "text-decoration": "none", "fill": "black"}  # fmt: skip
# Every <title> Graphviz writes names a DOT id: the graph's, a node's, an edge's, a cluster's.
# A label cut short for dot keeps its full text in Graphviz's own tooltip (<a xlink:title>).
_TITLE = re.compile(r"<title>[^<]*</title>\n?")


def readable_svg(svg: str) -> str:
    """``svg`` as Graphviz wrote it, drawn in a browser as Graphviz meant it: each sub- and
    superscript smaller, raised or lowered, right after its base (drawn in the width
    Graphviz gave it); the spaces of every text kept; no tooltips naming DOT ids. Ids,
    classes and every other element stay as they are, and a second pass changes nothing.

    >>> print(readable_svg('<text x="1" y="-20" font-size="12.00">w</text>\\n'
    ...                    '<text x="9" y="-20" baseline-shift="sub" font-size="12.00">11</text>'))
    ... # doctest: +NORMALIZE_WHITESPACE
    <text x="1" y="-20" font-size="12.00"><tspan textLength="8.00"
      lengthAdjust="spacingAndGlyphs">w</tspan><tspan x="9" y="-17.36"
      font-size="9.00">11</tspan></text>
    >>> readable_svg('<text x="19" y="-20" font-size="12.00"> = 0.5</text>')
    '<text x="19" y="-20" font-size="12.00" xml:space="preserve"> = 0.5</text>'
    >>> readable_svg('<g id="node1" class="node">\\n<title>n25</title>\\n</g>')
    '<g id="node1" class="node">\\n</g>'
    """
    return _TITLE.sub("", _RUN.sub(_run, svg))


def _run(match: re.Match[str]) -> str:
    """One ``<text>``: its scripts as ``<tspan>`` elements, its spaces kept."""
    attrs, words = dict(_ATTRIBUTE.findall(match["attrs"])), match["words"]
    scripts = [(dict(_ATTRIBUTE.findall(a)), w) for a, w in _TEXT.findall(match["scripts"])]
    if "baseline-shift" in attrs:  # a script with no base before it: where Graphviz put it
        attrs.update(_moved(attrs))
        del attrs["baseline-shift"]
    # SVG drops these spaces unless told to keep them; a root's xml:space does not reach
    # into a <text> in Chromium, so each text that needs it says so.
    if any(re.search(r"^ | $|  ", text) for text in [words, *(text for _, text in scripts)]):
        attrs.setdefault("xml:space", "preserve")
    looks = [{**_moved(script), **_unlike(script, attrs)} for script, _ in scripts]
    width = _width(attrs, scripts[0][0]) if scripts and words else None
    if width is not None:  # a browser's base would push its scripts off Graphviz's places
        words = f'<tspan textLength="{width:.2f}" lengthAdjust="spacingAndGlyphs">{words}</tspan>'
        looks[0] = {"x": scripts[0][0]["x"], **looks[0]}
    spans = zip(looks, (text for _, text in scripts), strict=True)
    body = words + "".join(f"<tspan {_written(look)}>{text}</tspan>" for look, text in spans)
    return f"<text {_written(attrs)}>{body}</text>"


def _width(base: dict[str, str], script: dict[str, str]) -> float | None:
    """The width Graphviz gave a base: up to where it put the first script after it
    (None for a base not written from its left end)."""
    if base.get("text-anchor", "start") != "start":
        return None
    width = float(script["x"]) - float(base["x"])
    return width if width > 0 else None


def _moved(script: dict[str, str]) -> dict[str, str]:
    """A script's baseline and size, from the ``<text>`` Graphviz wrote for it."""
    size = float(script.get("font-size", 14))  # Graphviz's default font size
    shift = -RAISE * size if script["baseline-shift"] == "super" else DROP * size
    y = float(script["y"]) + shift
    return {"y": f"{y:.2f}", "font-size": f"{SCRIPT_SIZE * size:.2f}"}


def _unlike(script: dict[str, str], base: dict[str, str]) -> dict[str, str]:
    """How a script looks that its base does not: bold, italic, a colour, another font."""
    return {
        name: script.get(name, normal)
        for name, normal in _LOOK.items()
        if script.get(name) != base.get(name)
    }


def _written(attrs: dict[str, str]) -> str:
    return " ".join(f'{name}="{value}"' for name, value in attrs.items())
