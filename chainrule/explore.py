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
from chainrule.graphs import DEFAULT_OUT, DEMO_LAYERS, DEMO_SPECIES, demo_sample_loss

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


def run_explore(args: argparse.Namespace) -> int:
    """Write the explorer page for the demo's network, initial or loaded weights."""
    model = nn.MLP(4, list(DEMO_LAYERS), seed=args.seed)
    weights = "initial weights, seed " + str(args.seed)
    if args.weights is not None:
        nn.load_parameters(model, args.weights)
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
        "--out", default=DEFAULT_OUT, help=f"folder for explorer.html (default: {DEFAULT_OUT})"
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
