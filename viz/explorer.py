"""``explorer``: a live web page in which a learner changes a number and watches the chain
rule follow.

One self-contained HTML file (Graphviz's SVG, CSS and plain JavaScript inline; no server,
no network) that computes: every value, gradient and local derivative, the ledgers, the
loss and gradient-descent training are recomputed in the page whenever the learner edits
an input ``x_i``, the target ``y``, a weight or ``eta``. Its calculus is the op table's:
the page's JavaScript for each op is generated from the op's row (:mod:`viz._js`), and one
small interpreter runs the traced program (:func:`autograd.trace`) forward and backward.
The tests drive the page in Chromium and compare every number with the engine's.

What the learner can do: step the forward pass and the backward pass (Previous/Next, the
arrow keys, Home, End), pick any Value (click it, or choose it in the list) to see its
grad as a sum over its edges, its local derivatives, its ledger, a finite-difference
check and its update ``w_new = w_old - eta * dL/dw``; try "Your turn", which hides a
factor of the ledger; and, for a network, Train: ``nn.train``'s gradient descent on the
embedded batch, with a loss curve, until ``w_new ~= w_old``.

Scripts read and drive it through ``window.chainrule`` (see the README):
``snapshot()`` gives ``{values, grads, loss}`` by label, ``set(label, number)`` edits a
number as its input does (``setNumbers({label: number, ...})`` several at once),
``train(epochs)`` trains, and ``addEventListener("change", ...)`` hears every change.
:func:`viz.widget` drives it so, in a notebook.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any, Literal

from autograd import Value, topological_order
from nn.checks import COUNT, NON_NEGATIVE, POSITIVE, between
from nn.evaluate import check_inputs, check_model, encode_targets
from nn.labels import output_range
from nn.losses import sse
from nn.model import MLP
from nn.notation import input_label, is_output_label, loss_label, output_label, target_label
from viz._drawing import FILL, FONT, GREY, check_size, node_kind, pin_notes_order
from viz._explorer_data import Batch, PageData, page_data
from viz._labels import counted, html_symbol, html_text, is_inline_constant, node_names, number
from viz._render import ChainGraph
from viz.steps import Level

__all__ = ["Explorer", "explorer"]

_FONT = 14  # points in the SVG; the page scales the picture to its box
_CHAR = 0.58  # a digit's width in em (Arial's are 0.556, its minus 0.584)
_ROW = _FONT + 4  # a fixed-size cell holds one line of text and its padding
_NUMBER_CHARS = 8  # "-0.01234": a value or grad at 4 digits (the page shortens longer ones)
_EDGE_CHARS = 10  # "x -0.01234": an edge's local derivative, or what it carries
_EDGE_FONT = _FONT - 3
_SCRIPT_ROOM = 2  # points of padding around a name, for its scripts (cells have 1)
_TOKEN = "#{}#"  # stands for a text the page fills in; becomes an element id
# Past this many drawn Values, the picture shows a network's layers, not its Values.
SUMMARY_NODES = 120


class Explorer:
    """The explorer page: ``.html`` (the whole document), ``.save(path)``, notebook display.

    Build it with :func:`explorer`. ``editable`` lists the labels of the numbers the
    learner can change, ``samples`` the rows of a network's batch (0 for an expression),
    ``batch`` a network's data, parameters and training settings as the page starts from
    them (None for an expression).
    """

    def __init__(
        self, page: str, editable: list[str], samples: int, batch: Batch | None = None
    ) -> None:
        self.html = page
        self.editable = editable
        self.samples = samples
        self.batch = batch

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path."""
        target = Path(path)
        target.write_text(self.html, encoding="utf-8")
        return target

    def _repr_html_(self) -> str:
        """The page in an iframe, so that its script and ids stay apart from the notebook's.

        In a single-quoted attribute only ``&`` and ``'`` need escaping, and the page
        writes few ``'`` (its HTML and JSON quote with ``"``): the stored notebook is an
        eighth lighter than in double quotes, and lighter still than with ``<`` and ``>``
        escaped too."""
        document = self.html.replace("&", "&amp;").replace("'", "&#39;")
        return (
            f"<iframe srcdoc='{document}' "
            'style="width:100%;height:820px;border:1px solid #d1d5db"></iframe>'
        )

    def __repr__(self) -> str:
        batch = f", {self.samples} samples" if self.samples else ""
        return f"<Explorer: {counted(len(self.editable), 'number')} to edit{batch}>"


