"""The copies of the reverse sweep kept for speed, each against the one it copies.

``autograd.backpropagate`` is the reverse sweep: any nodes, any kind of number, a hook
per step. Two places run a copy written out for speed, tested equal to it
(tests/test_sweep.py, tests/test_compiled_equivalence.py):

- ``Value.backward``: floats on the ``.grad`` attributes, against ``autograd.gradients``
  (the sweep with the rules on floats), on the random DAG of run.py;
- the compiled replay's backward: on floats, against the sweep run over the same
  program's slots (the 100k-node DAG); over a batch, the sweep over a plan's items, which
  are single ops or fused groups (a layer's sums of products as matrix products, which a
  sweep over single nodes cannot run), against the same replay without the groups
  (``trace(..., fuse=False)``), on an epoch of the 64-16-10 network on the 1,797 digits.

Run from the repository root; each line is the median over interleaved rounds of the
per-round ratio (the slower way's time over the copy's), so both see the same load::

    .venv/bin/python benchmarks/sweeps.py [--rounds N]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
# One BLAS thread, as every benchmark worker runs (see run.py), set before numpy loads.
for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = "1"

import numpy as np  # noqa: E402
from contenders import build_objects  # noqa: E402
from workloads import dag_spec  # noqa: E402

import nn  # noqa: E402
from autograd import Program, Value, backpropagate, gradients, trace  # noqa: E402
from nn.batched import BatchedLoss  # noqa: E402

SEED = 20240601


def timed(work: Callable[[], Any]) -> float:
    gc.collect()
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def compare(name: str, copy: Callable[[], Any], original: Callable[[], Any], rounds: int) -> None:
    """Interleaved rounds (the order alternating); the median of original / copy."""
    copy(), original()  # warm-up
    ratios, times = [], []
    for r in range(rounds):
        pair = (copy, original) if r % 2 == 0 else (original, copy)
        t = {id(work): timed(work) for work in pair}
        ratios.append(t[id(original)] / t[id(copy)])
        times.append(t[id(copy)])
    spread = f"ratios {min(ratios):.2f} to {max(ratios):.2f}"
    copy_ms = statistics.median(times) * 1e3
    print(f"{name}: {statistics.median(ratios):.2f}x faster (copy {copy_ms:.1f} ms; {spread})")


def sweep_over_slots(program: Program, inputs: list[Any]) -> list[Any]:
    """The program replayed with the one sweep over its slots: each op applied to the
    slots' floats or arrays, then backpropagate with the rules on them. A float input's
    gradient is summed over the batch, as a replay gives it."""
    slots: list[Any] = [*inputs, *([None] * (program.n_slots - program.n_inputs))]
    for slot, constant in program.constants:
        slots[slot] = constant
    made_by = {}
    for instruction in program.instructions:
        slots[instruction.out] = instruction.op(*(slots[i] for i in instruction.operands))
        made_by[instruction.out] = instruction
    learning = {i for i, rg in enumerate(program.input_requires_grad) if rg}
    active = set(learning)
    for instruction in program.instructions:
        if active.intersection(instruction.operands):
            active.add(instruction.out)

    def edges(slot: int) -> list[tuple[None, int, float]]:
        instruction = made_by.get(slot)
        if instruction is None:
            return []
        args = [*(slots[i] for i in instruction.operands), slots[slot]]
        return [
            (None, i, rule(*args))
            for i, rule in zip(instruction.operands, instruction.op.derivatives, strict=True)
            if i in active
        ]

    order = [*range(program.n_inputs), *(i.out for i in program.instructions)]
    grads = backpropagate(order, edges, {program.output: 1.0}, zero=0.0)
    return [
        float(np.sum(grads.get(i, 0.0))) if isinstance(x, float) else grads.get(i, 0.0)
        for i, x in enumerate(inputs)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=11, help="interleaved rounds (default 11)")
    rounds = parser.parse_args().rounds

    spec = dag_spec(100_000, SEED)
    leaves = [Value(x) for x in spec.leaves]
    out = build_objects(leaves, spec.records)[-1]
    compare(
        "Value.backward vs gradients(), 100k-node DAG", out.backward, lambda: gradients(out), rounds
    )

    program = trace(out, leaves)
    inputs = list(spec.leaves)
    assert program.value_and_grad(inputs)[1] == sweep_over_slots(program, inputs)
    compare(
        "float replay vs the sweep over its slots, 100k-node DAG",
        lambda: program.value_and_grad(inputs),
        lambda: sweep_over_slots(program, inputs),
        rounds,
    )

    digits = nn.load_digits()
    model = nn.MLP(64, [16, 10], bias=True, seed=0)
    targets = [[1.0 if y == k else -1.0 for k in range(10)] for y in digits.y]
    fused, unfused = (BatchedLoss(model, digits.X, targets) for _ in range(2))
    unfused.sample_loss = dataclasses.replace(unfused.sample_loss, fuse=False)
    rows = list(range(len(digits.X)))
    compare(
        "fused groups vs none, a 64-16-10 epoch on 1,797 digits",
        lambda: fused(rows, 0.0, 0.0),
        lambda: unfused(rows, 0.0, 0.0),
        rounds,
    )


if __name__ == "__main__":
    main()
