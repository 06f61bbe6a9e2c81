"""The README's tour runs as written, and says what the code does."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_tour_runs_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the tour writes files
    namespace: dict[str, object] = {}
    blocks = python_blocks()
    assert len(blocks) == 3
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)
    # The ledger the README shows as the output of its print(viz.explain(...)).
    shown = re.search(r"print\(viz\.explain.*?\n((?:# .*\n)+)", blocks[2])
    assert shown is not None
    expected = [line[2:].strip() for line in shown.group(1).splitlines()]
    assert [line.strip() for line in printed.getvalue().splitlines()] == expected
    # Spot checks of the numbers the comments state.
    assert round(namespace["x"].grad, 4) == 6.0591  # type: ignore[attr-defined]
    history = namespace["history"]
    assert history.converged and history.epochs == 310  # type: ignore[attr-defined]
    for name in ("graph.svg", "paths.png", "network.png", "iris-mlp.json"):
        assert (tmp_path / name).stat().st_size > 0


def test_the_commands_the_readme_names_exist() -> None:
    text = README.read_text(encoding="utf-8")
    for path in (
        "run",
        ".ci/run",
        "benchmarks/run.py",
        "docs/seed-example.png",
        "docs/network.png",
    ):
        assert path in text
        assert (README.parent / path).exists(), path
