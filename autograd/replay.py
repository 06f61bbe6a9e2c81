"""Replaying a traced program: forward and backward without Values, on floats or arrays.

A replay runs the same forwards and the same derivative rules as the interpreted engine:
on plain floats, or on numpy arrays so that one replay computes a whole batch of samples
at once (each slot then holds an array over the batch).

Its backward is the reverse sweep of :func:`autograd.sweep.backpropagate` written out
over the program's slots, in two copies kept for speed and tested equal to the engine
and the sweep: on floats (a float replay of the 100k-node benchmark DAG is 3.5x faster
than the sweep run over the same slots, benchmarks/sweeps.py), and over a batch plan's
items, single ops or fused groups. A fused group's backward (``W @ G`` and ``V @ G^T``)
is the rules of ``+`` and ``*`` (1, and the other factor) for a whole matrix product at
once, which a sweep over single nodes cannot run: an epoch of a 64-16-10 network on the
1,797 digits is 15x faster with the groups (2.4 ms) than without (benchmarks/sweeps.py).

A replay's errors are the engine's, word for word. Over a batch, numpy runs with its
floating-point errors ignored and the results are checked afterwards (see
:mod:`autograd.plan`): a sample with a non-finite value where an op could hide it, a
result near the float max or a non-finite gradient is replayed by the interpreted engine
itself (:meth:`Program.interpret <autograd.trace.Program.interpret>`), whose error is
raised naming the sample; should the engine accept the sample, its numbers replace
numpy's. A float replay does the same.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from autograd.engine import Value, apply_op, as_float
from autograd.plan import DotGroup, Item, OpGroup, Plan, Step, Traced, plan_for

__all__ = ["interpret", "run"]

# Near the largest float, numpy's exp and ** may round one ulp away from math's, so one
# side may overflow where the other does not: results this large go to the engine.
_NEAR_OVERFLOW = 1e308
# A fused sum runs only if max|W| * max|V| * (number of terms) is below this, so that no
# partial sum in any order comes near overflow; the same bounds hold the backward sums.
_FUSED_BOUND = 1e300


class _Unsafe(Exception):
    """A fused replay cannot vouch for its numbers: replay without fusing."""


class _Inputs(NamedTuple):
    values: list[Any]  # floats and 1-d arrays
    batch: int | None  # None: floats only
    floats: np.ndarray  # the shared inputs, 0 where batched
    batched: np.ndarray  # which inputs are batched


def run(program: Traced, inputs: Sequence[Any], with_grad: bool) -> tuple[Any, list[Any]]:
    """The output for these inputs and, if ``with_grad``, each input's gradient."""
    checked = _check_inputs(program, inputs)
    if checked.batch is None:
        return _replay_floats(program, checked, with_grad)
    plan = plan_for(program, checked.batched, fused=program.fuse)
    if plan.grouped:
        try:
            return _replay_batch(program, plan, checked, with_grad, fused=True)
        except _Unsafe:
            plan = plan_for(program, checked.batched, fused=False)
    return _replay_batch(program, plan, checked, with_grad, fused=False)


def interpret(
    program: Traced, inputs: Sequence[float], *, with_grad: bool = True
) -> tuple[float, list[float]]:
    """The program run by the interpreted engine on one sample: see ``Program.interpret``."""
    values = [
        Value(x, label, requires_grad=rg)
        for x, label, rg in zip(
            inputs, program.input_labels, program.input_requires_grad, strict=True
        )
    ]
    nodes: list[Any] = [*values, *([None] * (program.n_slots - program.n_inputs))]
    for slot, constant in program.constants:
        nodes[slot] = Value(constant, requires_grad=False)
    for step in program.instructions:
        nodes[step.out] = apply_op(step.op, *[nodes[i] for i in step.operands])
    out = nodes[program.output]
    if with_grad and out.requires_grad:
        out.backward()
    return out.data, [v.grad for v in values]


# --- forward and backward, on floats or arrays -------------------------------------------


