"""Regenerate the README's pictures: ``.venv/bin/python docs/make_pictures.py``."""

from __future__ import annotations

from pathlib import Path

import nn
import viz
from autograd import topological_order
from chainrule.graphs import demo_sample_loss, seed_example

HERE = Path(__file__).parent


def seed_example_paths() -> None:
    """The seed's rule dh/dx = dh/dF * dF/dx + dh/dg * dg/dx, as a graph."""
    h = seed_example()
    x = next(v for v in topological_order(h) if v.label == "x")
    h.backward()
    viz.draw_paths(h, x).render(outfile=HERE / "seed-example.png", cleanup=True)


def network() -> None:
    """The seed's 4-3-2-1 network after one backward pass on one Iris sample."""
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, 0)
    model.zero_grad()
    loss.backward()
    viz.draw_network(model).render(outfile=HERE / "network.png", cleanup=True)
    w = model.weight(1, 1, 1)
    viz.draw_paths(loss, w, level="neuron").render(outfile=HERE / "paths-w1_11.png", cleanup=True)


if __name__ == "__main__":
    seed_example_paths()
    network()
