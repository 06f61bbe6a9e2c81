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
        (lambda d: d["parameters"].pop("w^1_23"), r"missing: w\^1_23; unknown: none"),
        (lambda d: d["parameters"].update({"w^9_11": 1.0}), r"missing: none; unknown: w\^9_11$"),
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


def test_load_csv_reads_class_labels_as_ints_or_strings(tmp_path: Path) -> None:
    ints = nn.load_csv(_write(tmp_path, "a,label\n1.5,0\n2.5,2\n"), target="label")
    assert ints.y == [0, 2] and all(type(t) is int for t in ints.y)
    text = nn.load_csv(_write(tmp_path, "a,kind\n1,cat\n2,7\n3,dog\n"), target="kind")
    assert text.y == ["cat", "7", "dog"]
    numbers = nn.load_csv(_write(tmp_path, "a,y\n1,0.5\n2,3\n"), target="y")
    assert numbers.y == [0.5, 3.0] and all(type(t) is float for t in numbers.y)
    with pytest.raises(ValueError, match=r"line 3, column 'y': '0.5' is a number but line 2"):
        nn.load_csv(_write(tmp_path, "a,y\n1,cat\n2,0.5\n"), target="y")
    with pytest.raises(ValueError, match=r"line 2, column 'y': the target is empty"):
        nn.load_csv(_write(tmp_path, "a,y\n1,\n"), target="y")


def test_load_csv_skips_a_byte_order_mark_and_detects_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffa;b;label\n1,5;2;x\n3;4,25;y\n".encode())
    with pytest.raises(ValueError, match=r"line 2, column 'a': '1,5' is not a number"):
        nn.load_csv(path, target="label")  # a decimal comma is named, not misread
    path.write_bytes("\ufeffa;b;label\n1.5;2;x\n3;4.25;y\n".encode())
    data = nn.load_csv(path, target="label")
    assert data.feature_names == ("a", "b") and data.target_name == "label"
    assert data.X == [[1.5, 2.0], [3.0, 4.25]] and data.y == ["x", "y"]
    tabs = _write(tmp_path, "a\tb\ty\n1\t2\t3.5\n4\t5\t6.5\n")
    assert nn.load_csv(tabs, target="y").X == [[1.0, 2.0], [4.0, 5.0]]


def test_load_csv_names_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("größe,y\n1,2\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.csv: not UTF-8 text \(byte 0xf6"):
        nn.load_csv(path, target="y")


def test_load_csv_picks_named_features_or_no_target(tmp_path: Path) -> None:
    path = _write(tmp_path, "a,b,c\n1,2,3\n4,5,6\n")
    data = nn.load_csv(path, target=None, features=["c", "a"])
    assert data.X == [[3.0, 1.0], [6.0, 4.0]] and data.y == [] and data.feature_names == ("c", "a")
    with pytest.raises(ValueError, match=r"no column named 'z'"):
        nn.load_csv(path, target=None, features=["a", "z"])


def test_digits_are_the_uci_test_set() -> None:
    digits = nn.load_digits()
    assert len(digits) == 1797 and all(len(row) == 64 for row in digits.X)
    assert sorted(set(digits.y)) == list(range(10))
    # UCI's description: 1,797 instances, integer pixels 0..16, about 180 of each digit
    assert min(map(min, digits.X)) == 0.0 and max(map(max, digits.X)) == 16.0
    assert all(170 <= digits.y.count(d) <= 190 for d in range(10))
    assert all(float(v).is_integer() for row in digits.X for v in row)
    # the corner pixels of an 8x8 digit are nearly always blank; the centre is not
    assert statistics.fmean(row[0] for row in digits.X) < 0.01
    assert statistics.fmean(row[27] for row in digits.X) > 5


def test_classes_and_standardisation_are_saved_with_the_parameters(tmp_path: Path) -> None:
    model = nn.MLP(2, [3, 3], bias=True, seed=1)
    nn.train(model, [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], ["b", "a", "c"], max_epochs=2,
             progress=False)  # fmt: skip
    path = tmp_path / "model.json"
    nn.save_parameters(model, path, feature_names=["x", "z"], target_name="kind",
                       standardization=([1.0, 2.0], [0.5, 4.0]))  # fmt: skip
    saved = nn.load_model(path)
    assert saved.model.classes == ("a", "b", "c")
    assert saved.feature_names == ("x", "z") and saved.target_name == "kind"
    assert [p.data for p in saved.model.parameters()] == [p.data for p in model.parameters()]
    assert saved.prepare([[2.0, 6.0]]) == [[2.0, 1.0]]
    X = [[0.3, 0.7], [0.9, 0.1]]
    assert nn.predict(saved.model, X) == nn.predict(model, X)
    fresh = nn.MLP(2, [3, 3], bias=True)
    nn.load_parameters(fresh, path)
    assert fresh.classes == ("a", "b", "c")


def test_a_parameter_too_large_for_a_float_names_the_file_and_the_weight(tmp_path: Path) -> None:
    path = tmp_path / "params.json"
    nn.save_parameters(nn.MLP(4, [3, 2, 1], seed=1), path)
    text = path.read_text()
    document = json.loads(text)
    old = json.dumps(document["parameters"]["w^2_31"])
    path.write_text(text.replace(old, "1" + "0" * 400, 1))
    model = nn.MLP(4, [3, 2, 1], seed=2)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=r"params\.json: parameter w\^2_31 is an integer of 401"):
        nn.load_parameters(model, path)
    assert [p.data for p in model.parameters()] == before


def test_load_csv_refuses_a_column_name_given_twice(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text("a,b,a,c\n1,2,3,4\n")
    with pytest.raises(ValueError, match=r"line 1: the column name 'a' appears more than once "
                       r"\(columns 1, 3\)"):  # fmt: skip
        nn.load_csv(path, target="c")


def test_a_decimal_comma_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "comma.csv"
    path.write_text("a;b;y\n5,1;3,5;1\n4,9;3,0;0\n")
    with pytest.raises(ValueError, match=r"line 2, column 'a': '5,1' is not a number \(a decimal"):
        nn.load_csv(path, target="y")
    path.write_text("a;b;y\n5.1;x;1\n4.9;3.0;0\n")
    with pytest.raises(ValueError, match=r"'x' is not a number$"):
        nn.load_csv(path, target="y")


def test_load_csv_gives_each_rows_line(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("a,y\n1,0\n\n2,1\n")
    assert nn.load_csv(path, target="y").lines == (2, 4)
