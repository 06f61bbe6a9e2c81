"""Neural networks on the autograd engine, in the notes' notation (``w^k_ij``, ``O_kj``).

The notes' 20-weight network, trained on Iris by plain gradient descent:

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
from nn.activations import activation_names
from nn.convert import from_torch, to_torch
from nn.data import (
    Dataset,
    apply_standardization,
    csv_header,
    iris_binary,
    load_csv,
    load_digits,
    load_iris,
    standardize,
    train_test_split,
)
from nn.evaluate import accuracy, layer_outputs, outputs, predict, saturated_share
from nn.init import INITIALIZERS, get_initializer
from nn.labels import ClassEncoding, class_labels, looks_like_classes
from nn.losses import l1, l2, mse, sse
from nn.model import MLP, Layer, LayerMatrices, Neuron, parameter_count
from nn.notation import (
    bias_label,
    input_label,
    loss_label,
    output_label,
    parse_label,
    parse_weight_label,
    target_label,
    weight_label,
)
from nn.serialize import SavedModel, load_model, load_parameters, save_parameters
from nn.train import (
    OPTIMIZERS,
    STOP_REASONS,
    History,
    TrainingDiverged,
    numerical_gradient,
    total_loss,
    train,
)

__all__ = [
    "MLP",
    "Layer",
    "Neuron",
    "LayerMatrices",
    "activation_names",
    "weight_label",
    "parse_weight_label",
    "bias_label",
    "output_label",
    "input_label",
    "target_label",
    "loss_label",
    "parse_label",
    "parameter_count",
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
    "predict",
    "outputs",
    "layer_outputs",
    "saturated_share",
    "ClassEncoding",
    "looks_like_classes",
    "class_labels",
    "STOP_REASONS",
    "History",
    "TrainingDiverged",
    "OPTIMIZERS",
    "Dataset",
    "load_iris",
    "iris_binary",
    "load_digits",
    "standardize",
    "apply_standardization",
    "train_test_split",
    "load_csv",
    "csv_header",
    "save_parameters",
    "load_parameters",
    "load_model",
    "to_torch",
    "from_torch",
    "SavedModel",
]
