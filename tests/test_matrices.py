"""The lecture notes' matrix view of an MLP: ``weight_matrices`` and ``forward_matrices``."""

from __future__ import annotations

import numpy as np
import pytest
from random_models import CASES, random_case, scalar_outputs

import nn


def test_the_notes_network_has_matrices_4x3_3x2_2x1_and_no_biases() -> None:
    layers = nn.MLP(4, [3, 2, 1], seed=0).weight_matrices()
    assert [layer.W.shape for layer in layers] == [(4, 3), (3, 2), (2, 1)]
    assert [layer.b for layer in layers] == [None, None, None]
    assert [layer.activation for layer in layers] == ["tanh", "tanh", "tanh"]


@pytest.mark.parametrize("gradients", [False, True])
def test_entry_i_j_of_the_kth_matrix_is_the_parameter_labelled_w_k_ij(gradients: bool) -> None:
    model = nn.MLP(3, [4, 2], bias=True, seed=3)
    nn.total_loss(model, [[0.5, -1.0, 2.0]], [[0.3, -0.2]]).backward()
    layers = model.weight_matrices(gradients=gradients)
    seen = 0
    for label, p in model.named_parameters():
        expected = p.grad if gradients else p.data
        if label.startswith("w"):
            k, i, j = nn.parse_weight_label(label)
            assert layers[k - 1].W[i - 1, j - 1] == expected, label
        else:  # b^k_j
            k, j = int(label[2]), int(label[-1])
            bias = layers[k - 1].b
            assert bias is not None and bias[j - 1] == expected, label
        seen += 1
    entries = sum(layer.W.size + (0 if layer.b is None else layer.b.size) for layer in layers)
    assert seen == entries == len(model.parameters())
    assert any(entry != 0.0 for layer in layers for entry in layer.W.flat)


def test_the_matrices_are_copies() -> None:
    model = nn.MLP(2, [2], bias=True, seed=1)
    layer = model.weight_matrices()[0]
    layer.W[0, 0] = 99.0
    assert layer.b is not None
    layer.b[0] = 99.0
    assert model.weight(1, 1, 1).data != 99.0 and model.bias(1, 1).data != 99.0


def test_each_layer_reports_its_own_activation() -> None:
    model = nn.MLP(2, [3, 3, 1], activation="relu", output_activation="sigmoid")
    assert [layer.activation for layer in model.weight_matrices()] == ["relu", "relu", "sigmoid"]


@pytest.mark.parametrize("seed", range(2 * len(CASES)))
def test_the_matrix_forward_pass_gives_the_scalar_graphs_outputs(seed: int) -> None:
    case = random_case(seed)
    expected = scalar_outputs(case.model, case.X)
    np.testing.assert_allclose(
        case.model.forward_matrices(case.X), expected, rtol=1e-12, atol=1e-12
    )


# The notes' formula written out with numpy's own functions, apart from the op table.
NUMPY_ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "linear": lambda z: z,
}


@pytest.mark.parametrize("seed", range(len(CASES)))
def test_the_matrix_forward_pass_is_the_notes_formula_layer_by_layer(seed: int) -> None:
    case = random_case(seed)
    outputs = np.array(case.X)
    for W, b, activation in case.model.weight_matrices():
        outputs = NUMPY_ACTIVATIONS[activation](outputs @ W + (0.0 if b is None else b))
    np.testing.assert_allclose(case.model.forward_matrices(case.X), outputs, rtol=1e-12, atol=1e-12)


def test_one_row_in_gives_one_row_out() -> None:
    model = nn.MLP(4, [3, 2], seed=0)
    x = [5.1, 3.5, 1.4, 0.2]
    out = model.forward_matrices(x)
    assert out.shape == (2,)
    np.testing.assert_allclose(out, [v.data for v in model(x)], rtol=1e-12, atol=1e-12)


def test_bad_input_is_named() -> None:
    model = nn.MLP(3, [2, 1], seed=0)
    with pytest.raises(ValueError, match=r"X must have 3 columns, one per input, got shape \(2, 2"):
        model.forward_matrices([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match=r"input x_3 of sample 1\) must be finite, got nan"):
        model.forward_matrices([[1.0, 2.0, 3.0], [1.0, 2.0, float("nan")]])
    with pytest.raises(ValueError, match="X must be rows of 3 numbers"):
        model.forward_matrices([[1.0, 2.0, 3.0], [1.0]])
    with pytest.raises(ValueError, match="X must be rows of 3 numbers"):
        model.forward_matrices([["a", "b", "c"]])


def test_an_overflow_names_the_neuron_and_the_sample_as_the_scalar_graph_refuses_it() -> None:
    model = nn.MLP(1, [2, 1], output_activation="linear", seed=0)
    model.weight(1, 1, 2).data = 1e300
    with pytest.raises(OverflowError):
        model([1e10])
    with pytest.raises(OverflowError, match="input of neuron O_12 overflows a float for sample 1"):
        model.forward_matrices([[1.0], [1e10]])


def test_the_random_cases_cover_what_the_tests_claim() -> None:
    cases = [random_case(seed) for seed in range(2 * len(CASES))]
    combinations = {
        (c.model.activation, c.model.output_activation, c.model.has_bias)
        for c in cases
        if len(c.model.layers) > 1
    }
    assert len(combinations) == len(CASES) == 2 * len(nn.activation_names()) ** 2
    assert {len(c.model.layers) for c in cases} == {1, 2, 3}
    assert {c.model.sizes[-1] > 1 for c in cases} == {False, True}
    assert {len(c.X) > 1 for c in cases} == {False, True}
