"""The same network in PyTorch: :func:`to_torch` and :func:`from_torch`.

A chainrule ``MLP`` and a ``torch.nn.Sequential`` of ``Linear`` layers, each followed by
its activation, are two ways of writing one network. PyTorch's ``Linear`` keeps the
transpose of the lecture notes' matrix: one row per neuron ``j`` of layer ``k``, so
``linear.weight[j - 1, i - 1]`` is ``w^k_ij``, ``linear.weight.T`` is
``model.weight_matrices()[k - 1].W``, and after ``loss.backward()`` ``linear.weight.grad.T``
holds ``dL/dw^k_ij``. A ``"linear"`` layer has no activation module after its ``Linear``.

PyTorch is optional: it is imported only inside these functions, which say how to install
it when it is missing.

>>> import torch
>>> model = MLP(4, [3, 2, 1], seed=0)
>>> module = to_torch(model)
>>> module
Sequential(
  (0): Linear(in_features=4, out_features=3, bias=False)
  (1): Tanh()
  (2): Linear(in_features=3, out_features=2, bias=False)
  (3): Tanh()
  (4): Linear(in_features=2, out_features=1, bias=False)
  (5): Tanh()
)
>>> module[0].weight[1, 3].item() == model.weight(1, 4, 2).data  # w^1_42
True
>>> x = [5.1, 3.5, 1.4, 0.2]
>>> abs(module(torch.tensor(x, dtype=torch.float64)).item() - model(x).data) < 1e-12
True
>>> from_torch(module).weight(1, 4, 2).data == model.weight(1, 4, 2).data
True
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd import OPS
from nn.model import MLP, bias_label, weight_label

if TYPE_CHECKING:
    import torch

__all__ = ["to_torch", "from_torch", "torch_activations"]


def torch_activations(torch: Any) -> dict[str, type]:
    """chainrule's activation -> the ``torch.nn`` module computing it: the activation
    module of the same name (tanh -> ``Tanh``, relu -> ``ReLU``); "linear" needs none,
    and an activation PyTorch has no module for is left out.

    >>> import torch
    >>> torch_activations(torch)["relu"]
    <class 'torch.nn.modules.activation.ReLU'>
    """
    modules = {
        name.lower(): module
        for name, module in vars(torch.nn.modules.activation).items()
        if isinstance(module, type) and issubclass(module, torch.nn.Module)
    }
    activations = [name for name, op in OPS.items() if op.activation is not None]
    return {name: modules[name] for name in activations if name in modules}


def _import_torch(caller: str) -> Any:
    """The torch module, or one ImportError that says how to install it."""
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"{caller} needs PyTorch, which is not installed (chainrule itself does not "
            f"need it); install it with: {sys.executable} -m pip install torch"
        ) from None
    return torch


def to_torch(model: MLP) -> torch.nn.Sequential:
    """A float64 ``torch.nn.Sequential`` computing what ``model`` computes, with its weights.

    Layer ``k`` becomes a ``Linear`` (with a bias when the model has biases) followed by
    the layer's activation module (none for ``"linear"``). The parameters are copies: the
    two networks are independent afterwards.

    >>> model = MLP(2, [3, 1], bias=True, activation="relu", output_activation="linear")
    >>> [type(module).__name__ for module in to_torch(model)]
    ['Linear', 'ReLU', 'Linear']
    """
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an nn.MLP, got {type(model).__name__}")
    torch = _import_torch("nn.to_torch")
    known = torch_activations(torch)
    modules = []
    for k, (W, b, activation) in enumerate(model.weight_matrices(), start=1):
        # skip_init: no random initial weights to overwrite, so torch's global RNG is untouched
        linear = torch.nn.utils.skip_init(
            torch.nn.Linear, *W.shape, bias=b is not None, dtype=torch.float64
        )
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))
            if b is not None:
                linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if activation != "linear":
            if activation not in known:
                raise ValueError(f"layer {k}: no PyTorch module for activation {activation!r}")
            modules.append(known[activation]())
    return torch.nn.Sequential(*modules)


def from_torch(module: torch.nn.Module) -> MLP:
    """The chainrule MLP of a ``torch.nn.Sequential`` such as :func:`to_torch` makes.

    The Sequential holds ``Linear`` layers, each followed by at most one of ``Tanh``,
    ``ReLU``, ``Sigmoid`` or ``Identity`` (a layer with none is ``"linear"``). As in
    ``nn.MLP``, every layer has a bias or none does, and the hidden layers share one
    activation. Anything else is refused with a ValueError naming the module and the
    layer. Parameters of any floating dtype are taken as float64: a float32 module's
    weights are represented exactly, but the chainrule model then computes in float64,
    so its outputs differ from the float32 module's by float32 rounding (about 1e-7).

    >>> import torch
    >>> with torch.random.fork_rng():  # torch's random weights; its global state kept
    ...     layers = [torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)]
    >>> module = torch.nn.Sequential(*layers)
    >>> model = from_torch(module)
    >>> model, model.weight(1, 2, 3).data == module[0].weight[2, 1].item()  # w^1_23
    (MLP(2, [3, 1], bias=True, activation='tanh', output_activation='linear'), True)
    """
    torch = _import_torch("nn.from_torch")
    if not isinstance(module, torch.nn.Sequential):
        raise TypeError(
            "from_torch takes a torch.nn.Sequential of Linear layers and activations, "
            f"got {type(module).__name__}"
        )
    activations = torch_activations(torch)
    known = {module: name for name, module in activations.items()}
    known[torch.nn.Identity] = "linear"
    layers: list[_Layer] = []
    activated = False  # whether the last Linear already has its activation
    for name, child in module.named_children():
        where = f"module ({name}), {type(child).__name__}"
        if layers:
            where += f" (in layer {len(layers)})"
        if type(child) is torch.nn.Linear:
            layers.append(_Layer(name, child))
            activated = False
        elif type(child) not in known:
            offered = ", ".join([*(m.__name__ for m in activations.values()), "Identity"])
            raise ValueError(
                f"{where}: chainrule's MLP has Linear layers and the activations "
                f"{offered}; it cannot represent this module"
            )
        elif not layers or activated:
            before = "before the first Linear" if not layers else "after another activation"
            raise ValueError(
                f"{where} comes {before}; chainrule's layer is one Linear and at most one "
                "activation after it"
            )
        else:
            layers[-1].activation = known[type(child)]
            activated = True
    if not layers:
        raise ValueError("the Sequential has no Linear layer, so there is no network to build")
    _check_layers(layers)
    first, last = layers[0], layers[-1]
    model = MLP(
        first.linear.in_features,
        [layer.linear.out_features for layer in layers],
        bias=first.linear.bias is not None,
        activation=first.activation if len(layers) > 1 else "tanh",
        output_activation=last.activation,
        init="zeros",
    )
    for k, layer in enumerate(layers, start=1):
        where = f"layer {k} (module ({layer.name}))"
        W = _float64(torch, layer.linear.weight, f"the weight of {where}")
        for (j, i), w in np.ndenumerate(W):
            model.weight(k, i + 1, j + 1).data = _finite(w, weight_label(k, i + 1, j + 1))
        if layer.linear.bias is not None:
            b = _float64(torch, layer.linear.bias, f"the bias of {where}")
            for j, value in enumerate(b, start=1):
                model.bias(k, j).data = _finite(value, bias_label(k, j))
    return model


@dataclass
class _Layer:
    """One layer of the Sequential: its Linear (and its name there) and its activation."""

    name: str
    linear: Any
    activation: str = "linear"


def _check_layers(layers: list[_Layer]) -> None:
    """What an nn.MLP cannot be: layers that do not fit, mixed biases, mixed hidden activations."""
    first = layers[0]
    for k, layer in enumerate(layers, start=1):
        where = f"layer {k} (module ({layer.name}), Linear)"
        below = layers[k - 2].linear.out_features if k > 1 else layer.linear.in_features
        if layer.linear.in_features != below:
            raise ValueError(
                f"{where} takes {layer.linear.in_features} inputs, but layer {k - 1} gives "
                f"{below} outputs"
            )
        if (layer.linear.bias is None) != (first.linear.bias is None):
            has, other = ("no bias", "one") if layer.linear.bias is None else ("a bias", "none")
            raise ValueError(
                f"{where} has {has} but layer 1 (module ({first.name})) has {other}; "
                "chainrule's MLP gives every layer a bias or none"
            )
        if k < len(layers) and layer.activation != first.activation:
            raise ValueError(
                f"{where} uses {layer.activation} but layer 1 uses {first.activation}; "
                "chainrule's MLP has one activation for all hidden layers (and its own for "
                "the output layer)"
            )


def _float64(torch: Any, parameter: Any, what: str) -> np.ndarray:
    if not parameter.dtype.is_floating_point:
        raise ValueError(f"{what} has dtype {parameter.dtype}; chainrule needs real numbers")
    array: np.ndarray = parameter.detach().to(device="cpu", dtype=torch.float64).numpy()
    return array


def _finite(value: Any, label: str) -> float:
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"{label} is {number} in the PyTorch module, not a finite number")
    return number
