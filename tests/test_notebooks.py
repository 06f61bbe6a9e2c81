"""The notebook course (docs/notebooks) runs, and is stored with its current outputs.

Each notebook is executed in a fresh kernel by ``docs/notebooks/build.py``, the same code
that stores them; a failing cell (an ``assert`` in the notebook included) fails the test.
The stored notebook must then say what the fresh run says, cell by cell, so that what a
reader sees on a code-hosting site is what the code does today.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest
from oracles import require_torch
from PIL import Image

BUILD = Path(__file__).resolve().parent.parent / "docs" / "notebooks" / "build.py"
# A notebook with its pictures, each Graphviz picture twice (SVG, and PNG for JupyterLab,
# which shows no SVG from a notebook it does not trust) and notebook 2's explorer page with
# a picture of it inside: today's are 200-570 KiB.
MAX_BYTES = 640_000
# What JupyterLab writes into a notebook's language_info when its kernel starts; stored
# otherwise, JupyterLab marks the notebook changed as soon as it opens it.
LANGUAGE_INFO = ("codemirror_mode", "file_extension", "mimetype", "name", "pygments_lexer")


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


def _shows_an_explorer(path: Path) -> bool:
    """Whether the stored notebook shows an explorer's page (build.py pictures it)."""
    notebook = nbformat.read(path, as_version=4)
    return any(
        build.EXPLORER_FRAME.match(o.get("data", {}).get("text/html", ""))
        for o in _outputs(notebook)
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
    rebuild = "rebuild: .venv/bin/python docs/notebooks/build.py"
    assert notebook.metadata.kernelspec == build.KERNELSPEC, rebuild
    assert all(notebook.metadata.language_info.get(key) for key in LANGUAGE_INFO), rebuild
    assert re.fullmatch(r"3\.\d+\.\d+", notebook.metadata.language_info.get("version", ""))
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
    if _shows_an_explorer(path) and not os.access(build.CHROMIUM, os.X_OK):
        pytest.fail(f"the explorer's picture is taken with Chromium ({build.CHROMIUM}), missing")
    if _needs_torch(path):
        require_torch(f"notebook {path.name}")  # skips locally without PyTorch; fails on CI
    executed = build.execute(path)  # raises, naming the cell, if one fails
    notebook = nbformat.read(path, as_version=4)
    # The kernel's own language_info is stored (an interpreter's version may differ).
    language = {key: executed.metadata.language_info[key] for key in LANGUAGE_INFO}
    assert {key: notebook.metadata.language_info[key] for key in LANGUAGE_INFO} == language
    fresh, stored = build.summary(executed), build.summary(notebook)
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


def _outputs(notebook: Any) -> list[Any]:
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return [output for cell in code for output in cell.outputs]


def _png_size(png: str | list[str]) -> tuple[int, int]:
    image = Image.open(io.BytesIO(base64.b64decode("".join(png))))
    assert image.format == "PNG"
    return image.size


@pytest.mark.parametrize("path", build.NOTEBOOKS, ids=lambda path: path.stem)
def test_every_svg_picture_has_a_png_for_an_untrusted_notebook(path: Path) -> None:
    # JupyterLab shows no SVG in a notebook it did not run itself, but shows PNG.
    for output in _outputs(nbformat.read(path, as_version=4)):
        data = output.get("data", {})
        if "image/svg+xml" in data:
            assert "image/png" in data, f"{path.name}: an SVG without its PNG"
            svg = re.search(
                r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', "".join(data["image/svg+xml"])
            )
            assert svg is not None
            # The same picture, at the size a browser gives the SVG (96 pixels an inch).
            points = [float(size) for size in svg.groups()]
            pixels = _png_size(data["image/png"])
            assert all(
                abs(px - pt * 96 / 72) <= 2 for px, pt in zip(pixels, points, strict=True)
            ), path.name


class UntrustedView(HTMLParser):
    """The text and images a sanitizer leaves of some HTML (JupyterLab's, for a notebook it
    does not trust, or a code-hosting site's): no iframe (its contents kept), no script."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.words: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self._scripts = 0
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._scripts += tag == "script"
        if tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        self._scripts -= tag == "script"

    def handle_data(self, data: str) -> None:
        if not self._scripts:
            self.words += data.split()


def test_the_explorer_shows_a_picture_and_how_to_run_it_where_it_cannot_run() -> None:
    path = build.HERE / "02-the-network.ipynb"
    frames = [
        output.data["text/html"]
        for output in _outputs(nbformat.read(path, as_version=4))
        if "<iframe" in output.get("data", {}).get("text/html", "")
    ]
    assert len(frames) == 1, "notebook 2 shows the explorer once"
    view = UntrustedView(frames[0])
    assert len(view.images) == 1
    picture = view.images[0]
    assert "explorer" in (picture["alt"] or "")
    png = (picture["src"] or "").removeprefix("data:image/png;base64,")
    assert _png_size(png) == tuple(build.EXPLORER_VIEWPORT.values())
    words = " ".join(view.words)
    assert "Trust Notebook" in words
    assert f"jupyter trust docs/notebooks/{path.name}" in words
    assert "chainrule explore" in words


def test_an_iframe_with_nothing_inside_shows_nothing_untrusted() -> None:
    # What the test above relies on: the iframe's page is not what a sanitizer leaves.
    frame = "<iframe srcdoc='<p>page <img src=x></p>' style=\"width:100%\"></iframe>"
    assert UntrustedView(frame).words == [] and UntrustedView(frame).images == []
    inside = UntrustedView(frame.replace("</iframe>", "<p>a picture</p><img src=y></iframe>"))
    assert inside.words == ["a", "picture"] and inside.images == [{"src": "y"}]
