"""Regenerate the README's pictures: ``.venv/bin/python docs/make_pictures.py``."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nn
import viz
from autograd import topological_order
from chainrule.examples import demo_sample_loss, notes_example, sample_title
from chainrule.explore import write_explorer

HERE = Path(__file__).parent
# The neuron-level frame the README shows: O_21 passing its grad to O_11, O_12, O_13
# and its weights (step 4 of 7: L, O_31, O_22, then O_21).
NEURON_FRAME = 4
sys.path.insert(0, str(HERE.parent / "tests"))  # the tests' headless Chromium
from browser import chromium  # noqa: E402


def chain_rule_example() -> None:
    """The notes' rule dh/dx = dh/dF * dF/dx + dh/dg * dg/dx, as a graph."""
    h = notes_example()
    x = next(v for v in topological_order(h) if v.label == "x")
    h.backward()
    viz.draw_paths(h, x).render(outfile=HERE / "chain-rule-example.png", cleanup=True)


def network() -> None:
    """The notes' 4-3-2-1 network after one backward pass on one Iris sample."""
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, 0)
    model.zero_grad()
    loss.backward()
    title = sample_title(loss, 0)
    viz.draw_network(model, title=title).render(outfile=HERE / "network.png", cleanup=True)
    w = model.weight(1, 1, 1)
    viz.draw_paths(loss, w, level="neuron").render(outfile=HERE / "paths-w1_11.png", cleanup=True)


def explorer() -> None:
    """The live explorer page of the demo's network as a 1600x1100 screenshot: trained for
    100 epochs in the page, then w^1_11 picked (its paths, ledger, check and update)."""
    with tempfile.TemporaryDirectory() as out, chromium() as browser:
        page = write_explorer(nn.MLP(4, [3, 2, 1], seed=0), out)
        tab = browser.new_page(viewport={"width": 1600, "height": 1100})
        tab.goto(page.resolve().as_uri())
        epochs = tab.get_by_label("epochs", exact=True)
        epochs.fill("100")
        epochs.press("Enter")
        tab.get_by_role("button", name="Train", exact=True).click()
        tab.wait_for_function("() => !chainrule.model.run.running")
        tab.select_option("#pick", label="w\u00b9\u2081\u2081")  # w^1_11, typeset
        tab.screenshot(path=HERE / "explorer.png")


def backward_neuron() -> None:
    """One frame of the same sample's backward pass, one neuron at a time (the demo
    writes the whole pass and its GIF; a 640 KB GIF is too heavy for the README)."""
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, 0)
    frames = viz.backward_frames(loss, level="neuron")
    frames[NEURON_FRAME].render(outfile=HERE / "backward-neuron-step.png", cleanup=True)


if __name__ == "__main__":
    chain_rule_example()
    network()
    explorer()
    backward_neuron()
