"""The live explorer in a real browser: headless Chromium over file://, offline.

Every number the page computes is compared with the engine's: the op table's generated
JavaScript row by row against the rows run on floats, then whole pages (random networks
and random expressions, before and after random edits through the visible inputs)
against ``autograd.gradients``, and Train against ``nn.train``. One browser serves the
module; each page must log no console error and request nothing but itself.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Watched, chromium
from op_cases import case_for, random_graph
from random_models import CASES, random_case

import nn
import viz
from autograd import OPS, Value, define_op, gradient_edges, gradients, topological_order
from autograd.ops import exp, log, relu
from chainrule.examples import (
    DEMO_L2,
    DEMO_LR,
    DEMO_MAX_EPOCHS,
    DEMO_SPECIES,
    DEMO_TOL,
    notes_example,
)
from chainrule.worksheets.exercises import Question
from chainrule.worksheets.grading import read_answers
from viz._explorer_data import plain_symbol
from viz._js import ops_javascript

# Same to the last bits but for the elementary functions' rounding (Math.tanh against
# C's tanh), which the chain rule may amplify a little.
VALUES = 1e-12
# Train sums the batch in another order than nn.train's matrix products, for N epochs.
TRAINED = 1e-9


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


class Opened(Watched):
    """One page opened from file://, recording console errors and every request."""

    def __init__(self, browser: Any, path: Path, size: tuple[int, int]) -> None:
        super().__init__(browser, size)
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)

    def snapshot(self) -> dict[str, Any]:
        return self.page.evaluate("() => chainrule.snapshot()")

    def edit(self, label: str, value: float | str) -> None:
        """Type into the input named ``label`` (its accessible name) and press Enter."""
        box = self.page.get_by_label(label, exact=True)
        box.fill(str(value))
        box.press("Enter")

    def text(self, selector: str) -> str:
        return (self.page.text_content(selector) or "").strip()


@pytest.fixture
def open_page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    opened: list[Opened] = []

    def opener(page: viz.Explorer, size: tuple[int, int] = (1280, 720)) -> Opened:
        path = page.save(tmp_path / f"page{len(opened)}.html")
        opened.append(Opened(browser, path, size))
        return opened[-1]

    yield opener
    for page in opened:
        assert page.errors == [], page.errors  # no console error in any page
        assert set(page.requests) == {page.url}, page.requests  # nothing but the file
        page.page.close()


def close(a: float, b: float, rel: float = VALUES) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-300)


def assert_same(shown: dict[str, float], expected: dict[str, float], what: str) -> None:
    assert shown.keys() == expected.keys(), (what, sorted(shown), sorted(expected))
    wrong = {k: (shown[k], v) for k, v in expected.items() if not close(shown[k], v)}
    assert not wrong, (what, wrong)


def engine_numbers(root: Value) -> tuple[dict[str, float], dict[str, float]]:
    """Every labelled Value's value, and d(root)/d(it) where a gradient reaches it."""
    grads = gradients(root)
    labelled = [n for n in topological_order(root) if n.label]
    values = {n.label: n.data for n in labelled}
    return values, {n.label: grads[n] for n in labelled if n in grads}


def sample_loss(model: nn.MLP, x: list[float], targets: list[float]) -> Value:
    """The graph the page draws: one row's loss, the inputs and targets labelled."""
    xs = [Value(v, label=nn.input_label(i), requires_grad=False) for i, v in enumerate(x, 1)]
    several = len(targets) > 1
    ys = [
        Value(t, label=nn.target_label(j if several else None), requires_grad=False)
        for j, t in enumerate(targets, start=1)
    ]
    out = model(xs)
    loss = nn.sse(out if isinstance(out, list) else [out], ys)
    loss.label = "L"
    return loss


def assert_network(page: Opened, model: nn.MLP, X: Any, Y: Any, sample: int, l2: float) -> None:
    """The page's snapshot is the engine's: the row's graph, and the batch's objective."""
    shot = page.snapshot()
    values, grads = engine_numbers(sample_loss(model, X[sample], Y[sample]))
    assert_same(shot["values"], values, "values")
    assert_same(shot["grads"], grads, "grads")
    assert close(shot["loss"], values["L"])
    total = nn.total_loss(model, X, Y, l2=l2)
    batch = gradients(total)
    expected = {label: batch[p] for label, p in model.named_parameters()}
    # The batch is summed row by row here, by the graph's sweep there: the same terms
    # added in another order.
    scale = max(1.0, *(abs(g) for g in expected.values()))
    assert close(shot["batch"]["loss"], total.data)
    for label, g in expected.items():
        assert abs(shot["batch"]["grads"][label] - g) <= VALUES * scale, label


# --- one source of calculus ------------------------------------------------------------


@pytest.fixture
def user_op() -> Iterator[Any]:
    """An op the package does not define, added as a user would, then removed."""
    op = define_op(
        "softplus_test",
        lambda x: relu(x) + log(1.0 + exp(-abs(x))),
        [lambda x, out: 1.0 / (1.0 + exp(-x))],
        activation=(0.0, math.inf),
    )
    yield op
    del OPS["softplus_test"]


def test_every_row_computes_in_the_browser_what_it_computes_in_python(
    browser: Any, user_op: Any
) -> None:
    rows = list(OPS.values())
    cases = {op.name: case_for(op.name).points() if op is not user_op else [] for op in rows}
    rng = random.Random(0)
    cases[user_op.name] = [(rng.uniform(-30.0, 30.0),) for _ in range(15)]
    page = browser.new_page()
    try:
        page.set_content("<!DOCTYPE html><title>ops</title>")
        shown = page.evaluate(
            """([source, cases]) => {
              const ops = eval(source);
              return ops.map((op) => cases[op.name].map((point) => {
                const out = op.forward(...point);
                return [out, ...op.derivatives.map((rule) => rule(...point, out))];
              }));
            }""",
            [ops_javascript(rows), cases],
        )
    finally:
        page.close()
    for op, results in zip(rows, shown, strict=True):
        assert len(results) == len(cases[op.name]) > 0, op.name
        for point, (out, *locals_) in zip(cases[op.name], results, strict=True):
            expected = op(*point)
            assert close(out, expected), (op.name, point, out, expected)
            for i, rule in enumerate(op.derivatives):
                want = rule(*point, expected)
                assert close(locals_[i], want), (op.name, point, i, locals_[i], want)


