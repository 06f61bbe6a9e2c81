"""viz on the seed's network: neuron-level paths, draw_network, the demo's graphs and CLI."""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import nn
import viz
from chainrule import graphs

DATA = nn.iris_binary("setosa")


def model_and_loss(samples: int, l2: float = 0.0) -> tuple[nn.MLP, object]:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = nn.total_loss(model, DATA.X[:samples], DATA.y[:samples], l2=l2)
    return model, loss


@pytest.mark.parametrize("samples", [1, 3])
def test_neuron_level_path_counts_per_sample(samples: int) -> None:
    model, loss = model_and_loss(samples)
    expected = {(1, 1, 1): 2, (2, 1, 1): 1, (3, 1, 1): 1}
    for kij, per_sample in expected.items():
        rule = viz.explain(loss, model.weight(*kij), level="neuron")  # type: ignore[arg-type]
        assert len(rule.paths) == per_sample * samples
        assert rule.agrees
        ends = {rule.describe_path(p).split(" -> ")[1].split("[")[0] for p in rule.paths}
        assert ends == {"O_31"}


def test_regularisation_adds_one_direct_path() -> None:
    model, loss = model_and_loss(1, l2=0.1)
    rule = viz.explain(loss, model.weight(1, 1, 1), level="neuron")  # type: ignore[arg-type]
    assert len(rule.paths) == 3
    assert sum(len(p.steps) == 1 for p in rule.paths) == 1  # L -> w^1_11 through Reg
    assert rule.agrees


def test_seed_ledgers_for_the_demo() -> None:
    model, loss = model_and_loss(1)
    text = graphs.demo_ledgers(model, loss)  # type: ignore[arg-type]
    heads = [block.splitlines()[0] for block in text.split("\n\n")]
    assert heads == [
        "dL/dw^3_11 = dL/dO_31 * dO_31/dw^3_11",
        "dL/dw^2_11 = dL/dO_31 * dO_31/dO_21 * dO_21/dw^2_11",
        "dL/dw^1_11 = dL/dO_31 * (dO_31/dO_21 * dO_21/dO_11 + dO_31/dO_22 * dO_22/dO_11)"
        " * dO_11/dw^1_11",
    ]
    assert text.count("from backward(): agrees") == 3


def test_draw_network_edges_and_labels() -> None:
    model, loss = model_and_loss(1)
    loss.backward()  # type: ignore[attr-defined]
    source = viz.draw_network(model).source
    w = model.weight(2, 3, 1)
    line = next(line for line in source.splitlines() if line.strip().startswith("o1_3 -> o2_1"))
    assert "w<SUP>2</SUP><SUB>31</SUB>" in line
    assert f"&#8711;{viz._labels.number(w.grad, 3)}" in line
    colour = "#2563eb" if w.data > 0 else "#ea580c"
    assert f'color="{colour}"' in line
    real = [ln for ln in source.splitlines() if "->" in ln and "invis" not in ln]
    assert len(real) == 20
    with pytest.raises(TypeError, match=r"nn\.MLP"):
        viz.draw_network("model")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="show"):
        viz.draw_network(model, show="all")  # type: ignore[arg-type]


def test_demo_graphs_render(tmp_path: Path) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = graphs.demo_sample_loss(model, 0)
    written = graphs.write_demo_graphs(model, loss, tmp_path)
    assert sorted(p.name for p in written) == sorted(
        f"{stem}.{ext}"
        for stem in ("graph_loss", "network", "paths_w1_11")
        for ext in ("svg", "png")
    )
    for path in written:
        data = path.read_bytes()
        if path.suffix == ".png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
        else:
            ET.fromstring(data)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chainrule")
    graphs.add_graph_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_explain_command(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(["explain", "w^2_11"])
    assert args.weight == (2, 1, 1)
    assert args.run(args) == 0
    assert capsys.readouterr().out.startswith("dL/dw^2_11 = dL/dO_31 * dO_31/dO_21")
    assert parse(["explain", "w^1_{10,3}"]).weight == (1, 10, 3)
    with pytest.raises(SystemExit):
        parse(["explain", "w11"])


def test_draw_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(["draw", "w^3_21", "--out", str(tmp_path)])
    assert args.run(args) == 0
    assert (tmp_path / "paths_w3_21.png").exists() and (tmp_path / "network.svg").exists()
