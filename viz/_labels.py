"""Text for the pictures and ledgers: numbers, safe HTML labels, symbols, node names.

Names are read and written in the lecture notes' notation by :mod:`nn.notation`; this
module prints them (HTML, LaTeX) and names the Values a graph leaves unlabelled.

Every number goes through :func:`number` so output is byte-identical run to run; every
user string goes through :func:`html_text` so that no label can break the DOT syntax or
the layout.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from autograd import Value, op_named
from nn.notation import is_output_label, node_label, parse_label, pre_activation_of, with_copy

__all__ = [
    "DOT_STRING_LIMIT",
    "SHOWN_LINE_CHARS",
    "browser_html",
    "counted",
    "fit_label",
    "html_number",
    "html_symbol",
    "html_text",
    "is_inline_constant",
    "latex_symbol",
    "markdown_text",
    "node_formula",
    "node_names",
    "number",
    "shorten",
]

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


def html_number(x: float, digits: int = 4) -> str:
    """:func:`number` for an HTML label: the minus sign a true minus (U+2212), as the
    formulas beside it write theirs.

    >>> html_number(-0.5714), html_number(-1.2e-05, 2)
    ('&#8722;0.5714', '&#8722;1.2e&#8722;05')
    """
    return number(x, digits).replace("-", "&#8722;")


def html_text(text: str) -> str:
    """``text`` escaped for a Graphviz HTML-like label; newlines become line breaks.

    A tab, which Graphviz would drop, shows as ``\u21e5``.

    >>> print(html_text('a<b> & "c" \\\\N\\nd\\te'))
    a&lt;b&gt; &amp; &quot;c&quot; \\\\N<BR/>d\u21e5e
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "\u21e5")
    text = _CONTROL.sub("\ufffd", text)
    # dot expands escapes such as \N (the node's name) even in HTML labels, after
    # entities are decoded; a doubled backslash is the one form it prints literally.
    text = text.replace("\\", "\\\\")
    return "<BR/>".join(html.escape(line, quote=True) for line in text.split("\n"))


