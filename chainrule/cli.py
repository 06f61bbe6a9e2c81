"""See and teach backpropagation on the seed's 4 -> 3 -> 2 -> 1 network.

chainrule demo                    the teaching demo on the built-in Iris data
chainrule train CSV --target COL  the same for your own data
chainrule explain w^1_11          dL/dw as a sum over paths, in the seed's notation
chainrule draw w^1_11             the graphs behind that sum, as SVG and PNG
chainrule explore                 an interactive page that steps through backpropagation
chainrule export PARAMS.json --to torch OUT.pt
                                  a trained network, as a PyTorch module
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import nn
import viz
from autograd import Value, __version__
from chainrule.explore import add_explore_command
from chainrule.export import add_export_command
from chainrule.graphs import (
    DEFAULT_OUT,
    DEMO_LAYERS,
    DEMO_SPECIES,
    SEED_WEIGHTS,
    add_graph_commands,
    demo_ledgers,
    demo_sample_loss,
    write_demo_graphs,
)

# The demo's training settings, measured: on Iris (setosa vs the others, standardised)
# the seed's network converges (largest weight change < tol) in about 300 epochs to 100%
# accuracy.
DEMO_LR = 0.01
DEMO_L2 = 1e-3
DEMO_TOL = 3e-4
DEMO_MAX_EPOCHS = 3000


# --- the demo's steps; each is small so more (graph images, ledgers) slot in between ---


def print_architecture(model: nn.MLP, data: nn.Dataset) -> None:
    """What is being trained, on what, in the seed's words."""
    sizes = " -> ".join(str(n) for n in model.sizes)
    print(f"The seed's network: {sizes}, activation {model.activation}, ", end="")
    print(f"{len(model.parameters())} weights w^k_ij, biases: {model.has_bias}")
    print(f"Data: Iris, {len(data)} samples, features {', '.join(data.feature_names)}")
    print(f"      (standardised); target: {data.target_name}")
    print("Loss: L = sum_n (y_n - yhat_n)^2 + Reg,  Reg = lambda * sum (w^k_ij)^2\n")


def print_weights(model: nn.MLP, title: str) -> None:
    """Every weight by its seed name, one line per neuron i of the layer below."""
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


def check_seed_gradients(
    model: nn.MLP, X: list[list[float]], y: list[float], l2: float
) -> tuple[Value, bool]:
    """One forward and backward pass over the data; dL/dw for the seed's example weights.

    Each is compared with central finite differences (computed first, so the model's
    outputs are those of the returned graph). Returns the loss Value ``L`` and whether
    every check agreed.
    """
    numeric = {
        kij: nn.numerical_gradient(model, X, y, model.weight(*kij), l2=l2) for kij in SEED_WEIGHTS
    }
    loss = nn.total_loss(model, X, y, l2=l2)
    model.zero_grad()
    loss.backward()
    print(f"One forward pass over the {len(X)} samples: L = {loss.data:.6f}")
    print("One backward pass (the chain rule, summed over every path):")
    print(f"  {'':<14}{'backprop':>16}{'finite diff.':>16}{'rel. error':>12}")
    all_agree = True
    for kij in SEED_WEIGHTS:
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
) -> nn.History:
    """Gradient descent w_new = w_old - lr * dL/dw until w_new ~= w_old, with a progress bar."""
    print(f"Training: w_new = w_old - {lr:g} * dL/dw until max |w_new - w_old| < {tol:g} ", end="")
    print(f"(at most {max_epochs} epochs, lambda = {l2:g}, optimizer {optimizer})")
    sys.stdout.flush()
    start = time.perf_counter()
    history = nn.train(
        model, X, y, lr=lr, l2=l2, tol=tol, max_epochs=max_epochs, optimizer=optimizer
    )
    seconds = time.perf_counter() - start
    state = "converged" if history.converged else "stopped at max-epochs (not converged)"
    epochs = f"{history.epochs} epoch{'' if history.epochs == 1 else 's'}"
    print(f"  {state} after {epochs} in {seconds:.1f} s ({history.engine} engine)")
    print(f"  final loss L = {history.final_loss:.6f}")
    return history


def report_accuracy(model: nn.MLP, X: list[list[float]], y: list[float]) -> float:
    """The share of samples whose output has the sign of the -1/+1 target."""
    acc = nn.accuracy(model, X, y)
    print(f"  accuracy: {acc:.1%} ({round(acc * len(X))} of {len(X)} samples)\n")
    return acc


def plot_loss_curve(history: nn.History, path: Path, title: str) -> Path:
    """The loss per epoch as a PNG (matplotlib's Agg canvas: no display needed)."""
    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(range(1, history.epochs + 1), history.losses, color="tab:blue")
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("L = sum (y - yhat)^2 + Reg")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path


