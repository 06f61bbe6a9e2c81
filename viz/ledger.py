"""The ledger of a gradient, written out: text, LaTeX, Markdown and HTML from one place.

A ledger is what :func:`viz.explain` finds, written as the lecture notes write it: the
sum over every path of the products of local derivatives (common factors pulled out),
the same with the numbers put in, the total and what ``backward()`` computed, then a
``where`` block that gives each local derivative as a formula, with its values put in::

    dh/dx = dh/dF * dF/dx + dh/dg * dg/dx
          = 0.995055 * 6 + 9 * 0.00986604
          = 6.05912  (sum over 2 paths)
            6.05912  from backward(): agrees
    where
      dh/dF = g                          = 0.995055
      dF/dx = 2 * x   = 2 * 3            = 6
      ...

Each format has one entry point: :func:`text`, :func:`latex`, :func:`markdown`,
:func:`graphviz` (a picture's caption, in Graphviz's HTML-like labels) and
:func:`browser` (tables for a web page). :func:`sent_lines` writes one step of the
backward pass in the same words, for the frames of :func:`viz.backward_frames`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from autograd import Value, op_named
from viz._drawing import html_table
from viz._labels import (
    browser_html,
    counted,
    html_number,
    html_symbol,
    latex_symbol,
    markdown_text,
    number,
)
from viz.steps import BackwardStep, Contribution, Step
from viz.symbolic import Digits, Formula, NodeFormulas, digits_to_show

__all__ = [
    "BrowserLedger",
    "Expr",
    "Holes",
    "Path",
    "Product",
    "Rule",
    "Sum",
    "browser",
    "browser_template",
    "formula_template",
    "graphviz",
    "latex",
    "markdown",
    "sent_lines",
    "text",
]

DIGITS = 6  # significant digits of the ledger's numbers
_WRAP = 110  # characters per line of a picture's ledger


@dataclass(frozen=True)
class Path:
    """A path from the root down to ``wrt``; its contribution is :attr:`product`.

    >>> import viz
    >>> x = Value(3.0, label="x"); F = x * x; F.label = "F"; h = F * 2.0; h.label = "h"
    >>> (path,) = viz.explain(h, x, level="neuron").paths
    >>> [s.derivative for s in path.steps], path.product  # dh/dF * dF/dx
    ([2.0, 6.0], 12.0)
    """

    steps: tuple[Step, ...]

    @property
    def nodes(self) -> tuple[Value, ...]:
        """The Values along the path, root first.

        >>> import viz
        >>> x = Value(3.0, label="x"); F = x * x; F.label = "F"; h = F * 2.0; h.label = "h"
        >>> [node.label for node in viz.explain(h, x, level="neuron").paths[0].nodes]
        ['h', 'F', 'x']
        """
        return (self.steps[0].child, *(s.parent for s in self.steps))

    @property
    def product(self) -> float:
        """The product of the local derivatives along the path.

        >>> import viz
        >>> x = Value(0.5, label="x"); h = (x * 4.0).tanh()
        >>> round(viz.explain(h, x).paths[0].product, 6)  # 4 * (1 - tanh(2)^2)
        0.282603
        """
        return math.prod(s.derivative for s in self.steps)


@dataclass(frozen=True)
class Product:
    """Factors multiplied: each a local derivative (a :class:`viz.Step`) or a :class:`Sum`."""

    factors: tuple[Expr, ...]


@dataclass(frozen=True)
class Sum:
    """Branches added up: where paths part, each branch's product."""

    terms: tuple[Expr, ...]


# The sum over paths with common factors pulled out, as the ledger's first line writes it.
Expr = Step | Product | Sum


