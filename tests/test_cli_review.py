"""``chainrule train``, ``predict``, ``explore`` and ``export`` as a new user meets them:
defaults that work on an Iris-sized CSV, advice in the command line's own flags, and
refusals that say what is wrong in the user's terms."""

from __future__ import annotations

import itertools
import json
import math
import random
import re
from pathlib import Path

import pytest
from cli_runs import main_captured, run_cli

import nn
from chainrule.cli import as_flags, build_parser, loss_figure, main, rmse

# A Python argument such as lr=0.01 or max_epochs=1000 in a message: the command line
# must name its flags instead.
PYTHON_ARGUMENT = re.compile(r"\b(lr|tol|max_epochs|l2|optimizer|bias|init|seed)=")


def _iris_csv(path: Path, species: tuple[str, ...] = nn.data.IRIS_SPECIES) -> Path:
    """Fisher's Iris as a user has it: four measurements and the species by name."""
    iris = nn.load_iris()
    lines = [",".join([*iris.feature_names, "species"])]
    for x, code in zip(iris.X, iris.y, strict=True):
        if iris.classes[code] in species:
            lines.append(",".join([*map(str, x), iris.classes[code]]))
    path.write_text("\n".join(lines) + "\n")
    return path


def _accuracy(out: str) -> float:
    found = re.search(r"accuracy: ([\d.]+)%", out)
    assert found, out
    return float(found.group(1))


