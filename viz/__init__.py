"""See backpropagation: Graphviz pictures and ledgers of the chain rule.

- :func:`draw_graph`: the operation graph, one edge per operand slot.
- :func:`draw_paths`: every path from the root to one Value, highlighted, with its ledger.
- :func:`draw_network`: an ``nn.MLP`` as the notes draw it, neurons ``O_kj`` and weights.
- :func:`explain`: a gradient as the sum over paths of products of local derivatives.
- :func:`to_text`: the operation graph as plain text for a terminal.
- :func:`backward_frames`: one picture per step of the backward pass; :func:`write_frames`,
  :func:`write_gif`.
- :func:`backward_steps`: the same steps as data (what each node sends, grads so far).
- :func:`explorer`: those steps, the paths and the update of each weight, as one web page.
- :func:`widget`: that page in a notebook, bound to the model in the kernel both ways.
- :func:`html_symbol`: a name such as ``w^1_11`` as HTML, with its sub- and superscripts.

Every ledger (text, LaTeX, Markdown, a picture's caption, the page's tables) is written by
:mod:`viz.ledger`; the lecture notes' names are read and written by :mod:`nn.notation`.

Builders never run ``dot``; ``.render()``/``.pipe()`` do, and without Graphviz they raise
:class:`DotNotFoundError` saying how to install it.

>>> from autograd import Value
>>> import viz
>>> x = Value(3.0, label="x"); h = x * x; h.label = "h"; h.backward()
>>> print(viz.explain(h, x))
dh/dx = dh/dx + dh/dx
      = 3 + 3
      = 6  (sum over 2 paths)
        6  from backward(): agrees
where
  dh/dx = x = 3
"""

from autograd import __version__ as __version__
from viz._labels import html_symbol
from viz._render import ChainGraph, DotNotFoundError, install_hint
from viz.explain import ChainRule, Path, explain
from viz.explorer import Explorer, explorer
from viz.frames import Frames, backward_frames, write_frames, write_gif
from viz.graph import draw_graph, draw_paths, to_text
from viz.network import draw_network
from viz.steps import BackwardStep, Contribution, Step, backward_steps
from viz.widget import widget

__all__ = [
    "BackwardStep",
    "Contribution",
    "ChainGraph",
    "ChainRule",
    "DotNotFoundError",
    "Explorer",
    "Frames",
    "Path",
    "Step",
    "backward_frames",
    "backward_steps",
    "draw_graph",
    "draw_network",
    "draw_paths",
    "explain",
    "explorer",
    "html_symbol",
    "install_hint",
    "to_text",
    "widget",
    "write_frames",
    "write_gif",
]
