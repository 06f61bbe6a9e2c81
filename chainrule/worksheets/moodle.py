"""The worksheets' questions as a Moodle XML quiz: numerical questions with tolerances.

The format is Moodle's own import/export format ("Moodle XML format" on MoodleDocs, read
by ``question/format/xml/format.php``): categories, and numerical questions with answers,
tolerances and feedback, as Moodle 4.x writes them.

One category per student ("one variant per student"), each question self-contained: its
text gives that student's numbers, so the question reads the same as the printed sheet.
The right answer comes first (Moodle takes the first answer an input matches), then one
answer per slip with 0 marks and the slip's feedback, then ``*`` for anything else.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from chainrule.worksheets.exercises import (
    FORWARD,
    ExpressionSheet,
    NetworkSheet,
    Question,
    derivative_id,
)
from chainrule.worksheets.pages import expression_forward_text, forward_pass_text
from nn.notation import input_label, is_output_label, loss_label

__all__ = ["category_path", "moodle_xml", "plain_number"]


def plain_number(x: float) -> str:
    """A number as Moodle's numerical answers read it: digits and a point, no exponent.

    >>> plain_number(0.5), plain_number(-2.0), plain_number(1.25e-05)
    ('0.5', '-2', '0.0000125')
    """
    text = f"{x:.15f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def category_path(seed: int, student: int, width: int) -> str:
    """The Moodle category of one student's questions.

    >>> category_path(2024, 7, 2)
    '$course$/top/chainrule worksheets, seed 2024/Student 07'
    """
    return f"$course$/top/chainrule worksheets, seed {seed}/Student {student:0{width}d}"


def _cdata(text: str) -> str:
    """``text`` inside ``<text>``, as a CDATA section (HTML needs no escaping there)."""
    return "<text><![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]></text>"


def _plain(text: str) -> str:
    return f"<text>{html.escape(text, quote=False)}</text>"


def _network_givens(sheet: NetworkSheet) -> str:
    inputs = ", ".join(f"{input_label(i)} = {x:g}" for i, x in enumerate(sheet.inputs, start=1))
    weights = ", ".join(f"{label} = {w:g}" for label, w in sheet.weights.items())
    return (
        f"<p>{sheet.network_name.capitalize()}, O_kj = tanh(sum_i w^k_ij * O_(k-1)i), one "
        "sample, L = (y - yhat)^2, w_new = w_old - eta * dL/dw.</p>"
        f"<p>Inputs: {inputs}; target y = {sheet.target:g}; eta = {sheet.eta:g}.</p>"
        f"<p>Weights: {weights}.</p>"
    )


def _expression_givens(sheet: ExpressionSheet) -> str:
    # No forward values: F, g and h are the sheet's first questions.
    return (
        f"<p>At x = {sheet.x:g}: {'; '.join(sheet.definitions)}.</p>"
        "<p>When x reaches h along several paths, the contributions of the paths add up.</p>"
    )


def _answer(text: str, fraction: int, tolerance: float, feedback: str) -> str:
    return (
        f'    <answer fraction="{fraction}" format="moodle_auto_format">{_plain(text)}'
        f"<tolerance>{plain_number(tolerance)}</tolerance>"
        f'<feedback format="html">{_cdata(html.escape(feedback, quote=False))}</feedback></answer>'
    )


def _question_xml(name: str, givens: str, q: Question, explanation: str) -> str:
    answers = [
        _answer(plain_number(q.value), 100, q.tolerance, "Right."),
        *(_answer(plain_number(s.value), 0, q.tolerance, s.feedback) for s in q.slips),
        _answer("*", 0, 0.0, f"Not within {plain_number(q.tolerance)} of the answer."),
    ]
    text = f"{givens}<p>Give <b>{html.escape(q.id)}</b> to 4 decimal places.</p>"
    return "\n".join(
        [
            '  <question type="numerical">',
            f"    <name>{_plain(name)}</name>",
            f'    <questiontext format="html">{_cdata(text)}</questiontext>',
            f'    <generalfeedback format="html">{_cdata(explanation)}</generalfeedback>',
            "    <defaultgrade>1</defaultgrade>",
            "    <penalty>0.3333333</penalty>",
            "    <hidden>0</hidden>",
            *answers,
            "    <unitgradingtype>0</unitgradingtype>",
            "    <unitpenalty>0.1</unitpenalty>",
            "    <showunits>3</showunits>",
            "    <unitsleft>0</unitsleft>",
            "  </question>",
        ]
    )


def _explanations(sheet: NetworkSheet | ExpressionSheet) -> dict[str, str]:
    """Per question id, the key's worked step that gives it (shown after an attempt): the
    forward pass, or the ledger that holds the derivative."""
    if isinstance(sheet, ExpressionSheet):
        ledger, forward = _pre(str(sheet.ledger())), _pre(expression_forward_text(sheet))
        return {q.id: forward if q.id in FORWARD else ledger for q in sheet.questions}
    forward = _pre(forward_pass_text(sheet))
    found: dict[str, str] = {}
    for weight in (sheet.one_path, sheet.two_path):  # the two-path ledger wins a shared factor
        rule = sheet.ledger(weight)
        ids = [derivative_id(step) for step in rule.factors()]
        found.update(dict.fromkeys([*ids, f"dL/d{weight}", f"{weight} new"], _pre(str(rule))))
    return {q.id: forward if q.id == loss_label() or is_output_label(q.id) else found[q.id]
            for q in sheet.questions}  # fmt: skip


def _pre(text: str) -> str:
    return f"<pre>{html.escape(text)}</pre>"


def moodle_xml(
    seed: int, students: Sequence[tuple[int, NetworkSheet | None, ExpressionSheet | None]]
) -> str:
    """The quiz: for each (student, network sheet, expression sheet), a category with one
    numerical question per question of the sheets; the general feedback of each question
    is the key's worked step that gives it."""
    width = max(2, len(str(max((s for s, _, _ in students), default=1))))
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    for student, network, expression in students:
        parts += [
            '  <question type="category">',
            f"    <category>{_plain(category_path(seed, student, width))}</category>",
            f'    <info format="html">{_cdata(f"Student {student}, seed {seed}.")}</info>',
            "  </question>",
        ]
        sheets: list[tuple[NetworkSheet | ExpressionSheet, str]] = []
        if network is not None:
            sheets.append((network, _network_givens(network)))
        if expression is not None:
            sheets.append((expression, _expression_givens(expression)))
        for sheet, givens in sheets:
            explanations = _explanations(sheet)
            for q in sheet.questions:
                name = f"Student {student:0{width}d}: {q.id}"
                parts.append(_question_xml(name, givens, q, explanations[q.id]))
    parts.append("</quiz>")
    return "\n".join(parts) + "\n"
