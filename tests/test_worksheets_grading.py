"""Grading: the key itself gets full marks; a slip gets the feedback that names it; bad
input gets an error naming the row and the column; a marks file is never half written."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from cli_runs import main_captured

from chainrule.worksheets import grading, make_worksheets
from chainrule.worksheets.pages import answer_text

SEED = 11
STUDENTS = 6


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "answers.json"
    path.write_text(make_worksheets(STUDENTS, SEED).answers_json(), encoding="utf-8")
    return path


def _key_rows(key_file: Path) -> dict[int, dict[str, dict]]:
    rows: dict[int, dict[str, dict]] = {}
    for row in json.loads(key_file.read_text()):
        rows.setdefault(row["student"], {})[row["question"]] = row
    return rows


def _right_answers(key_file: Path) -> dict[int, dict[str, str]]:
    """Every student's answers as the sheets ask for them: the key to 4 decimal places."""
    return {
        student: {q: answer_text(row["value"]) for q, row in questions.items()}
        for student, questions in _key_rows(key_file).items()
    }


def _write_csv(path: Path, answers: dict[int, dict[str, str]], delimiter: str = ",") -> Path:
    questions = list(next(iter(answers.values())))
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(["student", "name", *questions])
        for student, row in answers.items():
            writer.writerow([student, f"student {student}", *(row[q] for q in questions)])
    return path


