"""Worksheets for a class: backpropagation by hand, different numbers for every student.

:func:`make_worksheets` draws, for each student, the lecture notes' network with short
numbers (sheet A: the forward pass, the local derivatives along each path of two weights,
``dL/dw`` for a weight with one path and one with two, one gradient-descent update) and a
small expression with several paths drawn as its graph (sheet B: its forward pass, the
local derivatives, the sum over the paths); every answer comes
from the engine and the ledgers of :func:`viz.explain`. The same seed and student give
the same sheet, byte for byte, whatever the size of the class.
:meth:`Worksheets.write` writes the printable pages, the PDFs, the key (``answers.json``)
and a Moodle XML quiz; :func:`grade` marks a CSV of the students' answers against the key.

>>> ws = make_worksheets(students=3, seed=2024)
>>> ws.question_ids()[:4], len(ws.question_ids())
(['O_11', 'O_12', 'O_13', 'O_21'], 25)
>>> row = ws.key()[0]
>>> row["student"], row["question"], row["tolerance"]
(1, 'O_11', 0.0027)
>>> make_worksheets(students=30, seed=2024).key()[:25] == ws.key()[:25]  # student 1's
True
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nn
from chainrule.worksheets.exercises import (
    EXPRESSION,
    NETWORK,
    SHEETS,
    ExpressionSheet,
    NetworkSheet,
    Question,
    Slip,
    check_network,
    draw_expression_sheet,
    draw_network_sheet,
)
from chainrule.worksheets.grading import NAME, Marks, grade, load_key, write_marks
from chainrule.worksheets.moodle import moodle_xml
from chainrule.worksheets.pages import (
    PAPER_SIZES,
    document,
    expression_key,
    expression_page,
    network_key,
    network_page,
)
from chainrule.worksheets.pdf import PdfUnavailable, print_pdf
from nn.checks import SEED, between

__all__ = [
    "EXPRESSION",
    "MAX_STUDENTS",
    "NETWORK",
    "PAPER_SIZES",
    "SHEETS",
    "STUDENTS",
    "ExpressionSheet",
    "Marks",
    "NetworkSheet",
    "Question",
    "Slip",
    "StudentSheets",
    "Worksheets",
    "Written",
    "grade",
    "load_key",
    "make_worksheets",
    "write_marks",
]

WORKSHEETS_PDF = "worksheets.pdf"
KEYS_PDF = "answer-keys.pdf"
WORKSHEETS_HTML = "worksheets.html"
KEYS_HTML = "answer-keys.html"
ANSWERS_JSON = "answers.json"
TEMPLATE_CSV = "answers-template.csv"
MOODLE_XML = "moodle.xml"
MAX_STUDENTS = 1000
STUDENTS = between(1, MAX_STUDENTS)
"""How many students: ``--students``, ``make_worksheets(students=...)``."""


@dataclass(frozen=True)
class StudentSheets:
    """One student's sheets (either may be None when not asked for) and name."""

    student: int
    name: str
    network: NetworkSheet | None
    expression: ExpressionSheet | None

    @property
    def questions(self) -> tuple[Question, ...]:
        """Every question of the student's sheets, sheet A's first."""
        return tuple(
            q for sheet in (self.network, self.expression) if sheet for q in sheet.questions
        )


@dataclass(frozen=True)
class Written:
    """What :meth:`Worksheets.write` wrote, and, if the PDFs were left out, why."""

    files: tuple[Path, ...]
    pdf_missing: str = ""


