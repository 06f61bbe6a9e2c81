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
- A notebook's pictures are files of the site beside its page, each image a link to its
  file at full size (a ledger or the network, scaled into the column, is too small to
  read), with alt text that says what it shows instead of nbconvert's placeholder.
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
from base64 import b64decode
from html import escape, unescape
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
LATEX_SYMBOLS = {"partial": "∂", "approx": " ≈ ", "cdot": " · ", "eta": "η", "lambda": "λ"}
# A text element of an SVG picture (Graphviz's): its height on the page and its text.
SVG_TEXT = re.compile(r'<text\b[^>]*?\by="([^"]*)"[^>]*>(.*?)</text>', re.S)
API = re.compile(r"^<!-- api: (\w+) -->$", re.M)
# An output picture on a notebook's page, as nbconvert writes it (an SVG's or a PNG's).
PICTURE = re.compile(r'(<div class="jp-Rendered(?:SVG|Image) [^>]*>\s*)<img\b[^>]*>')
# The kinds of picture a notebook stores, in the order nbconvert prefers them, with the
# extension of their file.
PICTURE_TYPES = {"image/svg+xml": "svg", "image/png": "png"}
# What the library's pictures show, by the function that draws them (for alt text).
DRAWN_BY = {
    "draw_paths": "the graph with every path from {1} up to {0} in red, "
    "each edge labelled with its local derivative, and the ledger that multiplies along "
    "each path and adds the paths",
    "draw_network": "the network as the notes draw it: inputs and neurons O_kj in "
    "columns, one edge per weight w^k_ij with its value and gradient",
    "backward_frames": "one step of the backward pass",
}
# A ledger's result, "0.147097  (sum over 1 path)", its minus sign typeset (U+2212).
SUM_OVER_PATHS = re.compile(r"[\u2212-]?[\d.]+ \(sum over \d+ paths?\)")
# A plot's words in its code: its title, axis labels and headings.
# (an f-string's text depends on its values: left out).
PLOT_WORDS = re.compile(r'(?:title|xlabel|ylabel|suptitle|label)\s*[(=]\s*r?"([^"]+)"')


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


def on_page_content(html: str, page: Any, config: Any, **kwargs: Any) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    headings = notebook_headings(Path(page.file.abs_src_path))
    anchors = [(int(level), anchor) for level, anchor in HTML_HEADING.findall(html)]
    if [level for level, _ in anchors] != [level for level, _ in headings]:
        raise PluginError(f"{page.file.src_uri}: its headings and the page's do not match")
    pairs = zip(anchors, headings, strict=True)
    page.toc = get_toc(nested([(level, anchor, name) for (level, anchor), (_, name) in pairs]))
    page.title = next(name for level, name in headings if level == 1)
    return linked_pictures(MATHJAX.sub("", html), page, config)


def linked_pictures(html: str, page: Any, config: Any) -> str:
    """The notebook page with each output picture a file of the site (see the module)."""
    source = Path(page.file.abs_src_path)
    pictures = notebook_pictures(nbformat.read(source, as_version=4))
    shown = PICTURE.findall(html)
    if len(shown) != len(pictures):
        raise PluginError(
            f"{page.file.src_uri}: {len(pictures)} pictures stored, {len(shown)} on the page"
        )
    folder = Path(config["site_dir"]) / Path(page.file.dest_uri).with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    numbered = iter(enumerate(pictures, start=1))

    def linked(match: re.Match[str]) -> str:
        number, (extension, content, alt) = next(numbered)
        name = f"picture-{number}.{extension}"
        (folder / name).write_bytes(content)
        href = f"{folder.name}/{name}"
        return (
            f'{match.group(1)}<a class="notebook-picture" href="{href}" '
            f'title="Open the picture at full size"><img src="{href}" alt="{escape(alt)}"></a>'
        )

    return PICTURE.sub(linked, html)


def notebook_pictures(notebook: Any) -> list[tuple[str, bytes, str]]:
    """Each output picture of a notebook, in page order, as the page shows it: the file's
    extension, its bytes and alt text saying what it shows."""
    pictures = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        shown = [o for o in cell.outputs if any(k in o.get("data", {}) for k in PICTURE_TYPES)]
        for number, output in enumerate(shown, start=1):
            kind = next(kind for kind in PICTURE_TYPES if kind in output.data)
            data = output.data[kind]
            content = data.encode("utf-8") if kind == "image/svg+xml" else b64decode(data)
            alt = picture_alt(cell.source, output.data, number, len(shown))
            pictures.append((PICTURE_TYPES[kind], content, alt))
    return pictures


def picture_alt(code: str, data: dict[str, Any], number: int, of: int) -> str:
    """What an output picture shows, from the code that made it and the picture's words:
    the library's pictures by the function that draws them, a plot by its labels."""
    drawn_by = [name for name in DRAWN_BY if f"{name}(" in code]
    if drawn_by and "image/svg+xml" in data:
        lines = svg_lines(data["image/svg+xml"])
        call = code.strip().splitlines()[-1].strip() if of == 1 else ""
        names = re.search(r"\((\w+), (\w+)", call)
        shows = DRAWN_BY[drawn_by[0]].format(*(names.groups() if names else ("", "")))
        alt = f"{call}: {shows}" if call else shows.capitalize()
        if of > 1:
            alt += f", picture {number} of {of}"
        step = next((line for line in lines if line.startswith("step ")), "")
        total = next(filter(None, (SUM_OVER_PATHS.search(line) for line in lines)), None)
        said = f": {total.group(0)}" if total else f". {step}" if step else ""
        return f"{alt}{said}".rstrip(".") + "."
    labels = [plain_words(label) for label in PLOT_WORDS.findall(code)]
    plot = "A plot" if of == 1 else f"Plot {number} of {of}"
    return f"{plot}: {'; '.join(labels)}." if labels else f"{plot} made by the code above."


def svg_lines(svg: str) -> list[str]:
    """The lines of text of an SVG picture (Graphviz's), top to bottom: its text elements
    joined where they stand on one line (a subscript is an element of its own)."""
    lines: dict[str, list[str]] = {}
    for y, text in SVG_TEXT.findall(svg):
        lines.setdefault(y, []).append(unescape(re.sub(r"<[^>]+>", "", text)))
    return [" ".join("".join(parts).split()) for parts in lines.values()]


def plain_words(label: str) -> str:
    """A plot's label in plain text: its math in the notes' notation."""
    label = label.replace("\\,", " ").replace("{", "").replace("}", "")
    label = re.sub(r"\\hat\s*(\w)", "\\1\u0302", label)
    label = re.sub(r"\\([A-Za-z]+)\s*", lambda m: LATEX_SYMBOLS.get(m.group(1), m.group(1)), label)
    return " ".join(label.replace("$", "").split())


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
