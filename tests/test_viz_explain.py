"""viz.explain: every path sum equals backprop, and the ledger reads like the lecture notes."""

from __future__ import annotations

import math
import random
import re

import pytest
from op_cases import random_graph

import nn
import viz
from autograd import Value, topological_order
from chainrule.examples import demo_sample_loss
from viz import explain
from viz._labels import number
from viz.explain import backward_gradients

SEED_LEDGER = (
    "dL/dw^1_11 = dL/dO_31 * (dO_31/dO_21 * dO_21/dO_11 + dO_31/dO_22 * dO_22/dO_11)"
    " * dO_11/dw^1_11"
)


def _named(v: Value, label: str) -> Value:
    v.label = label
    return v


def notes_motif() -> tuple[Value, Value, dict[str, float]]:
    """The lecture notes' picture for w^1_11: O_11 feeds O_21 and O_22, both feed O_31."""
    x, y = Value(0.7, label="x_1", requires_grad=False), 0.3
    w = {"w^1_11": 0.4, "w^2_11": -0.6, "w^2_12": 0.9, "w^3_11": 0.5, "w^3_21": -0.8}
    p = {k: Value(v, label=k) for k, v in w.items()}
    o11 = _named((p["w^1_11"] * x).tanh(), "O_11")
    o21 = _named((p["w^2_11"] * o11).tanh(), "O_21")
    o22 = _named((p["w^2_12"] * o11).tanh(), "O_22")
    o31 = _named((p["w^3_11"] * o21 + p["w^3_21"] * o22).tanh(), "O_31")
    loss = _named((y - o31) ** 2, "L")
    return loss, p["w^1_11"], w


def test_notes_ledger_has_the_notes_form_and_numbers() -> None:
    loss, w111, w = notes_motif()
    rule = viz.explain(loss, w111, level="neuron")
    assert str(rule).splitlines()[0] == SEED_LEDGER
    assert len(rule.paths) == 2
    # The same derivative by hand, written from the notes' formula.
    x, y = 0.7, 0.3
    o11 = math.tanh(w["w^1_11"] * x)
    o21, o22 = math.tanh(w["w^2_11"] * o11), math.tanh(w["w^2_12"] * o11)
    o31 = math.tanh(w["w^3_11"] * o21 + w["w^3_21"] * o22)
    d_l = -2 * (y - o31)
    d31 = 1 - o31**2
    via21 = d31 * w["w^3_11"] * (1 - o21**2) * w["w^2_11"]
    via22 = d31 * w["w^3_21"] * (1 - o22**2) * w["w^2_12"]
    expected = d_l * (via21 + via22) * (1 - o11**2) * x
    assert rule.total == pytest.approx(expected, rel=1e-12)
    assert rule.grad == pytest.approx(expected, rel=1e-12)
    assert rule.agrees


def test_notes_ledger_neuron_steps_are_the_notes_local_derivatives() -> None:
    loss, w111, w = notes_motif()
    rule = viz.explain(loss, w111, level="neuron")
    first = rule.paths[0]
    assert rule.describe_path(first) == "L -> O_31 -> O_21 -> O_11 -> w^1_11"
    o11 = math.tanh(w["w^1_11"] * 0.7)
    o21 = math.tanh(w["w^2_11"] * o11)
    # dO_21/dO_11 = (1 - O_21^2) * w^2_11, the contracted tanh-of-product step
    assert first.steps[2].derivative == pytest.approx((1 - o21**2) * w["w^2_11"], rel=1e-12)


def test_explain_leaves_grads_untouched() -> None:
    loss, w111, _ = notes_motif()
    w111.grad = 123.0
    rule = viz.explain(loss, w111)
    assert w111.grad == 123.0
    assert rule.agrees  # compared with a fresh backward, not the stale 123


def test_op_level_counts_each_operand_slot() -> None:
    a = Value(3.0, label="a")
    b = _named(a * a, "b")
    rule = viz.explain(b, a)
    assert [(s.slot, s.derivative) for p in rule.paths for s in p.steps] == [(0, 3.0), (1, 3.0)]
    assert str(rule).splitlines()[0] == "db/da = db/da + db/da"
    assert rule.total == 6.0