def explorer(
    subject: Value | MLP,
    X: Any = None,
    y: Any = None,
    *,
    sample: int = 0,
    eta: float = 0.01,
    l2: float = 0.0,
    tol: float = 1e-4,
    epochs: int = 100,
    task: str = "auto",
    level: Level | Literal["auto"] = "auto",
    title: str = "",
    max_nodes: int | None = 200,
) -> Explorer:
    """A live page for a network on its data, or for any expression.

    ``explorer(model, X, y)`` shows the loss ``L = sum_j (y_j - yhat_j)^2`` of row
    ``sample`` of ``(X, y)`` (as given: no scaling) on an ``nn.MLP``, neuron by neuron,
    and trains on all rows exactly as ``nn.train(model, X, y, lr=eta, l2=l2, tol=tol,
    optimizer="gd")`` does: the objective ``sum_n (y_n - yhat_n)^2 + l2 * sum w^2``, one
    step ``w_new = w_old - eta * dL/dw`` per epoch, until no weight moves by ``tol``
    (``epochs`` is how many epochs Train runs at most; ``task`` reads ``y`` as in
    ``nn.train``). Weights that stop moving are called converged only as ``nn.train``
    would: saturated units, steps too small or a fit no better than the mean target are
    named with ``nn.train``'s advice. The page is built from the model's current weights;
    the model itself is not changed.

    ``explorer(root)`` shows a Value's graph, every labelled leaf editable:
    ``level="auto"`` works between neurons (``O_kj``) when the graph names them, between
    operations otherwise; ``max_nodes`` bounds the picture (None: no bound).

    >>> from autograd import Value
    >>> x = Value(3.0, label="x"); h = x * x * x.tanh() + 1; h.label = "h"
    >>> page = explorer(h)
    >>> page.editable, page.html.startswith("<!DOCTYPE html>")
    (['x'], True)
    """
    eta = POSITIVE.check(eta, "eta")
    if isinstance(subject, MLP):
        if X is None or y is None:
            raise TypeError("explorer: a model needs its data: explorer(model, X, y)")
        return _network_page(subject, X, y, sample, eta, l2, tol, epochs, task, title)
    if not isinstance(subject, Value):
        raise TypeError(
            f"explorer: expected an nn.MLP (with X and y) or a Value, got {type(subject).__name__}"
        )
    if X is not None or y is not None:
        raise TypeError("explorer: X and y go with a model, explorer(model, X, y), not a Value")
    return _expression_page(subject, eta, level, title, max_nodes)


def _expression_page(
    root: Value, eta: float, level: Level | Literal["auto"], title: str, max_nodes: int | None
) -> Explorer:
    if not root.requires_grad:
        raise ValueError("explorer: root is a constant (no gradient flows from it)")
    if level not in ("auto", "op", "neuron"):
        raise ValueError(f"explorer: level must be 'auto', 'op' or 'neuron', got {level!r}")
    order = topological_order(root)
    check_size(order, max_nodes)
    names = node_names(order)
    if level == "auto":
        level = "neuron" if any(is_output_label(names[n]) for n in order) else "op"
    leaves = [n for n in order if not n.parents and not is_inline_constant(n)]
    editable = [n for n in leaves if n.label]
    if not editable:
        raise ValueError(
            f"explorer: {names[root]} has no labelled leaf for the learner to change; "
            "give the inputs labels, as Value(3.0, label='x')"
        )
    data = page_data(root, leaves, level, editable, eta, None, templates=True)
    heading = title or f"Backpropagation through {names[root]}"
    return Explorer(_document(heading, data, root), [v.label for v in editable], 0)


