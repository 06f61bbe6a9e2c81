"""Training: one gradient-descent step against a hand derivation, convergence, divergence."""

from __future__ import annotations

import math
import re
import warnings

import pytest

import nn

LAYERS = (4, 3, 2, 1)


def _weights_by_hand(model: nn.MLP) -> list[list[list[float]]]:
    """W[k][i][j] (0-based) = w^(k+1)_(i+1)(j+1), read through the notes' notation."""
    return [
        [
            [model.weight(k, i, j).data for j in range(1, LAYERS[k] + 1)]
            for i in range(1, LAYERS[k - 1] + 1)
        ]
        for k in (1, 2, 3)
    ]


def _gradient_by_hand(
    W: list[list[list[float]]], X: list[list[float]], y: list[float], lam: float
) -> list[list[list[float]]]:
    """dL/dW for L = sum (y - yhat)^2 + lam * sum W^2, by the backprop equations in floats.

    delta^3 = -2 (y - yhat)(1 - yhat^2);  delta^k_j = sum_m w^(k+1)_jm delta^(k+1)_m (1 - O_kj^2);
    dL/dw^k_ij = sum over samples of O_(k-1)i * delta^k_j.
    """
    grad = [[[2.0 * lam * w for w in row] for row in Wk] for Wk in W]
    for x, target in zip(X, y, strict=True):
        outputs = [x]
        for Wk in W:
            below = outputs[-1]
            outputs.append(
                [
                    math.tanh(sum(below[i] * Wk[i][j] for i in range(len(below))))
                    for j in range(len(Wk[0]))
                ]
            )
        yhat = outputs[-1][0]
        delta = [-2.0 * (target - yhat) * (1.0 - yhat**2)]
        for k in (2, 1, 0):
            below = outputs[k]
            for i in range(len(below)):
                for j in range(len(delta)):
                    grad[k][i][j] += below[i] * delta[j]
            if k > 0:
                delta = [
                    sum(W[k][i][m] * delta[m] for m in range(len(delta))) * (1.0 - below[i] ** 2)
                    for i in range(len(below))
                ]
    return grad


def test_one_gradient_descent_step_matches_the_hand_derived_update_of_all_20_weights() -> None:
    data = nn.iris_binary("versicolor")  # a mix of +1 and -1 targets in the first rows
    X, y = data.X[45:60], data.y[45:60]
    assert set(y) == {-1.0, 1.0}
    model = nn.MLP(4, [3, 2, 1], init="normal", seed=11)
    W = _weights_by_hand(model)
    lr, lam = 0.05, 0.01
    grad = _gradient_by_hand(W, X, y, lam)

    history = nn.train(model, X, y, lr=lr, l2=lam, tol=0.0, max_epochs=1, progress=False)

    assert history.epochs == 1
    changes = []
    for k in (1, 2, 3):
        for i in range(1, LAYERS[k - 1] + 1):
            for j in range(1, LAYERS[k] + 1):
                expected = W[k - 1][i - 1][j - 1] - lr * grad[k - 1][i - 1][j - 1]
                assert model.weight(k, i, j).data == pytest.approx(expected, rel=1e-12, abs=1e-14)
                changes.append(abs(expected - W[k - 1][i - 1][j - 1]))
    assert len(changes) == 20
    assert history.max_updates[0] == pytest.approx(max(changes), rel=1e-12)
    assert min(changes) > 0.0  # every weight moved: the check is not vacuous


def test_the_epoch_loss_is_the_objective_at_the_old_weights() -> None:
    data = nn.iris_binary()
    model = nn.MLP(4, [3, 2, 1], seed=1)
    before = nn.total_loss(model, data.X, data.y, l2=0.01).data
    history = nn.train(
        model, data.X, data.y, lr=0.01, l2=0.01, max_epochs=2, tol=0.0, progress=False
    )
    assert history.losses[0] == pytest.approx(before, rel=1e-12)
    assert history.final_loss == pytest.approx(nn.total_loss(model, data.X, data.y, l2=0.01).data)


