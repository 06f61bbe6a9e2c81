"""Plans: how to replay a traced program, for one choice of which inputs are batched.

A plan splits the instructions into those reading only shared inputs (run once, on
floats) and those reading a batched slot (run with numpy over the batch); gives each
step the edges gradient flows along (operands leading back to an input that requires
grad); and lists the slots whose values the replay must check, from what the op table's
rows say of themselves: the operands of an op that may hide a non-finite value
(``tanh(inf)`` is 1), the results of an op that may round near the float max differently
in numpy.

A *grouped* plan, which the generated code of :mod:`autograd.codegen` runs, also finds
the shape of a layer of neurons in the graph. A :class:`DotGroup` is a set of sums of
(weight * value) products over the same values, each a chain of ``+`` as the engine adds
it: ``z_j = w_0j * v_0 + w_1j * v_1 + ... (+ b_j)``. An :class:`OpGroup` is the
instructions of one op on one level of the graph (none reads another's output), run as
one numpy call over their operands stacked as rows (dynamic batching, as in TensorFlow
Fold or DyNet). A dot group adds its terms in the engine's order, vectorised over its
sums (``exact``), or, when the sums are long, as a matrix product whose rounding error
the generated code bounds sum by sum against the sum itself, recomputing in the
engine's order any sum the bound does not vouch for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from autograd.functions import Op

__all__ = ["DotGroup", "Instruction", "OpGroup", "Plan", "Step", "Traced", "plan_for"]

# Sums of fewer terms than this add in the engine's order, vectorised over a layer's
# neurons: one numpy call per term, exact to the last bit. Longer sums run as one
# matrix product and its rounding guard (a second product and a few calls), which costs
# about as much as 8 terms in the engine's order (benchmarks/sweeps.py measures both).
EXACT_TERMS = 8
# Fewer instructions of one op on one level than this run one by one. Stacking their
# operands costs a call where they are not already the rows of one matrix.
GROUP_MIN = 2


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


@dataclass(slots=True)  # not frozen: a plan makes one per instruction, 3x faster so
class Step:
    """An instruction as a replay runs it: ``slots[out] = op(*slots[operands])``, and
    ``backward``: (slot, rule) for each operand gradient flows to. Never changed once
    made."""

    op: Op
    operands: tuple[int, ...]
    out: int
    backward: tuple[tuple[int, Callable[..., Any]], ...]


@dataclass(frozen=True, slots=True, eq=False)
class DotGroup:
    """Sums of products of shared inputs and batched slots, all over the same batched
    slots in the same order: ``z_j = W[0, j] * V[0] + W[1, j] * V[1] + ... (+ b_j)``,
    each added term by term as the engine adds it (left to right, the bias last).

    Every batched slot of ``vectors`` that gradient flows to is read by these products
    only, so its gradient is ``sum_j W[k, j] * dL/dz_j``, which the engine adds in the
    order ``order`` (the sums that read it last come first).
    """

    vectors: tuple[int, ...]  # V[k]: the batched slot of term k
    weights: np.ndarray  # (terms, sums) input slots: W[k, j]
    biases: tuple[int, ...] | None  # b_j: the input slot added last to sum j, if any
    roots: tuple[int, ...]  # z_j: the slot each sum fills
    order: tuple[int, ...]  # the sums j, in the order the engine adds dL/dz_j * W[k, j]
    exact: bool  # the engine's order, or a matrix product under the rounding guard


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
    batched_inputs: np.ndarray  # which inputs are batched


def plan_for(program: Traced, batched_inputs: np.ndarray, grouped: bool) -> Plan:
    """The plan for this choice of batched inputs, made once and kept in ``program.plans``.

    With no input batched, every step is shared: the plan of a replay on floats.
    ``grouped`` finds dot groups and op groups (for generated code), matrix products
    among them only if the program was traced with ``fuse=True``.
    """
    key = (batched_inputs.tobytes(), grouped)
    plan = program.plans.get(key)
    if plan is None:
        plan = program.plans[key] = _make_plan(program, batched_inputs, grouped)
    return plan


def _make_plan(program: Traced, batched_inputs: np.ndarray, grouped: bool) -> Plan:
    learning = tuple(i for i, rg in enumerate(program.input_requires_grad) if rg)
    steps, active = _steps(program, learning)
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
    if grouped and batched:
        ready = set(range(program.n_inputs)) | {slot for slot, _ in program.constants}
        order = _group(steps, batched, active, program, ready) or order
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
        batched_inputs=batched_inputs.copy(),
    )


def _steps(program: Traced, learning: tuple[int, ...]) -> tuple[list[Step], set[int]]:
    """Each instruction with the edges gradient flows along, and the slots it reaches
    (made once per program: they do not depend on which inputs are batched)."""
    kept = program.plans.get("steps")
    if kept is None:
        reached = set(learning)
        made: list[Step] = []
        for instruction in program.instructions:
            operands = instruction.operands
            rules = instruction.op.derivatives
            backward = tuple([(i, rules[k]) for k, i in enumerate(operands) if i in reached])
            if backward:
                reached.add(instruction.out)
            # A new operands tuple beside the step rather than the program's: the replay
            # reads both on every step, and near each other in memory it runs 1.1x faster.
            made.append(Step(instruction.op, (*operands,), instruction.out, backward))
        kept = program.plans["steps"] = (made, frozenset(reached))
    steps, active = kept
    return list(steps), set(active)


# --- grouping ---------------------------------------------------------------------------


def _group(
    steps: Sequence[Step], batched: set[int], active: set[int], program: Traced, ready: set[int]
) -> list[Item] | None:
    """``steps`` with layers' sums of products as :class:`DotGroup` s and instructions of
    one op on one level as :class:`OpGroup` s, level by level; None if nothing groups."""
    dots, inside = _dot_groups(steps, batched, active, program)
    pending: list[Step | DotGroup] = [*dots, *(s for s in steps if s.out not in inside)]
    levels = _levels(pending, ready)
    if levels is None:  # the groups depend on each other in a cycle: do not group
        return None
    result: list[Item] = []
    for level in levels:
        alike: dict[tuple[Any, ...], list[Step]] = {}
        for item in level:
            if isinstance(item, Step) and item.out in batched:
                shared = tuple(i not in batched for i in item.operands)
                positions = tuple(i in active for i in item.operands)
                alike.setdefault((item.op.name, shared, positions), []).append(item)
            else:
                result.append(item)
        for members in alike.values():
            if len(members) < GROUP_MIN:
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
    if not any(not isinstance(item, Step) for item in result):
        return None
    return result


@dataclass
class _Sum:
    """One chain of + found in the graph: its root, its terms in the engine's order."""

    root: int
    vectors: tuple[int, ...]  # the batched factor of each product term
    weights: tuple[int, ...]  # the shared input of each product term
    products: tuple[int, ...]  # the slot of each product
    bias: int | None  # a shared input added last
    inside: set[int]  # the products and partial sums: computed inside the group


