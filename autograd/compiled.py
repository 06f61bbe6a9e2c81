"""The compiled path: trace a graph of Values once, replay it on new inputs without Values.

:func:`trace` flattens the graph under an output into a :class:`Program`: numbered slots
and a list of instructions (an op of :data:`autograd.ops.OPS` and the slots it reads and
writes). Replaying it runs the same forwards and the same derivative rules as the
interpreted engine, on plain floats, or on numpy arrays so that one replay computes a
whole batch of samples at once (each slot then holds an array over the batch).

The graph's structure is frozen at trace time: a function whose ops depend on the data
(a Python ``if`` on a value) must be traced again for other data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd.engine import Value, as_float, topological_order
from autograd.ops import OPS, Op

__all__ = ["Program", "trace"]


@dataclass(frozen=True, slots=True)
class _Instruction:
    op: Op
    operands: tuple[int, ...]
    out: int
    # (slot, rule) for each operand that leads back to an input requiring grad: the
    # backward sweep sends gradient along these edges only.
    backward: tuple[tuple[int, Callable[..., Any]], ...]


@dataclass(frozen=True)
class Program:
    """A traced graph: replays forward and backward on new inputs, as floats or arrays.

    Slots ``0 .. n_inputs - 1`` hold the inputs in the order given to :func:`trace`;
    every other leaf is a constant frozen at its traced value. Inputs are floats, or
    numpy arrays (or lists) over a batch, mixed freely: a float is shared by every sample.

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

    def __repr__(self) -> str:
        ops = sorted({step.op.name for step in self.instructions})
        return (
            f"Program({self.n_inputs} inputs, {len(self.instructions)} instructions "
            f"({' '.join(ops)}), {len(self.constants)} constants)"
        )

    def __call__(self, inputs: Sequence[Any]) -> Any:
        """The output for these inputs: a float, or an array over the batch."""
        slots, batch = self._forward(inputs)
        return _over_batch(slots[self.output], batch)

    def value_and_grad(self, inputs: Sequence[Any]) -> tuple[Any, list[Any]]:
        """The output and d(sum of the output)/d(input) for each input.

        Each gradient has the shape of its input, so a float input (a weight shared by
        every sample) gets the gradient summed over the batch: the gradient of the total.
        Inputs traced from Values that do not require grad (data) get zero gradients,
        and no work is spent on them.
        """
        slots, batch = self._forward(inputs)
        output = _over_batch(slots[self.output], batch)
        if batch is None:
            grads = self._backward_floats(slots)
        else:
            grads = self._backward_arrays(slots, batch)
        return output, _input_gradients(grads[: self.n_inputs], slots[: self.n_inputs])

    def _backward_floats(self, slots: list[Any]) -> list[Any]:
        """The reverse sweep on floats: one rule call per edge and nothing else per step."""
        grads = [0.0] * self.n_slots
        grads[self.output] = 1.0
        try:
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
        except OverflowError:
            raise _gradient_overflow(step, "") from None
        # A float product overflows to inf silently: look once, at the end.
        if not all(map(math.isfinite, grads)):
            for step in reversed(self.instructions):
                if not math.isfinite(grads[step.out]):
                    raise _gradient_overflow(step, "")
            raise OverflowError("the gradient overflowed a float at an input of a compiled replay")
        return grads

    def _backward_arrays(self, slots: list[Any], batch: int) -> list[Any]:
        """The reverse sweep on arrays over the batch; None marks a slot no gradient reached."""
        grads: list[Any] = [None] * self.n_slots
        grads[self.output] = np.ones(batch)
        with np.errstate(all="raise"):
            try:
                for step in reversed(self.instructions):
                    gradient = grads[step.out]
                    if gradient is None or not step.backward:
                        continue
                    args = [slots[i] for i in step.operands]
                    args.append(slots[step.out])
                    for slot, rule in step.backward:
                        local = rule(*args)
                        # A sum's local derivative is exactly 1: skip the product.
                        if type(local) is float and local == 1.0:
                            contribution = gradient
                        else:
                            contribution = gradient * local
                        previous = grads[slot]
                        grads[slot] = contribution if previous is None else previous + contribution
            except (FloatingPointError, OverflowError) as error:
                raise _gradient_overflow(step, f": {error}") from None
        return grads

    def _forward(self, inputs: Sequence[Any]) -> tuple[list[Any], int | None]:
        """Every slot's value, and the batch size (None for a replay on floats)."""
        if len(inputs) != self.n_inputs:
            raise ValueError(f"this program takes {self.n_inputs} inputs, got {len(inputs)}")
        slots: list[Any] = [None] * self.n_slots
        for i, value in enumerate(inputs):
            slots[i] = _as_input(value, i)
        sizes = {len(value) for value in slots[: self.n_inputs] if isinstance(value, np.ndarray)}
        if len(sizes) > 1:
            raise ValueError(f"the batched inputs differ in length: {sorted(sizes)}")
        batch = sizes.pop() if sizes else None
        for slot, constant in self.constants:
            slots[slot] = constant
        if batch is None:
            self._forward_floats(slots)
            return slots, None
        with np.errstate(all="raise"):
            try:
                for step in self.instructions:
                    slots[step.out] = step.op.forward_array(*[slots[i] for i in step.operands])
            except FloatingPointError:
                raise _batch_error(step, slots) from None
        return slots, batch

    def _forward_floats(self, slots: list[Any]) -> None:
        """Fill the slots on floats, raising the interpreted engine's errors."""
        try:
            for step in self.instructions:
                operands = step.operands
                if len(operands) == 1:
                    slots[step.out] = step.op.forward(slots[operands[0]])
                else:
                    slots[step.out] = step.op.forward(slots[operands[0]], slots[operands[1]])
        except OverflowError:
            raise _float_error(step, slots) from None
        # + and * overflow to inf silently: look once, at the end. The first non-finite
        # output is the op that overflowed (its operands are finite).
        if not all(map(math.isfinite, slots)):
            for step in self.instructions:
                if not math.isfinite(slots[step.out]):
                    raise _float_error(step, slots)