def test_the_default_learning_rate_fits_iris_three_species(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _iris_csv(tmp_path / "iris.csv")
    status, out, err = main_captured(
        capsys, "train", str(csv), "--target", "species", "--out", str(tmp_path / "out")
    )
    assert status == 0, err
    assert "Learning rate --lr 0.001: the default for 150 rows" in out
    assert "oscillat" not in out
    assert _accuracy(out) >= 95.0


def test_an_oscillating_loss_is_named_and_a_smaller_lr_advised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _iris_csv(tmp_path / "iris.csv")
    status, out, err = main_captured(
        capsys,
        "train",
        str(csv),
        "--target",
        "species",
        "--lr",
        "0.01",
        "--max-epochs",
        "300",
        "--out",
        str(tmp_path),
    )
    assert status == 0, err
    assert "NOT converged: the loss oscillates" in out
    assert re.search(r"went up in \d+ of the last 20 epochs", out)
    assert "what to try: try a smaller learning rate, e.g. --lr 0.001; more epochs" in out
    assert "more --max-epochs" not in out and "larger --lr" not in out
    assert not PYTHON_ARGUMENT.search(out), out


def test_the_library_says_oscillating_only_when_the_loss_goes_up_and_down() -> None:
    iris = nn.load_iris()
    X = nn.standardize(iris.X)[0]
    runs = {}
    for lr in (0.01, 0.001):
        model = nn.MLP(4, [3, 2, 3], seed=0)
        runs[lr] = nn.train(model, X, iris.y, lr=lr, max_epochs=300, progress=False)
    fast, slow = runs[0.01], runs[0.001]
    recent = fast.losses[-21:]
    assert sum(b > a for a, b in itertools.pairwise(recent)) >= 5  # measured independently
    assert fast.stop_reason == "oscillating" and not fast.converged
    assert "smaller learning rate, e.g. lr=0.001" in fast.stop_advice
    assert all(b <= a for a, b in itertools.pairwise(slow.losses[-21:]))
    assert slow.stop_reason != "oscillating"


def test_cli_messages_name_flags_not_python_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert as_flags("e.g. lr=0.001, tol=1e-05; optimizer='adam'") == (
        "e.g. --lr 0.001, --tol 1e-05; --optimizer adam"
    )
    csv = tmp_path / "line.csv"
    csv.write_text("x,y\n" + "".join(f"{x},{3 * x}\n" for x in range(1, 6)))
    status, out, err = main_captured(
        capsys,
        "train",
        str(csv),
        "--target",
        "y",
        "--hidden",
        "",
        "--no-standardize",
        "--lr",
        "1",
        "--out",
        str(tmp_path),
    )
    assert status == 1 and "diverged" in err and "e.g. --lr 0.1" in err
    assert not PYTHON_ARGUMENT.search(out + err), out + err
    points = _iris_csv(tmp_path / "iris.csv")
    for extra in (("--max-epochs", "3"), ("--lr", "1e-9"), ("--lr", "1e6")):
        status, out, err = main_captured(
            capsys, "train", str(points), "--target", "species", *extra, "--out", str(tmp_path)
        )
        assert status == 0 and "what to try:" in out, err
        assert not PYTHON_ARGUMENT.search(out), out


def test_advice_never_suggests_what_is_in_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _iris_csv(tmp_path / "iris.csv", ("setosa", "virginica"))
    argv = ("train", str(csv), "--target", "species", "--lr", "1e6", "--out", str(tmp_path))
    status, out, _ = main_captured(capsys, *argv)  # the default init: xavier
    assert status == 0 and "units saturated" in out
    advice = out.split("what to try:")[1].splitlines()[0]
    assert "--lr 100000" in advice and "--init" not in advice
    # Larger initial weights than Xavier's (N(0, 1) on 4 inputs): then smaller ones may help
    status, out, _ = main_captured(capsys, *argv, "--init", "normal")
    assert "--init xavier" in out.split("what to try:")[1].splitlines()[0]
    status, out, _ = main_captured(
        capsys, *argv[:-2], "--max-epochs", "2", "--optimizer", "adam", "--out", str(tmp_path)
    )
    advice = out.split("what to try:")[1].splitlines()[0]
    assert "--max-epochs 4" in advice and "adam" not in advice


def test_a_one_class_target_is_refused_when_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _iris_csv(tmp_path / "virginica.csv", ("virginica",))
    status, out, err = main_captured(capsys, "train", str(csv), "--target", "species")
    assert status == 2
    assert "column 'species' has only one value, 'virginica': nothing to classify" in err
    assert "Network" not in out
    with pytest.raises(ValueError, match="only one class, 'a': there is nothing to tell apart"):
        nn.train(nn.MLP(2, [1]), [[0.0, 1.0], [1.0, 0.0]], ["a", "a"], progress=False)


def test_regression_reports_its_rmse_beside_the_mean_and_advises_biases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "offset.csv"  # y = 20 + x: mostly an offset
    csv.write_text("x,y\n" + "".join(f"{x / 10},{20 + x / 10}\n" for x in range(-20, 21)))
    targets = [20 + x / 10 for x in range(-20, 21)]
    spread = (sum((t - 20) ** 2 for t in targets) / len(targets)) ** 0.5
    rmse_line = r"training RMSE: ([\d.e-]+) \(predicting the mean, 20, for every row: ([\d.]+)\)"
    # As it is, the offset is out of reach of a network without biases ...
    status, out, err = main_captured(
        capsys, "train", str(csv), "--target", "y", "--regression", "--no-standardize",
        "--max-epochs", "200", "--out", str(tmp_path),
    )  # fmt: skip
    assert status == 0, err
    found = re.search(rmse_line, out)
    assert found, out
    assert float(found.group(2)) == pytest.approx(spread, rel=1e-3)
    assert float(found.group(1)) >= float(found.group(2))
    assert "predicts worse than the mean" in out and "--bias gives every neuron one" in out
    # ... standardised (the default), the offset is the mean, taken off before training
    status, out, err = main_captured(
        capsys, "train", str(csv), "--target", "y", "--regression", "--out", str(tmp_path)
    )
    assert status == 0, err
    assert "the network fits (y - 20) / 1.183, and its predictions are scaled back" in out
    found = re.search(rmse_line, out)
    assert found and float(found.group(1)) < 0.1 * spread
    assert "--bias gives" not in out
    # a bias learns the offset too
    status, out, err = main_captured(
        capsys, "train", str(csv), "--target", "y", "--regression", "--no-standardize",
        "--bias", "--hidden", "", "--out", str(tmp_path),
    )  # fmt: skip
    assert status == 0, err
    found = re.search(rmse_line, out)
    assert found and float(found.group(1)) < 0.01 * spread
    assert "--bias gives" not in out


def test_predict_reports_labels_it_was_never_trained_on_by_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _iris_csv(tmp_path / "iris.csv")
    assert (
        main(
            ["train", str(csv), "--target", "species", "--max-epochs", "50", "--out", str(tmp_path)]
        )
        == 0
    )
    new = tmp_path / "new.csv"
    new.write_text(
        "sepal_length,sepal_width,petal_length,petal_width,species\n"
        "5.1,3.5,1.4,0.2,rose\n\n6.3,3.3,6.0,2.5,virginica\n"
    )
    status, out, err = main_captured(capsys, "predict", str(tmp_path / "parameters.json"), str(new))
    assert status == 0, err
    assert len(out.split()) == 3  # the header and both predictions
    assert "1 rows; accuracy against column 'species'" in err
    assert "1 row(s) of column 'species' hold a label the model was not trained on" in err
    assert "line 2: 'rose'" in err


def test_train_help_shows_each_default_once_and_only_for_values() -> None:
    text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()  # type: ignore[union-attr]
    flat = " ".join(text.split())
    assert "numbers only" not in flat and "class labels" in flat
    assert "(default: None)" not in flat and "(default: False)" not in flat
    assert "(default: auto)" not in flat.split("--classification")[1].split("--regression")[0]
    assert "(default: xavier)" in flat and "(default: 1000)" in flat


def test_the_loss_curve_says_when_an_epoch_is_a_sum_of_batch_losses() -> None:
    data = nn.iris_binary()
    history = nn.train(nn.MLP(4, [3, 2, 1]), data.X, data.y, max_epochs=2, progress=False)
    label = loss_figure(history, "t", l2=1e-3).axes[0].get_ylabel()
    assert label == "L = sum (y - yhat)^2 + Reg"
    label = loss_figure(history, "t", batch_size=32, l2=0.0).axes[0].get_ylabel()
    assert label == "sum of the epoch's losses on batches of 32"


@pytest.mark.parametrize(
    ("l2", "label"), [(None, "L = sum (y - yhat)^2"), ("0.01", "L = sum (y - yhat)^2 + Reg")]
)
def test_the_loss_curve_names_reg_only_when_lambda_is_not_0(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    l2: str | None,
    label: str,
) -> None:
    labels: list[str] = []

    def figure(*args: object, **kwargs: float) -> object:
        drawn = loss_figure(*args, **kwargs)  # type: ignore[arg-type]
        labels.append(drawn.axes[0].get_ylabel())
        return drawn

    monkeypatch.setattr("chainrule.cli.loss_figure", figure)
    csv = _iris_csv(tmp_path / "iris.csv", ("setosa", "virginica"))
    lam = [] if l2 is None else ["--l2", l2]
    status, out, err = main_captured(
        capsys, "train", str(csv), "--target", "species", "--max-epochs", "3", *lam,
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert status == 0, err
    assert f"lambda = {l2 or 0}," in out  # as the terminal says
    assert labels == [label] and (tmp_path / "out" / "loss.png").exists()


def test_a_bad_out_folder_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _iris_csv(tmp_path / "iris.csv")
    for out in (csv, csv / "inside"):
        with pytest.raises(SystemExit) as exited:
            main(["train", str(csv), "--target", "species", "--out", str(out)])
        assert exited.value.code == 2
        captured = capsys.readouterr()
        assert f"argument --out: {csv} is a file, not a folder" in captured.err
        assert "Training:" not in captured.out


def test_a_failed_run_leaves_no_empty_out_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "line.csv"
    csv.write_text("x,y\n" + "".join(f"{x},{3 * x}\n" for x in range(1, 6)))
    out = tmp_path / "new" / "folder"
    diverging = ("--hidden", "", "--no-standardize", "--lr", "1", "--out", str(out))
    status, _, err = main_captured(capsys, "train", str(csv), "--target", "y", *diverging)
    assert status == 1 and "diverged" in err
    assert not (tmp_path / "new").exists()
    status, _, err = main_captured(capsys, "train", str(csv), "--target", "y", "--out", str(out))
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["loss.png", "parameters.json"]


def test_draw_without_dot_leaves_no_empty_out_folder(tmp_path: Path) -> None:
    out = tmp_path / "pictures"
    result = run_cli("draw", "w^1_11", "--out", str(out), without_dot=tmp_path / "empty")
    assert result.returncode == 3 and "dot program, which is not installed" in result.stderr
    assert not out.exists()


def test_explore_refuses_weights_for_another_task_and_says_what_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    three = _iris_csv(tmp_path / "iris.csv")
    assert (
        main(
            [
                "train",
                str(three),
                "--target",
                "species",
                "--max-epochs",
                "2",
                "--out",
                str(tmp_path / "three"),
            ]
        )
        == 0
    )
    status, _, err = main_captured(
        capsys,
        "explore",
        "--weights",
        str(tmp_path / "three/parameters.json"),
        "--out",
        str(tmp_path),
    )
    assert status == 2 and "holds a 4 -> 3 -> 2 -> 3 network" in err and "sizes =" not in err
    assert "--hidden 3,2" in err
    setosa = tmp_path / "setosa.csv"
    iris = nn.load_iris()
    lines = [",".join([*iris.feature_names, "kind"])]
    for x, code in zip(iris.X, iris.y, strict=True):
        lines.append(",".join([*map(str, x), "setosa" if code == 0 else "other"]))
    setosa.write_text("\n".join(lines) + "\n")
    half = tmp_path / "half.csv"  # other statistics: only the first 100 rows
    half.write_text("\n".join(lines[:101]) + "\n")
    wrong_way = tmp_path / "wrong_way.csv"  # setosa sorts low: its output would be -1
    wrong_way.write_text("\n".join(lines).replace("other", "zother") + "\n")
    for name in ("setosa", "half", "wrong_way"):
        assert (
            main(
                [
                    "train",
                    str(tmp_path / f"{name}.csv"),
                    "--target",
                    "kind",
                    "--max-epochs",
                    "2",
                    "--out",
                    str(tmp_path / name),
                ]
            )
            == 0
        )
    capsys.readouterr()
    status, _, err = main_captured(
        capsys,
        "explore",
        "--weights",
        str(tmp_path / "setosa/parameters.json"),
        "--out",
        str(tmp_path),
    )
    assert status == 0, err
    status, _, err = main_captured(
        capsys,
        "explore",
        "--weights",
        str(tmp_path / "half/parameters.json"),
        "--out",
        str(tmp_path),
    )
    assert status == 2 and "standardised with other statistics" in err
    status, _, err = main_captured(
        capsys,
        "explore",
        "--weights",
        str(tmp_path / "wrong_way/parameters.json"),
        "--out",
        str(tmp_path),
    )
    assert status == 2 and "tells 'setosa' (-1) from 'zother' (+1)" in err
    renamed = json.loads((tmp_path / "setosa/parameters.json").read_text())
    renamed["features"] = ["a", "b", "c", "d"]
    (tmp_path / "renamed.json").write_text(json.dumps(renamed))
    status, _, err = main_captured(
        capsys, "explore", "--weights", str(tmp_path / "renamed.json"), "--out", str(tmp_path)
    )
    assert status == 2 and "its features are a, b, c, d" in err


def test_export_says_how_to_prepare_the_inputs_and_read_the_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from chainrule.export import load_snippet

    csv = _iris_csv(tmp_path / "iris.csv")
    assert (
        main(
            ["train", str(csv), "--target", "species", "--max-epochs", "2", "--out", str(tmp_path)]
        )
        == 0
    )
    params = str(tmp_path / "parameters.json")
    snippet = load_snippet(nn.load_model(params), params, "model.pt")
    assert "standardised as in training" in snippet and '["standardization"]' in snippet
    assert "one output per class, in the order setosa, versicolor, virginica" in snippet
    assert "rows of: sepal_length, sepal_width, petal_length, petal_width" in snippet


def test_the_export_snippet_runs_and_predicts_as_chainrule_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from oracles import require_torch

    require_torch("the test that runs the export's Python snippet")
    csv = _iris_csv(tmp_path / "iris.csv")
    assert (
        main(
            ["train", str(csv), "--target", "species", "--max-epochs", "50", "--out", str(tmp_path)]
        )
        == 0
    )
    params, module = tmp_path / "parameters.json", tmp_path / "model.pt"
    status, out, err = main_captured(capsys, "export", str(params), "--to", "torch", str(module))
    assert status == 0, err
    snippet = out.split("Load it in Python with\n")[1].split("\nEach Linear")[0]
    rows = nn.load_iris().X[::10]
    names: dict[str, object] = {"rows": rows}
    exec("\n".join(line.removeprefix("    ") for line in snippet.splitlines()), names)
    saved = nn.load_model(params)
    assert names["predicted"] == nn.predict(saved.model, saved.prepare(rows))
    # numbers: the network's outputs are standardised; the snippet scales them back
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("\n".join(",".join(map(str, row)) for row in
                               [nn.load_iris().feature_names, *nn.load_iris().X]))  # fmt: skip
    argv = ["train", str(numbers), "--target", "sepal_length", "--out", str(tmp_path / "n")]
    assert main(argv) == 0
    params = tmp_path / "n" / "parameters.json"
    status, out, err = main_captured(capsys, "export", str(params), "--to", "torch", str(module))
    assert status == 0, err
    snippet = out.split("Load it in Python with\n")[1].split("\nEach Linear")[0]
    assert 'scale it back with its "target_standardization"' in snippet
    names = {"rows": [row[1:] for row in rows]}
    exec("\n".join(line.removeprefix("    ") for line in snippet.splitlines()), names)
    saved = nn.load_model(params)
    predicted = names["predicted"].flatten().tolist()  # type: ignore[attr-defined]
    assert predicted == pytest.approx(saved.predict([row[1:] for row in rows]), rel=1e-12)


def test_a_run_cut_short_is_reported_as_such_not_as_stalled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _iris_csv(tmp_path / "iris.csv")
    status, out, err = main_captured(
        capsys, "train", str(csv), "--target", "species", "--optimizer", "adam",
        "--lr", "0.01", "--max-epochs", "30", "--out", str(tmp_path),
    )  # fmt: skip
    assert status == 0, err
    assert "stopped at max-epochs (not converged)" in out and "stalled" not in out
    advice = out.split("what to try:")[1].splitlines()[0]
    assert "--max-epochs 60" in advice and "--bias" not in out and "adam" not in advice


def test_every_number_option_is_refused_in_the_librarys_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = _iris_csv(tmp_path / "iris.csv")
    data = nn.iris_binary()
    cases = [("lr", "0"), ("lr", "-1"), ("l2", "-1"), ("tol", "-0.001"), ("max_epochs", "0"),
             ("max_epochs", "2.5")]  # fmt: skip
    for name, text in cases:
        with pytest.raises((TypeError, ValueError)) as refused:
            value = float(text) if name != "max_epochs" or "." in text else int(text)
            nn.train(nn.MLP(4, [1]), data.X, data.y, progress=False, **{name: value})
        library = str(refused.value)
        words = library.split(" must be ")[1].split(", got ")[0]
        flag = "--" + name.replace("_", "-")
        with pytest.raises(SystemExit):
            main(["train", str(csv), "--target", "species", flag, text])
        said = capsys.readouterr().err.splitlines()[-1]
        assert library.startswith(f"{name} must be {words}, got ")
        assert said == f"chainrule train: error: argument {flag}: must be {words}, got {text!r}"


def test_tol_zero_with_many_epochs_warns_at_the_start_in_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "line.csv"
    csv.write_text("x,y\n" + "".join(f"{x},{x % 3}\n" for x in range(1, 8)))
    status, out, err = main_captured(
        capsys, "train", str(csv), "--target", "y", "--hidden", "", "--tol", "0",
        "--max-epochs", "1500", "--out", str(tmp_path),
    )  # fmt: skip
    assert status == 0, err
    assert err.startswith("chainrule train: warning: --tol 0 can never be met")
    assert "run all --max-epochs 1500 epochs" in err and "e.g. --tol 0.0001" in err
    assert not PYTHON_ARGUMENT.search(err), err
    assert "after 1500 epochs" in out


def _regression_csvs(folder: Path) -> list[tuple[Path, str]]:
    """Numbers to fit, of several sizes and scales: Iris columns, and y = sin(x1) + 0.3 x2
    plus noise on 50 and 500 rows, times 100, or plus 1000."""
    iris = nn.load_iris()
    lines = [",".join(iris.feature_names)] + [",".join(map(str, x)) for x in iris.X]
    (folder / "iris.csv").write_text("\n".join(lines) + "\n")
    files = [(folder / "iris.csv", name) for name in ("sepal_length", "sepal_width")]
    for rows, scale, offset in ((50, 1, 0), (500, 100, 0), (500, 1, 1000)):
        rng = random.Random(rows)
        text = ["x1,x2,x3,y"]
        for _ in range(rows):
            x = [rng.uniform(-3, 3), rng.uniform(0, 10), rng.gauss(0, 1)]
            y = offset + scale * (math.sin(x[0]) + 0.3 * x[1] + 0.1 * rng.gauss(0, 1))
            text.append(",".join(f"{v:.6g}" for v in [*x, y]))
        path = folder / f"synthetic-{rows}-{scale}-{offset}.csv"
        path.write_text("\n".join(text) + "\n")
        files.append((path, "y"))
    return files


@pytest.mark.parametrize("bias", [(), ("--bias",)], ids=["no-bias", "bias"])
def test_the_default_learning_rate_fits_numbers_of_any_size_and_scale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bias: tuple[str, ...]
) -> None:
    for csv, target in _regression_csvs(tmp_path):
        out = tmp_path / f"{csv.stem}-{target}"
        status, text, err = main_captured(
            capsys, "train", str(csv), "--target", target, *bias, "--out", str(out)
        )
        assert status == 0, err
        assert "oscillat" not in text and "stalled" not in text and "saturated" not in text
        found = re.search(r"training RMSE: ([\d.e+-]+) \(predicting the mean, \S+, for every "
                          r"row: ([\d.e+-]+)\)", text)  # fmt: skip
        assert found, text
        fitted, baseline = float(found.group(1)), float(found.group(2))
        assert fitted < 0.7 * baseline, (csv.name, target, text)
        # predict gives the same numbers, in the target's units
        status, predicted, err = main_captured(capsys, "predict", str(out / "parameters.json"),
                                               str(csv))  # fmt: skip
        assert status == 0
        rows = nn.load_csv(csv, target=target)
        values = [float(v) for v in predicted.split()[1:]]
        assert rmse(values, rows.y) == pytest.approx(fitted, rel=1e-3)


def test_every_command_shows_the_defaults_of_its_options() -> None:
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    shown = {
        "explain": ("--seed", "--sample"),
        "draw": ("--seed", "--sample", "--out"),
        "demo": ("--seed", "--out", "--task"),
        "explore": ("--seed", "--sample", "--out"),
    }
    for name, options in shown.items():
        flat = " ".join(commands[name].format_help().split()).split("options:")[1]
        for option in options:
            own = flat.split(f" {option} ")[1].split(" --")[0]  # that option's help
            assert re.search(r"\(default: [\w-]+\)$", own), (name, option, own)
    demo = " ".join(commands["demo"].format_help().split())
    for word in ("explorer.html", "backward_frames/", "backward_neuron.gif", "a page to open"):
        assert word in demo, word


@pytest.mark.parametrize(
    ("hidden", "message"),
    [
        (
            "100000000",
            "--hidden 100000000: a 4 -> 100,000,000 -> 3 network has 700,000,000 parameters; "
            "chainrule train builds at most 100,000",
        ),
        (",,", "argument --hidden: must be layer sizes separated by commas"),
        ("3,,2", "argument --hidden: must be layer sizes separated by commas"),
        ("0", "argument --hidden: must be layer sizes separated by commas, each an int >= 1"),
    ],
)
def test_hidden_sizes_that_cannot_be_trained_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], hidden: str, message: str
) -> None:
    csv = _iris_csv(tmp_path / "iris.csv")
    argv = ["train", str(csv), "--target", "species", "--hidden", hidden, "--out",
            str(tmp_path / "out")]  # fmt: skip
    try:
        status = main(argv)
    except SystemExit as exited:
        status = int(str(exited.code))
    err = capsys.readouterr().err
    assert status == 2 and message in err
    assert err.strip().splitlines()[-1].startswith("chainrule train: error:")
    assert not (tmp_path / "out").exists()
