"""viz.symbolic: local derivatives as formulas, checked against sympy's own calculus."""

from __future__ import annotations

import math

import pytest
import sympy
from op_cases import sympy_call

import nn
import viz
from autograd import OPS, Value
from chainrule.examples import demo_sample_loss
from viz.steps import Step
from viz.symbolic import Formula, digits_to_show


def to_sympy(f: Formula) -> sympy.Expr:
    """Our formula tree as a sympy expression (symbols keep their names)."""
    if f.kind == "number":
        return sympy.nsimplify(f.data)
    if f.kind == "symbol":
        return sympy.Symbol(f.name)
    args = [to_sympy(a) for a in f.args]
    if f.kind == "sum":
        return sympy.Add(*args)
    if f.kind == "product":
        return sympy.Mul(*args)
    if f.kind == "power":
        return sympy.Pow(*args)
    return sympy_call(f.name, *args)


def neuron_edges(activation: str, bias: bool) -> tuple[nn.MLP, list[Step]]:
    model = nn.MLP(4, [3, 2, 1], seed=1, activation=activation, bias=bias)
    loss = demo_sample_loss(model, 7)
    steps = viz.backward_steps(loss, level="neuron")
    return model, [c.edge for step in steps[1:] for c in step.sent]


def activation(name: str, z: sympy.Expr) -> sympy.Expr:
    """An activation of nn applied to z in sympy: its op's case, or z for "linear"."""
    return z if name == "linear" else sympy_call(name, z)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("name", sorted(nn.activation_names()))
def test_neuron_formulas_are_the_derivatives_sympy_finds(name: str, bias: bool) -> None:
    """dO_kj/d(operand), with O_kj written back as act(z), is sympy's d act(z)/d operand."""
    model, edges = neuron_edges(name, bias)
    for edge in edges:
        assert edge.formula is not None
        assert edge.formula.data == pytest.approx(edge.derivative, rel=1e-12, abs=1e-15)
        if edge.child.label == "L":
            y, o = sympy.symbols("y O_31")
            assert sympy.simplify(to_sympy(edge.formula) - sympy.diff((y - o) ** 2, o)) == 0
            continue
        k, j = (int(c) for c in edge.child.label[2:])
        neuron = model.layers[k - 1].neurons[j - 1]
        inputs = [
            f"x_{i}" if k == 1 else f"O_{k - 1}{i}" for i in range(1, len(neuron.weights) + 1)
        ]
        pairs = zip(neuron.weights, inputs, strict=True)
        z = sum(sympy.Symbol(w.label) * sympy.Symbol(x) for w, x in pairs)
        if neuron.bias is not None:
            z += sympy.Symbol(neuron.bias.label)
        act = activation(neuron.activation, z)
        expected = sympy.diff(act, sympy.Symbol(edge.parent.label))
        ours = to_sympy(edge.formula).subs(
            {sympy.Symbol(edge.child.label): act, sympy.Symbol(f"z_{k}{j}"): z}
        )
        difference = sympy.simplify((ours - expected).rewrite(sympy.Heaviside))
        assert difference == 0, (edge.child.label, edge.parent.label, edge.formula.text())


def test_the_lecture_notes_formulas_read_as_written() -> None:
    _, edges = neuron_edges("tanh", bias=True)
    text = {(e.child.label, e.parent.label): e.formula.text() for e in edges if e.formula}
    assert text["O_11", "w^1_11"] == "(1 - O_11^2) * x_1"
    assert text["O_21", "O_11"] == "(1 - O_21^2) * w^2_11"
    assert text["O_11", "b^1_1"] == "1 - O_11^2"
    assert text["L", "O_31"] == "-2 * (y - O_31)"
    _, edges = neuron_edges("sigmoid", bias=False)
    text = {(e.child.label, e.parent.label): e.formula.text() for e in edges if e.formula}
    assert text["O_21", "O_11"] == "O_21 * (1 - O_21) * w^2_11"
    _, edges = neuron_edges("relu", bias=False)
    text = {(e.child.label, e.parent.label): e.formula.text() for e in edges if e.formula}
    assert text["O_11", "w^1_11"] == "step(z_11) * x_1"
    _, edges = neuron_edges("linear", bias=False)
    text = {(e.child.label, e.parent.label): e.formula.text() for e in edges if e.formula}
    assert text["O_11", "w^1_11"] == "x_1"


