"""Neural networks on the autograd engine, in the seed's notation (``w^k_ij``, ``O_kj``).

The seed's 20-weight network, trained on Iris by plain gradient descent:

>>> import nn
>>> data = nn.iris_binary("setosa")
>>> model = nn.MLP(4, [3, 2, 1], seed=0)
>>> len(model.parameters()), model.weight(1, 1, 1).label
(20, 'w^1_11')
>>> history = nn.train(model, data.X, data.y, lr=0.01, tol=1e-3, progress=False)
>>> nn.accuracy(model, data.X, data.y) >= 0.95
True
"""

from autograd import __version__ as __version__
from nn.convert import from_torch, to_torch
from nn.data import Dataset, iris_binary, load_csv, load_iris, standardize
from nn.init import INITIALIZERS, get_initializer
from nn.losses import l1, l2, mse, sse
from nn.model import (
    ACTIVATIONS,
    MLP,
    Layer,
    LayerMatrices,
    Neuron,
    bias_label,
    output_label,
    parse_weight_label,
    weight_label,
)
from nn.serialize import load_model, load_parameters, save_parameters
from nn.train import (
    OPTIMIZERS,
    History,
    TrainingDiverged,
    accuracy,
    numerical_gradient,
    total_loss,
    train,
)

__all__ = [
    "MLP",
    "Layer",
    "Neuron",
    "LayerMatrices",
    "ACTIVATIONS",
    "weight_label",
    "parse_weight_label",
    "bias_label",
    "output_label",
    "INITIALIZERS",
    "get_initializer",
    "sse",
    "mse",
    "l2",
    "l1",
    "train",
    "total_loss",
    "numerical_gradient",
    "accuracy",
    "History",
    "TrainingDiverged",
    "OPTIMIZERS",
    "Dataset",
    "load_iris",
    "iris_binary",
    "standardize",
    "load_csv",
    "save_parameters",
    "load_parameters",
    "load_model",
    "to_torch",
    "from_torch",
]
