"""nn.MLP / Layer / Neuron: the notes' architecture, its notation and its forward pass."""

from __future__ import annotations

import itertools
import math
import random

import pytest

import nn
from autograd import Value, topological_order


def test_the_notes_network_has_20_weights_and_26_parameters_with_biases() -> None:
    assert len(nn.MLP(4, [3, 2, 1]).parameters()) == 20
    assert len(nn.MLP(4, [3, 2, 1], bias=True).parameters()) == 26
    assert nn.MLP(4, [3, 2, 1]).sizes == (4, 3, 2, 1)


def test_parameters_come_layer_by_layer_neuron_by_neuron_weights_then_bias() -> None:
    model = nn.MLP(2, [2, 1], bias=True)
    assert [label for label, _ in model.named_parameters()] == [
        "w^1_11", "w^1_21", "b^1_1",
        "w^1_12", "w^1_22", "b^1_2",
        "w^2_11", "w^2_21", "b^2_1",
    ]  # fmt: skip
    assert [p for _, p in model.named_parameters()] == model.parameters()


def test_every_label_of_the_notes_network() -> None:
    model = nn.MLP(4, [3, 2, 1])
    expected = (
        [f"w^1_{i}{j}" for j in (1, 2, 3) for i in (1, 2, 3, 4)]
        + [f"w^2_{i}{j}" for j in (1, 2) for i in (1, 2, 3)]
        + ["w^3_11", "w^3_21"]
    )
    assert [p.label for p in model.parameters()] == expected
    assert len(set(expected)) == 20


def test_weight_k_i_j_is_the_weight_from_neuron_i_below_to_neuron_j() -> None:
    model = nn.MLP(4, [3, 2, 1], seed=5)
    for k, layer in enumerate(model.layers, start=1):
        for j, neuron in enumerate(layer.neurons, start=1):
            for i, w in enumerate(neuron.weights, start=1):
                assert model.weight(k, i, j) is w
                assert w.label == f"w^{k}_{i}{j}"
    # and the forward pass really uses it that way: w^2_31 carries O_13 into O_21
    x = [0.3, -0.2, 0.5, 0.1]
    model(x)
    o1 = [_output(n) for n in model.layers[0].neurons]
    z21 = sum(model.weight(2, i, 1).data * o1[i - 1] for i in (1, 2, 3))
    assert _output(model.layers[1].neurons[0]) == pytest.approx(math.tanh(z21))


def _output(neuron: nn.Neuron) -> float:
    assert neuron.output is not None
    return neuron.output.data


def test_indices_of_ten_or_more_are_braced() -> None:
    model = nn.MLP(12, [3, 1], bias=True)
    assert model.weight(1, 10, 3).label == "w^1_{10,3}"
    assert model.weight(1, 9, 3).label == "w^1_93"
    assert nn.MLP(2, [12], bias=True).bias(1, 12).label == "b^1_{12}"