def test_a_users_op_works_in_the_page_with_no_javascript_written(
    open_page: Any, user_op: Any
) -> None:
    a = Value(0.7, label="a")
    b = Value(-1.3, label="b")
    f = user_op(a * b) + user_op(a) * b
    f.label = "f"
    page = open_page(viz.explorer(f))
    values, grads = engine_numbers(f)
    assert_same(page.snapshot()["values"], values, "values")
    assert_same(page.snapshot()["grads"], grads, "grads")
    page.edit("a", -2.5)
    a.data = -2.5
    f = user_op(a * b) + user_op(a) * b
    f.label = "f"
    values, grads = engine_numbers(f)
    assert_same(page.snapshot()["values"], values, "values after an edit")
    assert_same(page.snapshot()["grads"], grads, "grads after an edit")
    # ... and as a network's activation
    rng = random.Random(1)
    model = nn.MLP(2, [2, 1], activation=user_op.name, bias=True, seed=1)
    X = [[rng.gauss(0, 1), rng.gauss(0, 1)] for _ in range(5)]
    Y = [[rng.uniform(-1, 1)] for _ in range(5)]
    page = open_page(viz.explorer(model, X, Y, sample=2))
    assert_network(page, model, X, Y, 2, 0.0)


# --- whole pages against the engine ------------------------------------------------------


def random_edits(
    page: Opened, rng: random.Random, labels: list[str], count: int
) -> list[tuple[str, float]]:
    edits = [
        (rng.choice(labels), round(rng.uniform(-2.0, 2.0), rng.randint(1, 6))) for _ in range(count)
    ]
    for label, value in edits:
        page.edit(label, value)
    return edits


def test_random_networks_and_edits_equal_the_engine(open_page: Any) -> None:
    rng = random.Random(18)
    # Every hidden activation and every output activation, with and without biases.
    for seed in range(0, len(CASES), 5):
        case = random_case(seed)
        model, X, Y = case.model, case.X, case.Y
        sample = rng.randrange(len(X))
        l2 = rng.choice([0.0, 0.01])
        page = open_page(viz.explorer(model, X, Y, sample=sample, l2=l2))
        assert_network(page, model, X, Y, sample, l2)
        labels = viz.explorer(model, X, Y, sample=sample).editable
        for label, value in random_edits(page, rng, labels, 3):
            if label.startswith("x_"):
                X[sample][int(label[2:]) - 1] = value
            elif label.startswith("y"):
                Y[sample][int(label[2:]) - 1 if "_" in label else 0] = value
            else:
                dict(model.named_parameters())[label].data = value
        assert_network(page, model, X, Y, sample, l2)


def test_random_expressions_and_edits_equal_the_engine(open_page: Any) -> None:
    rng = random.Random(22)
    for size in (6, 14, 25):
        leaves = [Value(rng.uniform(-2, 2), label=f"a_{i}") for i in range(1, 4)]
        leaves.append(Value(rng.uniform(-2, 2), label="c", requires_grad=False))
        root = random_graph(rng, leaves, size)
        root.label = "f"
        built = viz.explorer(root, level="op")
        page = open_page(built)
        values, grads = engine_numbers(root)
        assert_same(page.snapshot()["values"], values, f"values, size {size}")
        assert_same(page.snapshot()["grads"], grads, f"grads, size {size}")
        for label, value in random_edits(page, rng, built.editable, 3):
            next(v for v in leaves if v.label == label).data = value
        # the same graph recomputed from the edited leaves
        values, grads = engine_numbers(_recomputed(root))
        assert_same(page.snapshot()["values"], values, f"edited values, size {size}")
        assert_same(page.snapshot()["grads"], grads, f"edited grads, size {size}")


def _recomputed(root: Value) -> Value:
    """A copy of ``root``'s graph computed afresh from its leaves' current data."""
    made: dict[Value, Value] = {}
    for node in topological_order(root):
        if not node.parents:
            made[node] = node
            continue
        copy = OPS[node.op](*(made[p] for p in node.parents))
        copy.label = node.label
        made[node] = copy
    return made[root]


def test_local_derivatives_on_every_edge_equal_the_engines(open_page: Any) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    iris = nn.iris_binary(DEMO_SPECIES)
    page = open_page(viz.explorer(model, iris.X, iris.y, sample=7))
    loss = sample_loss(model, iris.X[7], [iris.y[7]])
    steps = viz.backward_steps(loss, level="neuron")[0].edges
    expected = {
        (e.child.label, e.parent.label): e.derivative for edges in steps.values() for e in edges
    }
    shown = {(e["child"], e["parent"]): e["value"] for e in page.page.evaluate("chainrule.edges()")}
    for key, value in expected.items():
        assert close(shown[key], value), key


def test_the_ledger_and_the_finite_differences_follow_an_edit(open_page: Any) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    iris = nn.iris_binary(DEMO_SPECIES)
    page = open_page(viz.explorer(model, iris.X, iris.y, l2=1e-3))
    pick(page, "w^1_11")
    box = page.page.get_by_label("w^2_11")  # as a teacher's script writes it: one box
    box.fill("1.25")
    box.press("Enter")
    model.weight(2, 1, 1).data = 1.25
    loss = sample_loss(model, iris.X[0], [iris.y[0]])
    rule = viz.explain(loss, model.weight(1, 1, 1), level="neuron")
    ledger = page.page.inner_text("#ledger-text")
    total = re.search(r"=\s*(\S+)\s+\(sum over 2 paths\)", ledger)
    assert total and float(total.group(1).replace("\u2212", "-")) == float(f"{rule.total:.6g}")
    assert "from backward(): agrees" in ledger
    node = page.text("#node-body")
    fd = re.search(r"Check: .*? is (\S+) \(backprop (\S+)\)", node)
    assert fd and math.isclose(float(fd.group(1).replace("\u2212", "-")), rule.grad, rel_tol=1e-5)
    # the update is the batch's, with Reg, as the demo prints it
    total_loss = nn.total_loss(model, iris.X, iris.y, l2=1e-3)
    batch = gradients(total_loss)[model.weight(1, 1, 1)]
    assert f"{batch:.6g}".replace("-", "\u2212") in node


# --- training ----------------------------------------------------------------------------


# Resolves once the page has drawn twice more: any redraw already asked for is done.
TWO_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


