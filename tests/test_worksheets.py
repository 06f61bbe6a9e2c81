"""Worksheets: every number of the key against independent references, reproducibility,
the options, and the Moodle XML.

The references never use the sheets' own code: the network's forward pass is written
here with ``math.tanh``, each answer is checked against central finite differences of
that plain-float function and against a fresh ``nn.MLP``'s ``backward()``; the
expression sheet's references evaluate the definitions printed on the sheet.
"""

from __future__ import annotations

import html
import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from cli_runs import main_captured

import nn
import viz
from autograd import Value
from chainrule.worksheets import (
    ExpressionSheet,
    NetworkSheet,
    make_worksheets,
)
from chainrule.worksheets.exercises import draw_expression_sheet, draw_network_sheet
from chainrule.worksheets.moodle import plain_number
from chainrule.worksheets.pages import (
    answer_text,
    expression_forward_text,
    forward_pass_text,
    gradient_step_text,
)

SEED = 2024
STEP = 1e-6


# --- independent references ------------------------------------------------------------


def _forward(sheet: NetworkSheet, weights: dict[str, float]) -> dict[str, float]:
    """Every O_kj and L by plain floats, from the printed weights and sample."""
    values = {f"O_0{i}": x for i, x in enumerate(sheet.inputs, start=1)}
    for k in range(1, len(sheet.sizes)):
        for j in range(1, sheet.sizes[k] + 1):
            z = sum(
                weights[nn.weight_label(k, i, j)] * values[f"O_{k - 1}{i}"]
                for i in range(1, sheet.sizes[k - 1] + 1)
            )
            values[f"O_{k}{j}"] = math.tanh(z)
    values["L"] = (sheet.target - values[f"O_{len(sheet.sizes) - 1}1"]) ** 2
    return values


def _central(f: Callable[[float], float], x: float) -> float:
    return (f(x + STEP) - f(x - STEP)) / (2 * STEP)


def _local(sheet: NetworkSheet, top: str, bottom: str) -> float:
    """d top / d bottom with everything else held at the forward pass's values: the
    local derivative of the notes, by finite differences of one neuron (or of L)."""
    weights = dict(sheet.weights)
    values = _forward(sheet, weights)
    if top == "L":
        return _central(lambda o: (sheet.target - o) ** 2, values[bottom])
    k, j = int(top[2]), int(top[3])

    def neuron(change: float) -> float:
        w = dict(weights)
        inputs = {i: values[f"O_{k - 1}{i}"] for i in range(1, sheet.sizes[k - 1] + 1)}
        if bottom.startswith("w^"):
            w[bottom] = change
        else:
            inputs[int(bottom[3])] = change
        return math.tanh(sum(w[nn.weight_label(k, i, j)] * inputs[i] for i in inputs))

    start = weights[bottom] if bottom.startswith("w^") else values[bottom]
    return _central(neuron, start)


def _gradient(sheet: NetworkSheet, label: str) -> float:
    def loss(w: float) -> float:
        return _forward(sheet, {**sheet.weights, label: w})["L"]

    return _central(loss, sheet.weights[label])


def _engine_gradient(sheet: NetworkSheet, label: str) -> float:
    """backward() on a network built here from the printed weights."""
    model = nn.MLP(sheet.sizes[0], list(sheet.sizes[1:]))
    for w in model.parameters():
        w.data = sheet.weights[w.label]
    output = model(list(sheet.inputs))
    assert isinstance(output, Value)
    loss = (sheet.target - output) ** 2
    loss.backward()
    return model.weight(*nn.parse_weight_label(label)).grad