class Rule(Protocol):
    """What a ledger is written from: :class:`viz.ChainRule` is one.

    d(``root``)/d(``wrt``) is the sum over ``paths``, written as ``expression`` (common
    factors pulled out); ``total`` is that sum, ``grad`` what ``backward()`` computed and
    ``agrees`` whether the two match. ``factors()`` lists each local derivative once;
    with ``formulas`` on, those that carry a formula make the ``where`` block. ``names``
    names every Value.
    """

    root: Value
    wrt: Value
    names: dict[Value, str]
    paths: tuple[Path, ...]
    expression: Expr
    total: float
    grad: float
    formulas: bool

    @property
    def agrees(self) -> bool: ...

    def factors(self) -> list[Step]: ...


@dataclass(frozen=True)
class _Style:
    """How one format writes the pieces of a ledger."""

    symbol: Callable[[str], str]  # a Value's name
    number: Callable[[float, int], str]
    times: str
    brackets: tuple[str, str]
    fraction: Callable[[str, str], str]  # d(top)/d(bottom), from the two written names
    formula: Callable[[Formula, bool, Digits], str]  # a formula, with or without values
    arrow: str  # "sent to"
    strong: Callable[[str], str]  # the number a line arrives at
    space: str

    def d(self, names: Mapping[Value, str], top: Value, bottom: Value) -> str:
        """d(``top``)/d(``bottom``) in this format."""
        return self.fraction(self.symbol(names[top]), self.symbol(names[bottom]))


_TEXT = _Style(
    symbol=str,
    number=number,
    times=" * ",
    brackets=("(", ")"),
    fraction=lambda top, bottom: f"d{top}/d{bottom}",
    formula=lambda f, values, digits: f.text(values=values, digits=digits),
    arrow="->",
    strong=str,
    space=" ",
)
_LATEX = _Style(
    symbol=latex_symbol,
    number=number,
    times=r" \cdot ",
    brackets=(r"\left(", r"\right)"),
    fraction=lambda top, bottom: rf"\frac{{\partial {top}}}{{\partial {bottom}}}",
    formula=lambda f, values, digits: f.latex(values=values, digits=digits),
    arrow=r"\to",
    strong=lambda shown: rf"\mathbf{{{shown}}}",
    space=r"\ ",
)
_HTML = _Style(
    symbol=html_symbol,
    number=html_number,
    times=" &#183; ",
    brackets=("(", ")"),
    fraction=lambda top, bottom: f"d{top}/d{bottom}",
    formula=lambda f, values, digits: f.html(values=values, digits=digits),
    arrow="&#8594;",
    strong=lambda shown: f"<B>{shown}</B>",
    space="&#160;",
)

Token = tuple[str, str]  # a piece of a ledger line: as the format writes it, as plain text


def _tokens(
    expr: Expr, leaf: Callable[[Step], Token], style: _Style, skip_ones: bool
) -> list[Token]:
    """``expr`` as pieces, each step written by ``leaf``; a negative number and a sum
    inside a product are bracketed. With ``skip_ones`` the factors that are exactly 1
    are left out."""
    opening, closing = style.brackets
    if isinstance(expr, Step):
        shown, plain = leaf(expr)
        if plain.startswith("-"):
            return [(f"{opening}{shown}{closing}", f"({plain})")]
        return [(shown, plain)]
    if isinstance(expr, Sum):
        out: list[Token] = []
        for i, term in enumerate(expr.terms):
            out += ([(" + ", " + ")] if i else []) + _tokens(term, leaf, style, skip_ones)
        return out
    factors = [
        f for f in expr.factors if not (skip_ones and isinstance(f, Step) and f.derivative == 1.0)
    ]
    if not factors:
        return [("1", "1")]
    out = []
    for i, factor in enumerate(factors):
        inner = _tokens(factor, leaf, style, skip_ones)
        if isinstance(factor, Sum) and len(factors) > 1:
            inner = [(opening, "("), *inner, (closing, ")")]
        out += ([(style.times, " * ")] if i else []) + inner
    return out


def _leaves(rule: Rule, style: _Style) -> tuple[Callable[[Step], Token], Callable[[Step], Token]]:
    """How a step is written in the ledger's symbolic line, and in its line of numbers."""

    def symbol(step: Step) -> Token:
        names = rule.names
        return style.d(names, step.child, step.parent), _TEXT.d(names, step.child, step.parent)

    def value(step: Step) -> Token:
        return style.number(step.derivative, DIGITS), number(step.derivative, DIGITS)

    return symbol, value


