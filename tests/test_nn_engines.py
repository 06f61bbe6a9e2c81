"""The compiled training path computes what the interpreted engine computes."""

from __future__ import annotations

import pytest

import nn
from nn.batched import BatchedLoss


def weights_after(engine: str, **options: object) -> tuple[list[float], nn.History]:
    data = nn.iris_binary("setosa")
    model = nn.MLP(4, [3, 2, 1], seed=3)
    history = nn.train(model, data.X, data.y, progress=False, engine=engine, **options)  # type: ignore[arg-type]
    return [p.data for p in model.parameters()], history


@pytest.mark.parametrize(
    "options",
    [
        {"lr": 0.01, "l2": 1e-3, "tol": 1e-9, "max_epochs": 60},
        {"lr": 0.005, "l1": 1e-3, "optimizer": "adam", "tol": 1e-9, "max_epochs": 40},
        {"lr": 0.01, "batch_size": 32, "optimizer": "momentum", "tol": 1e-9, "max_epochs": 5},
    ],
)
def test_compiled_and_interpreted_training_end_on_the_same_weights(options: dict) -> None:
    compiled, history_c = weights_after("compiled", **options)
    interpreted, history_i = weights_after("interpreted", **options)
    assert history_c.engine == "compiled" and history_i.engine == "interpreted"
    assert history_c.epochs == history_i.epochs == options["max_epochs"]
    assert compiled == pytest.approx(interpreted, rel=1e-12, abs=1e-14)
    assert history_c.losses == pytest.approx(history_i.losses, rel=1e-12)


def test_auto_uses_the_compiled_path_and_says_so() -> None:
    _, history = weights_after("auto", lr=0.01, max_epochs=2)
    assert history.engine == "compiled"
    assert "traced" in history.engine_note
    _, history = weights_after("interpreted", lr=0.01, max_epochs=2)
    assert "asked for" in history.engine_note


def test_batched_loss_matches_total_loss_with_multiple_outputs_and_biases() -> None:
    model = nn.MLP(3, [4, 2], bias=True, activation="relu", output_activation="sigmoid", seed=5)
    X = [[0.1, -0.4, 0.9], [1.2, 0.3, -0.7], [-0.5, 0.5, 0.0]]
    Y = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]]
    loss, grads = BatchedLoss(model, X, Y)([0, 1, 2], 0.01, 0.02)
    expected = nn.total_loss(model, X, Y, l2=0.01, l1=0.02)
    model.zero_grad()
    expected.backward()
    assert loss == pytest.approx(expected.data, rel=1e-13)
    assert grads == pytest.approx([p.grad for p in model.parameters()], rel=1e-12, abs=1e-15)


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown engine 'gpu'"):
        weights_after("gpu")


def test_batched_loss_on_some_rows_is_the_loss_of_those_rows() -> None:
    model = nn.MLP(2, [3, 1], seed=2)
    X = [[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0], [0.0, 0.1]]
    Y = [[1.0], [-1.0], [1.0], [-1.0]]
    loss, grads = BatchedLoss(model, X, Y)([3, 1], 0.0, 0.0)
    expected = nn.total_loss(model, [X[3], X[1]], [Y[3], Y[1]])
    model.zero_grad()
    expected.backward()
    assert loss == pytest.approx(expected.data, rel=1e-13)
    assert grads == pytest.approx([p.grad for p in model.parameters()], rel=1e-12, abs=1e-15)
