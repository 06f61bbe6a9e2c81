"""The benchmark workloads, generated from a seed: the same in every worker process.

Standard library only: this module is imported by workers running in other virtual
environments (micrograd's), which have neither numpy nor chainrule installed.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from dataclasses import dataclass
from typing import Any

# Op codes of a DAG record (op, i, j); a unary op ignores j.
ADD, MUL, TANH, EXP = 0, 1, 2, 3
OP_NAMES = {ADD: "+", MUL: "*", TANH: "tanh", EXP: "exp"}

# Layers of the DAG: its depth stays about LAYERS + log2(width) whatever its size, so
# micrograd's recursive topological sort (one Python frame per level) works unchanged.
LAYERS = 32
# A binary op takes its second operand from the last REUSE_LAYERS layers ...
REUSE_LAYERS = 4
# ... or, with this probability, from a few "parameter" leaves shared by the whole graph.
SHARED_LEAF_PROBABILITY = 0.1
SHARED_LEAVES = 16
# Bound on |value| of every node, tracked symbolically so that no data is needed to
# choose ops: + and * that could exceed it become tanh, and exp sees only |x| <= 1.
VALUE_BOUND = 4.0


@dataclass(frozen=True)
class DagSpec:
    """A random expression DAG: leaf values, then one (op, i, j) record per inner node.

    Node k < len(leaves) is a leaf; node len(leaves) + r is made by records[r] from
    nodes i and j, which always come earlier. The last node is the output.
    """

    leaves: list[float]
    records: list[tuple[int, int, int]]
    depth: int

    @property
    def nodes(self) -> int:
        return len(self.leaves) + len(self.records)


def dag_spec(nodes: int, seed: int) -> DagSpec:
    """A layered DAG of about ``nodes`` nodes with heavy reuse and bounded depth.

    Every node of a layer is the first operand of one node of the next layer (a random
    permutation), so every node reaches the output; the second operand of + and * is a
    random node of the last few layers or a shared leaf. The last layer is summed by a
    balanced tree of + into one output.
    """
    if nodes < 4 * (LAYERS + 2):
        raise ValueError(f"a DAG needs at least {4 * (LAYERS + 2)} nodes, got {nodes}")
    rng = random.Random(seed)
    width = nodes // (LAYERS + 2)
    leaves = [rng.uniform(-1.0, 1.0) for _ in range(width)]
    bound = [1.0] * width
    records: list[tuple[int, int, int]] = []
    layer_start = [0]
    for _layer in range(LAYERS):
        previous = layer_start[-1]
        window = layer_start[max(0, len(layer_start) - REUSE_LAYERS)]
        start = len(bound)
        layer_start.append(start)
        firsts = list(range(previous, start))
        rng.shuffle(firsts)
        for i in firsts:
            if rng.random() < SHARED_LEAF_PROBABILITY:
                j = rng.randrange(SHARED_LEAVES)
            else:
                j = rng.randrange(window, start)
            op = rng.choices((ADD, MUL, TANH, EXP), weights=(0.3, 0.3, 0.25, 0.15))[0]
            b = 1.0
            if op == ADD:
                b = bound[i] + bound[j]
            elif op == MUL:
                b = bound[i] * bound[j]
            elif op == EXP:
                b = math.exp(bound[i]) if bound[i] <= 1.0 else math.inf
            if b > VALUE_BOUND:
                op, b = TANH, 1.0
            if op in (TANH, EXP):
                j = 0
            records.append((op, i, j))
            bound.append(b)
    # Pairwise sums of the last layer until one node is left: the output.
    level = list(range(layer_start[-1], len(bound)))
    depth = LAYERS
    while len(level) > 1:
        nxt = []
        for a in range(0, len(level) - 1, 2):
            records.append((ADD, level[a], level[a + 1]))
            bound.append(0.0)
            nxt.append(len(bound) - 1)
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        depth += 1
    return DagSpec(leaves=leaves, records=records, depth=depth)


def evaluate_floats(spec: DagSpec) -> list[float]:
    """Every node's value on plain floats: the reference the workers are checked against."""
    values = list(spec.leaves)
    for op, i, j in spec.records:
        if op == ADD:
            values.append(values[i] + values[j])
        elif op == MUL:
            values.append(values[i] * values[j])
        elif op == TANH:
            values.append(math.tanh(values[i]))
        else:
            values.append(math.exp(values[i]))
    return values


@dataclass(frozen=True)
class MlpProblem:
    """The lecture notes' 4-3-2-1 tanh MLP without biases (20 weights) and a regression task.

    ``weights[k][i][j]`` is w^(k+1)_(i+1)(j+1): layer k+1, from neuron i of the layer
    below to neuron j; the loss is sum over samples of (yhat - y)^2.
    """

    weights: list[list[list[float]]]
    inputs: list[list[float]]
    targets: list[float]
    learning_rate: float


MLP_SIZES = (4, 3, 2, 1)


def mlp_problem(seed: int, samples: int = 100) -> MlpProblem:
    """Uniform(-1, 1) weights, standard-normal inputs, targets from a fixed teacher."""
    rng = random.Random(seed)
    weights = [
        [[rng.uniform(-1.0, 1.0) for _ in range(nout)] for _ in range(nin)]
        for nin, nout in itertools.pairwise(MLP_SIZES)
    ]
    inputs = [[rng.gauss(0.0, 1.0) for _ in range(MLP_SIZES[0])] for _ in range(samples)]
    targets = [math.tanh(x[0] - 0.5 * x[1] + 0.25 * x[2] * x[3]) for x in inputs]
    return MlpProblem(weights=weights, inputs=inputs, targets=targets, learning_rate=0.01)