def _marks(path: Path) -> dict[int, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {int(row["student"]): row for row in csv.DictReader(f)}


def test_the_key_itself_gets_full_marks(
    key_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = _write_csv(tmp_path / "answers.csv", _right_answers(key_file))
    status, out, err = main_captured(
        capsys, "grade", str(answers), "--key", str(key_file), "--out", str(tmp_path / "m.csv")
    )
    assert status == 0, err
    marks = _marks(tmp_path / "m.csv")
    questions = list(_key_rows(key_file)[1])
    with open(tmp_path / "m.csv", encoding="utf-8") as f:
        # the answers' name column is kept beside the student's number
        assert next(csv.reader(f)) == ["student", "name", *questions, "total", "feedback"]
    for student, row in marks.items():
        assert row["name"] == f"student {student}"
        assert row["total"] == str(len(questions)) and row["feedback"] == ""
        assert all(row[q] == "1" for q in questions)
    assert f"Marked {STUDENTS} students: {len(questions)}.0 of {len(questions)} right" in out


def test_every_slip_of_every_question_gets_the_feedback_that_names_it(key_file: Path) -> None:
    key = grading.load_key(key_file)
    checked = 0
    for student, entries in key.items():
        right = {q: e.value for q, e in entries.items()}
        for q, entry in entries.items():
            for slip in entry.slips:
                # As a student would write it: rounded to the 4 decimals the sheet asks for.
                answer = float(answer_text(slip.value))
                mark, feedback = grading.judge(answer, entry, {**right, q: answer}, entries)
                assert (mark, feedback) == (0, slip.feedback), (student, q)
                checked += 1
    assert checked > STUDENTS * 40


def test_the_named_mistakes_of_the_issue(key_file: Path, tmp_path: Path) -> None:
    rows = _key_rows(key_file)
    answers = _right_answers(key_file)
    slips = {s["feedback"]: s["value"] for s in rows[1]["dL/dw^1_11"]["slips"]}
    path = next(f for f in slips if f.startswith("left out the path L -> O_31 -> O_22"))
    answers[1]["dL/dw^1_11"] = answer_text(slips[path])  # a sum over paths missing one
    answers[2]["dL/dw^2_21"] = answer_text(-rows[2]["dL/dw^2_21"]["value"])  # a sign error
    value, tolerance = rows[3]["dL/dO_31"]["value"], rows[3]["dL/dO_31"]["tolerance"]
    rounded = next(round(value, d) for d in (2, 1, 0) if abs(round(value, d) - value) > tolerance)
    answers[3]["dL/dO_31"] = f"{rounded}"  # a rounding beyond the tolerance
    answers[4]["O_21"] = ""
    grading.write_marks(
        grading.grade(_write_csv(tmp_path / "a.csv", answers), key_file),
        list(rows[1]),
        tmp_path / "m.csv",
    )
    marks = _marks(tmp_path / "m.csv")
    assert marks[1]["dL/dw^1_11"] == "0"
    assert marks[1]["feedback"] == (
        "dL/dw^1_11: left out the path L -> O_31 -> O_22 -> O_11 -> w^1_11: dL/dw^1_11 is the "
        "sum over 2 paths"
    )
    assert marks[2]["feedback"] == "dL/dw^2_21: the sign is flipped"
    assert marks[3]["feedback"].startswith("dL/dO_31: rounded to ")
    assert "beyond the tolerance" in marks[3]["feedback"]
    assert marks[4]["feedback"] == "O_21: blank" and marks[4]["O_21"] == "0"
    total = len(rows[1])
    assert [marks[s]["total"] for s in (1, 2, 3, 4, 5)] == [str(total - 1)] * 4 + [str(total)]


def test_an_error_carried_forward_names_the_factor_or_input_that_differs(key_file: Path) -> None:
    key = grading.load_key(key_file)
    entries = key[2]
    answers = {q: float(answer_text(e.value)) for q, e in entries.items()}
    # A wrong local derivative, and dL/dw and the update computed right from it.
    answers["dO_22/dO_11"] = round(entries["dO_22/dO_11"].value + 0.25, 4)
    gradient = entries["dL/dw^1_11"]
    assert gradient.follows is not None
    g = math.fsum(math.prod(answers[f] for f in p) for p in gradient.follows.paths)
    answers["dL/dw^1_11"] = round(g, 4)
    update = entries["w^1_11 new"]
    assert update.follows is not None
    answers["w^1_11 new"] = round(update.follows.weight - update.follows.eta * g, 4)
    # A wrong O_11, and O_21 computed right from it.
    answers["O_11"] = round(entries["O_11"].value + 0.2, 4)
    o21 = entries["O_21"].follows
    assert o21 is not None
    z = sum(w * answers[q] for q, w in o21.inputs)
    answers["O_21"] = round(math.tanh(z), 4)
    feedback = {q: grading.judge(answers[q], entries[q], answers, entries) for q in entries}
    assert feedback["dL/dw^1_11"] == (
        0,
        "follows from your dO_22/dO_11, which is wrong (an error carried forward)",
    )
    assert feedback["w^1_11 new"] == (
        0,
        "follows from your dL/dw^1_11, which is wrong (an error carried forward)",
    )
    assert feedback["O_21"] == (
        0,
        "follows from your O_11, which is wrong (an error carried forward)",
    )
    assert feedback["O_12"] == (1, "")


def test_semicolons_and_decimal_commas_as_spreadsheets_write_them(
    key_file: Path, tmp_path: Path
) -> None:
    answers = _right_answers(key_file)
    european = {s: {q: v.replace(".", ",") for q, v in row.items()} for s, row in answers.items()}
    path = _write_csv(tmp_path / "a.csv", european, delimiter=";")
    assert all(m.total == len(answers[1]) for m in grading.grade(path, key_file))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("drop dL/dw^1_11", "row 1 (the header) has no column 'dL/dw^1_11'"),
        ("drop student", "row 1 (the header) has no column 'student'"),
        (
            "student 99",
            "row 3, column 'student': student 99 is not in the key (it has students 1 to 6)",
        ),
        ("student x", "row 3, column 'student': 'x' is not a student number"),
        ("text", "row 2 (student 1), column 'O_21': 'abc' is not a number"),
        (
            "comma",
            "row 2 (student 1), column 'L': '0,5' is not a number (write a decimal point: 0.5)",
        ),
        ("twice", "rows 2 and 3 both hold student 1"),
        ("ragged", "row 4 has 3 cells, but the header has 27"),
    ],
)
def test_bad_answers_name_the_row_and_the_column_and_write_no_marks(
    change: str, message: str, key_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = _right_answers(key_file)
    path = _write_csv(tmp_path / "a.csv", answers)
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    if change.startswith("drop"):
        column = header.index(change.split()[1])
        lines = [
            ",".join(c for i, c in enumerate(line.split(",")) if i != column) for line in lines
        ]
    elif change.startswith("student"):
        lines[2] = change.split()[1] + lines[2][1:]
    elif change == "text":
        cells = lines[1].split(",")
        cells[header.index("O_21")] = "abc"
        lines[1] = ",".join(cells)
    elif change == "comma":
        cells = lines[1].split(",")
        cells[header.index("L")] = '"0,5"'
        lines[1] = ",".join(cells)
    elif change == "twice":
        lines[2] = "1" + lines[2][1:]
    elif change == "ragged":
        lines[3] = "3,x,0.5"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    marks = tmp_path / "marks.csv"
    status, _, err = main_captured(capsys, "grade", str(path), "--key", str(key_file),
                                   "--out", str(marks))  # fmt: skip
    assert status == 2
    assert message in err and str(path) in err and "Traceback" not in err
    assert not marks.exists()


def test_a_bad_key_file_is_named(tmp_path: Path, key_file: Path) -> None:
    answers = _write_csv(tmp_path / "a.csv", _right_answers(key_file))
    for text, message in (
        ("{", "not a JSON file"),
        ("{}", "expected a list of objects with student, question, value and tolerance"),
        ('[{"student": 1, "question": "L", "value": 1.0}]', "entry 1 has no 'tolerance'"),
        (
            '[{"student": 1, "question": "L", "value": "a", "tolerance": 0.1}]',
            "entry 1 is malformed",
        ),
    ):
        bad = tmp_path / "answers.json"
        bad.write_text(text)
        with pytest.raises(ValueError, match=message):
            grading.grade(answers, bad)


def test_a_marks_file_is_never_half_written(
    key_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marks = grading.grade(_write_csv(tmp_path / "a.csv", _right_answers(key_file)), key_file)
    out = tmp_path / "marks.csv"
    out.write_text("the marks of last week\n")
    questions = list(marks[0].marks)

    class Failing:
        def __init__(self, f: object) -> None:
            self.rows = 0

        def writerow(self, row: list[object]) -> None:
            self.rows += 1
            if self.rows == 3:
                raise OSError(28, "No space left on device")

    monkeypatch.setattr(grading.csv, "writer", Failing)
    with pytest.raises(OSError, match="No space left"):
        grading.write_marks(marks, questions, out)
    assert out.read_text() == "the marks of last week\n"
    assert {p.name for p in tmp_path.iterdir()} == {"a.csv", "marks.csv"}  # nothing partial


def test_grade_refuses_to_overwrite_its_own_input(
    key_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = _write_csv(tmp_path / "a.csv", _right_answers(key_file))
    before = answers.read_text()
    status, _, err = main_captured(capsys, "grade", str(answers), "--key", str(key_file),
                                   "--out", str(answers))  # fmt: skip
    assert status == 2 and "is the answers file" in err
    assert answers.read_text() == before


def test_names_go_from_the_template_through_the_answers_into_the_marks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = ["Zoë Ng", "Ada, Countess of Lovelace"]  # a comma, quoted by the CSV
    ws = make_worksheets(2, SEED, names=names)
    (tmp_path / "key.json").write_text(ws.answers_json(), encoding="utf-8")
    rows = list(csv.reader(ws.answers_template().splitlines()))
    assert rows[0][:3] == ["student", "name", "O_11"]
    assert [row[:2] for row in rows[1:]] == [["1", names[0]], ["2", names[1]]]
    rows[1][2] = "0.5"  # one answer filled in, the rest blank
    with open(tmp_path / "answers.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    argv = ["grade", str(tmp_path / "answers.csv"), "--key", str(tmp_path / "key.json")]
    status, _, err = main_captured(capsys, *argv, "--out", str(tmp_path / "m.csv"))
    assert status == 0, err
    marks = _marks(tmp_path / "m.csv")
    assert [marks[1]["name"], marks[2]["name"]] == names
    # Without names, neither the template nor the marks has the column.
    plain = make_worksheets(2, SEED).answers_template().splitlines()[0]
    assert plain.startswith("student,O_11,")
    marks_file = grading.write_marks(
        [grading.Marks(1, {"O_11": 1}, {})], ["O_11"], tmp_path / "plain.csv"
    )
    assert marks_file.read_text(encoding="utf-8").splitlines()[0] == "student,O_11,total,feedback"


@pytest.mark.parametrize(
    ("which", "remedy"),
    [
        ("answers", "save the file as UTF-8 (CSV UTF-8 in a spreadsheet)"),
        ("key", "the key is the answers.json that 'chainrule worksheet' writes"),
        ("names", "save the file as UTF-8 (CSV UTF-8 in a spreadsheet)"),
    ],
)
def test_a_file_that_is_not_utf8_is_named_with_what_to_do(
    which: str, remedy: str, key_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Latin-1, as Windows editors and spreadsheets often save: É is the byte 0xc9.
    bad = tmp_path / f"{which}-latin1.txt"
    bad.write_bytes("student,name\n1,JOSÉ\n".encode("latin-1"))
    answers = _write_csv(tmp_path / "a.csv", _right_answers(key_file))
    out = tmp_path / "out"
    if which == "names":
        argv = ["worksheet", "--seed", "1", "--names", str(bad), "--out", str(out)]
    else:
        given = {"answers": (bad, key_file), "key": (answers, bad)}[which]
        argv = ["grade", str(given[0]), "--key", str(given[1]), "--out", str(out)]
    status, _, err = main_captured(capsys, *argv)
    assert status == 2 and "Traceback" not in err and "codec" not in err
    assert f"{bad}: not UTF-8 text (byte 0xc9 at position 18); {remedy}\n" in err
    assert not out.exists()
