"""See and teach backpropagation on the lecture notes' 4 -> 3 -> 2 -> 1 network.

chainrule demo                    the teaching demo on the built-in Iris data
chainrule demo --task digits      a 64-16-10 network learns handwritten digits
chainrule train CSV --target COL  the same for your own data
chainrule predict PARAMS CSV      apply a trained model to new rows
chainrule explain w^1_11          dL/dw as a sum over paths, in the lecture notes' notation
chainrule draw w^1_11             the graphs behind that sum, as SVG and PNG
chainrule explore                 an interactive page that steps through backpropagation
chainrule export PARAMS.json --to torch OUT.pt
                                  a trained network, as a PyTorch module
chainrule worksheet --students N --seed S
                                  exercise sheets with different numbers per student
chainrule grade ANSWERS.csv --key DIR/answers.json --out MARKS.csv
                                  mark the students' answers, with feedback
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import nn
import viz
from autograd import Value, __version__
from chainrule.digits import draw_digits
from chainrule.examples import (
    DEFAULT_OUT,
    DEMO_L2,
    DEMO_LAYERS,
    DEMO_LR,
    DEMO_MAX_EPOCHS,
    DEMO_SPECIES,
    DEMO_TOL,
    NOTES_WEIGHTS,
    demo_sample_loss,
)
from chainrule.explore import EXPLORER_FILE, add_explore_command
from chainrule.export import add_export_command
from chainrule.graphs import add_graph_commands, demo_ledgers, write_demo_graphs
from chainrule.options import Parser, layer_sizes, option, out_folder
from chainrule.worksheets.commands import add_worksheet_commands
from nn.checks import COUNT, NON_NEGATIVE, POSITIVE, SEED, few, shown
from nn.labels import output_range

# --- the demo's steps; each is small so more (graph images, ledgers) slot in between ---


def print_architecture(model: nn.MLP, data: nn.Dataset) -> None:
    """What is being trained, on what, in the lecture notes' words."""
    sizes = " -> ".join(str(n) for n in model.sizes)
    print(f"The lecture notes' network: {sizes}, activation {model.activation}, ", end="")
    print(f"{len(model.parameters())} weights w^k_ij, biases: {model.has_bias}")
    print(f"Data: Iris, {len(data)} samples, features {', '.join(data.feature_names)}")
    print(f"      (standardised); target: {data.target_name}")
    print("Loss: L = sum_n (y_n - yhat_n)^2 + Reg,  Reg = lambda * sum (w^k_ij)^2\n")


def print_weights(model: nn.MLP, title: str) -> None:
    """Every weight by its name in the lecture notes, one line per neuron i of the layer below."""
    print(title)
    for k, layer in enumerate(model.layers, start=1):
        print(f"  layer {k}: w^{k}_ij from neuron i of layer {k - 1} to neuron j of layer {k}")
        for i in range(1, model.sizes[k - 1] + 1):
            cells = [
                f"{nn.weight_label(k, i, j)} = {model.weight(k, i, j).data:+.4f}"
                for j in range(1, len(layer.neurons) + 1)
            ]
            print("    " + "   ".join(cells))
        if model.has_bias:
            cells = [f"{n.bias.label} = {n.bias.data:+.4f}" for n in layer.neurons if n.bias]
            print("    " + "   ".join(cells))
    print()


def check_notes_gradients(
    model: nn.MLP, X: list[list[float]], y: list[float], l2: float
) -> tuple[Value, bool]:
    """One forward and backward pass over the data; dL/dw for the lecture notes' examples.

    Each is compared with central finite differences (computed first, so the model's
    outputs are those of the returned graph). Returns the loss Value ``L`` and whether
    every check agreed.
    """
    numeric = {
        kij: nn.numerical_gradient(model, X, y, model.weight(*kij), l2=l2) for kij in NOTES_WEIGHTS
    }
    loss = nn.total_loss(model, X, y, l2=l2)
    model.zero_grad()
    loss.backward()
    print(f"One forward pass over the {len(X)} samples: L = sum (y - yhat)^2 + Reg = ", end="")
    print(f"{loss.data:.6f},\n  Reg = lambda * sum w^2 with lambda = {l2:g}")
    print("One backward pass (the chain rule, summed over every path): dL/dw of that L, Reg")
    print("included, as gradient descent and the explorer page's update use it:")
    print(f"  {'':<14}{'backprop':>16}{'finite diff.':>16}{'rel. error':>12}")
    all_agree = True
    for kij in NOTES_WEIGHTS:
        w = model.weight(*kij)
        error = abs(w.grad - numeric[kij]) / max(1e-12, abs(w.grad) + abs(numeric[kij]))
        agree = error < 1e-5
        all_agree = all_agree and agree
        verdict = "agree" if agree else "DISAGREE"
        name = f"dL/d{w.label}"
        print(f"  {name:<14}{w.grad:>16.8f}{numeric[kij]:>16.8f}{error:>12.1e}  {verdict}")
    print()
    return loss, all_agree


