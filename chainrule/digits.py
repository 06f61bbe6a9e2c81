"""The digits demo's picture: misclassified 8x8 digits, each with its true and predicted label.

Kept apart from the argument parsing of ``chainrule.cli``: :func:`draw_digits` takes
images and labels and writes a PNG with matplotlib's Agg canvas (no display needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["draw_digits"]


def draw_digits(
    images: Sequence[Sequence[float]],
    captions: Sequence[str],
    path: Path,
    title: str,
    *,
    columns: int = 5,
) -> Path:
    """Each 64-pixel image as an 8x8 grey picture (ink dark) with its caption beneath.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "d.png"
    >>> draw_digits([[16.0] * 64], ["true 1, predicted 7"], out, "one").read_bytes()[:4]
    b'\\x89PNG'
    """
    if len(images) != len(captions):
        raise ValueError(f"{len(images)} images but {len(captions)} captions")
    if not images:
        raise ValueError("draw_digits needs at least one image")
    rows = -(-len(images) // columns)
    width = min(columns, len(images))
    figure = Figure(figsize=(1.7 * width + 0.4, 2.0 * rows + 0.7), dpi=100)
    FigureCanvasAgg(figure)
    for n, (image, caption) in enumerate(zip(images, captions, strict=True)):
        axes = figure.add_subplot(rows, width, n + 1)
        pixels = [list(image[r * 8 : r * 8 + 8]) for r in range(8)]
        axes.imshow(pixels, cmap="gray_r", vmin=0.0, vmax=16.0, interpolation="nearest")
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_xlabel(caption, fontsize=9)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path