def _forward_floats(slots: list[Any], steps: Sequence[Step]) -> None:
    """Fill the slots of ``steps`` on floats with the engine's forwards (and checks)."""
    for step in steps:
        operands = step.operands
        if len(operands) == 1:
            slots[step.out] = step.op.on_floats(slots[operands[0]])
        else:
            slots[step.out] = step.op.on_floats(slots[operands[0]], slots[operands[1]])
    # + and * overflow to inf silently: look once, at the end.
    if not all(math.isfinite(slots[step.out]) for step in steps):
        raise OverflowError


def _backward(
    steps: Sequence[Item],
    slots: list[Any],
    grads: list[Any],
    stacked: dict[Any, Any],
    shared_inputs: np.ndarray,
    totals: np.ndarray,
    active: frozenset[int],
    batch: int,
) -> None:
    """The reverse sweep over a batch plan's steps, on floats and arrays: ``grads[slot]``
    is None until a contribution arrives. A fused group adds its shared inputs'
    gradients, already summed over the batch, into ``totals``."""
    for item in reversed(steps):
        if type(item) is not Step:
            if isinstance(item, DotGroup):
                _dot_backward(item, stacked[item], grads, shared_inputs, totals, active, batch)
            else:
                _group_backward(item, stacked[item], grads, batch)  # type: ignore[arg-type]
            continue
        gradient = grads[item.out]
        if gradient is None or not item.backward:
            continue
        operands, out = item.operands, slots[item.out]
        if len(operands) == 1:
            args: tuple[Any, ...] = (slots[operands[0]], out)
        else:
            args = (slots[operands[0]], slots[operands[1]], out)
        for slot, rule in item.backward:
            local = rule(*args)
            # A sum's local derivative is exactly 1: skip the product (an array's copy).
            contribution = gradient if type(local) is float and local == 1.0 else gradient * local
            previous = grads[slot]
            grads[slot] = contribution if previous is None else previous + contribution


# --- on floats ---------------------------------------------------------------------------


def _backward_floats(steps: Sequence[Step], slots: list[float], program: Traced) -> list[float]:
    """:func:`_backward` written out for floats, every gradient starting at 0.0, so that
    there is no None and no 1 to test for: a float replay is 1.1x faster with it than
    with :func:`_backward` (interleaved, on the 100k-node benchmark DAG)."""
    grads = [0.0] * program.n_slots
    grads[program.output] = 1.0
    for step in reversed(steps):
        if not step.backward:
            continue
        gradient, out, operands = grads[step.out], slots[step.out], step.operands
        if len(operands) == 1:
            x = slots[operands[0]]
            for slot, rule in step.backward:
                grads[slot] += gradient * rule(x, out)
        else:
            x, y = slots[operands[0]], slots[operands[1]]
            for slot, rule in step.backward:
                grads[slot] += gradient * rule(x, y, out)
    # A non-finite gradient anywhere reaches an input (inf * 0 is nan): look there.
    if not all(map(math.isfinite, grads[: program.n_inputs])):
        raise OverflowError
    return grads[: program.n_inputs]


def _replay_floats(program: Traced, checked: _Inputs, with_grad: bool) -> tuple[float, list[float]]:
    plan = plan_for(program, checked.batched, fused=False)  # nothing batched: all shared
    slots = _initial_slots(program, checked.values)
    try:
        _forward_floats(slots, plan.shared)
        grads = _backward_floats(plan.shared, slots, program) if with_grad else []
    except (ArithmeticError, ValueError):
        # The engine raises its own error here; should it not, its numbers stand.
        return interpret(program, checked.values, with_grad=with_grad)
    return slots[program.output], grads


# --- over a batch ------------------------------------------------------------------------