def _random_graph(rng: random.Random) -> tuple[Value, list[Value]]:
    leaves = [Value(rng.uniform(0.2, 1.5), label=f"x{i}") for i in range(3)]
    nodes = list(leaves)
    for _ in range(rng.randint(3, 12)):
        a, b = rng.choice(nodes), rng.choice(nodes)
        kind = rng.choice(["+", "*", "tanh", "sin", "**", "mix"])
        if kind == "+":
            new = a + b
        elif kind == "*":
            new = a * b
        elif kind == "tanh":
            new = a.tanh()
        elif kind == "sin":
            new = a.sin()
        elif kind == "**":
            new = (a * a + 1) ** 1.5
        else:
            new = a * 0.5 - b.exp() * 0.1
        nodes.append(new)
    root = nodes[-1]
    for node in nodes[len(leaves) : -1]:
        if rng.random() < 0.3:
            root = root + node
    return root, leaves


@pytest.mark.parametrize("seed", range(25))
def test_every_path_sum_equals_backprop_and_finite_differences(seed: int) -> None:
    rng = random.Random(seed)
    root, leaves = _random_graph(rng)
    in_graph = set(topological_order(root))
    for leaf in leaves:
        if leaf not in in_graph:  # root was not computed from it: no chain rule to write
            with pytest.raises(ValueError, match="is not in the graph of root"):
                viz.explain(root, leaf)
            continue
        for level in ("op", "neuron"):
            rule = viz.explain(root, leaf, level=level, max_paths=100_000)  # type: ignore[arg-type]
            assert rule.agrees, str(rule)
            assert rule.total == pytest.approx(rule.grad, rel=1e-9, abs=1e-12)
            for path in rule.paths:
                assert path.nodes[0] is root and path.nodes[-1] is leaf
        # an independent reference: central differences on the rebuilt graph
        h = 1e-6
        saved = leaf.data
        values = []
        for shift in (h, -h):
            leaf.data = saved + shift
            values.append(_reevaluate(root))
        leaf.data = saved
        rule = viz.explain(root, leaf, max_paths=100_000)
        assert rule.total == pytest.approx((values[0] - values[1]) / (2 * h), rel=1e-5, abs=1e-6)


def _reevaluate(root: Value) -> float:
    """Recompute ``root`` from its leaves with the engine's own ops (the graph's shape)."""
    from autograd import OPS, topological_order

    data: dict[Value, float] = {}
    for node in topological_order(root):
        if node.parents:
            data[node] = OPS[node.op].forward(*(data[p] for p in node.parents))
        else:
            data[node] = node.data
    return data[root]


def test_too_many_paths_is_a_clear_error() -> None:
    x = Value(1.0, label="x")
    y = x
    for _ in range(20):
        y = y * y  # 2 ** 20 op-level paths
    with pytest.raises(ValueError, match=r"1048576 paths.*too many to list.*level='neuron'"):
        viz.explain(y, x)


def test_a_value_not_in_the_graph_is_a_clear_error() -> None:
    # A learner who passes another model's weight is told so, not shown "0 paths".
    x, z = Value(1.0, label="x"), Value(2.0, label="w^1_11")
    y = _named(x * 3, "y")
    y.backward()
    said = r"w\^1_11 is not in the graph of y: y was not computed from it"
    for level in ("op", "neuron"):
        with pytest.raises(ValueError, match=said):
            viz.explain(y, z, level=level)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=said):
            viz.draw_paths(y, z, level=level)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Value\(data=6\.0.* is not in the graph of y"):
        viz.explain(y, z * 3)  # unlabelled: named as it prints


def test_bad_arguments() -> None:
    x = Value(1.0)
    y = x * 2
    with pytest.raises(TypeError, match="wrt must be a Value"):
        viz.explain(y, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="constant"):
        viz.explain(y, Value(1.0, requires_grad=False))
    with pytest.raises(ValueError, match="level"):
        viz.explain(y, x, level="neurons")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="same Value"):
        viz.explain(y, y)


