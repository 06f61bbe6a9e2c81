"""``chainrule worksheet`` and ``chainrule grade``: the worksheets from the command line.

:func:`add_worksheet_commands` adds both to an argparse subparsers object; errors are
raised as ValueError/OSError for ``chainrule.cli.main`` to print as one line.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from chainrule.options import option, out_folder
from chainrule.worksheets import (
    ANSWERS_JSON,
    KEYS_HTML,
    KEYS_PDF,
    MAX_STUDENTS,
    MOODLE_XML,
    PAPER_SIZES,
    SHEETS,
    STUDENTS,
    TEMPLATE_CSV,
    WORKSHEETS_HTML,
    WORKSHEETS_PDF,
    grade,
    load_key,
    make_worksheets,
    write_marks,
)
from nn.checks import SEED
from nn.data import read_text

__all__ = ["add_worksheet_commands", "run_grade", "run_worksheet"]

DEFAULT_WORKSHEETS_OUT = "worksheets"


def _sizes(text: str) -> tuple[int, ...]:
    """``"4-3-2-1"`` (or ``4,3,2,1``) -> (4, 3, 2, 1)."""
    try:
        return tuple(int(part) for part in text.replace(",", "-").split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected layer sizes such as 4-3-2-1, got {text!r}"
        ) from None


def _sheets(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [s for s in chosen if s not in SHEETS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose one or both of {','.join(SHEETS)}, got {text!r}")
    return chosen


def _names(path: str | None, students: int | None) -> tuple[int, list[str] | None]:
    """The number of students and their names (one per line of the file, if given)."""
    if path is None:
        if students is None:
            raise ValueError("--students N is needed (or --names FILE, one name per line)")
        return students, None
    names = [line.strip() for line in read_text(path).splitlines()]
    names = [name for name in names if name]
    if not names:
        raise ValueError(f"--names {path}: the file holds no names (one per line)")
    if students is not None and students != len(names):
        raise ValueError(
            f"--students {students}, but --names {path} holds {len(names)} names: give one "
            "name per student, or leave out --students"
        )
    return len(names), names


def run_worksheet(args: argparse.Namespace) -> int:
    """Write the class's worksheets, keys, PDFs, answers.json and moodle.xml."""
    students, names = _names(args.names, args.students)
    worksheets = make_worksheets(
        students, args.seed, network=args.network, sheets=args.sheets,
        one_path=args.one_path, two_path=args.two_path, names=names,
    )  # fmt: skip
    written = worksheets.write(args.out, paper=args.paper, pdf=not args.no_pdf)
    out = Path(args.out)
    pages = len(args.sheets)
    print(f"Worksheets for {students} students, seed {args.seed}, in {out}/:")
    if not written.pdf_missing:
        print(f"  {WORKSHEETS_PDF:<22} the class's worksheets, {pages * students} pages "
              f"({pages} per student, the student's number on each)")  # fmt: skip
        print(f"  {KEYS_PDF:<22} their answer keys, every step as the ledgers show it")
    print(f"  {WORKSHEETS_HTML:<22} the class's worksheets, to print from a browser"
          + (" (the same pages as the PDF)" if not written.pdf_missing else ""))  # fmt: skip
    print(f"  {KEYS_HTML:<22} their answer keys, to print from a browser")
    print(f"  {'worksheet-NN.html':<22} one student's worksheet, to print from a browser; "
          "answer-key-NN.html, its key")  # fmt: skip
    print(f"  {ANSWERS_JSON:<22} the key for 'chainrule grade' "
          f"({len(worksheets.question_ids())} questions per student)")  # fmt: skip
    print(f"  {TEMPLATE_CSV:<22} the answers table to fill in, one row per student"
          + (" (and a name column, kept in the marks)" if names else ""))  # fmt: skip
    print(f"  {MOODLE_XML:<22} the same questions as a Moodle XML quiz, a category per student")
    print("Mark the filled-in table with:")
    print(f"  chainrule grade answers.csv --key {out / ANSWERS_JSON} --out marks.csv")
    if written.pdf_missing and not args.no_pdf:
        print(
            f"chainrule worksheet: the PDFs were not made: {written.pdf_missing}; "
            f"{WORKSHEETS_HTML} and {KEYS_HTML} print the same pages from any browser",
            file=sys.stderr,
        )
    return 0