def _network_page(
    model: MLP,
    X: Any,
    y: Any,
    sample: int,
    eta: float,
    l2: float,
    tol: float,
    epochs: int,
    task: str,
    title: str,
) -> Explorer:
    rows = check_inputs(check_model(model), X).tolist()
    targets, classes = encode_targets(model, y, len(rows), task)
    l2 = NON_NEGATIVE.check(l2, "l2")
    tol = NON_NEGATIVE.check(tol, "tol")
    epochs = COUNT.check(epochs, "epochs")
    sample = between(0, len(rows) - 1).check(sample, "sample")
    xs = [
        Value(v, label=input_label(i), requires_grad=False)
        for i, v in enumerate(rows[sample], start=1)
    ]
    several = len(targets[sample]) > 1
    ys = [
        Value(t, label=target_label(j if several else None), requires_grad=False)
        for j, t in enumerate(targets[sample], start=1)
    ]
    out = model(xs)
    loss = sse(out if isinstance(out, list) else [out], ys)
    loss.label = loss_label()
    params = model.parameters()
    meanings = () if classes is None else _meanings(classes, len(ys), model.output_activation)
    neurons = tuple(
        (output_label(k, j), tuple(neuron.parameters()))
        for k, layer in enumerate(model.layers, start=1)
        for j, neuron in enumerate(layer.neurons, start=1)
    )
    batch = Batch(
        rows, targets, xs, ys, params, sample, float(l2), float(tol), epochs, meanings, neurons
    )
    drawn = len(params) + sum(model.sizes) + len(ys) + 1
    summary = drawn > SUMMARY_NODES
    data = page_data(
        loss, [*params, *xs, *ys], "neuron", [*xs, *ys, *params], eta, batch, templates=not summary
    )
    heading = title or f"Backpropagation through L for row {sample} of {len(rows)}"
    page = _document(heading, data, loss, model if summary else None)
    return Explorer(page, [v.label for v in (*xs, *ys, *params)], len(rows), batch)


def _meanings(classes: tuple[Any, ...], outputs: int, activation: str) -> tuple[str, ...]:
    """What each target stands for: its class (one-hot), or one output's two ends."""
    if outputs > 1:
        return tuple(str(c) for c in classes)
    low, high = output_range(activation)
    return (f"{high:+g} {classes[1]}, {low:g} {classes[0]}",)


# --- the picture -----------------------------------------------------------------------


def _width(chars: int, size: float = _FONT) -> int:
    """Points needed for ``chars`` characters at ``size``."""
    return int(chars * _CHAR * size) + 10  # with the cell's padding


class _Picture:
    """The page's one SVG, laid out by Graphviz once: ids ``node_n<i>`` and ``edge_e<i>``,
    and an empty ``<text>`` for each number the page writes (``t_v``: value, ``t_g``:
    grad, ``t_s``: the sum where several edges meet, ``t_e``: an edge's label)."""

    def __init__(self, data: PageData, root: Value) -> None:
        self.data = data
        self.root = root
        self.level = data.data["level"]
        self.meets = {node: 0 for node in data.nodes}
        for edge in data.edges:
            self.meets[edge.parent] = self.meets.get(edge.parent, 0) + 1

    def svg(self) -> str:
        """Left to right or bottom up, whichever draws it larger in the page's box."""
        drawings = [self._layout(rankdir) for rankdir in ("LR", "BT")]
        return max(drawings, key=_scale)

    def _layout(self, rankdir: str) -> str:
        graph = ChainGraph(name="explorer")
        graph.attr(rankdir=rankdir, bgcolor="transparent", nodesep="0.05", ranksep="0.2")
        graph.attr("node", fontname=FONT, fontsize=str(_FONT))
        graph.attr("edge", fontname=FONT, fontsize=str(_EDGE_FONT), arrowsize="0.7")
        ids = self.data.ids
        names = self.data.names
        tokens: set[str] = set()
        for node in self.data.nodes:
            node_id = ids[node]
            if is_inline_constant(node):
                graph.node(node_id, label=f"<{number(node.data)}>", shape="plaintext")
                continue
            graph.node(
                node_id, id=f"node_{node_id}", label=self._label(node, tokens), shape="plain"
            )
            if self.level == "op" and node.parents:
                graph.node(
                    f"{node_id}op",
                    id=f"node_{node_id}op",
                    label=f"<{html_text(node.op)}>",
                    shape="circle",
                    style="filled",
                    fillcolor="#e5e7eb",
                    width="0.35",
                    margin="0.02",
                )
                graph.edge(f"{node_id}op", node_id, id=f"edge_{node_id}op")
        for a, b in self.data.links:
            graph.edge(a, b, style="dashed", color=GREY, dir="none", id=f"link_{a}_{b}")
        if self.level == "neuron":
            pin_notes_order(graph, {ids[node]: names[node] for node in self.data.nodes})
            for i, edge in enumerate(self.data.edges):
                graph.edge(ids[edge.parent], ids[edge.child], **self._edge(i, tokens))
        else:  # one edge per operand slot, constants' dashed as in draw_graph
            slots = {(e.child, e.slot): i for i, e in enumerate(self.data.edges)}
            for node in self.data.nodes:
                for slot, parent in enumerate(node.parents):
                    index = slots.get((node, slot))
                    attrs = {"style": "dashed"} if index is None else self._edge(index, tokens)
                    graph.edge(ids[parent], f"{ids[node]}op", **attrs)
        svg = graph.pipe(format="svg").decode("utf-8")
        return _fill_tokens(svg, tokens)

    def _cell(
        self, key: str, chars: int, tokens: set[str], size: int = _FONT, extra: str = ""
    ) -> str:
        tokens.add(key)
        return (
            f'<TD FIXEDSIZE="TRUE" WIDTH="{_width(chars, size)}" HEIGHT="{_ROW}" '
            f'ALIGN="LEFT"{extra}>{_TOKEN.format(key)}</TD>'
        )

    def _edge(self, i: int, tokens: set[str]) -> dict[str, str]:
        cell = self._cell(f"ee{i}", _EDGE_CHARS, tokens, _EDGE_FONT)
        return {
            "id": f"edge_e{i}",
            "label": f'<<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR>{cell}</TR></TABLE>>',
        }

    def _label(self, node: Value, tokens: set[str]) -> str:
        node_id = self.data.ids[node]
        kind = node_kind(node, self.root)
        name = html_symbol(self.data.names[node])
        title = f"<B>{name}</B>" if node.label else f'<FONT COLOR="#6b7280">{name}</FONT>'
        # The name's row has room above and below for its superscript and subscript.
        pad = f'ALIGN="LEFT" CELLPADDING="{_SCRIPT_ROOM}"'
        value = self._cell(f"v{node_id}", _NUMBER_CHARS + 2, tokens)  # "= " first
        rows = [f"<TR><TD {pad}>{title}</TD>{value}</TR>"]
        if node.requires_grad:
            grad = self._cell(f"g{node_id}", _NUMBER_CHARS, tokens)
            rows.append(f'<TR><TD ALIGN="LEFT">grad</TD>{grad}</TR>')
        if self.meets.get(node, 0) > 1:
            chars = 2 + (_NUMBER_CHARS + 3) * self.meets[node]
            span = ' COLSPAN="2" BGCOLOR="#ffedd5"'
            cell = self._cell(f"s{node_id}", chars, tokens, _EDGE_FONT, span)
            rows.append(f"<TR>{cell}</TR>")
        return (
            f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1" '
            f'BGCOLOR="{FILL[kind]}">' + "".join(rows) + "</TABLE>>"
        )


