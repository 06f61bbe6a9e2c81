"""The same network in chainrule and in PyTorch: outputs, dL/dw^k_ij and training agree.

PyTorch is the independent oracle here: for seeded random MLPs (every activation pair,
with and without biases) its outputs, its ``.grad`` after ``loss.backward()`` and a few
steps of gradient descent must equal chainrule's to 1e-12.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from oracles import require_torch
from random_models import CASES, random_case, scalar_outputs

import nn
from chainrule.cli import main

torch = require_torch("the tests of nn.to_torch and nn.from_torch")

TOL = {"rtol": 1e-12, "atol": 1e-12}


def torch_by_label(module: Any, field: str = "data") -> dict[str, float]:
    """Each PyTorch parameter entry by its name in the notes, read straight off the module.

    The layout stated independently of chainrule's code: the k-th Linear's
    ``weight[j - 1, i - 1]`` is ``w^k_ij`` and its ``bias[j - 1]`` is ``b^k_j``.
    """
    found = {}
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    for k, linear in enumerate(linears, start=1):
        weight = getattr(linear.weight, field)
        for j in range(linear.out_features):
            for i in range(linear.in_features):
                found[nn.weight_label(k, i + 1, j + 1)] = weight[j, i].item()
            if linear.bias is not None:
                found[nn.bias_label(k, j + 1)] = getattr(linear.bias, field)[j].item()
    return found


def chainrule_by_label(model: nn.MLP, field: str = "data") -> dict[str, float]:
    return {label: getattr(p, field) for label, p in model.named_parameters()}


def assert_same(actual: dict[str, float], expected: dict[str, float]) -> None:
    assert actual.keys() == expected.keys()
    labels = sorted(expected)
    np.testing.assert_allclose(
        [actual[label] for label in labels], [expected[label] for label in labels], **TOL
    )


def torch_loss(module: Any, X: Any, Y: Any, l2: float) -> Any:
    """nn.total_loss in PyTorch: sum of squared errors + l2 * (sum of squared parameters)."""
    loss = ((module(X) - Y) ** 2).sum()
    if l2:
        loss = loss + l2 * sum((p**2).sum() for p in module.parameters())
    return loss


def tensor(rows: Any) -> Any:
    return torch.tensor(rows, dtype=torch.float64)


def l2_of(seed: int) -> float:
    """No regulariser for the first round of cases, some for the second."""
    return 0.0 if seed < len(CASES) else 0.05


@pytest.mark.parametrize("seed", range(2 * len(CASES)))
def test_outputs_and_gradients_equal_pytorchs(seed: int) -> None:
    case, l2 = random_case(seed), l2_of(seed)
    module = nn.to_torch(case.model)
    assert all(p.dtype == torch.float64 for p in module.parameters())
    assert_same(torch_by_label(module), chainrule_by_label(case.model))

    outputs = module(tensor(case.X))
    np.testing.assert_allclose(outputs.detach().numpy(), scalar_outputs(case.model, case.X), **TOL)

    loss = nn.total_loss(case.model, case.X, case.Y, l2=l2)
    loss.backward()
    t_loss = torch_loss(module, tensor(case.X), tensor(case.Y), l2)
    t_loss.backward()
    np.testing.assert_allclose(loss.data, t_loss.item(), **TOL)
    assert_same(chainrule_by_label(case.model, "grad"), torch_by_label(module, "grad"))


def test_nearly_every_case_has_gradients_to_compare() -> None:
    # A relu network can be dead on its few samples (every gradient 0, trivially equal);
    # the comparison above proves something only if that is rare.
    alive = 0
    for seed in range(2 * len(CASES)):
        case = random_case(seed)
        nn.total_loss(case.model, case.X, case.Y).backward()
        alive += any(abs(p.grad) > 1e-6 for p in case.model.parameters())
    assert alive >= 0.9 * 2 * len(CASES)


def test_the_gradient_matrices_are_pytorchs_grad_transposed() -> None:
    case = random_case(7)
    module = nn.to_torch(case.model)
    nn.total_loss(case.model, case.X, case.Y).backward()
    torch_loss(module, tensor(case.X), tensor(case.Y), 0.0).backward()
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    for layer, linear in zip(case.model.weight_matrices(gradients=True), linears, strict=True):
        np.testing.assert_allclose(layer.W, linear.weight.grad.numpy().T, **TOL)


@pytest.mark.parametrize("seed", range(len(CASES)))
def test_chainrule_to_pytorch_and_back_gives_the_same_network(seed: int) -> None:
    model = random_case(seed).model
    back = nn.from_torch(nn.to_torch(model))
    assert chainrule_by_label(back) == chainrule_by_label(model)
    assert back.sizes == model.sizes and back.has_bias == model.has_bias
    activations = [layer.activation for layer in model.weight_matrices()]
    assert [layer.activation for layer in back.weight_matrices()] == activations


@pytest.mark.parametrize("engine", ["compiled", "interpreted"])
@pytest.mark.parametrize("seed", range(0, 2 * len(CASES), 5))
def test_gradient_descent_ends_on_the_same_weights(seed: int, engine: str) -> None:
    case, l2, lr, steps = random_case(seed), l2_of(seed), 0.02, 6
    module = nn.to_torch(case.model)  # before chainrule trains: both start from the same weights
    start = chainrule_by_label(case.model)

    history = nn.train(
        case.model, case.X, case.Y, lr=lr, l2=l2, tol=0.0, max_epochs=steps,
        progress=False, engine=engine,
    )  # fmt: skip
    X, Y = tensor(case.X), tensor(case.Y)
    for _ in range(steps):
        module.zero_grad()
        torch_loss(module, X, Y, l2).backward()
        with torch.no_grad():
            for p in module.parameters():
                p -= lr * p.grad

    assert history.epochs == steps and history.engine == engine
    assert_same(chainrule_by_label(case.model), torch_by_label(module))
    moved = max(abs(w - start[label]) for label, w in chainrule_by_label(case.model).items())
    assert moved > 1e-4


def _float32_module(rng: np.random.Generator) -> Any:
    module = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2), torch.nn.Sigmoid()
    )
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-1.0, 1.0, tuple(p.shape))))
    return module


def test_a_float32_module_converts_exactly_and_then_computes_in_float64() -> None:
    module = _float32_module(np.random.default_rng(0))
    model = nn.from_torch(module)
    assert model.sizes == (3, 4, 2) and model.has_bias
    assert (model.activation, model.output_activation) == ("relu", "sigmoid")
    assert_same(chainrule_by_label(model), torch_by_label(module))
    X = np.random.default_rng(1).normal(size=(5, 3))
    expected64 = module.double()(tensor(X)).detach().numpy()
    np.testing.assert_allclose(model.forward_matrices(X), expected64, **TOL)
    np.testing.assert_allclose(scalar_outputs(model, X.tolist()), expected64, **TOL)


def test_identity_and_a_bare_linear_are_linear_layers() -> None:
    module = torch.nn.Sequential(
        torch.nn.Linear(2, 3, bias=False), torch.nn.Identity(), torch.nn.Linear(3, 1, bias=False)
    )
    model = nn.from_torch(module)
    assert (model.activation, model.output_activation, model.has_bias) == (
        "linear", "linear", False
    )  # fmt: skip
    x = [0.5, -2.0]
    np.testing.assert_allclose(model(x).data, module(torch.tensor(x)).item(), rtol=1e-6)


@pytest.mark.parametrize(
    ("modules", "message"),
    [
        (lambda: [torch.nn.Linear(2, 3), torch.nn.LeakyReLU()],
         r"module \(1\), LeakyReLU \(in layer 1\): chainrule's MLP has Linear layers and"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Softmax(dim=-1)],
         r"module \(1\), Softmax \(in layer 1\): .* cannot represent this module"),
        (lambda: [torch.nn.Tanh(), torch.nn.Linear(2, 3)],
         r"module \(0\), Tanh comes before the first Linear"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.ReLU()],
         r"module \(2\), ReLU \(in layer 1\) comes after another activation"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(4, 1)],
         r"layer 2 \(module \(2\), Linear\) takes 4 inputs, but layer 1 gives 3 outputs"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1, bias=False)],
         r"layer 2 \(module \(2\), Linear\) has no bias but layer 1 \(module \(0\)\) has one"),
        (lambda: [torch.nn.Linear(2, 3, bias=False), torch.nn.Linear(3, 1)],
         r"layer 2 \(module \(1\), Linear\) has a bias but layer 1 \(module \(0\)\) has none"),
        (lambda: [torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 3),
                  torch.nn.ReLU(), torch.nn.Linear(3, 1)],
         r"layer 2 \(module \(2\), Linear\) uses relu but layer 1 uses tanh"),
        (lambda: [torch.nn.Linear(2, 1, dtype=torch.complex64)],
         r"the weight of layer 1 \(module \(0\)\) has dtype torch\.complex64"),
        (lambda: [], "the Sequential has no Linear layer"),
    ],
)  # fmt: skip
def test_what_an_mlp_cannot_be_is_refused_by_name(modules: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        nn.from_torch(torch.nn.Sequential(*modules()))


def test_a_non_finite_weight_is_named_in_the_notes_notation() -> None:
    module = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    with torch.no_grad():
        module[2].weight[0, 1] = float("nan")  # w^2_21
    with pytest.raises(ValueError, match=r"w\^2_21 is nan in the PyTorch module"):
        nn.from_torch(module)


def test_only_a_sequential_is_taken() -> None:
    with pytest.raises(TypeError, match=r"from_torch takes a torch\.nn\.Sequential .* got Linear"):
        nn.from_torch(torch.nn.Linear(2, 1))


def test_to_torch_leaves_torchs_random_state_alone() -> None:
    state = torch.random.get_rng_state()
    nn.to_torch(nn.MLP(4, [3, 2, 1], bias=True))
    assert torch.equal(torch.random.get_rng_state(), state)


def test_chainrule_export_writes_a_module_pytorch_loads(tmp_path: Path) -> None:
    case = random_case(21)
    params, out = tmp_path / "parameters.json", tmp_path / "model.pt"
    nn.save_parameters(case.model, params)
    assert main(["export", str(params), "--to", "torch", str(out)]) == 0
    module = torch.load(out, weights_only=False)
    assert_same(torch_by_label(module), chainrule_by_label(case.model))
    np.testing.assert_allclose(
        module(tensor(case.X)).detach().numpy(), scalar_outputs(case.model, case.X), **TOL
    )
