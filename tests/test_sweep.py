"""The one reverse sweep, and the copies kept for speed, tested equal to it.

``autograd.backpropagate`` is the algorithm; ``Value.backward`` (floats on the ``.grad``
attributes) and the compiled replay (floats on a program's slots) are written-out copies
of it, and ``viz.backward_steps`` records it step by step. On random graphs over every op
of the table they give the same numbers, bit for bit, and fail with the same error. (A
batch replay runs numpy's forwards, an ulp from the standard library's:
tests/test_compiled_equivalence.py proves it exact on the standard library's numbers.)
"""

from __future__ import annotations

import math
import random

import pytest
from op_cases import random_graph

import viz
from autograd import Value, backpropagate, gradients, topological_order, trace


def graph(seed: int) -> tuple[Value, list[Value]]:
    rng = random.Random(seed)
    leaves = [Value(rng.uniform(-1.5, 1.5), label=f"x{i}") for i in range(4)]
    leaves[1].requires_grad = False
    return random_graph(rng, leaves, rng.randrange(5, 60)), leaves


@pytest.mark.parametrize("seed", range(25))
def test_backward_and_every_replay_are_the_one_sweep_bit_for_bit(seed: int) -> None:
    out, leaves = graph(seed)
    swept = gradients(out)
    out.backward()
    for node in topological_order(out, only_requiring_grad=True):
        assert node.grad == swept[node], node
    program = trace(out, leaves)
    _, replayed = program.value_and_grad([v.data for v in leaves])
    assert replayed == [swept.get(v, 0.0) if v.requires_grad else 0.0 for v in leaves]
    steps = viz.backward_steps(out)
    assert all(steps[-1].grads[n] == swept.get(n) for n in steps[-1].nodes if n.requires_grad)


@pytest.mark.parametrize("seed", range(8))
def test_the_sweep_on_values_computes_the_same_numbers(seed: int) -> None:
    out, _ = graph(seed)
    on_floats, on_values = gradients(out), gradients(out, differentiable=True)
    for node, value in on_values.items():
        assert math.isclose(value.data, on_floats[node], rel_tol=1e-13, abs_tol=1e-300)


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda x: (x * 1e200) * 1e200 + x, OverflowError),  # a gradient of 1e400
        (lambda x: (x * 0.0).sqrt() * 2.0 + x, ValueError),  # sqrt's slope at 0 is infinite
        (lambda x: (-8.0) ** (x * 2.0), ValueError),  # d/db of a negative base to b
    ],
)
def test_backward_and_the_sweep_fail_alike(build: object, error: type) -> None:
    x = Value(1e-300 if error is OverflowError else 1.0, label="x")
    out = build(x)  # type: ignore[operator]
    with pytest.raises(error) as raised:
        out.backward()
    with pytest.raises(error) as swept:
        gradients(out)
    assert str(raised.value).startswith(str(swept.value))
    assert x.grad == 0.0


def test_the_hook_sees_each_node_once_after_it_has_sent() -> None:
    a = Value(2.0, label="a")
    b = a * a
    c = b + a
    seen: list[tuple[str, float, float]] = []

    def hook(node: Value, gradient: float, grads: dict) -> None:
        seen.append((node.label or node.op, gradient, grads.get(a, 0.0)))

    def edges(node: Value) -> list[tuple[int, Value, float]]:
        local = (1.0, 1.0) if node.op == "+" else (a.data, a.data)
        return [(slot, p, d) for slot, (p, d) in enumerate(zip(node.parents, local, strict=False))]

    grads = backpropagate(topological_order(c), edges, {c: 1.0}, zero=0.0, on_step=hook)
    assert grads[a] == 5.0
    assert seen == [("+", 1.0, 1.0), ("*", 1.0, 5.0), ("a", 5.0, 5.0)]
