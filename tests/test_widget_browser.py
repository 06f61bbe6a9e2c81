"""viz.widget's page side in Chromium: the real front-end module (explorer_assets/widget.js)
runs against a small harness that implements anywidget's documented front-end model
(``model.get/set/on/off/save_changes`` and ``render({model, el})``), and the test
carries the messages between it and the real widget in Python, as a kernel's comm does.

Proved here: an edit and a Train in the widget reach the model's Values (Train a few
messages at a time, each with the weights of one of ``nn.train``'s epochs); a change made
in Python redraws the widget; a refusal on either side is shown and undone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Watched, chromium
from widget_comm import Comms, from_page, recording

import nn
import viz

# Train sums the batch in another order than nn.train's matrix products, for N epochs.
TRAINED = 1e-9
SEND_EVERY = 250  # ms: widget.js sends at most one message so often while Train runs

HARNESS = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>anywidget's front end, in small</title></head>
<body>
<div id="output"></div>
<script type="application/json" id="state">{state}</script>
<script type="module">
// anywidget's front-end model as documented: get, set, on, off, save_changes, send.
// As ipywidgets' model does, set() fires change:<key> when the value differs, and
// save_changes() sends what was set since the last one, as one message. A message from
// the kernel sets its keys, then fires their change events (receive).
const equal = (a, b) => JSON.stringify(a) === JSON.stringify(b);
class Model {
  constructor(state) {
    this.state = state;
    this.handlers = new Map();
    this.unsaved = new Set();
    this.sent = []; // the messages to the kernel, for the test to deliver
  }
  get(key) { return this.state[key]; }
  set(key, value) {
    if (equal(this.state[key], value)) return;
    this.state[key] = value;
    this.unsaved.add(key);
    this.fire(key);
  }
  save_changes() {
    if (this.unsaved.size === 0) return;
    const message = {};
    for (const key of this.unsaved) message[key] = this.state[key];
    this.unsaved.clear();
    this.sent.push(JSON.parse(JSON.stringify(message)));
  }
  send(content) { this.sent.push({ custom: content }); }
  on(name, callback) {
    if (!this.handlers.has(name)) this.handlers.set(name, new Set());
    this.handlers.get(name).add(callback);
  }
  off(name, callback) { this.handlers.get(name)?.delete(callback); }
  fire(key) {
    const handlers = [...(this.handlers.get(`change:${key}`) || [])];
    for (const callback of handlers) callback(this, this.state[key]);
  }
  receive(message) {
    const changed = Object.keys(message).filter((key) => !equal(this.state[key], message[key]));
    Object.assign(this.state, message);
    for (const key of changed) this.fire(key);
  }
}
const model = new Model(JSON.parse(document.getElementById("state").textContent));
// As anywidget loads a widget's _esm: a module from a blob URL, its default export.
const url = URL.createObjectURL(new Blob([model.get("_esm")], { type: "text/javascript" }));
const widget = (await import(url)).default;
const cleanup = await widget.render({ model, el: document.getElementById("output") });
window.harness = { model, cleanup };
</script>
</body>
</html>
"""

PAGE = "document.querySelector('iframe').contentWindow.chainrule"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def comms() -> Iterator[Comms]:
    with recording() as recorded:
        yield recorded


@pytest.fixture
def model() -> nn.MLP:
    return nn.MLP(4, [3, 2, 1], seed=0)


@pytest.fixture
def iris() -> nn.Dataset:
    return nn.iris_binary("setosa")


@pytest.fixture
def widget(comms: Comms, model: nn.MLP, iris: nn.Dataset, dot: str) -> Any:
    return viz.widget(model, iris.X, iris.y, eta=0.01, l2=0.001, epochs=300)


