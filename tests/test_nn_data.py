"""The shipped Iris data, the standardiser, the CSV loader and JSON parameter files."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest

import nn


def test_iris_is_fishers_data() -> None:
    iris = nn.load_iris()
    assert len(iris) == 150
    assert iris.feature_names == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    assert all(len(row) == 4 for row in iris.X)
    assert [iris.y.count(c) for c in (0.0, 1.0, 2.0)] == [50, 50, 50]
    # Fisher's published class means (cm), e.g. setosa petal length 1.462, virginica 5.552
    setosa = [row for row, c in zip(iris.X, iris.y, strict=True) if c == 0.0]
    virginica = [row for row, c in zip(iris.X, iris.y, strict=True) if c == 2.0]
    assert statistics.fmean(r[2] for r in setosa) == pytest.approx(1.462)
    assert statistics.fmean(r[2] for r in virginica) == pytest.approx(5.552)
    assert statistics.fmean(r[0] for r in setosa) == pytest.approx(5.006)
    assert min(r[3] for r in iris.X) == 0.1 and max(r[3] for r in iris.X) == 2.5


def test_the_binary_task_is_one_species_against_the_others_standardised() -> None:
    task = nn.iris_binary("virginica")
    assert task.y.count(1.0) == 50 and task.y.count(-1.0) == 100
    assert task.y[:100] == [-1.0] * 100  # the file lists setosa, versicolor, virginica
    for c in range(4):
        column = [row[c] for row in task.X]
        assert statistics.fmean(column) == pytest.approx(0.0, abs=1e-12)
        assert statistics.pstdev(column) == pytest.approx(1.0)
    raw = nn.iris_binary("setosa", standardized=False)
    assert raw.X == nn.load_iris().X
    with pytest.raises(ValueError, match="unknown species 'rose'"):
        nn.iris_binary("rose")


def test_standardize_returns_the_statistics_to_reuse() -> None:
    Z, means, stds = nn.standardize([[1.0, 10.0, 7.0], [3.0, 30.0, 7.0], [5.0, 20.0, 7.0]])
    assert means == [3.0, 20.0, 7.0]
    assert stds == pytest.approx([math.sqrt(8 / 3), math.sqrt(200 / 3), 1.0])
    assert Z[0] == pytest.approx([-2 / math.sqrt(8 / 3), -10 / math.sqrt(200 / 3), 0.0])
    with pytest.raises(ValueError, match="row 1 has 1 values"):
        nn.standardize([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match="at least one row"):
        nn.standardize([])


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


def test_load_csv_by_target_name_or_index(tmp_path: Path) -> None:
    path = _write(tmp_path, "a, label ,b\n1,-1,2.5\n\n3,1,4e-1\n")
    data = nn.load_csv(path, target="label")
    assert data.X == [[1.0, 2.5], [3.0, 0.4]]
    assert data.y == [-1.0, 1.0]
    assert data.feature_names == ("a", "b") and data.target_name == "label"
    assert nn.load_csv(path, target=-1).y == [2.5, 0.4]
    assert nn.load_csv(path, target=0).feature_names == ("label", "b")


@pytest.mark.parametrize(
    ("text", "target", "message"),
    [
        ("a,b,y\n1,2,3\n4,5\n", "y", r"line 3: 2 cells, but the header has 3"),
        ("a,b,y\n1,2,3\n4,five,6\n", "y", r"line 3, column 'b': 'five' is not a number"),
        ("a,b,y\n1,2,nan\n", "y", r"line 2, column 'y': 'nan' is not finite"),
        ("a,b,y\n1,2,3\n", "z", r"no column named 'z'; the columns are a, b, y"),
        ("a,b,y\n1,2,3\n", 3, r"target index 3 is out of range for 3 columns"),
        ("", "y", r"the file is empty"),
        ("a,b,y\n", "y", r"no data rows"),
        ("y\n1\n", "y", r"no features"),
    ],
)
def test_load_csv_errors_name_the_problem_and_the_line(
    tmp_path: Path, text: str, target: str | int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        nn.load_csv(_write(tmp_path, text), target=target)


def test_load_csv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        nn.load_csv(tmp_path / "nope.csv", target="y")


def test_parameters_round_trip_through_json(tmp_path: Path) -> None:
    trained = nn.MLP(4, [3, 2, 1], bias=True, seed=1)
    for n, p in enumerate(trained.parameters()):
        p.data = n / 7 - 1.0
    path = tmp_path / "params.json"
    nn.save_parameters(trained, path)
    document = json.loads(path.read_text())
    assert document["sizes"] == [4, 3, 2, 1]
    assert document["parameters"]["w^2_31"] == trained.weight(2, 3, 1).data
    fresh = nn.MLP(4, [3, 2, 1], bias=True, seed=2)
    nn.load_parameters(fresh, path)
    assert [p.data for p in fresh.parameters()] == [p.data for p in trained.parameters()]


def _edit(path: Path, change: object) -> None:
    document = json.loads(path.read_text())
    change(document)  # type: ignore[operator]
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.update(sizes=[4, 3, 1]),
            r"architecture mismatch: the file has sizes = \[4, 3, 1\]",
        ),
        (lambda d: d.update(bias=True), r"the file has bias = True, the model has bias = False"),
        (lambda d: d.update(activation="relu"), r"activation = 'relu'"),
        (lambda d: d["parameters"].pop("w^1_23"), r"missing: \['w\^1_23'\]; unknown: none"),
        (lambda d: d["parameters"].update({"w^9_11": 1.0}), r"unknown: \['w\^9_11'\]"),
        (lambda d: d["parameters"].update({"w^1_11": "big"}), r"w\^1_11 is 'big', not a finite"),
        (lambda d: d["parameters"].update({"w^1_11": float("nan")}), r"w\^1_11 is nan"),
        (lambda d: d.update(format="other"), r"not a chainrule parameter file"),
        (lambda d: d.update(version=2), r"version 2"),
    ],
)
def test_load_parameters_rejects_a_mismatch_and_leaves_the_model_alone(
    tmp_path: Path, change: object, message: str
) -> None:
    path = tmp_path / "params.json"
    nn.save_parameters(nn.MLP(4, [3, 2, 1], seed=1), path)
    _edit(path, change)
    model = nn.MLP(4, [3, 2, 1], seed=2)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=message):
        nn.load_parameters(model, path)
    assert [p.data for p in model.parameters()] == before


def test_load_parameters_rejects_broken_json(tmp_path: Path) -> None:
    path = tmp_path / "params.json"
    path.write_text('{"format": ')
    with pytest.raises(ValueError, match="not valid JSON"):
        nn.load_parameters(nn.MLP(4, [1]), path)
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a chainrule parameter file"):
        nn.load_parameters(nn.MLP(4, [1]), path)