def fit(
    model: nn.MLP,
    X: list[list[float]],
    y: list[float],
    *,
    lr: float,
    l2: float,
    tol: float,
    max_epochs: int,
    optimizer: str = "gd",
    task: str = "auto",
    batch_size: int | None = None,
) -> nn.History:
    """Gradient descent w_new = w_old - lr * dL/dw until w_new ~= w_old, with a progress bar.

    Prints why training stopped (``history.stop_reason``) and, unless it converged, what
    was measured.
    """
    print(f"Training: w_new = w_old - {lr:g} * dL/dw until max |w_new - w_old| < {tol:g} ", end="")
    batches = "" if batch_size is None else f", mini-batches of {batch_size}"
    print(f"(at most {max_epochs} epochs, lambda = {l2:g}, optimizer {optimizer}{batches})")
    sys.stdout.flush()
    start = time.perf_counter()
    history = nn.train(
        model,
        X,
        y,
        lr=lr,
        l2=l2,
        tol=tol,
        max_epochs=max_epochs,
        optimizer=optimizer,
        task=task,
        batch_size=batch_size,
    )
    seconds = time.perf_counter() - start
    state = STOP_HEADLINES[history.stop_reason]
    epochs = f"{history.epochs} epoch{'' if history.epochs == 1 else 's'}"
    print(f"  {state} after {epochs} in {seconds:.1f} s ({history.engine} engine)")
    if not history.converged:
        print(f"  why: {as_flags(history.stop_note)}")
    print(f"  final loss L = {history.final_loss:.6f}")
    return history


# How `fit` names each stop_reason.
STOP_HEADLINES = {
    "converged": "converged",
    "max_epochs": "stopped at max-epochs (not converged)",
    "oscillating": "stopped at max-epochs, NOT converged: the loss oscillates",
    "saturated": "stopped, NOT converged: units saturated",
    "steps_too_small": "stopped, NOT converged: steps too small",
    "stalled": "stopped, NOT converged: stalled",
}

# The library's messages name Python arguments, with a value (lr=0.001) or alone, in
# backticks (`seed`); what the command line prints names its flags (--lr 0.001, --seed).
# This table and as_flags are the one place that maps them: the advice and the warnings
# are the library's, reworded.
ARGUMENT_FLAGS = {
    "lr": "--lr",
    "l2": "--l2",
    "tol": "--tol",
    "max_epochs": "--max-epochs",
    "optimizer": "--optimizer",
    "bias": "--bias",
    "init": "--init",
    "seed": "--seed",
    "nouts": "--hidden",
}
_NAMES = "|".join(ARGUMENT_FLAGS)
_ARGUMENT = re.compile(rf"\b({_NAMES})=('[^']*'|[-+\w.]*\w)|`({_NAMES})`")


def as_flags(message: str) -> str:
    """A library message in the command line's terms: ``lr=0.1`` becomes ``--lr 0.1``.

    >>> as_flags("try lr=0.001 or optimizer='adam' with bias=True (max_epochs=50)")
    'try --lr 0.001 or --optimizer adam with --bias (--max-epochs 50)'
    >>> as_flags("more hidden neurons (`nouts`), or another `init` or `seed`")
    'more hidden neurons (--hidden), or another --init or --seed'
    """

    def flag(match: re.Match[str]) -> str:
        if match.group(3):
            return ARGUMENT_FLAGS[match.group(3)]
        name, value = ARGUMENT_FLAGS[match.group(1)], match.group(2).strip("'")
        return name if value == "True" else f"{name} {value}"

    return _ARGUMENT.sub(flag, message)


@contextmanager
def warnings_as_lines(command: str) -> Iterator[None]:
    """The library's warnings, while this runs, as one line each in the command line's terms.

    ``chainrule train: warning: --tol 0 can never be met: ...`` on standard error when it
    is raised, instead of Python's file-and-line format.
    """

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        print(f"chainrule {command}: warning: {as_flags(str(message))}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def report_accuracy(
    model: nn.MLP, X: list[list[float]], y: Sequence[object], what: str = "samples"
) -> float:
    """The share of samples the model gets right (labels, or the sign of -1/+1 targets)."""
    acc = nn.accuracy(model, X, y)
    print(f"  accuracy: {acc:.1%} ({round(acc * len(X))} of {len(X)} {what})\n")
    return acc


def loss_figure(
    history: nn.History, title: str, batch_size: int | None = None, *, l2: float
) -> Figure:
    """The loss per epoch, on a log scale (matplotlib's Agg canvas: no display needed).

    With mini-batches of ``batch_size`` an epoch's loss is the sum of its batch losses
    (see ``nn.History.losses``), and the axis says so; ``l2`` is the lambda of the Reg
    term, which the axis names only when there is one.
    """
    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(range(1, history.epochs + 1), history.losses, color="tab:blue")
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    if batch_size is None:
        axes.set_ylabel("L = sum (y - yhat)^2" + (" + Reg" if l2 else ""))
    else:
        axes.set_ylabel(f"sum of the epoch's losses on batches of {batch_size}")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    return figure