def _line(expr: Expr, leaf: Callable[[Step], Token], style: _Style) -> str:
    return "".join(shown for shown, _ in _tokens(expr, leaf, style, skip_ones=False))


def _wrap(tokens: list[Token], width: int) -> list[str]:
    """Tokens packed into lines of at most ``width`` characters, broken after an operator."""
    lines: list[str] = []
    shown, plain = "", ""
    for piece, piece_plain in tokens:
        if len(plain) + len(piece_plain) > width and plain.endswith((" * ", " + ")):
            lines.append(shown)
            shown, plain = "", ""
        shown += piece
        plain += piece_plain
    lines.append(shown)
    return lines


class _Formulas:
    """Each step's local derivative as a formula: its own (a neuron-level step carries
    one), or the op table's rule run on the names of the operation's operands."""

    def __init__(self, names: Mapping[Value, str]) -> None:
        # Every node a symbol: an operation's derivative in terms of its own operands.
        self.nodes = NodeFormulas(list(names), dict(names), lambda node: True)

    def __call__(self, step: Step) -> Formula | None:
        if step.formula is not None or step.slot is None:
            return step.formula
        return self.nodes.local(step.child, step.slot)

    def operation(self, step: Step) -> Formula | None:
        """What the step's operation computes, from its operands' names (``-O_31`` for
        ``O_31 * -1``); None for a neuron-level step."""
        if step.slot is None:
            return None
        return op_named(step.child.op)(*(self.nodes(p) for p in step.child.parents))


class _WhereLine(NamedTuple):
    """A local derivative the ``where`` block writes out: its formula or, for a plain
    number, the operation it is the derivative of (``d(-O_31)/dO_31 = -1``)."""

    step: Step
    formula: Formula
    operation: Formula | None


def _where(rule: Rule) -> list[_WhereLine]:
    """The local derivatives the ``where`` block writes out: each that has a formula
    other than a plain number, and each plain number but 1 (the derivative of a ``+``)
    that an operation with a constant gives (``-1`` from ``y - O_31``), with the
    operation it comes from."""
    if not rule.formulas:
        return []
    formula_of = _Formulas(rule.names)
    where = []
    for step in rule.factors():
        formula = formula_of(step)
        if formula is None:
            continue
        if formula.kind != "number":
            where.append(_WhereLine(step, formula, None))
            continue
        operation = formula_of.operation(step)
        if operation is not None and step.derivative != 1.0:
            where.append(_WhereLine(step, formula, operation))
    return where


def _formula_cell(line: _WhereLine, names: Mapping[Value, str], style: _Style) -> str:
    """A where line's formula: the formula, or d(the operation)/d(the operand)."""
    if line.operation is None:
        return style.formula(line.formula, False, 4)
    left, right = style.brackets
    written = f"{left}{style.formula(line.operation, False, 4)}{right}"
    return style.fraction(written, style.symbol(names[line.step.parent]))


def _where_cells(rule: Rule, style: _Style) -> list[tuple[str, str, str, str]]:
    """Each line of the ``where`` block: the derivative, its formula, the formula with the
    values put in ("" for a formula that is one named Value or a number) and the result;
    a line the same as one above (``dF/dx`` of ``F = x * x``, once per operand) is left
    out.

    The values get as many digits as it takes for every line's arithmetic to give the
    result it shows (see :func:`viz.symbolic.digits_to_show`).
    """
    where = _where(rule)
    digits = digits_to_show(
        [
            (line.formula, line.step.derivative, DIGITS, 1.0)
            for line in where
            if line.formula.kind not in ("symbol", "number")
        ]
    )
    cells = (
        (
            style.d(rule.names, line.step.child, line.step.parent),
            _formula_cell(line, rule.names, style),
            ""
            if line.formula.kind in ("symbol", "number")
            else style.formula(line.formula, True, digits),
            style.number(line.step.derivative, DIGITS),
        )
        for line in where
    )
    return list(dict.fromkeys(cells))


