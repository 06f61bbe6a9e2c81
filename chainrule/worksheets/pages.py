"""The printed pages: each student's worksheet and answer key as HTML, one sheet per page.

One HTML source serves the screen, the printer and the PDF: every sheet is a
``<section class="page">`` that starts a new printed page and carries the student's
number and name in its head, so a sheet that comes loose from the pile still says whose
it is. The pictures are the library's own (``viz.draw_network``, ``viz.draw_graph``,
``viz.draw_paths``) as inline SVG; the key's ledgers are ``str(viz.explain(...))``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from importlib import resources

import nn
import viz
from autograd import __version__, topological_order
from chainrule.worksheets.exercises import (
    DECIMALS,
    FORWARD,
    ExpressionSheet,
    NetworkSheet,
    Question,
    gradient_step,
)
from nn.notation import input_label, is_output_label, loss_label

__all__ = ["PAPER_SIZES", "document", "expression_forward_text", "expression_key",
           "expression_page", "forward_pass_text", "gradient_step_text", "network_key",
           "network_page", "typeset"]  # fmt: skip

PAPER_SIZES = {"a4": "A4", "letter": "letter"}
_WORKED_DIGITS = 6  # significant digits of the key's worked lines, as the ledgers print


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _worked(x: float) -> str:
    """A number in a worked line of the key, as the ledgers print it: ``-0.336376``."""
    return f"{x:.{_WORKED_DIGITS}g}"


def _operand(x: float) -> str:
    """:func:`_worked` for a number in a product or after a minus: a negative one in
    brackets, as the ledgers write ``(-0.3) * 0.5``, so that no sign follows an operator."""
    text = _worked(x)
    return f"({text})" if text.startswith("-") else text


def answer_text(x: float) -> str:
    """An answer as the sheets ask for it: 4 decimal places.

    >>> answer_text(0.123456), answer_text(-2.0)
    ('0.1235', '-2.0000')
    """
    return f"{x:.{DECIMALS}f}"


def _svg(graph: viz.ChainGraph) -> str:
    """The graph as an inline ``<svg>`` element (``dot`` runs here)."""
    svg = graph.pipe(format="svg").decode("utf-8")
    return svg[svg.index("<svg") :].strip()


def _head(title: str, student: int, name: str, what: str, *, seed: int | None = None) -> str:
    """A page's head: the title, which sheet, and whose it is (a line to write the name
    on, unless it is known or the page is a key). A key also names its ``seed``; a
    student's sheet never does, since the seed and the tool make every key."""
    key = seed is not None
    if name:
        line = f"<div class='name'>{_esc(name)}</div>"
    else:
        line = "" if key else "<div>Name: <span class='blank-name'></span></div>"
    meta = f"{what} · seed {seed}" if key else what
    return (
        "<header class='head'>"
        f"<div><h1>{_esc(title)}</h1><div class='meta'>{_esc(meta)}</div></div>"
        f"<div class='who'><div class='number'>Student {student}</div>{line}</div>"
        "</header>"
    )


def typeset(qid: str) -> str:
    """A question id as HTML, typeset as the lecture notes write it.

    >>> typeset("dO_11/dw^1_11"), typeset("w^1_11 new"), typeset("dh/dx")
    ('dO<SUB>11</SUB>/dw<SUP>1</SUP><SUB>11</SUB>', 'w<SUP>1</SUP><SUB>11</SUB> new', 'dh/dx')
    """
    derivative = re.fullmatch(r"d(\S+)/d(\S+)", qid)
    if derivative:
        top, bottom = derivative.groups()
        return f"d{viz.html_symbol(top)}/d{viz.html_symbol(bottom)}"
    name, space, rest = qid.partition(" ")
    return viz.html_symbol(name) + space + _esc(rest)


def _boxes(questions: Sequence[Question], hints: dict[str, str] | None = None) -> str:
    """The answer boxes: each headed by its id typeset and, smaller, as the answers CSV's
    column names it where that is written otherwise; ``hints`` (HTML) by question id."""
    hints = hints or {}
    cells = []
    for q in questions:
        shown = typeset(q.id)
        column = "" if shown == _esc(q.id) else f"<span class='column'>{_esc(q.id)}</span>"
        hint = f"<span class='hint'>{hints[q.id]}</span>" if q.id in hints else ""
        cells.append(
            f"<div class='box'><div class='label'><span class='qid'>{shown}</span>{column}"
            f"</div>{hint}</div>"
        )
    return f"<div class='boxes'>{''.join(cells)}</div>"


