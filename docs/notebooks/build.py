"""Run the course's notebooks and store them with their outputs.

    .venv/bin/python docs/notebooks/build.py                       # every notebook
    .venv/bin/python docs/notebooks/build.py 02-the-network.ipynb  # some of them

Each notebook runs top to bottom in a fresh kernel (it needs Graphviz's ``dot`` for the
pictures, Chromium for the picture of an explorer, and notebook 5 needs PyTorch); a
failing cell stops the build with that cell's error and leaves that notebook as it was.
The stored notebook keeps its outputs, so that it reads on a code-hosting site without
running, and in JupyterLab before it is trusted (each Graphviz picture as PNG too, an
explorer as a picture), and no text that changes from run to run: no timings (notebook 5
shows its timings in pictures), no ``<... at 0x...>`` text beside a picture, no widget's
view of a kernel that is gone (its HTML view stays). Its metadata is what JupyterLab
writes, the interpreter's version included, so that opening it changes nothing.
``tests/test_notebooks.py`` runs them the same way and checks that the stored text
outputs are the current ones.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from PIL import Image

HERE = Path(__file__).resolve().parent
NOTEBOOKS = sorted(HERE.glob("[0-9][0-9]-*.ipynb"))
CELL_TIMEOUT = 120  # seconds; every cell takes well under one
# The kernel's name and language as JupyterLab writes them when it opens a notebook: stored
# otherwise, JupyterLab marks the notebook changed ("unsaved") the moment it is opened.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
IMAGE_TYPES = ("image/svg+xml", "image/png")
# Run in the kernel before the first cell: every Graphviz picture is stored as PNG too.
# JupyterLab shows no SVG from a notebook it does not trust (one it did not run itself),
# but does show PNG; a browser or a site shows the SVG, which stays first.
PNG_BESIDE_SVG = (
    "import graphviz; get_ipython().display_formatter.formatters['image/png']"
    ".for_type(graphviz.Digraph, lambda graph: graph.pipe(format='png'))"
)
# An explorer's page in an iframe (viz.Explorer's notebook display), its page quoted with '.
EXPLORER_FRAME = re.compile(r"<iframe srcdoc='([^']*)'[^>]*>", re.S)
# Chromium for the picture of an explorer: as the tests' (tests/browser.py) find it.
CHROMIUM = os.environ.get("CHAINRULE_CHROMIUM") or "/usr/bin/chromium"
EXPLORER_VIEWPORT = {"width": 1100, "height": 820}  # the iframe's height
# A widget's view names an object in the kernel, gone once the notebook is stored (Jupyter
# would say "model not found"): the stored output keeps the widget's HTML view instead.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def execute(path: Path) -> Any:
    """``path`` run in a fresh kernel, outputs normalised (see the module); raises
    ``nbclient.exceptions.CellExecutionError`` naming the cell when one fails."""
    notebook = nbformat.read(path, as_version=4)
    # The kernel is this interpreter (no kernel spec installed elsewhere, which may lack
    # chainrule), and talks over Unix sockets in a folder of its own: no open TCP port
    # (the kernel warns about one) and nothing left behind. A kernel manager passed in
    # is the caller's to shut down.
    with tempfile.TemporaryDirectory() as sockets:
        kernel = KernelManager(
            kernel_name="python3",
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[]),
            transport="ipc",
            ip=f"{sockets}/kernel",
        )
        client = NotebookClient(
            notebook,
            km=kernel,
            timeout=CELL_TIMEOUT,
            record_timing=False,
            extra_arguments=[f"--InteractiveShellApp.exec_lines={PNG_BESIDE_SVG}"],
            resources={"metadata": {"path": str(path.parent)}},
        )
        try:
            client.execute()
        finally:
            if kernel.has_kernel:
                kernel.shutdown_kernel()
    # nbclient stored the kernel's language_info, interpreter version included, as
    # JupyterLab would: only the kernel spec is set here.
    notebook.metadata = nbformat.from_dict(
        {"kernelspec": KERNELSPEC, "language_info": notebook.metadata.language_info}
    )
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.metadata = nbformat.from_dict({})
            cell.outputs = _normalised(cell.outputs, path.name)
    return notebook


def _normalised(outputs: list[Any], name: str) -> list[Any]:
    """One output per run of printed text (the kernel splits it where timing says),
    pictures without the ``text/plain`` beside them (an object's repr, with its address),
    Graphviz's PNGs in few colours, widgets as their HTML view (see :data:`WIDGET_VIEW`)
    and an explorer with its picture for where it cannot run (notebook ``name``)."""
    kept: list[Any] = []
    for output in outputs:
        last = kept[-1] if kept else None
        if (
            output.output_type == "stream"
            and last is not None
            and last.output_type == "stream"
            and last.name == output.name
        ):
            last.text += output.text
            continue
        data = output.get("data", {})
        if any(kind in data for kind in IMAGE_TYPES):
            data.pop("text/plain", None)
        if "image/svg+xml" in data and "image/png" in data:
            png = _in_256_colours(base64.b64decode(data["image/png"]))
            data["image/png"] = base64.b64encode(png).decode("ascii")
        data.pop(WIDGET_VIEW, None)
        framed = EXPLORER_FRAME.match(data.get("text/html", ""))
        if framed:
            page = html.unescape(framed.group(1))
            data["text/html"] = with_picture_inside(data["text/html"], page, name)
        kept.append(output)
    return kept


def _in_256_colours(png: bytes) -> bytes:
    """A PNG of a drawing in 256 colours: a quarter of the bytes, looking the same (flat
    colours and anti-aliased text)."""
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    small = io.BytesIO()
    image.quantize(256, method=Image.Quantize.FASTOCTREE).save(small, "PNG", optimize=True)
    return small.getvalue()


def with_picture_inside(frame: str, page: str, name: str) -> str:
    """An explorer's iframe (showing ``page``) with a picture of the page, and how to see
    the page itself (from notebook ``name``), inside the element.

    A browser shows the iframe and never its contents. JupyterLab, for a notebook it does
    not trust, and code-hosting sites remove the iframe and keep what is inside it, so the
    reader sees the picture instead of an empty output."""
    picture = base64.b64encode(_screenshot(page)).decode("ascii")
    inside = (
        "<div><p><b>A picture of the explorer</b> as this cell made it. The page itself "
        "runs in a notebook you trust: in JupyterLab, the command palette's (Ctrl+Shift+C) "
        f"<i>Trust Notebook</i>, or <code>jupyter trust docs/notebooks/{name}</code>; "
        "or run the notebook. Outside a notebook, <code>chainrule explore</code> writes "
        "the same page as <code>chainrule-out/explorer.html</code>.</p>"
        "<img alt=\"The explorer after the backward pass: the network's graph with every "
        "value and gradient, the last step explained, the Numbers panel (the row and the "
        "weights), what the last step sends down each edge, the Train panel (η, λ, tol, "
        'epochs)" '
        f'src="data:image/png;base64,{picture}"></div>'
    )
    return frame.replace("</iframe>", inside + "</iframe>", 1)


def _screenshot(page: str) -> bytes:
    """The explorer's page as headless Chromium shows it, in 256 colours."""
    from playwright.sync_api import sync_playwright  # the test tools'; only for a page

    if not os.access(CHROMIUM, os.X_OK):
        raise FileNotFoundError(
            f"the picture of an explorer needs Chromium, and there is none at {CHROMIUM} "
            "(Debian/Ubuntu: apt-get install chromium; or set CHAINRULE_CHROMIUM)"
        )
    args = ["--headless", "--no-sandbox", "--disable-gpu"]  # no sandbox: root in CI
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            tab = browser.new_page(viewport=EXPLORER_VIEWPORT)
            tab.set_content(page, wait_until="load")
            png = tab.screenshot()
        finally:
            browser.close()
    return _in_256_colours(png)


def svg_texts(svg: str | list[str]) -> tuple[str, ...]:
    """The strings of an SVG's ``<text>`` elements, in order, without their positions
    (which differ between Graphviz builds, the words do not).

    >>> svg_texts('<svg><text x="1">w</text><text x="9">a &amp; b</text></svg>')
    ('w', 'a & b')
    """
    if isinstance(svg, list):  # nbformat may store a text as its lines
        svg = "".join(svg)
    found = re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S)
    return tuple(html.unescape(re.sub(r"<[^>]*>", "", text)) for text in found)