def train_in_page(page: Opened, epochs: int) -> dict[str, Any]:
    """Type ``epochs`` into its box, press Train and wait for the run's end (the page's
    promise of it): the page's state, not a time, says when each step is done."""
    page.edit("epochs", epochs)
    assert page.page.evaluate("() => chainrule.get('epochs')") == epochs
    page.page.get_by_role("button", name="Train", exact=True).click()
    page.page.evaluate("() => chainrule.model.run.done")
    page.page.evaluate(TWO_FRAMES)  # the run's last redraw too
    return page.snapshot()


def test_train_equals_nn_train(open_page: Any) -> None:
    # The lecture notes' network on Iris with the demo's settings: it stops by the
    # notes' rule, w_new ~= w_old, at the same epoch as nn.train.
    model = nn.MLP(4, [3, 2, 1], seed=0)
    iris = nn.iris_binary(DEMO_SPECIES)
    settings = {"eta": 0.01, "l2": 1e-3, "tol": 3e-4}
    page = open_page(viz.explorer(model, iris.X, iris.y, **settings))
    shot = train_in_page(page, 3000)
    history = nn.train(
        model, iris.X, iris.y, lr=0.01, l2=1e-3, tol=3e-4, max_epochs=3000,
        optimizer="gd", progress=False,
    )  # fmt: skip
    assert history.converged and shot["batch"]["stopped"] == "converged"
    assert shot["batch"]["epochs"] == history.epochs
    for shown, loss in zip(shot["batch"]["losses"], history.losses, strict=True):
        assert close(shown, loss, TRAINED)
    for label, w in model.named_parameters():
        assert close(shot["values"][label], w.data, TRAINED), label
    assert "w_new \u2248 w_old" in page.text("#train-status")
    # A random network with biases, a fixed number of epochs through Step and Train.
    case = random_case(7)
    model, X, Y = case.model, case.X, case.Y
    page = open_page(viz.explorer(model, X, Y, eta=0.05, l2=0.01, tol=0.0))
    page.page.get_by_role("button", name="Step", exact=True).click()
    page.page.wait_for_function("() => chainrule.snapshot().batch.epochs === 1")
    shot = train_in_page(page, 40)
    nn.train(model, X, Y, lr=0.05, l2=0.01, tol=0.0, max_epochs=41, optimizer="gd", progress=False)
    assert shot["batch"]["epochs"] == 41
    for label, w in model.named_parameters():
        assert close(shot["values"][label], w.data, TRAINED), label


def _stop_cases() -> dict[str, tuple[nn.MLP, Any, Any, float, float]]:
    """Runs whose weights stop moving with no fit, as nn.train tells them apart:
    (model, X, y, eta, tol)."""
    digits = nn.load_digits()
    iris = nn.iris_binary(DEMO_SPECIES)
    rng = random.Random(0)
    X = [[rng.gauss(0, 1), rng.gauss(0, 1)] for _ in range(40)]
    offset = [0.5 + 0.1 * rng.gauss(0, 1) for _ in X]  # no bias can reach it
    return {
        "saturated": (
            nn.MLP(64, [16, 10], bias=True, seed=0),
            digits.X[:300],
            digits.y[:300],
            0.005,
            1e-4,
        ),
        "steps_too_small": (nn.MLP(4, [3, 2, 1], seed=0), iris.X, iris.y, 1e-7, 1e-4),
        "stalled": (nn.MLP(2, [1], bias=False, seed=0), X, offset, 0.01, 1e-3),
    }


@pytest.mark.parametrize("reason", ["saturated", "steps_too_small", "stalled"])
def test_stopped_weights_are_called_converged_only_when_nn_train_would(
    open_page: Any, reason: str
) -> None:
    # The weights stop moving (no step of tol or more) on a 10%-accurate network whose
    # units are pinned, on steps too small to be at a minimum, and at a fit no better
    # than the mean target: the page names each as nn.train does, with its advice.
    model, X, y, eta, tol = _stop_cases()[reason]
    page = open_page(viz.explorer(model, X, y, eta=eta, tol=tol, epochs=1000))
    shot = train_in_page(page, 1000)
    history = nn.train(model, X, y, lr=eta, tol=tol, max_epochs=1000, progress=False)
    assert history.stop_reason == reason, history.stop_note
    assert shot["batch"]["stopped"] == reason
    assert shot["batch"]["epochs"] == history.epochs
    status = page.text("#train-status")
    assert "not at a fit" in status and "\u2248" not in status and "converged" not in status, status
    if reason == "saturated":
        share = re.search(r"(\d+%) of the units with a bounded activation are saturated", status)
        assert share and f"{share.group(1)} of the tanh/sigmoid units" in history.stop_note, status
        assert f"\u03b7 = {eta / 10:g}" in status and f"lr={eta / 10:g}" in history.stop_advice
    elif reason == "steps_too_small":
        assert "still steep" in status and f"\u03b7 = {10 * eta:g}" in status, status
    else:
        assert "no better than predicting the mean target" in status, status


def test_what_is_typed_while_train_runs_is_kept(open_page: Any) -> None:
    # The page redraws after every slice of a run: a box being typed in keeps its text
    # until Enter, and Enter then applies it.
    model = nn.MLP(4, [3, 2, 1], seed=0)
    iris = nn.iris_binary(DEMO_SPECIES)
    page = open_page(viz.explorer(model, iris.X, iris.y, tol=0.0, epochs=1_000_000))
    page.page.get_by_role("button", name="Train", exact=True).click()
    box = page.page.get_by_label("eta", exact=True)
    box.fill("0.005")
    started = page.page.evaluate("() => chainrule.model.run.trainer.epochs")
    page.page.wait_for_function(f"() => chainrule.model.run.trainer.epochs > {started + 2}")
    page.page.evaluate(TWO_FRAMES)
    assert box.input_value() == "0.005"
    box.press("Enter")
    assert page.page.evaluate("() => chainrule.get('eta')") == 0.005
    page.page.get_by_role("button", name="Pause").click()
    page.page.evaluate(TWO_FRAMES)
    assert box.input_value() == "0.005"  # the model's number, written as the box shows it
    # Escape gives up what was typed: the box shows the model's number again.
    box.fill("7")
    box.press("Escape")
    assert box.input_value() == "0.005" and page.page.evaluate("chainrule.get('eta')") == 0.005


