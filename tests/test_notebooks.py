"""The notebook course (docs/notebooks) runs, and is stored with its current outputs.

Each notebook is executed in a fresh kernel by ``docs/notebooks/build.py``, the same code
that stores them; a failing cell (an ``assert`` in the notebook included) fails the test.
The stored notebook must then say what the fresh run says, cell by cell, so that what a
reader sees on a code-hosting site is what the code does today.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest
from oracles import require_torch

BUILD = Path(__file__).resolve().parent.parent / "docs" / "notebooks" / "build.py"
MAX_BYTES = 400_000  # a notebook with its pictures; today's are 95-280 KiB


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebook_build", BUILD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


def _needs_torch(path: Path) -> bool:
    """Whether a code cell of the notebook imports PyTorch."""
    notebook = nbformat.read(path, as_version=4)
    return any(
        re.search(r"^\s*import torch\b", cell.source, re.M)
        for cell in notebook.cells
        if cell.cell_type == "code"
    )


def _pictures_left_to_baseline_shift(notebook: Any) -> list[int]:
    """The code cells (numbered from 1) holding an SVG whose sub- and superscripts were
    not redrawn by viz._svg.readable_svg: browsers draw those full size."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return [
        number
        for number, cell in enumerate(code, start=1)
        for output in cell.outputs
        if "baseline-shift" in "".join(output.get("data", {}).get("image/svg+xml", ""))
    ]


def test_the_course_has_five_chapters_in_order() -> None:
    assert [path.name[:3] for path in build.NOTEBOOKS] == ["01-", "02-", "03-", "04-", "05-"]


def test_only_the_chapter_beyond_the_notes_needs_pytorch() -> None:
    # Chapters 1-4 run with chainrule alone; chapter 5 compares it with PyTorch.
    needing = [path.name[:3] for path in build.NOTEBOOKS if _needs_torch(path)]
    assert needing == ["05-"]


@pytest.mark.parametrize("path", build.NOTEBOOKS, ids=lambda path: path.stem)
def test_the_stored_notebook_reads_without_running(path: Path) -> None:
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes"
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata == build.METADATA, "rebuild: python docs/notebooks/build.py"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    # Run top to bottom in one kernel, as build.py does; not by hand, out of order.
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: execution counts {counts}"
    outputs = [output for cell in code for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert any(kind in o.get("data", {}) for o in outputs for kind in build.IMAGE_TYPES)
    assert not _pictures_left_to_baseline_shift(notebook), (
        f"{path.name}: stored pictures from before chainrule redrew their scripts; rebuild "
        "with: .venv/bin/python docs/notebooks/build.py"
    )
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert "lecture notes" in notebook.cells[0].source
    # To a reader "the seed" is the random seed; the notes are "the lecture notes".
    assert not re.search(r"\bthe seed\b", prose, re.I)


@pytest.mark.parametrize("path", build.NOTEBOOKS, ids=lambda path: path.stem)
def test_the_notebook_runs_and_its_stored_outputs_are_current(path: Path) -> None:
    if shutil.which("dot") is None:
        pytest.fail("the notebooks draw graphs with Graphviz's dot; ./run test installs it")
    if _needs_torch(path):
        require_torch(f"notebook {path.name}")  # skips locally without PyTorch; fails on CI
    fresh = build.summary(build.execute(path))  # raises, naming the cell, if one fails
    stored = build.summary(nbformat.read(path, as_version=4))
    assert len(fresh) == len(stored)
    for number, (now, then) in enumerate(zip(fresh, stored, strict=True), start=1):
        assert now == then, (
            f"{path.name}, code cell {number}: the stored outputs are not what the cell "
            "prints today; rebuild with: .venv/bin/python docs/notebooks/build.py"
        )


def test_a_stored_picture_is_compared_by_its_words_not_its_positions() -> None:
    notebook = nbformat.read(build.NOTEBOOKS[0], as_version=4)
    stored = build.summary(notebook)
    svg_outputs = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/svg+xml" in output.get("data", {})
    ]
    assert svg_outputs
    data = svg_outputs[0].data
    assert build.svg_texts(data["image/svg+xml"]), "a graph's picture has words"
    # Another Graphviz build moves the words: the same.
    data["image/svg+xml"] = re.sub(r'(<text\b[^>]*?) x="[^"]*"', r'\1 x="0"', data["image/svg+xml"])
    assert build.summary(notebook) == stored
    # An old caption: noticed.
    data["image/svg+xml"] = re.sub(
        r">[^<]+</text>", ">step 0: the seed dh/dh = 1</text>", data["image/svg+xml"], count=1
    )
    assert build.summary(notebook) != stored
    # A picture stored as Graphviz writes it, its scripts left to baseline-shift: noticed.
    assert not _pictures_left_to_baseline_shift(notebook)
    data["image/svg+xml"] = data["image/svg+xml"].replace(
        'font-size="', 'baseline-shift="sub" font-size="', 1
    )
    assert _pictures_left_to_baseline_shift(notebook)
