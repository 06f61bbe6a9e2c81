"""One contender's worker: reads JSON requests on stdin, answers one JSON line each.

Run by ``run.py`` with the Python of the contender's own virtual environment::

    python benchmarks/worker.py micrograd

The first line it writes says whether the contender can run here. Standard library only
(apart from the contender's own package).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import tracemalloc
import warnings
from typing import Any

from contenders import Unavailable, make
from workloads import DagSpec, NetProblem, checksum, dag_spec, mlp_problem, one_hot

_specs: dict[tuple[int, int], DagSpec] = {}


def spec_for(nodes: int, seed: int) -> DagSpec:
    """The DAG for this size and seed, kept only while the same size is asked for."""
    key = (nodes, seed)
    if key not in _specs:
        _specs.clear()
        _specs[key] = dag_spec(nodes, seed)
    return _specs[key]


def collect_cost() -> int:
    """How long a gc.collect() takes when there is nothing to free (a fixed cost)."""
    start = time.perf_counter_ns()
    gc.collect()
    return time.perf_counter_ns() - start


def dag(engine: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Forward build + backward over the DAG, timed apart, then the teardown."""
    spec = spec_for(request["nodes"], request["seed"])
    gc.collect()
    if hasattr(engine, "replay_dag"):  # the compiled path: traced once, replayed here
        program_existed = id(spec) in engine._programs
        start = time.perf_counter_ns()
        engine.program_for_dag(spec)
        trace_ns = time.perf_counter_ns() - start
        gc.collect()
        if not request["gc"]:
            gc.disable()
        start = time.perf_counter_ns()
        output, grads = engine.replay_dag(spec)
        total = time.perf_counter_ns() - start
        gc.enable()
        return {
            "nodes": spec.nodes,
            "total_ns": total,
            "trace_ns": None if program_existed else trace_ns,
            "output": output,
            "checksum": checksum(grads),
        }
    if not request["gc"]:
        gc.disable()
    start = time.perf_counter_ns()
    graph = engine.build_dag(spec)
    built = time.perf_counter_ns()
    engine.run_backward(graph)
    done = time.perf_counter_ns()
    gc.enable()
    output, grads = engine.leaf_grads(graph)
    start_teardown = time.perf_counter_ns()
    del graph
    cyclic = gc.collect()
    teardown = time.perf_counter_ns() - start_teardown - collect_cost()
    return {
        "nodes": spec.nodes,
        "forward_ns": built - start,
        "backward_ns": done - built,
        "total_ns": done - start,
        "teardown_ns": max(teardown, 0),
        "cyclic_garbage": cyclic,
        "output": output,
        "checksum": checksum(grads),
    }


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _high_water() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_high_water() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def memory(engine: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Bytes per live node (RSS and tracemalloc) and the peak during build + backward."""
    if not os.path.exists("/proc/self/statm"):
        raise Unavailable("memory is measured from /proc (Linux only)")
    spec = dag_spec(request["nodes"], request["seed"])
    n = spec.nodes
    gc.collect()
    peak_exact = _reset_high_water()
    before = _rss()
    if hasattr(engine, "replay_dag"):
        engine.program_for_dag(spec)  # the program alone, once the Values are gone
        gc.collect()
        live = _rss() - before
        engine.replay_dag(spec)
        return {
            "nodes": n,
            "live_bytes": live / n,
            "peak_bytes": (_high_water() - before) / n if peak_exact else None,
            "note": "the traced program, after its Value graph was freed; peak includes tracing",
        }
    graph = engine.build_dag(spec)
    live = _rss() - before
    engine.run_backward(graph)
    after_backward = _rss() - before
    peak = _high_water() - before
    del graph
    cyclic = gc.collect()
    tracemalloc.start()
    graph = engine.build_dag(spec)
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del graph
    gc.collect()
    return {
        "nodes": n,
        "live_bytes": live / n,
        "after_backward_bytes": after_backward / n,
        "peak_bytes": peak / n if peak_exact else None,
        "traced_bytes": traced / n,
        "cyclic_garbage": cyclic / n,
    }


def depth(engine: Any, request: dict[str, Any]) -> dict[str, Any]:
    """The deepest chain whose backward works, up to request['max']."""
    limit = request["max"]

    def works(d: int) -> tuple[bool, str]:
        try:
            got = engine.chain(d)
        except RecursionError as error:
            return False, f"RecursionError: {error}"
        if got != float(d):
            return False, f"wrong gradient at depth {d}: {got!r}"
        return True, ""

    ok, failure = works(1000)
    if ok:
        ok, failure = works(limit)
        if ok:
            return {"depth": limit, "reached_max": True, "failure": ""}
        low, high = 1000, limit
    else:
        low, high = 0, 1000
    while high - low > 1:  # works(low), not works(high)
        middle = (low + high) // 2
        ok, why = works(middle)
        if ok:
            low = middle
        else:
            high, failure = middle, why
    gc.collect()
    return {
        "depth": low,
        "reached_max": False,
        "failure": failure,
        "recursion_limit": sys.getrecursionlimit(),
    }


MLP_EPOCHS = 10


def mlp(engine: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Epochs of full-batch gradient descent from the problem's initial weights.

    Timed over several consecutive epochs, as training runs them, and reported per
    epoch: one 0.1 ms epoch timed alone right after gc.collect() measures cold caches.
    """
    problem = mlp_problem(request["seed"], request["samples"])
    state = engine.mlp_setup(problem)
    gc.collect()
    start = time.perf_counter_ns()
    for _ in range(MLP_EPOCHS):
        engine.mlp_epoch(state, problem)
    elapsed = (time.perf_counter_ns() - start) // MLP_EPOCHS
    return {"total_ns": elapsed, "checksum": checksum(engine.mlp_weights(state))}


_net_problems: dict[str, NetProblem] = {}
# nn.train's mean epoch is a difference of two runs from this many epochs on; shorter
# runs (smoke mode's 2 epochs) would lose it in the noise, and are timed by a callback.
DIFFERENCE_EPOCHS = 5
# The two runs differ by epochs that take at least this long (or by MAX_EXTRA_EPOCHS): the
# set-up both runs pay (tracing, milliseconds) varies from run to run by more than 20
# epochs of a small network take, so a difference over 19 epochs measured mostly noise.
EPOCHS_SPAN_NS = 50_000_000
MAX_EXTRA_EPOCHS = 20_480


def net_by_difference(engine: Any, problem: NetProblem, epochs: int) -> dict[str, Any]:
    """nn.train for ``epochs`` epochs, timed whole (the end to end), and again for more
    epochs, as many more as take EPOCHS_SPAN_NS; the mean epoch is the difference of
    the two runs over the extra epochs."""

    def timed(n: int) -> tuple[int, list[float]]:
        gc.collect()
        start = time.perf_counter_ns()
        weights = engine.net_train(problem, n, None)
        return time.perf_counter_ns() - start, weights

    total, weights = timed(epochs)
    extra = epochs
    longer, _ = timed(epochs + extra)
    while longer - total < EPOCHS_SPAN_NS and extra < MAX_EXTRA_EPOCHS:
        extra *= 4
        longer, _ = timed(epochs + extra)
    epoch = (longer - total) / extra
    return {
        "total_ns": total,
        "epoch_ns": epoch,
        "outside_epochs_ns": total - epochs * epoch,
        "epochs": epochs,
        "samples": len(problem.X),
        "checksum": checksum(weights),
    }


def net_cold(engine: Any, request: dict[str, Any]) -> dict[str, Any]:
    """The first training of this network in this process, its imports already done by
    training a tiny other one: what a first call of nn.train costs (tracing, planning
    and compiling the generated code included)."""
    tiny = NetProblem("tiny", [1, 1], False, [[[0.5]]], [], [[1.0]], [[0.0]], 0.1, "tiny")
    engine.net_train(tiny, 1, None)
    problem = load_problem(request)
    gc.collect()
    start = time.perf_counter_ns()
    engine.net_train(problem, request["epochs"], None)
    return {"total_ns": time.perf_counter_ns() - start}


def load_problem(request: dict[str, Any]) -> NetProblem:
    """The request's network problem (kept while the same file is asked for), on all or
    its first samples."""
    path = request["problem"]
    if path not in _net_problems:
        _net_problems.clear()
        with open(path) as f:
            _net_problems[path] = NetProblem(**json.load(f))
    problem = _net_problems[path]
    if request.get("samples"):
        problem = problem.first(request["samples"])
    return problem


def net(engine: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Train a fresh model from a problem file for some epochs, on all or the first samples.

    Times the whole call (the end-to-end time). The mean epoch leaves out set-up
    (tracing) and the first epoch's warm-up: for nn.train's contenders it is the
    difference of this run and a longer one (:func:`net_by_difference`), each without a
    callback (a callback
    makes nn.train write the weights into the model every epoch, which a call without
    one never pays), when there are at least DIFFERENCE_EPOCHS epochs; for the others,
    and shorter runs, from the end of the first epoch to the end of the last.
    """
    problem = load_problem(request)
    if getattr(engine, "trains_with_nn", False) and request["epochs"] >= DIFFERENCE_EPOCHS:
        return net_by_difference(engine, problem, request["epochs"])
    clock = time.perf_counter_ns
    ends: list[int] = []
    gc.collect()
    start = clock()
    weights = engine.net_train(problem, request["epochs"], lambda: ends.append(clock()))
    total = clock() - start
    if len(ends) != request["epochs"]:
        raise RuntimeError(f"{len(ends)} epochs ran, {request['epochs']} were asked for")
    return {
        "total_ns": total,
        "epoch_ns": (ends[-1] - ends[0]) / (len(ends) - 1) if len(ends) > 1 else None,
        "until_first_epoch_ns": ends[0] - start,
        "after_last_epoch_ns": start + total - ends[-1],
        "epochs": len(ends),
        "samples": len(problem.X),
        "checksum": checksum(weights),
    }


def net_data(engine: Any, request: dict[str, Any]) -> dict[str, Any]:
    """The real data of a training workload from chainrule's nn, if it has them."""
    try:
        import nn
    except ImportError as error:
        raise Unavailable(f"nn is not importable: {error}") from None
    if request["network"] == "iris":
        iris = nn.iris_binary()
        return {
            "X": iris.X,
            "Y": [[y] for y in iris.y],
            "source": "Iris: nn.iris_binary(), standardised, setosa +1 and the others -1",
        }
    if request["network"] == "digits":
        if not hasattr(nn, "load_digits"):
            raise Unavailable("this nn has no load_digits()")
        digits = nn.load_digits()
        X, y = digits.X, digits.y
        # Class codes become one-hot -1/+1 rows; pixels (0..16) are scaled to [0, 1].
        Y = [one_hot(int(c), 10) if isinstance(c, (int, float)) else list(c) for c in y]
        top = max(max(row) for row in X)
        scale = top if top > 1.0 else 1.0
        return {
            "X": [[float(v) / scale for v in row] for row in X],
            "Y": Y,
            "source": "digits: nn.load_digits()" + (f", pixels / {scale:g}" if scale > 1 else ""),
        }
    raise Unavailable(f"no real data set for {request['network']}")


def train(engine: Any, request: dict[str, Any]) -> dict[str, Any]:
    """The demo's training to convergence through nn.train, with the demo's settings."""
    try:
        import nn
        from chainrule import cli

        settings = {
            "lr": cli.DEMO_LR,
            "l2": cli.DEMO_L2,
            "tol": cli.DEMO_TOL,
            "max_epochs": cli.DEMO_MAX_EPOCHS,
        }
        dataset = nn.iris_binary(cli.DEMO_SPECIES)
        model = nn.MLP(4, list(cli.DEMO_LAYERS), seed=0)
    except (ImportError, AttributeError) as error:
        raise Unavailable(f"nn.train or the demo's settings are not available: {error}") from None
    if request["engine"] is not None:
        settings["engine"] = request["engine"]
    gc.collect()
    start = time.perf_counter_ns()
    history = nn.train(model, dataset.X, dataset.y, progress=False, **settings)
    elapsed = time.perf_counter_ns() - start
    return {
        "total_ns": elapsed,
        "epochs": history.epochs,
        "converged": history.converged,
        "final_loss": history.final_loss,
        "engine": getattr(history, "engine", ""),
        "engine_note": getattr(history, "engine_note", ""),
        "settings": settings,
        "checksum": checksum([p.data for p in model.parameters()]),
    }


TASKS = {
    "dag": dag,
    "memory": memory,
    "depth": depth,
    "mlp": mlp,
    "train": train,
    "net": net,
    "net_cold": net_cold,
    "net_data": net_data,
}


def main() -> None:
    name = sys.argv[1]
    # nn.train warns that tol=0 never stops training early: the benchmark means it.
    warnings.filterwarnings("ignore", message="tol=0 can never be met")
    try:
        engine = make(name)
    except Unavailable as error:
        print(json.dumps({"available": False, "reason": str(error)}), flush=True)
        return
    hello = {"available": True, "version": engine.version(), "python": sys.version.split()[0]}
    print(json.dumps(hello), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = TASKS[request["task"]](engine, request)
        except Unavailable as error:
            answer = {"skipped": str(error)}
        except Exception as error:  # reported in the table, never hidden
            answer = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
