"""Text for the pictures and ledgers: numbers, safe HTML labels, symbols, node names.

Every number goes through :func:`number` so output is byte-identical run to run; every
user string goes through :func:`html_text` so that no label can break the DOT syntax or
the layout.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from autograd import Value

__all__ = ["Symbol", "html_text", "latex_symbol", "node_names", "number", "html_symbol"]

# A name like w^1_11, w^1_{10,3}, O_31, x_2, L, optionally followed by "[2]" (which of
# several nodes sharing one label).
_SYMBOL = re.compile(
    r"^(?P<base>[A-Za-z]+)"
    r"(?:\^(?P<sup>\{[^{}]*\}|[^_^{}\[\]]+))?"
    r"(?:_(?P<sub>\{[^{}]*\}|[^_^{}\[\]]+))?"
    r"(?P<copy>\[\d+\])?$"
)
# C0 control characters other than tab and newline would make the DOT file invalid.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def number(x: float, digits: int = 4) -> str:
    """``x`` with ``digits`` significant digits, the same text on every run and platform.

    >>> number(3.14159), number(-0.0), number(1234567.0), number(0.5, digits=6)
    ('3.142', '0', '1.235e+06', '0.5')
    """
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


def html_text(text: str) -> str:
    """``text`` escaped for a Graphviz HTML-like label; newlines become line breaks.

    >>> print(html_text('a<b> & "c" \\\\N\\nd'))
    a&lt;b&gt; &amp; &quot;c&quot; \\\\N<BR/>d
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("\ufffd", text)
    # dot expands escapes such as \N (the node's name) even in HTML labels, after
    # entities are decoded; a doubled backslash is the one form it prints literally.
    text = text.replace("\\", "\\\\")
    return "<BR/>".join(html.escape(line, quote=True) for line in text.split("\n"))


class Symbol(NamedTuple):
    """A name split into base, superscript, subscript and copy marker ("" when absent)."""

    base: str
    sup: str
    sub: str
    copy: str


def _symbol(name: str) -> Symbol | None:
    match = _SYMBOL.match(name)
    if match is None:
        return None
    parts = [match.group(key) or "" for key in ("base", "sup", "sub", "copy")]
    base, sup, sub, copy = (p[1:-1] if p.startswith("{") else p for p in parts)
    return Symbol(base, sup, sub, copy)


def html_symbol(name: str) -> str:
    """``name`` as HTML with real sub- and superscripts when it reads like ``w^1_11``.

    >>> html_symbol("w^1_11"), html_symbol("O_31"), html_symbol("a<b")
    ('w<SUP>1</SUP><SUB>11</SUB>', 'O<SUB>31</SUB>', 'a&lt;b')
    """
    symbol = _symbol(name)
    if symbol is None:
        return html_text(name)
    out = html_text(symbol.base)
    if symbol.sup:
        out += f"<SUP>{html_text(symbol.sup)}</SUP>"
    if symbol.sub:
        out += f"<SUB>{html_text(symbol.sub)}</SUB>"
    return out + html_text(symbol.copy)


_LATEX_SPECIAL = {c: "\\" + c for c in "#$%&_{}"}
_LATEX_SPECIAL.update({"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"})


def latex_symbol(name: str) -> str:
    """``name`` in LaTeX math: ``w^1_11`` becomes ``w^{1}_{11}``; anything else is text.

    >>> latex_symbol("w^1_{10,3}"), latex_symbol("O_31[2]"), latex_symbol("loss 1%")
    ('w^{1}_{10,3}', 'O_{31}[2]', '\\\\text{loss 1\\\\%}')
    """
    symbol = _symbol(name)
    if symbol is None:
        escaped = "".join(_LATEX_SPECIAL.get(c, c) for c in name.replace("\n", " "))
        return rf"\text{{{escaped}}}"
    out = symbol.base
    if symbol.sup:
        out += f"^{{{symbol.sup}}}"
    if symbol.sub:
        out += f"_{{{symbol.sub}}}"
    return out + symbol.copy


def node_names(order: Sequence[Value]) -> dict[Value, str]:
    """A distinct name for every node: its label, or ``v_1``, ``v_2``, ... in ``order``.

    Unlabelled nodes are numbered without gaps; an unnamed constant (drawn as its number)
    is named by its value and takes no number. Labels that several nodes share get
    ``[1]``, ``[2]``, ... in order, as the output ``O_31`` of one network does after a
    forward pass on each of several samples.

    >>> a = Value(1.0, label="a"); b = Value(2.0, label="a")
    >>> from autograd import topological_order
    >>> list(node_names(topological_order(a * b + a * 2.0)).values())
    ['a[1]', 'a[2]', 'v_1', '2', 'v_2', 'v_3']
    """
    raw = []
    unnamed = 0
    for node in order:
        if node.label:
            raw.append(node.label)
        elif node.parents or node.requires_grad:
            unnamed += 1
            raw.append(f"v_{unnamed}")
        else:
            raw.append(number(node.data))
    total = Counter(raw)
    seen: Counter[str] = Counter()
    names: dict[Value, str] = {}
    for node, name in zip(order, raw, strict=True):
        if total[name] > 1 and (node.label or node.parents or node.requires_grad):
            seen[name] += 1
            name = f"{name}[{seen[name]}]"
        names[node] = name
    return names
