"""MkDocs hooks that keep the documentation site one source with the repository.

- A page line ``<!-- readme: ## Two commands -->`` is replaced by that section of the
  README (``<!-- readme: introduction -->``: the text before its first section), its
  heading at the level the line asks for and its links pointing into the site. The README
  stays the one place where the tour, the architecture and the rest are written.
- ``benchmarks/README.md`` and ``benchmarks/RESULTS.md`` become pages as they are.
- The explorer pages are written at build time by the library itself (``chainrule
  explore`` and ``viz.explorer``), so the site shows what the code makes today.
- The notebooks' math becomes MathML when the site is built: browsers draw MathML
  themselves, where nbconvert would leave it to MathJax, a script fetched from a CDN. A
  notebook's table of contents and title are taken from its headings, math written in
  the notes' plain notation (``w^3_11``).
- ``<!-- api: viz -->`` is the reference of every name in ``viz.__all__`` (mkdocstrings),
  including a function named like the module it comes from (``viz.explain``), which
  Griffe would take for the module.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import re
import tempfile
from pathlib import Path
from typing import Any

import latex2mathml.converter
import nbformat
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.toc import get_toc
from nbconvert.filters.markdown_mistune import IPythonRenderer

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARKER = re.compile(r"^<!-- readme: (?:(#+) )?(.+?) -->$", re.M)
HEADING = re.compile(r"^(#+) (.*)$", re.M)
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
LINK = re.compile(r"\]\(([^)#\s]+)((?:#[^)]*)?)\)")
# Pages the site takes from the repository as they are: site path -> repository path.
COPIED_PAGES = {
    "benchmarks/README.md": "benchmarks/README.md",
    "benchmarks/RESULTS.md": "benchmarks/RESULTS.md",
}
# The explorer pages docs/explorer.md embeds, by their paths in the site.
EXPLORER_NETWORK = "explorer/notes-network.html"
EXPLORER_EXAMPLE = "explorer/chain-rule-example.html"
# nbconvert's HTML leaves math for MathJax, with this block loading it.
MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
MATHML_NAMESPACE = "http://www.w3.org/1998/Math/MathML"
HTML_HEADING = re.compile(r'<h([1-6]) id="([^"]+)"')
# LaTeX commands in the notebooks' headings, as plain text.
LATEX_SYMBOLS = {"partial": "∂", "approx": " ≈ ", "cdot": " · ", "eta": "η"}
API = re.compile(r"^<!-- api: (\w+) -->$", re.M)


def readme_section(title: str) -> tuple[int, str]:
    """The README section headed ``title`` (its level and text, heading included), or
    ``introduction``: the text before the first ``##`` section."""
    text = README.read_text(encoding="utf-8")
    headings = markdown_headings(text)
    if title == "introduction":
        end = next((h.start() for h in headings if len(h.group(1)) == 2), len(text))
        return 1, text[:end]
    for i, heading in enumerate(headings):
        if heading.group(2).strip() == title:
            level = len(heading.group(1))
            following = (h for h in headings[i + 1 :] if len(h.group(1)) <= level)
            end = next((h.start() for h in following), len(text))
            return level, text[heading.start() : end]
    found = ", ".join(repr(h.group(2)) for h in headings if len(h.group(1)) == 2)
    raise PluginError(f"README.md has no section {title!r} (its sections: {found})")


def markdown_headings(text: str) -> list[re.Match[str]]:
    """The headings of some Markdown; a ``#`` line in a fenced code block is a comment."""
    code = [range(*fence.span()) for fence in FENCE.finditer(text)]
    return [h for h in HEADING.finditer(text) if not any(h.start() in block for block in code)]


def site_link(target: str, page_dir: Path) -> str:
    """A README link (relative to the repository root) as a link from ``page_dir`` of
    the site: ``docs/`` is the site's root, a folder means its README."""
    if "://" in target or target.startswith("mailto:"):
        return target
    path = Path(target)
    if (ROOT / path).is_dir():
        path /= "README.md"
    if path.parts[0] == "docs":
        path = Path(*path.parts[1:])
    elif path.as_posix() not in COPIED_PAGES:
        raise PluginError(f"README.md links to {target}, which the site does not have")
    return Path(*[".."] * len(page_dir.parts), path).as_posix()


def included(marker: re.Match[str], page_dir: Path) -> str:
    level, text = readme_section(marker.group(2))
    shift = len(marker.group(1) or "#" * level) - level
    for heading in reversed(markdown_headings(text)):
        level = len(heading.group(1)) + shift
        text = f"{text[: heading.start()]}{'#' * level} {heading.group(2)}{text[heading.end() :]}"
    return LINK.sub(lambda m: f"]({site_link(m.group(1), page_dir)}{m.group(2)})", text)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    page_dir = Path(page.file.src_uri).parent
    markdown = MARKER.sub(lambda marker: included(marker, page_dir), markdown)
    return API.sub(lambda marker: api_reference(marker.group(1)), markdown)


