"""``chainrule export PARAMS.json --to torch OUT.pt``: a saved network, as a PyTorch module.

Reads a parameters file written by ``chainrule train`` (or ``nn.save_parameters``) and
writes the same network as a float64 ``torch.nn.Sequential`` (see ``nn.to_torch``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import nn
from nn.labels import output_range

__all__ = ["add_export_command", "run_export", "EXPORT_FORMATS"]

EXPORT_FORMATS = ("torch",)


def run_export(args: argparse.Namespace) -> int:
    """Write the network of ``args.params`` to ``args.out`` in the format ``args.to``."""
    saved = nn.load_model(args.params)
    model = saved.model
    try:
        module = nn.to_torch(model)
    except ImportError as error:  # PyTorch is optional: a message, not a traceback
        print(f"chainrule export: error: {error}", file=sys.stderr)
        return 2
    import torch  # present: to_torch just imported it

    with open(args.out, "wb") as f:
        torch.save(module, f)
    sizes = " -> ".join(str(n) for n in model.sizes)
    print(f"Wrote {args.out}: the {sizes} network of {args.params} ", end="")
    print(f"({len(model.parameters())} parameters) as a float64 PyTorch module:")
    print(f"{module}\n")
    print("Load it in Python with")
    print(load_snippet(saved, str(args.params), str(args.out)))
    print(
        "Each Linear stores the lecture notes' matrix w^k transposed: its weight[j-1, i-1] "
        "is w^k_ij."
    )
    return 0


def load_snippet(saved: nn.SavedModel, params: str, out: str) -> str:
    """Python that loads the module, prepares its inputs as in training, reads its outputs.

    The module is the bare network: the standardisation and the classes stay in the
    parameters file, so the snippet names them.
    """
    model = saved.model
    columns = ", ".join(saved.feature_names) if saved.feature_names else f"{model.sizes[0]} values"
    lines = [
        "    import torch",
        f"    module = torch.load({out!r}, weights_only=False)  # a whole module",
        f"    x = torch.tensor(rows, dtype=torch.float64)  # rows of: {columns}",
    ]
    if saved.means is not None:
        lines += [
            "    # the inputs standardised as in training, with the means and stds of",
            f'    # {params} (its "standardization")',
            "    import json",
            f"    with open({params!r}) as f:",
            '        scaling = json.load(f)["standardization"]',
            "    means, stds = (torch.tensor(scaling[key], dtype=torch.float64)",
            '                   for key in ("means", "stds"))',
            "    x = (x - means) / stds",
        ]
    lines.append("    outputs = module(x)")
    classes = model.classes
    if classes is not None and len(classes) > 2:
        names = ", ".join(map(str, classes))
        lines.append(f"    # one output per class, in the order {names}; the largest wins:")
        lines.append(f"    classes = {list(classes)!r}")
        lines.append("    predicted = [classes[j] for j in outputs.argmax(dim=1).tolist()]")
    elif classes is not None:
        low, high = output_range(model.output_activation)
        lines.append(
            f"    # one output: above {(low + high) / 2:g} means {classes[1]!r}, "
            f"below {classes[0]!r}"
        )
    elif saved.target_mean is not None:
        lines += [
            f"    # the network predicts {saved.target_name or 'the target'} standardised as in "
            'training: scale it back with its "target_standardization"',
            f"    predicted = outputs * {saved.target_std!r} + {saved.target_mean!r}",
        ]
    else:
        lines.append(
            f"    # outputs: the predicted {saved.target_name or 'target'}, one column each"
        )
    return "\n".join(lines)


def add_export_command(commands: Any) -> None:
    """Add ``chainrule export`` to an argparse subparsers object."""
    export = commands.add_parser(
        "export",
        help="write a trained network (parameters.json) as a PyTorch module",
        description=(
            "Read a parameters file written by 'chainrule train' (or nn.save_parameters) "
            "and write the same network for another library. --to torch writes a float64 "
            "torch.nn.Sequential of Linear layers and activations with torch.save; it "
            "needs PyTorch installed."
        ),
    )
    export.add_argument("params", help="the parameters file, e.g. chainrule-out/parameters.json")
    export.add_argument(
        "--to", required=True, choices=EXPORT_FORMATS, help="the library to export to"
    )
    export.add_argument("out", help="the file to write, e.g. model.pt")
    export.set_defaults(run=run_export)