def test_latex_and_markdown() -> None:
    loss, w111, _ = notes_motif()
    rule = viz.explain(loss, w111, level="neuron")
    latex = rule.to_latex()
    assert latex.startswith(r"\begin{aligned}") and latex.endswith(r"\end{aligned}")
    assert r"\frac{\partial L}{\partial w^{1}_{11}} &= \frac{\partial L}{\partial O_{31}}" in latex
    assert latex.count(r"\left(") == latex.count(r"\right)") >= 1
    table = [line for line in rule.to_markdown().splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(rule.paths)


def test_neuron_ledger_shows_each_factor_as_a_formula_with_numbers() -> None:
    """The where-block lists each factor once: formula, numbers put in, value."""
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, 0)
    rule = explain(loss, model.weight(1, 1, 1), level="neuron")
    lines = str(rule).splitlines()
    where = lines[lines.index("where") + 1 :]
    assert [line.split()[0] for line in where] == [
        "dL/dO_31",
        "dO_31/dO_21",
        "dO_21/dO_11",
        "dO_31/dO_22",
        "dO_22/dO_11",
        "dO_11/dw^1_11",
    ]
    o11 = model.layers[0].neurons[0].output
    assert o11 is not None
    x1 = next(v for v in topological_order(loss) if v.label == "x_1").data
    last = where[-1].split(" = ")
    assert last[1].strip() == "(1 - O_11^2) * x_1"
    numbers = re.fullmatch(r"\(1 - (\S+)\^2\) \* \((\S+)\)", last[2].strip())
    assert numbers, last[2]
    assert float(numbers[1]) == pytest.approx(o11.data, rel=1e-4)
    assert float(numbers[2]) == pytest.approx(x1, rel=1e-4)
    assert float(last[3]) == pytest.approx((1 - o11.data**2) * x1, rel=1e-5)
    latex = rule.to_latex()
    assert r"\left(1 - {O_{11}}^{2}\right) \cdot x_{1}" in latex
    assert r"\left(1 - {O_{11}}^{2}\right) \cdot x_{1}" in rule.to_markdown()
    assert "where" not in str(explain(loss, model.weight(1, 1, 1), level="neuron", formulas=False))
    op_level = str(explain(loss, model.weight(1, 1, 1)))  # formulas of the operations
    assert re.search(r"\n  dO_11/dz_11 += 1 - O_11\^2 += 1 - \S+\^2 += \S+\n", op_level)


def test_repr_counts_paths_in_english() -> None:
    x = Value(2.0, label="x")
    y = x.tanh()
    assert "1 path," in repr(explain(y, x))
    assert "2 paths," in repr(explain(x * x, x))


def test_a_ledger_shows_itself_in_a_notebook() -> None:
    x = Value(3.0, label="x")
    h = x * x
    h.label = "h"
    rule = explain(h, x)
    assert rule._repr_markdown_() == rule.to_markdown()
    latex = rule._repr_latex_()
    assert latex.startswith("$$\n\\begin{aligned}") and latex.endswith("\\end{aligned}\n$$")


def redo(arithmetic: str) -> float:
    """The arithmetic of a where line (numbers, + - * ^ and brackets), done again."""
    assert re.fullmatch(r"[-+*^(). 0-9e]+", arithmetic), arithmetic
    return float(eval(arithmetic.replace("^", "**")))  # only numbers: checked just above


@pytest.mark.parametrize("level", ["neuron", "op"])
@pytest.mark.parametrize("scale", [1.0, 6.0])  # 6: every tanh saturates, 1 - O^2 ~ 1e-5
def test_where_lines_redone_by_hand_give_the_result_shown(scale: float, level: str) -> None:
    """Rounded to 4 digits, O = 0.999986 shows as 1 and 1 - 1^2 = 0: not the 2.7e-05 shown.
    The numbers put in carry as many digits as the result needs."""
    model = nn.MLP(4, [3, 2, 1], seed=0)
    for w in model.parameters():
        w.data *= scale
    loss = demo_sample_loss(model, 0)
    checked = 0
    for w in model.parameters():
        lines = str(explain(loss, w, level=level)).splitlines()  # type: ignore[arg-type]
        for line in lines[lines.index("where") + 1 :]:
            parts = [part.strip() for part in line.split(" = ")]
            if len(parts) == 4:  # symbol = formula = numbers = result
                assert number(redo(parts[2]), 6) == parts[3], line
                checked += 1
    assert checked > 20


def test_op_ledger_writes_each_local_derivative_as_its_operation_rule() -> None:
    """The notes' h = F * g + 1, F = x * x, g = tanh(x), between operations: the chain
    rule's local derivatives are those of * and tanh, in the operands' names."""
    x = Value(3.0, label="x")
    F = _named(x * x, "F")
    g = _named(x.tanh(), "g")
    h = _named(F * g + 1, "h")
    lines = str(explain(h, x)).splitlines()
    where = [" ".join(line.split()) for line in lines[lines.index("where") + 1 :]]
    assert where == [
        f"dv_1/dF = g = {number(g.data, 6)}",  # v_1 = F * g
        "dF/dx = x = 3",  # once, although F = x * x has it twice
        f"dv_1/dg = F = {number(F.data, 6)}",
        f"dg/dx = 1 - g^2 = 1 - {g.data:.8f}^2 = {number(1 - g.data**2, 6)}",
    ]
    # A factor that is a plain number (d(v_1 + 1)/dv_1 = 1) is in the line of numbers.
    assert lines[1].split("=")[1].strip().startswith("1 * (")