def _check_network_key(sheet: NetworkSheet) -> None:
    values = _forward(sheet, dict(sheet.weights))
    answers = {q.id: q.value for q in sheet.questions}
    for name, value in values.items():
        if not name.startswith("O_0"):
            assert answers[name] == pytest.approx(value, rel=1e-12, abs=1e-14), name
    for qid, answer in answers.items():
        match = re.fullmatch(r"d(\S+)/d(\S+)", qid)
        if match is None or qid.startswith("dL/dw"):
            continue
        assert answer == pytest.approx(_local(sheet, *match.groups()), rel=1e-6, abs=1e-9), qid
    for label in (sheet.one_path, sheet.two_path):
        engine = _engine_gradient(sheet, label)
        assert answers[f"dL/d{label}"] == pytest.approx(engine, rel=1e-12, abs=1e-14)
        assert engine == pytest.approx(_gradient(sheet, label), rel=1e-6, abs=1e-9)
    step = sheet.weights[sheet.two_path] - sheet.eta * _gradient(sheet, sheet.two_path)
    assert answers[f"{sheet.two_path} new"] == pytest.approx(step, rel=1e-6, abs=1e-9)


def _printed(sheet: ExpressionSheet) -> dict[str, Callable[..., float]]:
    """F(x), g(x) and h(F, g, x) from the definitions printed on the sheet."""
    names = {"tanh": math.tanh, "sigmoid": lambda t: 1 / (1 + math.exp(-t))}
    formulas = dict(d.split(" = ", 1) for d in sheet.definitions)
    return {
        "F": lambda x: eval(formulas["F"], names, {"x": x}),
        "g": lambda x: eval(formulas["g"], names, {"x": x}),
        "h": lambda F, g, x: eval(formulas["h"], names, {"F": F, "g": g, "x": x}),
    }


def _check_expression_key(sheet: ExpressionSheet) -> None:
    f = _printed(sheet)
    x = sheet.x
    F, g = f["F"](x), f["g"](x)
    expected = {
        "F": F,
        "g": g,
        "h": f["h"](F, g, x),
        "dF/dx": _central(f["F"], x),
        "dg/dx": _central(f["g"], x),
        "dh/dF": _central(lambda t: f["h"](t, g, x), F),
        "dh/dg": _central(lambda t: f["h"](F, t, x), g),
        "dh/dx": _central(lambda t: f["h"](f["F"](t), f["g"](t), t), x),
    }
    answers = {q.id: q.value for q in sheet.questions}
    assert set(answers) == set(expected)
    for qid, value in expected.items():
        assert answers[qid] == pytest.approx(value, rel=1e-6, abs=1e-9), qid
    h, xv = sheet.build()
    h.backward()
    assert answers["dh/dx"] == pytest.approx(xv.grad, rel=1e-12)


# --- the tests -------------------------------------------------------------------------


@pytest.mark.parametrize("student", range(1, 9))
def test_every_number_of_a_network_key_is_the_engines_and_finite_differences(
    student: int,
) -> None:
    _check_network_key(draw_network_sheet(SEED, student))


@pytest.mark.parametrize(
    ("sizes", "one_path"),
    [((2, 2, 2, 1), "w^2_21"), ((3, 4, 2, 1), "w^3_21"), ((1, 1, 2, 1), "w^2_11")],
)
def test_smaller_and_other_networks_have_keys_equal_to_the_references(
    sizes: tuple[int, ...], one_path: str
) -> None:
    for student in (1, 2):
        _check_network_key(draw_network_sheet(7, student, sizes=sizes, one_path=one_path))


@pytest.mark.parametrize("student", range(1, 13))
def test_every_number_of_an_expression_key_is_the_printed_formulas_derivative(
    student: int,
) -> None:
    _check_expression_key(draw_expression_sheet(SEED, student))


def test_numbers_are_short_and_the_answers_worth_computing() -> None:
    for student in range(1, 21):
        sheet = draw_network_sheet(SEED, student)
        assert all(round(w, 1) == w and w != 0 for w in sheet.weights.values())
        assert all(round(x, 1) == x for x in sheet.inputs)
        assert sheet.eta in (0.1, 0.2, 0.5)
        neurons = [q for q in sheet.questions if q.id.startswith("O_")]
        assert all(0.05 <= abs(q.value) <= 0.95 for q in neurons)  # not saturated
        two = next(q for q in sheet.questions if q.id == "dL/dw^1_11")
        left_out = [s for s in two.slips if s.feedback.startswith("left out the path")]
        assert len(left_out) == 2  # both paths matter beyond the tolerance
        assert all(abs(s.value - two.value) > 2 * two.tolerance for s in left_out)


