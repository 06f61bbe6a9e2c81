"""Neuron, Layer and MLP, in the notes' notation.

``w^k_ij`` is the weight of layer ``k`` from neuron ``i`` of the layer below to neuron
``j`` of layer ``k`` (all 1-based; the inputs are layer 0). ``O_kj`` is the output of
neuron ``j`` of layer ``k``; the network's inputs are ``x_1 .. x_n``. The names are
written by :mod:`nn.notation`.

>>> model = MLP(4, [3, 2, 1])
>>> len(model.parameters()), model.sizes
(20, (4, 3, 2, 1))
>>> model.weight(1, 1, 1).label, model.weight(3, 2, 1).label
('w^1_11', 'w^3_21')
>>> out = model([5.1, 3.5, 1.4, 0.2])
>>> out.label, -1.0 < out.data < 1.0
('O_31', True)
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from autograd import OPS, Value, as_float, zero_grad
from nn.activations import activation_op
from nn.checks import COUNT
from nn.init import Initializer, get_initializer
from nn.labels import Label
from nn.notation import (
    bias_label,
    input_label,
    output_label,
    parse_weight_label,
    weight_label,
)

__all__ = [
    "Neuron",
    "Layer",
    "MLP",
    "LayerMatrices",
    # The notation's names, also importable from here as they always were.
    "weight_label",
    "parse_weight_label",
    "bias_label",
    "output_label",
    "parameter_count",
]


def _check_activation(name: Any, what: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, got {type(name).__name__}: {name!r}")
    activation_op(name, what)
    return name


def _activate(z: Any, activation: str) -> Any:
    """The activation applied by its row of the op table: to a Value (a node of the
    graph) or to a whole array (its forward on arrays), so no rule is re-typed. The name
    was checked when the layer was made (once per neuron here: no second check)."""
    return z if activation == "linear" else OPS[activation](z)


class LayerMatrices(NamedTuple):
    """Layer ``k`` of an MLP in the lecture notes' matrix form.

    ``W[i - 1, j - 1]`` is ``w^k_ij`` (numpy counts from 0, the notes from 1): one row per
    neuron ``i`` of layer ``k - 1``, one column per neuron ``j`` of layer ``k``, so the
    notes' ``w^1`` of the 4 -> 3 -> 2 -> 1 network is 4 x 3. ``b[j - 1]`` is ``b^k_j``, or
    ``b`` is None when the model has no biases. ``activation`` is the layer's activation.

    >>> first = MLP(4, [3, 2, 1], bias=True).weight_matrices()[0]
    >>> first.W.shape, first.b.shape, first.activation
    ((4, 3), (3,), 'tanh')
    """

    W: np.ndarray
    b: np.ndarray | None
    activation: str


class Neuron:
    """Neuron ``j`` of layer ``k``: ``O_kj = activation(sum_i w^k_ij * O_(k-1)i [+ b^k_j])``.

    ``weights[i - 1]`` is ``w^k_ij``; ``bias`` is ``b^k_j`` or None; ``output`` is the
    Value this neuron produced in the most recent forward pass (None before the first).

    >>> n = Neuron(2, k=1, j=1, init="uniform", rng=random.Random(0))
    >>> [w.label for w in n.weights], n.bias
    (['w^1_11', 'w^1_21'], None)
    """

    def __init__(
        self,
        nin: int,
        *,
        k: int,
        j: int,
        bias: bool = False,
        activation: str = "tanh",
        init: str | Initializer = "xavier",
        rng: random.Random,
        fan_out: int = 1,
    ) -> None:
        COUNT.check(nin, "nin")
        self.k = k
        self.j = j
        self.activation = _check_activation(activation, "activation")
        draw = get_initializer(init)
        self.weights: list[Value] = []
        for i in range(1, nin + 1):
            w = as_float(draw(nin, fan_out, rng), f"a weight from initialiser {init!r}")
            self.weights.append(Value(w, label=weight_label(k, i, j)))
        self.bias: Value | None = Value(0.0, label=bias_label(k, j)) if bias else None
        self.output: Value | None = None

    def __call__(self, inputs: Sequence[Value]) -> Value:
        """This neuron's output on ``inputs`` (Values, one per weight), labelled ``O_kj``.

        >>> n = Neuron(2, k=1, j=1, activation="linear", rng=random.Random(0))
        >>> n.weights[0].data, n.weights[1].data = 1.0, 2.0
        >>> out = n([Value(3.0), Value(4.0)])  # 1 * 3 + 2 * 4
        >>> out.label, out.data, n.output is out
        ('O_11', 11.0, True)
        """
        if len(inputs) != len(self.weights):
            raise ValueError(
                f"neuron {output_label(self.k, self.j)} has {len(self.weights)} inputs, "
                f"got {len(inputs)}"
            )
        z = self.weights[0] * inputs[0]
        for w, x in zip(self.weights[1:], inputs[1:], strict=True):
            z = z + w * x
        if self.bias is not None:
            z = z + self.bias
        out = _activate(z, self.activation)
        out.label = output_label(self.k, self.j)
        self.output = out
        return out

    def parameters(self) -> list[Value]:
        """The weights in order of ``i``, then the bias if there is one.

        >>> n = Neuron(2, k=1, j=3, bias=True, rng=random.Random(0))
        >>> [p.label for p in n.parameters()]
        ['w^1_13', 'w^1_23', 'b^1_3']
        """
        return self.weights + ([self.bias] if self.bias is not None else [])

    def __repr__(self) -> str:
        return (
            f"Neuron(k={self.k}, j={self.j}, nin={len(self.weights)}, "
            f"activation={self.activation!r}, bias={self.bias is not None})"
        )


class Layer:
    """Layer ``k``: ``nout`` neurons each fed by all ``nin`` outputs of the layer below.

    Calling it always returns a list, even for a single neuron.

    >>> layer = Layer(3, 1, k=2, rng=random.Random(0))
    >>> out = layer([Value(1.0), Value(0.5), Value(-1.0)])
    >>> type(out).__name__, out[0].label
    ('list', 'O_21')
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        *,
        k: int,
        bias: bool = False,
        activation: str = "tanh",
        init: str | Initializer = "xavier",
        rng: random.Random,
    ) -> None:
        COUNT.check(nout, "the number of neurons in a layer")
        self.k = k
        self.neurons = [
            Neuron(
                nin,
                k=k,
                j=j,
                bias=bias,
                activation=activation,
                init=init,
                rng=rng,
                fan_out=nout,
            )
            for j in range(1, nout + 1)
        ]

    def __call__(self, inputs: Sequence[Value]) -> list[Value]:
        """The outputs ``O_k1 .. O_k(nout)``.

        >>> layer = Layer(1, 2, k=1, rng=random.Random(0))
        >>> [out.label for out in layer([Value(0.5)])]
        ['O_11', 'O_12']
        """
        return [neuron(inputs) for neuron in self.neurons]

    def parameters(self) -> list[Value]:
        """Neuron by neuron, each neuron's weights then its bias.

        >>> layer = Layer(2, 2, k=1, bias=True, rng=random.Random(0))
        >>> [p.label for p in layer.parameters()]
        ['w^1_11', 'w^1_21', 'b^1_1', 'w^1_12', 'w^1_22', 'b^1_2']
        """
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def __repr__(self) -> str:
        n = self.neurons[0]
        return (
            f"Layer(k={self.k}, nin={len(n.weights)}, nout={len(self.neurons)}, "
            f"activation={n.activation!r})"
        )