@dataclass(frozen=True)
class Worksheets:
    """A class's worksheets for one seed (see :func:`make_worksheets`)."""

    seed: int
    students: tuple[StudentSheets, ...]

    def question_ids(self) -> list[str]:
        """The question ids, as printed on the sheets and as the answers CSV's columns."""
        return [q.id for q in self.students[0].questions]

    def key(self) -> list[dict[str, Any]]:
        """The rows of answers.json: student, question, value, tolerance, and for grading
        the sheet, the slips and what the answer follows from."""
        rows = []
        for s in self.students:
            for q in s.questions:
                row: dict[str, Any] = {
                    "student": s.student,
                    "question": q.id,
                    "value": q.value,
                    "tolerance": q.tolerance,
                    "sheet": q.sheet,
                    "seed": self.seed,
                    "slips": [{"value": slip.value, "feedback": slip.feedback} for slip in q.slips],
                }
                if q.follows is not None:
                    row["follows"] = q.follows.to_json()
                rows.append(row)
        return rows

    def answers_json(self) -> str:
        """answers.json's text: :meth:`key` as a JSON list, one object per line's block."""
        return json.dumps(self.key(), indent=1, ensure_ascii=False) + "\n"

    def answers_template(self) -> str:
        """An empty answers table to fill in, one row per student: the student column
        filled, and with names a name column, which 'chainrule grade' keeps in the marks."""
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        named = any(s.name for s in self.students)
        writer.writerow(["student", *([NAME] if named else []), *self.question_ids()])
        for s in self.students:
            who = [s.student, s.name] if named else [s.student]
            writer.writerow([*who, *[""] * len(self.question_ids())])
        return text.getvalue()

    def moodle_xml(self) -> str:
        """The questions as a Moodle XML quiz, one category of numerical questions per
        student."""
        return moodle_xml(self.seed, [(s.student, s.network, s.expression) for s in self.students])

    def sheet_pages(self, student: StudentSheets) -> list[str]:
        """The student's worksheet pages as HTML sections (runs Graphviz's ``dot``); they
        do not name the seed, which with this tool gives every student's key."""
        return self._pages(student, network_page, expression_page)

    def key_pages(self, student: StudentSheets) -> list[str]:
        """The student's answer-key pages as HTML sections (runs ``dot``), with the seed."""
        return self._pages(student, network_key, expression_key, seed=self.seed)

    def _pages(
        self,
        student: StudentSheets,
        network: Callable[..., str],
        expression: Callable[..., str],
        **seed: int,
    ) -> list[str]:
        pages = []
        if student.network is not None:
            pages.append(network(student.network, name=student.name, **seed))
        if student.expression is not None:
            pages.append(expression(student.expression, name=student.name, **seed))
        return pages

    def write(self, out: str | Path, *, paper: str = "a4", pdf: bool = True) -> Written:
        """Write everything into the folder ``out``:

        ``worksheet-NN.html`` and ``answer-key-NN.html`` per student; the whole class in
        ``worksheets.html`` / ``answer-keys.html`` and, printed by Chromium,
        ``worksheets.pdf`` / ``answer-keys.pdf`` (one sheet per page, the student on
        each); ``answers.json``; ``answers-template.csv``; ``moodle.xml``. Without
        Chromium (or with ``pdf=False``) the PDFs are left out and
        :attr:`Written.pdf_missing` says why. The pictures need Graphviz's ``dot``;
        without it :class:`viz.DotNotFoundError` is raised before any file is written.
        """
        folder = Path(out)
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"--out {out}: this is a file, not a folder; name a folder")
        width = max(2, len(str(len(self.students))))
        sheets = {s.student: self.sheet_pages(s) for s in self.students}
        keys = {s.student: self.key_pages(s) for s in self.students}
        texts: dict[str, str] = {}
        for s in self.students:
            number = f"{s.student:0{width}d}"
            texts[f"worksheet-{number}.html"] = document(
                f"Worksheet, student {s.student}", sheets[s.student], paper=paper
            )
            texts[f"answer-key-{number}.html"] = document(
                f"Answer key, student {s.student}", keys[s.student], paper=paper
            )
        everyone = [page for s in self.students for page in sheets[s.student]]
        all_keys = [page for s in self.students for page in keys[s.student]]
        texts[WORKSHEETS_HTML] = document("Worksheets", everyone, paper=paper)
        texts[KEYS_HTML] = document(f"Answer keys, seed {self.seed}", all_keys, paper=paper)
        texts[ANSWERS_JSON] = self.answers_json()
        texts[TEMPLATE_CSV] = self.answers_template()
        texts[MOODLE_XML] = self.moodle_xml()
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for name, text in texts.items():
            path = folder / name
            path.write_text(text, encoding="utf-8")
            files.append(path)
        missing = "the PDFs were not asked for" if not pdf else ""
        if pdf:
            try:
                files.append(print_pdf(folder / WORKSHEETS_HTML, folder / WORKSHEETS_PDF))
                files.append(print_pdf(folder / KEYS_HTML, folder / KEYS_PDF))
            except PdfUnavailable as error:
                missing = str(error)
        return Written(tuple(files), missing)


def make_worksheets(
    students: int,
    seed: int,
    *,
    network: Sequence[int] = (4, 3, 2, 1),
    sheets: Sequence[str] = SHEETS,
    one_path: str = "w^2_21",
    two_path: str = "w^1_11",
    names: Sequence[str] | None = None,
) -> Worksheets:
    """Worksheets for students 1 to ``students``, reproducible from ``seed``.

    ``network`` is the sizes of the layers (input, two hidden, one output; each 1 to 4);
    ``sheets`` picks ``"network"`` (sheet A) and/or ``"expression"`` (sheet B);
    ``one_path`` and ``two_path`` are the weights whose dL/dw sheet A asks for (one must
    reach L along one path, the other along two); ``names``, if given, one per student,
    are printed on the sheets. Student ``n``'s numbers depend on ``seed`` and ``n`` only.
    """
    STUDENTS.check(students, "--students")
    SEED.check(seed, "--seed")
    unknown = [s for s in sheets if s not in SHEETS]
    if unknown or not sheets:
        raise ValueError(
            f"--sheets: choose from {', '.join(SHEETS)}, got {', '.join(sheets) or 'none'}"
        )
    if names is not None and len(names) != students:
        raise ValueError(f"{len(names)} names for {students} students: give one name per student")
    for label in (one_path, two_path):
        nn.parse_weight_label(label)  # a clear error for a label that is no weight
    if NETWORK in sheets:
        check_network(network, one_path, two_path)
    built = []
    for n in range(1, students + 1):
        built.append(
            StudentSheets(
                student=n,
                name="" if names is None else names[n - 1].strip(),
                network=draw_network_sheet(
                    seed, n, sizes=network, one_path=one_path, two_path=two_path
                )
                if NETWORK in sheets
                else None,
                expression=draw_expression_sheet(seed, n) if EXPRESSION in sheets else None,
            )
        )
    return Worksheets(seed, tuple(built))