def _verdict(rule: Rule) -> str:
    return "agrees" if rule.agrees else "DIFFERS"


def text(rule: Rule) -> str:
    """The ledger as plain text, columns aligned: what ``str(rule)`` prints.

    >>> import viz
    >>> from autograd import Value
    >>> x = Value(3.0, label="x"); h = x * x; h.label = "h"
    >>> print(text(viz.explain(h, x)))
    dh/dx = dh/dx + dh/dx
          = 3 + 3
          = 6  (sum over 2 paths)
            6  from backward(): agrees
    where
      dh/dx = x = 3
    """
    head = _TEXT.d(rule.names, rule.root, rule.wrt)
    pad = " " * len(head)
    symbol, value = _leaves(rule, _TEXT)
    lines = [
        f"{head} = {_line(rule.expression, symbol, _TEXT)}",
        f"{pad} = {_line(rule.expression, value, _TEXT)}",
        f"{pad} = {number(rule.total, DIGITS)}  (sum over {counted(len(rule.paths), 'path')})",
        f"{pad}   {number(rule.grad, DIGITS)}  from backward(): {_verdict(rule)}",
    ]
    rows = _where_cells(rule, _TEXT)
    if rows:
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines.append("where")
        for symbol_text, formula, values, result in rows:
            # A factor that is one named Value (dh/dF = g) needs no line of numbers.
            middle = f" = {values.ljust(widths[2])}" if values else " " * (widths[2] + 3)
            middle = middle if widths[2] else ""
            lines.append(
                f"  {symbol_text.ljust(widths[0])} = {formula.ljust(widths[1])}{middle} = {result}"
            )
    return "\n".join(lines)


def latex(rule: Rule) -> str:
    """The ledger as a LaTeX ``aligned`` block (symbols, numbers, sum, backward, where).

    >>> import viz
    >>> from autograd import Value
    >>> x = Value(3.0, label="x"); h = x * x; h.label = "h"
    >>> print(latex(viz.explain(h, x)))
    \\begin{aligned}
    \\frac{\\partial h}{\\partial x} &= \\frac{\\partial h}{\\partial x} + \\frac{\\partial h}{\\partial x} \\\\
    &= 3 + 3 \\\\
    &= 6 \\quad \\text{(sum over 2 paths; backward: 6)} \\\\
    &\\text{where} \\\\
    \\frac{\\partial h}{\\partial x} &= x = 3
    \\end{aligned}
    """  # noqa: E501
    head = _LATEX.d(rule.names, rule.root, rule.wrt)
    backward = number(rule.grad, DIGITS)
    symbol, value = _leaves(rule, _LATEX)
    paths = counted(len(rule.paths), "path")
    body = [
        rf"{head} &= {_line(rule.expression, symbol, _LATEX)} \\",
        rf"&= {_line(rule.expression, value, _LATEX)} \\",
        rf"&= {number(rule.total, DIGITS)} \quad "
        rf"\text{{(sum over {paths}; backward: {backward})}}",
    ]
    rows = _where_cells(rule, _LATEX)
    if rows:
        body[-1] += r" \\"
        body.append(r"&\text{where} \\")
        for i, (symbol_latex, formula, values, result) in enumerate(rows):
            end = r" \\" if i < len(rows) - 1 else ""
            put_in = f" = {values}" if values else ""
            body.append(rf"{symbol_latex} &= {formula}{put_in} = {result}{end}")
    return "\n".join([r"\begin{aligned}", *body, r"\end{aligned}"])


