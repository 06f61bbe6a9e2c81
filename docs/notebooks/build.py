"""Run the course's notebooks and store them with their outputs.

    .venv/bin/python docs/notebooks/build.py                       # every notebook
    .venv/bin/python docs/notebooks/build.py 02-the-network.ipynb  # some of them

Each notebook runs top to bottom in a fresh kernel (it needs Graphviz's ``dot`` for the
pictures, and notebook 5 needs PyTorch); a failing cell stops the build with that cell's
error and leaves that notebook as it was. The stored notebook keeps its outputs, so that
it reads on a code-hosting site without running, and no text that changes from run to
run: no timings (notebook 5 shows its timings in pictures), no interpreter version, no
``<... at 0x...>`` text beside a picture, no widget's view of a kernel that is gone (its
HTML view stays). ``tests/test_notebooks.py`` runs them the same way and checks that
the stored text outputs are the current ones.
"""

from __future__ import annotations

import html
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

HERE = Path(__file__).resolve().parent
NOTEBOOKS = sorted(HERE.glob("[0-9][0-9]-*.ipynb"))
CELL_TIMEOUT = 120  # seconds; every cell takes well under one
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
IMAGE_TYPES = ("image/svg+xml", "image/png")
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
            resources={"metadata": {"path": str(path.parent)}},
        )
        try:
            client.execute()
        finally:
            if kernel.has_kernel:
                kernel.shutdown_kernel()
    notebook.metadata = nbformat.from_dict(METADATA)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.metadata = nbformat.from_dict({})
            cell.outputs = _normalised(cell.outputs)
    return notebook


def _normalised(outputs: list[Any]) -> list[Any]:
    """One output per run of printed text (the kernel splits it where timing says),
    pictures without the ``text/plain`` beside them (an object's repr, with its address)
    and widgets as their HTML view (see :data:`WIDGET_VIEW`)."""
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
        data.pop(WIDGET_VIEW, None)
        kept.append(output)
    return kept


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
        nbformat.write(notebook, path)
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main([Path(arg).name for arg in sys.argv[1:]]))
