"""One adapter per contender: build the workloads, run backward, read the gradients.

Every adapter walks the same workload description (``workloads.py``) with the same loop;
only the arithmetic differs. Each contender's library is imported lazily, inside its own
worker process and virtual environment, so this module imports nothing but the standard
library at the top.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from workloads import ADD, EXP, MUL, TANH, DagSpec, MlpProblem, NetProblem, flat_weights, net_flat


class Unavailable(Exception):
    """This contender cannot run here; the message says why."""


# --- object engines: a graph of node objects with +, *, .tanh(), .exp() --------------


def build_objects(leaves: list[Any], records: list[tuple[int, int, int]]) -> list[Any]:
    """Every node of the DAG, leaves first, made with the objects' own operators."""
    nodes = list(leaves)
    append = nodes.append
    for op, i, j in records:
        if op == ADD:
            append(nodes[i] + nodes[j])
        elif op == MUL:
            append(nodes[i] * nodes[j])
        elif op == TANH:
            append(nodes[i].tanh())
        else:
            append(nodes[i].exp())
    return nodes


def net_outputs(
    weights: list[list[list[Any]]], biases: list[list[Any]] | None, x: list[Any]
) -> list[Any]:
    """A tanh MLP's outputs for one sample, written as a user would.

    ``weights[k][i][j]`` goes from neuron i of layer k to neuron j of layer k+1;
    ``biases[k][j]``, if given, is added last.
    """
    activations = x
    for k, layer in enumerate(weights):
        outputs = []
        for j in range(len(layer[0])):
            z = layer[0][j] * activations[0]
            for i in range(1, len(layer)):
                z = z + layer[i][j] * activations[i]
            if biases is not None:
                z = z + biases[k][j]
            outputs.append(z.tanh())
        activations = outputs
    return activations


def mlp_output(weights: list[list[list[Any]]], x: list[Any]) -> Any:
    """The 4-3-2-1 tanh MLP's output for one sample (no biases)."""
    return net_outputs(weights, None, x)[0]


def mlp_loss(weights: list[list[list[Any]]], problem: MlpProblem) -> Any:
    """Sum over samples of (yhat - y)^2."""
    loss = None
    for x, y in zip(problem.inputs, problem.targets, strict=True):
        error = mlp_output(weights, x) - y
        loss = error * error if loss is None else loss + error * error
    return loss


class ObjectEngine:
    """The shared driver; subclasses say how to make a leaf, run backward, update."""

    name = ""

    def leaf(self, x: float) -> Any:
        raise NotImplementedError

    def backward(self, output: Any) -> None:
        output.backward()

    def grad(self, leaf: Any) -> float:
        return float(leaf.grad)

    def data(self, node: Any) -> float:
        return float(node.data)

    def descend(self, params: list[Any], lr: float) -> None:
        for p in params:
            p.data -= lr * p.grad
            p.grad = 0.0

    def version(self) -> str:
        return ""

    # The workloads, as the worker calls them.
    def build_dag(self, spec: DagSpec) -> tuple[list[Any], list[Any]]:
        leaves = [self.leaf(x) for x in spec.leaves]
        return build_objects(leaves, spec.records), leaves

    def run_backward(self, graph: tuple[list[Any], list[Any]]) -> None:
        self.backward(graph[0][-1])

    def leaf_grads(self, graph: tuple[list[Any], list[Any]]) -> tuple[float, list[float]]:
        nodes, leaves = graph
        return self.data(nodes[-1]), [self.grad(leaf) for leaf in leaves]

    def chain(self, depth: int) -> float:
        """Backward through ``x + a + a + ... + a`` (depth additions); returns d/da."""
        a, x = self.leaf(0.5), self.leaf(0.25)
        for _ in range(depth):
            x = x + a
        self.backward(x)
        return self.grad(a)

    def mlp_setup(self, problem: MlpProblem) -> Any:
        return [[[self.leaf(w) for w in row] for row in layer] for layer in problem.weights]

    def mlp_epoch(self, state: Any, problem: MlpProblem) -> None:
        loss = mlp_loss(state, problem)
        self.backward(loss)
        self.descend([w for layer in state for row in layer for w in row], problem.learning_rate)

    def mlp_weights(self, state: Any) -> list[float]:
        return [self.data(w) for layer in state for row in layer for w in row]

    def net_train(
        self, problem: NetProblem, epochs: int, on_epoch: Callable[[], None]
    ) -> list[float]:
        """A fresh model from the problem's weights, trained ``epochs`` epochs by hand.

        Every epoch builds the loss over all samples, runs backward and updates; calls
        ``on_epoch()`` after each. Returns the parameters in ``NetProblem.flat`` order.
        """
        weights = [[[self.leaf(w) for w in row] for row in layer] for layer in problem.weights]
        biases = (
            [[self.leaf(b) for b in layer] for layer in problem.biases] if problem.bias else None
        )
        params = net_flat(weights, biases)
        for _ in range(epochs):
            loss = None
            for x, targets in zip(problem.X, problem.Y, strict=True):
                for out, y in zip(net_outputs(weights, biases, x), targets, strict=True):
                    error = out - y
                    loss = error * error if loss is None else loss + error * error
            self.backward(loss)
            self.descend(params, problem.learning_rate)
            on_epoch()
        return [self.data(p) for p in params]


