"""Parameter files as they arrive: written by another version, edited by hand or broken on
purpose. Loading checks a file before it builds anything and names the file and the entry
in every message; saving never writes a file that cannot be loaded back."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from cli_runs import main_captured

import nn


def _saved(tmp_path: Path, model: nn.MLP | None = None) -> Path:
    path = tmp_path / "iris-mlp.json"
    nn.save_parameters(model or nn.MLP(4, [3, 2, 1], seed=1), path)
    return path


def _rewrite(path: Path, **changes: object) -> None:
    document = json.loads(path.read_text())
    document.update(changes)
    path.write_text(json.dumps(document))


def test_load_parameters_with_only_a_path_says_to_use_load_model(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    with pytest.raises(TypeError, match=r"use nn\.load_model\('.*iris-mlp\.json'\)\.model"):
        nn.load_parameters(str(path))  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"nn\.load_model"):
        nn.load_parameters(path)  # type: ignore[call-arg]
    model = nn.load_model(path).model  # what the message recommends works
    assert model.sizes == (4, 3, 2, 1)


@pytest.mark.parametrize("hidden", [10**9, 10**6, 1000])
def test_sizes_are_checked_against_the_parameters_the_file_holds(
    tmp_path: Path, hidden: int
) -> None:
    path = _saved(tmp_path)
    _rewrite(path, sizes=[4, hidden, 1])
    with pytest.raises(ValueError) as refused:
        nn.load_model(path)  # at once: nothing the size of the claim is built
    message = str(refused.value)
    assert message.startswith(f"{path}: its sizes (4 -> {hidden:,} -> 1, without biases) ")
    assert f"describe {5 * hidden:,} parameters, but it holds 20" in message
    assert len(message) < 300


def test_a_file_nested_thousands_deep_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match=r"deep\.json: not a chainrule parameter file .*nests"):
        nn.load_model(path)
    csv = tmp_path / "rows.csv"
    csv.write_text("a,b,c,d\n1,2,3,4\n")
    status, out, err = main_captured(capsys, "predict", str(path), str(csv))
    assert status == 2 and out == ""
    assert err.startswith(f"chainrule predict: error: {path}: not a chainrule parameter file")
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_a_weight_that_is_not_a_number_is_refused_when_saving(tmp_path: Path) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=1)
    model.weight(2, 3, 1).data = math.nan
    model.weight(1, 1, 2).data = math.inf
    path = tmp_path / "broken.json"
    with pytest.raises(ValueError, match=r"broken\.json: not saved: 2 parameter\(s\) .*"
                       r"w\^1_12 = inf, w\^2_31 = nan"):  # fmt: skip
        nn.save_parameters(model, path)
    assert not path.exists()


@pytest.mark.parametrize("digits", [400, 5000])
def test_an_integer_too_long_for_a_float_names_the_file_and_the_parameter(
    tmp_path: Path, digits: int
) -> None:
    path = _saved(tmp_path)
    text = path.read_text()
    old = json.dumps(json.loads(text)["parameters"]["w^2_31"])
    path.write_text(text.replace(old, "7" * digits, 1))
    message = rf"iris-mlp\.json: parameter w\^2_31 is an integer of {digits:,} digits, too large"
    with pytest.raises(ValueError, match=message):
        nn.load_model(path)
    model = nn.MLP(4, [3, 2, 1], seed=2)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=message):
        nn.load_parameters(model, path)
    assert [p.data for p in model.parameters()] == before
    _rewrite(_saved(tmp_path), sizes=[4, int("9" * 4000), 1])
    with pytest.raises(ValueError, match=r"sizes \(4 -> an integer of 4,000 digits -> 1"):
        nn.load_model(path)


def test_long_lists_of_labels_are_shortened_to_a_few_names_and_a_count(tmp_path: Path) -> None:
    wide = nn.MLP(10, [100, 1], seed=0)
    path = _saved(tmp_path, wide)
    document = json.loads(path.read_text())
    document["parameters"] = {f"v{n}": 0.0 for n in range(len(document["parameters"]))}
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError) as refused:
        nn.load_parameters(nn.MLP(10, [100, 1]), path)
    message = str(refused.value)
    assert "parameters missing: w^1_11, w^1_21, w^1_31, w^1_41, w^1_51 and 1,095 more " in message
    assert "(1,100 in all); unknown: v0, v1, v10, v100, v1000 and 1,095 more" in message
    assert len(message) < 300


def test_a_standardised_target_is_saved_and_predictions_are_scaled_back(tmp_path: Path) -> None:
    model = nn.MLP(1, [1], output_activation="linear", seed=0)
    model.weight(1, 1, 1).data = 2.0
    path = tmp_path / "numbers.json"
    nn.save_parameters(model, path, standardization=([10.0], [5.0]),
                       target_standardization=(100.0, 20.0))  # fmt: skip
    saved = nn.load_model(path)
    assert (saved.target_mean, saved.target_std) == (100.0, 20.0)
    # x = 15 is 1 std above the mean; the output 2 is 2 stds of the target above its mean
    assert saved.predict([[15.0]]) == [140.0]
    _rewrite(path, target_standardization={"mean": 1.0, "std": 0})
    with pytest.raises(ValueError, match=r"the target's standardization std is 0\.0, not > 0"):
        nn.load_model(path)
