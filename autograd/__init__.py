"""chainrule's scalar autograd engine.

A :class:`Value` records the operation that made it; :meth:`Value.backward` sums the
gradient over every path from the output to each node. The rules of differentiation live
in one table, :mod:`autograd.ops`, one row per op, apart from the machinery:

- ``ops.py``: the table (and how to add an op); ``functions.py``: what a row is
  (:func:`define_op`) and how its functions run on every kind of number;
- ``engine.py``: the Value node and ``backward``; ``sweep.py``: the reverse sweep itself,
  for any kind of number, with a hook per step; ``functional.py``: ``grad``, ``gradcheck``;
- the compiled path: ``trace.py`` flattens a graph into a program of slots, ``plan.py``
  decides how to run it over a batch, ``replay.py`` runs it.

>>> from autograd import Value
>>> x = Value(3.0, label="x")
>>> h = x * x * x.tanh() + 1
>>> h.backward()
>>> round(x.grad, 4)
6.0591
"""

from autograd.engine import (
    Value,
    apply_op,
    as_float,
    enable_grad,
    gradient_edges,
    local_derivatives,
    no_grad,
    topological_order,
    zero_grad,
)
from autograd.functional import GradcheckError, grad, gradcheck
from autograd.functions import OPS, Function, Op, define_op, op_named
from autograd.sweep import backpropagate, gradients
from autograd.trace import Instruction, Program, trace

# The one place the version is written: pyproject.toml reads it from here, and the
# other packages (nn, viz, chainrule) import it.
__version__ = "0.1.0"
"""The version of chainrule (``chainrule --version`` prints it)."""

__all__ = [
    "__version__",
    "Value",
    "grad",
    "gradcheck",
    "GradcheckError",
    "no_grad",
    "enable_grad",
    "zero_grad",
    "local_derivatives",
    "gradient_edges",
    "topological_order",
    "apply_op",
    "as_float",
    "backpropagate",
    "gradients",
    "OPS",
    "Op",
    "Function",
    "define_op",
    "op_named",
    "trace",
    "Program",
    "Instruction",
]