def nn_train(
    problem: NetProblem, epochs: int, on_epoch: Callable[[], None] | None, engine: str
) -> list[float]:
    """chainrule's own API: ``nn.train`` on an ``nn.MLP`` holding the problem's weights.

    Everything a user's call runs is inside: ``engine="compiled"`` traces the sample loss
    (nn.batched.BatchedLoss) before the first epoch, and whatever nn.train does after
    the last epoch is timed too. Without ``on_epoch``, no callback: the call as a user
    makes it by default.
    """
    try:
        import nn
    except ImportError as error:
        raise Unavailable(f"nn is not importable: {error}") from None
    model = nn.MLP(problem.sizes[0], problem.sizes[1:], bias=problem.bias, init="zeros")
    params = model.parameters()
    for p, w in zip(params, problem.flat(), strict=True):
        p.data = w
    nn.train(
        model,
        problem.X,
        problem.Y,
        lr=problem.learning_rate,
        tol=0.0,  # never stop early: exactly ``epochs`` epochs
        max_epochs=epochs,
        progress=False,
        engine=engine,
        callback=None if on_epoch is None else lambda epoch, history: on_epoch(),
    )
    return [p.data for p in params]


class Chainrule(ObjectEngine):
    """chainrule's interpreted engine, ``autograd.Value``."""

    name = "chainrule"
    trains_with_nn = True  # MLP training is nn.train: timed without a callback

    def __init__(self) -> None:
        try:
            from autograd import Value
        except ImportError as error:
            raise Unavailable(f"autograd is not importable: {error}") from None
        self.Value = Value

    def leaf(self, x: float) -> Any:
        return self.Value(x)

    def net_train(
        self, problem: NetProblem, epochs: int, on_epoch: Callable[[], None] | None
    ) -> list[float]:
        return nn_train(problem, epochs, on_epoch, engine="interpreted")

    def version(self) -> str:
        """The commit, and "+changes" when autograd/ differs from it (editable install)."""
        import os
        import subprocess

        if os.environ.get("CHAINRULE_BENCH_VERSION"):  # run.py --commit
            return os.environ["CHAINRULE_BENCH_VERSION"]

        def git(*args: str) -> str:
            try:
                done = subprocess.run(["git", *args], capture_output=True, text=True)
            except OSError:
                return ""
            return done.stdout.strip()

        commit = git("rev-parse", "--short", "HEAD")
        return commit + ("+changes" if git("status", "--porcelain", "autograd") else "")


class Micrograd(ObjectEngine):
    """micrograd 0.1.0 from the package registry, plus tanh and exp in its own style.

    micrograd's package has only +, *, ** and relu. The two ops the workloads need are
    added here exactly as micrograd writes every op (a closure per node, accumulating into
    its operands), as in its author's lecture: the same cost model as its own ops.
    """

    name = "micrograd"

    def __init__(self) -> None:
        try:
            from micrograd.engine import Value
        except ImportError as error:
            raise Unavailable(f"micrograd is not importable: {error}") from None

        def tanh(self: Any) -> Any:
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")

            def _backward() -> None:
                self.grad += (1 - t**2) * out.grad

            out._backward = _backward
            return out

        def exp(self: Any) -> Any:
            out = Value(math.exp(self.data), (self,), "exp")

            def _backward() -> None:
                self.grad += out.data * out.grad

            out._backward = _backward
            return out

        if not hasattr(Value, "tanh"):
            Value.tanh = tanh
        if not hasattr(Value, "exp"):
            Value.exp = exp
        self.Value = Value

    def leaf(self, x: float) -> Any:
        return self.Value(x)

    def version(self) -> str:
        from importlib.metadata import version

        return version("micrograd")


