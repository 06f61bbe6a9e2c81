"""The compiled path replays exactly what the interpreted engine computes."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable

import numpy as np
import pytest
from op_cases import random_graph

from autograd import Value, trace


def interpreted(
    build: Callable[[list[Value]], Value], point: list[float]
) -> tuple[float, list[float]]:
    leaves = [Value(x) for x in point]
    out = build(leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


@pytest.mark.parametrize("seed", range(12))
def test_float_replay_matches_the_interpreted_engine_on_new_inputs(seed: int) -> None:
    rng = random.Random(seed)
    size = rng.randrange(5, 60)

    def build(leaves: list[Value]) -> Value:
        return random_graph(random.Random(seed), leaves, size)

    traced_at = [rng.uniform(-1, 1) for _ in range(4)]
    leaves = [Value(x) for x in traced_at]
    program = trace(build(leaves), leaves)
    for _ in range(3):
        point = [rng.uniform(-1, 1) for _ in range(4)]
        expected_out, expected_grads = interpreted(build, point)
        out, grads = program.value_and_grad(point)
        assert out == pytest.approx(expected_out, rel=1e-12, abs=1e-12)
        assert grads == pytest.approx(expected_grads, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_batched_replay_equals_one_interpreted_run_per_sample(seed: int) -> None:
    rng = random.Random(100 + seed)
    size = rng.randrange(5, 50)

    def build(leaves: list[Value]) -> Value:
        return random_graph(random.Random(seed), leaves, size)

    leaves = [Value(rng.uniform(-1, 1)) for _ in range(3)]
    program = trace(build(leaves), leaves)
    batch = [rng.uniform(-1, 1) for _ in range(7)]
    shared_a, shared_b = rng.uniform(-1, 1), rng.uniform(-1, 1)
    out, grads = program.value_and_grad([np.array(batch), shared_a, shared_b])
    per_sample = [interpreted(build, [x, shared_a, shared_b]) for x in batch]
    assert out == pytest.approx([o for o, _ in per_sample], rel=1e-12, abs=1e-12)
    # A batched input gets one gradient per sample; a shared one gets their sum.
    assert grads[0] == pytest.approx([g[0] for _, g in per_sample], rel=1e-10, abs=1e-12)
    assert grads[1] == pytest.approx(math.fsum(g[1] for _, g in per_sample), rel=1e-10)
    assert grads[2] == pytest.approx(math.fsum(g[2] for _, g in per_sample), rel=1e-10)
    assert isinstance(grads[1], float)


def test_inputs_that_do_not_require_grad_get_zero_gradient_and_constants_are_frozen() -> None:
    w = Value(2.0)
    x = Value(3.0, requires_grad=False)
    c = Value(5.0)  # not an input: frozen at 5
    program = trace(w * x + c * w, [w, x])
    out, (dw, dx) = program.value_and_grad([1.0, 4.0])
    assert out == 1.0 * 4.0 + 5.0 * 1.0
    assert dw == 4.0 + 5.0
    assert dx == 0.0


def test_a_graph_with_a_repeated_operand_counts_both_edges() -> None:
    a = Value(1.0)
    program = trace(a * a * a, [a])
    assert program.value_and_grad([2.0])[1] == [12.0]


def test_batched_domain_error_names_the_op_and_the_sample() -> None:
    x = Value(1.0)
    program = trace(x.log(), [x])
    with pytest.raises(ValueError, match=r"log .*x = -2\.0.*sample 2"):
        program([np.array([1.0, 2.0, -2.0])])
    y = Value(1.0)
    program = trace(y.exp(), [y])
    with pytest.raises(OverflowError, match=r"exp.*sample 1"):
        program([[0.0, 1000.0]])


def test_float_replay_errors_are_the_engines_errors() -> None:
    x = Value(1.0)
    with pytest.raises(ValueError, match="log"):
        trace(x.log(), [x])([0.0])
    with pytest.raises(OverflowError, match=r"\*"):
        trace(x * x, [x])([1e200])
    with pytest.raises(OverflowError, match=r"exp\(1000\.0\) overflows a float"):
        trace(x.exp(), [x])([1000.0])


def test_gradient_overflow_in_a_replay_is_reported() -> None:
    x = Value(1.0)
    program = trace((x**-1.0) * 1e-300, [x])
    assert program([[1e-200, 1.0]]) == pytest.approx([1e-100, 1e-300])
    with pytest.raises(OverflowError, match="gradient overflowed"):
        program.value_and_grad([[1.0, 1e-200]])


@pytest.mark.parametrize("through_a_node", [False, True])
def test_a_gradient_that_overflows_silently_on_floats_is_reported(through_a_node: bool) -> None:
    # Two paths of 1e308 each: every local derivative is finite, their sum is not, and a
    # float sum says so only by being inf.
    x = Value(1e-10, label="x")
    y = x * 1.0 if through_a_node else x
    out = y * 1e308 + y * 1e308
    with pytest.raises(OverflowError, match="gradient overflowed") as engine:
        out.backward()
    where = r"the output of \*" if through_a_node else "a leaf 'x'"
    assert re.search(f"gradient overflowed a float at {where}", str(engine.value))
    program = trace(out, [x])
    with pytest.raises(OverflowError) as replay:
        program.value_and_grad([1e-10])
    assert str(replay.value) == str(engine.value)
    with pytest.raises(OverflowError) as batch:
        program.value_and_grad([[1e-10, 2e-10]])  # every sample overflows: the first is named
    assert str(batch.value) == f"{engine.value} (sample 0 of the batch)"


def test_bad_calls_get_clear_errors() -> None:
    x = Value(1.0)
    program = trace(x * 2.0, [x])
    with pytest.raises(ValueError, match="takes 1 inputs, got 2"):
        program([1.0, 2.0])
    with pytest.raises(TypeError, match="input 0"):
        program(["a"])
    with pytest.raises(TypeError, match="is a Value"):
        program([x])
    with pytest.raises(ValueError, match="non-finite"):
        program([[1.0, math.nan]])
    with pytest.raises(ValueError, match="1-d batch"):
        program([np.ones((2, 2))])
    with pytest.raises(TypeError, match="Value as output"):
        trace(3.0, [x])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="inputs must be Values"):
        trace(x * 2.0, [1.0])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="listed twice"):
        trace(x * 2.0, [x, x])


def test_an_output_independent_of_the_batch_still_counts_every_sample() -> None:
    w = Value(3.0)
    x = Value(1.0, requires_grad=False)
    program = trace(w * w, [w, x])  # x is an input the output ignores
    out, (dw, _) = program.value_and_grad([3.0, [1.0, 2.0, 3.0, 4.0]])
    assert list(out) == [9.0] * 4
    assert dw == 4 * 6.0  # the gradient of the sum over four samples
    with pytest.raises(ValueError, match="differ in length"):
        program([[1.0, 2.0], [1.0, 2.0, 3.0]])


def test_a_program_describes_itself_briefly() -> None:
    x = Value(1.0)
    assert repr(trace((x * x).tanh() + 2.0, [x])) == (
        "Program(1 inputs, 3 instructions (* + tanh), 1 constants)"
    )
