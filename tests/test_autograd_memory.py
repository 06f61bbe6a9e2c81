"""Graphs hold no reference cycles: freeing one leaves nothing for the cyclic collector."""

from __future__ import annotations

import gc

import pytest

from autograd import Value, grad, trace


def build_and_free(work) -> int:  # type: ignore[no-untyped-def]
    """How many objects the cyclic collector finds after ``work``'s graph is dropped."""
    gc.collect()
    gc.disable()
    try:
        work()
        return gc.collect()
    finally:
        gc.enable()


def test_a_graph_after_backward_is_freed_by_reference_counting_alone() -> None:
    def work() -> None:
        x = Value(0.5, label="x")
        y = x
        for i in range(2000):
            y = (y * x + i).tanh() if i % 3 else (y * y).sigmoid() - x
        y.backward()

    assert build_and_free(work) == 0


def test_higher_order_grad_and_trace_leave_no_cycles_either() -> None:
    def work() -> None:
        grad(grad(lambda t: (t * t.sin()).exp()))(0.3)
        a = Value(1.0)
        trace((a * a).tanh() + a, [a]).value_and_grad([[0.1, 0.2]])

    assert build_and_free(work) == 0


def test_each_node_is_one_object_for_the_cyclic_collector_to_track() -> None:
    # The collector's work grows with the tracked objects a graph adds; a node that kept
    # its operands in a tuple would add two.
    x = Value(0.5)
    gc.collect()
    before = len(gc.get_objects())
    nodes = [x * x for _ in range(1000)]
    added = len(gc.get_objects()) - before
    assert 1000 <= added <= 1010, added
    del nodes


def test_a_node_cannot_be_rewired_into_a_cycle() -> None:
    a = Value(1.0)
    b = a * 2.0
    with pytest.raises(AttributeError):
        a.parents = (b,)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        a.op = "+"  # type: ignore[misc]
    assert a.parents == () and b.parents == (a, b.parents[1])
