"""The compiled path: trace a graph of Values once, replay it on new inputs without Values.

:func:`trace` flattens the graph under an output into a :class:`Program`: numbered slots
and a list of instructions (an op of :data:`autograd.ops.OPS` and the slots it reads and
writes). Replaying it runs the same forwards and the same derivative rules as the
interpreted engine, on plain floats, or on numpy arrays so that one replay computes a
whole batch of samples at once (each slot then holds an array over the batch).

The graph's structure is frozen at trace time: a function whose ops depend on the data
(a Python ``if`` on a value) must be traced again for other data.

A replay's errors are the engine's, word for word. Over a batch, numpy runs with its
floating-point errors ignored and the results are checked afterwards: a sample with a
non-finite value where an op could hide it, a result near the float max, a negative
base the engine refuses or a non-finite gradient is replayed by the interpreted engine
itself (:meth:`Program.interpret`), whose error is raised naming the sample; should the
engine accept the sample, its numbers replace numpy's. A float replay does the same.

For wide graphs (layers of neurons) a batch replay turns sums of (weight * value)
products over the same values into one matrix product, and runs the instructions of one
op on one level of the graph as one numpy call over stacked rows (dynamic batching, as
in TensorFlow Fold or DyNet). A matrix product adds in another order: it runs only under
a bound that rules out overflow, agrees with the engine to rounding, and any sample that
needs checking sends the whole replay back to one numpy call per instruction in the
engine's order. Its backward (``W @ G`` and ``V @ G^T``) is a copy of the rules of ``+``
and ``*`` of the op table (1, and the other factor), kept for speed: a 64-16-10 network
on 1,797 samples went from 38 ms to about 3 ms an epoch. Tests compare it with the
engine on random wide graphs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from autograd.engine import Value, apply_op, as_float, topological_order
from autograd.ops import OPS, Op

__all__ = ["Program", "trace"]


# Near the largest float, numpy's exp and ** may round one ulp away from math's, so one
# side may overflow where the other does not: results this large go to the engine.
_NEAR_OVERFLOW = 1e308

# Whatever their operands, these give a non-finite result from a non-finite operand
# (IEEE 754: inf + -inf and inf * 0 are nan), so their operands need no check of their own.
_PROPAGATES_NON_FINITE = frozenset({"+", "*"})


@dataclass(frozen=True, slots=True)
class _Instruction:
    op: Op
    operands: tuple[int, ...]
    out: int
    # (slot, rule) for each operand that leads back to an input requiring grad: the
    # backward sweep sends gradient along these edges only.
    backward: tuple[tuple[int, Callable[..., Any]], ...]
    # ``**`` whose exponent requires grad: the engine refuses a negative base (d/db
    # needs log(base)), when the graph is built.
    refuses_negative_base: bool


@dataclass(frozen=True, slots=True, eq=False)
class _DotGroup:
    """Sums of products of shared inputs and batched slots, all over the same batched
    slots, run as one matrix product: ``z_j = sum_i W[i, j] * V[i] (+ rest_j)``.

    The engine adds the same products one at a time; a matrix product adds them in
    another order, so a group runs only when a bound proves no partial sum can overflow
    (see _FUSED_BOUND), and its numbers agree with the engine's to rounding.
    """

    vectors: tuple[int, ...]  # the rows of V: batched slots
    weights: np.ndarray  # (rows of V, dots) of input slots: W[i, j]
    roots: tuple[int, ...]  # z_j: the slot each sum fills
    rests: tuple[tuple[int, ...], ...]  # the other terms of each sum, added in order


@dataclass(frozen=True, slots=True, eq=False)
class _OpGroup:
    """Instructions of one op on one level of the graph (none reads another's output),
    run as one numpy call over their operands stacked as rows: dynamic batching."""

    op: Op
    operands: tuple[tuple[int, ...], ...]  # for each operand position, each member's slot
    shared: tuple[bool, ...]  # for each operand position: shared (floats) or batched
    outs: tuple[int, ...]
    # (position, rule) for each operand position that leads back to an input requiring
    # grad, as in _Instruction.backward (the same for every member).
    backward: tuple[tuple[int, Callable[..., Any]], ...]


_Step = _Instruction | _DotGroup | _OpGroup


@dataclass(frozen=True, slots=True)
class _BatchPlan:
    """How to replay a program over a batch, for one choice of which inputs are batched."""

    shared: tuple[_Instruction, ...]  # read no batched slot: run once, on floats
    batched: tuple[_Step, ...]  # run with numpy, one call per step or group
    steps: tuple[_Step, ...]  # all of them in order: the backward sweep
    active: frozenset[int]  # slots that lead back to an input requiring grad
    shared_bases: tuple[int, ...]  # shared slots that must not be negative
    batched_bases: tuple[int, ...]  # batched slots that must not be negative
    # Batched slots that must be finite everywhere because the op reading them may hide
    # a non-finite value (tanh(inf) is 1), and the output.
    finite: tuple[int, ...]
    bounded: tuple[int, ...]  # batched outputs of exp and **: see _NEAR_OVERFLOW
    grouped: bool  # whether any steps run as groups
    learning: tuple[int, ...]  # the inputs that require grad
    summed: np.ndarray  # which inputs get a gradient summed over the batch


# A fused sum runs only if max|W| * max|V| * (number of terms) is below this, so that no
# partial sum in any order comes near overflow; the same bounds hold the backward sums.
_FUSED_BOUND = 1e300
# Fewer products than this are added in the engine's order, so that small graphs (the
# lecture notes' 4-3-2-1 network, which learners compare by hand) keep its rounding.
# Fusing from 4 products would take the 4-3-2-1 epoch from about 2.2x PyTorch's time
# to 1.9x (measured, CPU time, interleaved medians on a shared machine).
_FUSED_MIN_PRODUCTS = 16
# Fewer instructions of one op on one level than this run one by one.
_GROUP_MIN = 8


class _Unsafe(Exception):
    """A fused replay cannot vouch for its numbers: replay without fusing."""


class _Inputs(NamedTuple):
    values: list[Any]  # floats and 1-d arrays
    batch: int | None  # None: floats only
    floats: np.ndarray  # the shared inputs, 0 where batched
    batched: np.ndarray  # which inputs are batched


class _Refused(Exception):
    """A replay met something the engine would refuse; the engine itself says what."""


@dataclass(frozen=True)
class Program:
    """A traced graph: replays forward and backward on new inputs, as floats or arrays.

    Slots ``0 .. n_inputs - 1`` hold the inputs in the order given to :func:`trace`;
    every other leaf is a constant frozen at its traced value. Inputs are floats, or
    numpy arrays (or lists) over a batch, mixed freely: a float is shared by every sample.

    A replay gives what the interpreted engine gives on the same graph (with the
    constants as constants), or raises the engine's error; over a batch the error names
    the first sample that fails ("sample k of the batch").

    >>> x, y = Value(1.0), Value(2.0)
    >>> program = trace(x * y + x.tanh(), [x, y])
    >>> out, grads = program.value_and_grad([0.5, 3.0])
    >>> round(out, 6), [round(g, 6) for g in grads]
    (1.962117, [3.786448, 0.5])
    >>> program([[0.5, 1.0], 3.0])  # a batch of two samples sharing y = 3
    array([1.96211716, 3.76159416])
    """

    n_inputs: int
    n_slots: int
    constants: tuple[tuple[int, float], ...]
    instructions: tuple[_Instruction, ...]
    output: int
    input_labels: tuple[str, ...]
    input_requires_grad: tuple[bool, ...]
    _plans: dict[tuple[bytes, bool], _BatchPlan] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __repr__(self) -> str:
        ops = sorted({step.op.name for step in self.instructions})
        return (
            f"Program({self.n_inputs} inputs, {len(self.instructions)} instructions "
            f"({' '.join(ops)}), {len(self.constants)} constants)"
        )

    def __call__(self, inputs: Sequence[Any]) -> Any:
        """The output for these inputs: a float, or an array over the batch."""
        checked = self._inputs(inputs)
        if checked.batch is None:
            return self._replay_floats(checked.values, with_grad=False)[0]
        return self._replay_batch(checked, with_grad=False)[0]

    def value_and_grad(self, inputs: Sequence[Any]) -> tuple[Any, list[Any]]:
        """The output and d(sum of the output)/d(input) for each input.

        Each gradient has the shape of its input, so a float input (a weight shared by
        every sample) gets the gradient summed over the batch: the gradient of the total.
        Inputs traced from Values that do not require grad (data) get zero gradients,
        and no work is spent on them.
        """
        checked = self._inputs(inputs)
        if checked.batch is None:
            return self._replay_floats(checked.values, with_grad=True)
        return self._replay_batch(checked, with_grad=True)

    # --- the interpreted engine, on one sample -------------------------------------------
    def interpret(
        self, inputs: Sequence[float], *, with_grad: bool = True
    ) -> tuple[float, list[float]]:
        """The program run by the interpreted engine itself on one sample of floats.

        Rebuilds the graph of Values (inputs with their traced ``requires_grad`` and
        labels, constants as constants) through :func:`autograd.engine.apply_op` and
        calls ``backward()``: the reference every replay agrees with, and the source of
        every error a replay raises.

        >>> a = Value(2.0)
        >>> trace(a * a, [a]).interpret([3.0])
        (9.0, [6.0])
        """
        values = [
            Value(x, label, requires_grad=rg)
            for x, label, rg in zip(
                inputs, self.input_labels, self.input_requires_grad, strict=True
            )
        ]
        nodes: list[Any] = [*values, *([None] * (self.n_slots - self.n_inputs))]
        for slot, constant in self.constants:
            nodes[slot] = Value(constant, requires_grad=False)
        for step in self.instructions:
            nodes[step.out] = apply_op(step.op, *[nodes[i] for i in step.operands])
        out = nodes[self.output]
        if with_grad and out.requires_grad:
            out.backward()
        return out.data, [v.grad for v in values]

    # --- on floats -----------------------------------------------------------------------
    def _replay_floats(self, inputs: list[Any], with_grad: bool) -> tuple[float, list[float]]:
        slots = self._initial_slots(inputs)
        try:
            self._forward_floats(slots, self.instructions)
            grads = self._backward_floats(slots) if with_grad else []
        except (ArithmeticError, ValueError, _Refused):
            # The engine raises its own error here; should it not, its numbers stand.
            return self.interpret(inputs, with_grad=with_grad)
        return slots[self.output], grads

    @staticmethod
    def _forward_floats(slots: list[Any], steps: Sequence[_Instruction]) -> None:
        """Fill the slots of ``steps`` on floats with the engine's forwards."""
        for step in steps:
            operands = step.operands
            if len(operands) == 1:
                slots[step.out] = step.op.forward(slots[operands[0]])
            else:
                if step.refuses_negative_base and slots[operands[0]] < 0.0:
                    raise _Refused
                slots[step.out] = step.op.forward(slots[operands[0]], slots[operands[1]])
        # + and * overflow to inf silently: look once, at the end.
        if not all(math.isfinite(slots[step.out]) for step in steps):
            raise _Refused

    def _backward_floats(self, slots: list[Any]) -> list[float]:
        """The reverse sweep on floats, in the engine's order: one rule call per edge."""
        grads = [0.0] * self.n_slots
        grads[self.output] = 1.0
        for step in reversed(self.instructions):
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
        if not all(map(math.isfinite, grads[: self.n_inputs])):
            raise _Refused
        return grads[: self.n_inputs]

    # --- over a batch --------------------------------------------------------------------
    def _replay_batch(self, checked: _Inputs, with_grad: bool) -> tuple[np.ndarray, list[Any]]:
        plan = self._plan(checked.batched, fused=True)
        if plan.grouped:
            try:
                return self._run_batch(plan, checked, with_grad, fused=True)
            except _Unsafe:
                plan = self._plan(checked.batched, fused=False)
        return self._run_batch(plan, checked, with_grad, fused=False)

    def _run_batch(
        self, plan: _BatchPlan, checked: _Inputs, with_grad: bool, fused: bool
    ) -> tuple[np.ndarray, list[Any]]:
        inputs, batch, shared_inputs = checked.values, checked.batch or 0, checked.floats
        slots = self._initial_slots(inputs)
        try:
            self._forward_floats(slots, plan.shared)
            for slot in plan.shared_bases:
                if slots[slot] < 0.0:
                    raise _Refused
        except (ArithmeticError, ValueError, _Refused):
            # The shared part is the same for every sample: the engine fails on sample 0.
            return self._sample_by_sample(checked, with_grad, first=0)
        # Each group's stacked operands, kept for the backward sweep; and the matrices
        # whose rows are slots, so that a group reading exactly those rows needs no stack.
        stacked: dict[Any, Any] = {}
        matrices: dict[tuple[int, ...], np.ndarray] = {}
        failed = np.zeros(batch, dtype=bool)
        with np.errstate(all="ignore"):
            for item in plan.batched:
                if isinstance(item, _DotGroup):
                    stacked[item] = _dot_forward(item, slots, shared_inputs, matrices)
                elif isinstance(item, _OpGroup):
                    stacked[item] = _group_forward(item, slots, matrices)
                else:
                    slots[item.out] = item.op.forward_array(*[slots[i] for i in item.operands])
            # Each check stacks its slots: one numpy call per check, not per slot.
            if plan.finite:
                rows = np.stack([slots[i] for i in plan.finite])
                _flag(failed, ~np.isfinite(rows).all(axis=0))
            if plan.bounded:
                rows = np.stack([slots[i] for i in plan.bounded])
                _flag(failed, ~(np.abs(rows) <= _NEAR_OVERFLOW).all(axis=0))
            if plan.batched_bases:
                rows = np.stack([slots[i] for i in plan.batched_bases])
                _flag(failed, (rows < 0.0).any(axis=0))
            output = np.array(np.broadcast_to(slots[self.output], batch))
            flowing: list[int] = []
            per_sample = np.zeros((0, batch))
            totals = np.zeros(self.n_inputs)
            if with_grad:
                try:
                    flowing, per_sample = self._backward_arrays(
                        plan, slots, batch, shared_inputs, stacked, totals
                    )
                except (ArithmeticError, ValueError):
                    # A rule on shared floats failed: it fails for every sample.
                    return self._sample_by_sample(checked, with_grad, first=0)
                _flag(failed, ~np.isfinite(per_sample).all(axis=0))
        if fused and (failed.any() or not np.isfinite(totals).all()):
            raise _Unsafe
        for sample in map(int, np.flatnonzero(failed)):
            out, grads = self._interpret_sample(inputs, sample, with_grad)
            # The engine accepted this sample (numpy and math differ by an ulp here).
            output[sample] = out
            for row, i in enumerate(flowing):
                per_sample[row, sample] = grads[i]
        if not with_grad:
            return output, []
        return output, self._input_gradients(flowing, per_sample, checked, plan.summed, totals)

    def _backward_arrays(
        self,
        plan: _BatchPlan,
        slots: list[Any],
        batch: int,
        shared_inputs: np.ndarray,
        stacked: dict[Any, Any],
        totals: np.ndarray,
    ) -> tuple[list[int], np.ndarray]:
        """The inputs that gradient reaches, and theirs per sample (a row each).

        A fused group adds its shared inputs' gradients, already summed over the batch,
        into ``totals``.
        """
        grads: list[Any] = [None] * self.n_slots
        grads[self.output] = np.ones(batch)
        for item in reversed(plan.steps):
            if isinstance(item, _DotGroup):
                vectors = stacked[item]
                _dot_backward(item, vectors, grads, shared_inputs, totals, plan.active, batch)
                continue
            if isinstance(item, _OpGroup):
                _group_backward(item, stacked[item], grads, batch)
                continue
            gradient = grads[item.out]
            if gradient is None or not item.backward:
                continue
            args = [slots[i] for i in item.operands]
            args.append(slots[item.out])
            for slot, rule in item.backward:
                local = rule(*args)
                # A sum's local derivative is exactly 1: skip the product.
                if type(local) is float and local == 1.0:
                    contribution = gradient
                else:
                    contribution = gradient * local
                previous = grads[slot]
                grads[slot] = contribution if previous is None else previous + contribution
        flowing = [i for i in plan.learning if grads[i] is not None]
        if not flowing:
            return flowing, np.zeros((0, batch))
        return flowing, np.stack([grads[i] for i in flowing])

    def _input_gradients(
        self,
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
        sums = np.zeros(self.n_inputs) if totals is None else totals.copy()
        if flowing:  # one reduction for all of them instead of one call each
            rows = np.array(flowing)
            shared = ~batched[rows]
            with np.errstate(over="ignore", invalid="ignore"):  # reported below
                sums[rows[shared]] += per_sample[shared].sum(axis=1)
        overflowed = np.flatnonzero(~np.isfinite(sums) & summed)
        if len(overflowed):
            i = int(overflowed[0])
            raise OverflowError(
                f"the gradient overflowed a float at {self._describe_input(i, inputs[i])} "
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
        self, inputs: list[Any], sample: int, with_grad: bool
    ) -> tuple[float, list[float]]:
        """The engine's run of one sample of the batch; its error names the sample."""
        values = [float(v[sample]) if isinstance(v, np.ndarray) else v for v in inputs]
        try:
            return self.interpret(values, with_grad=with_grad)
        except (ArithmeticError, ValueError) as error:
            raise type(error)(f"{error} (sample {sample} of the batch)") from None

    def _sample_by_sample(
        self, checked: _Inputs, with_grad: bool, first: int
    ) -> tuple[np.ndarray, list[Any]]:
        """The whole batch by the engine, sample ``first`` first (the one expected to fail)."""
        inputs, batch = checked.values, checked.batch or 0
        runs = {first: self._interpret_sample(inputs, first, with_grad)}
        for sample in range(batch):
            if sample not in runs:
                runs[sample] = self._interpret_sample(inputs, sample, with_grad)
        output = np.array([runs[k][0] for k in range(batch)])
        if not with_grad:
            return output, []
        flowing = [i for i, rg in enumerate(self.input_requires_grad) if rg]
        per_sample = np.array([[runs[k][1][i] for k in range(batch)] for i in flowing])
        summed = np.array(self.input_requires_grad) & ~checked.batched
        return output, self._input_gradients(
            flowing, per_sample.reshape(len(flowing), batch), checked, summed
        )

    def _plan(self, batched_inputs: np.ndarray, fused: bool) -> _BatchPlan:
        """The plan for this choice of batched inputs, made once and kept."""
        key = (batched_inputs.tobytes(), fused)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        batched = set(map(int, np.flatnonzero(batched_inputs)))
        shared: list[_Instruction] = []
        steps: list[_Instruction] = []
        for step in self.instructions:
            if batched.isdisjoint(step.operands):
                shared.append(step)
            else:
                batched.add(step.out)
                steps.append(step)
        active = {i for i, rg in enumerate(self.input_requires_grad) if rg}
        active.update(step.out for step in self.instructions if step.backward)
        bases = {step.operands[0] for step in self.instructions if step.refuses_negative_base}
        finite = {
            i for step in steps if step.op.name not in _PROPAGATES_NON_FINITE for i in step.operands
        }
        finite.add(self.output)
        order: list[_Step] = list(self.instructions)
        if fused:
            shared_inputs = set(range(self.n_inputs)) - batched
            order = (
                _fuse(
                    self.instructions,
                    batched,
                    shared_inputs,
                    active,
                    self.output,
                    self.n_inputs,
                    self.constants,
                )
                or order
            )
        plan = _BatchPlan(
            shared=tuple(shared),
            batched=tuple(
                item for item in order if not isinstance(item, _Instruction) or item.out in batched
            ),
            steps=tuple(order),
            active=frozenset(active),
            shared_bases=tuple(sorted(bases - batched)),
            batched_bases=tuple(sorted(bases & batched)),
            finite=tuple(sorted(finite & batched)),
            bounded=tuple(step.out for step in steps if step.op.name in ("exp", "**")),
            grouped=any(not isinstance(item, _Instruction) for item in order),
            learning=tuple(i for i, rg in enumerate(self.input_requires_grad) if rg),
            summed=np.array(self.input_requires_grad) & ~batched_inputs,
        )
        self._plans[key] = plan
        return plan

    # --- inputs --------------------------------------------------------------------------
    def _inputs(self, inputs: Sequence[Any]) -> _Inputs:
        """The inputs checked: floats and 1-d arrays, with the batch size."""
        if len(inputs) != self.n_inputs:
            raise ValueError(f"this program takes {self.n_inputs} inputs, got {len(inputs)}")
        # Plain floats (the weights, often hundreds) pass in one Python loop and one numpy
        # check; anything else (a batch, an int, a bad value) is looked at one by one.
        values = list(inputs)
        floats = np.array([x if type(x) is float else math.nan for x in values])
        others = np.isnan(floats)
        batched = np.zeros(self.n_inputs, dtype=bool)
        for i in map(int, np.flatnonzero(others)):
            values[i] = self._as_input(values[i], i)
            if isinstance(values[i], np.ndarray):
                batched[i] = True
                floats[i] = 0.0
            else:
                floats[i] = values[i]
        if not np.isfinite(floats).all():
            i = int(np.flatnonzero(~np.isfinite(floats))[0])
            as_float(values[i], self._describe_input(i))  # raises, naming the input
        sizes = {len(values[i]) for i in map(int, np.flatnonzero(batched))}
        if len(sizes) > 1:
            raise ValueError(f"the batched inputs differ in length: {sorted(sizes)}")
        return _Inputs(values, sizes.pop() if sizes else None, floats, batched)

    def _initial_slots(self, inputs: list[Any]) -> list[Any]:
        slots: list[Any] = [*inputs, *([None] * (self.n_slots - self.n_inputs))]
        for slot, constant in self.constants:
            slots[slot] = constant
        return slots

    def _as_input(self, value: Any, i: int) -> Any:
        what = self._describe_input(i)
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

    def _describe_input(self, i: int, value: float | None = None) -> str:
        label = self.input_labels[i]
        name = f"input {i}" + (f" ({label!r})" if label else "")
        return name if value is None else f"{name} (data = {value!r})"


def _fuse(
    steps: Sequence[_Instruction],
    batched: set[int],
    shared_inputs: set[int],
    active: set[int],
    output: int,
    n_inputs: int,
    constants: tuple[tuple[int, float], ...],
) -> list[_Step] | None:
    """``steps`` with sums of (shared input * batched slot) products over the same batched
    slots replaced by :class:`_DotGroup` s and instructions of one op on one level by
    :class:`_OpGroup` s; None if that does not pay."""
    users: dict[int, int] = {}
    read_by: dict[int, str] = {}  # the op reading each slot (the last, if several)
    for step in steps:
        for i in step.operands:
            users[i] = users.get(i, 0) + 1
            read_by[i] = step.op.name
    made_by = {step.out: step for step in steps if type(step) is _Instruction}

    def only_feeds_its_sum(slot: int, name: str) -> bool:
        step = made_by.get(slot)
        return step is not None and step.op.name == name and users.get(slot) == 1 and slot != output

    dots: dict[tuple[int, ...], list[tuple[int, dict[int, int], tuple[int, ...], set[int]]]] = {}
    for step in made_by.values():
        inner = only_feeds_its_sum(step.out, "+") and read_by[step.out] == "+"
        if step.op.name != "+" or step.out not in batched or inner:
            continue  # not the root of a sum
        products: dict[int, int] = {}  # batched slot -> shared input multiplying it
        rest: list[int] = []
        inside = {step.out}
        stack = list(reversed(step.operands))
        while stack:
            slot = stack.pop()
            if only_feeds_its_sum(slot, "+"):
                inside.add(slot)
                stack.extend(reversed(made_by[slot].operands))
                continue
            term = made_by.get(slot)
            if term is not None and only_feeds_its_sum(slot, "*"):
                a, b = term.operands
                w, v = (a, b) if a in shared_inputs else (b, a)
                if w in shared_inputs and v in batched and v not in products:
                    products[v] = w
                    inside.add(slot)
                    continue
            rest.append(slot)
        if len(products) > 1:
            dots.setdefault(tuple(sorted(products)), []).append(
                (step.out, products, tuple(rest), inside)
            )
    groups = {
        vectors: sums
        for vectors, sums in dots.items()
        if len(vectors) * len(sums) >= _FUSED_MIN_PRODUCTS
    }
    if not groups:
        return None
    pending: list[_Instruction | _DotGroup] = []
    fused_out: set[int] = set()
    for vectors, sums in groups.items():
        pending.append(
            _DotGroup(
                vectors=vectors,
                weights=np.array([[products[v] for _, products, _, _ in sums] for v in vectors]),
                roots=tuple(root for root, _, _, _ in sums),
                rests=tuple(rest for _, _, rest, _ in sums),
            )
        )
        fused_out.update(*(inside for _, _, _, inside in sums))
    pending.extend(step for step in made_by.values() if step.out not in fused_out)
    levels = _levels(pending, set(range(n_inputs)) | {slot for slot, _ in constants})
    if levels is None:  # the groups depend on each other in a cycle: do not fuse
        return None
    result: list[_Step] = []
    for level in levels:
        # Instructions of one op on one level run as one call, when there are enough.
        alike: dict[tuple[Any, ...], list[_Instruction]] = {}
        for item in level:
            if isinstance(item, _Instruction) and item.out in batched:
                shared = tuple(i not in batched for i in item.operands)
                positions = tuple(i in active for i in item.operands)
                alike.setdefault((item.op.name, shared, positions), []).append(item)
            else:
                result.append(item)
        for members in alike.values():
            if len(members) < _GROUP_MIN:
                result.extend(members)
                continue
            first = members[0]
            result.append(
                _OpGroup(
                    op=first.op,
                    operands=tuple(zip(*(m.operands for m in members), strict=True)),
                    shared=tuple(i not in batched for i in first.operands),
                    outs=tuple(m.out for m in members),
                    backward=tuple(
                        (position, rule)
                        for position, (i, rule) in enumerate(
                            zip(first.operands, first.op.derivatives, strict=True)
                        )
                        if i in active
                    ),
                )
            )
    return result


def _levels(
    items: list[_Instruction | _DotGroup], ready: set[int]
) -> list[list[_Instruction | _DotGroup]] | None:
    """``items`` by level: each reads only slots that are ready or written on an earlier
    level (Kahn's algorithm, keeping the given order within a level); None on a cycle."""
    made_by: dict[int, int] = {}
    reads: list[set[int]] = []
    for n, item in enumerate(items):
        if isinstance(item, _DotGroup):
            reads.append({*item.vectors, *(r for rest in item.rests for r in rest)} - ready)
            made_by.update(dict.fromkeys(item.roots, n))
        else:
            reads.append(set(item.operands) - ready)
            made_by[item.out] = n
    waiting_on = [len({made_by[i] for i in r if i in made_by}) for r in reads]
    if any(i not in made_by for r in reads for i in r):
        return None  # reads a slot nothing writes: cannot happen in a valid trace
    readers: dict[int, list[int]] = {}
    for n, r in enumerate(reads):
        for m in {made_by[i] for i in r}:
            readers.setdefault(m, []).append(n)
    level = [n for n, count in enumerate(waiting_on) if count == 0]
    levels: list[list[_Instruction | _DotGroup]] = []
    placed = 0
    while level:
        levels.append([items[n] for n in level])
        placed += len(level)
        following = []
        for n in level:
            for m in readers.get(n, ()):
                waiting_on[m] -= 1
                if waiting_on[m] == 0:
                    following.append(m)
        level = sorted(following)
    return levels if placed == len(items) else None


def _dot_forward(
    group: _DotGroup,
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
    group: _DotGroup,
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
    group: _OpGroup, slots: list[Any], matrices: dict[tuple[int, ...], np.ndarray]
) -> list[Any]:
    """Fill the group's outputs; returns its operands and output for the backward."""
    args = [
        _shared_column(column, slots) if shared else _rows(column, slots, matrices)
        for column, shared in zip(group.operands, group.shared, strict=True)
    ]
    out = group.op.forward_array(*args)
    matrices[group.outs] = out
    for i, slot in enumerate(group.outs):
        slots[slot] = out[i]
    args.append(out)
    return args


def _group_backward(group: _OpGroup, args: list[Any], grads: list[Any], batch: int) -> None:
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


def _flag(failed: np.ndarray, where: Any) -> None:
    """Mark the samples where a check failed (``where`` may be one bool for all)."""
    if where.any():
        failed |= where


def trace(output: Value, inputs: Sequence[Value]) -> Program:
    """Flatten the graph under ``output`` into a :class:`Program` of the given inputs.

    >>> a = Value(2.0)
    >>> trace(a * a, [a])([3.0])
    9.0
    """
    if not isinstance(output, Value):
        raise TypeError(f"trace needs a Value as output, got {type(output).__name__}")
    slot_of: dict[Value, int] = {}
    for i, v in enumerate(inputs):
        if not isinstance(v, Value):
            raise TypeError(f"trace inputs must be Values, got {type(v).__name__} at {i}")
        if v in slot_of:
            raise ValueError(f"input {i} is listed twice")
        slot_of[v] = i
    # Gradients flow only along paths back to inputs that require grad.
    active = {i for i, v in enumerate(inputs) if v.requires_grad}
    constants = []
    instructions = []
    for node in topological_order(output):
        if node in slot_of:
            continue
        slot = slot_of[node] = len(slot_of)
        if not node.parents:
            constants.append((slot, node.data))
            continue
        op = OPS[node.op]
        operands = tuple(slot_of[p] for p in node.parents)
        backward = tuple(
            (i, rule) for i, rule in zip(operands, op.derivatives, strict=True) if i in active
        )
        if backward:
            active.add(slot)
        refuses = op is OPS["**"] and operands[1] in active
        instructions.append(_Instruction(op, operands, slot, backward, refuses))
    return Program(
        n_inputs=len(inputs),
        n_slots=len(slot_of),
        constants=tuple(constants),
        instructions=tuple(instructions),
        output=slot_of[output],
        input_labels=tuple(v.label for v in inputs),
        input_requires_grad=tuple(v.requires_grad for v in inputs),
    )