def summary(notebook: Any) -> list[list[tuple[str, ...]]]:
    """Per code cell, what each output says: its type and its text, or the kind of
    picture it holds and, for an SVG, the words written in it (pictures differ between
    Graphviz and matplotlib versions, their words and their presence do not)."""
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs: list[tuple[str, ...]] = []
        for output in cell.outputs:
            if output.output_type == "stream":
                outputs.append(("stream", output.name, output.text))
            elif output.output_type == "error":
                outputs.append(("error", output.ename, output.evalue))
            else:
                data = output.get("data", {})
                images = [kind for kind in IMAGE_TYPES if kind in data]
                texts = svg_texts(data["image/svg+xml"]) if "image/svg+xml" in data else ()
                shown = images or [data.get("text/plain", "")]
                outputs.append((output.output_type, *shown, *texts))
        cells.append(outputs)
    return cells


def main(names: list[str]) -> int:
    paths = [HERE / name for name in names] if names else NOTEBOOKS
    unknown = [path.name for path in paths if path not in NOTEBOOKS]
    if unknown:
        known = ", ".join(path.name for path in NOTEBOOKS)
        print(f"build.py: no notebook {', '.join(unknown)}; there are: {known}", file=sys.stderr)
        return 2
    for path in paths:
        try:
            notebook = execute(path)
        except CellExecutionError as error:
            print(f"build.py: {path.name} was left as it was; a cell failed:\n{error}")
            return 1
        except FileNotFoundError as error:
            print(f"build.py: {path.name} was left as it was: {error}", file=sys.stderr)
            return 1
        nbformat.write(notebook, path)
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main([Path(arg).name for arg in sys.argv[1:]]))
