"""An op defined by a user with ``define_op`` works everywhere, with no other file touched.

Two ops a user might write: ``x / (1 + x^2)`` (a bounded, smooth squashing function) and
``hypot(a, b) = sqrt(a^2 + b^2)``. Each is checked as the built-in ops are: derivatives
of first and second order against sympy and finite differences, the compiled replay on
floats and on batches against the engine, formulas and ledgers in viz, pickling, and
``nn`` training with it as an activation. The ops are added to the table for these tests
only (a fixture removes them), so the other tests see the built-in table.
"""

from __future__ import annotations

import math
import pickle
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import sympy as sp

import nn
import viz
from autograd import OPS, Op, Value, define_op, grad, trace
from autograd.ops import step, where
from viz.symbolic import Formula, NodeFormulas

X, A, B = sp.symbols("x a b", real=True)
RATIONAL = X / (1 + X**2)
HYPOT = sp.sqrt(A**2 + B**2)


@pytest.fixture(scope="module")
def ops() -> Iterator[tuple[Op, Op]]:
    """The two user ops, in the table for this module's tests, then gone again."""
    saved = dict(OPS)
    rational = define_op(
        "rational",
        lambda x: x / (1.0 + x * x),
        [lambda x, out: (1.0 - x * x) / (1.0 + x * x) ** 2],
        activation=(-0.5, 0.5),
    )
    hypot = define_op(
        "hypot",
        lambda a, b: (a * a + b * b) ** 0.5,
        [lambda a, b, out: a / out, lambda a, b, out: b / out],
    )
    yield rational, hypot
    OPS.clear()
    OPS.update(saved)


def close(actual: float, expected: float, rel: float = 1e-9) -> bool:
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=1e-12)


POINTS = [-2.5, -0.7, -0.1, 0.3, 1.2, 4.0]
PAIRS = [(0.3, 0.4), (-1.5, 2.0), (3.0, -0.2), (-0.6, -0.9)]


def test_a_user_op_is_a_function_on_every_kind_of_number(ops: tuple[Op, Op]) -> None:
    rational, hypot = ops
    assert rational(2.0) == 2.0 / 5.0 and hypot(3.0, 4.0) == 5.0
    assert list(rational(np.array([0.0, 1.0]))) == [0.0, 0.5]
    node = rational(Value(2.0, label="x"))
    assert (node.op, node.data, node.parents[0].label) == ("rational", 0.4, "x")
    assert hypot(Value(3.0), 4.0).data == 5.0  # a number becomes a constant operand
    # Facts derived from the forward: a non-finite x gives a non-finite x / (1 + x^2)
    # (the numerator's inf or nan survives a division), and numpy rounds it as floats do.
    assert (rational.propagates_non_finite, rational.may_overflow) == (True, False)
    with np.errstate(invalid="ignore"):  # inf / inf
        assert np.isnan(rational(np.array([math.inf, -math.inf]))).all()
    assert hypot.may_overflow  # ** may round differently in numpy
    assert rational.operand_names == ("x",) and hypot.operand_names == ("a", "b")


@pytest.mark.parametrize("x", POINTS)
def test_first_and_second_derivatives_match_sympy_and_finite_differences(
    ops: tuple[Op, Op], x: float
) -> None:
    rational, _ = ops
    first, second = sp.diff(RATIONAL, X), sp.diff(RATIONAL, X, 2)
    d, dd = grad(rational), grad(grad(rational))
    assert close(d(x), float(first.subs(X, x)))
    assert close(dd(x), float(second.subs(X, x)))
    h = 1e-5
    assert close(d(x), (rational(x + h) - rational(x - h)) / (2 * h), rel=1e-7)
    assert close(dd(x), (d(x + h) - d(x - h)) / (2 * h), rel=1e-6)
    leaf = Value(x)
    rational(leaf).backward()
    assert leaf.grad == d(x)


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_a_binary_user_op_has_every_partial_derivative(
    ops: tuple[Op, Op], a: float, b: float
) -> None:
    _, hypot = ops
    point = {A: a, B: b}
    for i, s in enumerate((A, B)):
        assert close(grad(hypot, argnum=i)(a, b), float(sp.diff(HYPOT, s).subs(point)))
        for j, t in enumerate((A, B)):
            exact = float(sp.diff(HYPOT, s, t).subs(point))
            assert close(grad(grad(hypot, argnum=i), argnum=j)(a, b), exact)


