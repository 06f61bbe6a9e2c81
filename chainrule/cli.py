"""The ``chainrule`` command: ``chainrule demo`` is the README's main job."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from autograd import Value


def _engine_demo() -> int:
    """The seed's rule dh/dx = dh/dF * dF/dx + dh/dg * dg/dx on a live graph."""
    x = Value(3.0, label="x")
    F = x * x
    g = x.tanh()
    h = F * g + 1
    h.backward()
    by_paths = g.data * (2 * x.data) + F.data * (1 - math.tanh(x.data) ** 2)
    print("x = 3;  F = x*x;  g = tanh(x);  h = F*g + 1")
    print(f"backward():                        dh/dx = {x.grad:.12f}")
    print(f"dh/dF * dF/dx + dh/dg * dg/dx       = {by_paths:.12f}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``chainrule`` command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="chainrule", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="the teaching demo on the built-in data")
    parser.parse_args(argv)
    return _engine_demo()