def _matrix(sheet: NetworkSheet, k: int) -> str:
    """``w^k`` as the notes' matrix: row i (from neuron i below), column j (to neuron j)."""
    rows, cols = sheet.sizes[k - 1], sheet.sizes[k]
    head = "".join(f"<th>j = {j}</th>" for j in range(1, cols + 1))
    body = "".join(
        f"<tr><th>i = {i}</th>"
        + "".join(
            f"<td>{sheet.weights[nn.weight_label(k, i, j)]:g}</td>" for j in range(1, cols + 1)
        )
        + "</tr>"
        for i in range(1, rows + 1)
    )
    return (
        f"<table class='matrix'><caption>w<sup>{k}</sup><sub>ij</sub></caption>"
        f"<tr><th></th>{head}</tr>{body}</table>"
    )


def _givens(sheet: NetworkSheet) -> str:
    inputs = ", ".join(
        f"<span class='nowrap'>x_{i} = {x:g}</span>" for i, x in enumerate(sheet.inputs, start=1)
    )
    matrices = "".join(_matrix(sheet, k) for k in range(1, len(sheet.sizes)))
    return (
        f"<p class='sample'>The sample: <b>{inputs}</b>; the target "
        f"<b class='nowrap'>y = {sheet.target:g}</b>; the learning rate "
        f"<b class='nowrap'>eta = {sheet.eta:g}</b>.</p>"
        f"<div class='matrices'>{matrices}</div>"
    )


def _sections(
    sheet: NetworkSheet,
) -> tuple[list[Question], list[Question], list[Question], Question]:
    """The sheet's questions by part: forward pass, local derivatives, gradients, update."""
    forward = [q for q in sheet.questions if q.id == loss_label() or is_output_label(q.id)]
    gradients = [q for q in sheet.questions if q.id.startswith("dL/dw")]
    update = sheet.questions[-1]
    local = [q for q in sheet.questions if q not in forward + gradients + [update]]
    return forward, local, gradients, update


def network_page(sheet: NetworkSheet, *, name: str = "") -> str:
    """Sheet A of one student: the network, its numbers and the answer boxes."""
    forward, local, gradients, update = _sections(sheet)
    model = sheet.model()  # no forward pass yet: the picture shows no answers
    # On paper the edges' labels would be too small to read: the tables give the weights.
    # The page prints the picture at under half its size: its names are drawn large.
    picture = _svg(
        viz.draw_network(model, show="value", weight_labels=False, legend=False, name_size=24)
    )
    two, one = sheet.ledger(sheet.two_path), sheet.ledger(sheet.one_path)
    paths = "".join(
        f"<li><code>{_esc(rule.describe_path(p))}</code></li>"
        for rule in (two, one)
        for p in rule.paths
    )
    last = nn.output_label(len(sheet.sizes) - 1, 1)
    two_path = viz.html_symbol(sheet.two_path)
    hints = {
        f"dL/d{sheet.one_path}": "one path",
        f"dL/d{sheet.two_path}": "two paths: their sum",
        update.id: f"= {two_path} &#8722; &#951; &#183; dL/d{two_path}",
    }
    return (
        "<section class='page sheet'>"
        + _head("Backpropagation by hand: the network", sheet.student, name, "Sheet A")
        + f"<p class='intro'>{sheet.network_name.capitalize()}: neuron j of layer k outputs "
        "<code>O_kj = tanh(sum_i w^k_ij * O_(k-1)i)</code>, the inputs are "
        f"<code>O_0i = x_i</code>; for this one sample the loss is "
        f"<code>L = (y - {last})^2</code>. "
        "Write each answer to 4 decimal places in the box under its name, and carry more "
        "digits into the next steps.</p>"
        f"<figure class='network'>{picture}<figcaption>Each line is a weight "
        "w<sup>k</sup><sub>ij</sub>, from neuron i of the layer on its left to neuron j of "
        "layer k on its right (its value in the "
        "tables): blue if it is positive, orange if negative, thicker the larger it is."
        "</figcaption></figure>"
        + _givens(sheet)
        + "<h2>1. Forward pass</h2>"
        + _boxes(forward)
        + f"<h2>2. Local derivatives along the paths from L to {two_path} and "
        f"{viz.html_symbol(sheet.one_path)}</h2><ul class='paths'>{paths}</ul>"
        + _boxes(local)
        + "<h2>3. dL/dw, the product along each path summed over the paths; then one step "
        "of gradient descent, <code>w_new = w_old - eta * dL/dw</code></h2>"
        + _boxes([*gradients, update], hints)
        + "</section>"
    )