def test_op_ledger_explains_every_factor_but_1() -> None:
    """Between operations, y - O_31 is y + O_31 * -1: its factor -1 gets a where line that
    says which operation it comes from, in the terminal and in the picture's caption."""
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, 0)
    loss.backward()
    for w in model.parameters():
        rule = explain(loss, w)
        lines = str(rule).splitlines()
        where = {line.split()[0] for line in lines[lines.index("where") + 1 :]}
        shown = {
            f"d{rule.names[s.child]}/d{rule.names[s.parent]}"
            for p in rule.paths
            for s in p.steps
            if s.derivative != 1.0
        }
        assert where == shown, w.label
    rule = explain(loss, model.weight(3, 2, 1))
    (minus,) = [s for p in rule.paths for s in p.steps if s.derivative == -1.0]
    o31 = minus.parent
    assert rule.names[o31] == "O_31" and minus.child.data == -o31.data  # v = -O_31
    v = rule.names[minus.child]
    assert re.search(rf"\n  d{v}/dO_31 += d\(-O_31\)/dO_31 += -1\n", str(rule))
    assert r"\frac{\partial \left(-O_{31}\right)}{\partial O_{31}} = -1" in rule.to_latex()
    caption = viz.draw_paths(loss, model.weight(3, 2, 1)).source
    assert "d(&#8722;O<SUB>31</SUB>)/dO<SUB>31</SUB>" in caption


def test_a_neurons_sum_is_z_kj_in_the_picture_and_in_the_ledger() -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, 0)
    loss.backward()
    o31 = model.layers[2].neurons[0].output
    assert o31 is not None
    z31 = o31.parents[0]
    ledger = str(explain(loss, model.weight(3, 1, 1)))
    assert "dO_31/dz_31 * dz_31/dv_" in ledger
    assert re.search(r"\n  dO_31/dz_31 += 1 - O_31\^2 += ", ledger)
    row = re.search(r"^z_31 += v_\d+ \+ v_\d+ +data (\S+) ", viz.to_text(loss), re.M)
    assert row and row[1] == number(z31.data)
    for picture in (viz.draw_graph(loss), viz.draw_paths(loss, model.weight(3, 1, 1))):
        assert picture.source.count("z<SUB>31</SUB>") >= 1
    # A graph that labels a sum z_kj itself names the others v_n, to keep names apart.
    a = Value(0.5, label="a")
    o13 = _named((a * 3.0 + 1.0).tanh(), "O_13")
    assert "z_13 " in viz.to_text(o13)
    s11 = _named(a * 2.0, "z_11")
    named = viz.to_text(_named(o13 + s11, "L"))
    assert "z_11 " in named and "z_13" not in named


def _zeroed_backward(root: Value, values: list[Value]) -> list[float]:
    """The reference: root.backward() on zeroed gradients, read off .grad."""
    for node in topological_order(root):
        node.grad = 0.0
    root.backward()
    return [value.grad for value in values]


@pytest.mark.parametrize("seed", range(20))
def test_backward_gradients_are_backwards_numbers_bit_for_bit(seed: int) -> None:
    rng = random.Random(seed)
    leaves = [Value(rng.uniform(-1.5, 1.5), label=f"x{i}") for i in range(4)]
    leaves[2].requires_grad = False  # a constant: no gradient reaches it
    root = random_graph(rng, leaves, rng.randrange(5, 60))
    nodes = topological_order(root)
    before = [node.grad for node in nodes]
    found = backward_gradients(root, nodes)
    assert [node.grad for node in nodes] == before  # no .grad read or written
    expected = _zeroed_backward(root, nodes)
    assert [math.copysign(1, g) for g in found] == [math.copysign(1, g) for g in expected]
    assert found == expected  # every bit, the sign of a zero included (checked above)


def test_backward_gradients_of_the_demo_loss_are_backwards() -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, 0)
    weights = model.parameters()
    found = backward_gradients(loss, weights)
    assert all(w.grad == 0.0 for w in weights)
    assert found == _zeroed_backward(loss, weights)
