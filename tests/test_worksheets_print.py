"""The worksheets as a teacher gets them: HTML pages, the class PDFs (printed by the real
Chromium, checked with poppler's pdfinfo, pdftotext and pdftoppm), byte-for-byte
reproducibility, and what a user without Chromium or Graphviz sees."""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from browser import chromium_executable
from cli_runs import run_cli
from oracles import on_ci
from PIL import Image

from chainrule.worksheets.pages import answer_text

STUDENTS = 3
SEED = 5
A4_POINTS = (595, 842)
pytestmark = pytest.mark.needs_dot  # every sheet has the library's pictures


def _require(found: str | None, reason: str) -> str:
    """``found`` (a tool's path); without it the test skips, or fails under CI."""
    if not found:
        if on_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return found


def _tool(name: str) -> str:
    return _require(
        shutil.which(name), f"{name} is missing (poppler-utils; ./run test installs it)"
    )


@pytest.fixture(scope="module")
def chromium() -> str:
    executable = chromium_executable()
    found = executable if os.access(executable, os.X_OK) else None
    return _require(found, f"Chromium at {executable} is missing; ./run test installs it")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Path:
    _require(shutil.which("dot"), "Graphviz's dot is missing")
    out = tmp_path_factory.mktemp("class") / "week5"
    names = out.parent / "names.txt"
    names.write_text("Ada Lovelace\nAlan Turing\nGrace Hopper\n", encoding="utf-8")
    env = {"CHAINRULE_CHROMIUM": chromium}
    result = _run(env, "worksheet", "--names", str(names), "--seed", str(SEED), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "worksheets.pdf" in result.stdout and f"{2 * STUDENTS} pages" in result.stdout
    # The summary names every file written (one student's as worksheet-NN.html).
    for path in out.iterdir():
        assert re.sub(r"-\d+\.html$", "-NN.html", path.name) in result.stdout, path.name
    return out


def _run(
    env: dict[str, str], *args: str, path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``chainrule ARGS`` in a subprocess with ``env`` added (``path``: the whole PATH)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        return run_cli(*args, without_dot=path)


def _pdfinfo(pdf: Path) -> dict[str, str]:
    text = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True)
    return dict(line.split(":", 1) for line in text.stdout.splitlines() if ":" in line)


def _page_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        [_tool("pdftotext"), "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def test_the_class_pdfs_have_one_page_per_sheet_and_the_student_on_every_page(
    written: Path,
) -> None:
    names = ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    for pdf in ("worksheets.pdf", "answer-keys.pdf"):
        info = _pdfinfo(written / pdf)
        assert int(info["Pages"]) == 2 * STUDENTS, pdf
        width, height = (round(float(v)) for v in info["Page size"].split("pts")[0].split(" x "))
        assert (width, height) == A4_POINTS
        for page in range(1, 2 * STUDENTS + 1):
            student = (page + 1) // 2
            text = _page_text(written / pdf, page)
            assert f"Student {student}" in text and names[student - 1] in text, (pdf, page)
            # The seed gives every student's key: on the keys only.
            assert (f"seed {SEED}" in text) == (pdf == "answer-keys.pdf"), (pdf, page)
    assert "seed" not in _pdfinfo(written / "worksheets.pdf").get("Title", "").lower()


def test_the_first_worksheet_page_holds_the_questions_by_their_ids(written: Path) -> None:
    text = _page_text(written / "worksheets.pdf", 1)
    for qid in ("O_11", "O_31", "dL/dO_31", "dO_11/dw^1_11", "dL/dw^2_21", "dL/dw^1_11",
                "w^1_11 new", "Forward pass", "x_1 ="):  # fmt: skip
        assert qid in text, qid
    second = _page_text(written / "worksheets.pdf", 2)
    assert all(qid in second for qid in ("dh/dF", "dF/dx", "dh/dg", "dg/dx", "dh/dx"))


def test_the_printed_keys_show_the_engines_numbers(written: Path) -> None:
    key = json.loads((written / "answers.json").read_text())
    for student in range(1, STUDENTS + 1):
        rows = [r for r in key if r["student"] == student]
        text = _page_text(written / "answer-keys.pdf", 2 * student - 1)
        text += _page_text(written / "answer-keys.pdf", 2 * student)
        for row in rows:
            assert answer_text(row["value"]) in text, (student, row["question"])
        assert "from backward(): agrees" in text and "sum over 2 paths" in text


def test_the_first_page_renders_as_a_full_page_with_ink(written: Path, tmp_path: Path) -> None:
    for pdf in ("worksheets.pdf", "answer-keys.pdf"):
        subprocess.run(
            [_tool("pdftoppm"), "-png", "-r", "40", "-f", "1", "-l", "1", str(written / pdf),
             str(tmp_path / pdf)],
            check=True,
        )  # fmt: skip
        (png,) = tmp_path.glob(f"{pdf}*.png")
        pixels = np.asarray(Image.open(png).convert("L")) < 128
        height, width = pixels.shape
        assert abs(height / width - 842 / 595) < 0.01
        assert 0.002 < pixels.mean() < 0.5  # printed, and not a black page
        rows = np.flatnonzero(pixels.any(axis=1))
        assert rows[0] < 0.1 * height  # the head with the student's number at the top
        reaches = 0.75 if pdf == "worksheets.pdf" else 0.3
        assert rows[-1] > reaches * height, pdf  # the sheet fills the page, no half-empty overflow


def test_sheet_b_draws_its_graph_across_the_page(written: Path, tmp_path: Path) -> None:
    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "40", "-f", "2", "-l", "2",
         str(written / "worksheets.pdf"), str(tmp_path / "b")],
        check=True,
    )  # fmt: skip
    (png,) = tmp_path.glob("b*.png")
    pixels = np.asarray(Image.open(png).convert("L")) < 128
    height, width = pixels.shape
    # The graph is the widest ink on the page: at least three quarters of it across,
    # and the sheet's boxes, under it, reach past its middle.
    columns = np.flatnonzero(pixels.any(axis=0))
    assert columns[-1] - columns[0] > 0.75 * width
    assert np.flatnonzero(pixels.any(axis=1))[-1] > 0.55 * height


