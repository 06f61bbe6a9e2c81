"""nn.notation: every name the library writes parses back to what it names."""

from __future__ import annotations

import itertools

import pytest

import nn
import viz
from autograd import Value, topological_order
from nn import notation
from viz._labels import html_symbol, latex_symbol, node_names

INDICES = (1, 2, 9, 10, 12, 31)


def test_every_written_name_parses_back_to_its_kind_layer_and_indices() -> None:
    for k, i, j in itertools.product((1, 2, 12), INDICES, INDICES):
        for written, kind, indices in (
            (notation.weight_label(k, i, j), "weight", (i, j)),
            (notation.bias_label(k, j), "bias", (j,)),
            (notation.output_label(k, j), "output", (j,)),
            (notation.pre_activation_label(k, j), "pre_activation", (j,)),
        ):
            parsed = notation.parse_label(written)
            assert parsed is not None, written
            assert (parsed.kind, parsed.layer, parsed.indices) == (kind, k, indices), written
            assert parsed.copy is None
    for n in INDICES:
        for written, kind in (
            (notation.input_label(n), "input"),
            (notation.target_label(n), "target"),
            (notation.node_label(n), "node"),
        ):
            parsed = notation.parse_label(written)
            assert parsed is not None
            assert (parsed.kind, parsed.layer, parsed.indices) == (kind, None, (n,)), written
    for written, kind in ((notation.target_label(), "target"), (notation.loss_label(), "loss")):
        parsed = notation.parse_label(written)
        assert parsed is not None and (parsed.kind, parsed.indices) == (kind, ())


def test_a_copy_marker_keeps_the_kind_and_is_written_back() -> None:
    name = notation.with_copy(notation.output_label(3, 1), 12)
    parsed = notation.parse_label(name)
    assert parsed is not None
    assert (parsed.kind, parsed.layer, parsed.indices, parsed.copy) == ("output", 3, (1,), 12)
    assert parsed.copy_mark == "[12]"
    assert notation.pre_activation_of(name) == "z_31[12]"


def test_names_outside_the_notation_are_other_or_not_symbols() -> None:
    for name in ("h", "F", "w", "O_1", "O_123", "w^1_111", "w^a_11", "x", "b^1_1,2", "w^1_11 "):
        parsed = notation.parse_label(name)
        assert parsed is not None and parsed.kind == "other", name
    for name in ("a<b", "loss 1%", "", "1x", "L_"):
        assert notation.parse_label(name) is None, name
    with pytest.raises(ValueError, match="lecture notes' notation"):
        nn.parse_weight_label("w^1_11[2]")  # a copy names a node, not a weight


def test_the_printed_parts_are_what_pictures_and_formulas_show() -> None:
    for name, parts, html in (
        ("w^1_{10,3}", ("w", "1", "10,3"), "w<SUP>1</SUP><SUB>10,3</SUB>"),
        ("b^1_{12}", ("b", "1", "12"), "b<SUP>1</SUP><SUB>12</SUB>"),
        ("O_31[2]", ("O", "", "31"), "O<SUB>31</SUB>[2]"),
    ):
        parsed = notation.parse_label(name)
        assert parsed is not None and (parsed.base, parsed.sup, parsed.sub) == parts
        assert html_symbol(name) == html
    assert latex_symbol("b^1_{12}") == "b^{1}_{12}"


def test_a_network_and_its_loss_are_named_by_the_notation() -> None:
    model = nn.MLP(2, [2, 1], bias=True, seed=0)
    loss = nn.total_loss(model, [[1.0, 2.0], [3.0, 4.0]], [1.0, -1.0])
    kinds: dict[str, set[str]] = {}
    for node, name in node_names(topological_order(loss)).items():
        if not (node.label or node.parents or node.requires_grad):
            continue  # an unnamed constant, named by its number
        parsed = notation.parse_label(name)
        assert parsed is not None, name
        kinds.setdefault(parsed.kind, set()).add(name)
    assert kinds["input"] == {"x_1[1]", "x_1[2]", "x_2[1]", "x_2[2]"}
    assert kinds["target"] == {"y_1", "y_2"}
    assert kinds["loss"] == {"L"}
    neurons = ((1, 1), (1, 2), (2, 1))
    assert kinds["output"] == {f"O_{k}{j}[{n}]" for k, j in neurons for n in (1, 2)}
    assert len(kinds["weight"]) == 6 and len(kinds["bias"]) == 3
    assert kinds["node"] >= {"v_1", "v_2"}


def test_the_network_picture_finds_its_inputs_by_their_names() -> None:
    model = nn.MLP(3, [1], seed=0)
    model([Value(0.25, label=notation.input_label(i), requires_grad=False) for i in (1, 2, 3)])
    source = viz.draw_network(model).source
    assert source.count("0.25") == 3


def test_a_file_stem_keeps_a_weight_apart_from_its_neighbours() -> None:
    stems = {
        notation.file_stem(notation.weight_label(k, i, j))
        for k, i, j in itertools.product((1, 2), INDICES, INDICES)
    }
    assert len(stems) == 2 * len(INDICES) ** 2
    assert all(stem.replace("_", "").isalnum() for stem in stems)
