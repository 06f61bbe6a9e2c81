"""The generated batch replay computes what the interpreted batch replay and the engine do.

The generated code (autograd.codegen) is a copy of the interpreted batch replay kept for
speed: one straight-line numpy function per program. Where it adds in the engine's
order (everything but long sums run as matrix products) it must equal the interpreted
replay number for number; where it runs a matrix product, the rounding guard must keep
each sum within 1e-10 of the engine's order, and give the engine's own number for any
sum whose terms cancel.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from random_graphs import NUMBERS, WEIGHTS, Layered, batch_inputs, graphs, layered, traced

import nn
from autograd import OPS, Value, define_op, threads, trace
from autograd.codegen import AGREEMENT, guard_factor, in_order
from autograd.plan import EXACT_TERMS, DotGroup, plan_for
from autograd.replay import batch_replay, run
from nn.batched import BatchedLoss

SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


def generated_and_interpreted(program: Any, inputs: list[Any]) -> tuple[Any, Any] | None:
    """The generated code's result on these inputs and the interpreted batch replay's,
    or None when a check of the generated code fires (the replay then falls back)."""
    mask = np.array([isinstance(x, np.ndarray) for x in inputs])
    shared = np.array([x for x in inputs if not isinstance(x, np.ndarray)], dtype=float)
    rows = np.stack([x for x in inputs if isinstance(x, np.ndarray)])
    result = batch_replay(program, mask).run(shared, rows, with_grad=True)
    if result is None:
        return None
    try:
        reference = run(program, inputs, True, generated=False)
    except (ArithmeticError, ValueError):
        pytest.fail("the generated code ran through where the interpreted replay raises")
    return result, reference


def assert_same(result: Any, reference: Any, mask: np.ndarray, rel: float = 0.0) -> None:
    out, shared_grads, batched_grads = result
    ref_out, ref_grads = reference

    def same(a: Any, b: Any) -> bool:
        if rel == 0.0:
            return bool(np.array_equal(a, b))
        # Gradients summed over the batch may cancel: near 0, compare to their scale.
        scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
        return bool(np.allclose(a, b, rtol=rel, atol=rel * scale))

    assert same(out, ref_out)
    shared = [g for g, m in zip(ref_grads, mask, strict=True) if not m]
    assert same(shared_grads, np.array(shared, dtype=float))
    batched = [g for g, m in zip(ref_grads, mask, strict=True) if m]
    if batched_grads is None:
        assert all(not np.any(g) for g in batched)
    else:
        assert same(batched_grads, np.stack(batched))


@SETTINGS
@given(graph=graphs(), data=st.data())
def test_generated_code_is_the_interpreted_batch_replay_number_for_number(
    graph: Any, data: st.DataObject
) -> None:
    n = len(graph.requires_grad)
    program = traced(graph, data.draw(st.lists(NUMBERS, min_size=n, max_size=n)))
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(any)))
    inputs = batch_inputs(data, mask.tolist())
    both = generated_and_interpreted(program, inputs)
    assume(both is not None)
    assert both is not None
    assert_same(*both, mask)


def layered_inputs(graph: Layered, data: st.DataObject, size: int) -> tuple[Any, list[Any]]:
    n = graph.n_weights()
    weights = data.draw(st.lists(WEIGHTS, min_size=n, max_size=n))
    rows = [
        data.draw(st.lists(st.floats(-3, 3), min_size=graph.n_inputs, max_size=graph.n_inputs))
        for _ in range(size)
    ]
    leaves = [Value(0.1) for _ in range(n)]
    xs = [Value(0.5, requires_grad=False) for _ in range(graph.n_inputs)]
    return (leaves, xs), [*weights, *(np.array(c) for c in zip(*rows, strict=True))]


@settings(max_examples=40, deadline=None)
@given(graph=layered(), data=st.data(), fuse=st.booleans())
def test_a_layer_added_in_the_engines_order_is_the_interpreted_replay_to_the_bit(
    graph: Layered, data: st.DataObject, fuse: bool
) -> None:
    # Traced with fuse=False, every sum is added in the engine's order; with fuse=True,
    # sums shorter than EXACT_TERMS are, and longer ones agree to the guard's bound.
    (leaves, xs), inputs = layered_inputs(graph, data, data.draw(st.integers(1, 6)))
    try:
        program = trace(graph.build(leaves, xs), [*leaves, *xs], fuse=fuse)
    except (ArithmeticError, ValueError):
        assume(False)
    mask = np.array([isinstance(x, np.ndarray) for x in inputs])
    groups = [g for g in plan_for(program, mask, grouped=True).steps if isinstance(g, DotGroup)]
    assert groups
    terms = [g.weights.shape[0] + (g.biases is not None) for g in groups]
    assert [g.exact for g in groups] == [not fuse or t < EXACT_TERMS for t in terms]
    both = generated_and_interpreted(program, inputs)
    assume(both is not None)
    assert both is not None
    if all(g.exact for g in groups):
        assert_same(*both, mask)
    else:  # where rounding matters little (see the same test against the engine)
        n = graph.n_weights()
        columns = [x for x in inputs[n:]]
        points = [[float(c[k]) for c in columns] for k in range(len(columns[0]))]
        assume(all(graph.largest(inputs[:n], point) < 1e3 for point in points))
        assert_same(*both, mask, rel=1e-9)


def wide_layer(inputs: int, neurons: int, activation: str) -> tuple[Any, list[Value]]:
    """``neurons`` sums of ``inputs`` products plus a bias, then ``activation``, summed."""
    weights = [Value(0.0, f"w{k}") for k in range(inputs * neurons + neurons)]
    xs = [Value(0.0, f"x{i}", requires_grad=False) for i in range(inputs)]
    out = None
    for j in range(neurons):
        row = weights[j * (inputs + 1) : (j + 1) * (inputs + 1)]
        z = row[0] * xs[0]
        for w, x in zip(row[1:-1], xs[1:], strict=True):
            z = z + w * x
        h = OPS[activation](z + row[-1])
        out = h if out is None else out + h
    assert out is not None
    return trace(out, [*weights, *xs]), weights


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_long_sums_as_matrix_products_agree_with_the_engines_order(activation: str) -> None:
    rng = random.Random(7)
    program, weights = wide_layer(24, 6, activation)
    exact = trace_again(program, fuse=False)
    inputs = [rng.uniform(-1, 1) for _ in weights]
    inputs += [np.array([rng.uniform(-2, 2) for _ in range(30)]) for _ in range(24)]
    mask = np.array([isinstance(x, np.ndarray) for x in inputs])
    groups = [g for g in plan_for(program, mask, grouped=True).steps if isinstance(g, DotGroup)]
    assert groups and not any(g.exact for g in groups)
    out, grads = program.value_and_grad(inputs)
    engine_out, engine_grads = exact.value_and_grad(inputs)
    assert out == pytest.approx(engine_out, rel=1e-12)
    assert grads[: len(weights)] == pytest.approx(engine_grads[: len(weights)], rel=1e-9)


def trace_again(program: Any, *, fuse: bool) -> Any:
    from dataclasses import replace

    return replace(program, fuse=fuse)


def cancelling_weights(inputs: int, neurons: int, scale: float, seed: int) -> list[float]:
    """Per neuron: pairs of weights +-scale * r, whose products with equal inputs cancel
    exactly when each product is rounded on its own, and a bias of 0."""
    rng = random.Random(seed)
    weights: list[float] = []
    for _ in range(neurons):
        for _ in range(inputs // 2):
            r = rng.uniform(1.0, 3.0) * scale
            weights += [r, -r]
        weights.append(0.0)
    return weights


@pytest.mark.parametrize("scale", [1e80, 1.0])
def test_sums_whose_terms_cancel_give_the_engines_numbers(scale: float) -> None:
    # In the engine's order each product is rounded on its own, so x * r - x * r is 0
    # and relu(0) is 0, with gradient 0. A matrix product with fused multiply-adds
    # (OpenBLAS on x86-64) keeps the first product's rounding error instead: +-1e64 for
    # terms of 1e80, +-1e-16 for terms of 1, and relu passes the positive ones on, with
    # gradients. The guard sees sum |terms| far above |sum| and sends those sums to the
    # engine's order.
    program, weights = wide_layer(16, 4, "relu")
    xs = [1.0 / 3.0, math.pi, -0.1, 7.0 / 11.0, 0.2, 1.0 / 7.0, 2.5, math.e]
    inputs: list[Any] = cancelling_weights(16, 4, scale, seed=1)
    # Inputs of a pair equal, so that each pair's products cancel.
    inputs += [np.array([xs[(i // 2 + k) % 8] for k in range(5)]) for i in range(16)]
    mask = np.array([isinstance(v, np.ndarray) for v in inputs])
    (group,) = [g for g in plan_for(program, mask, grouped=True).steps if isinstance(g, DotGroup)]
    assert not group.exact
    out, grads = program.value_and_grad(inputs)
    assert out.tolist() == [0.0] * 5
    assert grads[: len(weights)] == [0.0] * len(weights)
    for k in range(5):
        point = [v[k] if isinstance(v, np.ndarray) else v for v in inputs]
        assert program.interpret(point)[0] == 0.0


def test_a_guarded_sum_is_recomputed_in_the_engines_order() -> None:
    A = np.array([[3e80, 1.0], [1.0 / 3.0, 2.0], [-3e80, 3.0]])
    B = np.array([[1.0 / 3.0], [1.0], [1.0 / 3.0]])
    unsure = np.array([[True], [True]])
    expected = [(A[0, r] * B[0, 0] + A[1, r] * B[1, 0]) + A[2, r] * B[2, 0] for r in range(2)]
    result = np.zeros((2, 1))
    in_order(A, B, unsure, None, result)
    assert result[:, 0].tolist() == expected
    in_order(A, B, unsure, np.array([0.5, 1.5]), result)
    assert result[:, 0].tolist() == [e + b for e, b in zip(expected, [0.5, 1.5], strict=True)]
    in_order(A, B, np.array([[False], [True]]), None, result)  # only where unsure
    assert result[:, 0].tolist() == [expected[0] + 0.5, expected[1]]


@pytest.mark.parametrize("terms", [2, 8, 64, 1000])
def test_the_guard_bounds_any_order_of_summation(terms: int) -> None:
    # Sums of random terms in two orders (left to right, and numpy's pairwise): where the
    # guard vouches for a sum, the two agree to AGREEMENT.
    rng = np.random.default_rng(terms)
    for _ in range(200):
        t = rng.standard_normal(terms) * 10.0 ** rng.integers(-5, 5, terms)
        left_to_right = np.cumsum(t)[-1]
        pairwise = float(np.sum(t))
        if np.abs(t).sum() * guard_factor(terms) <= abs(pairwise):
            assert abs(left_to_right - pairwise) <= AGREEMENT * abs(pairwise)


def test_the_lecture_notes_network_is_a_few_matrix_lines() -> None:
    data = nn.iris_binary("setosa")
    model = nn.MLP(4, [3, 2, 1], seed=0)
    source = BatchedLoss(model, data.X, [[float(t)] for t in data.y]).source
    code = [line.split("#")[0] for line in source.splitlines()]
    # Three layers, three calls of tanh, however many neurons: each layer's sums and
    # activations are matrix lines, the sums added as the engine adds them.
    assert sum(line.count("np.tanh(") for line in code) == 3
    assert source.count("added as the engine adds them") == 2
    assert "def replay(w, X, s, with_grad):" in source
    assert len(source.splitlines()) < 80


def test_a_program_shows_its_source_for_any_choice_of_batched_inputs() -> None:
    x, w = Value(1.0, "x", requires_grad=False), Value(0.5, "w")
    program = trace((w * x).exp(), [w, x])
    assert "np.exp(" in program.source()
    assert program.source([True, False]) != program.source()
    with pytest.raises(ValueError, match="one bool per input"):
        program.source([True])
    with pytest.raises(ValueError, match=r"at least one True; got \[False, False\]$"):
        program.source([False, False])
    weights_only = trace((w * Value(1.0, "z")).exp(), [w])
    with pytest.raises(ValueError, match=r"every input here requires grad \(w\); trace the data"):
        weights_only.source()


def test_ops_defined_outside_the_package_replay_through_generated_code() -> None:
    softplus = define_op(
        "softplus_test", lambda x: OPS["relu"](x) + OPS["log"](1.0 + OPS["exp"](-abs(x))),
        [lambda x, out: OPS["sigmoid"](x)],
    )  # fmt: skip
    cube = define_op(
        "cube_test", lambda x: x**3.0, [lambda x, out: 3.0 * x * x],
        numpy=lambda x: np.power(x, 3.0),
    )  # fmt: skip
    try:
        w, x = Value(0.3, "w"), Value(1.0, "x", requires_grad=False)
        program = trace(cube(softplus(w * x)) + softplus(x), [w, x])
        assert "arrays['cube_test']" in program.source()
        xs = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
        out, (dw, _) = program.value_and_grad([0.3, xs])
        for k, value in enumerate(xs):
            assert out[k] == pytest.approx(program.interpret([0.3, float(value)])[0], rel=1e-15)
        assert dw == pytest.approx(
            math.fsum(program.interpret([0.3, float(v)])[1][0] for v in xs), rel=1e-13
        )
    finally:
        del OPS["softplus_test"], OPS["cube_test"]


def test_matrix_products_run_on_one_blas_thread_and_leave_it_as_it_was() -> None:
    from threadpoolctl import threadpool_info

    def blas_threads() -> list[int]:
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = blas_threads()
    with threads.for_matrix_products(16 * 64 * 1797):
        assert set(blas_threads()) == {1}
    assert blas_threads() == before
    with threads.for_matrix_products(threads.ONE_THREAD_BELOW):  # BLAS's own choice
        assert blas_threads() == before
