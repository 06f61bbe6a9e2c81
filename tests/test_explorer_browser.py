"""The explorer page in a real browser: headless Chromium over file://, offline.

Every number the page shows is compared with one computed here from the engine:
``backward()``'s grads, ``autograd.local_derivatives`` and, for the batch, a loop over
the samples one at a time.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chromium

import nn
import viz
from autograd import Value, local_derivatives, topological_order
from chainrule.examples import DEMO_SPECIES, demo_sample_loss, notes_example
from chainrule.explore import write_explorer

SAMPLE = 3


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("explorer")
    viz.explorer(notes_example()).save(out / "h.html")
    write_explorer(nn.MLP(4, [3, 2, 1], seed=0), out, sample=SAMPLE)
    return {"h": out / "h.html", "mlp": out / "explorer.html"}


class Page:
    """One page opened from file://, recording console errors and every request."""

    def __init__(self, browser: Any, path: Path, size: tuple[int, int] = (1280, 720)) -> None:
        self.url = path.resolve().as_uri()
        self.page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        self.page.set_default_timeout(5000)
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(self.url)
        self.data = json.loads(self.page.text_content("#data") or "")
        self.ids = {name: node_id for node_id, name in self.data["names"].items()}

    def text(self, selector: str) -> str:
        return (self.page.text_content(selector) or "").strip()

    def grad(self, name: str) -> str:
        return self.text(f"#t_g{self.ids[name]}")

    def counter(self) -> tuple[int, int]:
        match = re.fullmatch(r"step (\d+) of (\d+)", self.text("#counter"))
        assert match, self.text("#counter")
        return int(match.group(1)), int(match.group(2))

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    opened: list[Page] = []

    def opener(path: Path, size: tuple[int, int] = (1280, 720)) -> Page:
        opened.append(Page(browser, path, size))
        return opened[-1]

    yield opener
    for page in opened:
        assert page.errors == [], page.errors  # no console error in any test
        assert set(page.requests) == {page.url}, page.requests  # nothing but the file
        page.close()


def shown_number(text: str) -> float:
    """The number in a grad text such as ``-0.1506 so far``."""
    return float(text.split()[0].replace("\u2212", "-"))


def close_to(text: str, expected: float, digits: int = 4) -> bool:
    return math.isclose(shown_number(text), expected, rel_tol=10 ** (1 - digits), abs_tol=1e-12)


def expected_grad(node: Value, root: Value, done: list[Value]) -> float | None:
    """``node``'s grad once the nodes in ``done`` have sent theirs: engine grads times
    local derivatives, summed over the edges already carried (None: nothing yet)."""
    if node is root:
        return 1.0
    arrived = [
        child.grad * d
        for child in done
        for parent, d in zip(child.parents, local_derivatives(child), strict=True)
        if parent is node and d is not None
    ]
    return sum(arrived) if arrived else None


def consumers(node: Value, order: list[Value]) -> list[Value]:
    return [c for c in order for p in c.parents if p is node and c.requires_grad]


def test_stepping_shows_the_engines_grads_at_every_step(open_page: Any, pages: Any) -> None:
    h = notes_example()  # h = x*x*tanh(x) + 1 at x = 3
    h.backward()
    order = topological_order(h)
    # The engine processes nodes in reversed topological order; leaves send nothing.
    senders = [n for n in reversed(order) if n.parents and n.requires_grad]
    page = open_page(pages["h"])
    assert page.counter() == (0, len(senders))
    ids = {node: f"n{i}" for i, node in enumerate(order)}  # op level: topological order
    for k in range(len(senders) + 1):
        assert page.counter() == (k, len(senders))
        done = senders[:k]
        for node in order:
            if not node.requires_grad:
                continue
            shown = page.text(f"#t_g{ids[node]}")
            expected = expected_grad(node, h, done)
            if expected is None:
                assert shown == "?", (k, node.label, shown)
                continue
            assert close_to(shown, expected), (k, node.label, shown, expected)
            waiting = any(c not in done for c in consumers(node, order))
            assert ("so far" in shown) == waiting, (k, node.label, shown)
        if k:  # the node just processed is marked, and each edge it sent along says how much
            current = page.page.get_attribute(f"#node_{ids[senders[k - 1]]}", "class")
            assert "current" in (current or "")
            sent = [
                float(t) for t in page.page.locator("g.edge.sending text.sent").all_text_contents()
            ]
            node = senders[k - 1]
            want = [node.grad * d for d in local_derivatives(node) if d is not None]
            assert sorted(round(v, 3) for v in sent) == sorted(round(v, 3) for v in want)
        if k < len(senders):
            page.page.click("#next")
    assert page.page.is_disabled("#next")
    x = next(node for node in order if node.label == "x")
    assert close_to(page.grad("x"), x.grad)  # 6.059, the notes' dh/dx