def plot_loss_curve(
    history: nn.History, path: Path, title: str, batch_size: int | None = None, *, l2: float
) -> Path:
    """:func:`loss_figure` as a PNG at ``path``."""
    loss_figure(history, title, batch_size, l2=l2).savefig(path, format="png")
    return path


def written_into(out: str | Path, name: str) -> Path:
    """The path of file ``name`` in the folder ``out``, which is created now if need be.

    ``--out`` is checked when parsed (:func:`chainrule.options.out_folder`) and created
    only here, as the first file is written: a run that fails leaves no empty folder.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def run_demo(args: argparse.Namespace) -> int:
    """The teaching demo on the built-in Iris task (or, with --task digits, the digits)."""
    if args.task == "digits":
        return run_digits_demo(args)
    out = Path(args.out)
    data = nn.iris_binary(DEMO_SPECIES)
    model = nn.MLP(4, list(DEMO_LAYERS), seed=args.seed)
    print_architecture(model, data)
    print_weights(model, f"Initial weights (Xavier/Glorot uniform, seed {args.seed}):")
    _, gradients_agree = check_notes_gradients(model, data.X, data.y, DEMO_L2)
    sample_loss = demo_sample_loss(model, 0)
    print("The same chain rule, path by path, for one sample (the first) and its loss")
    print(f"L = (y - yhat)^2 = {sample_loss.data:.6g}; every gradient is a sum over paths:\n")
    print(demo_ledgers(model, sample_loss) + "\n")
    unrendered: viz.DotNotFoundError | None = None
    try:
        written = write_demo_graphs(model, sample_loss, out)
    except viz.DotNotFoundError as missing:  # everything else works without dot
        unrendered = missing
        written = write_demo_graphs(model, sample_loss, out, render=False)
    for path in written:
        print(f"Wrote {path}")
    print()
    history = fit(
        model,
        data.X,
        data.y,
        lr=DEMO_LR,
        l2=DEMO_L2,
        tol=DEMO_TOL,
        max_epochs=args.max_epochs or DEMO_MAX_EPOCHS,
    )
    report_accuracy(model, data.X, data.y)
    print_weights(model, "Trained weights:")
    curve = plot_loss_curve(
        history,
        written_into(out, "loss.png"),
        "The lecture notes' 4-3-2-1 network on Iris",
        l2=DEMO_L2,
    )
    print(f"Wrote {curve}")
    explorer = out / EXPLORER_FILE
    if explorer in written:
        print(f"\nNext: open {explorer} in a browser (it needs no server and no network).")
        print("It starts from the initial weights, as they were before the training above: step")
        print("through the forward and backward pass yourself, pick any weight for its paths from")
        print("L, its chain-rule ledger and its update w_new = w_old - eta * dL/dw, change any")
        print("number and watch everything follow, or press Train to run the same gradient")
        print("descent in the page.")
    if unrendered is not None:
        # The top-level names written: graph_loss.gv, ..., and the backward_frames folder.
        names = dict.fromkeys(p.relative_to(out).parts[0].removesuffix(".gv") for p in written)
        print(
            f"\nchainrule demo: the pictures ({', '.join(names)}) were written as DOT sources "
            "(.gv), not as SVG/PNG, and the explorer page was left out: Graphviz's dot "
            "program is not installed. Install it "
            f"({unrendered.command}) and run the demo again, or render one with "
            "'dot -Tpng FILE.gv -o FILE.png'.",
            file=sys.stderr,
        )
    return 0 if gradients_agree else 1


# The digits demo's settings, measured: the notes' gradient descent on mini-batches of 32
# reaches 95.8-96.9% on the held-out fifth (split seed 0) after 40 epochs for each of the
# initialisation seeds 0-7, in 1-2 s on the compiled path. Full-batch descent (lr 0.001)
# reached 95.3% for seed 0 but stayed near 85% for seed 2 after 200 epochs.
DIGITS_LAYERS = (16, 10)
DIGITS_LR = 0.005
DIGITS_BATCH_SIZE = 32
DIGITS_MAX_EPOCHS = 40
DIGITS_TEST_FRACTION = 0.2
DIGITS_SHOWN = 10


def run_digits_demo(args: argparse.Namespace) -> int:
    """A 64-16-10 network learns the 8x8 handwritten digits; tested on a held-out fifth."""
    digits = nn.load_digits()
    X_train, X_test, y_train, y_test = nn.train_test_split(
        digits.X, digits.y, test_fraction=DIGITS_TEST_FRACTION, seed=0
    )
    Z_train, means, stds = nn.standardize(X_train)
    Z_test = nn.apply_standardization(X_test, means, stds)
    model = nn.MLP(64, list(DIGITS_LAYERS), bias=True, seed=args.seed)
    sizes = " -> ".join(str(n) for n in model.sizes)
    print(f"Data: {len(digits)} handwritten digits, 8x8 pixels (0-16 ink); UCI, CC BY 4.0")
    print(f"      {len(X_train)} to train on, {len(X_test)} held out (a fifth, split seed 0)")
    print(f"Network {sizes}: tanh, biases, {len(model.parameters())} parameters;")
    print("      digit d is output d: target +1 there and -1 at the other nine (one-hot)")
    print("Loss: L = sum_n sum_j (y_nj - yhat_nj)^2\n")
    max_epochs = args.max_epochs or DIGITS_MAX_EPOCHS
    history = fit(
        model,
        Z_train,
        y_train,
        lr=DIGITS_LR,
        l2=0.0,
        tol=1e-6,
        max_epochs=max_epochs,
        batch_size=DIGITS_BATCH_SIZE,
    )
    if not history.converged and history.stop_reason != "max_epochs":
        print(f"  what to try: {as_flags(history.stop_advice)}")
    for what, Z, y in (("training", Z_train, y_train), ("held-out", Z_test, y_test)):
        acc = nn.accuracy(model, Z, y)
        print(f"  accuracy on the {len(Z)} {what} digits: {acc:.1%} ({round(acc * len(Z))} right)")
    print()
    predicted = nn.predict(model, Z_test)
    wrong = [n for n, (p, t) in enumerate(zip(predicted, y_test, strict=True)) if p != t]
    if wrong:
        shown = wrong[:DIGITS_SHOWN]
        picture = draw_digits(
            [X_test[n] for n in shown],
            [f"true {y_test[n]}, predicted {predicted[n]}" for n in shown],
            written_into(args.out, "digits-misclassified.png"),
            f"{len(shown)} of the {len(wrong)} held-out digits the network got wrong",
        )
        print(f"Wrote {picture}")
    curve = plot_loss_curve(
        history,
        written_into(args.out, "digits-loss.png"),
        f"The {sizes} network on digits",
        DIGITS_BATCH_SIZE,
        l2=0.0,
    )
    print(f"Wrote {curve}")
    return 0


def choose_task(
    data: nn.Dataset, asked: str, output_activation: str
) -> tuple[str, tuple[object, ...]]:
    """Classification or regression for the target column, and the classes; says which.

    ``asked`` is ``"auto"`` (guess with :func:`nn.looks_like_classes`), ``"classification"``
    or ``"regression"``; the message tells how to override a guess, and which target
    values stand for the classes at the output (``output_activation``, tanh if "auto").
    """
    name = data.target_name
    text = any(isinstance(t, str) for t in data.y)
    if asked == "regression" and text:
        raise ValueError(f"--regression: target {name!r} holds text, not numbers")
    if asked == "regression" or (asked == "auto" and not nn.looks_like_classes(data.y)):
        print(f"Target {name!r}: numbers, fitted as numbers (regression).", end="")
        whole = all(float(t).is_integer() for t in data.y)
        print(" Pass --classification if they are class labels." if whole else "")
        return "regression", ()
    for row, value in enumerate(data.y, start=1):
        if not isinstance(value, str) and not float(value).is_integer():
            raise ValueError(
                f"--classification: target {name!r} holds {value!r} (data row {row}); "
                "class labels are whole numbers or text"
            )
    classes = nn.class_labels(data.y, "the target")
    if len(classes) == 1:
        raise ValueError(f"column {name!r} has only one value, {classes[0]!r}: nothing to classify")
    low, high = output_range("tanh" if output_activation == "auto" else output_activation)
    print(f"Target {name!r}: {len(classes)} classes ({few(classes, 10)}): classification, ", end="")
    if len(classes) == 2:
        print(f"one output, {low:g} for {classes[0]} and {high:+g} for {classes[1]}.")
    else:
        print(f"{len(classes)} outputs, one-hot ({low:g}/{high:+g}); a prediction is the ", end="")
        print("largest output.")
    if not text:
        print("  To fit the numbers instead, pass --regression.")
    return "classification", classes


# The default learning rate of `chainrule train`. The loss sums (y - yhat)^2 over the
# rows, so its gradient, and a step at a fixed lr, grows with the row count: 0.01 suits
# the notes' demo but overshoots on Iris's three species (the loss oscillated between
# 200 and 280 at 86% accuracy). Dividing by the rows keeps the step per row the same.
# Measured on Iris (1000 epochs, no biases, the 3,2 hidden layers): at 0.15 / 150 rows
# = 0.001 the three species reach 97.3% with the loss still falling, setosa against the
# rest 100%; at 0.3 / rows two of the one-species tasks oscillated, at 0.01 the three
# species did. No fixed step suits every length of run: over 100,000 epochs (seeds 0-2)
# the three species' loss ended up oscillating at 0.05, 0.1 and 0.15 / rows alike (with
# l2 0.01 or 0.1 too, and with 4,3 hidden): in 5 of the 9 runs the loss spiked to 2 to 4
# times its value within the last 200 epochs, the others zigzagged; while below 0.075 /
# rows the default 1,000 epochs fall short (0.045 / rows: 89-97% for seeds 0-3). The
# oscillation advice's lr / 10, 0.0001, converged for all three seeds (18,446 to 42,397
# epochs, 97.3-99.3%).
LR_PER_ROW = 0.15
# Numbers are fitted standardised (mean 0, std 1), through a linear output, which no
# tanh damps: the step per row must be smaller. Measured with and without --bias on 13
# targets of 20 to 1,797 rows and of every scale (each Iris column from the other three;
# sin(x1) + 0.3 x2 + noise on 20, 50, 200, 500 and 2,000 rows, times 0.01, 1 and 100,
# plus 1000; a target in [-1, 1]; a digits pixel from the other 63), 1,000 epochs: at
# 0.05 / rows none of the 26 runs oscillated, stalled or saturated, and each came within
# 1.5x of the lowest training RMSE of the rates tried (0.03 to 0.15 / rows); at 0.1 and
# at 0.15 / rows 14 runs oscillated. Unstandardised at 0.15 / rows, 18 of the 26 runs
# oscillated, stalled or saturated (times 100 or plus 1000 saturated the units; without
# biases no offset was fitted): no learning rate suits every scale of an unscaled target.
LR_PER_ROW_NUMBERS = 0.05
# A network larger than this is refused before it is built: the engine keeps every
# parameter as a Python object, and training took about 4.5 KB of memory per parameter
# (150 rows, 2 epochs: 80,003 parameters 384 MB in 3.7 s; 240,003: 1.05 GB in 13 s;
# 680,003: 2.5 GB in 30 s).
MAX_PARAMETERS = 100_000


def default_lr(rows: int, task: str = "classification") -> float:
    """The learning rate ``chainrule train`` uses without ``--lr``: a step per row.

    ``LR_PER_ROW / rows`` for classes, ``LR_PER_ROW_NUMBERS / rows`` for numbers
    (``task="regression"``, fitted standardised).

    >>> default_lr(150), round(default_lr(150, "regression"), 6)
    (0.001, 0.000333)
    """
    return (LR_PER_ROW_NUMBERS if task == "regression" else LR_PER_ROW) / rows


@dataclass
class Training:
    """A run of ``chainrule train`` prepared from its options: the data as the network
    sees it (``X``, ``targets``), the network, the learning rate and what was decided."""

    data: nn.Dataset
    X: list[list[float]]
    targets: list[Any]
    model: nn.MLP
    lr: float
    task: str
    network: str  # "4 -> 3 -> 2 -> 1"
    standardization: tuple[list[float], list[float]] | None
    target_scaling: tuple[float, float] | None


def prepare_training(args: argparse.Namespace, csv: str) -> Training:
    """Read ``csv`` and build the network the options of :func:`add_training_options`
    describe, saying what was decided (the task, the scaling, the learning rate);
    ``chainrule train`` trains it, ``chainrule explore --data`` shows it."""
    data = nn.load_csv(csv, target=args.target)
    standardize = getattr(args, "standardize", True)
    standardization = None
    X = data.X
    if standardize:
        X, means, stds = nn.standardize(data.X)
        standardization = (means, stds)
    print(f"{csv}: {len(data)} rows, features {', '.join(data.feature_names)}")
    task, classes = choose_task(data, args.task, args.output_activation)
    output_activation = args.output_activation
    if output_activation == "auto":
        output_activation = "linear" if task == "regression" else "tanh"
    targets, target_scaling = data.y, None
    if task == "regression" and output_activation == "linear" and standardize:
        z, (mean,), (std,) = nn.standardize([[float(t)] for t in data.y])
        targets, target_scaling = [row[0] for row in z], (mean, std)
        print(f"  Standardised like the features: the network fits (y - {mean:.4g}) / {std:.4g}, ",
              end="")  # fmt: skip
        print("and its predictions are scaled back.")
    sizes = [len(data.feature_names), *args.hidden, 1 if len(classes) <= 2 else len(classes)]
    count = nn.parameter_count(sizes, args.bias)
    network = " -> ".join(map(shown, sizes))
    if count > MAX_PARAMETERS:
        raise ValueError(
            f"--hidden {','.join(map(str, args.hidden))}: a {network} network has "
            f"{shown(count)} parameters; chainrule train builds at most {MAX_PARAMETERS:,} (a "
            "scalar engine keeps each as a Python object: training takes about 4.5 KB per "
            "parameter)"
        )
    model = nn.MLP(
        sizes[0],
        sizes[1:],
        bias=args.bias,
        activation=args.activation,
        output_activation=output_activation,
        init=args.init,
        seed=args.seed,
    )
    print(f"Network {network}, {count} parameters, activation ", end="")
    print(f"{model.activation}, output {output_activation}, init {args.init}")
    lr = args.lr
    if lr is None:
        lr = default_lr(len(data), task)
        per_row = LR_PER_ROW_NUMBERS if task == "regression" else LR_PER_ROW
        kind = "numbers" if task == "regression" else "classes"
        print(f"Learning rate --lr {lr:g}: the default for {len(data)} rows of {kind} ", end="")
        print(f"({per_row:g} / rows, as the loss sums over the rows)")
    return Training(data, X, targets, model, lr, task, network, standardization, target_scaling)


def run_train(args: argparse.Namespace) -> int:
    """Train an MLP on the user's CSV file."""
    run = prepare_training(args, args.csv)
    data, X, targets, model, lr, task = (
        run.data, run.X, run.targets, run.model, run.lr, run.task
    )  # fmt: skip
    standardization, target_scaling, network = run.standardization, run.target_scaling, run.network
    print()
    history = fit(
        model,
        X,
        targets,
        lr=lr,
        l2=args.l2,
        tol=args.tol,
        max_epochs=args.max_epochs,
        optimizer=args.optimizer,
        task=task,
    )
    if not history.converged:
        print(f"  what to try: {as_flags(history.stop_advice)}")
    # A run cut short while the loss still falls says nothing yet about what it lacks.
    finished = history.stop_reason != "max_epochs"
    if task == "classification":
        accuracy = report_accuracy(model, X, data.y)
        if accuracy < 0.95 and not args.bias and finished:
            print("  (the network has no biases; --bias lets each neuron shift its threshold)\n")
    else:
        predictions = nn.predict(model, X)
        if target_scaling is not None:
            mean, std = target_scaling
            predictions = [mean + std * p for p in predictions]
        hint = finished and not args.bias and target_scaling is None
        report_regression(predictions, data.y, offset_hint=hint)
    parameters = written_into(args.out, "parameters.json")
    nn.save_parameters(
        model,
        parameters,
        feature_names=data.feature_names,
        target_name=data.target_name,
        standardization=standardization,
        target_standardization=target_scaling,
    )
    title = f"{Path(args.csv).name}: {network}"
    curve = plot_loss_curve(history, written_into(args.out, "loss.png"), title, l2=args.l2)
    print(f"Wrote {parameters} and {curve}")
    print(f"Predict on new rows with: chainrule predict {parameters} NEW.csv")
    return 0


