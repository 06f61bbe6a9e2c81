"""A replay equals the interpreted engine, sample by sample, errors included.

Random graphs over every op of the table, on inputs from zero and subnormals up to
1e300 of both signs, some shared by the batch and some batched, some not requiring grad.
The reference is the engine itself, building each sample's graph with Value methods.

numpy's exp, tanh, log and ** may round one ulp away from math's, and a derivative rule
such as ``1 - tanh(x)**2`` near saturation turns one ulp into any relative error (at
x = 19, tanh rounds to 1.0 on one side and not on the other). So the batch property runs
the replay with math's forwards applied elementwise, and proves the replay itself exact;
a separate property bounds numpy's forwards against math's. (The derivative rules of
``**``, sin and cos still call numpy on arrays: gradients agree to 1e-12 relative.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from random_graphs import (
    NUMBERS,
    WEIGHTS,
    Graph,
    Layered,
    batch_inputs,
    graphs,
    layered,
    math_forwards,
    traced,
)

from autograd import OPS, Value, trace


def close(actual: float, expected: float) -> bool:
    """Equal to 1e-12 relative; numpy's exp, tanh, log and ** may differ from math's by an ulp."""
    return actual == pytest.approx(expected, rel=1e-12, abs=1e-300)


BOUNDED = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


@BOUNDED
@given(graph=graphs(), data=st.data())
def test_a_float_replay_is_the_engine_bit_for_bit(graph: Graph, data: st.DataObject) -> None:
    n = len(graph.requires_grad)
    program = traced(graph, data.draw(st.lists(NUMBERS, min_size=n, max_size=n)))
    point = data.draw(st.lists(NUMBERS, min_size=n, max_size=n))
    expected = graph.run(point)
    if isinstance(expected, BaseException):
        with pytest.raises(type(expected)) as error:
            program.value_and_grad(point)
        assert str(error.value) == str(expected)
        return
    out, grads = program.value_and_grad(point)
    assert (out, grads) == expected
    assert program(point) == out


@BOUNDED
@given(graph=graphs(), data=st.data())
def test_a_batch_replay_is_the_engine_sample_by_sample(graph: Graph, data: st.DataObject) -> None:
    n = len(graph.requires_grad)
    program = traced(graph, data.draw(st.lists(NUMBERS, min_size=n, max_size=n)))
    batched = data.draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(any))
    inputs = batch_inputs(data, batched)
    size = max(len(x) for x, b in zip(inputs, batched, strict=True) if b)
    samples = [
        [float(x[k]) if b else x for x, b in zip(inputs, batched, strict=True)] for k in range(size)
    ]
    forward_runs = [graph.run(sample, with_grad=False) for sample in samples]
    runs = [graph.run(sample) for sample in samples]
    with math_forwards():
        forward_failing = first_error(forward_runs)
        if forward_failing is not None:
            k, error = forward_failing
            with pytest.raises(type(error)) as raised:
                program(inputs)
            assert str(raised.value) == f"{error} (sample {k} of the batch)"
        else:
            assert list(program(inputs)) == [out for out, _ in forward_runs]  # type: ignore[misc]
        replayed = replay_or_engine_error(program, inputs, runs, batched)
        if replayed is None:
            return
        out, grads, results, sums = replayed
    assert list(out) == [o for o, _ in results]
    # The rules for ** , sin and cos call numpy's pow, log, cos and sin on arrays: an ulp
    # from math's, so gradients agree to 1e-12 rather than to the bit.
    for i in range(n):
        if batched[i]:
            assert list(grads[i]) == pytest.approx(
                [g[i] for _, g in results], rel=1e-12, abs=1e-300
            )
        else:
            assert isinstance(grads[i], float)
            assert grads[i] == pytest.approx(sums[i], rel=1e-12, abs=1e-300)


def replay_or_engine_error(
    program: Any, inputs: list[Any], runs: list[Any], batched: list[bool]
) -> tuple[Any, list[Any], list[tuple[float, list[float]]], list[float]] | None:
    """The batch replay's output and gradients, the engine's runs and its sums over the
    batch; or None, having checked that the replay raises the engine's error for the
    first sample it refuses, or names the shared input whose summed gradient overflows."""
    failing = first_error(runs)
    if failing is not None:
        k, error = failing
        with pytest.raises(type(error)) as raised:
            program.value_and_grad(inputs)
        assert str(raised.value) == f"{error} (sample {k} of the batch)"
        return None
    results = [run for run in runs if isinstance(run, tuple)]
    # A shared input's gradient is the sum over the samples.
    sums = [sum(grads[i] for _, grads in results) for i in range(len(batched))]
    overflowing = [i for i, b in enumerate(batched) if not b and not math.isfinite(sums[i])]
    if overflowing:
        with pytest.raises(OverflowError, match=rf"input {overflowing[0]} .*summed over"):
            program.value_and_grad(inputs)
        return None
    out, grads = program.value_and_grad(inputs)
    return out, grads, results, sums


def first_error(runs: list[Any]) -> tuple[int, BaseException] | None:
    """The first sample the engine refuses, and its error."""
    for k, run in enumerate(runs):
        if isinstance(run, BaseException):
            return k, run
    return None


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(OPS)), a=NUMBERS, b=NUMBERS)
def test_numpys_forwards_are_maths_to_an_ulp_or_two(name: str, a: float, b: float) -> None:
    op = OPS[name]
    operands = (a, b)[: op.arity]
    try:
        expected = op.on_floats(*operands)
    except (ArithmeticError, ValueError):
        return
    with np.errstate(all="ignore"):
        actual = float(op.on_arrays(*[np.array([x]) for x in operands])[0])
    if math.isinf(expected) or math.isinf(actual):
        assert abs(actual) >= 1e308 and abs(expected) >= 1e308
    else:
        assert abs(actual - expected) <= 2 * math.ulp(expected)


# --- the reported cases, each by name ---------------------------------------------------


def batch_and_engine(build: Callable[[Value], Value], xs: list[float]) -> tuple[Any, list[float]]:
    x = Value(1.0)
    program = trace(build(x), [x])
    outs = []
    for value in xs:
        leaf = Value(value)
        outs.append(build(leaf).data)
    return program([np.array(xs)]), outs


@pytest.mark.parametrize(
    ("build", "xs"),
    [
        (Value.sigmoid, [800.0, -800.0, 0.0]),
        (Value.exp, [-800.0, 1.0]),
        (lambda x: x**2, [1e-200, 3.0]),
        (lambda x: x * 1e-300 * 1e-300, [1.0, 5.0]),
    ],
)
def test_underflow_is_not_an_error(build: Callable[[Value], Value], xs: list[float]) -> None:
    batch, engine = batch_and_engine(build, xs)
    assert list(batch) == pytest.approx(engine, rel=1e-15, abs=0.0)


def test_x_to_the_zero_has_gradient_zero_at_zero_in_every_replay() -> None:
    x = Value(1.0)
    program = trace(x**0, [x])
    engine = Value(0.0)
    (engine**0).backward()
    assert engine.grad == 0.0
    assert program.value_and_grad([0.0]) == (1.0, [0.0])
    out, (grad,) = program.value_and_grad([np.array([0.0, 2.0])])
    assert list(out) == [1.0, 1.0] and list(grad) == [0.0, 0.0]


@pytest.mark.parametrize("name", sorted(name for name, op in OPS.items() if op.arity == 1))
def test_an_output_of_shared_inputs_alone_has_one_entry_per_sample(name: str) -> None:
    w = Value(0.5)
    x = Value(1.0, requires_grad=False)
    program = trace(OPS[name](w), [w, x])
    out, (dw, dx) = program.value_and_grad([0.5, np.array([1.0, 2.0, 3.0])])
    assert out.shape == (3,)
    single = Value(0.5)
    OPS[name](single).backward()
    assert list(out) == [OPS[name](Value(0.5)).data] * 3
    assert dw == pytest.approx(3 * single.grad, rel=1e-15)
    assert list(dx) == [0.0, 0.0, 0.0]


def test_a_gradient_overflow_names_the_sample_and_is_the_engines_error() -> None:
    # Sample 1 overflows in the backward sweep, sample 2 already in the forward one: the
    # first failing sample is reported, with the error the engine raises for it.
    x = Value(1.0, label="x")
    program = trace((x**-1.0) * 1e-300, [x])
    engine = Value(1e-200, label="x")
    with pytest.raises(OverflowError) as expected:
        ((engine**-1.0) * 1e-300).backward()
    with pytest.raises(OverflowError) as raised:
        program.value_and_grad([np.array([1.0, 1e-200, 0.0])])
    assert str(raised.value) == f"{expected.value} (sample 1 of the batch)"
    with pytest.raises(ZeroDivisionError, match=r"sample 2 of the batch"):
        program.value_and_grad([np.array([1.0, 2.0, 0.0])])


def test_a_negative_base_under_an_exponent_requiring_grad_is_refused_like_the_engine() -> None:
    base, exponent = Value(2.0, requires_grad=False), Value(2.0)
    program = trace(base**exponent, [base, exponent])
    power = Value(-2.0, requires_grad=False) ** Value(2.0)
    with pytest.raises(ValueError, match="exponent is undefined") as expected:
        power.backward()
    assert list(program([np.array([1.0, -2.0]), 2.0])) == [1.0, power.data]
    with pytest.raises(ValueError) as raised:
        program.value_and_grad([np.array([1.0, -2.0]), 2.0])
    assert str(raised.value) == f"{expected.value} (sample 1 of the batch)"
    assert program([-2.0, 2.0]) == power.data
    with pytest.raises(ValueError) as raised:
        program.value_and_grad([-2.0, 2.0])
    assert str(raised.value) == str(expected.value)


def test_an_overflowing_sum_over_the_batch_names_the_shared_input() -> None:
    w = Value(1.0, label="w")
    x = Value(1.0, requires_grad=False)
    program = trace(w * x, [w, x])
    with pytest.raises(OverflowError, match=r"input 0 \('w'\).*summed over the 2 samples"):
        program.value_and_grad([1.0, np.array([1e308, 1e308])])


def test_a_non_finite_input_names_the_input_and_the_sample() -> None:
    x = Value(1.0, label="x_3", requires_grad=False)
    program = trace(x * 2.0, [x])
    with pytest.raises(
        ValueError, match=r"input 0 \('x_3'\) holds a non-finite value \(nan\) at sample 2"
    ):
        program([np.array([1.0, 2.0, math.nan])])


# --- wide graphs: sums as matrix products, ops by level -------------------------------


@settings(max_examples=60, deadline=None)
@given(graph=layered(), data=st.data())
def test_a_wide_graph_replayed_with_matrix_products_is_the_engine(
    graph: Layered, data: st.DataObject
) -> None:
    n = graph.n_weights()
    weights = data.draw(st.lists(WEIGHTS, min_size=n, max_size=n))
    size = data.draw(st.integers(1, 6))
    rows = [
        data.draw(
            st.lists(
                st.one_of(st.floats(-3, 3), NUMBERS),
                min_size=graph.n_inputs,
                max_size=graph.n_inputs,
            )
        )
        for _ in range(size)
    ]
    leaves = [Value(0.1) for _ in range(n)]
    xs = [Value(0.5, requires_grad=False) for _ in range(graph.n_inputs)]
    try:
        program = trace(graph.build(leaves, xs), [*leaves, *xs])
    except (ArithmeticError, ValueError):
        assume(False)
    runs = [graph.run(weights, row) for row in rows]
    inputs = [*weights, *(np.array(column) for column in zip(*rows, strict=True))]
    with math_forwards():
        replayed = replay_or_engine_error(program, inputs, runs, [False] * n)  # the weights
        if replayed is None:
            return
        out, grads, results, sums = replayed
    # Matrix products add in another order, so the numbers are equal to rounding where
    # rounding matters little: not for cos(1e15), nor for cos(exp(exp(6))), or abs near
    # 0 after a cancellation. Data in [-3, 3] with weights in [-2, 2] keep the first
    # sums small and tame, and values below 1e3 everywhere keep what follows so.
    assume(all(abs(x) <= 3.0 for row in rows for x in row))
    assume(all(graph.largest(weights, row) < 1e3 for row in rows))
    expected = [o for o, _ in results]
    scale = max(1.0, *map(abs, expected), *map(abs, sums))
    assert list(out) == pytest.approx(expected, rel=1e-9, abs=1e-9 * scale)
    assert grads[:n] == pytest.approx(sums, rel=1e-9, abs=1e-9 * scale)