def api_reference(package: str) -> str:
    """mkdocstrings' blocks for the names of ``package.__all__`` (see the module)."""
    module = importlib.import_module(package)
    blocks = [f"# {package}", f"::: {package}"]
    for name in module.__all__:
        obj = getattr(module, name)
        if importlib.util.find_spec(f"{package}.{name}") and hasattr(obj, "__qualname__"):
            # The anchor is the name users write, viz.explain; the block, the function's.
            blocks.append(
                f"[](){{#{package}.{name}}}\n\n::: {obj.__module__}.{obj.__qualname__}\n"
                "    options:\n      show_root_heading: true\n      show_root_full_path: false"
            )
    return "\n\n".join(blocks)


def on_files(files: Files, config: Any) -> Files:
    for site_path, repo_path in COPIED_PAGES.items():
        files.append(File.generated(config, site_path, abs_src_path=str(ROOT / repo_path)))
    for site_path, html in explorer_pages().items():
        files.append(File.generated(config, site_path, content=html))
    return files


def explorer_pages() -> dict[str, str]:
    """The pages docs/explorer.md embeds, written by ``chainrule explore`` and
    ``viz.explorer``."""
    import viz
    from chainrule.cli import main
    from chainrule.examples import notes_example

    with tempfile.TemporaryDirectory() as out:
        with contextlib.redirect_stdout(io.StringIO()):
            status = main(["explore", "--out", out])
        if status != 0:
            raise PluginError(f"chainrule explore failed with status {status}")
        network = (Path(out) / "explorer.html").read_text(encoding="utf-8")
    # The notes' h with their names F and g, as the README's first picture draws it.
    return {EXPLORER_NETWORK: network, EXPLORER_EXAMPLE: viz.explorer(notes_example()).html}


def mathml(latex: str, display: str) -> str:
    try:
        markup = latex2mathml.converter.convert(latex, display=display)
    except Exception as error:  # the converter raises many kinds; name the formula
        raise PluginError(f"cannot turn the formula {latex!r} into MathML: {error}") from error
    # HTML knows <math> without a namespace; with one, the XML round trip mkdocs-jupyter
    # gives headings would rename it ns0:math, which browsers show as plain text.
    return markup.replace(f' xmlns="{MATHML_NAMESPACE}"', "")


def on_config(config: Any) -> Any:
    # nbconvert's Markdown renderer hands the math on as text for MathJax; in the build
    # it writes MathML instead (it is given the formula as it stands in the notebook).
    IPythonRenderer.inline_math = lambda self, body: mathml(body, "inline")
    IPythonRenderer.block_math = lambda self, body: mathml(body, "block")
    return config


def on_page_content(html: str, page: Any, **kwargs: Any) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    headings = notebook_headings(Path(page.file.abs_src_path))
    anchors = [(int(level), anchor) for level, anchor in HTML_HEADING.findall(html)]
    if [level for level, _ in anchors] != [level for level, _ in headings]:
        raise PluginError(f"{page.file.src_uri}: its headings and the page's do not match")
    pairs = zip(anchors, headings, strict=True)
    page.toc = get_toc(nested([(level, anchor, name) for (level, anchor), (_, name) in pairs]))
    page.title = next(name for level, name in headings if level == 1)
    return MATHJAX.sub("", html)


def notebook_headings(path: Path) -> list[tuple[int, str]]:
    """The level and plain text of every heading of the notebook's Markdown cells."""
    notebook = nbformat.read(path, as_version=4)
    return [
        (len(heading.group(1)), plain_text(heading.group(2)))
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for heading in markdown_headings(cell.source)
    ]


def plain_text(heading: str) -> str:
    """A heading in plain text, its math in the notes' notation: ``$w^3_{11}$`` is w^3_11."""

    def symbol(command: re.Match[str]) -> str:
        if command.group(1) not in LATEX_SYMBOLS:
            raise PluginError(f"LATEX_SYMBOLS has no \\{command.group(1)} (heading {heading!r})")
        return LATEX_SYMBOLS[command.group(1)]

    def math(formula: re.Match[str]) -> str:
        latex = re.sub(r"\\text\{([^}]*)\}", r"\1", formula.group(1))
        latex = re.sub(r"\\([A-Za-z]+)\s*", symbol, latex)
        return latex.replace("{", "").replace("}", "")

    text = re.sub(r"\$([^$]+)\$", math, heading).replace("`", "")
    return " ".join(text.split())


def nested(headings: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
    """(level, id, name) in page order as MkDocs' table-of-contents tokens, nested."""
    top: list[dict[str, Any]] = []
    open_: list[dict[str, Any]] = []
    for level, anchor, name in headings:
        token = {"level": level, "id": anchor, "name": name, "children": []}
        while open_ and open_[-1]["level"] >= level:
            open_.pop()
        (open_[-1]["children"] if open_ else top).append(token)
        open_.append(token)
    return top