def test_momentum_and_adam_first_steps() -> None:
    data = nn.iris_binary()
    X, y = data.X[::15], data.y[::15]
    model = nn.MLP(4, [3, 2, 1], seed=2)
    start = [p.data for p in model.parameters()]
    nn.total_loss(model, X, y).backward()
    g = [p.grad for p in model.parameters()]

    momentum = nn.MLP(4, [3, 2, 1], seed=2)
    nn.train(momentum, X, y, lr=0.1, optimizer="momentum", max_epochs=2, tol=0.0, progress=False)
    # step 1: v = g1, w1 = w0 - lr g1; step 2: v = 0.9 g1 + g2 -- check step 1 via a 1-epoch run
    one = nn.MLP(4, [3, 2, 1], seed=2)
    nn.train(one, X, y, lr=0.1, optimizer="momentum", max_epochs=1, tol=0.0, progress=False)
    assert [p.data for p in one.parameters()] == pytest.approx(
        [w - 0.1 * gi for w, gi in zip(start, g, strict=True)]
    )
    g2 = nn.total_loss(one, X, y)
    one.zero_grad()
    g2.backward()
    expected = [
        w1.data - 0.1 * (0.9 * gi + w1.grad) for w1, gi in zip(one.parameters(), g, strict=True)
    ]
    assert [p.data for p in momentum.parameters()] == pytest.approx(expected)

    adam = nn.MLP(4, [3, 2, 1], seed=2)
    nn.train(adam, X, y, lr=0.01, optimizer="adam", max_epochs=1, tol=0.0, progress=False)
    # Adam's bias-corrected first step is lr * g / (|g| + eps), about lr times the sign of g
    assert [p.data for p in adam.parameters()] == pytest.approx(
        [w - 0.01 * gi / (abs(gi) + 1e-8) for w, gi in zip(start, g, strict=True)], rel=1e-12
    )


def test_gradient_descent_converges_on_iris_to_at_least_95_percent() -> None:
    data = nn.iris_binary("setosa")
    model = nn.MLP(4, [3, 2, 1], seed=0)
    history = nn.train(
        model, data.X, data.y, lr=0.01, l2=1e-3, tol=1e-3, max_epochs=1000, progress=False
    )
    assert history.converged
    assert history.converged_epoch == history.epochs < 1000
    assert history.max_updates[-1] < 1e-3 <= max(history.max_updates[:-1])
    assert history.final_loss < history.losses[0] / 100
    assert nn.accuracy(model, data.X, data.y) >= 0.95


def test_mini_batches_and_trajectories() -> None:
    data = nn.iris_binary()
    model = nn.MLP(4, [3, 2, 1], seed=4)
    start = {label: p.data for label, p in model.named_parameters()}
    seen: list[int] = []
    history = nn.train(
        model, data.X, data.y, lr=0.01, batch_size=32, max_epochs=3, tol=0.0, progress=False,
        record_trajectories=True, callback=lambda epoch, h: seen.append(epoch),
    )  # fmt: skip
    assert seen == [1, 2, 3]
    assert history.trajectories is not None
    assert set(history.trajectories) == set(start)
    for label, p in model.named_parameters():
        path = history.trajectories[label]
        assert len(path) == 4
        assert path[0] == start[label] and path[-1] == p.data
    assert nn.accuracy(model, data.X, data.y) > 0.9  # 15 small steps already help


