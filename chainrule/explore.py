"""``chainrule explore``: the live explorer page, for the demo's network or a teacher's data.

:func:`write_explorer` writes ``explorer.html`` for a network on the demo's Iris task (the
lecture notes' 4 -> 3 -> 2 -> 1 network, setosa against the others, standardised), with
the demo's learning rate and Reg, so that the page's numbers are the ones the demo
prints; ``chainrule explore --data CSV --target COLUMN`` does the same for a CSV file,
with the options of ``chainrule train``. :func:`add_explore_command` adds the command
to an argparse subparsers object.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nn
import viz
from chainrule.examples import (
    DEFAULT_OUT,
    DEMO_L2,
    DEMO_LAYERS,
    DEMO_LR,
    DEMO_MAX_EPOCHS,
    DEMO_SAMPLE,
    DEMO_SPECIES,
    DEMO_TOL,
)
from chainrule.options import option, out_folder
from nn.checks import SEED, between

__all__ = ["add_explore_command", "write_explorer"]

EXPLORER_FILE = "explorer.html"


def write_explorer(
    model: nn.MLP,
    out_dir: str | Path,
    *,
    sample: int = 0,
    eta: float = DEMO_LR,
    l2: float = DEMO_L2,
    tol: float = DEMO_TOL,
    epochs: int = DEMO_MAX_EPOCHS,
    title: str = "",
) -> Path:
    """Write ``out_dir``/explorer.html: ``model`` on the demo's Iris data (setosa against
    the others, standardised), showing Iris sample ``sample``; Train runs the demo's
    gradient descent on all 150 samples. ``model`` is not changed.
    """
    data = nn.iris_binary(DEMO_SPECIES)
    page = viz.explorer(
        model,
        data.X,
        data.y,
        sample=sample,
        eta=eta,
        l2=l2,
        tol=tol,
        epochs=epochs,
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
    if _architecture(model) != _architecture(demo):
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


def _trained_for(path: str | Path, network: nn.MLP, data: nn.Dataset, csv: str) -> nn.SavedModel:
    """The model of a parameters file, if it is ``network`` (the one ``chainrule train``
    builds on ``data`` with the same options) trained on such data.

    A file holding another network, or recording other features or classes than
    ``data``'s, is refused with what differs and what to do.
    """
    saved = nn.load_model(path)
    model = saved.model
    differences = []
    if saved.feature_names is not None and saved.feature_names != data.feature_names:
        differences.append(
            f"its features are {', '.join(saved.feature_names)}; {csv}'s are "
            f"{', '.join(data.feature_names)}"
        )
    if model.classes is not None:
        known = {str(c) for c in model.classes}
        new = [c for c in nn.class_labels(data.y) if str(c) not in known]
        if new:
            differences.append(
                f"it knows the classes {', '.join(map(str, model.classes))}, not "
                f"{', '.join(map(str, new))}"
            )
    if differences:  # no option mends other data: said before the network's options
        raise ValueError(f"{path} was not trained on data like {csv}: " + "; ".join(differences))
    if _architecture(model) != _architecture(network):
        raise ValueError(
            f"{path}: holds a {_network(model)}; {csv} with these options makes a "
            f"{_network(network)}. Give explore the options the file was trained with "
            "(--hidden, --bias, --activation, --output-activation)"
        )
    return saved


def _prepared_as_trained(
    saved: nn.SavedModel, run: Any
) -> tuple[nn.MLP, list[list[float]], list[Any], bool]:
    """The model, the rows, the targets and whether the features are standardised, as
    the file's model was trained on them: its own statistics where it records them (as
    ``chainrule predict`` applies them), else as ``run`` prepared them."""
    if saved.feature_names is None:  # the file does not say how: as the options say
        return saved.model, run.X, run.targets, run.standardization is not None
    X = saved.prepare(run.data.X)
    targets = run.data.y
    if saved.target_mean is not None and saved.target_std is not None:
        mean, std = saved.target_mean, saved.target_std
        targets = [(float(t) - mean) / std for t in targets]
    return saved.model, X, targets, saved.means is not None


def _architecture(model: nn.MLP) -> tuple[object, ...]:
    """What makes two networks the same network, their weights aside."""
    return (model.sizes, model.has_bias, model.activation, model.output_activation)


def _network(model: nn.MLP) -> str:
    sizes = " -> ".join(str(n) for n in model.sizes)
    biases = "with biases" if model.has_bias else "without biases"
    return f"{sizes} network ({biases}, {model.activation}, output {model.output_activation})"


def _close(a: list[float], b: list[float]) -> bool:
    return all(abs(x - y) <= 1e-9 * max(1.0, abs(y)) for x, y in zip(a, b, strict=True))


def _numbers(values: list[float]) -> str:
    return ", ".join(f"{v:.3g}" for v in values)


Prepare = Callable[[argparse.Namespace, str], Any]


def run_explore(args: argparse.Namespace, prepare: Prepare) -> int:
    """Write the page: for ``--data``, the network ``chainrule train`` would train on it
    (``prepare``: its preparation); otherwise the demo's network on Iris."""
    if args.optimizer != "gd":
        raise ValueError(
            f"--optimizer {args.optimizer}: the page trains by the lecture notes' gradient "
            "descent, w_new = w_old - eta * dL/dw (--optimizer gd)"
        )
    if (args.data is None) != (args.target is None):
        raise ValueError(
            "--data CSV and --target COLUMN go together: the file, and what to predict"
        )
    if args.data is None:
        return _explore_demo(args)
    run = prepare(args, args.data)
    rows = len(run.X)
    between(0, rows - 1).check(args.sample, "--sample")
    model, X, targets = run.model, run.X, run.targets
    standardised = run.standardization is not None
    if args.weights is not None:
        saved = _trained_for(args.weights, run.model, run.data, args.data)
        model, X, targets, standardised = _prepared_as_trained(saved, run)
    page = viz.explorer(
        model,
        X,
        targets,
        sample=args.sample,
        eta=run.lr,
        l2=0.0 if args.l2 is None else args.l2,
        tol=1e-4 if args.tol is None else args.tol,
        epochs=1000 if args.max_epochs is None else args.max_epochs,
        task=run.task,
        title=f"Backpropagation through L for row {args.sample} of {Path(args.data).name}"
        + (" (standardised)" if standardised else ""),
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = page.save(out / EXPLORER_FILE)
    scaled = "standardised features" if standardised else "features as given"
    weights = "" if args.weights is None else f" with the weights from {args.weights}"
    print(f"Wrote {path}: the {run.network} network{weights} on {rows} rows ({scaled}).")
    print("Open it in a browser (it needs no network and no server) to step through")
    print("backpropagation, change any number and watch it follow, and train.")
    return 0


def _explore_demo(args: argparse.Namespace) -> int:
    """The demo's page: the notes' network on Iris, initial weights or a trained file's."""
    DEMO_SAMPLE.check(args.sample, "--sample")
    model = nn.MLP(
        4,
        [*args.hidden, 1],
        bias=args.bias,
        activation=args.activation,
        output_activation="tanh" if args.output_activation == "auto" else args.output_activation,
        init=args.init,
        seed=args.seed,
    )
    weights = "initial weights, seed " + str(args.seed)
    if args.weights is not None:
        model = demo_model_from(args.weights)
        weights = f"weights from {args.weights}"
    title = f"Backpropagation through L for Iris sample {args.sample} ({weights})"
    path = write_explorer(
        model,
        args.out,
        sample=args.sample,
        eta=DEMO_LR if args.lr is None else args.lr,
        l2=DEMO_L2 if args.l2 is None else args.l2,
        tol=DEMO_TOL if args.tol is None else args.tol,
        epochs=DEMO_MAX_EPOCHS if args.max_epochs is None else args.max_epochs,
        title=title,
    )
    print(f"Wrote {path}  (open it in a browser: it needs no network and no server)")
    return 0


def add_explore_command(
    subparsers: Any,
    *,
    training_options: Callable[..., None],
    prepare: Prepare,
) -> None:
    """Add ``explore`` to an argparse subparsers object (``set_defaults(run=...)``).

    ``training_options(parser, target_required=False)`` adds the options of ``chainrule
    train``, which ``prepare(args, csv)`` reads into a network and its data.
    """
    command = subparsers.add_parser(
        "explore",
        help="write a live page: change any number and watch backpropagation follow",
        description=(
            "Write DIR/explorer.html: one self-contained page (open it in any browser, "
            "offline) that computes. Step through the forward and the backward pass, pick "
            "any Value for its paths, ledger and finite-difference check, edit the inputs, "
            "the target, any weight or eta and watch every number follow, and train by "
            "gradient descent with a loss curve. Without --data it shows the lecture "
            "notes' 4 -> 3 -> 2 -> 1 network on Iris (setosa against the others, "
            f"standardised) with the demo's settings (--lr {DEMO_LR:g} --l2 {DEMO_L2:g} "
            f"--tol {DEMO_TOL:g} --max-epochs {DEMO_MAX_EPOCHS}); with --data CSV --target "
            "COLUMN, the network 'chainrule train' would train on that file, with the "
            "same options."
        ),
    )
    command.add_argument(
        "--data", metavar="CSV", help="a CSV file with a header row (as for chainrule train)"
    )
    training_options(command, target_required=False)
    # Unset, these take the demo's settings, or train's without --data.
    command.set_defaults(l2=None, tol=None, max_epochs=None)
    command.add_argument(
        "--sample", type=option(SEED), default=0, help="the row the picture shows, from 0"
    )
    command.add_argument(
        "--weights",
        metavar="FILE",
        help="start from trained weights (parameters.json from 'chainrule train'): of the "
        "demo's network (trained on Iris, setosa against the others), or with --data of "
        "the network the same options make on that file",
    )
    command.add_argument(
        "--out", type=out_folder, default=DEFAULT_OUT, help="folder for explorer.html"
    )
    command.set_defaults(run=lambda args: run_explore(args, prepare))