def _out_dir(out: str) -> Path:
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_demo(args: argparse.Namespace) -> int:
    """The teaching demo on the built-in Iris task."""
    out = _out_dir(args.out)
    data = nn.iris_binary(DEMO_SPECIES)
    model = nn.MLP(4, list(DEMO_LAYERS), seed=args.seed)
    print_architecture(model, data)
    print_weights(model, f"Initial weights (Xavier/Glorot uniform, seed {args.seed}):")
    _, gradients_agree = check_seed_gradients(model, data.X, data.y, DEMO_L2)
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
        model, data.X, data.y, lr=DEMO_LR, l2=DEMO_L2, tol=DEMO_TOL, max_epochs=DEMO_MAX_EPOCHS
    )
    report_accuracy(model, data.X, data.y)
    print_weights(model, "Trained weights:")
    curve = plot_loss_curve(history, out / "loss.png", "The seed's 4-3-2-1 network on Iris")
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


def run_train(args: argparse.Namespace) -> int:
    """Train an MLP on the user's CSV file."""
    data = nn.load_csv(args.csv, target=args.target)
    X = nn.standardize(data.X)[0] if getattr(args, "standardize", True) else data.X
    y = data.y
    output_activation = args.output_activation
    if output_activation == "auto":
        output_activation = "tanh" if all(-1.0 <= t <= 1.0 for t in y) else "linear"
    model = nn.MLP(
        len(data.feature_names),
        [*args.hidden, 1],
        bias=args.bias,
        activation=args.activation,
        output_activation=output_activation,
        init=args.init,
        seed=args.seed,
    )
    sizes = " -> ".join(str(n) for n in model.sizes)
    print(f"{args.csv}: {len(data)} rows, features {', '.join(data.feature_names)}; ", end="")
    print(f"target {data.target_name}")
    print(f"Network {sizes}, {len(model.parameters())} parameters, activation ", end="")
    print(f"{model.activation}, output {output_activation}, init {args.init}\n")
    history = fit(
        model,
        X,
        y,
        lr=args.lr,
        l2=args.l2,
        tol=args.tol,
        max_epochs=args.max_epochs,
        optimizer=args.optimizer,
    )
    if all(t in (-1.0, 1.0) for t in y):
        accuracy = report_accuracy(model, X, y)
        if accuracy < 0.95 and not args.bias:
            print("  (the network has no biases; --bias lets each neuron shift its threshold)\n")
    out = _out_dir(args.out)
    nn.save_parameters(model, out / "parameters.json")
    curve = plot_loss_curve(history, out / "loss.png", f"{Path(args.csv).name}: {sizes}")
    print(f"Wrote {out / 'parameters.json'} and {curve}")
    return 0


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
        help="the teaching demo: the seed's 20-weight MLP trained on Iris",
        description=(
            "Build the seed's 4 -> 3 -> 2 -> 1 network (20 weights w^k_ij), show its "
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
    demo.set_defaults(run=run_demo)

    train = commands.add_parser(
        "train",
        help="train an MLP on your own CSV file",
        description=(
            "Train an MLP on a numeric CSV file with a header row. One column is the "
            "target, every other column an input feature. Writes parameters.json and "
            "loss.png into --out."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument("csv", help="the CSV file: a header row, then numbers only")
    train.add_argument(
        "--target",
        required=True,
        default=argparse.SUPPRESS,
        help="name of the column to predict (-1/+1 for classes); required",
    )
    train.add_argument(
        "--hidden",
        type=_layer_sizes,
        default="3,2",
        help="hidden layer sizes, comma-separated ('' for none); the output layer has 1 neuron",
    )
    train.add_argument(
        "--lr", type=_positive_float, default=0.01, help="learning rate eta in w - eta * dL/dw"
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
        "--optimizer", choices=nn.OPTIMIZERS, default="gd", help="gd is the seed's rule"
    )
    train.add_argument("--activation", choices=nn.ACTIVATIONS, default="tanh", help="hidden layers")
    train.add_argument(
        "--output-activation",
        choices=("auto", *nn.ACTIVATIONS),
        default="auto",
        help="auto: tanh if every target is in [-1, 1], else linear",
    )
    train.add_argument("--bias", action="store_true", help="give every neuron a bias b^k_j")
    train.add_argument(
        "--no-standardize",
        dest="standardize",
        action="store_false",
        default=argparse.SUPPRESS,
        help="use the features as they are instead of scaling each to mean 0, std 1",
    )
    train.add_argument("--out", default=DEFAULT_OUT, help="folder for parameters.json and loss.png")
    train.set_defaults(run=run_train)
    add_graph_commands(commands)
    add_explore_command(commands, eta=DEMO_LR, positive_float=_positive_float)
    add_export_command(commands)
    return parser


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
        print(f"chainrule {args.command}: error: {message}", file=sys.stderr)
        return 2 if not isinstance(error, nn.TrainingDiverged) else 1
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