def test_the_same_seed_and_student_give_the_same_sheet_and_students_differ() -> None:
    small, large = make_worksheets(3, SEED), make_worksheets(5, SEED)
    assert small.key() == large.key()[: len(small.key())]  # a student's sheet: not the class size
    first, second = (
        {(r["question"]): r["value"] for r in small.key() if r["student"] == n} for n in (1, 2)
    )
    assert all(first[q] != second[q] for q in first)
    assert make_worksheets(3, SEED + 1).key() != small.key()


def test_question_ids_are_the_notes_names_and_the_same_for_every_student() -> None:
    ws = make_worksheets(4, SEED)
    ids = ws.question_ids()
    assert ids == [
        "O_11", "O_12", "O_13", "O_21", "O_22", "O_31", "L",
        "dL/dO_31", "dO_31/dO_21", "dO_21/dO_11", "dO_31/dO_22", "dO_22/dO_11",
        "dO_11/dw^1_11", "dO_21/dw^2_21", "dL/dw^2_21", "dL/dw^1_11", "w^1_11 new",
        "F", "g", "h", "dh/dF", "dF/dx", "dh/dg", "dg/dx", "dh/dx",
    ]  # fmt: skip
    assert all([q.id for q in s.questions] == ids for s in ws.students)
    rows = ws.key()
    assert len(rows) == 4 * len(ids)
    assert all({"student", "question", "value", "tolerance"} <= set(r) for r in rows)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            dict(network=(4, 3, 3, 1)),
            "--network 4-3-3-1 with --two-path w^1_11: w^1_11 reaches L along 3 paths, not 2",
        ),
        (dict(network=(4, 3, 2)), "two hidden layers and one output"),
        (dict(network=(5, 3, 2, 1)), "each of 1 to 4 neurons"),
        (
            dict(one_path="w^1_11", two_path="w^1_12"),
            "--network 4-3-2-1 with --one-path w^1_11: w^1_11 reaches",
        ),
        (dict(two_path="w^9_11"), "--two-path w^9_11"),
        (dict(two_path="v_1"), "expected a weight in the lecture notes' notation"),
        (dict(sheets=("network", "quiz")), "--sheets: choose from network, expression"),
        (dict(names=["Ada"]), "1 names for 2 students"),
    ],
)
def test_bad_options_are_refused_in_the_users_terms(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make_worksheets(2, SEED, **arguments)


def test_bad_options_on_the_command_line_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path
) -> None:
    status, _, err = main_captured(
        capsys, "worksheet", "--students", "2", "--seed", "1", "--network", "4-3-3-1",
        "--out", str(tmp_path / "w"),
    )  # fmt: skip
    assert status == 2 and "reaches L along 3 paths" in err and "Traceback" not in err
    assert "--network 4-3-3-1 with --two-path w^1_11" in err
    assert not (tmp_path / "w").exists()
    # One rule for --students, its upper bound said whichever bound is broken.
    rule = "must be an int from 1 to 1000, got"
    for students in ("0", "1001", "2.5", "x"):
        with pytest.raises(SystemExit):
            main_captured(capsys, "worksheet", "--students", students, "--seed", "1")
        assert f"argument --students: {rule} '{students}'" in capsys.readouterr().err
    with pytest.raises(ValueError, match=f"--students {rule} 1,001"):
        make_worksheets(1001, SEED)
    with pytest.raises(SystemExit):
        main_captured(capsys, "worksheet", "--students", "2", "--seed", "x")
    assert "argument --seed: must be an int, got 'x'" in capsys.readouterr().err


