"""Random expression DAGs with heavy node reuse, checked against PyTorch in float64.

A program is generated once with the engine (so domain guards can look at values) and
then replayed, instruction by instruction, on Values and on torch tensors: both support
the same operators and methods, so one replay serves both.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from oracles import require_torch

from autograd import Value, grad

torch = require_torch("the gradient oracle's tests")

Guard = Callable[..., bool]

# name -> (arity, operation on Values or tensors, guard on the operands' data)
UNARY: dict[str, tuple[Callable[[Any], Any], Guard]] = {
    "neg": (lambda a: -a, lambda a: True),
    "exp": (lambda a: a.exp(), lambda a: a < 4.0),
    "log": (lambda a: a.log(), lambda a: a > 0.1),
    "tanh": (lambda a: a.tanh(), lambda a: True),
    "sigmoid": (lambda a: a.sigmoid(), lambda a: True),
    "relu": (lambda a: a.relu(), lambda a: abs(a) > 1e-3),
    "abs": (lambda a: a.abs(), lambda a: abs(a) > 1e-3),
    "sin": (lambda a: a.sin(), lambda a: True),
    "cos": (lambda a: a.cos(), lambda a: True),
    "sqrt": (lambda a: a.sqrt(), lambda a: a > 0.1),
    "square": (lambda a: a**2, lambda a: True),
    "cube": (lambda a: a**3.0, lambda a: True),
    "pow 1.5": (lambda a: a**1.5, lambda a: a > 0.1),
    "pow -1": (lambda a: a**-1, lambda a: abs(a) > 0.2),
    "2 ** a": (lambda a: 2.0**a, lambda a: a < 6.0),
    "1.5 - a": (lambda a: 1.5 - a, lambda a: True),
    "0.7 * a": (lambda a: 0.7 * a, lambda a: True),
    "2 / a": (lambda a: 2.0 / a, lambda a: abs(a) > 0.2),
    "a + 0.3": (lambda a: a + 0.3, lambda a: True),
}
BINARY: dict[str, tuple[Callable[[Any, Any], Any], Guard]] = {
    "+": (lambda a, b: a + b, lambda a, b: True),
    "-": (lambda a, b: a - b, lambda a, b: True),
    "*": (lambda a, b: a * b, lambda a, b: True),
    "/": (lambda a, b: a / b, lambda a, b: abs(b) > 0.2),
    "**": (lambda a, b: a**b, lambda a, b: a > 0.1 and abs(b) < 3.0),
}

Instruction = tuple[str, tuple[int, ...]]


def replay(program: Sequence[Instruction], leaves: Sequence[Any], outputs: Sequence[int]) -> Any:
    """Run the program on leaves (Values or tensors); the sum of the output nodes."""
    nodes = list(leaves)
    for name, operands in program:
        operation = UNARY[name][0] if name in UNARY else BINARY[name][0]
        nodes.append(operation(*[nodes[i] for i in operands]))
    total = nodes[outputs[0]]
    for i in outputs[1:]:
        total = total + nodes[i]
    return total


def random_program(
    rng: random.Random, point: Sequence[float], size: int
) -> tuple[list[Instruction], list[int]]:
    """Instructions whose operands are drawn mostly from recent nodes, often repeated."""
    data = list(point)
    program: list[Instruction] = []
    names = [*UNARY, *BINARY]
    while len(program) < size:
        name = rng.choice(names)
        arity = 1 if name in UNARY else 2
        recent = max(0, len(data) - 6)
        operands = tuple(
            rng.randrange(recent, len(data)) if rng.random() < 0.7 else rng.randrange(len(data))
            for _ in range(arity)
        )
        if rng.random() < 0.15 and arity == 2:
            operands = (operands[0], operands[0])  # a op a
        guard = UNARY[name][1] if name in UNARY else BINARY[name][1]
        if not guard(*[data[i] for i in operands]):
            continue
        try:
            result = replay([(name, operands)], [Value(data[i]) for i in range(len(data))], [-1])
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
        if abs(result.data) > 1e3:
            continue
        program.append((name, operands))
        data.append(result.data)
    # Sum several nodes (always the last) so gradients reach leaves along many paths.
    outputs = sorted({len(data) - 1, *rng.sample(range(len(point), len(data)), k=3)})
    return program, outputs


def close(actual: float, expected: float) -> bool:
    return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9)


def torch_leaves(point: Sequence[float]) -> list[Any]:
    return [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in point]


@pytest.mark.parametrize("seed", range(40))
def test_random_dag_value_and_gradients_match_torch(seed: int) -> None:
    rng = random.Random(seed)
    point = [rng.uniform(-2.0, 2.0) for _ in range(rng.randint(1, 4))]
    program, outputs = random_program(rng, point, size=rng.randint(10, 60))

    leaves = [Value(p) for p in point]
    out = replay(program, leaves, outputs)
    out.backward()

    t_leaves = torch_leaves(point)
    t_out = replay(program, t_leaves, outputs)
    t_grads = torch.autograd.grad(t_out, t_leaves, allow_unused=True)

    assert close(out.data, t_out.item()), (out.data, t_out.item())
    for i, (leaf, t_grad) in enumerate(zip(leaves, t_grads, strict=True)):
        expected = 0.0 if t_grad is None else t_grad.item()
        assert close(leaf.grad, expected), (i, leaf.grad, expected)


def test_random_dags_reuse_nodes() -> None:
    # The generator must really produce shared subexpressions, or the oracle proves less.
    reused = 0
    for seed in range(40):
        rng = random.Random(seed)
        point = [rng.uniform(-2.0, 2.0) for _ in range(rng.randint(1, 4))]
        program, _ = random_program(rng, point, size=rng.randint(10, 60))
        uses: dict[int, int] = {}
        for _, operands in program:
            for i in operands:
                uses[i] = uses.get(i, 0) + 1
        reused += sum(1 for count in uses.values() if count > 1)
    assert reused > 200


def test_wide_reuse_matches_torch() -> None:
    # Every node feeds every later node: the number of paths grows like 2 ** n.
    point = 0.37

    def build(x: Any) -> Any:
        nodes = [x]
        for k in range(12):
            total = nodes[0] * 0.1
            for node in nodes[1:]:
                total = total + node * 0.1
            nodes.append((total + 0.05 * k).tanh())
        return nodes[-1]

    x = Value(point)
    build(x).backward()
    t_x = torch_leaves([point])[0]
    build(t_x).backward()
    assert close(x.grad, t_x.grad.item())


@pytest.mark.parametrize("seed", range(8))
def test_second_derivatives_match_torch(seed: int) -> None:
    rng = random.Random(1000 + seed)
    point = [rng.uniform(-2.0, 2.0) for _ in range(2)]
    program, outputs = random_program(rng, point, size=rng.randint(6, 20))
    f = lambda x, y: replay(program, [x, y], outputs)

    t_leaves = torch_leaves(point)
    t_out = replay(program, t_leaves, outputs)
    t_first = torch.autograd.grad(t_out, t_leaves, create_graph=True, allow_unused=True)
    # The program calls methods on both arguments, so the point goes in as constant Values.
    at = [Value(p, requires_grad=False) for p in point]
    for i in range(2):
        first = grad(f, argnum=i)(*at)
        t_grad = t_first[i]
        assert close(first.data, 0.0 if t_grad is None else t_grad.item())
        for j in range(2):
            second = grad(grad(f, argnum=i), argnum=j)(*at)
            if t_grad is None or not t_grad.requires_grad:
                expected = 0.0
            else:
                (t_second,) = torch.autograd.grad(
                    t_grad, t_leaves[j], retain_graph=True, allow_unused=True
                )
                expected = 0.0 if t_second is None else t_second.item()
            assert close(second.data, expected), (i, j, second, expected)
