"""Losses and regularisers against hand computation, values and gradients."""

from __future__ import annotations

import pytest

import nn
from autograd import Value


def test_sse_is_the_notes_sum_of_squares() -> None:
    preds = [Value(0.5), Value(-0.25), Value(2.0)]
    loss = nn.sse(preds, [1.0, -1.0, 2.0])
    assert loss.data == 0.25 + 0.5625 + 0.0
    loss.backward()
    # d/dp (y - p)^2 = -2 (y - p)
    assert [p.grad for p in preds] == [-1.0, 1.5, 0.0]


def test_mse_is_sse_over_n() -> None:
    preds = [Value(0.5), Value(-0.25), Value(2.0)]
    loss = nn.mse(preds, [1.0, -1.0, 2.0])
    assert loss.data == pytest.approx(0.8125 / 3)
    loss.backward()
    assert [p.grad for p in preds] == pytest.approx([-1.0 / 3, 0.5, 0.0])


def test_l2_and_l1_with_their_gradients() -> None:
    ws = [Value(3.0), Value(-4.0), Value(0.5)]
    reg = nn.l2(ws)
    assert reg.data == 9.0 + 16.0 + 0.25
    reg.backward()
    assert [w.grad for w in ws] == [6.0, -8.0, 1.0]
    ws = [Value(3.0), Value(-4.0), Value(0.5)]
    reg = nn.l1(ws)
    assert reg.data == 7.5
    reg.backward()
    assert [w.grad for w in ws] == [1.0, -1.0, 1.0]


def test_empty_regularisers_are_zero_and_plain_numbers_are_constants() -> None:
    assert nn.l2([]).data == 0.0
    assert nn.l1([]).data == 0.0
    assert nn.sse([1.0, 2.0], [0.0, 0.0]).data == 5.0


def test_total_loss_is_sse_plus_lambda_times_the_regulariser() -> None:
    model = nn.MLP(2, [1], output_activation="linear", init="zeros")
    model.weight(1, 1, 1).data, model.weight(1, 2, 1).data = 1.0, -2.0
    X, y = [[1.0, 1.0], [2.0, 0.5]], [0.0, 3.0]
    # predictions: -1 and 1; errors 1 and 2 -> sse 5; sum w^2 = 5; sum |w| = 3
    loss = nn.total_loss(model, X, y, l2=0.1, l1=0.01)
    assert loss.label == "L"
    assert loss.data == pytest.approx(5.0 + 0.5 + 0.03)


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="2 predictions, 3 targets"):
        nn.sse([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="at least one"):
        nn.sse([], [])
    with pytest.raises(TypeError, match=r"targets\[1\] must be a real number"):
        nn.sse([Value(1.0), Value(2.0)], [1.0, "2"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"params\[0\]"):
        nn.l2(["w"])  # type: ignore[list-item]