def expression_page(sheet: ExpressionSheet, *, name: str = "") -> str:
    """Sheet B of one student: an expression with several paths, drawn as its graph."""
    h, _ = sheet.build()
    # no data and no grad in the picture: the forward pass is the first question
    picture = _svg(viz.draw_graph(h, show_data=False, show_grad=False, legend=False))
    definitions = "".join(f"<li><code>{_esc(d)}</code></li>" for d in sheet.definitions)
    rule = sheet.ledger()
    formula = _esc(str(rule).splitlines()[0])
    forward = [q for q in sheet.questions if q.id in FORWARD]
    local = [q for q in sheet.questions[:-1] if q not in forward]
    total = sheet.questions[-1]
    return (
        "<section class='page sheet'>"
        + _head("Backpropagation by hand: several paths", sheet.student, name, "Sheet B")
        + f"<p class='intro'>At <b>x = {sheet.x:g}</b>:</p>"
        f"<ul class='definitions'>{definitions}</ul>"
        "<p class='intro'>The graph shows every operation, one arrow per operand. x reaches "
        "h along several paths; as the lecture notes write it, the contributions of the "
        "paths add up:</p>"
        f"<p class='rule'><code>{formula}</code></p>"
        f"<figure class='expression'>{picture}</figure>"
        "<h2>1. The forward pass</h2>"
        + _boxes(forward)
        + "<h2>2. The local derivatives</h2>"
        + _boxes(local)
        + "<h2>3. The sum over the paths</h2>"
        + _boxes([total], {total.id: f"the sum over the {len(rule.paths)} paths"})
        + "</section>"
    )


def _key_table(questions: Sequence[Question]) -> str:
    rows = "".join(
        f"<tr><td class='qid'>{_esc(q.id)}</td><td class='num'>{answer_text(q.value)}</td>"
        f"<td class='num'>± {q.tolerance:g}</td></tr>"
        for q in questions
    )
    return (
        "<table class='key'><tr><th>question</th><th>answer</th><th>tolerance</th></tr>"
        f"{rows}</table>"
    )


def forward_pass_text(sheet: NetworkSheet) -> str:
    """The forward pass worked out, neuron by neuron, then the loss."""
    model, loss = sheet.loss()
    lines = []
    values = {input_label(i): x for i, x in enumerate(sheet.inputs, start=1)}
    for layer in model.layers:
        for n in layer.neurons:
            below = [
                input_label(i) if n.k == 1 else nn.output_label(n.k - 1, i)
                for i in range(1, len(n.weights) + 1)
            ]
            symbols = " + ".join(f"{w.label} * {b}" for w, b in zip(n.weights, below, strict=True))
            numbers = " + ".join(
                f"{_operand(w.data)} * {_operand(values[b])}"
                for w, b in zip(n.weights, below, strict=True)
            )
            out = n.output
            if out is None:
                raise ValueError(f"neuron {n.k},{n.j} did not run")
            z = out.parents[0].data
            name = out.label
            pad = " " * len(name)
            lines += [
                f"{name} = {n.activation}({symbols})",
                f"{pad} = {n.activation}({numbers})",
                f"{pad} = {n.activation}({_worked(z)}) = {_worked(out.data)}",
            ]
            values[name] = out.data
    last = nn.output_label(len(sheet.sizes) - 1, 1)
    difference = f"{_worked(sheet.target)} - {_operand(values[last])}"
    lines.append(f"L = (y - {last})^2 = ({difference})^2 = {_worked(loss.data)}")
    return "\n".join(lines)


def gradient_step_text(sheet: NetworkSheet) -> str:
    """The key's step of gradient descent for the two-path weight, worked out."""
    update, w = sheet.questions[-1], sheet.weights[sheet.two_path]
    grad = sheet.ledger(sheet.two_path).grad
    return (
        f"{update.id} = {sheet.two_path} - eta * dL/d{sheet.two_path}\n"
        f"{' ' * len(update.id)} = {_worked(w)} - {_operand(sheet.eta)} * {_operand(grad)}"
        f" = {_worked(gradient_step(w, sheet.eta, grad))}"
    )


