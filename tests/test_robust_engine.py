"""The engine under bad input: errors that name the user's operation, a failed backward()
that changes nothing, and graphs, models and gradients that pickle and deep-copy at any
depth."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import OPS, Value, grad, gradcheck, topological_order

# --- overflow in a derived op names that op and its numbers -----------------------------


@pytest.mark.parametrize(
    ("compute", "message"),
    [
        (lambda: Value(1.0) / 1e-320, r"^1\.0 / 1e-320 overflows a float$"),
        (lambda: Value(1.0) / Value(1e-320), r"^1\.0 / 1e-320 overflows a float$"),
        (lambda: 1.0 / Value(1e-320), r"^1\.0 / 1e-320 overflows a float$"),
        (lambda: Value(1e300) / 1e-10, r"^1e\+300 / 1e-10 overflows a float$"),
        (lambda: Value(1e308) - (-1e308), r"subtraction 1e\+308 - -1e\+308 overflows"),
        (lambda: 1e308 - Value(-1e308), r"subtraction 1e\+308 - -1e\+308 overflows"),
        (lambda: grad(lambda t: t / 1e-320)(1.0), r"^1\.0 / 1e-320 overflows a float$"),
    ],
)
def test_an_overflowing_op_is_named_as_the_user_wrote_it(
    compute: Callable[[], Any], message: str
) -> None:
    # A division is one op; a subtraction is a + b * -1, named as the user's subtraction.
    with pytest.raises(OverflowError, match=message):
        compute()


def test_a_quotient_that_fits_is_still_computed() -> None:
    assert (Value(1e-300) / 1e-10).data == pytest.approx(1e-290)
    assert (1.0 / Value(4.0)).data == 0.25


def test_an_overflow_inside_a_derivative_names_the_node_not_its_rule() -> None:
    # d/dt t ** 0.001 = 0.001 * t ** -0.999 overflows at t = 1e-320: the user wrote no
    # such power; the message names the node of f whose derivative overflowed.
    with pytest.raises(OverflowError, match=r"gradient overflowed a float at the output of \*\*"):
        grad(lambda t: t**0.001)(1e-320)


def test_gradcheck_names_its_own_shift_when_it_overflows() -> None:
    with pytest.raises(OverflowError, match=r"argument 0 \(= 1\.7e\+308\) shifted by 1e\+308"):
        gradcheck(lambda t: t * 1.0, 1.7e308, eps=1e308)
    with pytest.raises(OverflowError, match="finite difference for argument 0"):
        gradcheck(lambda t: t * 1.0, 1.0, eps=1e308)
    with pytest.raises(OverflowError, match=r"f overflows at argument 0 .* shifted by"):
        gradcheck(lambda t: t * 2.0, 8.98e307, eps=1e306)


# --- a backward() that fails leaves every .grad as it was --------------------------------


def _grads(root: Value) -> list[float]:
    return [node.grad for node in topological_order(root)]


@pytest.mark.parametrize("failure", ["overflow", "infinite derivative"])
def test_a_failed_backward_changes_no_grad(failure: str) -> None:
    x = Value(1e-300, label="x")
    w = Value(3.0, label="w")
    if failure == "overflow":
        # dL/dx = 1e400 along the first path; the w * x path is processed before it.
        L = (x * 1e200) * 1e200 + w * x
    else:
        # sqrt's derivative is infinite at 0: found after w has had its contribution.
        zero = Value(0.0, label="zero")
        L = zero.sqrt() * 2.0 + w * x
    for i, node in enumerate(topological_order(L)):
        node.grad = 0.5 + i  # leaves and intermediate nodes alike hold something
    before = _grads(L)
    with pytest.raises((OverflowError, ValueError)):
        L.backward()
    assert _grads(L) == before


def test_a_backward_that_succeeds_after_a_failed_one_is_unaffected() -> None:
    x = Value(1e-300)
    bad = (x * 1e200) * 1e200
    with pytest.raises(OverflowError, match="left as it was"):
        bad.backward()
    good = x * 3.0
    good.backward()
    assert x.grad == 3.0


# --- pickling and deep copies ------------------------------------------------------------


def _structure(root: Value) -> list[tuple[Any, ...]]:
    """Each node's fields and its operands as positions in the order: equal for copies."""
    order = topological_order(root)
    position = {node: i for i, node in enumerate(order)}
    return [
        (
            node.data,
            node.grad,
            node.label,
            node.requires_grad,
            node.op,
            tuple(position[p] for p in node.parents),
        )
        for node in order
    ]


ROUND_TRIPS: list[Callable[[Any], Any]] = [
    lambda obj: pickle.loads(pickle.dumps(obj)),
    lambda obj: pickle.loads(pickle.dumps(obj, protocol=2)),
    copy.deepcopy,
]