class Bare(ObjectEngine):
    """``bare.BareValue`` (see bare.py), as Python or compiled to C by mypyc.

    ``native=True`` imports the copy ``run.py`` compiled into the folder named by
    CHAINRULE_BENCH_NATIVE_DIR, and refuses to run it if it is not compiled.
    """

    def __init__(self, native: bool = False) -> None:
        self.name = "bare-native" if native else "bare-python"
        if not native:
            from bare import BareValue

            self.BareValue = BareValue
            return
        import os
        import sys

        folder = os.environ.get("CHAINRULE_BENCH_NATIVE_DIR")
        if not folder:
            raise Unavailable("run.py did not compile bare.py (no CHAINRULE_BENCH_NATIVE_DIR)")
        sys.path.insert(0, folder)
        import bare_native

        if bare_native.__file__ is None or bare_native.__file__.endswith(".py"):
            raise Unavailable(f"bare_native is not compiled: {bare_native.__file__}")
        self.BareValue = bare_native.BareValue

    def leaf(self, x: float) -> Any:
        return self.BareValue(x)

    def version(self) -> str:
        if self.name == "bare-python":
            return ""
        from importlib.metadata import version

        return f"mypyc {version('mypy')}"


class Torch(ObjectEngine):
    """PyTorch on the CPU, one float64 0-d tensor per scalar, one thread."""

    name = "torch"

    def __init__(self) -> None:
        try:
            import torch
        except ImportError as error:
            raise Unavailable(f"torch is not importable: {error}") from None
        torch.set_num_threads(1)
        self.torch = torch

    def leaf(self, x: float) -> Any:
        return self.torch.tensor(x, dtype=self.torch.float64, requires_grad=True)

    def grad(self, leaf: Any) -> float:
        return 0.0 if leaf.grad is None else float(leaf.grad.item())

    def data(self, node: Any) -> float:
        return float(node.item())

    def descend(self, params: list[Any], lr: float) -> None:
        with self.torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None

    def version(self) -> str:
        return str(self.torch.__version__)


# --- the float floor: plain floats over a flat tape ------------------------------------

# Ops the floor's tape has beyond the DAG's: an operand that is a constant, held inline.
ADD_CONSTANT, MUL_CONSTANT = 4, 5


def tape_backward(values: list[float], tape: list[tuple[int, Any, Any]]) -> list[float]:
    """Reverse sweep over a flat tape; node ``len(values) - len(tape) + r`` is tape[r]."""
    grads = [0.0] * len(values)
    grads[-1] = 1.0
    k = len(values) - 1
    for op, i, j in reversed(tape):
        g = grads[k]
        if op == ADD:
            grads[i] += g
            grads[j] += g
        elif op == MUL:
            grads[i] += g * values[j]
            grads[j] += g * values[i]
        elif op == TANH:
            t = values[k]
            grads[i] += g * (1.0 - t * t)
        elif op == EXP:
            grads[i] += g * values[k]
        elif op == MUL_CONSTANT:
            grads[i] += g * j
        else:  # ADD_CONSTANT
            grads[i] += g
        k -= 1
    return grads


