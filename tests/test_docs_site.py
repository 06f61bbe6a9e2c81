"""The documentation site: built as ``./run docs`` builds it, then read in headless Chromium.

One strict build per test session (a warning fails it). Every page opens from file://
with no console error and no request leaving the machine; every internal link lands on a
file and an anchor that exist; search works from file:// and from a local server; every
name of ``autograd.__all__``, ``nn.__all__`` and ``viz.__all__`` has its entry in the API
reference; the notebooks show their stored outputs; the README's sections are the pages'
text; the explorer runs inside its page.
"""

from __future__ import annotations

import functools
import html
import http.server
import importlib
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from browser import Watched, chromium
from oracles import on_ci
from test_readme import README, python_blocks

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("[0-9][0-9]-*.ipynb"))
PACKAGES = ("autograd", "nn", "viz")
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
# Attributes whose URL a browser fetches by itself (links in <a> are only followed).
FETCHED = {"script": "src", "img": "src", "iframe": "src", "link": "href", "source": "src"}

pytestmark = pytest.mark.needs_dot  # the explorer pages the site embeds are Graphviz's


def _missing(what: str) -> None:
    if on_ci():
        pytest.fail(f"{what} is missing, and CI must build the documentation site")
    pytest.skip(f"{what} is missing (./run test installs it)")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built by mkdocs as ``./run docs`` builds it, in a folder of its own."""
    if importlib.util.find_spec("mkdocs") is None:
        _missing("MkDocs (pip install 'chainrule[docs]')")
    if shutil.which("dot") is None:
        _missing("Graphviz's dot")
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def pages(site: Path) -> list[Path]:
    """The site's pages a reader opens; 404.html is a server's (its links start at /)."""
    return sorted(path for path in site.rglob("*.html") if path.name != "404.html")


class Opened(Watched):
    """A page in Chromium, with its console errors and every URL it requested."""

    def __init__(self, browser: Any, url: str) -> None:
        super().__init__(browser, (1280, 720), timeout_ms=10_000)
        self.page.goto(url)
        self.page.wait_for_load_state("load")

    def __enter__(self) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.page.close()


class Links(HTMLParser):
    """The ids of a page, the links it follows and the URLs it fetches."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.followed: list[str] = []
        self.fetched: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"] or "")
        if tag == "a" and attributes.get("href"):
            self.followed.append(attributes["href"] or "")
        if tag in FETCHED and attributes.get(FETCHED[tag]):
            self.fetched.append(attributes[FETCHED[tag]] or "")


