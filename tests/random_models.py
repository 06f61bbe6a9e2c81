"""Seeded random MLPs with random data, for the tests that compare one network computed two ways.

Case ``seed`` fixes everything. Its activations and biases cycle through every combination
(hidden activation, output activation, bias or not) every ``len(CASES)`` seeds. The first
``len(CASES)`` cases have hidden layers, so a loop over them meets each combination; later
ones may also be a single layer. Sizes, parameters and data are random.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import nn

CASES = list(itertools.product(nn.activation_names(), nn.activation_names(), (False, True)))


@dataclass
class Case:
    model: nn.MLP
    X: list[list[float]]
    Y: list[list[float]]  # one row of targets per sample, as many as the model has outputs


def random_case(seed: int) -> Case:
    """A random MLP (every parameter drawn, biases too) and a small random data set."""
    rng = random.Random(seed)
    activation, output_activation, bias = CASES[seed % len(CASES)]
    nin = rng.randint(1, 5)
    layers = rng.randint(2, 3) if seed < len(CASES) else rng.randint(1, 3)
    nouts = [rng.randint(1, 4) for _ in range(layers)]
    model = nn.MLP(
        nin,
        nouts,
        bias=bias,
        activation=activation,
        output_activation=output_activation,
        seed=seed,
    )
    for p in model.parameters():
        p.data = rng.uniform(-1.5, 1.5)
    samples = rng.randint(1, 6)
    X = [[rng.gauss(0.0, 1.0) for _ in range(nin)] for _ in range(samples)]
    Y = [[rng.uniform(-1.0, 1.0) for _ in range(nouts[-1])] for _ in range(samples)]
    return Case(model, X, Y)


def scalar_outputs(model: nn.MLP, X: list[list[float]]) -> list[list[float]]:
    """The model's outputs from the graph of Values, one row per sample."""
    rows = []
    for x in X:
        out = model(x)
        rows.append([v.data for v in out] if isinstance(out, list) else [out.data])
    return rows