def _dot_groups(
    steps: Sequence[Step], batched: set[int], active: set[int], program: Traced
) -> tuple[list[DotGroup], set[int]]:
    """The dot groups of ``steps``, and the slots they compute inside (never stored)."""
    made_by = {step.out: step for step in steps}
    users: dict[int, int] = {}
    for step in steps:
        for i in step.operands:
            users[i] = users.get(i, 0) + 1
    shared_inputs = set(range(program.n_inputs)) - batched
    # The op making each slot read once (and not the output): the slots that can be
    # inside a sum, as one of its partial sums ("+") or products ("*").
    feeds_one = {
        step.out: step.op.name
        for step in steps
        if users.get(step.out) == 1 and step.out != program.output
    }
    inner = {
        i for step in steps if step.op.name == "+" for i in step.operands
        if feeds_one.get(i) == "+"
    }  # fmt: skip
    by_shape: dict[tuple[tuple[int, ...], bool], list[_Sum]] = {}
    for step in steps:
        if step.op.name == "+" and step.out in batched and step.out not in inner:
            found = _sum_at(step.out, made_by, feeds_one, shared_inputs, batched)
            if found is not None:
                by_shape.setdefault((found.vectors, found.bias is not None), []).append(found)
    groups: list[DotGroup] = []
    inside: set[int] = set()
    for (vectors, has_bias), sums in by_shape.items():
        terms = len(vectors) + has_bias
        if len(sums) * terms < 4:
            continue
        order = _gradient_order(sums, active, users)
        if order is None:
            continue
        groups.append(
            DotGroup(
                vectors=vectors,
                weights=np.array([s.weights for s in sums], dtype=np.intp).T.copy(),
                biases=tuple(s.bias for s in sums) if has_bias else None,  # type: ignore[misc]
                roots=tuple(s.root for s in sums),
                order=order,
                exact=not program.fuse or terms < EXACT_TERMS,
            )
        )
        inside.update(*(s.inside for s in sums))
    return groups, inside


def _sum_at(
    root: int,
    made_by: dict[int, Step],
    feeds_one: dict[int, str],
    shared_inputs: set[int],
    batched: set[int],
) -> _Sum | None:
    """The chain of + at ``root`` as products of a shared input and a batched slot, then
    at most a shared input (a bias); None if it is not of that shape."""
    terms: list[int] = []
    inside = {root}
    node = root
    while True:
        a, b = made_by[node].operands
        chain = [x for x in (a, b) if feeds_one.get(x) == "+"]
        if len(chain) == 2:
            return None  # a tree, not a chain: the engine adds in another order
        if not chain:
            terms += [b, a]
            break
        terms.append(b if chain[0] == a else a)
        node = chain[0]
        inside.add(node)
    terms.reverse()
    bias = terms.pop() if terms[-1] in shared_inputs else None
    vectors, weights, products = [], [], []
    for term in terms:
        if feeds_one.get(term) != "*":
            return None
        product = made_by[term]
        a, b = product.operands
        w, v = (a, b) if a in shared_inputs else (b, a)
        if w not in shared_inputs or v not in batched or v in vectors:
            return None
        vectors.append(v)
        weights.append(w)
        products.append(term)
    if not vectors:
        return None
    inside.update(products)
    return _Sum(root, tuple(vectors), tuple(weights), tuple(products), bias, inside)


def _gradient_order(
    sums: list[_Sum], active: set[int], users: dict[int, int]
) -> tuple[int, ...] | None:
    """The order in which the engine adds the sums' contributions to each vector's
    gradient: the products in reverse order of the trace, which must be the same for
    every vector that needs a gradient, each read by these products alone; else None."""
    order: tuple[int, ...] | None = None
    for k, v in enumerate(sums[0].vectors):
        if v not in active:
            continue
        if users.get(v) != len(sums):
            return None  # read elsewhere too: its contributions interleave with others'
        this = tuple(sorted(range(len(sums)), key=lambda j: -sums[j].products[k]))
        if order is not None and this != order:
            return None
        order = this
    return order if order is not None else tuple(reversed(range(len(sums))))


def _levels(items: list[Step | DotGroup], ready: set[int]) -> list[list[Step | DotGroup]] | None:
    """``items`` by level: each reads only slots that are ready or written on an earlier
    level (Kahn's algorithm, keeping the given order within a level); None on a cycle."""
    made_by: dict[int, int] = {}
    reads: list[set[int]] = []
    for n, item in enumerate(items):
        if isinstance(item, DotGroup):
            reads.append(set(item.vectors) - ready)
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
