"""The README's tour runs as written, and says what the code does."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from markdown_tables import table_after

from chainrule.cli import LR_PER_ROW, LR_PER_ROW_NUMBERS, default_lr

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_tour_runs_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dot: str) -> None:
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
    saved = namespace["saved"]
    assert saved.model.sizes == (4, 3, 2, 1)  # type: ignore[attr-defined]
    assert [round(p, 4) for p in saved.predict(namespace["data"].X[:2])] == [0.9968, 0.9968]  # type: ignore[attr-defined]
    for name in ("graph.svg", "paths.png", "network.png", "iris-mlp.json"):
        assert (tmp_path / name).stat().st_size > 0


def test_the_commands_the_readme_names_exist() -> None:
    text = README.read_text(encoding="utf-8")
    for path in (
        "run",
        ".ci/run",
        "benchmarks/run.py",
        "docs/chain-rule-example.png",
        "docs/network.png",
        "docs/notebooks",
    ):
        assert path in text
        assert (README.parent / path).exists(), path


RESULTS = README.parent / "benchmarks" / "RESULTS.md"
# The README's benchmark columns, by the contender names of benchmarks/RESULTS.md.
README_COLUMNS = {
    "chainrule": "chainrule",
    "compiled": "chainrule-compiled",
    "bare-python": "bare-python",
    "bare-native": "bare-native",
    "micrograd": "micrograd",
    "torch (scalars)": "torch",
    "float floor": "floor",
}


def readme_row(label: str) -> dict[str, list[str]]:
    """One row of the README's benchmark table: contender -> the numbers in its cell."""
    table = table_after(README.read_text(encoding="utf-8"), "### The engine")
    columns = [README_COLUMNS[name] for name in table["workload"]]
    return {
        name: re.findall(r"[\d,.]+\d", cell)
        for name, cell in zip(columns, table[label], strict=True)
        if cell
    }


def test_the_readme_benchmark_table_is_the_one_in_results() -> None:
    results = RESULTS.read_text(encoding="utf-8")
    dag = readme_row("random DAG, build + backward, ns/node, 10k / 100k / 1M nodes")
    for i, nodes in enumerate(("10,000", "100,000", "1,000,000")):
        measured = table_after(results, f"### Random DAG, {nodes} nodes, forward build")
        for name, numbers in dag.items():
            assert numbers[i] == measured[name][0], (name, nodes)
    memory = table_after(results, "### Memory per live node")
    for name, numbers in readme_row("bytes per live node").items():
        assert numbers[0] == memory[name][0], name


def test_the_readme_training_table_is_the_one_in_results() -> None:
    measured = table_after(RESULTS.read_text(encoding="utf-8"), "### MLP training")
    copied = table_after(README.read_text(encoding="utf-8"), "### MLP training")
    assert copied, "no table under the README's '### MLP training' heading"
    for label, cells in copied.items():
        # Every number of every cell, in order; the README may leave out trailing columns.
        for cell, original in zip(cells, measured[label], strict=False):
            assert re.findall(r"[\d,.]+\d", cell) == re.findall(r"[\d,.]+\d", original), label


def test_the_default_learning_rate_is_described_as_the_code_picks_it() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    per_row = f"{LR_PER_ROW:g} / rows for classes (0.001 for Iris's 150)"
    assert per_row in text and default_lr(150) == 0.001
    assert f"{LR_PER_ROW_NUMBERS:g} / rows for numbers" in text
    # The long run's advice at the default, a tenth of the step, as train words it.
    tenth = f"--lr {default_lr(150) / 10:g}"
    assert f"advises `{tenth}`, at which all three seeds converged" in text
