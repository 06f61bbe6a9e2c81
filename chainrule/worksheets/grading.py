"""Marking the class's answers against ``answers.json``, with feedback that names the slip.

An answer within the tolerance gets 1 mark, anything else (or a blank) 0. A wrong answer's
feedback comes from recomputation, never from a guess: it names the slip whose value the
answer equals (the key lists them: a path left out, a sign flipped, a factor forgotten),
or an error carried forward (the answer is what the student's own wrong earlier answers
give: the factors or inputs that differ are named), or a rounding (the key rounded to
fewer places), in that order.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainrule.worksheets.exercises import DECIMALS, Follows, Question, Slip
from nn.data import read_text

__all__ = ["NAME", "Key", "Marks", "grade", "judge", "load_key", "read_answers", "write_marks"]

_CLOSE = 10  # within this many tolerances, a wrong answer is called close
NAME = "name"  # the answers' and the marks' column of the students' names
_NOT_A_KEY = "the key is the answers.json that 'chainrule worksheet' writes"

# answers.json read back: per student, the questions in the file's order.
Key = dict[int, dict[str, Question]]


@dataclass(frozen=True)
class Marks:
    """One student's marks: 1 or 0 per question (in the key's order) and the feedback on
    each answer that is not right; ``name`` as the answers' ``name`` column gave it."""

    student: int
    marks: dict[str, int]
    feedback: dict[str, str]
    name: str = ""

    @property
    def total(self) -> int:
        """The number of right answers."""
        return sum(self.marks.values())

    def feedback_text(self) -> str:
        """The feedback column: ``question: what differs`` for each wrong or blank answer."""
        return "; ".join(f"{q}: {text}" for q, text in self.feedback.items())


