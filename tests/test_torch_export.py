"""``chainrule export`` and ``nn.load_model``: the export's user errors are messages, and
without PyTorch the export says how to get it. None of these tests needs torch."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import nn
from chainrule.cli import main


def _parameters_file(tmp_path: Path) -> Path:
    path = tmp_path / "parameters.json"
    nn.save_parameters(nn.MLP(4, [3, 2, 1], bias=True, output_activation="linear", seed=4), path)
    return path


@pytest.mark.usefixtures("no_torch")
def test_export_without_pytorch_is_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model.pt"
    assert main(["export", str(_parameters_file(tmp_path)), "--to", "torch", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("chainrule export: error: nn.to_torch needs PyTorch")
    assert "-m pip install torch" in error and "Traceback" not in error
    assert not out.exists()


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (None, r"missing\.json: No such file or directory"),
        ("not json", r"missing\.json: not valid JSON"),
        ('{"format": "something else"}', "not a chainrule parameter file"),
    ],
)
def test_export_of_a_bad_parameters_file_is_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write: str | None, message: str
) -> None:
    params = tmp_path / "missing.json"
    if write is not None:
        params.write_text(write)
    assert main(["export", str(params), "--to", "torch", str(tmp_path / "m.pt")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("chainrule export: error: ")
    assert re.search(message, error), error


def test_export_to_an_unknown_library_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["export", str(_parameters_file(tmp_path)), "--to", "onnx", "m.pt"])
    assert exit_.value.code == 2
    assert "argument --to: invalid choice: 'onnx' (choose from 'torch')" in capsys.readouterr().err


def test_load_model_rebuilds_the_saved_network(tmp_path: Path) -> None:
    model = nn.MLP(3, [4, 2], bias=True, activation="relu", output_activation="sigmoid", seed=2)
    path = tmp_path / "parameters.json"
    nn.save_parameters(model, path)
    loaded = nn.load_model(path).model
    assert repr(loaded) == repr(model)
    assert [(label, p.data) for label, p in loaded.named_parameters()] == [
        (label, p.data) for label, p in model.named_parameters()
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sizes": [4]}, '"sizes" must list at least two layer sizes'),
        ({"sizes": [4, 0, 1]}, '"sizes" must list at least two layer sizes'),
        ({"activation": "swish"}, "unknown activation 'swish': choose one of tanh, relu"),
        ({"activation": "exp"}, "the op 'exp' has no output range"),
        ({"output_activation": ["tanh"]}, '"output_activation" must name an activation'),
        ({"bias": None}, '"bias" must be true or false, got None'),
        ({"w^1_11": None}, r"with biases\) describe 26 parameters, but it holds 25"),
    ],
)
def test_load_model_names_what_is_wrong_with_the_file(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    path = _parameters_file(tmp_path)
    document = json.loads(path.read_text())
    for key, value in change.items():
        where = document["parameters"] if key.startswith("w^") else document
        if value is None:
            del where[key]
        else:
            where[key] = value
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=message):
        nn.load_model(path)