def _replay_batch(
    program: Traced, plan: Plan, checked: _Inputs, with_grad: bool, fused: bool
) -> tuple[np.ndarray, list[Any]]:
    inputs, batch, shared_inputs = checked.values, checked.batch or 0, checked.floats
    slots = _initial_slots(program, inputs)
    try:
        _forward_floats(slots, plan.shared)
    except (ArithmeticError, ValueError):
        # The shared part is the same for every sample: the engine fails on sample 0.
        return _sample_by_sample(program, checked, with_grad, first=0)
    # Each group's stacked operands, kept for the backward sweep; and the matrices
    # whose rows are slots, so that a group reading exactly those rows needs no stack.
    stacked: dict[Any, Any] = {}
    matrices: dict[tuple[int, ...], np.ndarray] = {}
    failed = np.zeros(batch, dtype=bool)
    with np.errstate(all="ignore"):
        for item in plan.batched:
            if isinstance(item, DotGroup):
                stacked[item] = _dot_forward(item, slots, shared_inputs, matrices)
            elif isinstance(item, OpGroup):
                stacked[item] = _group_forward(item, slots, matrices)
            else:
                slots[item.out] = item.op.on_arrays(*[slots[i] for i in item.operands])
        # Each check stacks its slots: one numpy call per check, not per slot.
        if plan.finite:
            rows = np.stack([slots[i] for i in plan.finite])
            _flag(failed, ~np.isfinite(rows).all(axis=0))
        if plan.bounded:
            rows = np.stack([slots[i] for i in plan.bounded])
            _flag(failed, ~(np.abs(rows) <= _NEAR_OVERFLOW).all(axis=0))
        output = np.array(np.broadcast_to(slots[program.output], batch))
        flowing: list[int] = []
        per_sample = np.zeros((0, batch))
        totals = np.zeros(program.n_inputs)
        if with_grad:
            grads: list[Any] = [None] * program.n_slots
            grads[program.output] = np.ones(batch)
            try:
                _backward(
                    plan.steps, slots, grads, stacked, shared_inputs, totals, plan.active, batch
                )
            except (ArithmeticError, ValueError):
                # A rule on shared floats failed: it fails for every sample.
                return _sample_by_sample(program, checked, with_grad, first=0)
            flowing = [i for i in plan.learning if grads[i] is not None]
            if flowing:
                per_sample = np.stack([grads[i] for i in flowing])
            _flag(failed, ~np.isfinite(per_sample).all(axis=0))
    if fused and (failed.any() or not np.isfinite(totals).all()):
        raise _Unsafe
    for sample in map(int, np.flatnonzero(failed)):
        out, sample_grads = _interpret_sample(program, inputs, sample, with_grad)
        # The engine accepted this sample (numpy and math differ by an ulp here).
        output[sample] = out
        for row, i in enumerate(flowing):
            per_sample[row, sample] = sample_grads[i]
    if not with_grad:
        return output, []
    return output, _input_gradients(program, flowing, per_sample, checked, plan.summed, totals)


def _input_gradients(
    program: Traced,
    flowing: list[int],
    per_sample: np.ndarray,
    checked: _Inputs,
    summed: np.ndarray,
    totals: np.ndarray | None = None,
) -> list[Any]:
    """Each input's gradient in its own shape: a shared input's is summed over the batch.

    ``per_sample`` has a row for each input in ``flowing``; ``totals`` holds gradients
    already summed over the batch (by a fused group); ``summed`` marks the inputs
    whose gradient is a sum (shared, requiring grad).
    """
    inputs, batch, batched = checked.values, checked.batch or 0, checked.batched
    sums = np.zeros(program.n_inputs) if totals is None else totals.copy()
    if flowing:  # one reduction for all of them instead of one call each
        rows = np.array(flowing)
        shared = ~batched[rows]
        with np.errstate(over="ignore", invalid="ignore"):  # reported below
            sums[rows[shared]] += per_sample[shared].sum(axis=1)
    overflowed = np.flatnonzero(~np.isfinite(sums) & summed)
    if len(overflowed):
        i = int(overflowed[0])
        raise OverflowError(
            f"the gradient overflowed a float at {_describe_input(program, i, inputs[i])} "
            f"when summed over the {batch} samples of the batch"
        )
    result: list[Any] = np.where(summed, sums, 0.0).tolist()
    for i in map(int, np.flatnonzero(batched)):
        result[i] = np.zeros(batch)
    for row, i in enumerate(flowing):
        if batched[i]:
            result[i] = per_sample[row]
    return result


