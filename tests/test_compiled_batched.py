"""Training's compiled path on data that strains floats: same numbers, errors in user terms."""

from __future__ import annotations

import math
import random

import pytest

import nn
from nn.batched import BatchedLoss


def test_a_sigmoid_network_on_large_inputs_trains_as_the_interpreted_engine_does() -> None:
    # sigmoid(800) is 1 and exp(-800) underflows to 0: neither is an overflow.
    X = [[800.0, -900.0], [-750.0, 820.0], [0.5, 0.25]]
    y = [1.0, 0.0, 1.0]
    weights = {}
    for engine in ("compiled", "interpreted"):
        model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=1)
        history = nn.train(model, X, y, lr=0.1, max_epochs=5, progress=False, engine=engine)
        assert history.engine == engine
        weights[engine] = [p.data for p in model.parameters()]
    assert weights["compiled"] == pytest.approx(weights["interpreted"], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    ("X", "Y", "message"),
    [
        ([[1.0, 2.0], [3.0, math.nan]], [[1.0], [0.0]], r"X\[1\]\[1\] is nan"),
        ([[1.0, 2.0], [3.0, 4.0]], [[1.0], [-math.inf]], r"y\[1\] is -inf"),
        ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 0.0], [0.0, math.inf]], r"y\[1\]\[1\] is inf"),
    ],
)
def test_non_finite_data_is_named_by_row_and_column(X: list, Y: list, message: str) -> None:
    model = nn.MLP(2, [len(Y[0])], seed=0)
    with pytest.raises(ValueError, match=message):
        BatchedLoss(model, X, Y)


def test_an_overflow_in_one_sample_names_that_sample() -> None:
    model = nn.MLP(1, [1], output_activation="linear", seed=0)
    X, Y = [[1.0], [1e200], [2.0]], [[0.0], [0.0], [0.0]]
    with pytest.raises(OverflowError, match=r"\*\*.*overflows a float \(sample 1 of the batch\)"):
        BatchedLoss(model, X, Y)([0, 1, 2], 0.0, 0.0)


def test_a_wide_network_fused_into_matrix_products_matches_the_interpreted_engine() -> None:
    # Layers of 16 neurons run as matrix products: sums in another order, same numbers to
    # rounding (the sums here are well conditioned: tanh keeps every term below 1).
    rng = random.Random(4)
    X = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(40)]
    Y = [[rng.uniform(-1, 1)] for _ in range(40)]
    model = nn.MLP(3, [16, 16, 1], bias=True, seed=4)
    loss, grads = BatchedLoss(model, X, Y)(list(range(40)), 0.0, 0.0)
    expected = nn.total_loss(model, X, Y)
    model.zero_grad()
    expected.backward()
    assert loss == pytest.approx(expected.data, rel=1e-12)
    assert grads == pytest.approx([p.grad for p in model.parameters()], rel=1e-9, abs=1e-12)


def test_a_fused_sum_near_overflow_falls_back_to_the_engines_order_and_errors() -> None:
    model = nn.MLP(16, [1], output_activation="linear", seed=0)
    X = [[1.0] * 16, [1e300] * 16]
    with pytest.raises(OverflowError, match=r"overflows a float \(sample 1 of the batch\)"):
        BatchedLoss(model, X, [[0.0], [0.0]])([0, 1], 0.0, 0.0)