# Graphviz's dot rejects a quoted or HTML string of 16384 characters or more (its scanner's
# buffer); a label is kept below that with room to spare.
DOT_STRING_LIMIT = 16000
# How much of an over-long label is still shown: lines of at most this many characters,
# at most this many lines.
SHOWN_LINE_CHARS = 120
_SHOWN_LINES = 40
_TAG = re.compile(r"<[^<>]*>")
_TAG_SPLIT = re.compile(r"(<[^<>]*>)")
_LINE_TAG = re.compile(r"<BR[^<>]*>|</TR>", re.IGNORECASE)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when it was longer.

    >>> shorten("abcdef", 4), shorten("abc", 4)
    ('abc\u2026', 'abc')
    """
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def fit_label(label: str) -> tuple[str, str | None]:
    """A DOT label that ``dot`` accepts, and the full text for a tooltip if it was cut.

    A label (HTML-like ``<...>`` or plain) shorter than :data:`DOT_STRING_LIMIT` is
    returned as it is. In a longer HTML label each run of text longer than
    :data:`SHOWN_LINE_CHARS` is shortened with an ellipsis, the markup kept (a Value's
    box keeps its data and grad rows). If that is still too long, or the label is plain,
    it is drawn as its lines of text, each shortened, at most 40. The tooltip holds the
    text in full, as far as it fits in a DOT string.

    >>> fit_label("<<B>x</B>>")
    ('<<B>x</B>>', None)
    >>> shown, tooltip = fit_label("<<B>" + "x" * 20000 + "</B><BR/>data 2>")
    >>> shown == "<<B>" + "x" * 119 + "\u2026</B><BR/>data 2>", len(tooltip) < DOT_STRING_LIMIT
    (True, True)
    """
    if len(label) < DOT_STRING_LIMIT:
        return label, None
    html_like = label.startswith("<") and label.endswith(">")
    text = label
    if html_like:
        # The text the HTML shows: one line per <BR/> or table row, tags dropped.
        text = _TAG.sub(" ", _LINE_TAG.sub("\n", label[1:-1]))
        text = html.unescape(text.replace("\\\\", "\\"))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    lines = [line for line in lines if line]
    # The tooltip is a quoted DOT string, where a backslash starts an escape: doubled,
    # it shows as itself. Half the limit leaves room for that and for escaped quotes.
    tooltip = shorten("\n".join(lines), DOT_STRING_LIMIT // 2).replace("\\", "\\\\")
    if html_like:
        # Split keeps the tags at odd positions; only the text between them is cut.
        parts = _TAG_SPLIT.split(label[1:-1])
        kept = "".join(p if i % 2 else _shorten_run(p) for i, p in enumerate(parts))
        if len(kept) + 2 < DOT_STRING_LIMIT:
            return f"<{kept}>", tooltip
    shown = [shorten(line, SHOWN_LINE_CHARS) for line in lines[:_SHOWN_LINES]]
    if len(lines) > _SHOWN_LINES:
        shown.append(f"\u2026 ({len(lines) - _SHOWN_LINES} more lines)")
    return "<" + "<BR/>".join(html_text(line) for line in shown) + ">", tooltip


def _shorten_run(run: str) -> str:
    """A run of escaped HTML text, shortened to :data:`SHOWN_LINE_CHARS` as it shows."""
    text = html.unescape(run.replace("\\\\", "\\"))
    if len(text) <= SHOWN_LINE_CHARS:
        return run
    # A ledger line is indented as deep as its first line is long: keep what follows.
    body = text.lstrip(" ")
    indent = " " * min(len(text) - len(body), SHOWN_LINE_CHARS)
    return html_text(indent + shorten(body, SHOWN_LINE_CHARS))


def html_symbol(name: str) -> str:
    """``name`` as HTML with real sub- and superscripts when it reads like ``w^1_11``.

    >>> html_symbol("w^1_11"), html_symbol("O_31"), html_symbol("a<b")
    ('w<SUP>1</SUP><SUB>11</SUB>', 'O<SUB>31</SUB>', 'a&lt;b')
    """
    parsed = parse_label(name)
    if parsed is None:
        return html_text(name)
    out = html_text(parsed.base)
    if parsed.sup:
        out += f"<SUP>{html_text(parsed.sup)}</SUP>"
    if parsed.sub:
        out += f"<SUB>{html_text(parsed.sub)}</SUB>"
    return out + html_text(parsed.copy_mark)


_LATEX_SPECIAL = {c: "\\" + c for c in "#$%&_{}"}
_LATEX_SPECIAL.update({"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"})
# Characters that print as something else in LaTeX's default text font.
_LATEX_SPECIAL.update({"<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"})
# What may stand in a sub- or superscript as it is; anything else is written as text.
_LATEX_SCRIPT = re.compile(r"[A-Za-z0-9,.+\-' ]*")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def latex_symbol(name: str) -> str:
    """``name`` in LaTeX math: ``w^1_11`` becomes ``w^{1}_{11}``; anything else is text.

    >>> latex_symbol("w^1_{10,3}"), latex_symbol("O_31[2]"), latex_symbol("loss 1%")
    ('w^{1}_{10,3}', 'O_{31}[2]', '\\\\text{loss 1\\\\%}')
    """
    parsed = parse_label(name)
    scripts = (parsed.base, parsed.sup, parsed.sub) if parsed else ()
    if parsed is None or not all(_LATEX_SCRIPT.fullmatch(part) for part in scripts):
        flat = " ".join(name.split())  # newlines and tabs: a blank line would end the math
        escaped = "".join(_LATEX_SPECIAL.get(c, c) for c in flat)
        return rf"\text{{{escaped}}}"
    out = parsed.base
    if parsed.sup:
        out += f"^{{{parsed.sup}}}"
    if parsed.sub:
        out += f"_{{{parsed.sub}}}"
    return out + parsed.copy_mark


def markdown_text(text: str) -> str:
    """``text`` as inline Markdown that shows exactly these characters, on one line.

    HTML is escaped, Markdown's markup characters and the table's ``|`` are
    backslash-escaped, and a line break becomes ``<br>``.

    >>> print(markdown_text("a<b>|*c*\\nw^1_11"))
    a&lt;b&gt;\\|\\*c\\*<br>w^1\\_11
    """
    text = html.escape(text.replace("\r\n", "\n").replace("\r", "\n"), quote=False)
    return "<br>".join(_MARKDOWN_SPECIAL.sub(r"\\\1", line) for line in text.split("\n"))


def node_names(order: Sequence[Value]) -> dict[Value, str]:
    """A distinct name for every node: its label, or a name in the lecture notes' notation.

    The sum that a neuron's activation reads, unlabelled, is ``z_kj`` after its output
    ``O_kj`` (unless the graph labels sums ``z_kj`` itself). Other unlabelled nodes are
    ``v_1``, ``v_2``, ... in ``order``, numbered without gaps; an unnamed constant (drawn
    as its number) is named by its value and takes no number. Labels that several nodes
    share get ``[1]``, ``[2]``, ... in order, as the output ``O_31`` of one network does
    after a forward pass on each of several samples (its ``z_31`` follows it).

    >>> a = Value(1.0, label="a"); b = Value(2.0, label="a")
    >>> from autograd import topological_order
    >>> list(node_names(topological_order(a * b + a * 2.0)).values())
    ['a[1]', 'a[2]', 'v_1', '2', 'v_2', 'v_3']
    >>> o = (a * 3.0 + 1.0).tanh(); o.label = "O_11"
    >>> list(node_names(topological_order(o)).values())
    ['a', '3', 'v_1', '1', 'z_11', 'O_11']
    """
    sums = _activation_inputs(order)
    raw = []
    unnamed = 0
    for node in order:
        if node.label:
            raw.append(node.label)
        elif node in sums:
            raw.append("")  # named after its output, below
        elif is_inline_constant(node):
            raw.append(number(node.data))
        else:
            unnamed += 1
            raw.append(node_label(unnamed))
    total = Counter(raw)
    seen: Counter[str] = Counter()
    names: dict[Value, str] = {}
    for node, name in zip(order, raw, strict=True):
        if total[name] > 1 and not is_inline_constant(node) and node not in sums:
            seen[name] += 1
            name = with_copy(name, seen[name])
        names[node] = name
    for inner, output in sums.items():
        names[inner] = pre_activation_of(names[output]) or names[inner]
    return names


def _activation_inputs(order: Sequence[Value]) -> dict[Value, Value]:
    """The unlabelled sums that neuron outputs ``O_kj`` are the activation of, each with
    its output; none when the graph labels some sum ``z_kj`` itself."""
    labels = [parse_label(node.label) for node in order if node.label]
    if any(label is not None and label.kind == "pre_activation" for label in labels):
        return {}
    sums: dict[Value, Value] = {}
    for node in order:
        if node.label and is_output_label(node.label) and len(node.parents) == 1:
            (inner,) = node.parents
            if not inner.label and inner.parents and inner not in sums:
                sums[inner] = node
    return sums


def is_inline_constant(node: Value) -> bool:
    """Whether ``node`` is an unnamed constant (such as the 2 of ``x ** 2``), which pictures
    and formulas write as its number rather than as a node of its own.

    >>> is_inline_constant(Value(2.0, requires_grad=False)), is_inline_constant(Value(2.0))
    (True, False)
    """
    return not (node.label or node.parents or node.requires_grad)


def node_formula(
    node: Value, names: Mapping[Value, str], symbol: Callable[[str], str] = str
) -> str:
    """How ``node`` is computed, e.g. ``v_1 + a`` or ``tanh(x)``; ``leaf`` for inputs.

    ``names`` names the operands (see :func:`node_names`); ``symbol`` writes each name
    (:func:`html_symbol` for HTML).

    >>> a = Value(0.5, label="a"); b = (a * 2.0).tanh()
    >>> names = node_names([a, b.parents[0], b])
    >>> node_formula(b.parents[0], names), node_formula(b, names), node_formula(a, names)
    ('a * 2', 'tanh(v_1)', 'leaf')
    """
    operands = [number(p.data) if is_inline_constant(p) else symbol(names[p]) for p in node.parents]
    if not node.parents:
        return "leaf" if node.requires_grad else "constant"
    return op_named(node.op).written(operands)  # as its row of the op table prints it


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1.

    >>> counted(1, "path"), counted(3, "path")
    ('1 path', '3 paths')
    """
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def browser_html(fragment: str) -> str:
    """A fragment of Graphviz's HTML-like labels as browser HTML: the same tags and
    entities, but a backslash, doubled for dot (see :func:`html_text`), single.

    >>> print(html_text("a\\\\b"), browser_html(html_text("a\\\\b")))
    a\\\\b a\\b
    """
    return fragment.replace("\\\\", "\\")