def _float_error(step: _Instruction, slots: list[Any]) -> Exception:
    """The error the interpreted engine raises for ``step`` on these operands."""
    try:
        step.op.compute(*[slots[i] for i in step.operands])
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        return error
    return OverflowError(f"{step.op.name} failed in a compiled replay")


def _gradient_overflow(step: _Instruction, detail: str) -> OverflowError:
    return OverflowError(
        f"the gradient overflowed a float at the output of {step.op.name} "
        f"(slot {step.out}) in a compiled replay{detail}"
    )


def _over_batch(value: Any, batch: int | None) -> Any:
    """An output that does not depend on the batched inputs still has one entry per sample."""
    if batch is None or isinstance(value, np.ndarray):
        return value
    return np.full(batch, value)


def _as_input(value: Any, i: int) -> Any:
    if type(value) is float and math.isfinite(value):
        return value
    if isinstance(value, (np.ndarray, list, tuple)):
        array = np.asarray(value, dtype=float)
        if array.ndim != 1:
            raise ValueError(f"input {i} must be a number or a 1-d batch, got shape {array.shape}")
        if not np.isfinite(array).all():
            raise ValueError(f"input {i} holds a non-finite value")
        return array
    if isinstance(value, Value):
        raise TypeError(f"input {i} is a Value: a program takes plain numbers or arrays")
    return as_float(value, f"input {i}")


def _batch_error(step: _Instruction, slots: list[Any]) -> Exception:
    """The error a scalar replay would raise, for the first sample where ``step`` fails."""
    arrays = np.broadcast_arrays(*[np.asarray(slots[i]) for i in step.operands])
    for sample in range(arrays[0].size):
        try:
            step.op.compute(*[float(a[sample]) for a in arrays])
        except (ValueError, ZeroDivisionError, OverflowError) as error:
            return type(error)(f"{error} (sample {sample} of the batch)")
    return OverflowError(f"{step.op.name} failed in a compiled replay")


def _input_gradients(grads: list[Any], inputs: list[Any]) -> list[Any]:
    """Each input's gradient in its own shape: a float input's is summed over the batch."""
    result: list[Any] = []
    to_sum: list[int] = []  # float inputs whose gradient is an array over the batch
    for i, (gradient, value) in enumerate(zip(grads, inputs, strict=True)):
        if isinstance(value, np.ndarray):
            result.append(
                np.zeros(value.shape)
                if gradient is None
                else np.array(np.broadcast_to(gradient, value.shape))
            )
        elif isinstance(gradient, np.ndarray):
            result.append(None)
            to_sum.append(i)
        else:
            result.append(0.0 if gradient is None else float(gradient))
    if to_sum:
        # One reduction for all of them instead of one call each.
        for i, total in zip(to_sum, np.stack([grads[i] for i in to_sum]).sum(axis=1), strict=True):
            result[i] = float(total)
    return result


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
        instructions.append(_Instruction(op, operands, slot, backward))
    return Program(
        n_inputs=len(inputs),
        n_slots=len(slot_of),
        constants=tuple(constants),
        instructions=tuple(instructions),
        output=slot_of[output],
    )