@functools.cache
def parsed(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


def search_results(opened: Opened, query: str) -> list[str]:
    """Type ``query`` into the search box as a reader does: the pages and sections found,
    as paths from the site's root with their anchors."""
    box = opened.page.locator("input.md-search__input")
    box.click()
    box.press_sequentially(query)  # key by key: the search listens to the keys
    opened.page.locator(".md-search-result__item").first.wait_for()
    links = opened.page.eval_on_selector_all(
        ".md-search-result__list a", "links => links.map(a => a.href)"
    )
    root = opened.page.url.rsplit("/", 1)[0] + "/"
    return [urlsplit(link.removeprefix(root))._replace(query="").geturl() for link in links]


def test_the_site_has_every_part(site: Path) -> None:
    expected = [
        "index.html",
        "tour.html",
        "architecture.html",
        "worksheets.html",
        "explorer.html",
        "explorer/notes-network.html",
        "explorer/chain-rule-example.html",
        "notebooks/index.html",
        *(f"notebooks/{path.stem}.html" for path in NOTEBOOKS),
        *(f"api/{package}.html" for package in PACKAGES),
        "search/search_index.js",  # the index as a script: search from file://
    ]
    assert [name for name in expected if not (site / name).is_file()] == []


def test_every_page_opens_offline_without_errors(site: Path, browser: Any) -> None:
    for path in pages(site):
        with Opened(browser, path.as_uri()) as opened:
            assert opened.errors == [], path.relative_to(site)
            leaving = [url for url in opened.requests if not url.startswith(LOCAL_SCHEMES)]
            assert leaving == [], path.relative_to(site)
            unshown = opened.page.eval_on_selector_all(
                "img", "images => images.filter(i => !i.naturalWidth).map(i => i.src)"
            )
            assert unshown == [], path.relative_to(site)


def test_no_page_asks_for_anything_from_the_network(site: Path) -> None:
    for path in pages(site):
        remote = [url for url in parsed(path).fetched if urlsplit(url).scheme]
        assert [url for url in remote if not url.startswith("data:")] == [], path
    for path in [*site.rglob("*.css"), *site.rglob("*.js")]:
        text = path.read_text(encoding="utf-8", errors="replace")
        # CSS imports and url()s, and scripts that load others by URL.
        found = re.findall(r"(?:@import|url\(|importScripts\(|\bsrc\s*=)\s*[\"']?https?://", text)
        assert found == [], path.relative_to(site)


def test_every_internal_link_lands(site: Path) -> None:
    broken = []
    for path in pages(site):
        for url in parsed(path).followed + parsed(path).fetched:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//"):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target /= "index.html"
            if not target.is_file():
                broken.append(f"{path.relative_to(site)}: {url}")
            elif parts.fragment and unquote(parts.fragment) not in parsed(target).ids:
                broken.append(f"{path.relative_to(site)}: {url} (no such anchor)")
    assert broken == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_has_its_api_entry(site: Path, browser: Any, package: str) -> None:
    # A name added to __all__ appears by itself; one without a docstring fails here.
    names = importlib.import_module(package).__all__
    with Opened(browser, (site / "api" / f"{package}.html").as_uri()) as opened:
        entries = dict(
            opened.page.eval_on_selector_all(
                "h2.doc-heading",
                """headings => headings.map(h => [h.id.split('.').pop(),
                    (h.parentElement.querySelector(':scope > .doc-contents') || {}).innerText
                    || ''])""",
            )
        )
        anchors = set(opened.page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
        text = opened.page.inner_text("article")
    assert sorted(set(names) - set(entries)) == []
    assert sorted(name for name in names if not entries[name].strip()) == []
    assert sorted(name for name in names if f"{package}.{name}" not in anchors) == []
    # Docstrings read as prose: no reStructuredText role, no doctest shown as a quote.
    assert not re.search(r":(class|func|meth|data|mod|attr|exc):`", text)
    assert "<blockquote>" not in (site / "api" / f"{package}.html").read_text(encoding="utf-8")


def test_search_works_from_a_file(site: Path, browser: Any) -> None:
    with Opened(browser, (site / "index.html").as_uri()) as opened:
        results = search_results(opened, "gradcheck")
        assert opened.errors == []
    assert "api/autograd.html#autograd.gradcheck" in results


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_the_site_works_from_a_local_server(site: Path, browser: Any) -> None:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        pages = ["index.html", f"notebooks/{NOTEBOOKS[0].stem}.html", "explorer.html", "404.html"]
        for name in pages:
            with Opened(browser, base + name) as opened:
                assert opened.errors == [], name
                assert [url for url in opened.requests if not url.startswith(base)] == [], name
        with Opened(browser, base + "index.html") as opened:
            results = search_results(opened, "backward_frames")
            assert opened.errors == []
    finally:
        server.shutdown()
        server.server_close()
    assert "api/viz.html#viz.backward_frames" in results


def visible_text(markup: str) -> str:
    """The text of some HTML, tags dropped and whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", markup)).split())


def test_the_tour_and_the_architecture_are_the_readmes(site: Path) -> None:
    tour = visible_text((site / "tour.html").read_text(encoding="utf-8"))
    for block in python_blocks():
        for line in block.splitlines():
            assert " ".join(line.split()) in tour, line
    readme = README.read_text(encoding="utf-8")
    architecture = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    first_sentence = visible_text(architecture).split(". ")[0]
    assert first_sentence.replace("`", "") in visible_text(
        (site / "architecture.html").read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_notebooks_show_their_stored_outputs(site: Path, browser: Any, path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    streams = [output.text for output in outputs if output.output_type == "stream"]
    svgs = sum("image/svg+xml" in output.get("data", {}) for output in outputs)
    # A Graphviz picture is stored as SVG and PNG (for JupyterLab, untrusted): the SVG shows.
    pngs = sum(
        "image/png" in output.get("data", {}) and "image/svg+xml" not in output.get("data", {})
        for output in outputs
    )
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    formulas = len(re.findall(r"\$\$.+?\$\$|\$.+?\$", markdown, re.S))
    with Opened(browser, (site / "notebooks" / f"{path.stem}.html").as_uri()) as opened:
        shown = opened.page.eval_on_selector_all(
            ".jp-RenderedText pre", "blocks => blocks.map(b => b.innerText)"
        )
        assert opened.page.locator(".jp-RenderedSVG img").count() == svgs
        assert opened.page.locator(".jp-RenderedImage img").count() == pngs
        prose = opened.page.eval_on_selector_all(
            ".jp-MarkdownOutput", "cells => cells.map(c => c.innerText).join(' ')"
        )
        drawn = opened.page.locator(".jp-MarkdownOutput math").count()
        pictures = opened.page.eval_on_selector_all(
            ".jp-OutputArea-output img",
            """images => images.map(i => [i.alt, i.naturalWidth, i.getBoundingClientRect().width,
                i.closest('a.notebook-picture') && i.closest('a.notebook-picture').href])""",
        )
        explorer_picture_shown = "A picture of the explorer" in opened.page.inner_text("body")
        toc = opened.page.eval_on_selector_all(
            ".md-sidebar--secondary .md-nav__link", "links => links.map(a => a.innerText)"
        )
    # Each picture says what it shows, and links to itself at full size, offline.
    assert len(pictures) == svgs + pngs
    assert [alt for alt, *_ in pictures if len(alt) < 20 or "No description" in alt] == []
    assert [href for *_, href in pictures if not (href or "").startswith("file:")] == []
    assert len({href for *_, href in pictures}) == len(pictures)
    # At 1280x720 a wide picture gets more than Material's usual ~600 px column.
    widest = max(natural for _, natural, _, _ in pictures)
    assert max(shown_width for _, _, shown_width, _ in pictures) > min(widest, 800)
    # Notebook 2's explorer: the page runs here, so its picture for JupyterLab is not shown.
    assert not explorer_picture_shown
    page_text = " ".join(" ".join(shown).split())
    assert [text for text in streams if " ".join(text.split()) not in page_text] == []
    # The math is MathML, drawn by the browser, headings' too: no TeX left for a script.
    assert drawn == formulas > 0 and "$" not in prose
    assert not [title for title in toc if "$" in title or "\\" in title]


def test_the_explorer_runs_inside_its_page(site: Path, browser: Any) -> None:
    with Opened(browser, (site / "explorer.html").as_uri()) as opened:
        frame = opened.page.frame_locator("iframe.explorer").first
        assert frame.locator("#counter").inner_text() == "backward step 7 of 7: all computed"
        frame.locator("#home").click()
        frame.locator("#next").click()
        assert frame.locator("#counter").inner_text() == "forward step 1 of 7"
        assert opened.errors == []


def test_a_notebook_picture_opens_at_full_size(site: Path, browser: Any) -> None:
    page = site / "notebooks" / f"{NOTEBOOKS[1].stem}.html"
    with Opened(browser, page.as_uri()) as opened:
        link = opened.page.locator("a.notebook-picture").last  # the widest ledger
        natural, shown = link.locator("img").evaluate("i => [i.naturalWidth, i.clientWidth]")
        link.click()
        opened.page.wait_for_load_state("load")
        # The picture itself: its document is the SVG, drawn at its own size.
        full = opened.page.evaluate(
            "() => [document.documentElement.tagName, "
            "document.documentElement.getBoundingClientRect().width]"
        )
        assert opened.errors == []
    assert shown < natural, "the page shows it scaled down"
    assert full[0] == "svg" and abs(full[1] - natural) <= 2


def test_the_example_explorer_is_made_by_the_code_its_page_shows(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (ROOT / "docs" / "explorer.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    made = [block for block in blocks if "viz.explorer(h)" in block]
    assert len(made) == 1
    # The README's first picture names the nodes F and g: so does this page.
    assert 'F.label = "F"' in made[0] and 'g.label = "g"' in made[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(made[0], "docs/explorer.md", "exec"), {})
    page = (tmp_path / "explorer.html").read_text(encoding="utf-8")
    assert page == (site / "explorer" / "chain-rule-example.html").read_text(encoding="utf-8")


def test_no_copy_button_covers_code(site: Path, browser: Any) -> None:
    covered = []
    for name in ("worksheets.html", "index.html", "tour.html"):
        with Opened(browser, (site / name).as_uri()) as opened:
            opened.page.locator(".md-code__button").first.wait_for(state="attached")
            covered += opened.page.evaluate(
                """() => [...document.querySelectorAll('.md-typeset pre')].flatMap(pre => {
                    const code = pre.querySelector('code');
                    const button = pre.querySelector('.md-code__button');
                    if (!code || !button) return [];
                    code.scrollLeft = code.scrollWidth;  // a long line, read to its end
                    const b = button.getBoundingClientRect(), range = document.createRange();
                    range.selectNodeContents(code);
                    return [...range.getClientRects()]
                        .filter(r => r.width > 0 && r.right > b.left + 1 && r.left < b.right
                                && r.bottom > b.top + 1 && r.top < b.bottom - 1)
                        .map(() => code.innerText.split('\\n')[0]);
                })"""
            )
    assert covered == []