def test_simplification_and_printing() -> None:
    x, y = Formula.symbol("x", 2.0), Formula.symbol("y", -3.0)
    assert (1.0 * x + 0.0).text() == "x"
    assert (x * x * y).text() == "x^2 * y"
    assert (x + x).text() == "2 * x"
    assert (x - x).text() == "0"
    assert (x * 0.0).text() == "0"
    assert (y - 1.0).text() == "y - 1" and (1.0 - y).text() == "1 - y"
    assert (-(x + y)).text() == "-(x + y)"
    assert (x / y).text() == "x * y^-1"
    assert ((1.0 - y * y) * x).text(values=True) == "(1 - (-3)^2) * 2"
    assert ((1.0 - y * y) * x).data == (1 - 9) * 2
    w = Formula.symbol("w^2_11", 0.5)
    assert (x * w).latex() == r"x \cdot w^{2}_{11}"
    assert (x * w).html() == "x &#183; w<SUP>2</SUP><SUB>11</SUB>"
    assert (y * y).html(values=True) == "(&#8722;3)<SUP>2</SUP>"


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_rule_runs_on_formulas(name: str) -> None:
    """Each rule of the op table gives a formula whose value is the float rule's."""
    op = OPS[name]
    operands = [0.7, 1.3][: op.arity]
    out = op.forward(*operands)
    symbols = [Formula.symbol(f"a{i}", v) for i, v in enumerate(operands)]
    for rule in op.derivatives:
        expected = rule(*operands, out)
        got = rule(*symbols, Formula.symbol("out", out))
        value = got.data if isinstance(got, Formula) else got
        assert value == pytest.approx(expected, rel=1e-12), name


def test_relu_and_abs_rules_on_floats_and_values_are_unchanged() -> None:
    relu, absolute = OPS["relu"].derivatives[0], OPS["abs"].derivatives[0]
    assert [relu(v, 0.0) for v in (-1.0, 0.0, 2.0)] == [0.0, 0.0, 1.0]
    assert [absolute(v, 0.0) for v in (-1.0, 0.0, 2.0)] == [-1.0, 0.0, 1.0]
    assert relu(Value(2.0), 0.0) == 1.0 and absolute(Value(-2.0), 0.0) == -1.0
    assert math.isclose(OPS["tanh"].derivatives[0](0.3, math.tanh(0.3)), 1 - math.tanh(0.3) ** 2)


def test_only_the_values_that_change_the_result_get_more_digits() -> None:
    """A saturated tanh: O = -0.99998632 shows as -1 at 4 digits, and 1 - (-1)^2 = 0."""
    o, w = Formula.symbol("O_31", -0.99998632), Formula.symbol("w^3_11", 1.954)
    d = (1.0 - o * o) * w
    assert d.evaluate(4) == 0.0
    digits = digits_to_show([(d, d.data, 6, 1.0)])
    assert digits == {"O_31": 8}  # w^3_11 is exact at 4 digits: it stays 1.954
    assert d.text(values=True, digits=digits) == "(1 - (-0.99998632)^2) * 1.954"
    assert f"{d.evaluate(digits):.6g}" == f"{d.data:.6g}"
    # a gradient written before the formula counts too: the fewest digits that give the
    # product's 6 digits (-0.12345678 * 1.954 = -0.241234...)
    grad = -0.12345678
    digits = digits_to_show([(w, grad * w.data, 6, grad)])
    assert list(digits) == [""]

    def product(d: int) -> str:
        return f"{float(f'{grad:.{d}g}') * 1.954:.6g}"

    assert product(digits[""]) == f"{grad * 1.954:.6g}" != product(digits[""] - 1)
