"""See and teach backpropagation on the notes' 4 -> 3 -> 2 -> 1 network.

chainrule demo                    the teaching demo on the built-in Iris data
chainrule demo --task digits      a 64-16-10 network learns handwritten digits
chainrule train CSV --target COL  the same for your own data
chainrule predict PARAMS CSV      apply a trained model to new rows
chainrule explain w^1_11          dL/dw as a sum over paths, in the notes' notation
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import nn
import viz
from autograd import Value, __version__
from chainrule.digits import draw_digits
from chainrule.examples import (
    DEFAULT_OUT,
    DEMO_LAYERS,
    DEMO_SPECIES,
    NOTES_WEIGHTS,
    demo_sample_loss,
)
from chainrule.explore import add_explore_command
from chainrule.export import add_export_command
from chainrule.graphs import add_graph_commands, demo_ledgers, write_demo_graphs
from chainrule.worksheets.commands import add_worksheet_commands
from nn.labels import output_range

# The demo's training settings, measured: on Iris (setosa vs the others, standardised)
# the notes' network converges (largest weight change < tol) in about 300 epochs to 100%
# accuracy.
DEMO_LR = 0.01
DEMO_L2 = 1e-3
DEMO_TOL = 3e-4
DEMO_MAX_EPOCHS = 3000


# --- the demo's steps; each is small so more (graph images, ledgers) slot in between ---


def print_architecture(model: nn.MLP, data: nn.Dataset) -> None:
    """What is being trained, on what, in the notes' words."""
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
    """One forward and backward pass over the data; dL/dw for the notes' worked examples.

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
    print(f"One forward pass over the {len(X)} samples: L = {loss.data:.6f}")
    print("One backward pass (the chain rule, summed over every path):")
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

# The library's messages name Python arguments (lr=0.001); what the command line prints
# names its flags (--lr 0.001). This table and as_flags are the one place that maps them.
ARGUMENT_FLAGS = {
    "lr": "--lr",
    "l2": "--l2",
    "tol": "--tol",
    "max_epochs": "--max-epochs",
    "optimizer": "--optimizer",
    "bias": "--bias",
    "init": "--init",
    "seed": "--seed",
}
_ARGUMENT = re.compile(rf"\b({'|'.join(ARGUMENT_FLAGS)})=('[^']*'|[-+\w.]*\w)")


def as_flags(message: str) -> str:
    """A library message in the command line's terms: ``lr=0.1`` becomes ``--lr 0.1``.

    >>> as_flags("try lr=0.001 or optimizer='adam' with bias=True (max_epochs=50)")
    'try --lr 0.001 or --optimizer adam with --bias (--max-epochs 50)'
    """

    def flag(match: re.Match[str]) -> str:
        name, value = ARGUMENT_FLAGS[match.group(1)], match.group(2).strip("'")
        return name if value == "True" else f"{name} {value}"

    return _ARGUMENT.sub(flag, message)


# Initialisers whose weights are already small (variance about 1 / fan): suggesting one
# of them for saturated units, when one is in use, would be no advice.
SMALL_INITS = ("xavier", "glorot", "xavier_uniform", "xavier_normal", "lecun", "lecun_uniform",
               "lecun_normal", "zeros")  # fmt: skip


def train_advice(history: nn.History, args: argparse.Namespace, lr: float) -> str:
    """What ``chainrule train`` suggests after ``history`` stopped without converging.

    In flags, with values to try, and never what is already in use.
    """
    reason = history.stop_reason
    if reason == "oscillating":
        return f"try a smaller --lr, e.g. --lr {lr / 10:g}; more epochs will not help"
    if reason == "max_epochs":
        adam = "" if args.optimizer == "adam" else ", or --optimizer adam"
        return (
            f"allow more epochs (e.g. --max-epochs {2 * args.max_epochs}), or try a larger "
            f"--lr (e.g. --lr {2 * lr:g}){adam}"
        )
    if reason == "saturated":
        init = "" if args.init in SMALL_INITS else ", or --init xavier (smaller initial weights)"
        return f"try a smaller --lr, e.g. --lr {lr / 10:g}{init}"
    if reason == "steps_too_small":
        return (
            f"try a larger --lr (e.g. --lr {10 * lr:g}) or a smaller --tol "
            f"(e.g. --tol {args.tol / 10:g})"
        )
    tries = [] if args.bias else ["--bias"]
    return "try " + ", ".join(
        [*tries, "more hidden neurons (--hidden)", "another --init or --seed"]
    )


def report_accuracy(
    model: nn.MLP, X: list[list[float]], y: Sequence[object], what: str = "samples"
) -> float:
    """The share of samples the model gets right (labels, or the sign of -1/+1 targets)."""
    acc = nn.accuracy(model, X, y)
    print(f"  accuracy: {acc:.1%} ({round(acc * len(X))} of {len(X)} {what})\n")
    return acc


def loss_figure(history: nn.History, title: str, batch_size: int | None = None) -> Figure:
    """The loss per epoch, on a log scale (matplotlib's Agg canvas: no display needed).

    With mini-batches of ``batch_size`` an epoch's loss is the sum of its batch losses
    (see ``nn.History.losses``), and the axis says so.
    """
    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(range(1, history.epochs + 1), history.losses, color="tab:blue")
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    if batch_size is None:
        axes.set_ylabel("L = sum (y - yhat)^2 + Reg")
    else:
        axes.set_ylabel(f"sum of the epoch's losses on batches of {batch_size}")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    return figure


def plot_loss_curve(
    history: nn.History, path: Path, title: str, batch_size: int | None = None
) -> Path:
    """:func:`loss_figure` as a PNG at ``path``."""
    loss_figure(history, title, batch_size).savefig(path, format="png")
    return path


def _out_dir(out: str) -> Path:
    """The folder ``--out`` names, created if need be; a file there is an error, at once."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out {out}: this is a file, not a folder; name a folder to write to")
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_demo(args: argparse.Namespace) -> int:
    """The teaching demo on the built-in Iris task (or, with --task digits, the digits)."""
    if args.task == "digits":
        return run_digits_demo(args)
    out = _out_dir(args.out)
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
    curve = plot_loss_curve(history, out / "loss.png", "The lecture notes' 4-3-2-1 network on Iris")
    print(f"Wrote {curve}")
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
    out = _out_dir(args.out)
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
            out / "digits-misclassified.png",
            f"{len(shown)} of the {len(wrong)} held-out digits the network got wrong",
        )
        print(f"Wrote {picture}")
    curve = plot_loss_curve(
        history, out / "digits-loss.png", f"The {sizes} network on digits", DIGITS_BATCH_SIZE
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
    shown = ", ".join(str(c) for c in classes[:10]) + (", ..." if len(classes) > 10 else "")
    low, high = output_range("tanh" if output_activation == "auto" else output_activation)
    print(f"Target {name!r}: {len(classes)} classes ({shown}): classification, ", end="")
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
# species did. A regression target with a linear output is stiffer (sepal length from
# the rest, with --bias: oscillating at 0.001, best at 0.0002); there the oscillation
# report advises the smaller lr.
LR_PER_ROW = 0.15


def default_lr(rows: int) -> float:
    """The learning rate ``chainrule train`` uses without ``--lr``: LR_PER_ROW / rows.

    >>> default_lr(150)
    0.001
    """
    return LR_PER_ROW / rows


def run_train(args: argparse.Namespace) -> int:
    """Train an MLP on the user's CSV file."""
    data = nn.load_csv(args.csv, target=args.target)
    standardization = None
    X = data.X
    if getattr(args, "standardize", True):
        X, means, stds = nn.standardize(data.X)
        standardization = (means, stds)
    print(f"{args.csv}: {len(data)} rows, features {', '.join(data.feature_names)}")
    task, classes = choose_task(data, args.task, args.output_activation)
    out = _out_dir(args.out)  # before training: a bad --out must not cost a training run
    output_activation = args.output_activation
    if output_activation == "auto":
        numeric = task == "regression" and not all(-1.0 <= t <= 1.0 for t in data.y)
        output_activation = "linear" if numeric else "tanh"
    model = nn.MLP(
        len(data.feature_names),
        [*args.hidden, 1 if len(classes) <= 2 else len(classes)],
        bias=args.bias,
        activation=args.activation,
        output_activation=output_activation,
        init=args.init,
        seed=args.seed,
    )
    sizes = " -> ".join(str(n) for n in model.sizes)
    print(f"Network {sizes}, {len(model.parameters())} parameters, activation ", end="")
    print(f"{model.activation}, output {output_activation}, init {args.init}")
    lr = args.lr
    if lr is None:
        lr = default_lr(len(data))
        print(f"Learning rate --lr {lr:g}: the default for {len(data)} rows ", end="")
        print(f"({LR_PER_ROW:g} / rows, as the loss sums over the rows)")
    print()
    history = fit(
        model,
        X,
        data.y,
        lr=lr,
        l2=args.l2,
        tol=args.tol,
        max_epochs=args.max_epochs,
        optimizer=args.optimizer,
        task=task,
    )
    if not history.converged:
        print(f"  what to try: {train_advice(history, args, lr)}")
    if task == "classification":
        accuracy = report_accuracy(model, X, data.y)
        if accuracy < 0.95 and not args.bias:
            print("  (the network has no biases; --bias lets each neuron shift its threshold)\n")
    else:
        report_regression(model, X, data.y, args.bias)
    nn.save_parameters(
        model,
        out / "parameters.json",
        feature_names=data.feature_names,
        target_name=data.target_name,
        standardization=standardization,
    )
    curve = plot_loss_curve(history, out / "loss.png", f"{Path(args.csv).name}: {sizes}")
    print(f"Wrote {out / 'parameters.json'} and {curve}")
    print(f"Predict on new rows with: chainrule predict {out / 'parameters.json'} NEW.csv")
    return 0


def rmse(predictions: Sequence[float], targets: Sequence[float]) -> float:
    """The root mean squared error of ``predictions`` against ``targets``.

    >>> rmse([1.0, 3.0], [2.0, 2.0])
    1.0
    """
    return math.sqrt(math.fsum((p - t) ** 2 for p, t in zip(predictions, targets, strict=True))
                     / len(targets))  # fmt: skip


def report_regression(model: nn.MLP, X: list[list[float]], y: Sequence[float], bias: bool) -> None:
    """The training RMSE beside that of predicting the mean target for every row."""
    targets = [float(t) for t in y]
    mean = math.fsum(targets) / len(targets)
    fitted = rmse(nn.predict(model, X), targets)
    baseline = rmse([mean] * len(targets), targets)
    print(
        f"  training RMSE: {fitted:.4g} (predicting the mean, {mean:.4g}, for every row: ", end=""
    )
    print(f"{baseline:.4g})")
    if fitted >= baseline:
        print("  the network predicts worse than the mean: it has not learnt this data")
    if not bias and abs(mean) >= 0.1 * baseline:
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
    X = saved.prepare(data.X)
    predictions = nn.predict(model, X)
    name = f"predicted_{saved.target_name or 'y'}"
    width = model.sizes[-1] if model.classes is None and model.sizes[-1] > 1 else 1
    print(name if width == 1 else ",".join(f"{name}_{j}" for j in range(1, width + 1)))
    for p in predictions:
        print(",".join(map(str, p)) if isinstance(p, list) else p)
    if target is not None and model.classes is not None:
        report_predicted_classes(predictions, data, model.classes, args.csv)
    elif target is not None and width == 1:
        error = rmse(predictions, [float(t) for t in data.y])
        print(f"{len(X)} rows; root mean squared error against {target!r}: {error:.4g}",
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
        shown = "; ".join(unknown[:5]) + ("; ..." if len(unknown) > 5 else "")
        print(
            f"{csv}: {len(unknown)} row(s) of column {data.target_name!r} hold a label the "
            f"model was not trained on (its classes: {', '.join(map(str, classes))}), left "
            f"out of the accuracy: {shown}",
            file=sys.stderr,
        )


# --- argument parsing --------------------------------------------------------------------


def _layer_sizes(text: str) -> list[int]:
    """``"3,2"`` -> [3, 2]; ``""`` -> [] (no hidden layer)."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes such as 3,2, got {text!r}"
        ) from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be at least 1, got {text!r}")
    return sizes


def _positive_float(text: str) -> float:
    value = _non_negative_float(text)
    if value == 0.0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0.0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


class _DefaultsOfValues(argparse.ArgumentDefaultsHelpFormatter):
    """Shows the default of options that take a value; a flag is simply off by default."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.nargs == 0 or action.default is None:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``chainrule`` and its commands."""
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="the teaching demo: the notes' 20-weight MLP trained on Iris",
        description=(
            "Build the notes' 4 -> 3 -> 2 -> 1 network (20 weights w^k_ij), show its "
            "weights, check dL/dw for w^3_11, w^2_11, w^2_21 and w^1_11 against finite "
            "differences, print the chain rule path by path for one sample, draw the "
            "op graph, the network and the paths to w^1_11 (SVG and PNG), train it by "
            "gradient descent on Iris (setosa vs the others) until the weights stop "
            "changing, and plot the loss curve."
        ),
    )
    demo.add_argument(
        "--out", default=DEFAULT_OUT, help=f"folder for the pictures (default: {DEFAULT_OUT})"
    )
    demo.add_argument(
        "--seed", type=int, default=0, help="seed of the random initial weights (default: 0)"
    )
    demo.add_argument(
        "--task",
        choices=("iris", "digits"),
        default="iris",
        help="iris (default): the notes' 4-3-2-1 network on Iris, gradients and pictures; "
        "digits: a 64-16-10 network on 8x8 handwritten digits, tested on a held-out fifth",
    )
    demo.add_argument(
        "--max-epochs",
        type=_positive_int,
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
        formatter_class=_DefaultsOfValues,
    )
    train.add_argument(
        "csv",
        help="the CSV file: a header row, then one row per sample; the features are numbers, "
        "the target numbers or class labels",
    )
    train.add_argument(
        "--target",
        required=True,
        default=argparse.SUPPRESS,
        help="name of the column to predict: numbers, or class labels (text or whole "
        "numbers); required",
    )
    train.add_argument(
        "--hidden",
        type=_layer_sizes,
        default="3,2",
        help="hidden layer sizes, comma-separated ('' for none); the output layer has 1 "
        "neuron (K for K > 2 classes)",
    )
    train.add_argument(
        "--lr",
        type=_positive_float,
        default=None,
        help=f"learning rate eta in w - eta * dL/dw (default: {LR_PER_ROW:g} / the number of "
        "rows, as the loss sums over the rows: 0.001 for 150 rows)",
    )
    train.add_argument(
        "--l2", type=_non_negative_float, default=0.0, help="lambda of the Reg term lambda*sum w^2"
    )
    train.add_argument(
        "--init",
        choices=sorted(nn.INITIALIZERS),
        default="xavier",
        help="how the random initial weights are drawn",
    )
    train.add_argument(
        "--tol",
        type=_non_negative_float,
        default=1e-4,
        help="stop once no weight changes by more than this in an epoch (w_new ~= w_old)",
    )
    train.add_argument(
        "--max-epochs", type=_positive_int, default=1000, help="stop after this many epochs"
    )
    train.add_argument("--seed", type=int, default=0, help="seed of the random initial weights")
    train.add_argument(
        "--optimizer", choices=nn.OPTIMIZERS, default="gd", help="gd is the notes' rule"
    )
    train.add_argument("--activation", choices=nn.ACTIVATIONS, default="tanh", help="hidden layers")
    train.add_argument(
        "--output-activation",
        choices=("auto", *nn.ACTIVATIONS),
        default="auto",
        help="auto: tanh for classes (-1/+1) and for numbers in [-1, 1], else linear",
    )
    train.add_argument("--bias", action="store_true", help="give every neuron a bias b^k_j")
    kind = train.add_mutually_exclusive_group()
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
    train.add_argument(
        "--no-standardize",
        dest="standardize",
        action="store_false",
        default=argparse.SUPPRESS,
        help="use the features as they are instead of scaling each to mean 0, std 1",
    )
    train.add_argument("--out", default=DEFAULT_OUT, help="folder for parameters.json and loss.png")
    train.set_defaults(run=run_train)
    add_predict_command(commands)
    add_graph_commands(commands)
    add_explore_command(commands, eta=DEMO_LR, positive_float=_positive_float)
    add_export_command(commands)
    add_worksheet_commands(commands, positive_int=_positive_int)
    return parser


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
