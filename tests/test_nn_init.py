"""Initialisers: each one's mean and variance against its formula, and determinism."""

from __future__ import annotations

import math
import random
import statistics

import pytest

import nn
from nn import init

# (initialiser, variance as a function of fan_in and fan_out, bound of the support or None)
FORMULAS = {
    "uniform": (lambda fi, fo: 1 / 3, lambda fi, fo: 1.0),
    "normal": (lambda fi, fo: 1.0, None),
    "xavier_uniform": (lambda fi, fo: 2 / (fi + fo), lambda fi, fo: math.sqrt(6 / (fi + fo))),
    "xavier_normal": (lambda fi, fo: 2 / (fi + fo), None),
    "he_uniform": (lambda fi, fo: 2 / fi, lambda fi, fo: math.sqrt(6 / fi)),
    "he_normal": (lambda fi, fo: 2 / fi, None),
    "lecun_uniform": (lambda fi, fo: 1 / fi, lambda fi, fo: math.sqrt(3 / fi)),
    "lecun_normal": (lambda fi, fo: 1 / fi, None),
}
DRAWS = 20_000


@pytest.mark.parametrize("name", sorted(FORMULAS))
@pytest.mark.parametrize(("fan_in", "fan_out"), [(4, 3), (10, 30)])
def test_mean_and_variance_match_the_formula(name: str, fan_in: int, fan_out: int) -> None:
    variance, bound = FORMULAS[name]
    draw = nn.INITIALIZERS[name]
    rng = random.Random(12345)
    samples = [draw(fan_in, fan_out, rng) for _ in range(DRAWS)]
    expected = variance(fan_in, fan_out)
    # the sample mean's standard error is sqrt(var / n): allow 5 of them
    assert abs(statistics.fmean(samples)) < 5 * math.sqrt(expected / DRAWS)
    # the sample variance's relative standard error is at most sqrt(2 / n) ~ 1%
    assert statistics.pvariance(samples) == pytest.approx(expected, rel=0.05)
    if bound is not None:
        a = bound(fan_in, fan_out)
        assert max(abs(s) for s in samples) <= a
        assert max(abs(s) for s in samples) > 0.99 * a  # the whole interval is used


def test_zeros_gives_zeros_and_aliases_name_the_uniform_variants() -> None:
    assert nn.MLP(4, [3, 2, 1], init="zeros").parameters()[0].data == 0.0
    assert all(p.data == 0.0 for p in nn.MLP(4, [3, 2, 1], init="zeros").parameters())
    assert nn.get_initializer("xavier") is init.xavier_uniform
    assert nn.get_initializer("glorot") is init.xavier_uniform
    assert nn.get_initializer("he") is init.he_uniform
    assert nn.get_initializer("kaiming") is init.he_uniform
    assert nn.get_initializer("lecun") is init.lecun_uniform


def test_zeros_keeps_the_neurons_of_a_layer_identical_under_training() -> None:
    """Why symmetry must be broken: identical neurons get identical gradients forever."""
    data = nn.iris_binary()
    model = nn.MLP(4, [3, 1], init="zeros")
    model.weight(2, 1, 1).data = model.weight(2, 2, 1).data = model.weight(2, 3, 1).data = 0.5
    nn.train(model, data.X[::10], data.y[::10], lr=0.01, max_epochs=5, tol=0.0, progress=False)
    first, *others = model.layers[0].neurons
    assert any(w.data != 0.0 for w in first.weights)
    for neuron in others:
        assert [w.data for w in neuron.weights] == [w.data for w in first.weights]


@pytest.mark.parametrize("name", sorted(set(nn.INITIALIZERS) - {"zeros"}))
def test_same_seed_same_weights_other_seed_other_weights(name: str) -> None:
    weights = [p.data for p in nn.MLP(4, [3, 2, 1], init=name, seed=7).parameters()]
    again = [p.data for p in nn.MLP(4, [3, 2, 1], init=name, seed=7).parameters()]
    other = [p.data for p in nn.MLP(4, [3, 2, 1], init=name, seed=8).parameters()]
    assert weights == again
    assert weights != other
    assert len(set(weights)) == 20  # every weight is its own draw


def test_weights_are_drawn_in_parameter_order_from_random_random_of_the_seed() -> None:
    rng = random.Random(42)
    expected = [
        init.xavier_uniform(fan_in, fan_out, rng)
        for fan_in, fan_out in [(4, 3)] * 12 + [(3, 2)] * 6 + [(2, 1)] * 2
    ]
    assert [p.data for p in nn.MLP(4, [3, 2, 1], seed=42).parameters()] == expected


def test_a_callable_gets_fan_in_fan_out_and_the_seeded_rng() -> None:
    calls: list[tuple[int, int]] = []

    def constant(fan_in: int, fan_out: int, rng: random.Random) -> float:
        calls.append((fan_in, fan_out))
        return 0.25

    model = nn.MLP(4, [3, 2, 1], init=constant, bias=True)
    assert calls == [(4, 3)] * 12 + [(3, 2)] * 6 + [(2, 1)] * 2
    assert all(p.data == (0.0 if p.label.startswith("b") else 0.25) for p in model.parameters())


def test_bad_init_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown init 'glorot_uniformish'.*xavier_normal"):
        nn.get_initializer("glorot_uniformish")
    with pytest.raises(TypeError, match="init must be a name or a callable"):
        nn.get_initializer(3)  # type: ignore[arg-type]
