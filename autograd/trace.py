"""Tracing: a graph of Values flattened once into a :class:`Program` of numbered slots.

A program is plain data: slots ``0 .. n_inputs - 1`` hold the inputs, some slots hold
constants frozen at their traced values, and each :class:`Instruction` computes one slot
from others with a row of the op table. The compiled path replays it (forward and
backward, on floats or on numpy arrays over a batch: :mod:`autograd.replay`, planned by
:mod:`autograd.plan`, over a batch as the numpy code :mod:`autograd.codegen` writes for
it, which :meth:`Program.source` shows); other consumers may read it as data, as the
explorer page does.

The graph's structure is frozen at trace time: a function whose ops depend on the data
(a Python ``if`` on a value) must be traced again for other data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import replay
from autograd.engine import Value, topological_order
from autograd.functions import op_named
from autograd.plan import Instruction

__all__ = ["Instruction", "Program", "slot_numbers", "trace"]


@dataclass(frozen=True)
class Program:
    """A traced graph: replays forward and backward on new inputs, as floats or arrays.

    Slots ``0 .. n_inputs - 1`` hold the inputs in the order given to :func:`trace`;
    ``constants`` are (slot, value) pairs, every other leaf frozen at its traced value;
    ``instructions`` fill the other slots in order, ``output`` is the result's slot.
    Inputs are floats, or numpy arrays (or lists) over a batch, mixed freely: a float is
    shared by every sample.

    A replay gives what the interpreted engine gives on the same graph (with the
    constants as constants), or raises the engine's error; over a batch the error names
    the first sample that fails ("sample k of the batch"), and a non-finite input is
    refused naming the first sample that holds one.

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
    instructions: tuple[Instruction, ...]
    output: int
    input_labels: tuple[str, ...]
    input_requires_grad: tuple[bool, ...]
    # Whether a batch replay may run long sums of products as matrix products (see
    # autograd.plan).
    fuse: bool = True
    # The replay's plans for this program, made on first use (see autograd.plan).
    plans: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __repr__(self) -> str:
        ops = sorted({step.op.name for step in self.instructions})
        return (
            f"Program({self.n_inputs} inputs, {len(self.instructions)} instructions "
            f"({' '.join(ops)}), {len(self.constants)} constants)"
        )

    def __call__(self, inputs: Sequence[Any]) -> Any:
        """The output for these inputs: a float, or an array over the batch."""
        return replay.run(self, inputs, with_grad=False)[0]

    def value_and_grad(self, inputs: Sequence[Any]) -> tuple[Any, list[Any]]:
        """The output and d(sum of the output)/d(input) for each input.

        Each gradient has the shape of its input, so a float input (a weight shared by
        every sample) gets the gradient summed over the batch: the gradient of the total.
        Inputs traced from Values that do not require grad (data) get zero gradients,
        and no work is spent on them.
        """
        return replay.run(self, inputs, with_grad=True)

    def source(self, batched: Sequence[bool] | None = None) -> str:
        """The numpy code that replays this program over a batch, generated from the op
        table: forward, checks and backward as one straight-line function.

        ``batched`` says which inputs are arrays over the batch; by default those that
        do not require grad (the data), the others (the weights) shared by every sample.
        A layer's sums of products over the same values read as one matrix line.

        >>> x = Value(1.0, "x", requires_grad=False); w = Value(0.5, "w")
        >>> print(trace((w * x).tanh(), [w, x]).source().splitlines()[6])
            v3 = np.tanh(v2)
        """
        if batched is None:
            if all(self.input_requires_grad):
                labels = ", ".join(label or "?" for label in self.input_labels)
                raise ValueError(
                    "source() writes the code that runs a batch, and needs to know which "
                    "inputs are the batch's data: by default those traced from Values with "
                    f"requires_grad=False, and every input here requires grad ({labels}); "
                    "trace the data as Value(x, requires_grad=False), or pass batched=, "
                    "one bool per input"
                )
            batched = [not rg for rg in self.input_requires_grad]
        mask = np.array(batched, dtype=bool)
        if mask.shape != (self.n_inputs,) or not mask.any():
            raise ValueError(
                f"batched needs one bool per input ({self.n_inputs}), at least one True; "
                f"got {[bool(b) for b in mask.ravel()]}"
            )
        return replay.batch_replay(self, mask).source

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
        return replay.interpret(self, inputs, with_grad=with_grad)


def trace(output: Value, inputs: Sequence[Value], *, fuse: bool = True) -> Program:
    """Flatten the graph under ``output`` into a :class:`Program` of the given inputs.

    ``fuse=False`` keeps a batch replay from running long sums as matrix products:
    slower, but every sum is added in the engine's order, to the last bit.

    >>> a = Value(2.0)
    >>> trace(a * a, [a])([3.0])
    9.0
    """
    slot_of = slot_numbers(output, inputs)
    constants = []
    instructions = []
    for node, slot in slot_of.items():  # the inputs, then the graph in topological order
        if slot < len(inputs):
            continue
        if not node.parents:
            constants.append((slot, node.data))
            continue
        operands = tuple(slot_of[p] for p in node.parents)
        instructions.append(Instruction(op_named(node.op), operands, slot))
    return Program(
        n_inputs=len(inputs),
        n_slots=len(slot_of),
        constants=tuple(constants),
        instructions=tuple(instructions),
        output=slot_of[output],
        input_labels=tuple(v.label for v in inputs),
        input_requires_grad=tuple(v.requires_grad for v in inputs),
        fuse=fuse,
    )


def slot_numbers(output: Value, inputs: Sequence[Value]) -> dict[Value, int]:
    """The slot :func:`trace` gives each Value: the inputs first, in the order given, then
    every other Value of ``output``'s graph in topological order.

    What a reader of a :class:`Program` needs to find a Value's slot (its number in the
    program's data), as the explorer page does for every labelled Value.

    >>> a = Value(2.0); b = a * a
    >>> slot_numbers(b, [a]) == {a: 0, b: 1}
    True
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
    for node in topological_order(output):
        if node not in slot_of:
            slot_of[node] = len(slot_of)
    return slot_of