class Connected:
    """The widget in Python and its view in the harness, and the test as their comm."""

    def __init__(self, browser: Any, widget: Any, comms: Comms, folder: Path) -> None:
        self.widget = widget
        self.comms = comms
        # A view opened now starts from the front end's model as it is now: the state
        # the widget opened with and every update since.
        state = comms.opened(widget)
        for update in comms.updates():
            state |= update
        payload = json.dumps(state).replace("</", "<\\/")
        path = folder / "harness.html"
        path.write_text(HARNESS.replace("{state}", payload), encoding="utf-8")
        watched = Watched(browser, (1280, 900))
        self.page, self.errors, self.requests = watched.page, watched.errors, watched.requests
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function(f"() => window.harness && {PAGE}")
        self.frame = self.page.frame_locator("iframe")

    def to_kernel(self) -> list[dict[str, Any]]:
        """Deliver the view's messages to the widget in Python; returns them."""
        messages: list[dict[str, Any]] = self.page.evaluate("harness.model.sent.splice(0)")
        for message in messages:
            from_page(self.widget, message)
        return messages

    def to_page(self) -> list[dict[str, Any]]:
        """Deliver the kernel's updates to the view; returns them."""
        updates = self.comms.updates()
        for update in updates:
            self.page.evaluate("update => harness.model.receive(update)", update)
        return updates

    def shown(self) -> dict[str, Any]:
        """The page's own numbers: ``window.chainrule.snapshot()``."""
        snapshot: dict[str, Any] = self.page.evaluate(f"{PAGE}.snapshot()")
        return snapshot

    def edit(self, label: str, value: float) -> None:
        box = self.frame.get_by_label(label, exact=True)
        box.fill(str(value))
        box.press("Enter")

    def note(self) -> str:
        """The line the widget shows above the page ("" while hidden)."""
        note = self.page.locator("#output [role=alert]")
        return "" if note.is_hidden() else note.inner_text()


@pytest.fixture
def connect(browser: Any, comms: Comms, tmp_path: Path) -> Iterator[Any]:
    opened: list[Connected] = []

    def connected(widget: Any) -> Connected:
        opened.append(Connected(browser, widget, comms, tmp_path))
        return opened[-1]

    yield connected
    for view in opened:
        errors, requests = view.errors, view.requests
        view.page.close()
        assert errors == []
        assert [url for url in requests if url.split(":")[0] not in ("file", "blob")] == []


def weights_of(snapshot: dict[str, Any], model: nn.MLP) -> list[float]:
    return [snapshot["values"][label] for label, _ in model.named_parameters()]


def test_the_view_starts_from_the_kernels_numbers(widget: Any, model: nn.MLP, connect: Any) -> None:
    model.weight(2, 1, 1).data = 0.5
    widget.sync()  # before the view opens: the page is the one made, the numbers are not
    widget.eta = 0.05
    view = connect(widget)
    shown = view.shown()
    assert weights_of(shown, model) == [p.data for p in model.parameters()]
    assert shown["batch"]["eta"] == 0.05
    assert view.to_kernel() == []  # the page agrees with the kernel: nothing to say
    assert view.note() == ""


def test_a_reloaded_page_starts_again_from_the_kernels_numbers(
    widget: Any, model: nn.MLP, connect: Any
) -> None:
    view = connect(widget)
    view.edit("w^1_11", 0.5)
    view.to_kernel()
    # A notebook that moves an output reloads its iframe: the page made, then the kernel's.
    view.page.evaluate("document.querySelector('iframe').contentWindow.location.reload()")
    view.page.wait_for_function(f"() => {PAGE} && {PAGE}.get('w^1_11') === 0.5")
    assert weights_of(view.shown(), model) == [p.data for p in model.parameters()]
    assert view.to_kernel() == []


def test_an_edit_in_the_widget_reaches_the_model(
    widget: Any, model: nn.MLP, iris: nn.Dataset, connect: Any
) -> None:
    view = connect(widget)
    before = [p.data for p in model.parameters()]
    view.edit("w^1_11", 0.5)
    assert view.to_kernel() == [{"weights": [0.5, *before[1:]]}]  # one message
    assert [p.data for p in model.parameters()] == [0.5, *before[1:]]
    view.edit("x_2", 1.25)  # the shown row: the widget's copy of the data, not the model
    assert view.to_kernel() == [{"row": [iris.X[0][0], 1.25, *iris.X[0][2:], iris.y[0]]}]
    assert widget.X[0][1] == 1.25 and iris.X[0][1] != 1.25
    view.edit("eta", 0.02)
    view.edit("sample", 4)
    assert view.to_kernel() == [{"eta": 0.02}, {"row": [*iris.X[4], iris.y[4]], "sample": 4}]
    assert (widget.eta, widget.sample) == (0.02, 4)