def markdown(rule: Rule) -> str:
    """The ledger as display math, then a table of the paths and their products.

    >>> import viz
    >>> from autograd import Value
    >>> x = Value(3.0, label="x"); h = x * x; h.label = "h"
    >>> print(markdown(viz.explain(h, x)).splitlines()[-1])
    | 2 | h -> x | 3 | 3 |
    """
    lines = ["$$", latex(rule), "$$", ""]
    lines.append("| path | nodes | local derivatives | product |")
    lines.append("|---|---|---|---|")
    for i, path in enumerate(rule.paths, start=1):
        derivatives = " &times; ".join(number(s.derivative, DIGITS) for s in path.steps)
        nodes = " -> ".join(markdown_text(rule.names[node]) for node in path.nodes)
        lines.append(f"| {i} | {nodes} | {derivatives} | {number(path.product, DIGITS)} |")
    return "\n".join(lines)


Row = tuple[str, ...]  # the cells of one row of a table, in Graphviz's HTML-like labels


def _html_rows(
    rule: Rule, skip_ones: bool, width: int, holes: Holes | None = None
) -> tuple[list[Row], list[Row]]:
    """The ledger as rows of HTML cells (Graphviz's HTML-like subset, which a browser
    also reads): the sum over paths, its lines wrapped at ``width`` characters, then its
    ``where`` block (no rows if none). ``skip_ones`` leaves out the factors that are
    exactly 1 (the local derivatives of ``+``), and a line says so. With ``holes``, every
    number that depends on the values is a hole (see :func:`browser_template`)."""
    head = _HTML.d(rule.names, rule.root, rule.wrt)
    symbol, value = _leaves(rule, _HTML)
    total, grad, verdict = (
        html_number(rule.total, DIGITS),
        html_number(rule.grad, DIGITS),
        _verdict(rule),
    )
    if holes is not None:
        total, grad, verdict = holes.total, holes.grad, holes.verdict

        def value(step: Step) -> Token:
            return holes.derivative(step), _HOLE_PLAIN

    rows: list[Row] = []
    for n, leaf in enumerate((symbol, value)):
        for i, line in enumerate(_wrap(_tokens(rule.expression, leaf, _HTML, skip_ones), width)):
            rows.append((head if n == i == 0 else "", "" if i else "=", line))
    rows.append(("", "=", f"{total}  (sum over {counted(len(rule.paths), 'path')})"))
    rows.append(("", "", f"{grad}  from backward(): {verdict}"))
    if skip_ones and any(s.derivative == 1.0 for p in rule.paths for s in p.steps):
        rows.append(("", "", '<FONT COLOR="#6b7280">factors equal to 1 (from +) left out</FONT>'))
    cells = _where_cells(rule, _HTML) if holes is None else _where_holes(rule, holes)
    where_rows: list[Row] = [("where",)] if cells else []
    for symbol_html, formula, values, result in cells:
        put_in = ("=", values) if values else ()
        where_rows.append((symbol_html, "=", formula, *put_in, "=", result))
    return rows, where_rows


def graphviz(rule: Rule, *, skip_ones: bool) -> str:
    """The ledger as a picture's caption: a Graphviz HTML-like label with real sub- and
    superscripts and aligned columns, the ``where`` block to the right of the sum (so
    that the caption stays low); long lines wrap after a `` * `` or `` + ``.

    ``skip_ones`` leaves out the factors that are exactly 1 (the local derivatives of
    ``+``), and a line says so.

    >>> import viz
    >>> from autograd import Value
    >>> x = Value(3.0, label="x"); h = x * x; h.label = "h"
    >>> graphviz(viz.explain(h, x), skip_ones=False).startswith("<<TABLE")
    True
    """
    rows, where_rows = _html_rows(rule, skip_ones, _WRAP)
    # One table, the two blocks side by side: a table inside a table cell would be
    # stretched to the cell's width, spreading the where block's columns apart.
    gap = "&#160;" * 6
    side_by_side: list[Row] = []
    for i in range(max(len(rows), len(where_rows))):
        left = rows[i] if i < len(rows) else ("", "", "")  # every row of the sum has 3
        right = where_rows[i] if i < len(where_rows) else ()
        side_by_side.append((*left, gap, *right))
    return f"<{html_table(side_by_side)}>"