def test_reset_pause_and_a_run_that_diverges(open_page: Any) -> None:
    case = random_case(3)
    page = open_page(viz.explorer(case.model, case.X, case.Y, eta=0.01, tol=0.0))
    before = page.snapshot()["values"]
    train_in_page(page, 5)
    assert page.snapshot()["values"] != before
    page.page.get_by_role("button", name="Reset").click()
    assert page.snapshot()["values"] == before and page.snapshot()["batch"]["epochs"] == 0
    # far too large a step: the run stops, says so, and the weights are as before it
    page.edit("eta", 1e6)
    shot = train_in_page(page, 50)
    assert shot["batch"]["stopped"] == "diverged"
    assert "diverged" in page.text("#train-status")
    assert shot["values"] == before


def test_a_thousand_epochs_of_the_notes_network(open_page: Any, record_property: Any) -> None:
    """Measured and reported (the issue asks for under a second on this machine), not
    asserted: timings on a shared machine are noisy."""
    model = nn.MLP(4, [3, 2, 1], seed=0)
    iris = nn.iris_binary(DEMO_SPECIES)
    page = open_page(viz.explorer(model, iris.X, iris.y, l2=1e-3, tol=0.0))
    seconds = page.page.evaluate(
        """async () => {
          const start = performance.now();
          await chainrule.train(1000);
          return (performance.now() - start) / 1000;
        }"""
    )
    assert page.snapshot()["batch"]["epochs"] == 1000
    record_property("seconds_for_1000_epochs", seconds)
    print(f"\n1,000 epochs of the notes' network on 150 rows in the page: {seconds:.2f} s")


def test_a_64_16_10_network_opens_and_trains_without_freezing(
    open_page: Any, record_property: Any
) -> None:
    digits = nn.load_digits()
    model = nn.MLP(64, [16, 10], bias=True, seed=0)
    start = time.perf_counter()
    built = viz.explorer(model, digits.X, digits.y, eta=1e-4)
    seconds = time.perf_counter() - start
    record_property("seconds_to_build_64_16_10", seconds)
    size = len(built.html.encode("utf-8"))
    print(f"\n64-16-10 page on {len(digits)} digits: built in {seconds:.1f} s, {size:,} bytes")
    page = open_page(built)
    X, Y = digits.X, nn.evaluate.encode_targets(model, digits.y, len(digits))[0]
    values, grads = engine_numbers(sample_loss(model, X[0], Y[0]))
    assert_same(page.snapshot()["values"], values, "values")
    assert_same(page.snapshot()["grads"], grads, "grads")
    # The page answers while it trains: Pause, clicked during the run, stops it early.
    page.page.evaluate("() => { chainrule.train(1000); }")
    page.page.wait_for_function(
        "() => chainrule.model.run.trainer.row > 0 || chainrule.model.run.trainer.epochs > 0"
    )
    page.page.get_by_role("button", name="Pause").click()
    shot = page.snapshot()
    assert not page.page.evaluate("chainrule.model.run.running")
    assert shot["batch"]["epochs"] < 1000


# --- what the learner sees and does ---------------------------------------------------------


def counter(page: Opened) -> str:
    return page.text("#counter")


def test_stepping_the_forward_and_the_backward_pass(open_page: Any) -> None:
    h = notes_example()  # h = x*x*tanh(x) + 1 at x = 3
    order = topological_order(h)
    computed = [n for n in order if n.parents]
    grads = gradients(h)
    page = open_page(viz.explorer(h))
    page.page.keyboard.press("Home")
    assert counter(page) == "start"

    def shown_values() -> list[str]:
        return page.page.locator("text.value").all_text_contents()

    assert "= ?" in shown_values()
    for k, node in enumerate(computed, start=1):
        page.page.click("#next")
        assert counter(page) == f"forward step {k} of {len(computed)}"
        # the Value just computed, from what enters it, as the engine computed it
        assert page.text("#step-body .formula b") == f"{node.data:.4g}".replace("-", "\u2212")
        assert shown_values().count("= ?") == len(computed) - k
    senders = [n for n in reversed(order) if n.parents and n.requires_grad]
    for k, node in enumerate(senders, start=1):
        page.page.keyboard.press("ArrowRight")
        assert counter(page).startswith(f"backward step {k} of {len(senders)}")
        if node is not h:  # its grad is complete now: the engine's
            shown = page.text("#step-body b").replace("\u2212", "-")
            assert shown == f"{grads[node]:.4g}", (k, node.label)
        # what it sends down each edge: its grad times the local derivative
        sent = [float(t) for t in page.page.locator("g.edge.sending text.sent").all_text_contents()]
        want = [grads[node] * d for _, parent, d in gradient_edges(node)]
        assert sorted(f"{v:.4g}" for v in sent) == sorted(f"{v:.4g}" for v in want)
    assert page.page.is_disabled("#next")
    page.page.keyboard.press("Home")
    page.page.keyboard.press("End")
    assert counter(page).endswith("all computed")


def test_picking_a_weight_keeps_the_learners_step(open_page: Any) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    iris = nn.iris_binary(DEMO_SPECIES)
    page = open_page(viz.explorer(model, iris.X, iris.y))
    page.page.keyboard.press("Home")
    page.page.keyboard.press("ArrowRight")
    assert counter(page) == "forward step 1 of 7"
    pick(page, "w^1_43")
    assert counter(page) == "forward step 1 of 7"
    page.page.keyboard.press("ArrowLeft")
    assert counter(page) == "start"
    # clicking a Value in the picture picks it too, and it can be any Value
    page.page.click("#node_" + _node_id(page, "O_12"))
    assert page.page.input_value("#pick") != ""
    assert "O<sub>12</sub>" in page.page.inner_html("#node-title")
    assert counter(page) == "start"