def rmse(predictions: Sequence[float], targets: Sequence[float]) -> float:
    """The root mean squared error of ``predictions`` against ``targets``.

    >>> rmse([1.0, 3.0], [2.0, 2.0])
    1.0
    """
    return math.sqrt(math.fsum((p - t) ** 2 for p, t in zip(predictions, targets, strict=True))
                     / len(targets))  # fmt: skip


def report_regression(
    predictions: Sequence[float], y: Sequence[float], *, offset_hint: bool
) -> None:
    """The training RMSE beside that of predicting the mean target for every row.

    ``offset_hint``: say that a network without biases cannot add the mean as an offset
    (when the target, not standardised, has one).
    """
    targets = [float(t) for t in y]
    mean = math.fsum(targets) / len(targets)
    fitted = rmse(predictions, targets)
    baseline = rmse([mean] * len(targets), targets)
    print(
        f"  training RMSE: {fitted:.4g} (predicting the mean, {mean:.4g}, for every row: ", end=""
    )
    print(f"{baseline:.4g})")
    if fitted >= baseline:
        print("  the network predicts worse than the mean: it has not learnt this data")
    if offset_hint and abs(mean) >= 0.1 * baseline:
        print(f"  (the network has no biases, so it cannot add an offset such as the mean "
              f"{mean:.4g}; --bias gives every neuron one)")  # fmt: skip
    print()