def network(ops: tuple[Op, Op], leaves: list[Value]) -> Value:
    """A graph mixing the user ops with built-in ones, each node used more than once."""
    rational, hypot = ops
    x, y, w = leaves
    u = rational(x * w + y)
    v = hypot(u, w * y) * u
    return rational(v + x).tanh() + hypot(v, x) * w


def test_the_compiled_replay_equals_the_engine_on_floats_and_batches(ops: tuple[Op, Op]) -> None:
    leaves = [Value(0.5), Value(-0.3, requires_grad=False), Value(1.5)]
    program = trace(network(ops, leaves), leaves)
    rng = random.Random(5)
    samples = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(6)]
    engine = []
    for point in samples:
        fresh = [Value(point[0]), Value(point[1], requires_grad=False), Value(point[2])]
        out = network(ops, fresh)
        out.backward()
        engine.append((out.data, [v.grad for v in fresh]))
        assert program.value_and_grad(point) == engine[-1]  # floats: the engine's numbers
    xs, ys = (np.array([s[i] for s in samples]) for i in (0, 1))
    w = 0.8
    out, (dx, dy, dw) = program.value_and_grad([xs, ys, w])
    per_sample = [
        network(ops, [Value(x), Value(y, requires_grad=False), Value(w)])
        for x, y in zip(xs, ys, strict=True)
    ]
    assert list(out) == pytest.approx([o.data for o in per_sample], rel=1e-12)
    grads = []
    for x, y in zip(xs, ys, strict=True):
        leaves = [Value(x), Value(y, requires_grad=False), Value(w)]
        network(ops, leaves).backward()
        grads.append([v.grad for v in leaves])
    assert list(dx) == pytest.approx([g[0] for g in grads], rel=1e-12)
    assert list(dy) == [0.0] * len(samples)
    assert dw == pytest.approx(math.fsum(g[2] for g in grads), rel=1e-12)


def test_a_failing_sample_is_the_engines_error(ops: tuple[Op, Op]) -> None:
    _, hypot = ops
    a, b = Value(1.0), Value(1.0)
    program = trace(hypot(a, b), [a, b])
    with pytest.raises(ValueError) as engine:
        hypot(Value(0.0), Value(0.0)).backward()  # a / out at the origin: 0 / 0
    assert "hypot : the derivative with respect to a and b is undefined" in str(engine.value)
    with pytest.raises(ValueError) as replay:
        program.value_and_grad([np.array([1.0, 0.0]), 0.0])
    assert str(replay.value) == f"{engine.value} (sample 1 of the batch)"


def test_viz_writes_the_user_ops_formulas_from_their_rows(ops: tuple[Op, Op]) -> None:
    rational, _ = ops
    x = Value(0.7, label="x")
    y = rational(x)
    y.label = "y"
    formulas = NodeFormulas([x, y], {x: "x", y: "y"}, lambda node: True)
    local = formulas.local(y, 0)
    assert local.text() == "(1 - x^2) * (1 + x^2)^-2"
    assert local.data == pytest.approx(float(sp.diff(RATIONAL, X).subs(X, 0.7)), rel=1e-12)
    written = Formula.call(rational, Formula.symbol("z", 0.7))
    assert written.text() == "rational(z)" and written.data == rational(0.7)
    assert written.latex() == r"\operatorname{rational}\left(z\right)"
    # The graph's node reads as a call of the op; its ledger has the op's formula.
    h = y * x
    h.label = "h"
    assert "y = rational(x)" in viz.to_text(h)
    ledger = viz.explain(h, x, level="neuron")
    assert ledger.agrees
    assert "(1 - 0.7^2) * (1 + 0.7^2)^-2" in str(ledger)
    assert r"\left(1 - {x}^{2}\right) \cdot {\left(1 + {x}^{2}\right)}^{-2}" in ledger.to_latex()


def test_a_graph_with_a_user_op_pickles_by_name(ops: tuple[Op, Op]) -> None:
    rational, hypot = ops
    x = Value(0.4, label="x")
    h = hypot(rational(x), x)
    copied = pickle.loads(pickle.dumps(h))
    assert copied.op == "hypot" and copied.parents[0].op == "rational"
    copied.backward()
    h.backward()
    assert copied.parents[1].grad == x.grad
    data = pickle.dumps(h)
    del OPS["hypot"]
    try:
        with pytest.raises(ValueError, match="unknown op 'hypot'"):
            pickle.loads(data)  # define the op before loading a graph that uses it
    finally:
        OPS["hypot"] = hypot