def test_the_moodle_quiz_parses_and_every_answer_is_the_key() -> None:
    ws = make_worksheets(3, SEED)
    root = ET.fromstring(ws.moodle_xml())
    assert root.tag == "quiz"
    key = {(r["student"], r["question"]): r for r in ws.key()}
    categories = [q for q in root if q.get("type") == "category"]
    numerical = [q for q in root if q.get("type") == "numerical"]
    assert len(categories) == 3 and len(numerical) == len(key)
    assert categories[0].findtext("category/text") == (
        "$course$/top/chainrule worksheets, seed 2024/Student 01"
    )
    for question in numerical:
        name = question.findtext("name/text") or ""
        student, qid = re.fullmatch(r"Student (\d+): (.+)", name).groups()  # type: ignore[union-attr]
        row = key[(int(student), qid)]
        answers = question.findall("answer")
        right, *slips, anything = answers
        assert right.get("fraction") == "100"
        assert float(right.findtext("text") or "") == pytest.approx(row["value"], abs=1e-14)
        assert float(right.findtext("tolerance") or "") == row["tolerance"]
        assert [float(a.findtext("text") or "") for a in slips] == pytest.approx(
            [s["value"] for s in row["slips"]], abs=1e-14
        )
        feedback = [html.unescape(a.findtext("feedback/text") or "") for a in slips]
        assert feedback == [s["feedback"] for s in row["slips"]]
        assert all(a.get("fraction") == "0" for a in [*slips, anything])
        assert anything.findtext("text") == "*"
        for element in ("questiontext/text", "generalfeedback/text", "defaultgrade",
                        "penalty", "hidden", "showunits"):  # fmt: skip
            assert question.find(element) is not None, element
        text = question.findtext("questiontext/text") or ""
        assert qid.replace("&", "&amp;") in text
    first = next(s for s in ws.students if s.student == 1)
    assert first.network is not None
    text = numerical[0].findtext("questiontext/text") or ""
    assert f"w^1_11 = {first.network.weights['w^1_11']:g}" in text


def test_plain_number_keeps_every_digit_moodle_reads() -> None:
    for x in (0.1, -0.123456789012345, 1.5e-05, 12.0):
        assert float(plain_number(x)) == pytest.approx(x, abs=1e-15)
        assert "e" not in plain_number(x)


def test_no_sheet_and_no_quiz_question_shows_an_answer_it_asks_for(dot: str) -> None:
    ws = make_worksheets(4, SEED)
    root = ET.fromstring(ws.moodle_xml())
    texts = {
        question.findtext("name/text"): question.findtext("questiontext/text") or ""
        for question in root
        if question.get("type") == "numerical"
    }
    for student in ws.students:
        # what a student reads: the text of the page and its pictures, not the markup
        page = re.sub(r"<[^>]*>", " ", "".join(ws.sheet_pages(student)))
        for q in student.questions:
            # as the pictures (4 digits), the boxes (4 decimals) or the ledgers (6) print it
            shown = {f"{q.value:.4g}", answer_text(q.value), f"{q.value:.6g}"}
            shown = {number for number in shown if len(number.lstrip("-")) > 3}  # not 0.5
            quiz = re.sub(r"<[^>]*>", " ", texts[f"Student {student.student:02d}: {q.id}"])
            for number in shown:
                alone = rf"(?<![\d.]){re.escape(number)}(?!\d)"
                assert not re.search(alone, page), (student.student, q.id, number)
                assert not re.search(alone, quiz), (student.student, q.id, number)


