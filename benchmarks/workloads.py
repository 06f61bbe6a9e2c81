"""The benchmark workloads, generated from a seed: the same in every worker process.

Standard library only: this module is imported by workers running in other virtual
environments (micrograd's), which have neither numpy nor chainrule installed.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

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
    """The seed's 4-3-2-1 tanh MLP without biases (20 weights) and a regression task.

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