def test_a_weight_picked_mid_pass_shows_only_what_that_step_has_computed(open_page: Any) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    iris = nn.iris_binary(DEMO_SPECIES)
    page = open_page(viz.explorer(model, iris.X, iris.y))
    loss = sample_loss(model, iris.X[0], [iris.y[0]])
    values, grads = engine_numbers(loss)
    local = {(c.label, p.label): d for c, p, d in _neuron_edges(loss)}

    def shows(x: float, text: str) -> bool:  # as the picture, a ledger or a card writes it
        return any(f"{abs(x):.{digits}g}" in text for digits in (4, 6))

    page.page.keyboard.press("Home")
    for _ in range(3):  # O_11, O_12, O_13: the first layer
        page.page.keyboard.press("ArrowRight")
    assert counter(page) == "forward step 3 of 7"
    pick(page, "w^1_11")
    shown = _picture_and_panels(page)
    later = {
        "O_21": values["O_21"],
        "O_31": values["O_31"],
        "L": values["L"],
        "dL/dO_31": local[("L", "O_31")],
        "dO_21/dO_11": local[("O_21", "O_11")],
        "dL/dw^1_11": grads["w^1_11"],
        "the batch's dL/dw^1_11": page.snapshot()["batch"]["grads"]["w^1_11"],
    }
    assert [name for name, x in later.items() if shows(x, shown)] == []
    assert shows(local[("O_11", "w^1_11")], shown)  # O_11 is computed: its factor is known
    assert "once the backward pass has computed its grad" in page.text("#node-body")
    # Your turn asks about the whole pass, so it shows it all.
    page.page.click("#practice")
    assert counter(page).endswith("all computed")
    page.page.click("#practice")
    page.page.keyboard.press("Home")
    # The backward pass reaches w^1_11 at its last step: then its grad is there.
    page.page.keyboard.press("End")
    shown = _picture_and_panels(page)
    assert [name for name, x in later.items() if not shows(x, shown)] == []


def _neuron_edges(loss: Value) -> list[tuple[Value, Value, float]]:
    """(child, parent, local derivative) of every edge the neuron-level picture draws."""
    edges = viz.backward_steps(loss, level="neuron")[-1].edges
    return [(e.child, e.parent, e.derivative) for steps in edges.values() for e in steps]


# The Pick list's groups and options, as the learner reads them.
PICK_LIST = """() => [...document.querySelectorAll('#pick > optgroup')].map(
  (g) => [g.label, [...g.querySelectorAll('option')].map((o) => o.textContent)])"""


def test_the_pick_list_and_the_weights_read_as_the_notes_do(open_page: Any) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    iris = nn.iris_binary(DEMO_SPECIES)
    page = open_page(viz.explorer(model, iris.X, iris.y))
    sub = str.maketrans(
        "0123456789", "\u2080\u2081\u2082\u2083\u2084\u2085\u2086\u2087\u2088\u2089"
    )
    sup = str.maketrans("123", "\u00b9\u00b2\u00b3")
    w = lambda k, i, j: f"w{str(k).translate(sup)}{f'{i}{j}'.translate(sub)}"
    o = lambda k, j: f"O{f'{k}{j}'.translate(sub)}"
    # Layer by layer: into each neuron j its weights, i within j, then its output.
    layer = lambda k, n, m: [
        x for j in range(1, m + 1) for x in [*(w(k, i, j) for i in range(1, n + 1)), o(k, j)]
    ]
    assert page.page.evaluate(PICK_LIST) == [
        ["inputs", ["x\u2081", "x\u2082", "x\u2083", "x\u2084"]],
        ["layer 1", layer(1, 4, 3)],
        ["layer 2", layer(2, 3, 2)],
        ["layer 3", layer(3, 2, 1)],
        ["loss", ["y", "L"]],
    ]
    # The weight boxes: each neuron's under its output, in the notes' order (i within j).
    boxes = page.page.evaluate(
        "() => [...document.querySelectorAll('#number-list fieldset')[1]"
        ".querySelectorAll('.into, label')]"
        ".map((e) => e.matches('.into') ? e.textContent : e.querySelector('input').dataset.name)"
    )
    expected = []
    for k, (n, m) in enumerate([(4, 3), (3, 2), (2, 1)], start=1):
        for j in range(1, m + 1):
            expected += [f"into O{k}{j}", *(f"w^{k}_{i}{j}" for i in range(1, n + 1))]
    assert boxes == expected
    # An expression keeps its own order, in no groups.
    x = Value(3.0, label="x")
    h = x * x.tanh()
    h.label = "h"
    page = open_page(viz.explorer(h))
    assert page.page.evaluate(PICK_LIST) == []
    options = page.page.locator("#pick > option").all_text_contents()
    assert options[0] == "(none)" and {"x", "h"} <= set(options)


def pick(page: Opened, name: str) -> None:
    """Choose the Value named ``name`` in the Pick list, which shows it typeset."""
    page.page.select_option("#pick", label=plain_symbol(name))


def _node_id(page: Opened, name: str) -> str:
    nodes = json.loads(page.text("#data"))["nodes"]
    return next(n["id"] for n in nodes if n["name"] == name)


def test_inspecting_a_neuron_shows_its_grad_as_a_sum_over_its_edges(open_page: Any) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    iris = nn.iris_binary(DEMO_SPECIES)
    page = open_page(viz.explorer(model, iris.X, iris.y))
    pick(page, "O_11")
    loss = sample_loss(model, iris.X[0], [iris.y[0]])
    grads = gradients(loss)
    o11 = next(n for n in topological_order(loss) if n.label == "O_11")
    body = page.text("#node-body")
    assert "the sum over its 2 edges out" in body  # to O_21 and O_22
    assert f"{grads[o11]:.6g}".replace("-", "\u2212") in body


def test_your_turn_accepts_the_right_factor_and_names_a_wrong_one(open_page: Any) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    iris = nn.iris_binary(DEMO_SPECIES)
    page = open_page(viz.explorer(model, iris.X, iris.y))
    pick(page, "w^1_11")
    page.page.click("#practice")
    question = page.text("#node-body")
    match = re.search(r"What is d(\S+)/d(\S+)\?", question)
    assert match, question
    edges = {(e["child"], e["parent"]): e["value"] for e in page.page.evaluate("chainrule.edges()")}
    html_name = lambda n: re.sub(r"<[^>]+>", "", n)
    child, parent = (re.sub(r"\s", "", m) for m in match.groups())
    value = next(
        v
        for (c, p), v in edges.items()
        if html_name(c).replace("_", "").replace("^", "") == child
        and html_name(p).replace("_", "").replace("^", "") == parent
    )
    answer = page.page.get_by_label("your answer", exact=True)
    answer.fill(f"{value * 1.2:.4g}")
    answer.press("Enter")
    assert page.text("#verdict").startswith("Not right: the factor")
    answer.fill(f"{value:.4g}")
    answer.press("Enter")
    assert page.text("#verdict").startswith("Right")
    # the other kind of question: every path's product, then the sum
    for _ in range(10):
        page.page.click("#another")
        if page.page.get_by_label("path 1", exact=True).count():
            break
    loss = sample_loss(model, iris.X[0], [iris.y[0]])
    rule = viz.explain(loss, model.weight(1, 1, 1), level="neuron")
    for i, path in enumerate(rule.paths, start=1):
        page.page.get_by_label(f"path {i}", exact=True).fill(f"{path.product:.4g}")
    total = page.page.get_by_label("your answer", exact=True)
    total.fill(f"{rule.grad * 2:.4g}")
    total.press("Enter")
    assert "their sum is not" in page.text("#verdict")
    total.fill(f"{rule.grad:.4g}")
    total.press("Enter")
    assert page.text("#verdict").startswith("Right")


