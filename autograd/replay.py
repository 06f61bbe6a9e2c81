"""Replaying a traced program: forward and backward without Values, on floats or arrays.

A replay runs the same forwards and the same derivative rules as the interpreted engine:
on plain floats, or on numpy arrays so that one replay computes a whole batch of samples
at once (each slot then holds an array over the batch).

Over a batch it runs generated code (:mod:`autograd.codegen`): the program's grouped
plan written out as one straight-line numpy function, compiled once per program and
choice of batched inputs, its matrix products on the number of BLAS threads that
:mod:`autograd.threads` chooses. Behind it stands the interpreted batch replay: the
reverse sweep of :func:`autograd.sweep.backpropagate` written out over the program's
slots, one numpy call per instruction, which the generated code is a copy of, kept for
speed (an epoch of the 64-16-10 network on the 1,797 digits is 15x faster,
benchmarks/sweeps.py) and tested equal to. On floats, the same sweep written out
for floats (a float replay of the 100k-node benchmark DAG is 3.5x faster than the sweep
run over the same slots, benchmarks/sweeps.py).

A replay's errors are the engine's, word for word. Over a batch, numpy runs with its
floating-point errors ignored and the results are checked afterwards (see
:mod:`autograd.plan`): when a check of the generated code fires, the interpreted batch
replay runs instead, and any sample with a non-finite value where an op could hide it,
a result near the float max or a non-finite gradient is replayed by the interpreted
engine itself (:meth:`Program.interpret <autograd.trace.Program.interpret>`), whose
error is raised naming the sample; should the engine accept the sample, its numbers
replace numpy's. A float replay does the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, cast

import numpy as np

from autograd import threads
from autograd.codegen import NEAR_OVERFLOW, Generated, generate
from autograd.engine import Value, apply_op, as_float
from autograd.plan import Plan, Step, Traced, plan_for

__all__ = ["BatchReplay", "batch_replay", "failed_sample", "interpret", "run"]


class _Inputs(NamedTuple):
    values: list[Any]  # floats and 1-d arrays
    batch: int | None  # None: floats only
    floats: np.ndarray  # the shared inputs, 0 where batched
    batched: np.ndarray  # which inputs are batched


def run(
    program: Traced, inputs: Sequence[Any], with_grad: bool, *, generated: bool = True
) -> tuple[Any, list[Any]]:
    """The output for these inputs and, if ``with_grad``, each input's gradient.

    ``generated=False`` runs a batch on the interpreted batch replay, the original the
    generated code is tested against.
    """
    checked = _check_inputs(program, inputs)
    if checked.batch is None:
        return _replay_floats(program, checked, with_grad)
    if not generated:
        return _replay_batch(program, checked, with_grad)
    replay = batch_replay(program, checked.batched)
    batched = np.flatnonzero(checked.batched)
    rows = np.stack([checked.values[i] for i in map(int, batched)])
    result = replay.run(checked.floats[~checked.batched], rows, with_grad)
    if result is None:
        return _replay_batch(program, checked, with_grad)
    output, shared_grads, batched_grads = result
    if not with_grad:
        return output, []
    # Inputs that do not require grad get 0, whatever a group computed for them.
    gradients = np.zeros(program.n_inputs)
    gradients[~checked.batched] = shared_grads
    gradients[~replay.plan.summed] = 0.0
    result_grads: list[Any] = gradients.tolist()
    for r, i in enumerate(map(int, batched)):
        result_grads[i] = np.zeros(checked.batch) if batched_grads is None else batched_grads[r]
    return output, result_grads


class BatchReplay:
    """A program's replay over a batch, for one choice of which inputs are batched: its
    generated code, with the interpreted batch replay behind it.

    Made by :func:`batch_replay`. ``source`` is the generated function's source.
    """

    def __init__(self, program: Traced, batched_inputs: np.ndarray) -> None:
        # The slot count, not the program: the program keeps its replays (a cycle).
        self._n_slots = program.n_slots
        shape = _structure(program, batched_inputs)
        made = _GENERATED.pop(shape, None)
        if made is None:
            plan = plan_for(program, batched_inputs, grouped=True)
            made = (plan, generate(program, plan))
        # Most recently used last; the oldest go first.
        _GENERATED[shape] = made
        while len(_GENERATED) > _GENERATED_KEPT:
            del _GENERATED[next(iter(_GENERATED))]
        self.plan: Plan = made[0]
        self.generated: Generated = made[1]
        self.function = self.generated.function()
        self.source: str = self.generated.source
        self._constants = list(program.constants)
        self._holding = False  # within threads(): BLAS's threads are set already

    def run(
        self, shared: np.ndarray, batched: np.ndarray, with_grad: bool
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None] | None:
        """The output over the batch, the shared inputs' gradients summed over it and the
        batched inputs' gradients (one row each, None if none requires grad); or None
        when a check fires, and the interpreted batch replay must run instead.

        ``shared`` holds the shared inputs' values in order, ``batched`` the batched
        inputs as rows, one column per sample: all checked already to be finite.
        """
        s = np.zeros(0)
        if self.plan.shared:
            slots: list[Any] = [None] * self._n_slots
            for i, x in zip(
                np.flatnonzero(~self.plan.batched_inputs), shared.tolist(), strict=True
            ):
                slots[i] = x
            for slot, constant in self._constants:
                slots[slot] = constant
            try:
                _forward_floats(slots, self.plan.shared)
            except (ArithmeticError, ValueError):
                return None
            s = np.array([slots[step.out] for step in self.plan.shared])
        function = self.function
        try:
            with np.errstate(all="ignore"):
                if self._holding or not self.generated.product_size:
                    return function(shared, batched, s, with_grad)
                with self.threads(batched.shape[1]):
                    return function(shared, batched, s, with_grad)
        except (ArithmeticError, ValueError):  # on shared floats: the engine will say
            return None

    @contextmanager
    def threads(self, batch: int) -> Iterator[None]:
        """BLAS's threads as :mod:`autograd.threads` chooses them for this replay's
        matrix products on batches of ``batch`` samples, for the whole block: a loop of
        replays (epochs) sets them once, not at every call."""
        if self._holding:
            yield
            return
        self._holding = True
        try:
            with threads.for_matrix_products(self.generated.product_size * batch):
                yield
        finally:
            self._holding = False


# Plans and generated code by the structure of their program: each call of nn.train
# traces its network anew, and a notebook trains the same network many times. Pure
# results of the structure, a few kept (each new program gets buffers of its own).
_GENERATED: dict[tuple[Any, ...], tuple[Plan, Generated]] = {}
_GENERATED_KEPT = 16


def _structure(program: Traced, batched_inputs: np.ndarray) -> tuple[Any, ...]:
    """What a plan and its code depend on: everything of a program but its labels, and
    each op's forward on arrays (the code calls numpy's own functions by name)."""
    ops = {i.op for i in program.instructions}
    return (
        program.n_inputs,
        program.n_slots,
        program.output,
        program.constants,
        tuple([(i.op, i.operands, i.out) for i in program.instructions]),
        tuple(sorted(((op.name, op.on_arrays) for op in ops), key=lambda pair: pair[0])),
        program.input_requires_grad,
        program.fuse,
        batched_inputs.tobytes(),
    )


def batch_replay(program: Traced, batched_inputs: np.ndarray) -> BatchReplay:
    """The program's :class:`BatchReplay` for these batched inputs (a boolean per input),
    made once and kept in ``program.plans``."""
    key = ("replay", batched_inputs.tobytes())
    replay = program.plans.get(key)
    if replay is None:
        replay = program.plans[key] = BatchReplay(program, batched_inputs)
    return replay


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


def _backward(steps: Sequence[Step], slots: list[Any], grads: list[Any]) -> None:
    """The reverse sweep over a plan's steps, on floats and arrays: ``grads[slot]`` is
    None until a contribution arrives."""
    for step in reversed(steps):
        gradient = grads[step.out]
        if gradient is None or not step.backward:
            continue
        operands, out = step.operands, slots[step.out]
        if len(operands) == 1:
            args: tuple[Any, ...] = (slots[operands[0]], out)
        else:
            args = (slots[operands[0]], slots[operands[1]], out)
        for slot, rule in step.backward:
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
    plan = plan_for(program, checked.batched, grouped=False)  # nothing batched: all shared
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
    program: Traced, checked: _Inputs, with_grad: bool
) -> tuple[np.ndarray, list[Any]]:
    """The interpreted batch replay: one numpy call per instruction, in the trace's order,
    then the engine itself for every sample a check flags."""
    plan = plan_for(program, checked.batched, grouped=False)
    inputs, batch = checked.values, checked.batch or 0
    slots = _initial_slots(program, inputs)
    try:
        _forward_floats(slots, plan.shared)
    except (ArithmeticError, ValueError):
        # The shared part is the same for every sample: the engine fails on sample 0.
        return _sample_by_sample(program, checked, with_grad, first=0)
    failed = np.zeros(batch, dtype=bool)
    with np.errstate(all="ignore"):
        for step in cast(Sequence[Step], plan.batched):  # an ungrouped plan: steps only
            slots[step.out] = step.op.on_arrays(*[slots[i] for i in step.operands])
        # Each check stacks its slots: one numpy call per check, not per slot.
        if plan.finite:
            rows = np.stack([slots[i] for i in plan.finite])
            _flag(failed, ~np.isfinite(rows).all(axis=0))
        if plan.bounded:
            rows = np.stack([slots[i] for i in plan.bounded])
            _flag(failed, ~(np.abs(rows) <= NEAR_OVERFLOW).all(axis=0))
        output = np.array(np.broadcast_to(slots[program.output], batch))
        flowing: list[int] = []
        per_sample = np.zeros((0, batch))
        if with_grad:
            grads: list[Any] = [None] * program.n_slots
            grads[program.output] = np.ones(batch)
            try:
                _backward(cast(Sequence[Step], plan.steps), slots, grads)
            except (ArithmeticError, ValueError):
                # A rule on shared floats failed: it fails for every sample.
                return _sample_by_sample(program, checked, with_grad, first=0)
            flowing = [i for i in plan.learning if grads[i] is not None]
            if flowing:
                per_sample = np.stack([grads[i] for i in flowing])
            _flag(failed, ~np.isfinite(per_sample).all(axis=0))
    for sample in map(int, np.flatnonzero(failed)):
        out, sample_grads = _interpret_sample(program, inputs, sample, with_grad)
        # The engine accepted this sample (numpy and math differ by an ulp here).
        output[sample] = out
        for row, i in enumerate(flowing):
            per_sample[row, sample] = sample_grads[i]
    if not with_grad:
        return output, []
    return output, _input_gradients(program, flowing, per_sample, checked, plan.summed)


def _input_gradients(
    program: Traced,
    flowing: list[int],
    per_sample: np.ndarray,
    checked: _Inputs,
    summed: np.ndarray,
) -> list[Any]:
    """Each input's gradient in its own shape: a shared input's is summed over the batch.

    ``per_sample`` has a row for each input in ``flowing``; ``summed`` marks the inputs
    whose gradient is a sum (shared, requiring grad).
    """
    inputs, batch, batched = checked.values, checked.batch or 0, checked.batched
    sums = np.zeros(program.n_inputs)
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
        failure = type(error)(f"{error} (sample {sample} of the batch)")
        failure.sample = sample  # type: ignore[union-attr]  # read by failed_sample()
        raise failure from None


def failed_sample(error: BaseException) -> int | None:
    """The sample of the batch whose run raised ``error``, or None if it names none
    (an error of the shared inputs alone, or not a replay's).

    >>> from autograd import Value, trace
    >>> x = Value(1.0, requires_grad=False)
    >>> try:
    ...     trace(x.log(), [x]).value_and_grad([np.array([1.0, -1.0])])
    ... except ValueError as error:
    ...     print(failed_sample(error))
    1
    """
    sample = getattr(error, "sample", None)
    return sample if isinstance(sample, int) else None


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
    rows = [int(i) for i in np.flatnonzero(batched)]
    sizes = {len(values[i]) for i in rows}
    if len(sizes) > 1:
        raise ValueError(f"the batched inputs differ in length: {sorted(sizes)}")
    if not all(np.isfinite(values[i]).all() for i in rows):
        _refuse_non_finite(program, values, rows)
    return _Inputs(values, sizes.pop() if sizes else None, floats, batched)


def _refuse_non_finite(program: Traced, values: list[Any], rows: list[int]) -> None:
    """A ValueError naming the first sample that holds a non-finite value, and the first
    of its inputs that does: the sample the engine would fail on first."""
    bad = ~np.isfinite(np.stack([values[i] for i in rows]))
    sample = int(np.flatnonzero(bad.any(axis=0))[0])
    i = rows[int(np.flatnonzero(bad[:, sample])[0])]
    raise ValueError(
        f"{_describe_input(program, i)} holds a non-finite value "
        f"({float(values[i][sample])!r}) at sample {sample} of the batch"
    )


def _initial_slots(program: Traced, inputs: list[Any]) -> list[Any]:
    slots: list[Any] = [*inputs, *([None] * (program.n_slots - program.n_inputs))]
    for slot, constant in program.constants:
        slots[slot] = constant
    return slots


def _as_input(program: Traced, value: Any, i: int) -> Any:
    what = _describe_input(program, i)
    if isinstance(value, (np.ndarray, list, tuple)):
        array = np.asarray(value)
        if array.dtype.kind == "c":  # numpy would drop the imaginary part, with a warning
            first = complex(array.ravel()[np.argmax(array.imag.ravel() != 0)])
            raise TypeError(
                f"{what} holds complex numbers (such as {first!r}): a program takes real numbers"
            )
        if array.dtype.kind not in "iufO":
            kind = {"b": "booleans", "U": "strings", "S": "bytes"}.get(array.dtype.kind)
            raise TypeError(f"{what} must hold real numbers, got {kind or array.dtype}")
        try:
            array = array.astype(float)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{what} must hold real numbers: {error}") from None
        if array.ndim != 1:
            raise ValueError(f"{what} must be a number or a 1-d batch, got shape {array.shape}")
        return array
    if isinstance(value, Value):
        raise TypeError(f"{what} is a Value: a program takes plain numbers or arrays")
    return as_float(value, what)


def _describe_input(program: Traced, i: int, value: float | None = None) -> str:
    label = program.input_labels[i]
    name = f"input {i}" + (f" ({label!r})" if label else "")
    return name if value is None else f"{name} (data = {value!r})"
