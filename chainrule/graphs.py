"""The command line's pictures: ``chainrule draw`` / ``chainrule explain`` and the demo's graphs.

Kept apart from the argument parsing of ``chainrule.cli`` so each piece is testable:
:func:`write_demo_graphs` and :func:`demo_ledgers` take a model and a loss (see
:mod:`chainrule.examples`), :func:`add_graph_commands` adds the two commands to an
argparse subparsers object.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import nn
import viz
from autograd import Value
from chainrule.examples import (
    DEFAULT_OUT,
    DEMO_LAYERS,
    DEMO_SAMPLE,
    NOTES_WEIGHTS,
    demo_sample_loss,
    notes_example,
    sample_title,
)
from chainrule.explore import write_explorer
from chainrule.options import option, out_folder
from nn.checks import SEED
from nn.notation import file_stem

__all__ = ["add_graph_commands", "demo_ledgers", "write_demo_graphs"]


def _render_both(graph: viz.ChainGraph, stem: Path, render: bool = True) -> list[Path]:
    """Write ``stem``.svg and ``stem``.png, or with ``render=False`` the DOT source
    ``stem``.gv (which needs no ``dot``)."""
    if not render:
        source = stem.with_suffix(".gv")
        stem.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(graph.source, encoding="utf-8")
        return [source]
    rendered = {stem.with_suffix(f".{fmt}"): graph.pipe(format=fmt) for fmt in ("svg", "png")}
    stem.parent.mkdir(parents=True, exist_ok=True)  # only once there is something to write
    for target, data in rendered.items():
        target.write_bytes(data)
    return list(rendered)


def write_demo_graphs(
    model: nn.MLP, loss: Value, out_dir: str | Path, *, sample: int = 0, render: bool = True
) -> list[Path]:
    """The demo's pictures in ``out_dir``; returns every file written.

    ``loss`` should be sample ``sample``'s loss on ``model`` (see
    :func:`demo_sample_loss`), named in the network picture's title; its
    operation graph is drawn as ``graph_loss``, the network after ``loss.backward()``
    (run here, on freshly zeroed gradients) as ``network``, every path from the loss to
    ``w^1_11`` as ``paths_w1_11`` and, between neurons only, ``paths_w1_11_neuron`` (SVG
    and PNG each). The backward pass of the lecture notes' small example
    (:func:`notes_example`) goes step by step to ``backward_frames/frame_NN.png``; the
    loss's own backward pass, one neuron at a time, to
    ``backward_frames_neuron/frame_NN.png`` and, animated, to ``backward_neuron.gif``;
    the same pass, to step through in a browser, to ``explorer.html``. With
    ``render=False`` (no ``dot`` installed) each picture is written as its DOT source,
    ``.gv``, instead, and the GIF and the page (whose pictures ``dot`` lays out) are
    left out.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.zero_grad()
    loss.backward()
    weight = model.weight(1, 1, 1)
    paths = f"paths_{file_stem(weight.label)}"
    title = sample_title(loss, sample)
    written = _render_both(viz.draw_graph(loss), out / "graph_loss", render)
    written += _render_both(viz.draw_network(model, title=title), out / "network", render)
    written += _render_both(viz.draw_paths(loss, weight), out / paths, render)
    written += _render_both(
        viz.draw_paths(loss, weight, level="neuron"), out / f"{paths}_neuron", render
    )
    passes = {
        "backward_frames": viz.backward_frames(notes_example()),
        "backward_frames_neuron": viz.backward_frames(loss, level="neuron"),
    }
    if not render:
        for folder, frames in passes.items():
            (out / folder).mkdir(exist_ok=True)
            for i, frame in enumerate(frames):
                written += _render_both(frame, out / folder / f"frame_{i:02d}", render)
        return written
    for folder, frames in passes.items():
        written += viz.write_frames(frames, out / folder)
    written.append(viz.write_gif(passes["backward_frames_neuron"], out / "backward_neuron.gif"))
    written.append(write_explorer(model, out))
    return written


def demo_ledgers(model: nn.MLP, loss: Value) -> str:
    """The neuron-level ledgers of ``loss`` for the lecture notes' examples, w^3_11 to w^1_11."""
    return "\n\n".join(
        str(viz.explain(loss, model.weight(*kij), level="neuron")) for kij in NOTES_WEIGHTS
    )


def _weight_index(text: str) -> tuple[int, int, int]:
    """``"w^1_11"`` or ``"w^1_{10,3}"`` -> (k, i, j), or the parser's error."""
    try:
        return nn.parse_weight_label(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _setup(args: argparse.Namespace) -> tuple[nn.MLP, Value, Value]:
    model = nn.MLP(4, list(DEMO_LAYERS), seed=args.seed)
    loss = demo_sample_loss(model, args.sample)
    try:
        weight = model.weight(*args.weight)
    except ValueError as error:  # name the weight as the user wrote it
        sizes = " -> ".join(str(n) for n in model.sizes)
        raise ValueError(
            f"{nn.weight_label(*args.weight)} is not a weight of the demo's {sizes} "
            f"network: {error}"
        ) from None
    return model, loss, weight


def run_explain(args: argparse.Namespace) -> int:
    """Print the ledger for one weight of the demo's network on one sample."""
    _, loss, weight = _setup(args)
    rule = viz.explain(loss, weight, level=args.level)
    print(rule.to_markdown() if args.markdown else rule)
    return 0 if rule.agrees else 1


def run_draw(args: argparse.Namespace) -> int:
    """Write the highlighted paths (and the network) for one weight as SVG and PNG."""
    model, loss, weight = _setup(args)
    model.zero_grad()
    loss.backward()
    out = Path(args.out)
    name = file_stem(weight.label)
    written = _render_both(viz.draw_paths(loss, weight), out / f"paths_{name}")
    title = sample_title(loss, args.sample)
    written += _render_both(viz.draw_network(model, title=title), out / "network")
    for path in written:
        print(f"Wrote {path}")
    return 0


def add_graph_commands(subparsers: Any) -> None:
    """Add ``draw`` and ``explain`` to an argparse subparsers object (``set_defaults(run=...)``)."""
    for name, run, summary in (
        ("explain", run_explain, "print the chain-rule ledger for one weight"),
        (
            "draw",
            run_draw,
            "draw every path from the loss to one weight, and the network, as SVG and PNG",
        ),
    ):
        command = subparsers.add_parser(
            name,
            help=summary,
            description=(
                f"{summary[0].upper()}{summary[1:]}, in the demo's 4 -> 3 -> 2 -> 1 network "
                "on one Iris sample, "
                "e.g. 'chainrule " + name + " w^1_11'."
            ),
        )
        command.add_argument("weight", type=_weight_index, help="a weight such as w^1_11")
        command.add_argument(
            "--seed", type=option(SEED), default=0, help="seed of the initial weights"
        )
        command.add_argument(
            "--sample", type=option(DEMO_SAMPLE), default=0,
            help="which Iris sample, counted from 0 (the first row of the data is sample 0)",
        )  # fmt: skip
        if name == "explain":
            command.add_argument(
                "--level",
                choices=("neuron", "op"),
                default="neuron",
                help="paths between neurons O_kj (the lecture notes' view) or between operations",
            )
            command.add_argument("--markdown", action="store_true", help="LaTeX/Markdown form")
        else:
            command.add_argument(
                "--out", type=out_folder, default=DEFAULT_OUT, help="folder for the pictures"
            )
        command.set_defaults(run=run)