def run_predict(args: argparse.Namespace) -> int:
    """Apply a model saved by ``chainrule train`` to the rows of a CSV file.

    Writes one prediction per row to standard output as CSV; when the file also holds
    the target column, says on standard error how well the predictions match it.
    """
    saved = nn.load_model(args.parameters)
    header = nn.csv_header(args.csv)
    target = saved.target_name if saved.target_name in header else None
    features = list(saved.feature_names) if saved.feature_names else None
    data = nn.load_csv(args.csv, target=target, features=features)
    model = saved.model
    if len(data.feature_names) != model.sizes[0]:
        raise ValueError(
            f"{args.csv}: {len(data.feature_names)} feature columns, but the model takes "
            f"{model.sizes[0]} inputs"
        )
    predictions = saved.predict(data.X)
    name = f"predicted_{saved.target_name or 'y'}"
    width = model.sizes[-1] if model.classes is None and model.sizes[-1] > 1 else 1
    print(name if width == 1 else ",".join(f"{name}_{j}" for j in range(1, width + 1)))
    for p in predictions:
        print(",".join(map(str, p)) if isinstance(p, list) else p)
    if target is not None and model.classes is not None:
        report_predicted_classes(predictions, data, model.classes, args.csv)
    elif target is not None and width == 1:
        error = rmse(predictions, [float(t) for t in data.y])
        print(f"{len(data)} rows; root mean squared error against {target!r}: {error:.4g}",
              file=sys.stderr)  # fmt: skip
    return 0