def test_the_networks_sweep_ends_at_backwards_grads(open_page: Any, pages: Any) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, SAMPLE)
    loss.backward()
    page = open_page(pages["mlp"])
    neurons = [n.output for layer in model.layers for n in layer.neurons]
    _, last = page.counter()
    assert last == 1 + len(neurons)  # L, then every neuron O_kj sends once
    for k in range(1, last + 1):
        page.page.keyboard.press("ArrowRight")
        assert page.counter() == (k, last)
        # the node processed in this step is complete: its grad is backward()'s
        current = page.page.locator("g.node.current").get_attribute("id") or ""
        name = page.data["names"][current.removeprefix("node_")]
        value = loss if name == "L" else next(o for o in neurons if o and o.label == name)
        assert close_to(page.grad(name), value.grad)
    for label, w in model.named_parameters():
        assert close_to(page.grad(label), w.grad), label
        assert "so far" not in page.grad(label)


def test_keyboard_steps_and_jumps(open_page: Any, pages: Any) -> None:
    page = open_page(pages["mlp"])
    _, last = page.counter()
    keys = page.page.keyboard
    keys.press("End")
    assert page.counter() == (last, last)
    keys.press("ArrowRight")  # past the end stays at the end
    assert page.counter() == (last, last)
    keys.press("Home")
    assert page.counter() == (0, last)
    assert page.page.is_disabled("#prev")
    keys.press("ArrowRight")
    keys.press("ArrowRight")
    assert page.counter() == (2, last)
    keys.press("ArrowLeft")
    assert page.counter() == (1, last)
    # the layout does not move between steps: the picture keeps its box
    box = page.page.locator("#picture svg").bounding_box()
    keys.press("End")
    assert page.page.locator("#picture svg").bounding_box() == box


def picked_weight() -> tuple[Value, Value]:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, SAMPLE)
    loss.backward()
    return loss, model.weight(1, 1, 1)


# The ledger's sub- and superscripts that reach past their table row's line, in CSS pixels.
SCRIPTS_OUTSIDE_THEIR_LINE = """() => {
  const out = [];
  for (const row of document.querySelectorAll("#ledger tr")) {
    const line = row.getBoundingClientRect();
    for (const script of row.querySelectorAll("sub, sup")) {
      const r = script.getBoundingClientRect();
      if (r.top < line.top - 0.5 || r.bottom > line.bottom + 0.5) {
        out.push([script.textContent, r.top, r.bottom, line.top, line.bottom]);
      }
    }
  }
  return out;
}"""


def test_picking_w1_11_shows_its_two_paths_and_backwards_value(open_page: Any, pages: Any) -> None:
    _, w = picked_weight()
    page = open_page(pages["mlp"])
    page.page.select_option("#weight", label="w^1_11")
    ledger = page.page.inner_text("#ledger-text")  # as shown: a tab between cells
    assert "(sum over 2 paths)" in ledger
    backward = re.search(r"(\S+)\s+from backward\(\): agrees", ledger)
    assert backward and close_to(backward.group(1), w.grad, digits=6)
    # real subscripts and superscripts, no "O_31" or "w^1_11" in the ledger as shown
    assert page.page.locator("#ledger-text sub").count() > 0
    assert page.page.locator("#ledger-text sup").count() > 0
    assert "_" not in ledger and "^" not in ledger
    assert "where" in page.page.inner_text("#ledger-where")
    # each line's scripts stay within its line, clear of the lines above and below
    assert page.page.evaluate(SCRIPTS_OUTSIDE_THEIR_LINE) == []
    assert "2 paths" in page.text("#step-title")
    # L -> O_31, O_31 -> O_21 and O_22, both -> O_11, O_11 -> w^1_11: the notes' picture
    assert page.page.locator("g.edge.onpath").count() == 6
    on_path = {page.data["names"][i] for i in page.data["weights"][0]["nodes"]}
    assert on_path == {"L", "O_31", "O_21", "O_22", "O_11", "w^1_11"}
    # picking by clicking the weight in the picture does the same
    page.page.keyboard.press("Home")
    assert page.page.input_value("#weight") == ""
    page.page.click(f"#node_{page.ids['w^1_21']}")
    assert page.page.locator("#weight option:checked").inner_text() == "w^1_21"
    assert "(sum over 2 paths)" in page.text("#ledger-text")