@pytest.mark.parametrize("round_trip", ROUND_TRIPS, ids=["pickle", "pickle-2", "deepcopy"])
def test_a_small_graph_comes_back_the_same(round_trip: Callable[[Any], Any]) -> None:
    a = Value(2.0, label="a")
    c = Value(5.0, label="c", requires_grad=False)
    h = (a * a + c).tanh() / (a - 1.5) ** 2
    h.label = "h"
    h.backward()
    copied = round_trip(h)
    assert copied is not h
    assert _structure(copied) == _structure(h)
    square = copied.parents[0].parents[0].parents[0]  # tanh <- + <- a * a
    assert square.op == "*" and square.parents[0] is square.parents[1]
    assert all(n._op is OPS[n.op] for n in topological_order(copied) if n.op)
    # The copy is a live graph: its backward gives the original's gradient.
    leaf = square.parents[0]
    leaf.grad = 0.0
    copied.backward()
    assert leaf.grad == a.grad


@pytest.mark.parametrize("round_trip", [ROUND_TRIPS[0], ROUND_TRIPS[2]], ids=["pickle", "deepcopy"])
def test_a_graph_100000_deep_pickles_without_recursion(
    round_trip: Callable[[Any], Any],
) -> None:
    x = Value(0.5, label="x")
    y = x
    for i in range(100_000):
        y = y * 0.99999 if i % 2 else y + x
    y.label = "y"
    y.backward()
    copied = round_trip(y)
    assert _structure(copied) == _structure(y)


def test_values_shared_between_objects_stay_shared() -> None:
    a = Value(2.0, label="a")
    b = a * a
    loaded_a, loaded_b = pickle.loads(pickle.dumps([a, b]))
    assert loaded_b.parents == (loaded_a, loaded_a)
    # The other order: the graph first, then a Value inside it.
    loaded_b, loaded_a = pickle.loads(pickle.dumps([b, a]))
    assert loaded_b.parents == (loaded_a, loaded_a)


def test_ops_pickle_by_name() -> None:
    assert pickle.loads(pickle.dumps(OPS["tanh"])) is OPS["tanh"]
    data = pickle.dumps(Value(2.0) * 3.0).replace(b"\x8c\x01*", b"\x8c\x01?")
    with pytest.raises(ValueError, match="unknown op '\\?'"):
        pickle.loads(data)
    custom = dataclasses.replace(OPS["tanh"], name="twice")  # a row that is not in the table
    with pytest.raises(pickle.PicklingError, match=r"'twice' is not a row of autograd\.OPS"):
        pickle.dumps(custom)


@pytest.mark.parametrize("round_trip", ROUND_TRIPS, ids=["pickle", "pickle-2", "deepcopy"])
def test_a_model_after_a_forward_pass_pickles(round_trip: Callable[[Any], Any]) -> None:
    data = nn.iris_binary("setosa")
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = nn.total_loss(model, data.X[:5], data.y[:5], l2=1e-3)
    loss.backward()
    model_copy, loss_copy = round_trip((model, loss))
    assert _structure(loss_copy) == _structure(loss)
    assert [w.data for w in model_copy.parameters()] == [w.data for w in model.parameters()]
    assert [w.grad for w in model_copy.parameters()] == [w.grad for w in model.parameters()]
    # The copied model's weights are the leaves of the copied loss, not copies of them.
    leaves = {id(n) for n in topological_order(loss_copy) if not n.parents}
    assert all(id(w) in leaves for w in model_copy.parameters())
    # And the copy trains on: a backward from the copied loss reaches the copied weights.
    model_copy.zero_grad()
    loss_copy.backward()
    assert [w.grad for w in model_copy.parameters()] == [w.grad for w in model.parameters()]
    assert model_copy(data.X[0]).data == model(data.X[0]).data


# Random graphs with heavy sharing: each step combines two earlier nodes (often the same
# one twice) or applies a unary op; some nodes are labelled, some leaves are constants.
_steps = st.lists(
    st.tuples(
        st.sampled_from(["+", "*", "tanh", "sin"]), st.integers(0, 10**6), st.integers(0, 10**6)
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4), _steps, st.booleans())
def test_random_graphs_round_trip_with_their_sharing(
    leaves: list[float], steps: list[tuple[str, int, int]], deep: bool
) -> None:
    nodes = [Value(x, label=f"x_{i}", requires_grad=i % 3 != 2) for i, x in enumerate(leaves)]
    for k, (op, i, j) in enumerate(steps):
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        node = a + b if op == "+" else a * b if op == "*" else getattr(a, op)()
        node.label = f"v{k}" if k % 4 == 0 else ""
        nodes.append(node)
    root = sum(nodes[-3:], Value(0.0))
    if root.requires_grad:
        root.backward()
    copied = (copy.deepcopy if deep else lambda o: pickle.loads(pickle.dumps(o)))(root)
    # Operands are compared as positions of distinct nodes: a shared node copied twice
    # would add nodes to the copy's order and change the positions.
    assert _structure(copied) == _structure(root)
