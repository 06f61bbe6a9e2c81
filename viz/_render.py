"""The graph object every viz builder returns, and the one error for a missing ``dot``.

Building a graph is pure: it only writes DOT text. Only ``render``, ``pipe``, ``view`` and
notebook display run the ``dot`` program; when it is not installed they raise
:class:`DotNotFoundError`, whose message says how to install Graphviz on this system.
Every SVG they return or write has been through :func:`viz._svg.readable_svg`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import graphviz

from viz._labels import fit_label
from viz._svg import readable_svg, text_widths

__all__ = ["ChainGraph", "DotNotFoundError", "install_command", "install_hint"]

_INSTALL_COMMANDS = {
    "linux": [
        "Debian/Ubuntu:  sudo apt-get install graphviz",
        "Fedora/RHEL:    sudo dnf install graphviz",
        "Arch:           sudo pacman -S graphviz",
    ],
    "darwin": ["macOS:          brew install graphviz"],
    "win32": [
        "Windows:        winget install graphviz   (or: choco install graphviz)",
    ],
}
_ANY_SYSTEM = ["conda:          conda install -c conda-forge graphviz"]


def install_hint(platform: str | None = None) -> str:
    """What to type to install Graphviz, this system's commands first.

    >>> print(install_hint("darwin"))  # doctest: +NORMALIZE_WHITESPACE
    The Graphviz program `dot` was not found on PATH; chainrule needs it only to render
    graphs (the DOT text in `.source` works without it). Install Graphviz:
      macOS:          brew install graphviz
      conda:          conda install -c conda-forge graphviz
      Debian/Ubuntu:  sudo apt-get install graphviz
      Fedora/RHEL:    sudo dnf install graphviz
      Arch:           sudo pacman -S graphviz
      Windows:        winget install graphviz   (or: choco install graphviz)
    then open a new shell (or restart the notebook kernel) so that PATH includes it.
    """
    system = sys.platform if platform is None else platform
    system = "linux" if system.startswith("linux") else system
    first = _INSTALL_COMMANDS.get(system, [])
    rest = [line for key, lines in _INSTALL_COMMANDS.items() if key != system for line in lines]
    commands = "\n".join(f"  {line}" for line in [*first, *_ANY_SYSTEM, *rest])
    return (
        "The Graphviz program `dot` was not found on PATH; chainrule needs it only to render\n"
        "graphs (the DOT text in `.source` works without it). Install Graphviz:\n"
        f"{commands}\n"
        "then open a new shell (or restart the notebook kernel) so that PATH includes it."
    )


def _fitted(label: str | None, attrs: dict[str, Any]) -> dict[str, Any]:
    """``attrs`` with ``label`` added, shortened if dot would reject it (full text in the
    tooltip, unless the builder set one)."""
    if label is None:
        return attrs
    shown, tooltip = fit_label(label)
    if tooltip is not None:
        attrs.setdefault("tooltip", tooltip)
    return {"label": shown, **attrs}


def install_command(platform: str | None = None) -> str:
    """The one command that installs Graphviz here, for a one-line message.

    >>> install_command("linux"), install_command("darwin"), install_command("sunos5")
    ('sudo apt-get install graphviz', 'brew install graphviz', 'conda install -c conda-forge graphviz')
    """  # noqa: E501
    system = sys.platform if platform is None else platform
    system = "linux" if system.startswith("linux") else system
    line = _INSTALL_COMMANDS.get(system, _ANY_SYSTEM)[0]
    return line.split(":", 1)[1].split("(")[0].strip()


class DotNotFoundError(RuntimeError):
    """Rendering needs the Graphviz ``dot`` program and it is not installed.

    The message is :func:`install_hint`; ``command`` is :func:`install_command`.

    >>> error = DotNotFoundError()
    >>> str(error).startswith("The Graphviz program `dot` was not found"), error.command
    ... # doctest: +ELLIPSIS
    (True, '...')
    """

    def __init__(self) -> None:
        super().__init__(install_hint())
        self.command = install_command()


class ChainGraph(graphviz.Digraph):
    """A :class:`graphviz.Digraph` that explains a missing ``dot`` in one clear error.

    ``text`` holds a plain-text form of the picture, shown in a notebook when ``dot``
    is missing.

    >>> g = ChainGraph()
    >>> g.node("a"); g.edge("a", "b")
    >>> g.source.split()
    ['digraph', '{', 'a', 'a', '->', 'b', '}']
    """

    text: str = ""

    # Every builder adds its nodes, edges and captions through these three, so this is the
    # one place where a label too long for dot is shortened (see viz._labels.fit_label).
    def node(self, name: str, label: str | None = None, **attrs: Any) -> None:
        """As :meth:`graphviz.Digraph.node`; a label too long for ``dot`` is shortened.

        >>> g = ChainGraph(); g.node("a", label="x" * 20_000)  # dot refuses 16,384 or more
        >>> len(g.source) < 16_384, "tooltip=" in g.source  # the full text on hover
        (True, True)
        """
        super().node(name, **_fitted(label, attrs))

    def edge(self, tail_name: str, head_name: str, label: str | None = None, **attrs: Any) -> None:
        """As :meth:`graphviz.Digraph.edge`; a label too long for ``dot`` is shortened.

        >>> g = ChainGraph(); g.edge("a", "b", label="<w<SUB>1</SUB>>")
        >>> g.source.splitlines()[1].strip()
        'a -> b [label=<w<SUB>1</SUB>>]'
        """
        super().edge(tail_name, head_name, **_fitted(label, attrs))

    def attr(self, kw: str | None = None, **attrs: Any) -> None:
        """As :meth:`graphviz.Digraph.attr`; a label too long for ``dot`` is shortened.

        >>> g = ChainGraph(); g.attr(rankdir="LR", label="y" * 20_000)
        >>> len(g.source) < 16_384, "rankdir=LR" in g.source
        (True, True)
        """
        super().attr(kw, **_fitted(attrs.pop("label", None), attrs))

    def render(
        self,
        *args: Any,
        cleanup: bool = True,
        view: bool = False,
        quiet_view: bool = False,
        **kwargs: Any,
    ) -> Any:
        """As :meth:`graphviz.Digraph.render`; :class:`DotNotFoundError` without ``dot``.

        Unlike graphviz's default, the DOT file written on the way is removed afterwards
        (``.source`` has it); pass ``cleanup=False`` to keep it. An SVG is written as
        :func:`viz._svg.readable_svg` makes it, before a viewer opens it.

        >>> import tempfile
        >>> from pathlib import Path
        >>> g = ChainGraph(); g.edge("a", "b")
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     written = Path(g.render(Path(folder) / "ab", format="svg"))
        ...     sorted(path.name for path in Path(folder).iterdir())  # no DOT file left
        ['ab.svg']
        """
        try:
            rendered = super().render(*args, cleanup=cleanup, **kwargs)
        except graphviz.ExecutableNotFound:
            raise DotNotFoundError() from None
        path = Path(rendered)
        if path.suffix == ".svg":
            path.write_bytes(self._readable_bytes(path.read_bytes(), kwargs.get("engine")))
        if view or quiet_view:
            graphviz.view(rendered, quiet=quiet_view)
        return rendered

    def pipe(self, format: str | None = None, *args: Any, **kwargs: Any) -> Any:
        """As :meth:`graphviz.Digraph.pipe`; :class:`DotNotFoundError` without ``dot``.
        An SVG comes as :func:`viz._svg.readable_svg` makes it.

        >>> g = ChainGraph(); g.edge("a", "b")
        >>> png = g.pipe(format="png")
        >>> png[:4], "<title>" in g.pipe(format="svg", encoding="utf-8")  # no DOT ids to hover
        (b'\x89PNG', False)
        """
        try:
            output = super().pipe(format, *args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise DotNotFoundError() from None
        if (format or self.format) != "svg":
            return output
        if isinstance(output, str):
            return readable_svg(output, self._text_widths(kwargs.get("engine")))
        return self._readable_bytes(output, kwargs.get("engine"))

    def _text_widths(self, engine: str | None) -> dict[tuple[float, float], float]:
        """How wide Graphviz made each text: the same layout again, as JSON."""
        return text_widths(super().pipe(format="json", engine=engine, encoding="utf-8"))

    def _readable_bytes(self, svg: bytes, engine: str | None) -> bytes:
        """:func:`viz._svg.readable_svg` on the bytes of an SVG, bytes that are not UTF-8 kept."""
        # Graphviz writes UTF-8 unless a graph sets another charset: surrogateescape carries
        # bytes that are not UTF-8 through unchanged.
        text = svg.decode("utf-8", errors="surrogateescape")
        readable = readable_svg(text, self._text_widths(engine))
        return readable.encode("utf-8", errors="surrogateescape")

    def _repr_mimebundle_(
        self,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, bytes | str]:
        """Notebook display: the picture, or the text form and the install hint."""
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except (DotNotFoundError, graphviz.ExecutableNotFound):
            body = self.text or self.source
            return {"text/plain": f"{install_hint()}\n\n{body}"}