def test_divergence_names_lr_and_epoch_and_restores_the_weights_from_before() -> None:
    model = nn.MLP(1, [1], activation="linear", output_activation="linear", init="zeros")
    model.weight(1, 1, 1).data = 0.5
    last: list[float] = []
    # L = (1 - 10 w)^2, so each step multiplies the error by (1 - 200 lr): it blows up for lr = 1
    with pytest.raises(nn.TrainingDiverged, match=r"diverged at epoch \d+ with lr=1:") as caught:
        nn.train(
            model, [[10.0]], [1.0], lr=1.0, max_epochs=10_000, progress=False,
            callback=lambda epoch, h: last.append(model.weight(1, 1, 1).data),
        )  # fmt: skip
    error = caught.value
    assert error.lr == 1.0
    assert error.epoch == len(last) + 1 > 10
    assert abs(last[-1]) > 1e100  # the weights had run away before they were restored
    assert model.weight(1, 1, 1).data == 0.5
    assert "restored to what they were before training" in str(error)
    assert error.history.epochs == len(last) and error.history.stop_reason == "diverged"


@pytest.mark.parametrize("batch_size", [None, 2])
def test_divergence_in_a_batch_says_how_its_samples_are_numbered(batch_size: int | None) -> None:
    # The compiled path names "sample k of the batch"; CSV messages name lines from 1.
    model = nn.MLP(1, [1], output_activation="linear", init="zeros")
    model.weight(1, 1, 1).data = 0.5
    X, y = [[1.0], [10.0], [3.0]], [1.0, 2.0, 3.0]
    with pytest.raises(nn.TrainingDiverged) as caught:
        nn.train(model, X, y, lr=1.0, max_epochs=10_000, batch_size=batch_size, progress=False)
    message = str(caught.value)
    assert re.search(r"\(sample \d of the batch\); ", message), message
    first = "the first data row, line 2 of a CSV file under its header"
    if batch_size is None:
        assert f"the batch is every row in order, counted from 0: sample 0 is {first}" in message
    else:
        rows = re.search(r"the batch holds the rows (\d), (\d), counted from 0", message)
        assert rows and {int(r) for r in rows.groups()} <= {0, 1, 2}, message
        assert f"(row 0 is {first})" in message