class Floor:
    """The same arithmetic on plain floats: forward appends to a tape, backward walks it.

    No objects per node beyond a float and a tape record, no dispatch through an op
    table, no checks: the cost of the arithmetic and the loop, a floor for any engine
    written in Python.
    """

    name = "floor"

    def version(self) -> str:
        return ""

    def build_dag(self, spec: DagSpec) -> list[Any]:
        """[values, tape]; run_backward appends the gradients."""
        values = list(spec.leaves)
        tape: list[tuple[int, int, int]] = []
        append, record = values.append, tape.append
        tanh, exp = math.tanh, math.exp
        for op, i, j in spec.records:
            if op == ADD:
                append(values[i] + values[j])
            elif op == MUL:
                append(values[i] * values[j])
            elif op == TANH:
                append(tanh(values[i]))
            else:
                append(exp(values[i]))
            record((op, i, j))
        return [values, tape]

    def run_backward(self, graph: list[Any]) -> None:
        graph.append(tape_backward(graph[0], graph[1]))

    def leaf_grads(self, graph: list[Any]) -> tuple[float, list[float]]:
        values, tape, grads = graph
        return values[-1], grads[: len(values) - len(tape)]

    def chain(self, depth: int) -> float:
        values = [0.5, 0.25]
        tape: list[tuple[int, int, int]] = []
        x = 1
        for _ in range(depth):
            values.append(values[x] + values[0])
            tape.append((ADD, x, 0))
            x = len(values) - 1
        return tape_backward(values, tape)[0]

    def mlp_setup(self, problem: MlpProblem) -> Any:
        return flat_weights(problem.weights)

    def mlp_epoch(self, state: list[float], problem: MlpProblem) -> None:
        # Slots 0..19 are the weights, in flat_weights order; the rest is recorded.
        values = list(state)
        tape: list[tuple[int, Any, Any]] = []
        append, record, tanh = values.append, tape.append, math.tanh
        loss = -1
        for x, y in zip(problem.inputs, problem.targets, strict=True):
            activations = x
            offset = 0
            constant = True  # the first layer's activations are data, not slots
            for nin, nout in ((4, 3), (3, 2), (2, 1)):
                outputs = []
                for j in range(nout):
                    z = -1
                    for i in range(nin):
                        w = offset + i * nout + j
                        if constant:
                            append(values[w] * activations[i])
                            record((MUL_CONSTANT, w, activations[i]))
                        else:
                            a = activations[i]
                            append(values[w] * values[a])
                            record((MUL, w, a))
                        if z >= 0:
                            append(values[z] + values[-1])
                            record((ADD, z, len(values) - 2))
                        z = len(values) - 1
                    append(tanh(values[z]))
                    record((TANH, z, 0))
                    outputs.append(len(values) - 1)
                activations = outputs
                offset += nin * nout
                constant = False
            append(values[activations[0]] - y)
            record((ADD_CONSTANT, activations[0], -y))
            error = len(values) - 1
            append(values[error] * values[error])
            record((MUL, error, error))
            if loss >= 0:
                append(values[loss] + values[-1])
                record((ADD, loss, len(values) - 2))
            loss = len(values) - 1
        grads = tape_backward(values, tape)
        lr = problem.learning_rate
        for k in range(len(state)):
            state[k] -= lr * grads[k]

    def mlp_weights(self, state: list[float]) -> list[float]:
        return list(state)


# --- chainrule's compiled path ---------------------------------------------------------


class Compiled:
    """chainrule's compiled path: ``autograd.trace`` once, ``value_and_grad`` per run.

    The DAG and the per-epoch MLP program replay on plain floats; ``batch=True`` traces
    one sample and replays it over the whole batch with numpy arrays.
    """

    trains_with_nn = True  # MLP training is nn.train: timed without a callback

    def __init__(self, batch: bool = False) -> None:
        try:
            from autograd import Value, trace
        except ImportError as error:
            raise Unavailable(f"autograd.trace is not importable yet: {error}") from None
        self.Value, self.trace, self.batch = Value, trace, batch
        self.name = "chainrule-compiled-batch" if batch else "chainrule-compiled"
        self._programs: dict[Any, Any] = {}

    def version(self) -> str:
        return Chainrule.version(self)  # type: ignore[arg-type]

    def program_for_dag(self, spec: DagSpec) -> Any:
        key = id(spec)
        if key not in self._programs:
            leaves = [self.Value(x) for x in spec.leaves]
            nodes = build_objects(leaves, spec.records)
            self._programs = {key: self.trace(nodes[-1], leaves)}
        return self._programs[key]

    def replay_dag(self, spec: DagSpec) -> tuple[float, list[float]]:
        out, grads = self.program_for_dag(spec).value_and_grad(spec.leaves)
        return float(out), [float(g) for g in grads]

    def chain(self, depth: int) -> float:
        a, x = self.Value(0.5), self.Value(0.25)
        for _ in range(depth):
            x = x + a
        _, grads = self.trace(x, [a]).value_and_grad([0.5])
        return float(grads[0])

    def mlp_setup(self, problem: MlpProblem) -> Any:
        weights = [[[self.Value(w) for w in row] for row in layer] for layer in problem.weights]
        flat = [w for layer in weights for row in layer for w in row]
        if not self.batch:
            return self.trace(mlp_loss(weights, problem), flat), flat_weights(problem.weights)
        # One sample's loss, with the sample's inputs and target as inputs of the program.
        import numpy as np

        # The sample is data: constants, so no gradient is computed for it.
        x = [self.Value(0.0, requires_grad=False) for _ in range(4)]
        y = self.Value(0.0, requires_grad=False)
        error = mlp_output(weights, x) - y
        program = self.trace(error * error, [*flat, *x, y])

        columns = [np.array([row[i] for row in problem.inputs]) for i in range(4)]
        data = [*columns, np.array(problem.targets)]
        return program, flat_weights(problem.weights), data

    def mlp_epoch(self, state: Any, problem: MlpProblem) -> None:
        program, weights = state[0], state[1]
        inputs = weights if not self.batch else [*weights, *state[2]]
        _, grads = program.value_and_grad(inputs)
        lr = problem.learning_rate
        for k in range(len(weights)):
            weights[k] -= lr * grads[k]

    def mlp_weights(self, state: Any) -> list[float]:
        return list(state[1])

    def net_train(
        self, problem: NetProblem, epochs: int, on_epoch: Callable[[], None] | None
    ) -> list[float]:
        return nn_train(problem, epochs, on_epoch, engine="compiled")