def run_grade(args: argparse.Namespace) -> int:
    """Mark the answers CSV against the key, write MARKS.csv and summarise the class."""
    out = Path(args.out)
    for given, what in ((args.answers, "the answers"), (args.key, "the key")):
        if Path(given).resolve() == out.resolve():
            raise ValueError(f"--out {args.out} is {what} file: name another file for the marks")
    marks = grade(args.answers, args.key)
    key = load_key(args.key)
    questions = list(next(iter(key.values())))
    write_marks(marks, questions, out)
    count = len(marks)
    mean = sum(m.total for m in marks) / count
    print(f"Marked {count} student{'s' if count != 1 else ''}: {mean:.1f} of "
          f"{len(questions)} right on average. Wrote {out}")  # fmt: skip
    width = max(len(q) for q in questions)
    for q in questions:
        right = sum(m.marks[q] for m in marks)
        slips = Counter(m.feedback[q] for m in marks if m.feedback.get(q, "blank") != "blank")
        common = ""
        if slips:
            text, times = slips.most_common(1)[0]
            common = f"   most often ({times}x): {text}"
        print(f"  {q:<{width}}  {right:>3} of {count} right{common}")
    missing = sorted(set(key) - {m.student for m in marks})
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (", ..." if len(missing) > 20 else "")
        print(f"No row for {len(missing)} student(s) of the key: {shown}")
    return 0


def add_worksheet_commands(commands: Any) -> None:
    """Add ``worksheet`` and ``grade`` to an argparse subparsers object."""
    worksheet = commands.add_parser(
        "worksheet",
        help="exercise sheets with different numbers for every student, keys, a Moodle quiz",
        description=(
            "Write worksheets for a class: for every student, the lecture notes' network "
            "with short numbers (sheet A: forward pass, local derivatives along each path, "
            "dL/dw for a one-path and a two-path weight, one update w_new = w_old - eta * "
            "dL/dw) and a small expression with several paths drawn as its graph (sheet "
            "B); the answer keys with every step; answers.json for 'chainrule grade'; a "
            "Moodle XML quiz. The same seed and student number give the same sheet."
        ),
    )
    worksheet.add_argument(
        "--students", type=option(STUDENTS),
        help=f"how many students (numbered 1 to N), at most {MAX_STUDENTS}",
    )  # fmt: skip
    worksheet.add_argument(
        "--seed", type=option(SEED), required=True,
        help="a number you choose; the same seed gives the same sheets (required)",
    )  # fmt: skip
    worksheet.add_argument(
        "--out", type=out_folder, default=DEFAULT_WORKSHEETS_OUT,
        help=f"folder to write into (default: {DEFAULT_WORKSHEETS_OUT})",
    )  # fmt: skip
    worksheet.add_argument(
        "--names", metavar="FILE",
        help="a text file with one student name per line, printed on the sheets",
    )  # fmt: skip
    worksheet.add_argument(
        "--network", type=_sizes, default=(4, 3, 2, 1), metavar="SIZES",
        help="the layer sizes, e.g. 2-2-2-1 (default: 4-3-2-1, the lecture notes'): each of 1 "
        "to 4, one output, and for the default --two-path a second hidden layer of 2",
    )  # fmt: skip
    worksheet.add_argument(
        "--sheets", type=_sheets, default=SHEETS, metavar="KINDS",
        help="network, expression or both (default: network,expression)",
    )  # fmt: skip
    worksheet.add_argument(
        "--one-path", default="w^2_21", metavar="WEIGHT",
        help="the weight with one path whose dL/dw sheet A asks for (default: w^2_21)",
    )  # fmt: skip
    worksheet.add_argument(
        "--two-path", default="w^1_11", metavar="WEIGHT",
        help="the weight with two paths, its local derivatives and its update (default: w^1_11)",
    )  # fmt: skip
    worksheet.add_argument(
        "--paper", choices=tuple(PAPER_SIZES), default="a4", help="paper size (default: a4)"
    )
    worksheet.add_argument(
        "--no-pdf", action="store_true",
        help="write the HTML pages only (the PDFs need Chromium or Google Chrome)",
    )  # fmt: skip
    worksheet.set_defaults(run=run_worksheet)

    marking = commands.add_parser(
        "grade",
        help="mark the students' answers against a worksheet key",
        description=(
            "Read the students' answers (a CSV with a 'student' column and one column per "
            "question id, as printed on the sheets; answers-template.csv has them) and "
            "write MARKS.csv: student, 1 or 0 per question, total, and feedback naming "
            "what differs in each wrong answer (a path left out, a sign, a factor, an "
            "error carried forward, a rounding)."
        ),
    )
    marking.add_argument("answers", help="the answers CSV, one row per student")
    marking.add_argument("--key", required=True, help="the answers.json of 'chainrule worksheet'")
    marking.add_argument("--out", required=True, help="the marks file to write, e.g. marks.csv")
    marking.set_defaults(run=run_grade)