def test_every_student_gets_a_self_contained_html_page_and_key(written: Path) -> None:
    for student in range(1, STUDENTS + 1):
        for name in (f"worksheet-0{student}.html", f"answer-key-0{student}.html"):
            page = (written / name).read_text(encoding="utf-8")
            assert f"Student {student}" in page and "@media print" in page and "<svg" in page
            assert "<script" not in page and "src=" not in page and "<link" not in page
    template = (written / "answers-template.csv").read_text().splitlines()
    assert template[0].startswith("student,name,O_11,") and len(template) == STUDENTS + 1
    assert template[1].startswith("1,Ada Lovelace,")
    assert (written / "moodle.xml").read_text().startswith('<?xml version="1.0" encoding="UTF-8"?>')


def test_the_same_seed_gives_the_same_files_byte_for_byte(tmp_path: Path) -> None:
    _require(shutil.which("dot"), "Graphviz's dot is missing")
    folders = []
    for hash_seed, students in (("1", "3"), ("2", "4")):
        out = tmp_path / f"run{hash_seed}"
        result = _run({"PYTHONHASHSEED": hash_seed}, "worksheet", "--students", students,
                      "--seed", "9", "--out", str(out), "--no-pdf")  # fmt: skip
        assert result.returncode == 0, result.stderr
        folders.append(out)
    first, second = folders
    for name in ("worksheet-01.html", "worksheet-03.html", "answer-key-02.html"):
        assert filecmp.cmp(first / name, second / name, shallow=False), name
    keys = [json.loads((f / "answers.json").read_text()) for f in folders]
    assert keys[0] == [row for row in keys[1] if row["student"] <= 3]
    again = tmp_path / "again"
    result = _run({"PYTHONHASHSEED": "3"}, "worksheet", "--students", "3", "--seed", "9",
                  "--out", str(again), "--no-pdf")  # fmt: skip
    assert result.returncode == 0
    match, mismatch, errors = filecmp.cmpfiles(first, again, os.listdir(first), shallow=False)
    assert not mismatch and not errors and len(match) == 2 * 3 + 5