# --- batched MLP training: PyTorch tensors, and numpy by hand --------------------------


def flat_arrays(weights: list[Any], biases: list[Any] | None) -> list[float]:
    """The parameters held in torch tensors or numpy arrays, in ``NetProblem.flat`` order."""
    return net_flat([W.tolist() for W in weights], [b.tolist() for b in biases] if biases else None)


class TorchBatched:
    """PyTorch on the CPU with float64 tensors over the whole batch, one thread."""

    name = "torch-batched"

    def __init__(self) -> None:
        try:
            import torch
        except ImportError as error:
            raise Unavailable(f"torch is not importable: {error}") from None
        torch.set_num_threads(1)
        self.torch = torch

    def version(self) -> str:
        return str(self.torch.__version__)

    def net_train(
        self, problem: NetProblem, epochs: int, on_epoch: Callable[[], None]
    ) -> list[float]:
        """Matrix products, autograd's backward, and the update under no_grad."""
        torch = self.torch

        def tensor(values: Any, grad: bool = False) -> Any:
            return torch.tensor(values, dtype=torch.float64, requires_grad=grad)

        weights = [tensor(w, grad=True) for w in problem.weights]
        biases = [tensor(b, grad=True) for b in problem.biases] if problem.bias else None
        params = weights + (biases or [])
        X, Y = tensor(problem.X), tensor(problem.Y)
        for _ in range(epochs):
            a = X
            for k, W in enumerate(weights):
                z = a @ W
                a = torch.tanh(z if biases is None else z + biases[k])
            loss = ((a - Y) ** 2).sum()
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= problem.learning_rate * p.grad
                    p.grad = None
            on_epoch()
        return flat_arrays(weights, biases)


class NumpyByHand:
    """The floor of batched training: forward and backward written out with numpy."""

    name = "numpy"

    def __init__(self) -> None:
        try:
            import numpy
        except ImportError as error:
            raise Unavailable(f"numpy is not importable: {error}") from None
        self.np = numpy

    def version(self) -> str:
        return str(self.np.__version__)

    def net_train(
        self, problem: NetProblem, epochs: int, on_epoch: Callable[[], None]
    ) -> list[float]:
        """Backpropagation by hand: dL/dz = dL/da * (1 - a^2), dL/dW = a_prev^T dL/dz."""
        np = self.np
        weights = [np.array(w, dtype=np.float64) for w in problem.weights]
        biases = [np.array(b, dtype=np.float64) for b in problem.biases] if problem.bias else None
        X, Y = np.array(problem.X, dtype=np.float64), np.array(problem.Y, dtype=np.float64)
        lr = problem.learning_rate
        for _ in range(epochs):
            activations = [X]
            for k, W in enumerate(weights):
                z = activations[-1] @ W
                if biases is not None:
                    z += biases[k]
                activations.append(np.tanh(z))
            delta = 2.0 * (activations[-1] - Y)  # dL/d(output) of sum (yhat - y)^2
            for k in reversed(range(len(weights))):
                a = activations[k + 1]
                dz = delta * (1.0 - a * a)
                if k:
                    delta = dz @ weights[k].T  # with the weights before this update
                weights[k] -= lr * (activations[k].T @ dz)
                if biases is not None:
                    biases[k] -= lr * dz.sum(axis=0)
            on_epoch()
        return flat_arrays(weights, biases)


def make(name: str) -> Any:
    """The adapter called ``name``; raises Unavailable with the reason if it cannot run."""
    if name == "chainrule":
        return Chainrule()
    if name == "chainrule-compiled":
        return Compiled()
    if name == "chainrule-compiled-batch":
        return Compiled(batch=True)
    if name == "micrograd":
        return Micrograd()
    if name == "torch":
        return Torch()
    if name == "torch-batched":
        return TorchBatched()
    if name == "numpy":
        return NumpyByHand()
    if name == "floor":
        return Floor()
    if name == "bare-python":
        return Bare()
    if name == "bare-native":
        return Bare(native=True)
    raise ValueError(f"unknown contender {name!r}")