def test_sheet_a_typesets_the_ids_beside_their_columns_and_leaves_out_tiny_labels(
    dot: str,
) -> None:
    ws = make_worksheets(1, SEED)
    page = ws.sheet_pages(ws.students[0])[0]
    box = re.search(r"<div class='box'><div class='label'><span class='qid'>(.*?)</span>"
                    r"<span class='column'>(.*?)</span>", page)  # fmt: skip
    assert box and box.groups() == ("O<SUB>11</SUB>", "O_11")
    assert "dO<SUB>11</SUB>/dw<SUP>1</SUP><SUB>11</SUB></span><span class='column'>" \
           "dO_11/dw^1_11</span>" in page  # fmt: skip
    assert "w<SUP>1</SUP><SUB>11</SUB> new</span><span class='column'>w^1_11 new" in page
    # The network: no number on its edges (the tables hold the weights), no legend line.
    figure = page[page.index("<figure class='network'>") : page.index("</figure>")]
    texts = [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text.*?</text>", figure, re.S)]
    numbers = [t for t in texts if re.fullmatch(r"[\u2212-]?\d*\.\d+", t)]
    assert "O11" in texts and not numbers, texts
    assert "edge colour" not in figure and "weight" in figure.split("<figcaption>")[1]


def test_the_seed_is_on_the_keys_only_never_on_a_students_sheet(dot: str, tmp_path) -> None:
    # Whoever knows the seed can make every student's key: it must not reach the students.
    ws = make_worksheets(2, SEED, names=["Ada", "Alan"])
    for student in ws.students:
        assert "seed" not in "".join(ws.sheet_pages(student)).lower()
        assert all(f"seed {SEED}" in page for page in ws.key_pages(student))
    ws.write(tmp_path, pdf=False)
    for name in ("worksheets.html", "worksheet-01.html", "worksheet-02.html"):
        assert "seed" not in (tmp_path / name).read_text(encoding="utf-8").lower(), name
    assert f"seed {SEED}" in (tmp_path / "answer-keys.html").read_text(encoding="utf-8")


NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?"


def test_the_keys_worked_lines_bracket_a_negative_number_only_after_an_operator() -> None:
    # As the ledgers write it: (-0.3) * 0.5 and 0.5 - (-0.59), but tanh(-0.35) and
    # = -0.336, never tanh((-0.35)) or = (-0.336).
    networks = [draw_network_sheet(1, student) for student in range(1, 9)]
    expressions = [draw_expression_sheet(1, student) for student in range(1, 9)]
    text = "\n".join(
        [*map(forward_pass_text, networks), *map(gradient_step_text, networks),
         *map(expression_forward_text, expressions)]
    )  # fmt: skip
    assert re.search(rf"tanh\(-{NUMBER}\) = -{NUMBER}$", text, re.MULTILINE)  # the review's case
    assert not re.search(rf"\(\(-?{NUMBER}\)\)", text), text
    assert not re.search(rf"= \(-{NUMBER}\)$", text, re.MULTILINE), text  # a result is bare
    assert not re.search(r"[-+*/^] -\d", text), text  # after an operator: bracketed
    # Each line of numbers, redone as written, gives its result (to the digits shown).
    redone_lines = 0
    for line in text.splitlines():
        sides = [side.strip() for side in line.split("=")]
        for left, right in itertools.pairwise(sides[1:]):
            symbols = re.sub(r"tanh|(?<=\d)e(?=[-+]\d)", "", left)
            if re.fullmatch(NUMBER, right) and not re.search(r"[a-zA-Z_]", symbols):
                redone = eval(left.replace("^", "**"), {"tanh": math.tanh})
                assert redone == pytest.approx(float(right), rel=2e-5, abs=2e-6), line
                redone_lines += 1
    assert redone_lines >= 8 * 8  # each student's 6 neurons, the loss and the step


def test_a_sheet_calls_only_the_notes_own_network_the_lecture_notes() -> None:
    notes = draw_network_sheet(SEED, 1)
    other = draw_network_sheet(SEED, 1, sizes=(2, 2, 2, 1))
    assert notes.network_name == "the lecture notes' 4-3-2-1 network"
    assert other.network_name == "a 2-2-2-1 network, in the lecture notes' notation"
    worksheets = make_worksheets(1, SEED, network=(2, 2, 2, 1))
    page = "".join(worksheets.sheet_pages(worksheets.students[0]))
    assert "A 2-2-2-1 network, in the lecture notes' notation" in page
    assert "A 2-2-2-1 network, in the lecture notes' notation" in worksheets.moodle_xml()
    assert "network of the lecture notes" not in page


def test_the_sheet_b_key_says_how_its_picture_counts_paths() -> None:
    worksheets = make_worksheets(8, SEED)
    said = 0
    for student in worksheets.students:
        h, x = student.expression.build()
        named = len(viz.explain(h, x, level="neuron").paths)
        edges = len(viz.explain(h, x).paths)
        key = worksheets.key_pages(student)[-1]
        line = f"so it draws two): {edges} paths. The ledger above counts the named"
        assert (line in key) == (named != edges), (student.student, named, edges)
        said += named != edges
    assert said  # the notes' x*x form is among the eight
