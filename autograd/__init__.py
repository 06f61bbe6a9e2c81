"""chainrule's scalar autograd engine.

A :class:`Value` records the operation that made it; :meth:`Value.backward` sums the
gradient over every path from the output to each node. The rules of differentiation live
in one table, :data:`autograd.ops.OPS`, apart from the machinery.

>>> from autograd import Value
>>> x = Value(3.0, label="x")
>>> h = x * x * x.tanh() + 1
>>> h.backward()
>>> round(x.grad, 4)
6.0591
"""

from autograd.compiled import Program, trace
from autograd.engine import (
    Value,
    as_float,
    gradient_edges,
    local_derivatives,
    no_grad,
    topological_order,
    zero_grad,
)
from autograd.functional import GradcheckError, grad, gradcheck
from autograd.ops import OPS, Op

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
    "zero_grad",
    "local_derivatives",
    "gradient_edges",
    "topological_order",
    "as_float",
    "OPS",
    "Op",
    "trace",
    "Program",
]
