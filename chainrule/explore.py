"""``chainrule explore``: the backpropagation explorer page for the demo's network.

:func:`write_explorer` writes ``explorer.html`` for the lecture notes' 4 -> 3 -> 2 -> 1
network on one Iris sample, with the batch gradient over all samples beside it;
:func:`add_explore_command` adds the command to an argparse subparsers object.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import nn
import viz
from chainrule.examples import DEFAULT_OUT, DEMO_LAYERS, DEMO_SPECIES, demo_sample_loss
from chainrule.options import out_folder

__all__ = ["add_explore_command", "write_explorer"]

EXPLORER_FILE = "explorer.html"


def write_explorer(
    model: nn.MLP, out_dir: str | Path, *, sample: int = 0, eta: float = 0.01, title: str = ""
) -> Path:
    """Write ``out_dir``/explorer.html: one Iris sample's loss on ``model``, step by step.

    The page's batch gradient is that of the loss summed over every Iris sample. No
    ``.grad`` of ``model`` changes.
    """
    data = nn.iris_binary(DEMO_SPECIES)
    loss = demo_sample_loss(model, sample)
    batch = nn.total_loss(model, data.X, data.y)
    page = viz.explorer(
        loss,
        weights=model.parameters(),
        batch=batch,
        batch_size=len(data),
        eta=eta,
        title=title or f"Backpropagation through L for Iris sample {sample}",
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return page.save(out / EXPLORER_FILE)


def demo_model_from(path: str | Path) -> nn.MLP:
    """The network of a parameters file, if it fits the demo's network and data.

    The page applies it to the demo's Iris data: the 4 features standardised with the
    Iris statistics, the output +1 for setosa and -1 for the others. A file recording
    other features, statistics or classes, or holding another network, is refused with
    what differs; what a file does not record cannot be checked.
    """
    saved = nn.load_model(path)
    model = saved.model
    demo = nn.MLP(4, list(DEMO_LAYERS))
    if (model.sizes, model.has_bias, model.activation, model.output_activation) != (
        demo.sizes,
        demo.has_bias,
        demo.activation,
        demo.output_activation,
    ):
        raise ValueError(
            f"{path}: holds a {_network(model)}; the explorer shows the lecture notes' "
            f"{_network(demo)}. Train such a network with 'chainrule train "
            "CSV --target COLUMN --hidden 3,2' on a target of two classes"
        )
    iris = nn.load_iris()
    _, means, stds = nn.standardize(iris.X)
    differences = []
    if saved.feature_names is not None and saved.feature_names != iris.feature_names:
        differences.append(
            f"its features are {', '.join(saved.feature_names)}, the demo's "
            f"{', '.join(iris.feature_names)}"
        )
    if saved.means is None and saved.feature_names is not None:
        differences.append("it takes the features as they are, the demo standardises them")
    elif (
        saved.means is not None
        and saved.stds is not None
        and not (_close(saved.means, means) and _close(saved.stds, stds))
    ):
        differences.append(
            "it was trained on features standardised with other statistics (means "
            f"{_numbers(saved.means)}, stds {_numbers(saved.stds)}) than the whole Iris "
            f"data's (means {_numbers(means)}, stds {_numbers(stds)})"
        )
    # Two classes sort low (-1) then high (+1): the high one must be setosa (or +1).
    if model.classes is not None and model.classes[1] not in (1, DEMO_SPECIES):
        differences.append(
            f"its output tells {model.classes[0]!r} (-1) from {model.classes[1]!r} (+1); "
            f"the demo's output is +1 for {DEMO_SPECIES} and -1 for the others"
        )
    if differences:
        raise ValueError(
            f"{path} does not fit the demo's Iris task ({DEMO_SPECIES} against the others): "
            + "; ".join(differences)
        )
    model.classes = None  # the page's targets are the demo's -1/+1 numbers
    return model


def _network(model: nn.MLP) -> str:
    sizes = " -> ".join(str(n) for n in model.sizes)
    biases = "with biases" if model.has_bias else "without biases"
    return f"{sizes} network ({biases}, {model.activation}, output {model.output_activation})"


def _close(a: list[float], b: list[float]) -> bool:
    return all(abs(x - y) <= 1e-9 * max(1.0, abs(y)) for x, y in zip(a, b, strict=True))


def _numbers(values: list[float]) -> str:
    return ", ".join(f"{v:.3g}" for v in values)


def run_explore(args: argparse.Namespace) -> int:
    """Write the explorer page for the demo's network, initial or loaded weights."""
    model = nn.MLP(4, list(DEMO_LAYERS), seed=args.seed)
    weights = "initial weights, seed " + str(args.seed)
    if args.weights is not None:
        model = demo_model_from(args.weights)
        weights = f"weights from {args.weights}"
    title = f"Backpropagation through L for Iris sample {args.sample} ({weights})"
    path = write_explorer(model, args.out, sample=args.sample, eta=args.eta, title=title)
    print(f"Wrote {path}  (open it in a browser: it needs no network and no server)")
    return 0


def add_explore_command(subparsers: Any, *, eta: float, positive_float: Any) -> None:
    """Add ``explore`` to an argparse subparsers object (``set_defaults(run=...)``).

    ``eta`` is the learning rate the page starts with; ``positive_float`` parses ``--eta``.
    """
    command = subparsers.add_parser(
        "explore",
        help="write an interactive page that steps through backpropagation",
        description=(
            "Write DIR/explorer.html: one self-contained page (open it in any browser, "
            "offline) that steps through the backward pass of the lecture notes' "
            "4 -> 3 -> 2 -> 1 network on one Iris sample, shows the chain-rule ledger and "
            "the paths of any weight you pick, and its gradient-descent update for this "
            "sample or the whole batch."
        ),
    )
    command.add_argument(
        "--out",
        type=out_folder,
        default=DEFAULT_OUT,
        help=f"folder for explorer.html (default: {DEFAULT_OUT})",
    )
    command.add_argument(
        "--sample", type=int, default=0, help="which Iris sample, 0 to 149 (default: 0)"
    )
    command.add_argument(
        "--seed", type=int, default=0, help="seed of the random initial weights (default: 0)"
    )
    command.add_argument(
        "--weights",
        metavar="FILE",
        help="the parameters of a trained model (parameters.json from 'chainrule train')",
    )
    command.add_argument(
        "--eta",
        type=positive_float,
        default=eta,
        help=f"the learning rate the page starts with (default: {eta:g}); editable there",
    )
    command.set_defaults(run=run_explore)
