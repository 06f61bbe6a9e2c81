"""Benchmarks: chainrule against micrograd, PyTorch and a plain-float floor, side by side.

Run from the repository root::

    .venv/bin/python benchmarks/run.py            # the full run (a few minutes)
    .venv/bin/python benchmarks/run.py --quick    # fewer repeats
    .venv/bin/python benchmarks/run.py --smoke    # tiny sizes, seconds; what CI runs
    .venv/bin/python benchmarks/run.py --only training [--busy] [--rounds 11]

Each contender runs in its own worker process (micrograd in its own virtual environment,
benchmarks/.venvs/micrograd, made here on first use), and every worker generates the same
workloads from the same seed. Within each repeat the contenders take turns (round robin),
so the ratios compare runs made under the same machine load. The gradients every worker
computes are cross-checked; the exit status is 1 if they disagree.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workloads import NETWORKS, net_problem

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MICROGRAD_VENV = HERE / ".venvs" / "micrograd"
MICROGRAD_REQUIREMENT = "micrograd==0.1.0"
SEED = 20240601
# Relative tolerance of the gradient cross-check (sums of ~1e6 terms in different orders).
CROSS_CHECK_RTOL = 1e-9

NOTES = {
    "chainrule": "interpreted engine, `autograd.Value`",
    "chainrule-compiled": "`autograd.trace` once (not timed), then `value_and_grad` on floats",
    "chainrule-compiled-batch": "one sample traced; `value_and_grad` on numpy batch arrays",
    "micrograd": "0.1.0 from the registry; tanh, exp added in its own closure style",
    "torch": "float64 0-d tensors, requires_grad, 1 thread",
    "floor": "plain floats, flat tape of (op, i, j), forward loop then reverse loop",
    "bare-python": "chainrule's node layout, ops inline, no table or checks: pure Python's least",
    "bare-native": "bare-python compiled to C by mypyc: what a native node gives (not shipped)",
    "torch-batched": "float64 tensors over the whole batch, matrix products, 1 thread",
    "numpy": "forward and backward written by hand with matrix products, 1 BLAS thread",
}
# Every worker but chainrule's computes on one thread (torch.set_num_threads(1) too):
# the Python contenders use one core, and PyTorch and numpy are at their best on one
# thread at these sizes. chainrule's workers run as a user's process does, BLAS's
# threads left to the library and to the compiled path, which chooses its own.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
AS_A_USER = ("chainrule", "chainrule-compiled", "chainrule-compiled-batch")


@dataclass(frozen=True)
class NetRun:
    """How one MLP-training workload is timed.

    The fast contenders train ``Plan.net_epochs`` epochs on the first ``samples`` samples
    (all if None); the slow ones (``SLOW_NET``) ``slow_epochs`` epochs on the first
    ``slow_samples`` (as many as the others if None). Missing epochs and samples are
    estimated. The cross-check runs every contender on the slow contenders' samples.
    """

    network: str
    slow_epochs: int
    slow_samples: int | None = None
    samples: int | None = None  # only smoke mode takes a subset for every contender

    def __post_init__(self) -> None:
        if self.slow_epochs < 2:  # the mean epoch runs from the first epoch's end
            raise ValueError(f"{self.network}: time at least 2 epochs, not {self.slow_epochs}")

    def requests(self, net_epochs: int) -> dict[str, dict[str, Any]]:
        """What each contender is asked to run: epochs and samples (None: all)."""
        fast = {"epochs": net_epochs, "samples": self.samples}
        slow = {
            "epochs": min(self.slow_epochs, net_epochs),
            "samples": self.slow_samples or self.samples,
        }
        return {name: slow if name in SLOW_NET else fast for name in NET_CONTENDERS}


@dataclass(frozen=True)
class Plan:
    """How much to run: sizes and repeats per workload."""

    dag_sizes: tuple[tuple[int, int], ...]  # (nodes, repeats)
    gc_off: tuple[int, int] | None  # (nodes, repeats) of the DAG with the collector off
    warmup: bool
    mlp_repeats: int
    depth_max: int
    memory_nodes: int
    train: bool
    nets: tuple[NetRun, ...]
    net_repeats: int
    net_epochs: int  # the end-to-end run: this many epochs from a fresh model
    check_epochs: int  # epochs before the weights are cross-checked


FULL_NETS = (NetRun("iris", 20), NetRun("moons", 3), NetRun("digits", 3, 50))
PLANS = {
    "full": Plan(
        ((10_000, 7), (100_000, 5), (1_000_000, 3)),
        (100_000, 5),
        True,
        15,
        1_000_000,
        200_000,
        True,
        FULL_NETS,
        5,
        20,
        3,
    ),
    "quick": Plan(
        ((10_000, 3), (100_000, 3), (1_000_000, 1)),
        (100_000, 3),
        True,
        5,
        1_000_000,
        100_000,
        True,
        FULL_NETS,
        3,
        20,
        3,
    ),
    "smoke": Plan(
        ((2_000, 1),),
        (2_000, 1),
        False,
        1,
        5_000,
        2_000,
        False,
        (NetRun("iris", 2, 30), NetRun("moons", 2, 20), NetRun("digits", 2, 10, 50)),
        1,
        2,
        2,
    ),
}

BARE = ("bare-python", "bare-native")
TIMED = ("chainrule", "chainrule-compiled", "micrograd", "torch", "floor", *BARE)
# The bare nodes have no constants, so no MLP: they are reference points for the DAG.
MLP_CONTENDERS = (*TIMED[:2], "chainrule-compiled-batch", "micrograd", "torch", "floor")
# MLP training: chainrule through nn.train (engine="compiled", then "interpreted").
NET_CONTENDERS = ("chainrule-compiled", "chainrule", "micrograd", "torch-batched", "numpy")
SLOW_NET = ("chainrule", "micrograd")
CONTENDERS = (*MLP_CONTENDERS, *BARE, "torch-batched", "numpy")


# --- workers ----------------------------------------------------------------------------


class Worker:
    """A contender's worker process; ``ask`` sends one request and waits for the answer."""

    def __init__(self, name: str, python: Path, env: dict[str, str]) -> None:
        self.name = name
        self.process = subprocess.Popen(
            [str(python), str(HERE / "worker.py"), name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        self.hello = self._read()

    @property
    def available(self) -> bool:
        return bool(self.hello.get("available"))

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            return {"available": False, "error": f"worker exited with status {code}"}
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ask(self, **request: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait()


def build_native_bare() -> tuple[str | None, str]:
    """bare.py compiled by mypyc into a temporary folder: the folder, or None and why."""
    folder = tempfile.mkdtemp(prefix="chainrule-bare-native-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    shutil.copy(HERE / "bare.py", Path(folder) / "bare_native.py")
    progress("compiling bare.py with mypyc")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mypyc", "bare_native.py"],
            cwd=folder,
            capture_output=True,
            text=True,
        )
    except OSError as error:
        return None, f"could not run mypyc: {error}"
    if done.returncode != 0:
        last_line = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:]
        return None, f"mypyc failed: {' '.join(last_line)}"
    return folder, ""


def ensure_micrograd(create: bool) -> tuple[Path | None, str]:
    """micrograd's Python, creating its venv if allowed; or None and the reason."""
    python = MICROGRAD_VENV / "bin" / "python"
    if python.exists():
        return python, ""
    if not create:
        return (
            None,
            "its venv does not exist and smoke mode does not create it; run once without --smoke",
        )
    print(
        f"creating {MICROGRAD_VENV.relative_to(ROOT)} and installing {MICROGRAD_REQUIREMENT}",
        file=sys.stderr,
    )
    try:
        subprocess.run([sys.executable, "-m", "venv", str(MICROGRAD_VENV)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                MICROGRAD_REQUIREMENT,
            ],
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as error:
        return None, f"could not create its venv: {error}"
    return python, ""


@dataclass
class Contenders:
    """Which Python runs each contender, and why some cannot run."""

    pythons: dict[str, Path] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def env_for(self, name: str) -> dict[str, str]:
        """The worker's environment: one thread for all but chainrule's (see ONE_THREAD)."""
        if name in AS_A_USER:
            return {k: v for k, v in self.env.items() if k not in ONE_THREAD}
        return {**self.env, **ONE_THREAD}

    def start(self, names: tuple[str, ...]) -> dict[str, Worker]:
        workers = {}
        for name in names:
            if name in self.unavailable:
                continue
            worker = Worker(name, self.pythons[name], self.env_for(name))
            if worker.available:
                workers[name] = worker
                self.versions[name] = worker.hello.get("version", "")
            else:
                self.unavailable[name] = worker.hello.get("reason") or worker.hello.get("error", "")
                worker.close()
        return workers


# --- running ----------------------------------------------------------------------------


def round_robin(
    workers: dict[str, Worker],
    repeats: int,
    warmup: bool,
    overrides: dict[str, dict[str, Any]] | None = None,
    **request: Any,
) -> dict[str, list[dict[str, Any]]]:
    """Each repeat asks every worker once, the starting worker rotating between repeats.

    ``overrides[name]`` replaces parts of the request for that worker.
    """
    names = list(workers)
    requests = {name: {**request, **(overrides or {}).get(name, {})} for name in names}
    if warmup:
        for name in names:
            workers[name].ask(**requests[name])
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for r in range(repeats):
        shift = r % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            results[name].append(workers[name].ask(**requests[name]))
    return results


def run_nets(
    plan: Plan, workers: dict[str, Worker], contenders: Contenders | None = None
) -> dict[str, Any]:
    """Each network's training, round robin, then the cross-check of its weights; and
    chainrule-compiled's first call in a fresh process (when ``contenders`` can start
    one)."""
    folder = tempfile.mkdtemp(prefix="chainrule-bench-nets-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    results = {}
    for net_run in plan.nets:
        network = NETWORKS[net_run.network]
        data = {"skipped": "chainrule's worker is not running"}
        if "chainrule" in workers:
            data = workers["chainrule"].ask(task="net_data", network=network.name)
        why_stand_in = data.get("skipped") or data.get("error")
        real = None if why_stand_in else (data["X"], data["Y"], data["source"])
        problem = net_problem(network, SEED, real)
        path = str(Path(folder) / f"{network.name}.json")
        Path(path).write_text(json.dumps(dataclasses.asdict(problem)))
        check_samples = net_run.slow_samples or net_run.samples  # None: all
        progress(f"MLP training, {network.shape}, {network.samples:,} samples")
        # The cross-check first: it also warms every worker up (imports, first calls).
        check = {
            name: [
                worker.ask(
                    task="net", problem=path, epochs=plan.check_epochs, samples=check_samples
                )
            ]
            for name, worker in workers.items()
        }
        runs = round_robin(
            workers,
            plan.net_repeats,
            False,
            net_run.requests(plan.net_epochs),
            task="net",
            problem=path,
        )
        cold = {}
        if contenders is not None and "chainrule-compiled" in workers:
            fresh = contenders.start(("chainrule-compiled",))
            if "chainrule-compiled" in fresh:
                cold = fresh["chainrule-compiled"].ask(
                    task="net_cold", problem=path, epochs=plan.net_epochs,
                    samples=net_run.samples,
                )  # fmt: skip
                fresh["chainrule-compiled"].close()
        results[network.name] = {
            "source": problem.source,
            "why_stand_in": why_stand_in or "",
            "samples": network.samples,
            "net_epochs": plan.net_epochs,
            "check_epochs": plan.check_epochs,
            "check_samples": check_samples or network.samples,
            "runs": runs,
            "check": check,
            "cold": cold,
        }
    return results


def snapshot(revision: str) -> tuple[str, str]:
    """The commit's packages extracted to a temporary folder, and its short hash.

    Workers then import chainrule from there (PYTHONPATH comes before the editable
    install), so the run measures that commit, not a working tree being edited.
    """
    folder = tempfile.mkdtemp(prefix="chainrule-bench-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", revision], cwd=ROOT, capture_output=True, text=True
    )
    if commit.returncode != 0:
        raise SystemExit(f"run.py: --commit {revision}: {commit.stderr.strip()}")
    archive = subprocess.run(
        ["git", "archive", revision], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    return folder, commit.stdout.strip()


def run(
    mode: str,
    revision: str | None = None,
    *,
    only_training: bool = False,
    busy: bool = False,
    rounds: int | None = None,
) -> dict[str, Any]:
    """Every workload of the plan; the raw results as a JSON-able dict.

    ``only_training`` runs the MLP training table alone; ``busy`` keeps one more process
    busy (a Python loop) for the whole run; ``rounds`` overrides the training table's
    number of interleaved rounds.
    """
    plan = PLANS[mode]
    if rounds is not None:
        plan = dataclasses.replace(plan, net_repeats=rounds)
    contenders = Contenders()
    if revision:
        folder, commit = snapshot(revision)
        contenders.env["PYTHONPATH"] = folder
        contenders.env["CHAINRULE_BENCH_VERSION"] = commit
    for name in CONTENDERS:
        contenders.pythons[name] = Path(sys.executable)
    # bare-native is a measurement for full runs; its mypyc build (~10 s) stays out of
    # smoke mode, which the test suite runs.
    full = mode != "smoke" and not only_training
    native, reason = build_native_bare() if full else (None, "not built in this mode")
    if native is None:
        contenders.unavailable["bare-native"] = reason
    else:
        contenders.env["CHAINRULE_BENCH_NATIVE_DIR"] = native
    micrograd, reason = ensure_micrograd(create=mode != "smoke")
    if micrograd is None:
        contenders.unavailable["micrograd"] = reason
    else:
        contenders.pythons["micrograd"] = micrograd

    results: dict[str, Any] = {
        "mode": mode,
        "meta": machine(),
        "dag": {},
        "memory_nodes": plan.memory_nodes,
        "only_training": only_training,
        "busy": busy,
    }
    neighbour = start_busy_process() if busy else None
    try:
        workers = contenders.start(NET_CONTENDERS if only_training else CONTENDERS)
        try:
            run_workloads(plan, workers, contenders, results, only_training)
        finally:
            for worker in workers.values():
                worker.close()
        if not only_training:
            run_fresh(plan, contenders, results)
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()
    results["unavailable"] = contenders.unavailable
    results["versions"] = contenders.versions
    return results


def start_busy_process() -> subprocess.Popen[bytes]:
    """Another process keeping a core busy, as a user's machine often has one."""
    progress("starting a busy process (python -c 'while True: pass')")
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    atexit.register(process.kill)
    return process


def run_workloads(
    plan: Plan,
    workers: dict[str, Worker],
    contenders: Contenders,
    results: dict[str, Any],
    only_training: bool,
) -> None:
    """The timed workloads, round robin among the workers."""
    net_workers = {name: workers[name] for name in NET_CONTENDERS if name in workers}
    if only_training:
        results["nets"] = run_nets(plan, net_workers, contenders)
        return
    dag_workers = {name: w for name, w in workers.items() if name in TIMED}
    mlp_workers = {name: w for name, w in workers.items() if name in MLP_CONTENDERS}
    # The MLPs first, while the workers hold no big DAG for the collector to traverse.
    progress("MLP epoch")
    results["mlp"] = round_robin(
        mlp_workers, plan.mlp_repeats, plan.warmup, task="mlp", seed=SEED, samples=100
    )
    results["nets"] = run_nets(plan, net_workers, contenders)
    for nodes, repeats in plan.dag_sizes:
        progress(f"DAG, {nodes:,} nodes")
        results["dag"][str(nodes)] = round_robin(
            dag_workers,
            repeats,
            plan.warmup and nodes <= 100_000,
            task="dag",
            nodes=nodes,
            seed=SEED,
            gc=True,
        )
    if plan.gc_off:
        nodes, repeats = plan.gc_off
        progress(f"DAG, {nodes:,} nodes, collector off")
        results["dag_gc_off"] = {
            "nodes": nodes,
            "results": round_robin(
                dag_workers, repeats, False, task="dag", nodes=nodes, seed=SEED, gc=False
            ),
        }


def run_fresh(plan: Plan, contenders: Contenders, results: dict[str, Any]) -> None:
    """Memory and depth, each in a fresh process, one contender at a time; and the
    demo's training to convergence."""
    results["memory"], results["depth"] = {}, {}
    for name in TIMED:
        for task, key, extra in (
            ("memory", "memory", {"nodes": plan.memory_nodes}),
            ("depth", "depth", {"max": plan.depth_max}),
        ):
            progress(f"{task}: {name}")
            fresh = contenders.start((name,))
            if name in fresh:
                results[key][name] = fresh[name].ask(task=task, seed=SEED, **extra)
                fresh[name].close()
    if plan.train:
        results["train"] = {}
        for engine in TRAIN_ENGINES:
            progress(f"training to convergence, engine={engine}")
            fresh = contenders.start(("chainrule",))
            if "chainrule" in fresh:
                results["train"][engine] = fresh["chainrule"].ask(task="train", engine=engine)
                fresh["chainrule"].close()


# nn.train's engines: the interpreted one, and the default (the compiled path for full batches).
TRAIN_ENGINES = ("interpreted", "auto")


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu
            )
    except OSError:
        pass
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
    }


# --- cross-check ----------------------------------------------------------------------


def cross_check(results: dict[str, Any]) -> list[str]:
    """One line per workload: do all contenders' gradient checksums agree?"""
    groups: list[tuple[str, dict[str, list[float]]]] = []
    for nodes, by_name in results["dag"].items():
        groups.append((f"DAG {int(nodes):,} nodes (leaf gradients)", first_checksums(by_name)))
    if "dag_gc_off" in results:
        groups.append(
            (
                "DAG, collector off (leaf gradients)",
                first_checksums(results["dag_gc_off"]["results"]),
            )
        )
    if "mlp" in results:
        groups.append(("MLP epochs (weights after ten steps)", first_checksums(results["mlp"])))
    for name, net in results.get("nets", {}).items():
        label = (
            f"MLP training, {NETWORKS[name].shape} (weights after {net['check_epochs']} epochs "
            f"on {net['check_samples']:,} samples)"
        )
        groups.append((label, first_checksums(net["check"])))
        for (epochs, samples), names in alike(net["runs"]).items():
            if len(names) > 1:
                label = (
                    f"MLP training, {NETWORKS[name].shape} (the timed runs: weights after "
                    f"{epochs} epochs on {samples:,} samples)"
                )
                groups.append((label, first_checksums({n: net["runs"][n] for n in names})))
    if results.get("train"):
        trained = {f"engine={e}": [t] for e, t in results["train"].items()}
        groups.append(("demo training (final weights)", first_checksums(trained)))
    lines = []
    for label, sums in groups:
        worst, bad = agreement(sums)
        names = ", ".join(sums)
        verdict = "agree" if not bad else "DISAGREE: " + ", ".join(bad)
        lines.append(
            f"{label}: {verdict} across {len(sums)} contenders ({names}); "
            f"largest relative difference {worst:.1e}"
        )
    return lines


def first_checksums(by_name: dict[str, list[dict[str, Any]]]) -> dict[str, list[float]]:
    """Each contender's checksum; every repeat must give the same one."""
    sums = {}
    for name, runs in by_name.items():
        ok = [run["checksum"] for run in runs if "checksum" in run]
        if ok:
            sums[name] = ok[0]
    return sums


def agreement(sums: dict[str, list[float]]) -> tuple[float, list[str]]:
    """The largest relative difference from the floor (or the first), and who is off."""
    if not sums:
        return 0.0, []
    reference = sums.get("floor") or next(iter(sums.values()))
    worst, bad = 0.0, []
    for name, values in sums.items():
        for got, want in zip(values, reference, strict=True):
            difference = abs(got - want) / max(abs(want), 1e-300)
            worst = max(worst, difference)
            if difference > CROSS_CHECK_RTOL:
                bad.append(name)
                break
    return worst, bad


# --- tables -----------------------------------------------------------------------------


def median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [run[key] for run in runs if run.get(key) is not None]
    return statistics.median(values) if values else None


def paired_ratio(top: list[dict[str, Any]], bottom: list[dict[str, Any]], key: str) -> float | None:
    """Median over repeats of top/bottom, each ratio from the same round of the run."""
    ratios = [
        a[key] / b[key] for a, b in zip(top, bottom, strict=False) if a.get(key) and b.get(key)
    ]
    return statistics.median(ratios) if ratios else None


def number(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def ratio(x: float | None) -> str:
    return "-" if x is None else (f"{x:.1f}x" if x >= 1.0 else f"{x:.2f}x")


def problem(runs: list[dict[str, Any]]) -> str:
    for run in runs:
        for key in ("error", "skipped"):
            if key in run:
                return f"{key}: {run[key]}"
    return ""


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def unavailable_rows(
    results: dict[str, Any], names: tuple[str, ...], width: int
) -> list[list[str]]:
    return [
        [name, *["-"] * (width - 2), f"not run: {why}"]
        for name, why in results["unavailable"].items()
        if name in names
    ]


def dag_table(results: dict[str, Any], by_name: dict[str, list[dict[str, Any]]]) -> str:
    header = [
        "contender",
        "build + backward, ns/node",
        "forward",
        "backward",
        "teardown",
        "micrograd ÷ this",
        "this ÷ floor",
        "notes",
    ]
    rows = []
    for name, runs in by_name.items():
        nodes = runs[0].get("nodes") or 1
        per = {
            key: (lambda m: None if m is None else m / nodes)(median(runs, key))
            for key in ("total_ns", "forward_ns", "backward_ns", "teardown_ns")
        }
        note = problem(runs) or NOTES[name]
        traced = [run["trace_ns"] for run in runs if run.get("trace_ns")]
        if traced:
            note += f"; building the Values + tracing once: {traced[0] / nodes:,.0f} ns/node"
        if runs[0].get("cyclic_garbage"):
            note += f"; {runs[0]['cyclic_garbage'] / nodes:.1f} objects/node left to the cyclic GC"
        rows.append(
            [
                name,
                number(per["total_ns"]),
                number(per["forward_ns"]),
                number(per["backward_ns"]),
                number(per["teardown_ns"]),
                ratio(paired_ratio(by_name.get("micrograd", []), runs, "total_ns")),
                ratio(paired_ratio(runs, by_name.get("floor", []), "total_ns")),
                note,
            ]
        )
    return table(header, rows + unavailable_rows(results, TIMED, len(header)))


def mlp_table(results: dict[str, Any]) -> str:
    header = ["contender", "ms per epoch", "micrograd ÷ this", "this ÷ floor", "notes"]
    by_name = results["mlp"]
    rows = []
    for name, runs in by_name.items():
        total = median(runs, "total_ns")
        rows.append(
            [
                name,
                number(None if total is None else total / 1e6, 3),
                ratio(paired_ratio(by_name.get("micrograd", []), runs, "total_ns")),
                ratio(paired_ratio(runs, by_name.get("floor", []), "total_ns")),
                problem(runs) or NOTES[name],
            ]
        )
    return table(header, rows + unavailable_rows(results, MLP_CONTENDERS, len(header)))


def memory_table(results: dict[str, Any]) -> str:
    header = [
        "contender",
        "bytes per live node (RSS)",
        "Python heap bytes/node (tracemalloc)",
        "peak bytes/node, build + backward (RSS)",
        "objects/node left to the cyclic GC",
        "this ÷ micrograd",
        "this ÷ floor",
        "notes",
    ]
    memory = results["memory"]
    rows = []
    for name, m in memory.items():
        if "live_bytes" not in m:
            rows.append([name, *["-"] * 6, problem([m])])
            continue
        mg, fl = memory.get("micrograd", {}), memory.get("floor", {})
        rows.append(
            [
                name,
                number(m["live_bytes"]),
                number(m.get("traced_bytes")),
                number(m.get("peak_bytes")),
                number(m.get("cyclic_garbage"), 1),
                ratio(m["live_bytes"] / mg["live_bytes"]) if mg.get("live_bytes") else "-",
                ratio(m["live_bytes"] / fl["live_bytes"]) if fl.get("live_bytes") else "-",
                m.get("note", ""),
            ]
        )
    return table(header, rows + unavailable_rows(results, TIMED, len(header)))


def depth_table(results: dict[str, Any]) -> str:
    header = ["contender", "deepest chain whose backward works", "what stopped it"]
    rows = []
    for name, d in results["depth"].items():
        if "depth" not in d:
            rows.append([name, "-", problem([d])])
            continue
        if d["reached_max"]:
            rows.append([name, f">= {d['depth']:,}", "nothing: the largest depth tried"])
        else:
            limit = d.get("recursion_limit")
            rows.append(
                [name, f"{d['depth']:,}", f"{d['failure']} (sys.getrecursionlimit() = {limit})"]
            )
    return table(header, rows + unavailable_rows(results, TIMED, len(header)))


def train_table(results: dict[str, Any]) -> str:
    header = ["contender", "seconds", "epochs", "converged", "final loss", "notes"]
    train = results.get("train")
    if train is None:
        return table(header, [["chainrule", "-", "-", "-", "-", "not run in smoke mode"]])
    rows = []
    for engine, t in train.items():
        name = f'chainrule, `nn.train(engine="{engine}")`'
        if "total_ns" not in t:
            rows.append([name, "-", "-", "-", "-", problem([t])])
            continue
        settings = ", ".join(f"{k}={v}" for k, v in t["settings"].items() if k != "engine")
        note = f"ran on the {t['engine']} engine ({t['engine_note']}); the demo's {settings}"
        rows.append(
            [
                name,
                number(t["total_ns"] / 1e9, 2),
                str(t["epochs"]),
                str(t["converged"]),
                f"{t['final_loss']:.6g}",
                note,
            ]
        )
    return table(header, rows)


def significant(x: float) -> str:
    """Three significant digits, thousands separated: 0.0213, 6.12, 30.4, 3,040."""
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:.{1 if x >= 10 else 2}f}"
    return f"{x:.3g}"


def net_times(run: dict[str, Any], net: dict[str, Any]) -> tuple[float, float, bool]:
    """One run's ms per epoch and end-to-end ms for the whole workload; estimated or not.

    A run on fewer samples is scaled by the samples (the cost of an epoch is linear in
    them); one of fewer epochs gets the missing epochs added at its mean epoch time.
    """
    scale = net["samples"] / run["samples"]
    missing = net["net_epochs"] - run["epochs"]
    total = run["total_ns"] + missing * run["epoch_ns"]
    return run["epoch_ns"] * scale / 1e6, total * scale / 1e6, scale != 1 or missing > 0


def net_heading(results: dict[str, Any]) -> str:
    epochs = next(iter(results["nets"].values()))["net_epochs"]
    return (
        "## MLP training, full-batch gradient descent: ms per epoch / end to end, ms "
        f"({epochs} epochs from a fresh model)"
    )


def net_row_label(name: str, net: dict[str, Any]) -> str:
    network = NETWORKS[name]
    biases = " + biases" if network.bias else ""
    stand_in = " (seeded stand-in)" if net["source"].startswith("stand-in") else ""
    return f"{network.shape}{biases}, {network.title}{stand_in}, {network.samples:,}"


def alike(runs_by_name: dict[str, list[dict[str, Any]]]) -> dict[tuple[int, int], list[str]]:
    """The contenders that ran the same (epochs, samples), by those two numbers."""
    groups: dict[tuple[int, int], list[str]] = {}
    for name, runs in runs_by_name.items():
        if runs and "checksum" in runs[0]:
            groups.setdefault((runs[0]["epochs"], runs[0]["samples"]), []).append(name)
    return groups


def net_table(results: dict[str, Any]) -> str:
    """A row per network, a column per contender: "ms per epoch / end-to-end ms"."""
    compiled, torch, floor = "chainrule-compiled", "torch-batched", "numpy"
    header = [
        "network, samples",
        *NET_CONTENDERS,
        f"{compiled} ÷ {torch}",
        f"{compiled} ÷ {floor}",
        "how",
    ]
    rows = []
    for name, net in results["nets"].items():
        cells = []
        for contender in NET_CONTENDERS:
            runs = [r for r in net["runs"].get(contender, []) if "total_ns" in r]
            if not runs:
                cells.append("not run" if contender in results["unavailable"] else "failed")
                continue
            times = [net_times(run, net) for run in runs]
            mark = "≈ " if times[0][2] else ""
            epoch = statistics.median(t[0] for t in times)
            total = statistics.median(t[1] for t in times)
            cells.append(f"{mark}{significant(epoch)} / {mark}{significant(total)}")
        by_name = net["runs"]
        for other in (torch, floor):
            cells.append(
                " / ".join(
                    ratio(paired_ratio(by_name.get(compiled, []), by_name.get(other, []), key))
                    for key in ("epoch_ns", "total_ns")
                )
            )
        rows.append([net_row_label(name, net), *cells, estimate_notes(net)])
    return table(header, rows)


def estimate_notes(net: dict[str, Any]) -> str:
    """How the cells marked ≈ were estimated, for each group of contenders run alike."""
    notes = []
    for (epochs, samples), names in alike(net["runs"]).items():
        parts = []
        if samples != net["samples"]:
            scale = net["samples"] / samples
            parts.append(f"timed on the first {samples:,} samples, times scaled by {scale:.4g}")
        if epochs < net["net_epochs"]:
            parts.append(
                f"{epochs} epochs timed, end to end = that run + "
                f"{net['net_epochs'] - epochs} times its mean epoch"
            )
        if parts:
            notes.append(f"{', '.join(names)}: {'; '.join(parts)}.")
    return " ".join(notes)


def net_notes(results: dict[str, Any]) -> str:
    """Where each network's data came from, what failed, and where compiled time goes."""
    lines = []
    for name, net in results["nets"].items():
        shape = NETWORKS[name].shape
        source = net["source"]
        if net["why_stand_in"] and name != "moons":
            source += f" (the real data set was not used: {net['why_stand_in']})"
        lines.append(f"{shape}: {source}; learning rate {NETWORKS[name].learning_rate:g}.")
        compiled = [r for r in net["runs"].get("chainrule-compiled", []) if "total_ns" in r]
        outside = [r["outside_epochs_ns"] for r in compiled if r.get("outside_epochs_ns")]
        if compiled and outside:
            total = statistics.median(r["total_ns"] for r in compiled) / 1e6
            lines.append(
                f"{shape}, chainrule-compiled end to end: {significant(total)} ms, of which "
                f"{significant(statistics.median(outside) / 1e6)} ms outside the epochs (the "
                "model, the data's checks, tracing, the slope at the start, the final loss)."
            )
        cold = net.get("cold", {}).get("total_ns")
        if cold:
            lines.append(
                f"{shape}, chainrule-compiled end to end as the first call in a fresh process "
                f"(planning and compiling the generated code included, which later calls on "
                f"a network of the same shape reuse): {significant(cold / 1e6)} ms."
            )
        for contender in NET_CONTENDERS:
            why = problem(net["runs"].get(contender, []) + net["check"].get(contender, []))
            if why:
                lines.append(f"{shape}, {contender} failed: {why}")
    for contender in NET_CONTENDERS:
        if contender in results["unavailable"]:
            lines.append(f"{contender}: not run: {results['unavailable'][contender]}")
    return "\n".join(f"- {line}" for line in lines)


def report(results: dict[str, Any]) -> str:
    meta = results["meta"]
    what = "the MLP training table" if results.get("only_training") else "all tables"
    busy = "; one more process kept busy throughout (--busy)" if results.get("busy") else ""
    parts = [
        f"# chainrule benchmarks ({results['mode']} run, {what}{busy})",
        f"{meta['date']}; Python {meta['python']}; {meta['cpu']}, {meta['cores']} cores; "
        f"{meta['platform']}",
        "Medians over repeats; ratios are medians of per-round ratios (same run, same load). "
        "Contender versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items() if v),
    ]
    if results.get("only_training"):
        parts += [
            net_heading(results),
            net_table(results),
            net_notes(results),
            "## Gradient cross-check",
            "\n".join(f"- {line}" for line in cross_check(results)),
        ]
        return "\n\n".join(parts) + "\n"
    for nodes, by_name in results["dag"].items():
        parts += [
            f"## Random DAG, {int(nodes):,} nodes, forward build + backward (GC on)",
            dag_table(results, by_name),
        ]
    if "dag_gc_off" in results:
        nodes = results["dag_gc_off"]["nodes"]
        parts += [
            f"## Random DAG, {nodes:,} nodes, cyclic garbage collector off",
            dag_table(results, results["dag_gc_off"]["results"]),
        ]
    parts += [
        "## Chain depth at which backward still works",
        depth_table(results),
        f"## Memory per live node (the DAG of {results['memory_nodes']:,} nodes)",
        memory_table(results),
        "## The lecture notes' 4-3-2-1 tanh MLP, 100 samples, one epoch of full-batch gradient "
        "descent (mean of 10 consecutive epochs)",
        mlp_table(results),
        net_heading(results),
        net_table(results),
        net_notes(results),
        "## The demo's training to convergence",
        train_table(results),
        "## Gradient cross-check",
        "\n".join(f"- {line}" for line in cross_check(results)),
    ]
    return "\n\n".join(parts) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one repeat, no venv creation: seconds (CI)",
    )
    size.add_argument("--quick", action="store_true", help="the full sizes, fewer repeats")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results as JSON")
    parser.add_argument(
        "--commit",
        metavar="REV",
        help="measure chainrule as of this git commit (extracted to a temporary folder) "
        "instead of the working tree the .venv imports",
    )
    parser.add_argument(
        "--only",
        choices=["training"],
        help="run one table alone: 'training' is the MLP training table (and its "
        "cross-check), a few minutes",
    )
    parser.add_argument(
        "--busy",
        action="store_true",
        help="keep one more process busy (python -c 'while True: pass') while the run goes "
        "on, as a user's machine often has one",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help="interleaved rounds of the MLP training table (default: 5; 3 with --quick)",
    )
    args = parser.parse_args()
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    results = run(
        mode,
        args.commit,
        only_training=args.only == "training",
        busy=args.busy,
        rounds=args.rounds,
    )
    text = report(results)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 1 if any("DISAGREE" in line for line in cross_check(results)) else 0


if __name__ == "__main__":
    sys.exit(main())