class _Summary:
    """A network too large to draw Value by Value: one box per layer, left to right, each
    with a line the page fills in (``t_l<k>``: the largest |w| and |dL/dw| of the layer)."""

    def __init__(self, model: MLP) -> None:
        self.model = model

    def svg(self) -> str:
        graph = ChainGraph(name="explorer")
        graph.attr(rankdir="LR", bgcolor="transparent", nodesep="0.3", ranksep="0.5")
        graph.attr("node", fontname=FONT, fontsize=str(_FONT), shape="plain")
        sizes = self.model.sizes
        tokens: set[str] = set()
        inputs = f"{html_symbol(input_label(1))} &#8230; {html_symbol(input_label(sizes[0]))}"
        graph.node(
            "layer0",
            id="node_layer0",
            label=self._box(
                f"<B>{inputs}</B>", [f"{sizes[0]} inputs"], None, FILL["const"], tokens
            ),
        )
        for k, layer in enumerate(self.model.layers, start=1):
            count = sum(len(n.parameters()) for n in layer.neurons)
            neurons = f"O<SUB>{k}j</SUB>: {len(layer.neurons)} neurons"
            lines = [
                f"{count:,} parameters w<SUP>{k}</SUP><SUB>ij</SUB>",
                f"activation {layer.neurons[0].activation}",
            ]
            graph.node(
                f"layer{k}",
                id=f"node_layer{k}",
                label=self._box(f"<B>{neurons}</B>", lines, f"l{k}", FILL["param"], tokens),
            )
            graph.edge(f"layer{k - 1}", f"layer{k}")
        graph.node(
            "loss",
            id="node_loss",
            label=self._box("<B>L</B>", [self._objective()], "lL", FILL["root"], tokens),
        )
        graph.edge(f"layer{len(sizes) - 1}", "loss")
        return _fill_tokens(graph.pipe(format="svg").decode("utf-8"), tokens)

    def _objective(self) -> str:
        """The batch's loss as the Train panel writes it, the sum over outputs j too
        when there are several."""
        j, over_j = ("j", "&#931;<SUB>j</SUB> ") if self.model.sizes[-1] > 1 else ("", "")
        return (
            f"&#931;<SUB>n</SUB> {over_j}(y<SUB>n{j}</SUB> &#8722; &#375;<SUB>n{j}</SUB>)"
            "<SUP>2</SUP> + &#955; &#931; w<SUP>2</SUP>"
        )

    def _box(
        self, head: str, lines: list[str], token: str | None, fill: str, tokens: set[str]
    ) -> str:
        rows = [f'<TR><TD ALIGN="LEFT">{head}</TD></TR>']
        rows += [f'<TR><TD ALIGN="LEFT">{line}</TD></TR>' for line in lines]
        if token is not None:
            tokens.add(token)
            rows.append(
                f'<TR><TD FIXEDSIZE="TRUE" WIDTH="{_width(26)}" HEIGHT="{_ROW + 8}" ALIGN="LEFT">'
                f"{_TOKEN.format(token)}</TD></TR>"
            )
        return (
            f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="4" BGCOLOR="{fill}">'
            + "".join(rows)
            + "</TABLE>>"
        )