def report_predicted_classes(
    predictions: Sequence[object], data: nn.Dataset, classes: Sequence[object], csv: str
) -> None:
    """On standard error: the accuracy against the file's labels, and labels never trained on.

    A row whose label is not one of the model's classes cannot be right or wrong: it is
    named (line and column) and left out of the accuracy.
    """
    # The file's labels are read afresh (text in one row makes them all text), so they
    # match the classes by how they are written.
    known = {str(c): c for c in classes}
    right = scored = 0
    unknown: list[str] = []
    for line, predicted, label in zip(data.lines, predictions, data.y, strict=True):
        if str(label) not in known:
            unknown.append(f"line {line}: {label!r}")
            continue
        scored += 1
        right += predicted == known[str(label)]
    if scored:
        print(
            f"{scored} rows; accuracy against column {data.target_name!r}: "
            f"{right / scored:.1%} ({right} of {scored})",
            file=sys.stderr,
        )
    if unknown:
        print(
            f"{csv}: {len(unknown)} row(s) of column {data.target_name!r} hold a label the "
            f"model was not trained on (its classes: {few(classes, 10)}), left "
            f"out of the accuracy: {few(unknown)}",
            file=sys.stderr,
        )


# --- argument parsing --------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``chainrule`` and its commands."""
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )

    demo = commands.add_parser(
        "demo",
        help="the teaching demo: the lecture notes' 20-weight MLP trained on Iris",
        description=(
            "Build the lecture notes' 4 -> 3 -> 2 -> 1 network (20 weights w^k_ij), show "
            "its weights, check dL/dw for w^3_11, w^2_11, w^2_21 and w^1_11 against finite "
            "differences, and print the chain rule path by path for one sample. Into --out "
            "it writes the op graph, the network and the paths to w^1_11 (SVG and PNG), the "
            "backward pass frame by frame (backward_frames/, backward_frames_neuron/ and the "
            "animation backward_neuron.gif) and explorer.html, a page to open in a browser "
            "that computes: step through the forward and backward pass, pick any weight, "
            "change any number and watch every value and gradient follow, train. Then it trains "
            "the network by gradient descent on Iris (setosa vs the others) until the "
            "weights stop changing, and plots the loss curve (loss.png). With --task digits "
            "a 64-16-10 network learns handwritten digits instead."
        ),
    )
    demo.add_argument("--out", type=out_folder, default=DEFAULT_OUT, help="folder for the files")
    demo.add_argument(
        "--seed", type=option(SEED), default=0, help="seed of the random initial weights"
    )
    demo.add_argument(
        "--task",
        choices=("iris", "digits"),
        default="iris",
        help="iris: the lecture notes' 4-3-2-1 network on Iris, gradients and pictures; "
        "digits: a 64-16-10 network on 8x8 handwritten digits, tested on a held-out fifth",
    )
    demo.add_argument(
        "--max-epochs",
        type=option(COUNT),
        default=None,
        help=f"stop after this many epochs (default: {DEMO_MAX_EPOCHS} for iris, "
        f"{DIGITS_MAX_EPOCHS} for digits)",
    )
    demo.set_defaults(run=run_demo)

    train = commands.add_parser(
        "train",
        help="train an MLP on your own CSV file",
        description=(
            "Train an MLP on a CSV file with a header row. One column is the "
            "target, every other column an input feature. Writes parameters.json and "
            "loss.png into --out."
        ),
    )
    train.add_argument(
        "csv",
        help="the CSV file: a header row, then one row per sample; the features are numbers, "
        "the target numbers or class labels",
    )
    add_training_options(train)
    train.add_argument(
        "--out",
        type=out_folder,
        default=DEFAULT_OUT,
        help="folder for parameters.json and loss.png",
    )
    train.set_defaults(run=run_train)
    add_predict_command(commands)
    add_graph_commands(commands)
    add_explore_command(commands, training_options=add_training_options, prepare=prepare_training)
    add_export_command(commands)
    add_worksheet_commands(commands)
    return parser