def flat_weights(weights: list[list[list[float]]]) -> list[float]:
    """The 20 weights in layer, from, to order."""
    return [w for layer in weights for row in layer for w in row]


def checksum(values: list[float]) -> list[float]:
    """Three numbers that change if any value changes: sum, sum of |.|, weighted sum."""
    weighted = sum(v * ((k * 2654435761) % 1000 + 1) / 1000.0 for k, v in enumerate(values))
    return [math.fsum(values), math.fsum(abs(v) for v in values), weighted]


# --- MLP training (issue 12): three networks, full-batch gradient descent -------------


@dataclass(frozen=True)
class Network:
    """An MLP-training workload: tanh on every layer, loss sum (yhat - y)^2, full batch.

    ``stand_in`` says what :func:`stand_in_data` generates when the real data set is not
    available (the moons always come from it: micrograd's demo draws them at random).
    """

    name: str
    title: str
    sizes: tuple[int, ...]
    bias: bool
    samples: int
    learning_rate: float
    stand_in: str

    @property
    def shape(self) -> str:
        return "-".join(str(n) for n in self.sizes)


NETWORKS = {
    "iris": Network(
        "iris", "Iris", (4, 3, 2, 1), False, 150, 0.01, "seeded Gaussian inputs, ±1 teacher"
    ),
    "moons": Network(
        "moons", "moons", (2, 16, 16, 1), True, 100, 0.01, "seeded two moons, noise 0.1"
    ),
    "digits": Network(
        "digits", "digits", (64, 16, 10), True, 1797, 0.001, "seeded random pixels and classes"
    ),
}


@dataclass(frozen=True)
class NetProblem:
    """One network's starting point and data, identical in every worker.

    ``weights[k][i][j]`` is the weight of layer k+1 from neuron i to neuron j,
    ``biases[k][j]`` the bias of neuron j (all zero-length lists without biases); ``Y``
    holds one row of targets per sample, one target per output.
    """

    network: str
    sizes: list[int]
    bias: bool
    weights: list[list[list[float]]]
    biases: list[list[float]]
    X: list[list[float]]
    Y: list[list[float]]
    learning_rate: float
    source: str

    def first(self, samples: int) -> NetProblem:
        """The same problem on the first ``samples`` samples only."""
        return dataclasses.replace(self, X=self.X[:samples], Y=self.Y[:samples])

    def flat(self) -> list[float]:
        """Every parameter in ``nn.MLP.parameters()`` order: neuron by neuron, weights then bias."""
        return net_flat(self.weights, self.biases if self.bias else None)


def net_flat(weights: list[list[list[Any]]], biases: list[list[Any]] | None) -> list[Any]:
    """Parameters layer by layer, neuron j by neuron, its weights w[i][j] then its bias."""
    flat = []
    for k, layer in enumerate(weights):
        for j in range(len(layer[0])):
            flat += [row[j] for row in layer]
            if biases is not None:
                flat.append(biases[k][j])
    return flat


def net_problem(
    network: Network,
    seed: int,
    data: tuple[list[list[float]], list[list[float]], str] | None = None,
) -> NetProblem:
    """Seeded initial weights (uniform, scaled by 1/sqrt(fan-in)) on ``data`` or a stand-in.

    ``data`` is ``(X, Y, where it comes from)``; without it the seeded stand-in is used.
    """
    rng = random.Random(seed)
    weights, biases = [], []
    for nin, nout in itertools.pairwise(network.sizes):
        scale = 1.0 / math.sqrt(nin)
        weights.append([[rng.uniform(-scale, scale) for _ in range(nout)] for _ in range(nin)])
        biases.append([rng.uniform(-scale, scale) for _ in range(nout)] if network.bias else [])
    if data is None:
        X, Y = stand_in_data(network, seed + 1)
        source = f"stand-in: {network.stand_in}"
    else:
        X, Y, source = data
    if len(X) != network.samples or any(len(row) != network.sizes[0] for row in X):
        raise ValueError(f"{network.name}: data of the wrong shape from {source}")
    return NetProblem(
        network.name,
        list(network.sizes),
        network.bias,
        weights,
        biases,
        X,
        Y,
        network.learning_rate,
        source,
    )


def stand_in_data(network: Network, seed: int) -> tuple[list[list[float]], list[list[float]]]:
    """Seeded data of the network's shape: rows of inputs, rows of -1/+1 targets."""
    rng = random.Random(seed)
    n, nin, nout = network.samples, network.sizes[0], network.sizes[-1]
    if network.name == "moons":
        # micrograd's demo data (sklearn's make_moons): two interleaved half circles,
        # taking turns so that the first samples hold both classes.
        X, Y = [], []
        for s in range(n):
            upper = s % 2 == 0
            t = math.pi * rng.random()
            x = (math.cos(t), math.sin(t)) if upper else (1.0 - math.cos(t), 0.5 - math.sin(t))
            X.append([x[0] + rng.gauss(0.0, 0.1), x[1] + rng.gauss(0.0, 0.1)])
            Y.append([1.0 if upper else -1.0])
        return X, Y
    if network.name == "digits":
        # 8x8 images with pixels 0..16 scaled to [0, 1], and a one-hot -1/+1 class.
        X = [[rng.randint(0, 16) / 16.0 for _ in range(nin)] for _ in range(n)]
        return X, [one_hot(rng.randrange(nout), nout) for _ in range(n)]
    X = [[rng.gauss(0.0, 1.0) for _ in range(nin)] for _ in range(n)]
    return X, [[1.0 if x[0] - 0.5 * x[1] + 0.25 * x[2] > 0.0 else -1.0] for x in X]


def one_hot(label: int, classes: int) -> list[float]:
    """+1 at ``label``, -1 elsewhere: targets for tanh outputs."""
    return [1.0 if c == label else -1.0 for c in range(classes)]