def parameter_count(sizes: Sequence[int], bias: bool = False) -> int:
    """How many parameters an MLP of layer ``sizes`` (inputs first) has, without building it.

    Each layer ``k`` has ``sizes[k-1] * sizes[k]`` weights, and ``sizes[k]`` biases with
    ``bias``.

    >>> parameter_count([4, 3, 2, 1]), parameter_count([4, 3, 2, 1], bias=True)
    (20, 26)
    """
    return sum((nin + int(bias)) * nout for nin, nout in itertools.pairwise(sizes))


class MLP:
    """A multi-layer perceptron: ``MLP(4, [3, 2, 1])`` is the notes' 20-weight network.

    ``nouts`` lists the layer sizes; hidden layers use ``activation``, the last layer
    ``output_activation``: ``"tanh"``, ``"relu"``, ``"sigmoid"``, ``"linear"`` or an op
    defined with ``autograd.define_op(..., activation=(low, high))`` (see
    :func:`nn.activation_names`).
    ``init`` names an initialiser from :mod:`nn.init` or is a callable
    ``(fan_in, fan_out, rng) -> float``; weights are drawn from ``random.Random(seed)``
    in :meth:`parameters` order, so a seed fixes them everywhere. Biases start at 0.
    ``classes`` is None until the model is trained on class labels; then it holds them,
    and :func:`nn.predict` answers with them (see :mod:`nn.labels`).

    Calling the model on ``nin`` numbers or Values returns a Value when the last layer has
    one neuron, a list otherwise. Numbers become constant inputs labelled ``x_1 ..``.

    >>> model = MLP(2, [2, 1], bias=True, seed=1)
    >>> [label for label, _ in model.named_parameters()]
    ['w^1_11', 'w^1_21', 'b^1_1', 'w^1_12', 'w^1_22', 'b^1_2', 'w^2_11', 'w^2_21', 'b^2_1']
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        *,
        bias: bool = False,
        activation: str = "tanh",
        output_activation: str = "tanh",
        init: str | Initializer = "xavier",
        seed: int = 0,
    ) -> None:
        COUNT.check(nin, "nin")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence):
            raise TypeError(
                f"nouts must be a sequence of layer sizes such as [3, 2, 1], "
                f"got {type(nouts).__name__}: {nouts!r}"
            )
        if not nouts:
            raise ValueError("nouts must list at least one layer size, e.g. [3, 2, 1]")
        for n in nouts:
            COUNT.check(n, "every layer size in nouts")
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {bias!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}: {seed!r}")
        self.activation = _check_activation(activation, "activation")
        self.output_activation = _check_activation(output_activation, "output_activation")
        get_initializer(init)  # a bad name fails here, not inside the first neuron
        self.has_bias = bias
        self.sizes: tuple[int, ...] = (nin, *nouts)
        self.classes: tuple[Label, ...] | None = None
        rng = random.Random(seed)
        self.layers: list[Layer] = []
        for k in range(1, len(self.sizes)):
            last = k == len(self.sizes) - 1
            self.layers.append(
                Layer(
                    self.sizes[k - 1],
                    self.sizes[k],
                    k=k,
                    bias=bias,
                    activation=output_activation if last else activation,
                    init=init,
                    rng=rng,
                )
            )

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        """The network's output for one input vector ``x`` of length ``nin``.

        >>> MLP(2, [3, 1], seed=0)([0.5, -1.0]).label  # one output neuron: a Value
        'O_21'
        >>> [out.label for out in MLP(2, [3, 2], seed=0)([0.5, -1.0])]  # two: a list
        ['O_21', 'O_22']
        """
        if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
            raise TypeError(
                f"the model takes a sequence of {self.sizes[0]} numbers or Values, "
                f"got {type(x).__name__}: {x!r}"
            )
        if len(x) != self.sizes[0]:
            raise ValueError(f"the model takes {self.sizes[0]} inputs, got {len(x)}")
        values = [_input_value(xi, i) for i, xi in enumerate(x, start=1)]
        for layer in self.layers:
            values = layer(values)
        return values[0] if len(values) == 1 else values

    def weight(self, k: int, i: int, j: int) -> Value:
        """``w^k_ij``: layer k, from neuron i of layer k-1 to neuron j of layer k (1-based).

        >>> MLP(4, [3, 2, 1]).weight(2, 3, 1).label
        'w^2_31'
        """
        _check_in_range(k, "layer k", 1, len(self.layers))
        _check_in_range(i, f"i (a neuron of layer {k - 1})", 1, self.sizes[k - 1])
        _check_in_range(j, f"j (a neuron of layer {k})", 1, self.sizes[k])
        return self.layers[k - 1].neurons[j - 1].weights[i - 1]

    def bias(self, k: int, j: int) -> Value:
        """``b^k_j``, the bias of neuron j of layer k; ValueError if the model has none.

        >>> MLP(4, [3, 2, 1], bias=True).bias(1, 3).label
        'b^1_3'
        """
        if not self.has_bias:
            raise ValueError("this model has no biases; build it with MLP(..., bias=True)")
        _check_in_range(k, "layer k", 1, len(self.layers))
        _check_in_range(j, f"j (a neuron of layer {k})", 1, self.sizes[k])
        b = self.layers[k - 1].neurons[j - 1].bias
        if b is None:  # cannot happen while has_bias is true; kept for the type checker
            raise RuntimeError(f"neuron {j} of layer {k} lost its bias")
        return b

    def weight_matrices(self, *, gradients: bool = False) -> list[LayerMatrices]:
        """The notes' matrices, one :class:`LayerMatrices` per layer k = 1, 2, ...

        ``weight_matrices()[k - 1].W[i - 1, j - 1]`` is ``w^k_ij``. With
        ``gradients=True`` the entries are the parameters' ``.grad`` (``dL/dw^k_ij`` after
        a backward pass) instead of their values. The arrays are copies: changing them
        leaves the model as it is.

        >>> model = MLP(4, [3, 2, 1], seed=0)
        >>> [layer.W.shape for layer in model.weight_matrices()]
        [(4, 3), (3, 2), (2, 1)]
        >>> W1 = model.weight_matrices()[0].W
        >>> float(W1[3, 1]) == model.weight(1, 4, 2).data  # w^1_42
        True
        """
        field = "grad" if gradients else "data"
        matrices = []
        for k, layer in enumerate(self.layers, start=1):
            rows, columns = range(1, self.sizes[k - 1] + 1), range(1, self.sizes[k] + 1)
            W = np.array([[getattr(self.weight(k, i, j), field) for j in columns] for i in rows])
            b = None
            if self.has_bias:
                b = np.array([getattr(self.bias(k, j), field) for j in columns])
            matrices.append(LayerMatrices(W, b, layer.neurons[0].activation))
        return matrices

    def forward_matrices(self, X: Any) -> np.ndarray:
        """The forward pass in matrix form, ``O^k = act(O^(k-1) @ W^k + b^k)``, with numpy.

        ``X`` holds one row of ``nin`` inputs per sample (``O^0``), or is a single row.
        Returns one row of outputs per sample (a single row for a single row): the
        numbers calling the model on each row gives, to rounding, without a graph.

        >>> model = MLP(4, [3, 2, 1], seed=0)
        >>> x = [5.1, 3.5, 1.4, 0.2]
        >>> out = model.forward_matrices([x, x])
        >>> out.shape, np.allclose(out[0, 0], model(x).data, rtol=0.0, atol=1e-12)
        ((2, 1), True)
        """
        try:
            outputs = np.array(X, dtype=float)
        except (TypeError, ValueError) as error:
            raise ValueError(f"X must be rows of {self.sizes[0]} numbers: {error}") from None
        single = outputs.ndim == 1
        if single:
            outputs = outputs[np.newaxis, :]
        if outputs.ndim != 2 or outputs.shape[1] != self.sizes[0]:
            raise ValueError(
                f"X must have {self.sizes[0]} columns, one per input, got shape {np.shape(X)}"
            )
        bad = _first_non_finite(outputs)
        if bad is not None:
            n, i = bad
            raise ValueError(
                f"X[{n}][{i}] (input {input_label(i + 1)} of sample {n}) must be finite, "
                f"got {outputs[n, i]}"
            )
        for k, (W, b, activation) in enumerate(self.weight_matrices(), start=1):
            with np.errstate(over="ignore", invalid="ignore"):  # reported just below
                Z = outputs @ W if b is None else outputs @ W + b
            bad = _first_non_finite(Z)
            if bad is not None:
                n, j = bad
                raise OverflowError(
                    f"the input of neuron {output_label(k, j + 1)} overflows a float for sample {n}"
                )
            outputs = _activate(Z, activation)
        return outputs[0] if single else outputs

    def parameters(self) -> list[Value]:
        """Every weight and bias in a fixed order.

        Layer by layer (k = 1, 2, ...), within a layer neuron by neuron (j = 1, 2, ...),
        for each neuron its weights (i = 1, 2, ...) then its bias.

        >>> [p.label for p in MLP(2, [2, 1]).parameters()]
        ['w^1_11', 'w^1_21', 'w^1_12', 'w^1_22', 'w^2_11', 'w^2_21']
        """
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """``(label, Value)`` pairs in :meth:`parameters` order.

        >>> model = MLP(2, [1], seed=0)
        >>> dict(model.named_parameters())["w^1_21"] is model.weight(1, 2, 1)
        True
        """
        for p in self.parameters():
            yield p.label, p

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 (leaves add up gradients across passes).

        >>> model = MLP(2, [1], seed=0)
        >>> model([1.0, 2.0]).backward(); model([1.0, 2.0]).backward()
        >>> w = model.weight(1, 1, 1); twice = w.grad
        >>> model.zero_grad(); model([1.0, 2.0]).backward()
        >>> w.grad == twice / 2
        True
        """
        zero_grad(self.parameters())

    def __repr__(self) -> str:
        return (
            f"MLP({self.sizes[0]}, {list(self.sizes[1:])}, bias={self.has_bias}, "
            f"activation={self.activation!r}, output_activation={self.output_activation!r})"
        )


def _input_value(x: Any, i: int) -> Value:
    if isinstance(x, Value):
        return x
    return Value(as_float(x, f"input {input_label(i)}"), label=input_label(i), requires_grad=False)


def _first_non_finite(array: np.ndarray) -> tuple[int, int] | None:
    """(row, column) of the first entry that is not a finite number, or None."""
    bad = np.argwhere(~np.isfinite(array))
    return (int(bad[0][0]), int(bad[0][1])) if len(bad) else None


def _check_in_range(n: Any, what: str, low: int, high: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} must be an int, got {type(n).__name__}: {n!r}")
    if not low <= n <= high:
        raise ValueError(f"{what} must be in {low}..{high}, got {n}")