def add_training_options(command: argparse.ArgumentParser, *, target_required: bool = True) -> None:
    """The options of ``chainrule train`` that say what to learn and how (every option but
    the CSV file and ``--out``), read by :func:`prepare_training`; ``chainrule explore
    --data`` takes the same."""
    command.add_argument(
        "--target",
        required=target_required,
        default=argparse.SUPPRESS if target_required else None,
        help="name of the column to predict: numbers, or class labels (text or whole "
        "numbers)" + ("; required" if target_required else ""),
    )
    command.add_argument(
        "--hidden",
        type=layer_sizes,
        default="3,2",
        help="hidden layer sizes, comma-separated ('' for none); the output layer has 1 "
        f"neuron (K for K > 2 classes); at most {MAX_PARAMETERS:,} parameters in all",
    )
    command.add_argument(
        "--lr",
        type=option(POSITIVE),
        default=None,
        help=f"learning rate eta in w - eta * dL/dw (default: {LR_PER_ROW:g} / the number of "
        f"rows for classes, {LR_PER_ROW_NUMBERS:g} / rows for numbers, as the loss sums over "
        "the rows: 0.001 for 150 rows of classes)",
    )
    command.add_argument(
        "--l2", type=option(NON_NEGATIVE), default=0.0, help="lambda of the Reg term lambda*sum w^2"
    )
    command.add_argument(
        "--init",
        choices=sorted(nn.INITIALIZERS),
        default="xavier",
        help="how the random initial weights are drawn",
    )
    command.add_argument(
        "--tol",
        type=option(NON_NEGATIVE),
        default=1e-4,
        help="stop once no weight changes by this much in an epoch (w_new ~= w_old); 0 never "
        "stops early",
    )
    command.add_argument(
        "--max-epochs", type=option(COUNT), default=1000, help="stop after this many epochs"
    )
    command.add_argument(
        "--seed", type=option(SEED), default=0, help="seed of the random initial weights"
    )
    command.add_argument(
        "--optimizer",
        choices=nn.OPTIMIZERS,
        default="gd",
        help="gd is the lecture notes' rule",
    )
    activations = nn.activation_names()  # the op table's, as it is when the parser is built
    command.add_argument("--activation", choices=activations, default="tanh", help="hidden layers")
    command.add_argument(
        "--output-activation",
        choices=("auto", *activations),
        default="auto",
        help="auto: tanh for classes (-1/+1), linear for numbers",
    )
    command.add_argument("--bias", action="store_true", help="give every neuron a bias b^k_j")
    kind = command.add_mutually_exclusive_group()
    kind.add_argument(
        "--classification",
        dest="task",
        action="store_const",
        const="classification",
        default="auto",
        help="the target holds class labels (without this or --regression: guessed; text "
        "and a few repeated whole numbers are labels)",
    )
    kind.add_argument(
        "--regression",
        dest="task",
        action="store_const",
        const="regression",
        help="fit the target's numbers, even whole numbers such as 0/1/2",
    )
    command.add_argument(
        "--no-standardize",
        dest="standardize",
        action="store_false",
        default=argparse.SUPPRESS,
        help="use the features, and a target of numbers, as they are instead of scaling "
        "each to mean 0, std 1",
    )