def test_weight_and_bias_out_of_range_name_the_valid_range() -> None:
    model = nn.MLP(4, [3, 2, 1])
    with pytest.raises(ValueError, match=r"layer k must be in 1\.\.3, got 4"):
        model.weight(4, 1, 1)
    with pytest.raises(ValueError, match=r"1\.\.4, got 5"):
        model.weight(1, 5, 1)
    with pytest.raises(ValueError, match=r"1\.\.2, got 0"):
        model.weight(2, 1, 0)
    with pytest.raises(TypeError):
        model.weight(1, 1.0, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no biases"):
        model.bias(1, 1)
    with pytest.raises(ValueError, match=r"1\.\.3, got 4"):
        nn.MLP(4, [3, 2, 1], bias=True).bias(1, 4)


def test_a_forward_pass_labels_inputs_and_outputs_in_the_notes_notation() -> None:
    model = nn.MLP(4, [3, 2, 1])
    out = model([5.1, 3.5, 1.4, 0.2])
    assert isinstance(out, Value)
    assert out.label == "O_31"
    assert out is model.layers[2].neurons[0].output
    assert [n.output.label for n in model.layers[0].neurons] == ["O_11", "O_12", "O_13"]  # type: ignore[union-attr]
    leaves = {v.label: v for v in topological_order(out) if not v.parents}
    assert set(leaves) == {"x_1", "x_2", "x_3", "x_4"} | {p.label for p in model.parameters()}
    assert all(not leaves[f"x_{i}"].requires_grad for i in (1, 2, 3, 4))
    assert leaves["x_3"].data == 1.4


def test_the_forward_pass_is_the_notes_formula() -> None:
    model = nn.MLP(4, [3, 2, 1], bias=True, seed=3)
    for p in model.parameters():
        if p.label.startswith("b"):
            p.data = random.Random(p.label).uniform(-1, 1)
    x = [0.5, -1.0, 2.0, 0.25]
    below = x
    for k, n_k in ((1, 3), (2, 2), (3, 1)):
        below = [
            math.tanh(
                sum(model.weight(k, i, j).data * below[i - 1] for i in range(1, len(below) + 1))
                + model.bias(k, j).data
            )
            for j in range(1, n_k + 1)
        ]
    out = model(x)
    assert isinstance(out, Value)
    assert out.data == pytest.approx(below[0], rel=1e-12)


def test_values_as_inputs_are_used_as_they_are() -> None:
    model = nn.MLP(2, [1], init="uniform")
    x = [Value(0.5, label="a"), Value(-0.5, label="b")]
    out = model(x)
    assert isinstance(out, Value)
    out.backward()
    assert x[0].grad == pytest.approx((1 - out.data**2) * model.weight(1, 1, 1).data)


@pytest.mark.parametrize(
    ("activation", "f"),
    [
        ("tanh", math.tanh),
        ("relu", lambda z: max(z, 0.0)),
        ("sigmoid", lambda z: 1 / (1 + math.exp(-z))),
        ("linear", lambda z: z),
    ],
)
def test_activations(activation: str, f: object) -> None:
    model = nn.MLP(2, [2], activation="tanh", output_activation=activation, init="normal", seed=2)
    out = model([1.5, -0.7])
    assert isinstance(out, list)
    for j, o in enumerate(out, start=1):
        z = 1.5 * model.weight(1, 1, j).data - 0.7 * model.weight(1, 2, j).data
        assert o.data == pytest.approx(f(z))  # type: ignore[operator]
        assert o.label == f"O_1{j}"


def test_hidden_activation_applies_to_hidden_layers_only() -> None:
    model = nn.MLP(1, [1, 1], activation="relu", output_activation="linear", init="normal")
    model.weight(1, 1, 1).data = -1.0
    model.weight(2, 1, 1).data = 3.0
    assert model([2.0]).data == 0.0  # type: ignore[union-attr]  # relu(-2) * 3
    model.weight(1, 1, 1).data = 1.0
    assert model([2.0]).data == 6.0  # type: ignore[union-attr]


def test_a_layer_always_returns_a_list_and_a_one_neuron_hidden_layer_works() -> None:
    layer = nn.Layer(2, 1, k=1, rng=random.Random(0))
    assert isinstance(layer([Value(1.0), Value(2.0)]), list)
    model = nn.MLP(3, [1, 2])
    out = model([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 2
    assert len(model.parameters()) == 3 + 2


def test_zero_grad_resets_every_parameter() -> None:
    model = nn.MLP(4, [3, 2, 1], bias=True)
    out = model([1.0, 2.0, 3.0, 4.0])
    assert isinstance(out, Value)
    out.backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_bad_arguments_get_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown activation 'softmax'"):
        nn.MLP(4, [3], activation="softmax")
    with pytest.raises(ValueError, match="unknown output_activation"):
        nn.MLP(4, [3], output_activation="step")
    with pytest.raises(ValueError, match="unknown init 'nope'"):
        nn.MLP(4, [3], init="nope")
    with pytest.raises(TypeError, match="nouts"):
        nn.MLP(4, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one layer"):
        nn.MLP(4, [])
    with pytest.raises(ValueError, match="every layer size in nouts must be an int >= 1, got 0"):
        nn.MLP(4, [3, 0])
    with pytest.raises(TypeError, match="nin"):
        nn.MLP(4.0, [3])  # type: ignore[arg-type]
    model = nn.MLP(4, [3, 2, 1])
    with pytest.raises(ValueError, match="takes 4 inputs, got 3"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="x_2"):
        model([1.0, "2", 3.0, 4.0])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="input x_3 must be finite"):
        model([1.0, 2.0, float("nan"), 4.0])
    with pytest.raises(TypeError, match="sequence"):
        model(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"weight from initialiser .* got str"):
        nn.MLP(2, [1], init=lambda fi, fo, rng: "0.1")  # type: ignore[arg-type,return-value]


def test_a_weight_label_parses_back_to_its_indices() -> None:
    for k, i, j in itertools.product((1, 2, 12), (1, 9, 10, 31), (1, 3, 10)):
        assert nn.parse_weight_label(nn.weight_label(k, i, j)) == (k, i, j)
    for bad in ("w^1_1", "w1_11", "w^1_{1,}", "b^1_1", "w^1_111"):
        with pytest.raises(ValueError, match="lecture notes' notation"):
            nn.parse_weight_label(bad)
