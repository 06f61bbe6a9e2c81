"""Class labels as users expect them: two classes on one output, K classes one-hot."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import nn


def _blobs(labels: list[object], n: int, seed: int) -> tuple[list[list[float]], list[object]]:
    """``n`` points around each of len(labels) centres on a circle, labelled by centre."""
    rng = random.Random(seed)
    X, y = [], []
    for k, label in enumerate(labels):
        angle = 2 * math.pi * k / len(labels)
        for _ in range(n):
            X.append(
                [2 * math.cos(angle) + rng.gauss(0, 0.3), 2 * math.sin(angle) + rng.gauss(0, 0.3)]
            )
            y.append(label)
    return X, y


def test_two_string_classes_on_one_tanh_output_are_minus_one_and_plus_one() -> None:
    X, y = _blobs(["spam", "ham"], 20, seed=1)
    model = nn.MLP(2, [4, 1], bias=True, seed=0)
    history = nn.train(model, X, y, lr=0.02, max_epochs=300, progress=False)
    assert model.classes == ("ham", "spam")  # sorted: ham is -1, spam is +1
    # the loss is the loss of the encoded targets, computed independently here
    expected = sum(
        (t - model(x).data) ** 2
        for x, t in zip(X, [1.0 if v == "spam" else -1.0 for v in y], strict=True)
    )
    assert history.final_loss == pytest.approx(expected, rel=1e-9)
    predictions = nn.predict(model, X)
    assert set(predictions) <= {"spam", "ham"}
    assert nn.accuracy(model, X, y) == sum(
        p == t for p, t in zip(predictions, y, strict=True)
    ) / len(y)
    assert nn.accuracy(model, X, y) >= 0.95


def test_zero_one_labels_on_a_sigmoid_output_are_zero_and_one() -> None:
    model = nn.MLP(1, [1], output_activation="sigmoid", init="zeros")
    loss = nn.total_loss(model, [[1.0], [2.0]], [0, 1])
    # sigmoid(0) = 0.5 for both rows; targets 0 and 1
    assert loss.data == pytest.approx(0.25 + 0.25)
    assert nn.total_loss(nn.MLP(1, [1], init="zeros"), [[1.0], [2.0]], [0, 1]).data == 2.0


def test_k_classes_one_hot_and_argmax() -> None:
    X, y = _blobs([0, 1, 2], 15, seed=2)
    model = nn.MLP(2, [6, 3], bias=True, seed=1)
    nn.train(model, X, y, lr=0.02, optimizer="adam", max_epochs=200, progress=False)
    assert model.classes == (0, 1, 2)
    out = nn.outputs(model, X)
    argmax = [max(range(3), key=lambda k, row=row: row[k]) for row in out.tolist()]
    assert nn.predict(model, X) == argmax
    assert nn.accuracy(model, X, y) >= 0.95


def test_regression_on_an_integer_column_is_asked_for_explicitly() -> None:
    X = [[float(x)] for x in range(1, 6)]
    y = [3 * x for x in range(1, 6)]  # ints: read as 5 class labels by default
    model = nn.MLP(1, [1], output_activation="linear", init="zeros")
    with pytest.raises(ValueError, match=r"y holds 5 classes \(3, 6, 9, 12, 15\); a one-output"):
        nn.train(model, X, y, progress=False)
    history = nn.train(model, X, y, task="regression", lr=0.005, tol=1e-10, progress=False)
    assert history.converged and model.classes is None
    assert model.weight(1, 1, 1).data == pytest.approx(3.0)
    assert nn.predict(model, [[10.0]]) == [pytest.approx(30.0)]


def test_iris_species_are_learnt_one_hot_and_float_codes_are_labels_when_asked() -> None:
    iris = nn.load_iris()
    X = nn.standardize(iris.X)[0]
    model = nn.MLP(4, [5, 3], bias=True, seed=0)
    nn.train(model, X, iris.y, lr=0.02, optimizer="adam", max_epochs=150, progress=False)
    assert model.classes == (0, 1, 2)
    assert nn.accuracy(model, X, iris.y) >= 0.95
    codes = [float(c) for c in iris.y]  # 0.0, 1.0, 2.0: numbers unless asked
    fresh = nn.MLP(4, [3], seed=0)
    with pytest.raises(ValueError, match=r"y\[0\] has 1 value\(s\), but the model has 3"):
        nn.train(fresh, X, codes, max_epochs=1, progress=False)
    nn.train(fresh, X, codes, task="classification", max_epochs=1, progress=False)
    assert fresh.classes == (0, 1, 2)


def test_compiled_and_interpreted_evaluation_agree() -> None:
    X, y = _blobs(["a", "b", "c"], 10, seed=3)
    model = nn.MLP(2, [5, 3], bias=True, activation="relu", output_activation="sigmoid", seed=4)
    nn.train(model, X, y, lr=0.05, max_epochs=20, progress=False)
    compiled = nn.outputs(model, X, engine="compiled")
    interpreted = nn.outputs(model, X, engine="interpreted")
    assert compiled.ravel().tolist() == pytest.approx(interpreted.ravel().tolist(), rel=1e-13)
    for engine in ("compiled", "interpreted"):
        assert nn.predict(model, X, engine=engine) == nn.predict(model, X)
        assert nn.accuracy(model, X, y, engine=engine) == nn.accuracy(model, X, y)
    by_hand = [[v.data for v in model(row)] for row in X]  # type: ignore[union-attr]
    assert interpreted.tolist() == by_hand
    hidden = nn.layer_outputs(model, X)[0]
    assert hidden.shape == (30, 5) and (hidden >= 0).all()  # relu


def test_labels_the_model_does_not_know_are_named() -> None:
    X, y = _blobs(["cat", "dog"], 3, seed=0)
    model = nn.MLP(2, [1], seed=0)
    nn.train(model, X, y, max_epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"y\[2\] is 'cow', not one of the model's classes"):
        nn.accuracy(model, X[:3], ["cat", "dog", "cow"])
    fresh = nn.MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match="not trained on class labels"):
        nn.accuracy(fresh, X, y)
    with pytest.raises(ValueError, match="mixes numbers and strings"):
        nn.train(fresh, X[:2], [1, "dog"], progress=False)
    with pytest.raises(ValueError, match=r"3 classes .* give the last layer 3 neurons"):
        nn.train(fresh, X[:3], ["a", "b", "c"], progress=False)


def test_train_test_split_is_seeded_and_disjoint() -> None:
    X = [[float(n)] for n in range(10)]
    y = list(range(10))
    X_train, X_test, y_train, y_test = nn.train_test_split(X, y, test_fraction=0.2, seed=1)
    assert len(X_test) == 2 and len(X_train) == 8
    assert sorted(y_train + y_test) == y
    assert [row[0] for row in X_test] == [float(t) for t in y_test]  # rows keep their targets
    assert nn.train_test_split(X, y, test_fraction=0.2, seed=1)[1] == X_test
    assert nn.train_test_split(X, y, test_fraction=0.2, seed=2)[1] != X_test
    with pytest.raises(ValueError, match="test_fraction"):
        nn.train_test_split(X, y, test_fraction=1.0)


def test_saturated_share_counts_units_pinned_at_the_ends_of_their_range() -> None:
    X = [[1.0, -1.0], [0.5, 2.0], [-0.25, 0.1]]
    model = nn.MLP(2, [3, 1], init="zeros")
    assert nn.saturated_share(model, X) == 0.0  # tanh(0) = 0: the steepest point
    for p in model.parameters():
        p.data = 50.0
    # every hidden unit sees 50 * (x1 + x2); rows 0 and 2 stay in tanh's slope, row 1 not
    by_hand = [1 - math.tanh(50.0 * (x1 + x2)) ** 2 < 1e-4 for x1, x2 in X for _ in range(3)]
    hidden = nn.layer_outputs(model, X)[0]
    output_saturated = [1 - math.tanh(50.0 * sum(h)) ** 2 < 1e-4 for h in hidden.tolist()]
    expected = (sum(by_hand) + sum(output_saturated)) / (len(by_hand) + len(output_saturated))
    for engine in ("compiled", "interpreted"):
        assert nn.saturated_share(model, X, engine=engine) == pytest.approx(expected)
    assert 0.0 < expected < 1.0
    relu = nn.MLP(2, [3, 1], activation="relu", output_activation="linear")
    assert nn.saturated_share(relu, X) == 0.0  # no tanh or sigmoid units to saturate


def test_numpy_arrays_are_taken_as_rows_and_labels() -> None:
    X, y = _blobs([3, 7], 10, seed=5)
    model = nn.MLP(2, [3, 1], bias=True, seed=0)
    nn.train(model, np.array(X), np.array(y), lr=0.02, max_epochs=100, progress=False)
    assert model.classes == (3, 7) and all(type(c) is int for c in model.classes)
    assert nn.predict(model, np.array(X)) == nn.predict(model, X)
    assert nn.accuracy(model, np.array(X), np.array(y)) == nn.accuracy(model, X, y) >= 0.95