def _interpret_sample(
    program: Traced, inputs: list[Any], sample: int, with_grad: bool
) -> tuple[float, list[float]]:
    """The engine's run of one sample of the batch; its error names the sample."""
    values = [float(v[sample]) if isinstance(v, np.ndarray) else v for v in inputs]
    try:
        return interpret(program, values, with_grad=with_grad)
    except (ArithmeticError, ValueError) as error:
        raise type(error)(f"{error} (sample {sample} of the batch)") from None


def _sample_by_sample(
    program: Traced, checked: _Inputs, with_grad: bool, first: int
) -> tuple[np.ndarray, list[Any]]:
    """The whole batch by the engine, sample ``first`` first (the one expected to fail)."""
    inputs, batch = checked.values, checked.batch or 0
    runs = {first: _interpret_sample(program, inputs, first, with_grad)}
    for sample in range(batch):
        if sample not in runs:
            runs[sample] = _interpret_sample(program, inputs, sample, with_grad)
    output = np.array([runs[k][0] for k in range(batch)])
    if not with_grad:
        return output, []
    flowing = [i for i, rg in enumerate(program.input_requires_grad) if rg]
    per_sample = np.array([[runs[k][1][i] for k in range(batch)] for i in flowing])
    summed = np.array(program.input_requires_grad) & ~checked.batched
    return output, _input_gradients(
        program, flowing, per_sample.reshape(len(flowing), batch), checked, summed
    )


def _flag(failed: np.ndarray, where: Any) -> None:
    """Mark the samples where a check failed (``where`` may be one bool for all)."""
    if where.any():
        failed |= where


# --- fused groups --------------------------------------------------------------------------


def _dot_forward(
    group: DotGroup,
    slots: list[Any],
    shared_inputs: np.ndarray,
    matrices: dict[tuple[int, ...], np.ndarray],
) -> np.ndarray:
    """Fill the group's sums; returns V for the backward sweep."""
    vectors = _rows(group.vectors, slots, matrices)
    weights = shared_inputs[group.weights]
    bound = np.abs(weights).max() * np.abs(vectors).max() * len(group.vectors)
    if not bound < _FUSED_BOUND:  # also when a value is nan
        raise _Unsafe
    sums = weights.T @ vectors
    if not any(group.rests):
        matrices[group.roots] = sums
    for j, (root, rest) in enumerate(zip(group.roots, group.rests, strict=True)):
        total = sums[j]
        for slot in rest:
            total = total + slots[slot]
        slots[root] = total
    return vectors


def _dot_backward(
    group: DotGroup,
    vectors: np.ndarray,
    grads: list[Any],
    shared_inputs: np.ndarray,
    totals: np.ndarray,
    active: frozenset[int],
    batch: int,
) -> None:
    """Through a + the gradient passes unchanged, through w * v it is g * w to v and g * v
    to w: for the whole group, W @ G to the vectors and V @ G^T (summed) to the weights."""
    zero = np.zeros(batch)
    gradients = np.stack([zero if grads[r] is None else grads[r] for r in group.roots])
    weights = shared_inputs[group.weights]
    largest = np.abs(gradients).max()
    bound = largest * max(np.abs(weights).max() * len(group.roots), np.abs(vectors).max() * batch)
    if not bound < _FUSED_BOUND:
        raise _Unsafe
    to_vectors = weights @ gradients
    for i, v in enumerate(group.vectors):
        if v in active:
            grads[v] = to_vectors[i] if grads[v] is None else grads[v] + to_vectors[i]
    np.add.at(totals, group.weights.ravel(), (vectors @ gradients.T).ravel())
    for root, rest in zip(group.roots, group.rests, strict=True):
        for slot in rest:
            if slot in active and grads[root] is not None:
                grads[slot] = grads[root] if grads[slot] is None else grads[slot] + grads[root]


def _rows(
    column: tuple[int, ...], slots: list[Any], matrices: dict[tuple[int, ...], np.ndarray]
) -> np.ndarray:
    """The batched slots of ``column`` as the rows of one matrix."""
    matrix = matrices.get(column)
    return np.stack([slots[i] for i in column]) if matrix is None else matrix


