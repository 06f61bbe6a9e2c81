"""backward(): the classic graphs, accumulation semantics, no_grad, zero_grad, deep chains."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from autograd import Value, no_grad, topological_order, zero_grad


def test_a_plus_a_counts_both_paths() -> None:
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0


def test_doubling_twice_gives_four() -> None:
    a = Value(-1.5)
    b = a + a
    c = b + b
    c.backward()
    assert c.data == -6.0
    assert b.grad == 2.0
    assert a.grad == 4.0


def test_a_times_a_records_both_operands_and_differentiates_to_2a() -> None:
    a = Value(3.0)
    square = a * a
    assert square.parents == (a, a)
    assert square.op == "*"
    square.backward()
    assert a.grad == 6.0


def test_operands_are_kept_in_order() -> None:
    a, b = Value(2.0), Value(5.0)
    assert (a * b).parents == (a, b)
    assert (b * a).parents == (b, a)
    assert (a**b).parents == (a, b)


def test_diamond_sums_both_branches() -> None:
    # x -> u = 3x, x -> v = x^2, out = u * v = 3x^3, d/dx = 9x^2
    x = Value(2.0)
    u = x * 3.0
    v = x * x
    out = u * v
    out.backward()
    assert out.data == 24.0
    assert u.grad == v.data == 4.0
    assert v.grad == u.data == 6.0
    assert x.grad == 36.0


def test_the_notes_two_path_example() -> None:
    # x reaches h through F = x * x and through g = tanh(x); h = F * g + 1.
    x0 = 3.0
    x = Value(x0, label="x")
    F = x * x
    g = x.tanh()
    h = F * g + 1
    h.backward()
    dh_dF, dF_dx = math.tanh(x0), 2 * x0
    dh_dg, dg_dx = x0 * x0, 1 - math.tanh(x0) ** 2
    assert h.data == pytest.approx(x0 * x0 * math.tanh(x0) + 1, rel=1e-15)
    assert F.grad == pytest.approx(dh_dF, rel=1e-15)
    assert g.grad == pytest.approx(dh_dg, rel=1e-15)
    assert x.grad == pytest.approx(dh_dF * dF_dx + dh_dg * dg_dx, rel=1e-14)


def test_backward_twice_accumulates_in_leaves_and_recomputes_intermediates() -> None:
    x = Value(3.0)
    xx = x * x
    y = xx * x
    y.backward()
    assert x.grad == 27.0
    assert xx.grad == 3.0
    y.backward()
    assert x.grad == 54.0  # micrograd gives 72 here: it doubles the intermediate too
    assert xx.grad == 3.0
    assert y.grad == 1.0


def test_zero_grad_resets_leaves_between_steps() -> None:
    w, b = Value(2.0), Value(-1.0)
    loss = w * w + b
    loss.backward()
    assert (w.grad, b.grad) == (4.0, 1.0)
    zero_grad([w, b])
    assert (w.grad, b.grad) == (0.0, 0.0)
    loss.backward()
    assert (w.grad, b.grad) == (4.0, 1.0)


def test_a_new_value_has_zero_grad_and_float_data() -> None:
    v = Value(3)
    assert isinstance(v.data, float) and v.data == 3.0
    assert v.grad == 0.0 and v.op == "" and v.parents == () and v.label == ""


def test_numpy_scalars_are_accepted_as_data() -> None:
    for number in (np.float64(1.5), np.float32(1.5), np.int64(3)):
        v = Value(number)
        assert type(v.data) is float and v.data == float(number)


def test_data_and_grad_are_writable() -> None:
    v = Value(1.0)
    v.data = 2.0
    v.grad = 0.5
    assert (v.data, v.grad) == (2.0, 0.5)


def test_values_compare_by_identity_and_are_dict_keys() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a == a and a != b
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b"
    assert len({a, b, a}) == 2


def test_unused_leaf_gets_no_gradient() -> None:
    x, unused = Value(1.0), Value(5.0)
    (x * 2.0).backward()
    assert unused.grad == 0.0


def test_constant_operand_receives_no_gradient() -> None:
    x = Value(2.0)
    c = Value(7.0, requires_grad=False)
    (x * c).backward()
    assert x.grad == 7.0
    assert c.grad == 0.0


def test_no_grad_records_no_parents() -> None:
    w = Value(2.0)
    with no_grad():
        y = w * 3.0 + w.exp()
    assert y.parents == () and y.op == ""
    assert y.data == pytest.approx(6.0 + math.exp(2.0))
    with pytest.raises(ValueError, match="constant"):
        y.backward()


def test_no_grad_is_restored_after_an_exception() -> None:
    w = Value(2.0)
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("inside")
    assert (w * w).parents == (w, w)


def test_no_grad_nests() -> None:
    w = Value(2.0)
    with no_grad():
        with no_grad():
            inner = w * w
        still_off = w * w
    recorded = w * w
    assert inner.parents == () and still_off.parents == ()
    assert recorded.parents == (w, w)


def test_weight_update_under_no_grad_keeps_the_leaf_a_leaf() -> None:
    w = Value(1.0)
    (w * w).backward()
    with no_grad():
        w.data = (w - 0.1 * w.grad).data
    assert w.data == pytest.approx(0.8)
    assert w.parents == ()


def test_topological_order_lists_each_node_once_parents_first() -> None:
    a = Value(1.0)
    b = a * a
    c = b + a
    d = c * b
    order = topological_order(d)
    assert order[-1] is d
    assert len(order) == len(set(order)) == 4
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[parent] < position[node]


def test_gradient_sums_over_exponentially_many_paths() -> None:
    # Each level doubles the number of paths: 2 ** 60 paths, visited once each node.
    x = Value(1.0)
    y = x
    for _ in range(60):
        y = y + y
    y.backward()
    assert x.grad == 2.0**60


def test_million_deep_chain_with_default_recursion_limit() -> None:
    # In a subprocess: a recursive backward or destructor would crash the interpreter,
    # which should fail this test rather than kill the test runner.
    script = textwrap.dedent(
        """
        import sys
        from autograd import Value
        assert sys.getrecursionlimit() <= 1000, sys.getrecursionlimit()
        n, c = 1_000_000, 1.0 + 1e-7
        x = Value(0.5)
        y = x
        for _ in range(n):
            y = y * c
        y.backward()
        print(repr(x.grad), repr(y.data))
        del y
        print("deleted")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    grad_line, deleted = done.stdout.split("\n")[:2]
    gradient, data = (float(s) for s in grad_line.split())
    expected = (1.0 + 1e-7) ** 1_000_000  # d(x c^n)/dx = c^n
    assert gradient == pytest.approx(expected, rel=1e-8)
    assert data == pytest.approx(0.5 * expected, rel=1e-8)
    assert deleted == "deleted"


def test_gradient_edges_name_the_slots_gradient_flows_through() -> None:
    from autograd import gradient_edges

    x = Value(2.0, label="x")
    cube = x**3  # the exponent is a constant: no edge to it
    assert [(slot, p is x, d) for slot, p, d in gradient_edges(cube)] == [(0, True, 12.0)]
    y = Value(5.0)
    product = x * y
    assert [(slot, p, d) for slot, p, d in gradient_edges(product)] == [(0, x, 5.0), (1, y, 2.0)]
    assert gradient_edges(x) == []
