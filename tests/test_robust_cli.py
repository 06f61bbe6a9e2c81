"""Issue 9 on the command line: without Graphviz's dot, with bad arguments and files,
the ``chainrule`` command says one clear thing and never shows a Python traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runs import run_cli

import autograd
import chainrule
import nn
import viz
from chainrule import examples, graphs
from chainrule.cli import main

ROOT = Path(__file__).resolve().parent.parent
TABS_TEST = str(ROOT / "tests" / "test_robust_viz.py::test_tabs_in_labels_are_shown")  # needs dot


def test_the_demo_without_dot_does_everything_else_and_says_so_once(tmp_path: Path) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    out = tmp_path / "out"
    result = run_cli("demo", "--out", str(out), without_dot=empty)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    # Training, the ledgers and the loss curve all happened.
    assert "from backward(): agrees" in result.stdout and "accuracy: 100.0%" in result.stdout
    assert (out / "loss.png").read_bytes().startswith(b"\x89PNG")
    # Each picture as a DOT source that dot can render later, and no half-made image.
    for stem in ("graph_loss", "network", "paths_w1_11", "paths_w1_11_neuron"):
        assert (out / f"{stem}.gv").read_text().startswith("digraph")
        assert not (out / f"{stem}.png").exists()
    assert len(list((out / "backward_frames").glob("frame_*.gv"))) == 5
    # One message, naming the pictures and how to install dot.
    assert result.stderr.count("dot program is not installed") == 1
    assert "backward_frames" in result.stderr and viz.DotNotFoundError().command in result.stderr


@pytest.mark.parametrize("command", [["draw", "w^1_11"], ["draw", "w^2_31"]])
def test_draw_without_dot_is_one_line_and_a_non_zero_status(
    tmp_path: Path, command: list[str]
) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    result = run_cli(*command, "--out", str(tmp_path / "out"), without_dot=empty)
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0  # one line
    assert "dot" in result.stderr and viz.DotNotFoundError().command in result.stderr


def test_the_demo_sources_render_with_dot(tmp_path: Path, dot: str) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = examples.demo_sample_loss(model)
    written = graphs.write_demo_graphs(model, loss, tmp_path, render=False)
    # 4 pictures, 5 frames of the notes' small example, 8 of the loss at neuron level
    assert all(path.suffix == ".gv" for path in written) and len(written) == 4 + 5 + 8
    # network.gv keeps its pinned layout (layout=neato) when rendered by plain `dot`.
    layout = subprocess.run(
        [dot, "-Tjson", str(tmp_path / "network.gv")], capture_output=True, check=True, text=True
    )
    positions = {o["name"]: o["pos"] for o in json.loads(layout.stdout)["objects"]}
    drawn = viz.draw_network(model, title=examples.sample_title(loss))
    pinned = json.loads(drawn.pipe(format="json"))["objects"]
    assert positions == {o["name"]: o["pos"] for o in pinned}  # as draw_network places them


def _bad_inputs(tmp: Path) -> list[tuple[list[str], str]]:
    ragged = tmp / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3\n")
    words = tmp / "words.csv"
    words.write_text("a,b\n1,two\n")
    good = tmp / "good.csv"
    good.write_text("a,b\n1,1\n2,-1\n")
    a_file = tmp / "a-file"
    a_file.write_text("")
    return [
        (["train", str(tmp / "missing.csv"), "--target", "b"], "missing.csv"),
        (["train", str(ragged), "--target", "b"], "line 3"),
        (["train", str(words), "--target", "b"], "two"),
        (["train", str(good), "--target", "nope"], "nope"),
        (["train", str(good), "--target", "b", "--out", str(a_file / "sub")], "a-file"),
        (["demo", "--out", str(a_file)], "a-file"),
        (["draw", "w^9_11"], "w^9_11"),
        (["explain", "w^1_55"], "5"),
        (["explain", "weight"], "weight"),
        (["explain", "w^1_11", "--sample", "1000"], "1000"),
        (["nonsense"], "nonsense"),
    ]


def test_bad_arguments_and_files_are_one_message_never_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for args, named in _bad_inputs(tmp_path):
        # In process: an exception escaping main() would be the traceback a user sees.
        try:
            status = main(args)
        except SystemExit as exit_:  # argparse's own errors
            status = exit_.code
        message = capsys.readouterr().err
        assert status == 2, (args, message)
        assert named in message, (args, message)
        assert message.startswith(("chainrule", "usage: chainrule")), (args, message)


def test_one_bad_input_end_to_end(tmp_path: Path) -> None:
    result = run_cli("train", str(tmp_path / "missing.csv"), "--target", "b")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.endswith("missing.csv: No such file or directory\n")


def test_version_is_one_number_everywhere() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"chainrule {autograd.__version__}"
    assert nn.__version__ == viz.__version__ == chainrule.__version__ == autograd.__version__
    from importlib.metadata import version

    assert version("chainrule") == autograd.__version__  # pyproject reads it from autograd


def test_the_licence_is_the_mit_licence_pyproject_declares() -> None:
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "2026 the chainrule authors" in licence
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()  # SPDX


@pytest.mark.parametrize(("ci", "outcome"), [("", "1 skipped"), ("true", "1 error")])
def test_a_test_needing_dot_skips_without_it_but_fails_under_ci(
    tmp_path: Path, ci: str, outcome: str
) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty), "CI": ci}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "-rs",
            TABS_TEST,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert outcome in result.stdout, result.stdout
    assert "dot is not on PATH" in result.stdout
    assert (result.returncode == 0) == (ci == ""), result.stdout
    if ci:
        return
    # And the marker selects it: -m "not needs_dot" leaves it out.
    deselected = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q"),
            *(
                "-m",
                "not needs_dot",
                str(ROOT / "tests" / "test_robust_viz.py") + "::test_tabs_in_labels_are_shown",
            ),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert "1 deselected" in deselected.stdout, deselected.stdout