def _shared_column(column: tuple[int, ...], slots: list[Any]) -> Any:
    """Shared operands as a column against the rows, or one float if they are all equal:
    numpy squares x ** 2.0 with a float exponent far faster than with an array of 2s."""
    values = [slots[i] for i in column]
    if values.count(values[0]) == len(values):
        return values[0]
    return np.array(values)[:, None]


def _group_forward(
    group: OpGroup, slots: list[Any], matrices: dict[tuple[int, ...], np.ndarray]
) -> list[Any]:
    """Fill the group's outputs; returns its operands and output for the backward."""
    args = [
        _shared_column(column, slots) if shared else _rows(column, slots, matrices)
        for column, shared in zip(group.operands, group.shared, strict=True)
    ]
    out = group.op.on_arrays(*args)
    matrices[group.outs] = out
    for i, slot in enumerate(group.outs):
        slots[slot] = out[i]
    args.append(out)
    return args


def _group_backward(group: OpGroup, args: list[Any], grads: list[Any], batch: int) -> None:
    """The rules of the group's op on whole matrices, the results sent row by row."""
    if all(grads[out] is None for out in group.outs):
        return
    zero = np.zeros(batch)
    gradient = np.stack([zero if grads[out] is None else grads[out] for out in group.outs])
    for position, rule in group.backward:
        local = rule(*args)
        # A sum's local derivative is exactly 1: skip the product.
        contribution = gradient if type(local) is float and local == 1.0 else gradient * local
        for i, slot in enumerate(group.operands[position]):
            previous = grads[slot]
            grads[slot] = contribution[i] if previous is None else previous + contribution[i]


# --- inputs --------------------------------------------------------------------------------


def _check_inputs(program: Traced, inputs: Sequence[Any]) -> _Inputs:
    """The inputs checked: floats and 1-d arrays, with the batch size."""
    if len(inputs) != program.n_inputs:
        raise ValueError(f"this program takes {program.n_inputs} inputs, got {len(inputs)}")
    # Plain floats (the weights, often hundreds) pass in one Python loop and one numpy
    # check; anything else (a batch, an int, a bad value) is looked at one by one.
    values = list(inputs)
    floats = np.array([x if type(x) is float else math.nan for x in values])
    others = np.isnan(floats)
    batched = np.zeros(program.n_inputs, dtype=bool)
    for i in map(int, np.flatnonzero(others)):
        values[i] = _as_input(program, values[i], i)
        if isinstance(values[i], np.ndarray):
            batched[i] = True
            floats[i] = 0.0
        else:
            floats[i] = values[i]
    if not np.isfinite(floats).all():
        i = int(np.flatnonzero(~np.isfinite(floats))[0])
        as_float(values[i], _describe_input(program, i))  # raises, naming the input
    sizes = {len(values[i]) for i in map(int, np.flatnonzero(batched))}
    if len(sizes) > 1:
        raise ValueError(f"the batched inputs differ in length: {sorted(sizes)}")
    return _Inputs(values, sizes.pop() if sizes else None, floats, batched)


def _initial_slots(program: Traced, inputs: list[Any]) -> list[Any]:
    slots: list[Any] = [*inputs, *([None] * (program.n_slots - program.n_inputs))]
    for slot, constant in program.constants:
        slots[slot] = constant
    return slots


def _as_input(program: Traced, value: Any, i: int) -> Any:
    what = _describe_input(program, i)
    if isinstance(value, (np.ndarray, list, tuple)):
        array = np.asarray(value, dtype=float)
        if array.ndim != 1:
            raise ValueError(f"{what} must be a number or a 1-d batch, got shape {array.shape}")
        bad = np.flatnonzero(~np.isfinite(array))
        if len(bad):
            raise ValueError(
                f"{what} holds a non-finite value ({float(array[bad[0]])!r}) "
                f"at sample {bad[0]} of the batch"
            )
        return array
    if isinstance(value, Value):
        raise TypeError(f"{what} is a Value: a program takes plain numbers or arrays")
    return as_float(value, what)


def _describe_input(program: Traced, i: int, value: float | None = None) -> str:
    label = program.input_labels[i]
    name = f"input {i}" + (f" ({label!r})" if label else "")
    return name if value is None else f"{name} (data = {value!r})"
