"""The ``chainrule`` command end to end, in a subprocess as a user runs it."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from cli_runs import main_captured, run_cli

import nn
from chainrule.cli import DIGITS_MAX_EPOCHS, main
from chainrule.examples import demo_sample_loss
from nn.checks import POSITIVE, SEED, between

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
COMMAND_NAMES = ("demo", "train", "predict", "explain", "draw", "explore", "export",
                 "worksheet", "grade")  # fmt: skip


def test_demo_trains_the_notes_network_and_writes_the_loss_curve(tmp_path: Path, dot: str) -> None:
    out = tmp_path / "pictures"
    result = run_cli("demo", "--out", str(out))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "4 -> 3 -> 2 -> 1" in text and "20 weights" in text
    for label in ("w^1_11", "w^1_43", "w^2_32", "w^3_21"):
        assert re.search(re.escape(label) + r" = [+-]\d\.\d{4}", text), label
    # the notes' three gradients, each checked against finite differences
    for label in ("w^3_11", "w^2_11", "w^1_11"):
        line = re.search(re.escape(f"dL/d{label}") + r"\s+(\S+)\s+(\S+)\s+\S+\s+agree", text)
        assert line, label
        assert float(line.group(1)) == pytest.approx(float(line.group(2)), rel=1e-5)
    converged = re.search(r"converged after (\d+) epochs", text)
    assert converged and int(converged.group(1)) > 1
    assert re.search(r"final loss L = \d+\.\d+", text)
    accuracy = re.search(r"accuracy: ([\d.]+)%", text)
    assert accuracy and float(accuracy.group(1)) >= 95.0
    png = out / "loss.png"
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert str(png) in text
    # The page is the demo's last word: the user is told to open it, and where it is
    explorer = out / "explorer.html"
    assert explorer.stat().st_size > 0
    last = text.strip().split("Wrote ")[-1]
    assert f"Next: open {explorer} in a browser" in last
    # which weights the page starts from, said as a sentence (the trained ones were printed)
    assert "It starts from the initial weights, as they were before the training" in last
    assert "(the initial weights)" not in last


def _separable_csv(path: Path) -> None:
    rng = random.Random(0)
    lines = ["x1,x2,x3,label"]
    for _ in range(40):
        x1, x2, x3 = (rng.uniform(-3, 3) for _ in range(3))
        label = 1 if x1 - 0.5 * x2 > 0 else -1
        lines.append(f"{x1:.3f},{x2:.3f},{x3:.3f},{label}")
    path.write_text("\n".join(lines) + "\n")


def test_train_on_a_users_csv(tmp_path: Path) -> None:
    csv_path = tmp_path / "points.csv"
    _separable_csv(csv_path)
    out = tmp_path / "out"
    result = run_cli(
        "train", str(csv_path), "--target", "label", "--hidden", "3", "--lr", "0.02",
        "--tol", "1e-3", "--max-epochs", "400", "--init", "he_normal", "--seed", "3",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "3 -> 3 -> 1" in result.stdout and "init he_normal" in result.stdout
    accuracy = re.search(r"accuracy: ([\d.]+)%", result.stdout)
    assert accuracy and float(accuracy.group(1)) >= 90.0
    document = json.loads((out / "parameters.json").read_text())
    assert document["sizes"] == [3, 3, 1] and len(document["parameters"]) == 12
    assert (out / "loss.png").read_bytes()[:8] == PNG_MAGIC


def test_train_help_explains_every_option() -> None:
    result = run_cli("train", "--help")
    assert result.returncode == 0
    for option in ("--target", "--lr", "--l2", "--init", "--tol", "--max-epochs", "--seed",
                   "--hidden", "--out"):  # fmt: skip
        assert option in result.stdout
    assert "w_new ~= w_old" in result.stdout and "xavier_normal" in result.stdout
    top = run_cli("--help")
    assert top.returncode == 0 and "demo" in top.stdout and "train" in top.stdout


def test_errors_are_messages_with_a_non_zero_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,y\n1,2,1\n3,4\n")
    assert main(["train", str(ragged), "--target", "y", "--out", str(tmp_path)]) == 2
    assert "line 3: 2 cells, but the header has 3" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "missing.csv"), "--target", "y"]) == 2
    assert "missing.csv" in capsys.readouterr().err
    # One rule per option, said the same way whatever the value breaking it
    for lr in ("0", "-1", "nan", "inf", "abc"):
        with pytest.raises(SystemExit) as exited:
            main(["train", str(ragged), "--target", "y", "--lr", lr])
        assert exited.value.code == 2
        error = capsys.readouterr().err.splitlines()[-1]
        assert (
            error
            == f"chainrule train: error: argument --lr: must be a finite number > 0, got {lr!r}"
        )
    with pytest.raises(SystemExit):
        main(["train", str(ragged), "--target", "y", "--hidden", "3,x"])
    assert "must be layer sizes separated by commas" in capsys.readouterr().err


def test_every_help_calls_the_notes_the_lecture_notes(capsys: pytest.CaptureFixture[str]) -> None:
    helps = []
    for argv in (["--help"], *([name, "--help"] for name in COMMAND_NAMES)):
        with pytest.raises(SystemExit):
            main(argv)
        helps.append(" ".join(capsys.readouterr().out.split()))  # lines joined
    assert set(re.findall(r"chainrule (\w+)", helps[0])) == set(COMMAND_NAMES)
    for text in helps:
        assert not re.search(r"(?<!lecture) notes'", text), text


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["demo", "--seed", "x"], "demo: error: argument --seed: must be an int, got 'x'"),
        (["train", "d.csv", "--target", "y", "--seed", "1.5"],
         "train: error: argument --seed: must be an int, got '1.5'"),
        (["explain", "w^1_11", "--seed", "one"],
         "explain: error: argument --seed: must be an int, got 'one'"),
        (["draw", "w^1_11", "--sample", "150"],
         "draw: error: argument --sample: must be an int from 0 to 149, got '150'"),
        (["explain", "w^1_11", "--sample", "-1"],
         "explain: error: argument --sample: must be an int from 0 to 149, got '-1'"),
    ],
)  # fmt: skip
def test_seed_and_sample_are_refused_by_their_one_rule_not_by_argparse(
    argv: list[str], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"chainrule {error}"


def test_a_sample_number_is_refused_in_the_same_words_by_the_library() -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    with pytest.raises(ValueError, match=r"^sample must be an int from 0 to 149, got 150$"):
        demo_sample_loss(model, 150)
    with pytest.raises(TypeError, match=r"^seed must be an int, got 'x'$"):
        SEED.check("x", "seed")
    assert SEED.allows(-(10**30)) and SEED.allows(10**400) and not SEED.allows(True)
    # Beyond a float's range an int is still whole: kept in range by the bounds alone.
    assert not between(0, 149).allows(10**400) and not POSITIVE.allows(10**400)


def test_divergence_in_train_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "line.csv"
    csv_path.write_text("x,y\n" + "".join(f"{x},{3 * x}\n" for x in range(1, 6)))
    argv = ["train", str(csv_path), "--target", "y", "--hidden", "", "--no-standardize",
            "--lr", "1", "--regression", "--out", str(tmp_path)]  # fmt: skip
    assert main(argv) == 1
    assert re.search(r"diverged at epoch \d+ with --lr 1", capsys.readouterr().err)


def _labelled_csv(path: Path, labels: tuple[str, ...], rows: int = 60) -> None:
    """Points around len(labels) centres; the label column holds the given labels."""
    rng = random.Random(1)
    lines = ["x1,x2,kind"]
    for n in range(rows):
        k = n % len(labels)
        x1, x2 = 3 * k + rng.gauss(0, 0.4), (-1) ** k + rng.gauss(0, 0.4)
        lines.append(f"{x1:.3f},{x2:.3f},{labels[k]}")
    path.write_text("\n".join(lines) + "\n")


def test_train_detects_integer_classes_and_predict_applies_the_model(tmp_path: Path) -> None:
    train_csv = tmp_path / "train.csv"
    _labelled_csv(train_csv, ("0", "1", "2"))
    out = tmp_path / "out"
    result = run_cli("train", str(train_csv), "--target", "kind", "--hidden", "4", "--bias",
                  "--optimizer", "adam", "--lr", "0.05", "--max-epochs", "200",
                  "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Target 'kind': 3 classes (0, 1, 2): classification, 3 outputs" in result.stdout
    assert "pass --regression" in result.stdout
    assert "2 -> 4 -> 3" in result.stdout
    document = json.loads((out / "parameters.json").read_text())
    assert document["classes"] == [0, 1, 2] and document["features"] == ["x1", "x2"]
    assert len(document["standardization"]["means"]) == 2
    # new rows in another column order, with the target column for a score
    new = tmp_path / "new.csv"
    new.write_text("kind,x2,x1\n0,1.1,0.2\n2,0.9,6.1\n1,-1.0,3.0\n")
    predicted = run_cli("predict", str(out / "parameters.json"), str(new))
    assert predicted.returncode == 0, predicted.stderr
    assert predicted.stdout.split() == ["predicted_kind", "0", "2", "1"]
    assert "accuracy against column 'kind': 100.0% (3 of 3)" in predicted.stderr


def test_train_with_text_labels_and_the_regression_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "pets.csv"
    _labelled_csv(csv_path, ("cat", "dog"))
    status, out, err = main_captured(
        capsys, "train", str(csv_path), "--target", "kind", "--hidden", "3",
        "--bias", "--max-epochs", "50", "--out", str(tmp_path),
    )  # fmt: skip
    assert status == 0, err
    assert "2 classes (cat, dog): classification, one output, -1 for cat and +1 for dog" in out
    assert "--regression" not in out  # text cannot be fitted as numbers
    status, out, err = main_captured(capsys, "train", str(csv_path), "--target", "kind",
                             "--output-activation", "sigmoid", "--max-epochs", "5",
                             "--out", str(tmp_path))  # fmt: skip
    assert status == 0 and "one output, 0 for cat and +1 for dog" in out
    numbers = tmp_path / "codes.csv"
    _labelled_csv(numbers, ("0", "1"))
    status, out, err = main_captured(
        capsys, "train", str(numbers), "--target", "kind", "--regression",
        "--max-epochs", "20", "--out", str(tmp_path),
    )  # fmt: skip
    assert status == 0, err
    assert "fitted as numbers (regression). Pass --classification" in out
    assert "accuracy" not in out
    status, out, err = main_captured(
        capsys, "train", str(csv_path), "--target", "kind", "--regression"
    )
    assert status == 2 and "--regression: target 'kind' holds text" in err
    measured = tmp_path / "measured.csv"
    measured.write_text("x,y\n1,0.5\n2,1.5\n3,1\n")
    status, out, err = main_captured(
        capsys, "train", str(measured), "--target", "y", "--classification"
    )
    assert status == 2
    assert "target 'y' holds 0.5 (data row 1); class labels are whole numbers" in err


def test_train_says_when_units_saturated_and_what_to_try(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "points.csv"
    _separable_csv(csv_path)
    argv = ["train", str(csv_path), "--target", "label", "--lr", "1e6", "--out", str(tmp_path)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "Target 'label': 2 classes (-1, 1)" in text
    assert "NOT converged: units saturated" in text
    assert "what to try: try a smaller learning rate, e.g. --lr 100000" in text
    argv = ["train", str(csv_path), "--target", "label", "--lr", "1e-9", "--out", str(tmp_path)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "NOT converged: steps too small after 1 epoch " in text
    assert "what to try: try a larger learning rate, e.g. --lr 1e-08, or a smaller --tol" in text


def test_predict_errors_are_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_path = tmp_path / "points.csv"
    _separable_csv(csv_path)
    assert main(["train", str(csv_path), "--target", "label", "--max-epochs", "2",
                 "--out", str(tmp_path)]) == 0  # fmt: skip
    capsys.readouterr()
    other = tmp_path / "other.csv"
    other.write_text("x1,x2\n1,2\n")
    assert main(["predict", str(tmp_path / "parameters.json"), str(other)]) == 2
    assert "no column named 'x3'" in capsys.readouterr().err
    assert main(["predict", str(csv_path), str(csv_path)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_the_digits_demo_reaches_95_percent_on_held_out_digits(tmp_path: Path) -> None:
    result = run_cli("demo", "--task", "digits", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    held_out = re.search(r"accuracy on the 359 held-out digits: ([\d.]+)%", result.stdout)
    assert held_out and float(held_out.group(1)) >= 95.0
    assert re.search(rf"after {DIGITS_MAX_EPOCHS} epochs in \d+\.\d s", result.stdout)
    assert "64 -> 16 -> 10" in result.stdout
    for name in ("digits-misclassified.png", "digits-loss.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG_MAGIC


def test_the_digits_demo_with_an_epoch_cap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--task", "digits", "--max-epochs", "2", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "stopped at max-epochs (not converged) after 2 epochs" in text
    assert "weights still moving" in text
    assert (tmp_path / "digits-misclassified.png").exists()