def expression_forward_text(sheet: ExpressionSheet) -> str:
    """The expression's forward pass, one line per name: ``F = x*x = 0.49``.

    >>> from chainrule.worksheets.exercises import draw_expression_sheet
    >>> print(expression_forward_text(draw_expression_sheet(2024, 7)))
    F = x*x*x   = 1.728
    g = tanh(x) = 0.833655
    h = F*g + 1 = 2.44056
    """
    h, _ = sheet.build()
    values = {node.label: node.data for node in topological_order(h) if node.label in FORWARD}
    width = max(len(definition) for definition in sheet.definitions)
    return "\n".join(
        f"{definition.ljust(width)} = {_worked(values[name])}"
        for name, definition in zip(FORWARD, sheet.definitions, strict=True)
    )


def network_key(sheet: NetworkSheet, *, seed: int, name: str = "") -> str:
    """The key to sheet A: every answer, then every step, as the ledgers show them."""
    two, one = sheet.ledger(sheet.two_path), sheet.ledger(sheet.one_path)
    gradients = [q for q in sheet.questions if q.id.startswith("dL/dw")]
    return (
        "<section class='page key-page'>"
        + _head("Answer key: the network", sheet.student, name, "Sheet A", seed=seed)
        + "<div class='key-columns'>"
        + _key_table(sheet.questions)
        + f"<div><h2>Forward pass</h2><pre>{_esc(forward_pass_text(sheet))}</pre>"
        + "<h2>One step of gradient descent</h2>"
        + f"<pre>{_esc(gradient_step_text(sheet))}</pre></div></div>"
        + "<h2>The chain rule, path by path (the ledgers)</h2>"
        + f"<pre>{_esc(str(two))}</pre><pre>{_esc(str(one))}</pre>"
        + "<h2>Slips to look for when marking by hand</h2>"
        + _slips_list(gradients)
        + "</section>"
    )


def _slips_list(questions: Sequence[Question]) -> str:
    """What a wrong answer equal to a slip's value means, as 'chainrule grade' names it."""
    items = "".join(
        f"<li><span class='qid'>{_esc(q.id)}</span> = {answer_text(slip.value)}: "
        f"{_esc(slip.feedback)}</li>"
        for q in questions
        for slip in q.slips
    )
    return f"<ul class='slips'>{items}</ul>"


def expression_key(sheet: ExpressionSheet, *, seed: int, name: str = "") -> str:
    """The key to sheet B: the answers, the ledger, and the paths drawn."""
    h, x = sheet.build()
    h.backward()  # the picture shows every node's grad
    rule = viz.explain(h, x, level="neuron")
    picture = _svg(viz.draw_paths(h, x))
    definitions = "; ".join(sheet.definitions)
    return (
        "<section class='page key-page'>"
        + _head("Answer key: several paths", sheet.student, name, "Sheet B", seed=seed)
        + f"<p class='intro'>At x = {sheet.x:g}: <code>{_esc(definitions)}</code></p>"
        + "<div class='key-columns'>"
        + _key_table(sheet.questions)
        + f"<div><h2>Forward pass</h2><pre>{_esc(expression_forward_text(sheet))}</pre>"
        + "<h2>The chain rule, path by path (the ledger)</h2>"
        + f"<pre>{_esc(str(rule))}</pre></div>"
        + "</div>"
        + "<h2>Every path from h to x, at the level of operations</h2>"
        + _path_counts(len(rule.paths), len(viz.explain(h, x).paths))
        + f"<figure class='paths'>{picture}</figure>"
        + "<h2>Slips to look for when marking by hand</h2>"
        + _slips_list(sheet.questions[-1:])
        + "</section>"
    )


def _path_counts(named: int, edges: int) -> str:
    """A line for the marker when the picture counts paths otherwise than the ledger."""
    if named == edges:
        return ""
    return (
        f"<p class='intro'>Here a path is a chain of edges, one edge per operand slot (x*x "
        f"takes x twice, so it draws two): {edges} paths. The ledger above counts the "
        f"named Values a path passes, F and g: {named} paths. Both sums are dh/dx.</p>"
    )


def document(title: str, pages: Sequence[str], *, paper: str = "a4") -> str:
    """A whole HTML document of ``pages`` (from the functions above) with the stylesheet."""
    if paper not in PAPER_SIZES:
        raise ValueError(f"paper must be one of {', '.join(PAPER_SIZES)}, got {paper!r}")
    css = resources.files("chainrule.worksheets").joinpath("worksheet.css").read_text("utf-8")
    page_rule = f"@page {{ size: {PAPER_SIZES[paper]}; margin: 10mm 12mm; }}"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='generator' content='chainrule {__version__}'>"
        f"<title>{_esc(title)}</title><style>\n{page_rule}\n{css}</style></head>\n"
        f"<body class='paper-{paper}'>\n" + "\n".join(pages) + "\n</body></html>\n"
    )