def test_eta_edits_update_w_new(open_page: Any, pages: Any) -> None:
    _, w = picked_weight()
    page = open_page(pages["mlp"])
    page.page.select_option("#weight", label="w^1_11")
    assert close_to(page.text("#u-old"), w.data, digits=6)
    assert close_to(page.text("#u-grad"), w.grad, digits=6)
    for eta in (0.01, 0.5, 2.0):
        page.page.fill("#eta", str(eta))
        assert close_to(page.text("#u-new"), w.data - eta * w.grad, digits=6), eta
    page.page.fill("#eta", "-1")
    assert page.text("#u-new") == "\u2014"
    assert "positive" in page.text("#u-line")


def test_batch_switch_shows_the_sum_over_samples(open_page: Any, pages: Any) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    data = nn.iris_binary(DEMO_SPECIES)
    w = model.weight(1, 1, 1)
    batch_grad = 0.0
    for x, y in zip(data.X, data.y, strict=True):  # one sample at a time, summed here
        model.zero_grad()
        nn.total_loss(model, [x], [y]).backward()
        batch_grad += w.grad
    page = open_page(pages["mlp"])
    page.page.select_option("#weight", label="w^1_11")
    sample_grad = shown_number(page.text("#u-grad"))
    page.page.check("#source-batch")
    assert close_to(page.text("#u-grad"), batch_grad, digits=6)
    assert not close_to(page.text("#u-grad"), sample_grad, digits=3)
    page.page.fill("#eta", "0.01")
    assert close_to(page.text("#u-new"), w.data - 0.01 * batch_grad, digits=6)
    page.page.check("#source-sample")
    assert close_to(page.text("#u-grad"), sample_grad, digits=6)


# Where things are drawn on the screen, in CSS pixels: the picture's box and the graph
# in it, the size of the nodes' type, and for w^1_11 its name's scripts, its box and the
# "grad" below its name.
GEOMETRY = """(id) => {
  const rect = (el) => {
    const r = el.getBoundingClientRect();
    return [r.left, r.top, r.right, r.bottom];
  };
  const node = document.getElementById("node_" + id);
  const texts = [...node.querySelectorAll("text")];
  const name = texts.find((t) => t.querySelector("tspan"));
  const scripts = [...name.querySelectorAll("tspan")];
  return {
    box: rect(document.getElementById("picture")),
    graph: rect(document.querySelector("#picture svg > g")),
    type: name.getBoundingClientRect().height,
    node: rect(node.querySelector("polygon")),
    sup: rect(scripts[0]),
    sub: rect(scripts[1]),
    below: rect(texts.find((t) => t.textContent === "grad")),
  };
}"""


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_the_picture_fills_its_box_and_reads_from_the_back(
    open_page: Any, pages: Any, size: tuple[int, int]
) -> None:
    page = open_page(pages["mlp"], size)
    page.page.select_option("#weight", label="w^1_11")
    g = page.page.evaluate(GEOMETRY, page.ids["w^1_11"])
    box_width, box_height = g["box"][2] - g["box"][0], g["box"][3] - g["box"][1]
    width, height = g["graph"][2] - g["graph"][0], g["graph"][3] - g["graph"][1]
    # scaled to its box: as wide or as tall as the box allows (its border and padding aside)
    assert width > 0.93 * box_width or height > 0.93 * box_height, (g, size)
    # the picture has most of the screen, and its type grows with it
    assert box_width * box_height > 0.4 * size[0] * size[1], (g, size)
    assert g["type"] > 13 * size[1] / 720, (g, size)
    # w^1_11: the 1 above and the 11 below stay inside the box, clear of its border, and
    # clear of "grad" (these are the font's boxes: a digit's ink starts a fifth of its box
    # below the top and ends above its bottom)
    assert g["sup"][1] >= g["node"][1] and g["sub"][3] <= g["below"][1], g
    assert g["sup"][3] > g["sub"][1] - 1 and g["sup"][2] <= g["sub"][0] + 0.5, g  # side by side


def test_labels_show_as_written_in_every_state(open_page: Any, tmp_path: Path) -> None:
    a = Value(2.0, label="</script><b>{data}")
    b = Value(3.0, label="back\\slash & w^1_2")
    c = a * b
    c.label = "<i>c</i>"
    viz.explorer(c).save(tmp_path / "labels.html")
    page = open_page(tmp_path / "labels.html")
    shown = []
    for _ in range(page.counter()[1] + 1):  # every step, then each weight picked
        shown.append(page.page.inner_text("body"))
        page.page.keyboard.press("ArrowRight")
    for label in ("</script><b>{data}", "back\\slash & w^1_2"):
        page.page.select_option("#weight", label=label)
        shown.append(page.page.inner_text("body"))
        assert page.page.locator("b, i").count() == 0  # labels are text, never markup
    text = "\n".join(shown)
    assert "</script><b>{data}" in text and "<i>c</i>" in text
    assert "back\\slash" in text and "back\\\\slash" not in text  # dot's doubling undone
