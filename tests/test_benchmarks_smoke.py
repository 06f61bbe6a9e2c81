"""benchmarks/run.py in smoke mode: it runs, prints its tables, and every contender agrees.

No timing is asserted. What is asserted could fail: each contender (chainrule interpreted
and compiled, the plain-float floor, the bare pure-Python node, PyTorch and micrograd where
they are installed) computes the leaf gradients of the same random DAG and the weights
after one MLP step in its own process, and those must agree. So must the weights that
chainrule's nn.train (both engines), PyTorch on batched tensors, numpy by hand and
micrograd reach when training the three MLP-training networks.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from markdown_tables import table_after

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-9


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, json.loads(out.read_text())


def rows(text: str, heading: str) -> dict[str, str]:
    """The rows of the table under a heading, by contender name, each as its cells joined."""
    table = table_after(text, heading)
    table.pop("contender")
    return {name: " | ".join(cells) for name, cells in table.items()}


def checksums(runs_by_name: dict[str, list[dict[str, Any]]]) -> dict[str, list[float]]:
    sums = {}
    for name, runs in runs_by_name.items():
        for run in runs:
            assert "error" not in run, f"{name}: {run['error']}"
            sums.setdefault(name, run["checksum"])
            # Repeats of the same workload give the same gradients.
            assert run["checksum"] == pytest.approx(sums[name], rel=RTOL)
    return sums


def assert_agree(
    sums: dict[str, list[float]], must_have: set[str], reference_name: str = "floor"
) -> None:
    assert must_have <= set(sums), f"missing: {must_have - set(sums)}"
    reference = sums[reference_name]
    assert all(math.isfinite(v) and v != 0.0 for v in reference)
    for name, values in sums.items():
        assert values == pytest.approx(reference, rel=RTOL), name


def test_prints_every_table_with_a_row_per_contender(smoke: tuple[str, dict[str, Any]]) -> None:
    text, _ = smoke
    mlp_contenders = {"chainrule", "chainrule-compiled", "micrograd", "torch", "floor"}
    contenders = mlp_contenders | {"bare-python", "bare-native"}
    for heading in (
        "## Random DAG, 2,000 nodes, forward build + backward (GC on)",
        "## Random DAG, 2,000 nodes, cyclic garbage collector off",
        "## Chain depth at which backward still works",
        "## Memory per live node",
    ):
        assert set(rows(text, heading)) == contenders, heading
    mlp = rows(text, "## The lecture notes' 4-3-2-1 tanh MLP")
    assert set(mlp) == mlp_contenders | {"chainrule-compiled-batch"}
    assert "## The demo's training to convergence" in text
    assert "## Gradient cross-check" in text


NETWORKS = {
    "iris": "4-3-2-1, Iris, 150",
    "moons": "2-16-16-1 + biases, moons (seeded stand-in), 100",
    "digits": "64-16-10 + biases, digits",  # then "(seeded stand-in)" until nn has the data
}
NET_CONTENDERS = ["chainrule-compiled", "chainrule", "micrograd", "torch-batched", "numpy"]


def test_the_training_table_has_a_row_per_network_and_a_column_per_contender(
    smoke: tuple[str, dict[str, Any]],
) -> None:
    text, results = smoke
    table = table_after(text, "## MLP training, full-batch gradient descent")
    header = table.pop("network, samples")
    assert header == [
        *NET_CONTENDERS,
        "chainrule-compiled ÷ torch-batched",
        "chainrule-compiled ÷ numpy",
        "how",
    ]
    assert len(table) == 3
    for label, row in zip(NETWORKS.values(), table, strict=True):
        assert row.startswith(label)
    for cells in table.values():
        for name, cell in zip(NET_CONTENDERS, cells, strict=False):
            if name in results["unavailable"]:
                assert cell == "not run"
            else:  # "ms per epoch / end-to-end ms", each a positive number
                epoch, total = (
                    float(part.strip("≈ ").replace(",", "")) for part in cell.split("/")
                )
                assert 0.0 < epoch <= total


def test_estimated_training_cells_are_marked_and_explained(
    smoke: tuple[str, dict[str, Any]],
) -> None:
    text, _ = smoke
    rows = list(table_after(text, "## MLP training, full-batch gradient descent").values())[1:]
    iris, moons, digits = rows
    # Smoke mode times the slow contenders (chainrule interpreted, micrograd) on the first
    # 30 and 20 samples of Iris and the moons, and the others on all of them.
    for cells, samples, scale in ((iris, 30, 5), (moons, 20, 5)):
        assert cells[1].startswith("≈ ")
        assert not any(cells[i].startswith("≈") for i in (0, 3, 4))
        assert cells[-1].startswith("chainrule")  # then micrograd, if it runs
        assert f": timed on the first {samples} samples, times scaled by {scale}." in cells[-1]
    # Digits: smoke mode times everyone on a subset.
    assert all(cell.startswith("≈ ") for cell in digits[:5] if cell != "not run")


def test_every_contender_trains_the_networks_to_the_same_weights(
    smoke: tuple[str, dict[str, Any]],
) -> None:
    _, results = smoke
    assert set(results["nets"]) == set(NETWORKS)
    for name, net in results["nets"].items():
        sums = checksums(net["check"])
        assert_agree(sums, {"chainrule-compiled", "chainrule", "numpy"}, "numpy")
        assert set(NET_CONTENDERS) <= set(sums) | set(results["unavailable"]), name
        # So do the timed runs of every contender that ran the same epochs and samples.
        timed, reference = checksums(net["runs"]), net["runs"]["numpy"][0]
        alike = {n: got for n, got in timed.items() if ran_alike(net["runs"][n][0], reference)}
        assert_agree(alike, {"chainrule-compiled", "numpy"}, "numpy")


def ran_alike(run: dict[str, Any], other: dict[str, Any]) -> bool:
    return bool(run["epochs"] == other["epochs"] and run["samples"] == other["samples"])


def test_a_contender_that_cannot_run_says_why(smoke: tuple[str, dict[str, Any]]) -> None:
    text, results = smoke
    dag = rows(text, "## Random DAG, 2,000 nodes, forward build + backward (GC on)")
    for name, reason in results["unavailable"].items():
        if name in ("torch-batched", "numpy"):  # in the training workloads only
            assert f"{name}: not run: {reason}" in text
        else:
            assert f"not run: {reason}" in dag.get(name, "") or name == "chainrule-compiled-batch"
    if "micrograd" in results["unavailable"]:
        assert "smoke mode does not create it" in dag["micrograd"]


def test_every_contender_computes_the_same_dag_gradients(
    smoke: tuple[str, dict[str, Any]],
) -> None:
    _, results = smoke
    for runs in (results["dag"]["2000"], results["dag_gc_off"]["results"]):
        sums = checksums(runs)
        assert_agree(sums, {"chainrule", "chainrule-compiled", "floor", "bare-python"})
        assert len(sums) + len(results["unavailable"]) >= 7


def test_every_contender_takes_the_same_gradient_descent_step(
    smoke: tuple[str, dict[str, Any]],
) -> None:
    _, results = smoke
    sums = checksums(results["mlp"])
    assert_agree(sums, {"chainrule", "chainrule-compiled", "chainrule-compiled-batch", "floor"})


def test_the_dag_outputs_agree(smoke: tuple[str, dict[str, Any]]) -> None:
    _, results = smoke
    outputs = {name: runs[0]["output"] for name, runs in results["dag"]["2000"].items()}
    for name, value in outputs.items():
        assert value == pytest.approx(outputs["floor"], rel=RTOL), name


def test_chainrule_backward_goes_past_the_recursion_limit_and_leaves_no_cycles(
    smoke: tuple[str, dict[str, Any]],
) -> None:
    _, results = smoke
    # The worker checks d/da of x + a + ... + a equals the depth before reporting it.
    assert results["depth"]["chainrule"]["reached_max"]
    assert results["depth"]["chainrule"]["depth"] > sys.getrecursionlimit()
    assert results["memory"]["chainrule"]["cyclic_garbage"] == 0
    if "micrograd" in results["depth"]:
        assert not results["depth"]["micrograd"]["reached_max"]
        assert "RecursionError" in results["depth"]["micrograd"]["failure"]