_SVG_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')
_BOX_ASPECT = 1.8  # width over height of the picture's box on a 16:9 screen (measured)


def _scale(svg: str) -> float:
    """How large ``svg`` is drawn in a box of aspect :data:`_BOX_ASPECT` and height 1."""
    match = _SVG_SIZE.search(svg)
    if match is None:  # unreachable: Graphviz always writes the size in points
        raise RuntimeError("Graphviz wrote an SVG without its size")
    width, height = float(match.group(1)), float(match.group(2))
    return min(_BOX_ASPECT / width, 1 / height)


_TOKEN_TEXT = re.compile(r"<text ([^>]*)>#(ee|v|g|s|l)(n\d+|\d+|L)#</text>")
_TEXT_CLASS = {"v": "value", "g": "grad", "s": "sum", "ee": "sent", "l": "layer"}


def _fill_tokens(svg: str, tokens: set[str]) -> str:
    """Each token's ``<text>`` gets the id and class the script uses, and starts empty."""
    found: list[str] = []

    def fill(match: re.Match[str]) -> str:
        attrs, kind, which = match.groups()
        found.append(kind + which)
        return f'<text id="t_{kind}{which}" class="{_TEXT_CLASS[kind]}" {attrs}></text>'

    svg = _TOKEN_TEXT.sub(fill, svg)
    if sorted(found) != sorted(tokens):  # a label written like a token, such as "#gn1#"
        raise ValueError(
            "explorer: a label in the graph is written like the page's placeholders "
            "(# letters digits #, such as #gn1#); rename it"
        )
    return svg


# --- the document ------------------------------------------------------------------------


def _document(title: str, data: PageData, root: Value, summary: MLP | None = None) -> str:
    svg = _Summary(summary).svg() if summary is not None else _Picture(data, root).svg()
    page = data.data
    page["title"] = title
    page["summary"] = None if summary is None else _layer_slots(summary, page)
    # Nothing inside the script element can end it early: "</" is written "<\/" (the
    # same string in JSON) and "<!--" with an escaped "<".
    payload = json.dumps(page, separators=(",", ":"), allow_nan=False)
    payload = payload.replace("</", "<\\/").replace("<!--", "\\u003c!--")
    parts = {
        "title": html.escape(title),
        "svg": svg[svg.index("<svg") :],  # the XML prolog and doctype stay out of HTML
        "css": _CSS,
        "ops": data.ops_js.replace("</", "<\\/"),
        "engine": _ENGINE,
        "script": _SCRIPT,
        "data": payload,
    }
    # One pass over the template: text put in is never searched for placeholders again.
    return re.sub(r"\{(title|svg|css|ops|engine|script|data)\}", lambda m: parts[m[1]], _TEMPLATE)


def _layer_slots(model: MLP, page: dict[str, Any]) -> list[list[int]]:
    """For a summary picture: each layer's parameter slots (the page knows them in
    ``parameters()`` order, layer by layer)."""
    slots = page["batch"]["params"]
    groups = []
    start = 0
    for layer in model.layers:
        count = len(layer.parameters())
        groups.append(slots[start : start + count])
        start += count
    return groups


def _asset(name: str) -> str:
    return (Path(__file__).parent / "explorer_assets" / name).read_text(encoding="utf-8")


_TEMPLATE, _CSS, _ENGINE, _SCRIPT = (
    _asset(n) for n in ("explorer.html", "explorer.css", "engine.js", "explorer.js")
)
