"""Plans: how to replay a traced program, for one choice of which inputs are batched.

A plan splits the instructions into those reading only shared inputs (run once, on
floats) and those reading a batched slot (run with numpy over the batch); gives each
step the edges gradient flows along (operands leading back to an input that requires
grad); and lists the slots whose values the replay must check, from what the op table's
rows say of themselves: the operands of an op that may hide a non-finite value
(``tanh(inf)`` is 1), the results of an op that may round near the float max differently
in numpy.

For wide graphs (layers of neurons) a plan also turns sums of (weight * value) products
over the same values into one matrix product (a :class:`DotGroup`), and runs the
instructions of one op on one level of the graph as one numpy call over stacked rows (an
:class:`OpGroup`: dynamic batching, as in TensorFlow Fold or DyNet). A matrix product
adds in another order: it runs only under a bound that rules out overflow (see
:mod:`autograd.replay`), agrees with the engine to rounding, and any sample that needs
checking sends the whole replay back to the unfused plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from autograd.functions import Op

__all__ = ["DotGroup", "Instruction", "OpGroup", "Plan", "Step", "Traced", "plan_for"]

# Fewer products than this are added in the engine's order, so that small graphs (the
# lecture notes' 4-3-2-1 network, which learners compare by hand) keep its rounding.
# Fusing from 4 products would take the 4-3-2-1 epoch from about 2.2x PyTorch's time
# to 1.9x (measured, CPU time, interleaved medians on a shared machine).
_FUSED_MIN_PRODUCTS = 16
# Fewer instructions of one op on one level than this run one by one.
_GROUP_MIN = 8


@dataclass(frozen=True)
class Instruction:
    """One step of a traced program: ``slots[out] = op(*(slots[i] for i in operands))``.

    >>> from autograd import Value, trace
    >>> a = Value(2.0)
    >>> [(i.op.name, i.operands, i.out) for i in trace(a * a + 1.0, [a]).instructions]
    [('*', (0, 0), 1), ('+', (1, 2), 3)]
    """

    op: Op
    operands: tuple[int, ...]
    out: int


class Traced(Protocol):
    """What plans and replays read of a traced program (:class:`autograd.trace.Program`)."""

    @property
    def n_inputs(self) -> int: ...
    @property
    def n_slots(self) -> int: ...
    @property
    def constants(self) -> tuple[tuple[int, float], ...]: ...
    @property
    def instructions(self) -> tuple[Instruction, ...]: ...
    @property
    def output(self) -> int: ...
    @property
    def input_labels(self) -> tuple[str, ...]: ...
    @property
    def input_requires_grad(self) -> tuple[bool, ...]: ...
    @property
    def fuse(self) -> bool: ...
    @property
    def plans(self) -> dict[Any, Any]: ...


@dataclass(frozen=True, slots=True)
class Step:
    """An instruction as a replay runs it: ``slots[out] = op(*slots[operands])``, and
    ``backward``: (slot, rule) for each operand gradient flows to."""

    op: Op
    operands: tuple[int, ...]
    out: int
    backward: tuple[tuple[int, Callable[..., Any]], ...]


@dataclass(frozen=True, slots=True, eq=False)
class DotGroup:
    """Sums of products of shared inputs and batched slots, all over the same batched
    slots, run as one matrix product: ``z_j = sum_i W[i, j] * V[i] (+ rest_j)``."""

    vectors: tuple[int, ...]  # the rows of V: batched slots
    weights: np.ndarray  # (rows of V, dots) of input slots: W[i, j]
    roots: tuple[int, ...]  # z_j: the slot each sum fills
    rests: tuple[tuple[int, ...], ...]  # the other terms of each sum, added in order


@dataclass(frozen=True, slots=True, eq=False)
class OpGroup:
    """Instructions of one op on one level of the graph (none reads another's output),
    run as one numpy call over their operands stacked as rows."""

    op: Op
    operands: tuple[tuple[int, ...], ...]  # for each operand position, each member's slot
    shared: tuple[bool, ...]  # for each operand position: shared (floats) or batched
    outs: tuple[int, ...]
    # (position, rule) for each operand position that gradient flows to, as in
    # Step.backward (the same for every member).
    backward: tuple[tuple[int, Callable[..., Any]], ...]


Item = Step | DotGroup | OpGroup


@dataclass(frozen=True, slots=True)
class Plan:
    """How to replay a program, for one choice of which inputs are batched."""

    shared: tuple[Step, ...]  # read no batched slot: run once, on floats
    batched: tuple[Item, ...]  # run with numpy, one call per step or group
    steps: tuple[Item, ...]  # all of them in order: the backward sweep
    active: frozenset[int]  # slots that lead back to an input requiring grad
    # Batched slots that must be finite everywhere because the op reading them may hide
    # a non-finite value (tanh(inf) is 1), and the output.
    finite: tuple[int, ...]
    bounded: tuple[int, ...]  # batched results that may round near the float max
    grouped: bool  # whether any steps run as groups
    learning: tuple[int, ...]  # the inputs that require grad
    summed: np.ndarray  # which inputs get a gradient summed over the batch


def plan_for(program: Traced, batched_inputs: np.ndarray, fused: bool) -> Plan:
    """The plan for this choice of batched inputs, made once and kept in ``program.plans``.

    With no input batched, every step is shared: the plan of a replay on floats.
    """
    key = (batched_inputs.tobytes(), fused)
    plan = program.plans.get(key)
    if plan is None:
        plan = program.plans[key] = _make_plan(program, batched_inputs, fused)
    return plan


def _make_plan(program: Traced, batched_inputs: np.ndarray, fused: bool) -> Plan:
    learning = tuple(i for i, rg in enumerate(program.input_requires_grad) if rg)
    active = set(learning)
    steps: list[Step] = []
    for instruction in program.instructions:
        backward = tuple(
            (i, rule)
            for i, rule in zip(instruction.operands, instruction.op.derivatives, strict=True)
            if i in active
        )
        if backward:
            active.add(instruction.out)
        # A new operands tuple beside the step rather than the program's: the replay reads
        # both on every step, and near each other in memory it runs 1.1x faster (measured).
        operands = (*instruction.operands,)
        steps.append(Step(instruction.op, operands, instruction.out, backward))
    batched = set(map(int, np.flatnonzero(batched_inputs)))
    shared: list[Step] = []
    reading_batched: list[Step] = []
    for step in steps:
        if batched.isdisjoint(step.operands):
            shared.append(step)
        else:
            batched.add(step.out)
            reading_batched.append(step)
    finite = {
        i for step in reading_batched if not step.op.propagates_non_finite for i in step.operands
    }
    finite.add(program.output)
    order: list[Item] = list(steps)
    if fused:
        shared_inputs = set(range(program.n_inputs)) - batched
        ready = set(range(program.n_inputs)) | {slot for slot, _ in program.constants}
        order = _fuse(steps, batched, shared_inputs, active, program.output, ready) or order
    return Plan(
        shared=tuple(shared),
        batched=tuple(item for item in order if not isinstance(item, Step) or item.out in batched),
        steps=tuple(order),
        active=frozenset(active),
        finite=tuple(sorted(finite & batched)),
        bounded=tuple(step.out for step in reading_batched if step.op.may_overflow),
        grouped=any(not isinstance(item, Step) for item in order),
        learning=learning,
        summed=np.array(program.input_requires_grad) & ~batched_inputs,
    )


def _fuse(
    steps: Sequence[Step],
    batched: set[int],
    shared_inputs: set[int],
    active: set[int],
    output: int,
    ready: set[int],
) -> list[Item] | None:
    """``steps`` with sums of (shared input * batched slot) products over the same batched
    slots replaced by :class:`DotGroup` s and instructions of one op on one level by
    :class:`OpGroup` s; None if that does not pay."""
    users: dict[int, int] = {}
    read_by: dict[int, str] = {}  # the op reading each slot (the last, if several)
    for step in steps:
        for i in step.operands:
            users[i] = users.get(i, 0) + 1
            read_by[i] = step.op.name
    made_by = {step.out: step for step in steps}

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
    pending: list[Step | DotGroup] = []
    fused_out: set[int] = set()
    for vectors, sums in groups.items():
        pending.append(
            DotGroup(
                vectors=vectors,
                weights=np.array([[products[v] for _, products, _, _ in sums] for v in vectors]),
                roots=tuple(root for root, _, _, _ in sums),
                rests=tuple(rest for _, _, rest, _ in sums),
            )
        )
        fused_out.update(*(inside for _, _, _, inside in sums))
    pending.extend(step for step in made_by.values() if step.out not in fused_out)
    levels = _levels(pending, ready)
    if levels is None:  # the groups depend on each other in a cycle: do not fuse
        return None
    result: list[Item] = []
    for level in levels:
        # Instructions of one op on one level run as one call, when there are enough.
        alike: dict[tuple[Any, ...], list[Step]] = {}
        for item in level:
            if isinstance(item, Step) and item.out in batched:
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
                OpGroup(
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


def _levels(items: list[Step | DotGroup], ready: set[int]) -> list[list[Step | DotGroup]] | None:
    """``items`` by level: each reads only slots that are ready or written on an earlier
    level (Kahn's algorithm, keeping the given order within a level); None on a cycle."""
    made_by: dict[int, int] = {}
    reads: list[set[int]] = []
    for n, item in enumerate(items):
        if isinstance(item, DotGroup):
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
    levels: list[list[Step | DotGroup]] = []
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