def _worked_out(html: str, digits: int = 17) -> float:
    """The arithmetic a learner reads on the page (a where line's formula with its numbers,
    or a path's factors), done by Python on the digits the page shows, or on each number
    cut to ``digits`` significant digits (as the picture shows them, 4)."""
    text = re.sub(r"<sup>(.*?)</sup>", r"**(\1)", html)
    text = re.sub(r"<[^>]+>", "", text)
    text = text.replace("\u2212", "-").replace("\u00b7", "*").replace("\u00d7", "*")
    assert re.fullmatch(r"[-+*/(). 0-9e]+", text), text
    text = re.sub(r"\d+\.\d+", lambda m: f"{float(m.group(0)):.{digits}g}", text)
    return float(eval(text))  # digits, brackets and arithmetic only (checked above)


def _where_lines(page: Opened) -> list[tuple[str, str]]:
    """The where block's lines: the formula with its numbers (HTML), and the result shown."""
    lines = []
    for row in page.page.locator("#ledger-where tr").all()[1:]:  # after its title row
        cells = row.locator("td")
        lines.append((cells.nth(4).inner_html(), cells.nth(6).inner_text().strip()))
    return lines


def _answer_every_question_from_the_numbers_shown(page: Opened) -> dict[str, list[str]]:
    """Each of Your turn's questions about the picked weight, answered as a learner works
    it out to 4 digits from the numbers the ledger shows ("ledger"), from the same cut to
    4 digits as the picture shows them ("picture"), and clearly wrong ("wrong"): the
    verdicts of each."""
    verdicts: dict[str, list[str]] = {"ledger": [], "picture": [], "wrong": []}
    for _ in range(len(_where_lines(page)) + 1):  # each factor, then the sum over the paths
        if page.page.get_by_label("path 1", exact=True).count():
            typed = []
            for row in page.page.locator("table.paths tr").all()[:-1]:
                product = _worked_out(row.locator("td").nth(1).inner_html())
                typed.append(float(f"{product:.4g}"))
                row.locator("input").fill(f"{product:.4g}")
            answers = {"ledger": sum(typed), "picture": sum(typed)}
        else:
            asked = [formula for formula, result in _where_lines(page) if result == "?"]
            assert len(asked) == 1, page.text("#ledger-where")
            answers = {"ledger": _worked_out(asked[0]), "picture": _worked_out(asked[0], 4)}
        answers["wrong"] = 1.5 * answers["ledger"]
        answer = page.page.get_by_label("your answer", exact=True)
        for kind, value in answers.items():
            answer.fill(f"{value:.4g}")
            answer.press("Enter")
            verdicts[kind].append(page.text("#verdict"))
        page.page.click("#another")
    return verdicts


def _assert_the_where_lines_add_up(page: Opened) -> None:
    """Each where line's arithmetic on its numbers as shown gives the result it shows, as
    the Python ledgers' lines do (viz.symbolic.digits_to_show)."""
    for formula, result in _where_lines(page):
        worked = f"{_worked_out(formula):.4g}".replace("-", "\u2212")
        assert worked == result, (formula, result)


def test_your_turn_accepts_answers_worked_out_from_the_numbers_shown(open_page: Any) -> None:
    # The demo's page: at the start weights O_22 = -0.8868 to 4 digits gives dO22/dO11
    # one off in its 4th digit; after Train, saturated outputs make 1 - O^2 cancel digits
    # (-2 (1 - 0.9968) is -0.0064, not -0.006317), so most answers from 4 digits miss.
    model = nn.MLP(4, [3, 2, 1], seed=0)
    iris = nn.iris_binary(DEMO_SPECIES)
    page = open_page(
        viz.explorer(
            model, iris.X, iris.y, eta=DEMO_LR, l2=DEMO_L2, tol=DEMO_TOL, epochs=DEMO_MAX_EPOCHS
        )
    )
    pick(page, "w^1_11")
    _assert_the_where_lines_add_up(page)
    page.page.click("#practice")
    verdicts = _answer_every_question_from_the_numbers_shown(page)
    assert all(v.startswith("Right") for v in verdicts["ledger"] + verdicts["picture"]), verdicts
    # A wrong answer is told what to redo and how far off it is.
    wrongs = verdicts["wrong"]
    assert all(w.startswith("Not right") and "50% too large" in w for w in wrongs), wrongs
    factor = next(w for w in wrongs if "the factor" in w)
    assert re.search(r"It is .* = .*\d", factor), factor  # the formula with its numbers
    page.page.click("#practice")  # closed, so that Train's redraws show every number
    shot = train_in_page(page, DEMO_MAX_EPOCHS)
    assert shot["batch"]["stopped"] == "converged", shot["batch"]
    _assert_the_where_lines_add_up(page)
    page.page.click("#practice")
    verdicts = _answer_every_question_from_the_numbers_shown(page)
    assert all(v.startswith("Right") for v in verdicts["ledger"] + verdicts["picture"]), verdicts
    assert all(w.startswith("Not right") for w in verdicts["wrong"]), verdicts
    # The picture's 4 digits miss the exact value here: the page says so, kindly.
    kind = [v for v in verdicts["picture"] if v.startswith("Right from the numbers shown")]
    assert len(kind) >= 3 and all("The exact value is" in v for v in kind), verdicts


def _picture_and_panels(page: Opened) -> str:
    """What the learner reads: the picture's texts and the panels (not the page's data)."""
    return page.page.evaluate("() => document.querySelector('main').textContent")