def test_train_in_the_widget_reaches_the_model_a_few_messages_at_a_time(
    widget: Any, model: nn.MLP, iris: nn.Dataset, connect: Any
) -> None:
    view = connect(widget)
    start = [p.data for p in model.parameters()]
    began = view.page.evaluate("performance.now()")
    view.frame.locator("#train-run").click()
    view.page.wait_for_function(f"() => {PAGE}.model.run !== null && !{PAGE}.model.run.running")
    ended = view.page.evaluate("performance.now()")
    # The last message, at most SEND_EVERY ms after the run's end, holds its weights.
    view.page.wait_for_function(
        f"() => JSON.stringify(harness.model.get('weights')) === "
        f"JSON.stringify(harness.model.get('_labels').map((l) => {PAGE}.get(l)))"
    )
    messages = view.to_kernel()
    shown = view.shown()
    epochs = shown["batch"]["epochs"]
    assert epochs == 300
    # Each message is all the weights at once; never one a weight, nor one an epoch.
    assert {tuple(message) for message in messages} == {("weights",)}
    assert 1 <= len(messages) <= 2 + (ended - began) / SEND_EVERY
    assert [p.data for p in model.parameters()] == weights_of(shown, model)
    # Each message holds the weights of one of nn.train's epochs, in order; the last, the
    # weights after the 300th.
    twin = nn.MLP(4, [3, 2, 1], seed=0)
    assert [p.data for p in twin.parameters()] == start
    history = nn.train(twin, iris.X, iris.y, lr=0.01, l2=0.001, tol=1e-4, max_epochs=300,
                       progress=False, record_trajectories=True)  # fmt: skip
    assert history.trajectories is not None
    trajectory = list(zip(*history.trajectories.values(), strict=True))
    found = [
        next(e for e, weights in enumerate(trajectory) if close(weights, message["weights"]))
        for message in messages
    ]
    assert found == sorted(found) and found[-1] == 300


def close(a: Any, b: Any) -> bool:
    pairs = zip(a, b, strict=True)
    return all(math.isclose(x, y, rel_tol=TRAINED, abs_tol=TRAINED) for x, y in pairs)


def test_a_change_in_python_redraws_the_widget(
    widget: Any, model: nn.MLP, iris: nn.Dataset, connect: Any
) -> None:
    view = connect(widget)
    model.weight(1, 1, 1).data = 0.5
    widget.sync()
    assert view.to_page() == [{"weights": [p.data for p in model.parameters()]}]
    shown = view.shown()
    assert shown["values"]["w^1_11"] == 0.5
    assert view.frame.get_by_label("w^1_11", exact=True).input_value() == "0.5"
    # The picture: w^1_11's box, and the loss computed from it, L = (y - O_31)^2.
    yhat = model(iris.X[0])
    loss = (iris.y[0] - yhat.data) ** 2
    assert math.isclose(shown["values"]["L"], loss, rel_tol=1e-12)
    texts = view.frame.locator("svg text").all_text_contents()
    assert "= 0.5" in texts and f"= {loss:.4g}" in texts
    widget.eta = 0.125
    widget.sample = 7
    view.to_page()
    assert view.frame.get_by_label("eta", exact=True).input_value() == "0.125"
    assert view.shown()["values"]["x_1"] == iris.X[7][0]
    assert view.to_kernel() == []  # what the kernel said is not said back


def test_nn_train_in_python_then_sync_redraws_every_weight(
    widget: Any, model: nn.MLP, iris: nn.Dataset, connect: Any
) -> None:
    view = connect(widget)
    nn.train(model, widget.X, widget.Y, lr=widget.eta, l2=widget.l2, tol=widget.tol,
             max_epochs=200, progress=False)  # fmt: skip
    widget.sync()
    view.to_page()
    assert weights_of(view.shown(), model) == [p.data for p in model.parameters()]
    assert view.to_kernel() == []


def test_a_change_the_kernel_refuses_is_undone_in_the_widget_and_said(
    widget: Any, model: nn.MLP, connect: Any
) -> None:
    view = connect(widget)
    before = model.weight(1, 1, 1).data
    model.layers[0].neurons[0].activation = "relu"  # the model is not the widget's now
    view.edit("w^1_11", 0.5)
    view.to_kernel()
    assert model.weight(1, 1, 1).data == before
    view.to_page()
    assert view.shown()["values"]["w^1_11"] == before
    assert "O_11 applies relu now" in view.note() and "make a new widget" in view.note()


def test_numbers_the_page_refuses_go_back_to_the_kernel_with_the_reason(
    widget: Any, model: nn.MLP, connect: Any
) -> None:
    view = connect(widget)
    before = [p.data for p in model.parameters()]
    model.weight(1, 3, 1).data = 1.7e308  # finite, but w^1_31 * x_3 is not
    widget.sync()
    view.to_page()
    assert weights_of(view.shown(), model) == before
    assert "the page kept its numbers" in view.note() and "not a finite number" in view.note()
    view.to_kernel()
    assert [p.data for p in model.parameters()] == before
    assert widget.error == view.note()