def load_key(path: str | Path) -> Key:
    """Read answers.json: {student: {question: Question}}, questions in the file's order.

    Raises a ValueError naming the file and the entry when it is not such a key.
    """
    try:
        rows = json.loads(read_text(path, remedy=_NOT_A_KEY))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not a JSON file ({error})") from None
    if not isinstance(rows, list) or not rows:
        raise ValueError(
            f"{path}: expected a list of objects with student, question, value and tolerance: "
            f"{_NOT_A_KEY}"
        )
    key: Key = {}
    for number, row in enumerate(rows, start=1):
        where = f"{path}: entry {number}"
        if not isinstance(row, dict):
            raise ValueError(f"{where} is not an object")
        for name in ("student", "question", "value", "tolerance"):
            if name not in row:
                raise ValueError(f"{where} has no {name!r}")
        try:
            student = _whole(row["student"])
            entry = Question(
                id=str(row["question"]),
                sheet=str(row.get("sheet", "")),
                value=_finite(row["value"]),
                tolerance=_finite(row["tolerance"]),
                slips=tuple(
                    Slip(_finite(s["value"]), str(s["feedback"])) for s in row.get("slips", [])
                ),
                follows=None if row.get("follows") is None else Follows.from_json(row["follows"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{where} is malformed: {error}") from None
        questions = key.setdefault(student, {})
        if entry.id in questions:
            raise ValueError(f"{where}: student {student} has {entry.id!r} twice")
        questions[entry.id] = entry
    return key


def _whole(x: Any) -> int:
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"expected a whole number, got {x!r}")
    return x


def _finite(x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise TypeError(f"expected a finite number, got {x!r}")
    return float(x)


def _parse_number(text: str, decimal_comma: bool) -> float | None:
    """A cell as a number (None if blank); a ValueError says what is wrong with it."""
    text = text.strip().replace("\u2212", "-")
    if not text:
        return None
    if decimal_comma:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        hint = f" (write a decimal point: {text.replace(',', '.')})" if "," in text else ""
        raise ValueError(f"{text!r} is not a number{hint}") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def read_answers(path: str | Path, key: Key) -> list[tuple[int, str, dict[str, float | None]]]:
    """The answers CSV: (student, name, {question: answer or None if blank}) per row.

    The file has a ``student`` column and one column per question id of the key, and may
    have a ``name`` column (as answers-template.csv has with ``--names``; "" without
    one); other columns are ignored. Separated by commas, or by semicolons with
    decimal commas as spreadsheets write them in many countries. Rows are counted as a
    spreadsheet counts them: the header is row 1. Any problem raises a ValueError naming
    the row and the column.
    """
    text = read_text(path)
    first = text.splitlines()[0] if text.strip() else ""
    if not first:
        raise ValueError(f"{path}: the file is empty; it needs a header row (student, ...)")
    semicolons = ";" in first and "," not in first
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";" if semicolons else ",")
    header = [cell.strip() for cell in next(reader)]
    questions = list(next(iter(key.values())))
    missing = [name for name in ["student", *questions] if name not in header]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise ValueError(
            f"{path}: row 1 (the header) has no column {shown}: the answers table needs a "
            "'student' column and one column per question, named as on the sheets "
            "(answers-template.csv has them all)"
        )
    doubled = sorted({name for name in header if name and header.count(name) > 1})
    if doubled:
        raise ValueError(f"{path}: row 1 (the header) has the column {doubled[0]!r} twice")
    column = {name: header.index(name) for name in ["student", *questions]}
    rows: list[tuple[int, str, dict[str, float | None]]] = []
    seen: dict[int, int] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise ValueError(
                f"{path}: row {number} has {len(cells)} cells, but the header has {len(header)}"
            )
        student = _student(cells[column["student"]], key, f"{path}: row {number}")
        if student in seen:
            raise ValueError(
                f"{path}: rows {seen[student]} and {number} both hold student {student}"
            )
        seen[student] = number
        answers: dict[str, float | None] = {}
        for q in questions:
            try:
                answers[q] = _parse_number(cells[column[q]], semicolons)
            except ValueError as error:
                raise ValueError(
                    f"{path}: row {number} (student {student}), column {q!r}: {error}"
                ) from None
        name = cells[header.index(NAME)].strip() if NAME in header else ""
        rows.append((student, name, answers))
    if not rows:
        raise ValueError(f"{path}: no rows of answers under the header")
    return rows


def _student(text: str, key: Key, where: str) -> int:
    try:
        student = int(text.strip())
    except ValueError:
        raise ValueError(
            f"{where}, column 'student': {text.strip()!r} is not a student number"
        ) from None
    if student not in key:
        numbers = sorted(key)
        raise ValueError(
            f"{where}, column 'student': student {student} is not in the key (it has "
            f"students {numbers[0]} to {numbers[-1]})"
        )
    return student


def _within(answer: float, value: float, tolerance: float) -> bool:
    # A hair over the tolerance (float rounding of the values themselves) still counts.
    return abs(answer - value) <= tolerance * (1 + 1e-9) + 1e-12


def judge(
    answer: float | None,
    entry: Question,
    answers: Mapping[str, float | None],
    key: Mapping[str, Question],
) -> tuple[int, str]:
    """The mark (1 or 0) and the feedback for one answer, given the student's other
    ``answers`` and ``key``, that student's key entries by question."""
    if answer is None:
        return 0, "blank"
    if _within(answer, entry.value, entry.tolerance):
        return 1, ""
    for slip in entry.slips:
        if _within(answer, slip.value, entry.tolerance):
            return 0, slip.feedback
    carried = _carried_forward(answer, entry, answers, key)
    if carried:
        return 0, carried
    return 0, _rounding(answer, entry)


def _carried_forward(
    answer: float, entry: Question, answers: Mapping[str, float | None], key: Mapping[str, Question]
) -> str:
    """Feedback when ``answer`` is what the student's own wrong earlier answers give."""
    follows = entry.follows
    if follows is None:
        return ""
    given = {q: answers.get(q) for q in follows.needs()}
    known = {q: a for q, a in given.items() if a is not None}
    if len(known) < len(given):
        return ""
    wrong = [q for q, a in known.items() if not _within(a, key[q].value, key[q].tolerance)]
    if not wrong or not _within(answer, follows.recompute(known), entry.tolerance):
        return ""
    which = ", ".join(wrong)
    return (
        f"follows from your {which}, which {'is' if len(wrong) == 1 else 'are'} wrong "
        "(an error carried forward)"
    )


def _rounding(answer: float, entry: Question) -> str:
    """Feedback for an answer that equals no slip: rounded too far, close, or off."""
    tolerance = f"{entry.value:.{DECIMALS}f} ± {entry.tolerance:g}"
    for decimals in range(DECIMALS):
        if answer == round(entry.value, decimals):
            return (
                f"rounded to {decimals} decimal place{'' if decimals == 1 else 's'}, beyond "
                f"the tolerance ({tolerance}): give {DECIMALS} decimal places"
            )
    if abs(answer - entry.value) <= _CLOSE * entry.tolerance:
        return (
            f"close, but off by {abs(answer - entry.value):.{DECIMALS}f}, beyond the tolerance "
            f"({tolerance}): carry more digits through the earlier steps"
        )
    return f"expected {tolerance}"


def grade(answers_csv: str | Path, key_json: str | Path) -> list[Marks]:
    """Mark every row of ``answers_csv`` against the key ``key_json`` (see :func:`judge`).

    Raises a ValueError naming the row and column of any bad input.
    """
    key = load_key(key_json)
    marked = []
    for student, name, answers in read_answers(answers_csv, key):
        entries = key[student]
        marks: dict[str, int] = {}
        feedback: dict[str, str] = {}
        for q, entry in entries.items():
            marks[q], text = judge(answers[q], entry, answers, entries)
            if text:
                feedback[q] = text
        marked.append(Marks(student, marks, feedback, name))
    return marked


def write_marks(marks: Sequence[Marks], questions: Sequence[str], out: str | Path) -> Path:
    """Write MARKS.csv: student (and name, if the answers had names), one column per
    question (1 or 0), total, feedback.

    Written to a temporary file in the same folder and renamed, so a marks file is never
    half written and an earlier one stays as it was if writing fails.
    """
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"--out {out}: this is a folder; name the marks file, e.g. marks.csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            named = any(m.name for m in marks)
            writer.writerow(["student", *([NAME] if named else []), *questions, "total",
                             "feedback"])  # fmt: skip
            for m in marks:
                who = [m.student, m.name] if named else [m.student]
                cells = [m.marks[q] for q in questions]
                writer.writerow([*who, *cells, m.total, m.feedback_text()])
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return out