def test_without_chromium_the_html_is_written_and_one_line_says_what_is_missing(
    tmp_path: Path,
) -> None:
    _require(shutil.which("dot"), "Graphviz's dot is missing")
    only_dot = tmp_path / "bin"
    only_dot.mkdir()
    os.symlink(shutil.which("dot") or "dot", only_dot / "dot")
    out = tmp_path / "out"
    env = {"CHAINRULE_CHROMIUM": ""}
    result = _run(env, "worksheet", "--students", "2", "--seed", "1", "--out", str(out),
                  path=only_dot)  # fmt: skip
    assert result.returncode == 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "the PDFs were not made" in lines[0] and "was not found" in lines[0]
    assert "apt-get install chromium" in lines[0] and "worksheets.html" in lines[0]
    assert (out / "worksheets.html").is_file() and (out / "worksheet-02.html").is_file()
    assert not list(out.glob("*.pdf")) and not list(out.glob(".*"))
    named = _run({"CHAINRULE_CHROMIUM": str(tmp_path / "no-chrome")}, "worksheet",
                 "--students", "1", "--seed", "1", "--out", str(out))  # fmt: skip
    assert named.returncode == 0 and "is not an executable" in named.stderr


def test_without_graphviz_nothing_is_written_and_one_line_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    result = run_cli("worksheet", "--students", "2", "--seed", "1", "--out", str(out),
                     without_dot=empty)  # fmt: skip
    assert result.returncode == 3
    assert "Graphviz's dot program, which is not installed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def _printed_name_size(out: Path) -> float:
    """The point size the network's names print at on sheet A: their size in the SVG
    times the print's scale, the distance between x_1 and x_2 on paper over that in the SVG."""
    page = (out / "worksheet-01.html").read_text(encoding="utf-8")
    svg = page[page.index("<figure class='network'>") :]
    inputs = re.findall(
        r'<ellipse fill="#f3f4f6"[^>]* cy="([-\d.]+)"[^>]*/>\s*<text [^>]*font-size="([\d.]+)"',
        svg[: svg.index("</svg>")],
    )
    (svg_y1, size), (svg_y2, _) = inputs[:2]
    bbox = subprocess.run(
        [_tool("pdftotext"), "-bbox", "-f", "1", "-l", "1", str(out / "worksheets.pdf"), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    # The names' base letters are words of their own: the x of each input, one above another.
    xs = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>x</word>', bbox)
    column = [float(y) for x, y in xs if x == xs[0][0]]
    assert len(column) == len(inputs), column
    return float(size) * (column[1] - column[0]) / (float(svg_y2) - float(svg_y1))


@pytest.mark.parametrize(("paper", "size"), [("letter", "612 x 792"), ("a4", "594.96 x 841.92")])
def test_the_largest_network_gives_one_page_per_sheet_and_names_a_student_can_read(
    paper: str, size: str, tmp_path: Path, chromium: str
) -> None:
    _require(shutil.which("dot"), "Graphviz's dot is missing")
    out = tmp_path / paper
    result = _run({"CHAINRULE_CHROMIUM": chromium}, "worksheet", "--students", "2", "--seed", "3",
                  "--paper", paper, "--network", "4-4-2-1", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    for pdf in ("worksheets.pdf", "answer-keys.pdf"):
        info = _pdfinfo(out / pdf)
        assert info["Pages"].strip() == "4" and size in info["Page size"], pdf
    # The tallest picture, on the shorter paper too, keeps x_1, O_11 as large as the text.
    assert _printed_name_size(out) >= 10