def add_predict_command(commands: Any) -> None:
    """``chainrule predict PARAMS.json DATA.csv``."""
    predict = commands.add_parser(
        "predict",
        help="apply a model trained by 'chainrule train' to new rows",
        description=(
            "Read a parameters.json written by 'chainrule train', standardise the rows "
            "of a CSV file with the training data's statistics, and print one prediction "
            "per row as CSV (a class label, or a number). If the file has the target "
            "column too, the accuracy (or the error) is reported on standard error."
        ),
    )
    predict.add_argument("parameters", help="the parameters.json written by chainrule train")
    predict.add_argument("csv", help="a CSV file with the same feature columns")
    predict.set_defaults(run=run_predict)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``chainrule`` command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings_as_lines(args.command):
            status: int = args.run(args)
    except viz.DotNotFoundError as error:
        print(
            f"chainrule {args.command}: error: this draws pictures with Graphviz's dot "
            f"program, which is not installed; install it ({error.command}) and try again",
            file=sys.stderr,
        )
        return 3
    except subprocess.CalledProcessError as error:  # dot ran and failed
        detail = (error.stderr or b"").decode(errors="replace").strip().splitlines()
        reason = detail[0] if detail else f"exit status {error.returncode}"
        print(f"chainrule {args.command}: error: Graphviz's dot failed: {reason}", file=sys.stderr)
        return 3
    except BrokenPipeError:  # the reader went away (chainrule explain ... | head)
        sys.stderr.close()  # nothing more can be said, and Python must not complain
        return 1
    except KeyboardInterrupt:
        print(f"chainrule {args.command}: interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError, nn.TrainingDiverged) as error:
        message = f"{error.filename}: {error.strerror}" if isinstance(error, OSError) else error
        if isinstance(error, OSError) and error.filename is None:
            message = str(error)
        print(f"chainrule {args.command}: error: {as_flags(str(message))}", file=sys.stderr)
        return 2 if not isinstance(error, nn.TrainingDiverged) else 1
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