def test_a_user_op_with_a_range_is_an_nn_activation(ops: tuple[Op, Op]) -> None:
    rng = random.Random(2)
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(12)]
    y = [0.4 * math.tanh(a - b) for a, b in X]
    weights = {}
    for engine in ("compiled", "interpreted"):
        model = nn.MLP(2, [3, 1], activation="rational", output_activation="rational", seed=3)
        nn.train(model, X, y, lr=0.05, max_epochs=4, progress=False, engine=engine)
        weights[engine] = [p.data for p in model.parameters()]
    assert weights["compiled"] == pytest.approx(weights["interpreted"], rel=1e-12)
    assert nn.labels.output_range("rational") == (-0.5, 0.5)


def test_a_forward_that_branches_on_a_value_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match=r"'clip'.*no if, no comparison"):
        define_op("clip", lambda x: x if x > 0 else 0.0, [lambda x, out: 1.0])
    assert "clip" not in OPS
    with pytest.raises(ValueError, match="'tanh' is already defined"):
        define_op("tanh", lambda x: x, [lambda x, out: 1.0])
    # The same thing written with helpers is an op.
    saved = dict(OPS)
    try:
        clip = define_op("clip", lambda x: where(step(x), x, 0.0), [lambda x, out: step(x)])
        assert (clip(2.0), clip(-2.0), grad(clip)(2.0)) == (2.0, 0.0, 1.0)
    finally:
        OPS.clear()
        OPS.update(saved)


def test_the_guide_in_ops_py_is_true() -> None:
    """The "how to add an op" block of autograd.ops' docstring, run as written."""
    import autograd.ops

    guide = autograd.ops.__doc__ or ""
    block = guide.split("a smooth relu::", 1)[1].split("\n\nThat is all", 1)[0]
    code = "\n".join(line[4:] for line in block.strip("\n").splitlines())
    saved = dict(OPS)
    namespace: dict[str, Any] = {}
    try:
        exec(compile(code, "autograd/ops.py (the guide)", "exec"), namespace)
        softplus, x = namespace["softplus"], namespace["x"]
        assert namespace["y"].op == "softplus"
        assert x.grad == pytest.approx(1 / (1 + math.exp(-0.5)), rel=1e-15)
        for t in (-800.0, -3.0, 0.0, 2.0, 800.0):  # exp never overflows
            assert softplus(t) == pytest.approx(math.log1p(math.exp(-abs(t))) + max(t, 0.0))
        assert grad(grad(softplus))(0.3) == pytest.approx(
            math.exp(-0.3) / (1 + math.exp(-0.3)) ** 2, rel=1e-12
        )
        model = nn.MLP(2, [2, 1], activation="softplus", seed=0)
        model([0.5, -0.5])
        assert model.layers[0].neurons[0].output.op == "softplus"
    finally:
        OPS.clear()
        OPS.update(saved)


def test_a_user_activation_is_offered_saved_and_loaded_like_the_built_in_ones(
    ops: tuple[Op, Op], tmp_path: Any
) -> None:
    from chainrule.cli import build_parser

    assert "rational" in nn.activation_names() and "hypot" not in nn.activation_names()
    train = "train data.csv --target y --activation rational --output-activation rational"
    args = build_parser().parse_args(train.split())
    assert (args.activation, args.output_activation) == ("rational", "rational")
    model = nn.MLP(2, [3, 1], activation="rational", output_activation="linear", seed=1)
    path = tmp_path / "model.json"
    nn.save_parameters(model, path)
    loaded = nn.load_model(path).model
    assert repr(loaded) == repr(model)
    assert loaded([0.3, -0.2]).data == model([0.3, -0.2]).data
    rational = OPS.pop("rational")  # a session that has not defined the op yet
    try:
        assert "rational" not in nn.activation_names()
        with pytest.raises(
            ValueError,
            match=r"model\.json: unknown activation 'rational': .*"
            r"define it first with autograd\.define_op\('rational'",
        ):
            nn.load_model(path)
    finally:
        OPS["rational"] = rational