def test_an_overflowing_update_is_divergence_too() -> None:
    data = nn.iris_binary()
    model = nn.MLP(4, [3, 2, 1], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(nn.TrainingDiverged, match=r"epoch 1 with lr=1e\+308"):
        nn.train(model, data.X, data.y, lr=1e308, progress=False)
    assert [p.data for p in model.parameters()] == before


def test_numerical_gradient_agrees_with_backprop_for_every_weight() -> None:
    data = nn.iris_binary()
    X, y = data.X[::10], data.y[::10]
    model = nn.MLP(4, [3, 2, 1], bias=True, seed=9)
    loss = nn.total_loss(model, X, y, l2=0.1)
    loss.backward()
    for p in model.parameters():
        assert nn.numerical_gradient(model, X, y, p, l2=0.1) == pytest.approx(
            p.grad, rel=1e-6, abs=1e-8
        )
    with pytest.raises(ValueError, match="not a parameter"):
        nn.numerical_gradient(model, X, y, nn.MLP(4, [1]).weight(1, 1, 1))


def test_bad_arguments_get_clear_errors() -> None:
    model = nn.MLP(2, [1])
    X, y = [[1.0, 2.0]], [1.0]
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got 0\.0"):
        nn.train(model, X, y, lr=0.0, progress=False)
    with pytest.raises(ValueError, match="l2 must be a finite number >= 0"):
        nn.train(model, X, y, l2=-1.0, progress=False)
    with pytest.raises(ValueError, match="max_epochs"):
        nn.train(model, X, y, max_epochs=0, progress=False)
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        nn.train(model, X, y, optimizer="sgd", progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        nn.train(model, X, y, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="X has 1 rows but y has 2"):
        nn.train(model, X, [1.0, 2.0], progress=False)
    with pytest.raises(ValueError, match="2 value"):
        nn.train(model, X, [[1.0, 2.0]], progress=False)
    with pytest.raises(TypeError, match=r"nn\.MLP"):
        nn.train("model", X, y, progress=False)  # type: ignore[arg-type]


def test_bad_data_is_named_by_row_and_column_before_anything_changes() -> None:
    model = nn.MLP(3, [2, 1], seed=0)
    before = [p.data for p in model.parameters()]
    X = [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9], [1.0, 1.1, 1.2]]
    bad = [row[:] for row in X]
    bad[3][2] = math.nan
    for call in (
        lambda: nn.train(model, bad, [1.0] * 4, progress=False),
        lambda: nn.total_loss(model, bad, [1.0] * 4),
        lambda: nn.accuracy(model, bad, [1.0] * 4),
        lambda: nn.predict(model, bad),
    ):
        with pytest.raises(ValueError, match=r"X\[row 3, column 2\] is nan, not a finite number"):
            call()
    with pytest.raises(ValueError, match=r"y\[2\] is inf, not a finite number"):
        nn.train(model, X, [1.0, 1.0, math.inf, 1.0], progress=False)
    with pytest.raises(TypeError, match=r"y\[0\] is None: a target is a number"):
        nn.train(model, X[:2], [None, None], progress=False)
    with pytest.raises(ValueError, match=r"y\[0\] is 'a', a string, but y is being fitted"):
        nn.train(model, X[:2], ["a", 0.5], progress=False)
    with pytest.raises(TypeError, match=r"X\[row 1, column 0\] is 'x', not a number"):
        nn.train(model, [X[0], ["x", 1.0, 2.0]], [1.0, 1.0], progress=False)
    with pytest.raises(ValueError, match=r"X\[row 1\] has 2 values, but the model takes 3"):
        nn.train(model, [X[0], [1.0, 2.0]], [1.0, 1.0], progress=False)
    assert [p.data for p in model.parameters()] == before


def test_a_failing_callback_leaves_the_weights_as_they_were() -> None:
    data = nn.iris_binary()
    model = nn.MLP(4, [3, 2, 1], seed=0)
    before = [p.data for p in model.parameters()]

    def stop(epoch: int, history: nn.History) -> None:
        if epoch == 3:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        nn.train(model, data.X, data.y, callback=stop, progress=False)
    assert [p.data for p in model.parameters()] == before


def test_a_huge_learning_rate_saturates_the_units_and_does_not_count_as_converged() -> None:
    data = nn.iris_binary("setosa")
    model = nn.MLP(4, [3, 2, 1], seed=0)
    history = nn.train(model, data.X, data.y, lr=1e6, progress=False)
    assert history.epochs < 10  # the weights stopped moving almost at once ...
    assert max(abs(p.data) for p in model.parameters()) > 1e6  # ... far out
    assert history.stop_reason == "saturated" and not history.converged
    assert history.converged_epoch is None
    assert nn.saturated_share(model, data.X) >= 0.5
    assert "saturated" in history.stop_note
    assert "smaller learning rate" in history.stop_advice


def test_xor_without_biases_stalls_and_with_biases_converges() -> None:
    # tanh is odd and there is no bias, so the network is odd: f(-x) = -f(x). XOR on
    # -1/+1 inputs needs f(x) = f(-x), so the best it can do is about f = 0 everywhere.
    X = [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]
    y = [-1.0, 1.0, 1.0, -1.0]
    model = nn.MLP(2, [2, 1], seed=0)
    history = nn.train(model, X, y, lr=0.1, max_epochs=5000, progress=False)
    assert history.stop_reason == "stalled" and not history.converged
    assert history.epochs < 5000  # the weights did stop moving
    assert nn.accuracy(model, X, y) <= 0.5
    assert "no better than predicting the mean" in history.stop_note
    assert "bias" in history.stop_advice
    biased = nn.MLP(2, [4, 1], bias=True, seed=0)
    history = nn.train(biased, X, y, lr=0.1, max_epochs=5000, progress=False)
    assert history.stop_reason == "converged" and history.converged
    assert nn.accuracy(biased, X, y) == 1.0


def test_max_epochs_says_the_weights_were_still_moving() -> None:
    data = nn.iris_binary()
    history = nn.train(nn.MLP(4, [3, 2, 1]), data.X, data.y, max_epochs=3, progress=False)
    assert history.stop_reason == "max_epochs" and not history.converged
    assert "still moving" in history.stop_note


def test_the_final_loss_is_the_same_on_both_engines() -> None:
    data = nn.iris_binary("versicolor")
    results = []
    for engine in ("compiled", "interpreted"):
        model = nn.MLP(4, [3, 2, 1], seed=5)
        history = nn.train(
            model, data.X, data.y, lr=0.01, l2=1e-3, max_epochs=5, engine=engine, progress=False
        )
        results.append(history.final_loss)
        expected = nn.total_loss(model, data.X, data.y, l2=1e-3).data
        assert history.final_loss == pytest.approx(expected, rel=1e-12)
    assert results[0] == pytest.approx(results[1], rel=1e-12)


def test_steps_too_small_to_move_are_not_convergence() -> None:
    data = nn.iris_binary()
    model = nn.MLP(4, [3, 2, 1], seed=0)
    start = nn.total_loss(model, data.X, data.y)
    start.backward()
    steepest = max(abs(p.grad) for p in model.parameters())
    history = nn.train(model, data.X, data.y, lr=1e-9, progress=False)
    assert history.epochs == 1  # lr * |dL/dw| < tol at once
    assert steepest * 1e-9 < history.tol
    assert history.stop_reason == "steps_too_small" and not history.converged
    assert "still steep" in history.stop_note
    assert "larger learning rate" in history.stop_advice


def _mean_prediction_loss(y: list[int], classes: int) -> float:
    """sum (y - mean)^2 over the one-hot (-1/+1) targets: the loss of learning nothing."""
    loss = 0.0
    for c in range(classes):
        column = [1.0 if t == c else -1.0 for t in y]
        mean = sum(column) / len(column)
        loss += sum((t - mean) ** 2 for t in column)
    return loss


def test_a_run_cut_short_while_the_loss_falls_is_not_stalled() -> None:
    iris = nn.load_iris()
    X = nn.standardize(iris.X)[0]
    short = nn.train(nn.MLP(4, [3, 2, 3]), X, iris.y, optimizer="adam", lr=0.01,
                     max_epochs=30, progress=False)  # fmt: skip
    # no better than the mean yet, but falling fast: it was cut short, not stuck
    assert short.final_loss >= 0.9 * _mean_prediction_loss(iris.y, 3)
    assert short.losses[-1] < 0.95 * short.losses[-21]
    assert short.stop_reason == "max_epochs"
    assert "stalled" not in short.stop_note and "bias" not in short.stop_advice
    assert "max_epochs=60" in short.stop_advice
    longer = nn.MLP(4, [3, 2, 3])
    nn.train(longer, X, iris.y, optimizer="adam", lr=0.01, max_epochs=300, progress=False)
    assert nn.accuracy(longer, X, iris.y) >= 0.85  # more epochs were the right advice


def test_a_loss_that_no_longer_falls_at_max_epochs_is_stalled() -> None:
    # y = 20 + x without biases: a network through the origin cannot add the offset
    X = [[x / 10] for x in range(-20, 21)]
    y = [20 + x / 10 for x in range(-20, 21)]
    model = nn.MLP(1, [3, 2, 1], output_activation="linear", seed=0)
    history = nn.train(model, X, y, lr=0.003, max_epochs=300, progress=False)
    assert abs(history.losses[-1] - history.losses[-21]) < 0.01 * history.losses[-1]
    assert history.stop_reason == "stalled"
    assert "bias=True" in history.stop_advice


def _advice(**options: object) -> str:
    iris = nn.load_iris()
    X = nn.standardize(iris.X)[0]
    model_options = {k: options.pop(k) for k in ("bias", "init") if k in options}
    model = nn.MLP(4, [3, 2, 3], seed=0, **model_options)  # type: ignore[arg-type]
    return nn.train(model, X, iris.y, progress=False, **options).stop_advice  # type: ignore[arg-type]


def test_library_advice_never_suggests_what_is_in_use() -> None:
    # cut short: more epochs, a larger lr, and Adam only when it is not the optimizer
    assert "optimizer='adam'" in _advice(max_epochs=5)
    adam = _advice(max_epochs=5, optimizer="adam")
    assert "max_epochs=10" in adam and "adam" not in adam
    # saturated: smaller initial weights only when they were larger than Xavier's
    assert "lr=100000" in _advice(lr=1e6) and "init" not in _advice(lr=1e6)
    assert "init='xavier'" in _advice(lr=1e6, init="normal")


def test_stalled_advice_names_biases_only_without_them() -> None:
    X = [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]
    y = [-1.0, 1.0, 1.0, -1.0]
    without = nn.train(nn.MLP(2, [2, 1], seed=0), X, y, lr=0.1, max_epochs=5000, progress=False)
    assert without.stop_reason == "stalled" and "bias=True" in without.stop_advice
    model = nn.MLP(2, [1, 1], bias=True, activation="linear", output_activation="linear")
    biased = nn.train(model, X, y, lr=0.01, max_epochs=5000, progress=False)
    assert biased.stop_reason == "stalled"  # a linear model cannot do XOR, biases or not
    assert "bias" not in biased.stop_advice and "`seed`" in biased.stop_advice


def test_tol_zero_warns_before_a_long_run_that_can_never_stop_early() -> None:
    X, y = [[1.0], [2.0]], [0.5, -0.5]
    with pytest.warns(UserWarning, match=r"tol=0 can never be met.*all max_epochs=1001 epochs"):
        history = nn.train(nn.MLP(1, [1]), X, y, tol=0.0, max_epochs=1001, progress=False)
    assert history.epochs == 1001
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a short fixed-length run, or a tol > 0: no warning
        nn.train(nn.MLP(1, [1]), X, y, tol=0.0, max_epochs=1000, progress=False)
        nn.train(nn.MLP(1, [1]), X, y, tol=1e-300, max_epochs=2000, progress=False)


def test_a_history_prints_as_one_short_line() -> None:
    data = nn.iris_binary()
    history = nn.train(nn.MLP(4, [3, 2, 1]), data.X, data.y, max_epochs=300, progress=False)
    text = repr(history)
    assert str(history) == text and "\n" not in text and len(text) < 250
    assert text.startswith(f"History(epochs=300, stop_reason={history.stop_reason!r}, ")
    assert f"loss {history.losses[0]:.4g} -> {history.final_loss:.4g}" in text
    assert str(history.losses[5]) not in text  # the lists are there on demand, not printed
    assert len(history.losses) == len(history.max_updates) == 300


def test_divergence_in_the_penalty_does_not_speak_of_samples() -> None:
    # lr=1e6 with l2: the weights' squares in Reg overflow before any sample's loss does.
    data = nn.iris_binary("setosa")
    with pytest.raises(nn.TrainingDiverged) as caught:
        nn.train(nn.MLP(4, [3, 2, 1], seed=0), data.X, data.y, lr=1e6, l2=1e-3, progress=False)
    message = str(caught.value)
    assert "overflows a float" in message
    assert "sample" not in message and "counted from 0" not in message, message


def test_a_run_cut_short_after_its_loss_spiked_is_told_a_smaller_lr() -> None:
    # Iris as given at lr=0.5: the loss reaches 7.06, spikes, and falls again from 30s.
    data = nn.iris_binary("setosa")
    model = nn.MLP(4, [3, 2, 1], seed=0)
    history = nn.train(model, data.X, data.y, lr=0.5, l2=1e-3, max_epochs=3000, progress=False)
    assert history.stop_reason == "max_epochs"
    assert history.losses[-1] > 2 * min(history.losses)
    assert history.stop_advice.startswith("try a smaller learning rate, e.g. lr=0.05: "), (
        history.stop_advice
    )
    assert "larger" not in history.stop_advice