def graded(typed: str, folder: Path) -> float | None:
    """``typed`` as chainrule grade reads it from a spreadsheet's cell, decimal comma and
    all (a ValueError says why it is no number)."""
    answers = folder / "answers.csv"
    answers.write_text(f"student;q\n1;{typed}\n", encoding="utf-8")
    key = {1: {"q": Question(id="q", sheet="A", value=0.0, tolerance=1.0)}}
    return read_answers(answers, key)[0][2]["q"]


def test_your_turn_reads_answers_as_grading_does_and_hides_the_answer(
    open_page: Any, tmp_path: Path
) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    iris = nn.iris_binary(DEMO_SPECIES)
    page = open_page(viz.explorer(model, iris.X, iris.y))
    pick(page, "w^1_11")
    page.page.click("#practice")
    # The first question is the first factor of every path: dL/dO_31, O_31's grad too.
    assert "What is dL/dO31?" in page.text("#node-body")
    edges = page.page.evaluate("chainrule.edges()")
    index = next(i for i, e in enumerate(edges) if (e["child"], e["parent"]) == ("L", "O_31"))
    truth = edges[index]["value"]
    shown = f"{abs(truth):.4g}"
    o31 = _node_id(page, "O_31")[1:]
    # Neither the edge's label nor O_31's grad gives it away while the question is open.
    assert page.text(f"#t_ee{index}") == "\u00d7 ?"
    assert page.text(f"#t_gn{o31}") == "?"
    assert shown not in _picture_and_panels(page)
    answer = page.page.get_by_label("your answer", exact=True)

    def verdict(typed: str) -> str:
        answer.fill(typed)
        answer.press("Enter")
        return page.text("#verdict")

    assert verdict("") == "Your answer is blank: type a number, then press Enter."
    assert verdict("abc") == "Your answer: 'abc' is not a number; type a number, then press Enter."
    assert verdict(f"{-truth:.4g}").startswith("Not right: the sign is flipped.")
    assert verdict(f"{truth * 1.2:.4g}").startswith("Not right: the factor dL/dO31 differs")
    assert shown not in _picture_and_panels(page)
    # What chainrule grade reads as a number (a decimal comma, a true minus, Python's
    # digit groups) the page reads as the same number; what it refuses, the page refuses.
    written = f"{truth:.4g}"
    accepted = [written.replace(".", ","), written.replace("-", "\u2212"), f" {written} "]
    refused = ["1,2,3", "--3", "3.8.2", "inf", "nan", "1e999", "0x10", "1__0", "_1", "3 8", "."]
    for typed in ["1_000,5", "+.5", "1.e2", *refused, *accepted]:
        said = verdict(typed)
        try:
            number = graded(typed, tmp_path)
        except ValueError:
            assert "not a" in said and "type a number" in said, (typed, said)
            continue
        assert number is not None and "type a number" not in said, (typed, said)
        assert said.startswith("Right") == (typed in accepted), (typed, said)
    # Answered: the picture shows the factor again.
    assert page.text(f"#t_ee{index}") == "\u00d7 " + written
    assert page.text(f"#t_gn{o31}") == written
    # The sum over the paths: a sign slip of the sum is named as one.
    for _ in range(10):
        page.page.click("#another")
        if page.page.get_by_label("path 1", exact=True).count():
            break
    grad = f"{abs(page.snapshot()['grads']['w^1_11']):.4g}"
    assert page.text("#t_gn" + _node_id(page, "w^1_11")[1:]) == "?"
    loss = sample_loss(model, iris.X[0], [iris.y[0]])
    rule = viz.explain(loss, model.weight(1, 1, 1), level="neuron")
    for i, path in enumerate(rule.paths, start=1):
        page.page.get_by_label(f"path {i}", exact=True).fill(f"{path.product:.4g}")
    assert grad not in _picture_and_panels(page)
    total = page.page.get_by_label("your answer", exact=True)
    total.fill(f"{-rule.grad:.4g}")
    total.press("Enter")
    assert page.text("#verdict") == (
        "Not right: each path is right; the sign of their sum is flipped."
    )


def test_the_loss_and_the_targets_of_several_outputs_say_what_they_are(open_page: Any) -> None:
    iris = nn.load_iris()
    species = [iris.classes[c] for c in iris.y]
    page = open_page(viz.explorer(nn.MLP(4, [3, 3], seed=0), iris.X, species))
    # The sum runs over the rows n and each row's outputs j, as nn.sse adds them up.
    objective = page.text("#objective")
    assert objective.startswith("L = \u03a3n \u03a3j (ynj \u2212 \u0177nj)2 + \u03bb \u03a3 w2"), (
        objective
    )
    targets = [page.text(f"label:has(input[aria-label='y_{j}'])") for j in (1, 2, 3)]
    assert targets == ["y1 setosa", "y2 versicolor", "y3 virginica"]
    two = [s for s in species if s != "virginica"]
    page = open_page(viz.explorer(nn.MLP(4, [3, 1], seed=0), iris.X[:100], two))
    assert page.text("#objective").startswith("L = \u03a3n (yn \u2212 \u0177n)2 + \u03bb")
    assert page.text("label:has(input[aria-label='y'])") == "y +1 versicolor, -1 setosa"


def test_a_refused_edit_says_why_and_changes_nothing(open_page: Any) -> None:
    x = Value(2.0, label="x")
    f = (x - 1.0).log()
    f.label = "f"
    page = open_page(viz.explorer(f))
    before = page.snapshot()
    page.edit("x", 0.5)  # log of a negative number
    message = page.text("#message")
    assert "x = 0.5 is refused" in message and "log(" in message, message
    assert page.snapshot() == before
    assert page.page.input_value("input[aria-label='x']") == "2"
    page.errors.clear()  # the refusal is the page's message, not a script error


# --- the layout, at the sizes a class sees it ---------------------------------------------

# The ledger's cells that the panel does not show whole, to the right or below.
CUT_OFF = """() => {
  const box = document.getElementById("ledger").getBoundingClientRect();
  const cells = [...document.querySelectorAll("#ledger td")];
  const out = cells.filter((td) => {
    const cell = td.getBoundingClientRect();
    return cell.right > box.right + 0.5 || cell.bottom > box.bottom + 0.5;
  });
  return out.map((td) => td.textContent);
}"""

