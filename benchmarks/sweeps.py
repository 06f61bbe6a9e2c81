"""The copies of the reverse sweep kept for speed, each against the one it copies.

``autograd.backpropagate`` is the reverse sweep: any nodes, any kind of number, a hook
per step. Two places run a copy written out for speed, tested equal to it
(tests/test_sweep.py, tests/test_compiled_equivalence.py):

- ``Value.backward``: floats on the ``.grad`` attributes, against ``autograd.gradients``
  (the sweep with the rules on floats), on the random DAG of run.py;
- the compiled replay's backward: on floats, against the sweep run over the same
  program's slots (the 100k-node DAG);
- over a batch, the generated code (autograd.codegen: a layer's sums as matrix lines,
  one straight-line numpy function) against the interpreted batch replay it copies (one
  numpy call per instruction), on an epoch of each training benchmark network.

It also measures two choices of the generated code: a layer's sums added term by term
in the engine's order against a matrix product and its rounding guard, by the number
of terms (autograd.plan.EXACT_TERMS), and BLAS on one thread against the library's
default (autograd.threads).

Run from the repository root; each line is the median over interleaved rounds of the
per-round ratio (the slower way's time over the copy's), so both see the same load::

    .venv/bin/python benchmarks/sweeps.py [--rounds N]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from contenders import build_objects
from worker import net_data
from workloads import NETWORKS, NetProblem, dag_spec, net_problem

import nn
from autograd import Program, Value, backpropagate, gradients, trace
from autograd.plan import EXACT_TERMS
from autograd.replay import BatchReplay, run
from nn.batched import BatchedLoss

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

    for name in ("iris", "moons", "digits"):
        loss, weights = network(name)
        inputs = [*weights.tolist(), *loss.columns]
        compare(
            f"generated code vs the interpreted batch replay, an epoch of {NETWORKS[name].shape}",
            lambda loss=loss, weights=weights: loss.replay.run(weights, loss.columns, True),
            lambda loss=loss, inputs=inputs: run(loss.sample_loss, inputs, True, generated=False),
            rounds,
        )

    for terms in (4, 8, 16):
        product, exact, weights, columns = layer(terms, neurons=16, samples=200)
        assert not product.replay.plan.steps[0].exact and exact.replay.plan.steps[0].exact
        compare(
            f"a matrix product and its guard vs adding in the engine's order, 16 sums of "
            f"{terms} terms (+ a bias) on 200 samples; EXACT_TERMS = {EXACT_TERMS}",
            lambda p=product, w=weights, c=columns: p.replay.run(w, c, True),
            lambda e=exact, w=weights, c=columns: e.replay.run(w, c, True),
            rounds,
        )

    loss, weights = network("digits")
    with_default = dataclasses.replace(loss.replay.generated, product_size=0)
    function = with_default.function()
    compare(
        "BLAS on one thread vs its default threads, an epoch of 64-16-10 (the generated "
        "function alone)",
        lambda: loss.replay.run(weights, loss.columns, True),
        lambda: default_threads(function, weights, loss.columns),
        rounds,
    )


def network(name: str) -> tuple[BatchedLoss, np.ndarray]:
    """The training benchmark's network ``name`` (run.py's data and weights), as nn.train
    makes it: its BatchedLoss and its weights."""
    answer = net_data(None, {"network": name})
    data = None if "skipped" in answer else (answer["X"], answer["Y"], answer["source"])
    problem: NetProblem = net_problem(NETWORKS[name], SEED, data)
    model = nn.MLP(problem.sizes[0], problem.sizes[1:], bias=problem.bias, init="zeros")
    for p, w in zip(model.parameters(), problem.flat(), strict=True):
        p.data = w
    return BatchedLoss(model, problem.X, problem.Y), np.array(problem.flat())


def layer(terms: int, neurons: int, samples: int) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    """One tanh layer's loss, traced with and without matrix products."""
    rng = np.random.default_rng(terms)
    X = rng.standard_normal((samples, terms)).tolist()
    Y = rng.standard_normal((samples, neurons)).tolist()
    losses = []
    for fuse in (True, False):
        model = nn.MLP(terms, [neurons], bias=True, seed=0)
        loss = BatchedLoss(model, X, Y)
        if not fuse:
            loss.sample_loss = dataclasses.replace(loss.sample_loss, fuse=False)
            loss.replay = BatchReplay(loss.sample_loss, loss.replay.plan.batched_inputs)
        losses.append(loss)
    weights = np.array([p.data for p in losses[0].params])
    return losses[0], losses[1], weights, losses[0].columns


def default_threads(function: Any, weights: np.ndarray, columns: np.ndarray) -> Any:
    """The generated function with BLAS's threads as the library chose them."""
    with np.errstate(all="ignore"):
        return function(weights, columns, np.zeros(0), True)


if __name__ == "__main__":
    main()
