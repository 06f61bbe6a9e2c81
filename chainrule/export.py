"""``chainrule export PARAMS.json --to torch OUT.pt``: a saved network, as a PyTorch module.

Reads a parameters file written by ``chainrule train`` (or ``nn.save_parameters``) and
writes the same network as a float64 ``torch.nn.Sequential`` (see ``nn.to_torch``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import nn

__all__ = ["add_export_command", "run_export", "EXPORT_FORMATS"]

EXPORT_FORMATS = ("torch",)


def run_export(args: argparse.Namespace) -> int:
    """Write the network of ``args.params`` to ``args.out`` in the format ``args.to``."""
    model = nn.load_model(args.params).model
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
    print("    import torch")
    print(f"    module = torch.load({str(args.out)!r}, weights_only=False)  # a whole module")
    print("Each Linear stores the notes' matrix w^k transposed: its weight[j-1, i-1] is w^k_ij.")
    return 0


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