LAST_WORD_HIDDEN = """() => {
  const panel = document.getElementById("step");
  const scrolls = panel.scrollHeight > panel.clientHeight + 1;
  return scrolls || panel.getBoundingClientRect().bottom > innerHeight;
}"""

# The height of the picture's text, in CSS pixels (about 1.15 times its font size).
TEXT_HEIGHT = "() => document.querySelector('#picture text.value').getBoundingClientRect().height"


# The root's box (L, h) is seen whole in the window without scrolling the picture.
ROOT_SEEN = """() => {
  const data = JSON.parse(document.getElementById("data").textContent);
  const id = data.nodes.find((n) => n.slot === data.root).id;
  const box = document.getElementById("node_" + id).getBoundingClientRect();
  const view = document.getElementById("picture").getBoundingClientRect();
  return box.left >= view.left && box.right <= view.right && box.top >= view.top
    && box.bottom <= Math.min(view.bottom, innerHeight);
}"""

PICTURE_SEEN = """() => {
  const svg = document.querySelector("#picture svg").getBoundingClientRect();
  const view = document.getElementById("picture").getBoundingClientRect();
  return svg.right <= view.right && svg.bottom <= Math.min(view.bottom, innerHeight);
}"""

# How many rows of number boxes the Numbers panel shows whole, and whether η and the Train
# button are in the window.
NUMBERS_SEEN = """() => {
  const panel = document.getElementById("numbers").getBoundingClientRect();
  const whole = [...document.querySelectorAll("#number-list input")].filter((input) => {
    const box = input.getBoundingClientRect();
    return box.top >= panel.top && box.bottom <= panel.bottom;
  });
  const inWindow = (el) => el.getBoundingClientRect().bottom <= innerHeight;
  const rows = new Set(whole.map((input) => Math.round(input.getBoundingClientRect().top)));
  return [rows.size, inWindow(document.querySelector("input[aria-label='eta']")),
    inWindow(document.getElementById("train-run"))];
}"""


@pytest.mark.parametrize("size", [(800, 600), (1280, 720)])
def test_readable_at_800x600_and_on_a_projector(open_page: Any, size: tuple[int, int]) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    iris = nn.iris_binary(DEMO_SPECIES)
    page = open_page(viz.explorer(model, iris.X, iris.y, l2=1e-3), size)
    assert page.page.evaluate(ROOT_SEEN)
    pick(page, "w^1_11")
    assert page.page.evaluate(CUT_OFF) == []
    train_in_page(page, 100)  # smaller numbers, written longer (2.655e-09)
    assert page.page.evaluate(CUT_OFF) == []
    assert page.page.evaluate(TEXT_HEIGHT) >= 10
    assert page.page.evaluate(ROOT_SEEN)
    # A weight picked and a run's curve drawn, Numbers still shows three rows of boxes,
    # and on a wide screen η and Train are in view without scrolling.
    rows, eta, train = page.page.evaluate(NUMBERS_SEEN)
    assert rows >= 3
    if size[0] >= 1000:
        assert eta and train
    # A small expression, drawn bottom up: its whole picture fits the window.
    page = open_page(viz.explorer(notes_example()), size)
    assert page.page.evaluate(PICTURE_SEEN)
    assert page.page.evaluate(TEXT_HEIGHT) >= 10
    if size[0] < 1000:
        return  # below the picture, the panels are reached by scrolling
    page.page.keyboard.press("Home")
    for _ in range(15):
        assert not page.page.evaluate(LAST_WORD_HIDDEN), counter(page)
        page.page.keyboard.press("ArrowRight")


# Once the page has laid itself out: a resize is answered before the frame after it.
SETTLED = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"

# The height of the picture's smallest text (the edges' numbers), in CSS pixels.
SMALLEST_TEXT = """() => Math.min(...[...document.querySelectorAll("#picture text")]
  .map((text) => text.getBoundingClientRect().height))"""

# Whether the picture's panel scrolls, down and across.
PICTURE_SCROLLS = """() => {
  const panel = document.getElementById("picture");
  return [panel.scrollHeight > panel.clientHeight + 1, panel.scrollWidth > panel.clientWidth + 1];
}"""

# Whether the picture's lowest Value is seen whole in its panel, as it is scrolled now.
LOWEST_SEEN = """() => {
  const panel = document.getElementById("picture");
  const bottoms = [...panel.querySelectorAll("g.node")].map((node) => node.getBoundingClientRect());
  const lowest = bottoms.reduce((a, b) => (b.bottom > a.bottom ? b : a));
  const view = panel.getBoundingClientRect();
  return lowest.top >= view.top && lowest.bottom <= Math.min(view.bottom, innerHeight);
}"""


def test_a_tall_network_on_a_wide_screen_is_read_by_scrolling_its_picture(
    open_page: Any,
) -> None:
    # Iris's three species through a 4 -> 4 -> 3 network with biases: 35 weights in a
    # column far taller than wide. Fitted to a 1400x900 window its text was 7 px.
    iris = nn.load_iris()
    model = nn.MLP(4, [4, 3], bias=True, seed=0)
    page = open_page(viz.explorer(model, iris.X, iris.y), (1400, 900))
    page.page.evaluate(SETTLED)
    assert page.page.evaluate(SMALLEST_TEXT) >= 10
    # As wide as its panel, it scrolls down only, within the picture: the page does not.
    assert page.page.evaluate(PICTURE_SCROLLS) == [True, False]
    assert page.page.evaluate("() => document.documentElement.scrollHeight <= innerHeight")
    assert not page.page.evaluate(LOWEST_SEEN)
    page.page.locator("#picture").evaluate("(panel) => { panel.scrollTop = panel.scrollHeight; }")
    assert page.page.evaluate(LOWEST_SEEN)
    # The notes' network still fits its panel whole, on a projector and on a large screen.
    demo = nn.MLP(4, [3, 2, 1], seed=0)
    binary = nn.iris_binary(DEMO_SPECIES)
    for size in [(1280, 720), (1600, 1100)]:
        page = open_page(viz.explorer(demo, binary.X, binary.y, l2=1e-3), size)
        page.page.evaluate(SETTLED)
        assert page.page.evaluate(PICTURE_SCROLLS) == [False, False], size
        assert page.page.evaluate(PICTURE_SEEN), size
        assert page.page.evaluate(SMALLEST_TEXT) >= 10, size