class BrowserLedger(NamedTuple):
    """The ledger as two HTML tables for a web page, and how many rows each has."""

    sum_html: str  # the sum over paths, down to backward's verdict
    where_html: str  # the where block ("" when there is none)
    sum_rows: int
    where_rows: int


def _browser_table(rows: list[Row]) -> str:
    """Rows of cells (Graphviz HTML) as a browser's table, a short row's last cell spanning."""
    if not rows:
        return ""
    columns = max(len(row) for row in rows)
    body = []
    for row in rows:
        cells = [f"<td>{browser_html(cell)}</td>" for cell in row[:-1]]
        span = columns - len(row) + 1
        cells.append(f'<td colspan="{span}">{browser_html(row[-1])}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table>{''.join(body)}</table>"


def browser(rule: Rule, *, skip_ones: bool, width: int) -> BrowserLedger:
    """The ledger as the tables of a web page (lines of the sum wrapped at ``width``
    characters): the same cells as :func:`graphviz`, in a browser's HTML.

    >>> import viz
    >>> from autograd import Value
    >>> x = Value(3.0, label="x"); h = x * x; h.label = "h"
    >>> page = browser(viz.explain(h, x), skip_ones=False, width=60)
    >>> page.sum_rows, page.where_rows, page.sum_html.startswith("<table><tr><td>dh/dx</td>")
    (4, 2, True)
    """
    rows, where_rows = _html_rows(rule, skip_ones, width)
    return BrowserLedger(
        _browser_table(rows), _browser_table(where_rows), len(rows), len(where_rows)
    )


@dataclass(frozen=True)
class Holes:
    """How :func:`browser_template` writes the numbers a live page fills in: each is an
    HTML element (such as ``<span data-h="...">``) that the page's script finds.

    ``derivative(step)`` stands for a local derivative's value as a factor (bracketed if
    negative), ``result(step)`` for the same standing alone, ``symbol(name)`` for the
    value of a formula's symbol (a factor); ``total``, ``grad`` and ``verdict`` for the
    sum over paths, the gradient from backward and whether the two agree.
    """

    derivative: Callable[[Step], str]
    result: Callable[[Step], str]
    symbol: Callable[[str], str]
    total: str
    grad: str
    verdict: str


# What a number left to the page counts as when lines are wrapped
_HOLE_PLAIN = "(-0.12345)"  # not starting with "-": the page brackets a negative value


def formula_template(formula: Formula, hole: Callable[[str], str]) -> str:
    """``formula`` in HTML with each symbol replaced by ``hole(its name)``: the formula with
    its values put in, the values left to a page (a negative one is bracketed there).

    >>> o = Formula.symbol("O_11", 0.5)
    >>> formula_template(1.0 - o * o, lambda name: f"[{name}]")
    '1 &#8722; [O_11]<SUP>2</SUP>'
    """
    names: list[str] = []

    def renamed(f: Formula) -> Formula:
        if f.kind == "symbol":
            names.append(f.name)
            return Formula("symbol", f.data, name=f"\u27e6{len(names) - 1}\u27e7")
        return Formula(f.kind, f.data, f.name, tuple(renamed(a) for a in f.args), f.function)

    written = renamed(formula).html()
    for i, name in enumerate(names):
        written = written.replace(f"\u27e6{i}\u27e7", hole(name))
    return written


def browser_template(rule: Rule, *, skip_ones: bool, width: int, holes: Holes) -> BrowserLedger:
    """:func:`browser`'s tables with every number that depends on the values left to a
    page, which computes them itself: the sum over paths in symbols (as :func:`browser`
    writes it), the same with a hole for each local derivative, the total, what backward
    gives and the verdict, then the ``where`` block, each formula also with holes for its
    symbols' values.

    >>> import viz
    >>> from autograd import Value
    >>> x = Value(3.0, label="x"); h = x * x; h.label = "h"
    >>> slot = lambda s: f"[d{s.slot}]"
    >>> holes = Holes(slot, slot, lambda name: f"[{name}]", "[t]", "[g]", "[v]")
    >>> page = browser_template(viz.explain(h, x), skip_ones=False, width=60, holes=holes)
    >>> "<td>=</td><td colspan=\\"1\\">[d0] + [d1]</td>" in page.sum_html
    True
    """
    rows, where_rows = _html_rows(rule, skip_ones, width, holes)
    return BrowserLedger(
        _browser_table(rows), _browser_table(where_rows), len(rows), len(where_rows)
    )


def _where_holes(rule: Rule, holes: Holes) -> list[tuple[str, str, str, str]]:
    """:func:`_where_cells` with holes: each formula's values and result left to a page."""
    cells = (
        (
            _HTML.d(rule.names, line.step.child, line.step.parent),
            _formula_cell(line, rule.names, _HTML),
            ""
            if line.formula.kind in ("symbol", "number")
            else formula_template(line.formula, holes.symbol),
            holes.result(line.step),
        )
        for line in _where(rule)
    )
    # dF/dx of F = x * x, once per operand, is one line: the same name and formula
    lines: dict[tuple[str, str], tuple[str, str, str, str]] = {}
    for cell in cells:
        lines.setdefault(cell[:2], cell)
    return list(lines.values())


def sent_lines(step: BackwardStep, names: Mapping[Value, str]) -> list[tuple[str, str]]:
    """What ``step`` of a backward pass sends, one line per edge, in Graphviz HTML and in
    plain text: ``dL/dA * dA/dB = grad * local = contribution -> B``, where a local
    derivative with a formula is also written as the formula, then with its values put
    in (as many digits as each line's arithmetic needs; one count per value in a step).

    >>> from autograd import topological_order
    >>> from viz.steps import backward_steps
    >>> from viz._labels import node_names
    >>> x = Value(0.5, label="x"); y = (x * x).tanh(); y.label = "y"
    >>> step = backward_steps(y, level="neuron")[1]
    >>> for _, plain in sent_lines(step, node_names(topological_order(y))): print(plain)
       dy/dy * dy/dx = 1 * 2 * (1 - y^2) * x = 1 * 2 * (1 - 0.2449^2) * 0.5 = 0.94 -> x
    """
    if step.node is None:
        return []
    formula_of = _Formulas(names)
    formulas = [formula_of(sent.edge) for sent in step.sent]
    digits = digits_to_show(
        [
            (formula, sent.value, 4, sent.grad)
            for sent, formula in zip(step.sent, formulas, strict=True)
            if formula is not None and formula.kind not in ("symbol", "number")
        ]
    )
    return [
        (
            _sent_line(step, sent, formula, names, digits, _HTML),
            _sent_line(step, sent, formula, names, digits, _TEXT),
        )
        for sent, formula in zip(step.sent, formulas, strict=True)
    ]


def _sent_line(
    step: BackwardStep,
    sent: Contribution,
    formula: Formula | None,
    names: Mapping[Value, str],
    digits: dict[str, int],
    style: _Style,
) -> str:
    node, root, parent = sent.edge.child, step.nodes[-1], sent.edge.parent
    times = style.times
    line = f"{style.d(names, root, node)}{times}{style.d(names, node, parent)} = "
    line += f"{style.number(sent.grad, 4)}{times}"
    if formula is not None:
        # Brackets where the formula would otherwise not read as one factor.
        bracketed = formula.kind == "sum" or formula.text().startswith("-")
        opening, closing = ("(", ")") if bracketed else ("", "")
        line += f"{opening}{style.formula(formula, False, 4)}{closing} = "
        if formula.kind not in ("symbol", "number"):
            put_in = style.formula(formula, True, digits)
            grad_digits = digits.get("", 4)  # the gradient counts as a number
            line += f"{style.number(sent.grad, grad_digits)}{times}{opening}{put_in}{closing} = "
    shown = style.strong(style.number(sent.value, 4))
    return f"{style.space * 3}{line}{shown} {style.arrow} {style.symbol(names[parent])}"
