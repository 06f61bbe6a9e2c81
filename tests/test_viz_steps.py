"""viz.backward_steps: the backward pass as data, at the operation and the neuron level."""

from __future__ import annotations

import math
import random

import pytest

import nn
import viz
from autograd import Value, topological_order


def sample_loss(model: nn.MLP) -> Value:
    return nn.total_loss(model, [[0.5, -1.0, 0.25, 2.0]], [1.0])


@pytest.mark.parametrize("level", ["op", "neuron"])
def test_last_step_is_backward_and_no_grad_is_touched(level: str) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=3, bias=True)
    loss = sample_loss(model)
    order = topological_order(loss)
    for i, node in enumerate(order):
        node.grad = 100.0 + i
    steps = viz.backward_steps(loss, level=level)  # type: ignore[arg-type]
    assert [node.grad for node in order] == [100.0 + i for i in range(len(order))]
    model.zero_grad()
    loss.backward()
    last = steps[-1]
    for p in model.parameters():
        assert last.grads[p] == pytest.approx(p.grad, rel=1e-12, abs=1e-15)
        assert last.complete(p)
    # Every contribution is the sender's grad at that step times the edge's derivative,
    # and a node's grad is the sum of what it received.
    for step in steps[1:]:
        assert step.node is not None
        for c in step.sent:
            assert c.grad == step.grads[step.node]
            assert c.value == c.grad * c.edge.derivative
    for node in last.nodes:
        arrived = [c.value for c in last.received[node]]
        if arrived:
            assert last.grads[node] == pytest.approx(math.fsum(arrived))


def test_neuron_level_is_the_lecture_notes_network() -> None:
    """One step per neuron, loss first; the edges are the notes' dO_21/dO_11, by hand."""
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = sample_loss(model)
    steps = viz.backward_steps(loss, level="neuron")
    names = [s.node.label if s.node else "start" for s in steps]
    assert names == ["start", "L", "O_31", "O_22", "O_21", "O_13", "O_12", "O_11"]
    o11, o21 = (model.layers[0].neurons[0].output, model.layers[1].neurons[0].output)
    assert o11 is not None and o21 is not None
    step_o21 = steps[names.index("O_21")]
    by_parent = {c.edge.parent.label: c for c in step_o21.sent}
    assert set(by_parent) == {"O_11", "O_12", "O_13", "w^2_11", "w^2_21", "w^2_31"}
    # tanh: dO_21/dO_11 = (1 - O_21^2) * w^2_11 and dO_21/dw^2_11 = (1 - O_21^2) * O_11.
    w211 = model.weight(2, 1, 1).data
    assert by_parent["O_11"].edge.derivative == pytest.approx((1 - o21.data**2) * w211)
    assert by_parent["w^2_11"].edge.derivative == pytest.approx((1 - o21.data**2) * o11.data)
    # O_11 feeds O_21 and O_22: after O_21's step one contribution is still to come.
    assert [e.child.label for e in step_o21.to_come[o11]] == []
    step_o22 = steps[names.index("O_22")]
    assert [e.child.label for e in step_o22.to_come[o11]] == ["O_21"]
    assert not step_o22.complete(o11) and step_o21.complete(o11)
    assert step_o22.grads[o11] is not None and step_o21.grads[o11] is not None


def test_op_level_matches_gradient_edges_step_by_step() -> None:
    rng = random.Random(5)
    a, b = Value(rng.uniform(-1, 1), label="a"), Value(rng.uniform(-1, 1), label="b")
    y = (a * b + a).tanh() * a
    steps = viz.backward_steps(y)
    assert steps[0].node is None and steps[0].grads[y] == 1.0
    assert all(g is None for n, g in steps[0].grads.items() if n is not y)
    processed = [s.node for s in steps[1:]]
    assert processed == [n for n in reversed(topological_order(y)) if n.parents]


def test_bad_input() -> None:
    with pytest.raises(TypeError, match="expected a Value"):
        viz.backward_steps(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="constant"):
        viz.backward_steps(Value(1.0, requires_grad=False))
    with pytest.raises(ValueError, match="level must be"):
        viz.backward_steps(Value(1.0), level="layer")  # type: ignore[arg-type]
