"""``explorer``: the backward pass as one self-contained web page, step by step.

The page holds one SVG laid out by Graphviz, its CSS and a little plain JavaScript; no
external file, no server. Every number in it is computed here, by the engine, and
embedded as JSON: the script only switches between states (classes and texts) that this
module prepared. The one exception is the update ``w_new = w_old - eta * dL/dw``, which
the page recomputes when the learner edits ``eta``.

Views: the backward sweep (Previous/Next, the arrow keys, Home, End), one state per step
of :func:`viz.backward_steps`; and a picked weight (click it, or choose it in the list): its paths
from the root light up, with the ledger of :func:`viz.explain` and its update.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any, Literal

from autograd import Value, topological_order
from nn.notation import is_output_label
from viz import ledger
from viz._drawing import FILL, check_size, node_kind, pin_notes_order
from viz._labels import (
    browser_html,
    html_symbol,
    html_text,
    is_inline_constant,
    node_formula,
    node_names,
    number,
)
from viz._render import ChainGraph
from viz.explain import backward_gradients, explain
from viz.steps import BackwardStep, Level, Step, backward_steps

__all__ = ["Explorer", "explorer"]

_FONT = 14  # points in the SVG; the page scales the picture to its width
_CHAR = 0.62  # a digit's width in em, a little over Helvetica's so that no text overflows
_ROW = _FONT + 4  # a fixed-size cell holds one line of text and its padding
_LEDGER_WRAP = 60  # characters per line of the page's ledger: it sits beside its "where"
_SCRIPT_ROOM = 2  # points of padding around a name, for its scripts (cells have 1)
_TOKEN = "#{}#"  # stands for a text the page fills in; becomes an element id


class Explorer:
    """The explorer page: ``.html`` (the whole document), ``.save(path)``, notebook display.

    Build it with :func:`explorer`.
    """

    def __init__(self, page: str, steps: int, weights: list[str]) -> None:
        self.html = page
        self.steps = steps
        self.weights = weights

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path."""
        target = Path(path)
        target.write_text(self.html, encoding="utf-8")
        return target

    def _repr_html_(self) -> str:
        """The page in an iframe, so that its script and ids stay apart from the notebook's."""
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            'style="width:100%;height:820px;border:1px solid #d1d5db"></iframe>'
        )

    def __repr__(self) -> str:
        return (
            f"<Explorer: {self.steps} steps, {len(self.weights)} weights, {len(self.html)} bytes>"
        )


def _width(chars: int, size: float = _FONT) -> int:
    """Points needed for ``chars`` characters at ``size``."""
    return int(chars * _CHAR * size) + 14  # with the cell's padding


def _bracketed(text: str) -> str:
    """A negative number in brackets, as a factor after a times sign."""
    return f"({text})" if text.startswith("-") else text


def _sum_text(step: BackwardStep, node: Value) -> str:
    """``= a + b + ?``: the contributions that arrived, a ``?`` for each still to come."""
    arrived = [number(c.value) for c in step.received[node]]
    return "= " + " + ".join(arrived + ["?"] * len(step.to_come[node]))


def explorer(
    root: Value,
    *,
    level: Level | Literal["auto"] = "auto",
    weights: list[Value] | None = None,
    batch: Value | None = None,
    batch_size: int | None = None,
    eta: float = 0.01,
    title: str = "",
    max_nodes: int | None = 200,
) -> Explorer:
    """An interactive page that steps through ``root.backward()`` and explains each weight.

    ``level="auto"`` works between neurons (``L``, ``O_kj``, ``w^k_ij``) when the graph
    has neuron outputs named as in the lecture notes, between operations otherwise.
    ``weights`` are the Values the learner can pick (default: every labelled leaf that
    needs a gradient). ``batch``, a loss over several samples built from the same
    weights (``batch_size`` of them), adds the batch gradient beside this one's.
    ``eta`` is the learning rate the page starts with. No ``.grad`` is changed.

    >>> from autograd import Value
    >>> x = Value(3.0, label="x"); h = x * x * x.tanh() + 1; h.label = "h"
    >>> page = explorer(h)
    >>> page.steps, page.weights, page.html.startswith("<!DOCTYPE html>")
    (4, ['x'], True)
    """
    if not isinstance(root, Value):
        raise TypeError(f"explorer: root must be a Value, got {type(root).__name__}")
    if not root.requires_grad:
        raise ValueError("explorer: root is a constant (no gradient flows from it)")
    if level not in ("auto", "op", "neuron"):
        raise ValueError(f"explorer: level must be 'auto', 'op' or 'neuron', got {level!r}")
    if isinstance(eta, bool) or not isinstance(eta, int | float) or not eta > 0:
        raise ValueError(f"explorer: eta must be a positive number, got {eta!r}")
    order = topological_order(root)
    check_size(order, max_nodes)
    names = node_names(order)
    if level == "auto":
        level = "neuron" if any(is_output_label(names[n]) for n in order) else "op"
    if weights is None:
        weights = [n for n in order if n.label and not n.parents and n.requires_grad]
    for w in weights:
        if not isinstance(w, Value) or w not in names:
            label = w.label if isinstance(w, Value) else repr(w)
            raise ValueError(f"explorer: weight {label} is not part of the graph of {names[root]}")
    if not weights:
        raise ValueError(f"explorer: no labelled leaf of {names[root]} to pick; pass weights=")
    batch_grads = _batch_gradients(batch, batch_size, weights)
    steps = backward_steps(root, level)
    page = _Page(root, names, level, steps)
    picks = [
        page.pick(w, None if batch_grads is None else batch_grads[i]) for i, w in enumerate(weights)
    ]
    data = {
        "root": names[root],
        "rootHtml": page._html(root),
        "names": {page.ids[node]: names[node] for node in page.nodes},
        "steps": page.states,
        "weights": picks,
        "eta": eta,
        "batchSize": batch_size,
    }
    svg = page.svg()
    document = _document(title or f"Backpropagation through {names[root]}", svg, data, picks)
    return Explorer(document, len(steps) - 1, [p["label"] for p in picks])


def _batch_gradients(
    batch: Value | None, batch_size: int | None, weights: list[Value]
) -> list[float] | None:
    """dBatch/dw for each weight, by ``batch.backward()`` (every ``.grad`` restored)."""
    if batch is None:
        if batch_size is not None:
            raise ValueError("explorer: batch_size is given without a batch loss")
        return None
    if not isinstance(batch, Value):
        raise TypeError(f"explorer: batch must be a Value, got {type(batch).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"explorer: batch_size must be a positive int, got {batch_size!r}")
    order = topological_order(batch)
    inside = set(order)
    for w in weights:
        if w not in inside:
            raise ValueError(f"explorer: weight {w.label} is not part of the batch loss")
    return backward_gradients(batch, weights)


class _Page:
    """The page's graph and its states, with element ids ``n<i>`` (nodes), ``e<i>`` (edges)."""

    def __init__(
        self, root: Value, names: dict[Value, str], level: Level, steps: list[BackwardStep]
    ) -> None:
        self.root = root
        self.names = names
        self.level = level
        self.steps = steps
        first = steps[0]
        self.edges: list[Step] = [e for node in first.nodes for e in first.edges.get(node, [])]
        # At the neuron level only Values on gradient edges are drawn: constants such as
        # the inputs x_i have none there.
        self.nodes = [n for n in first.nodes if level == "op" or n is root or first.to_come[n]]
        self.ids = {node: f"n{i}" for i, node in enumerate(self.nodes)}
        # explain's steps find their edge by (child, parent, slot)
        self.edge_ids = {(e.child, e.parent, e.slot): f"e{i}" for i, e in enumerate(self.edges)}
        # the step in which each node sends its grad down its edges
        self.sent_at = {step.node: step.index for step in steps if step.node is not None}
        self.states = [self.state(step) for step in steps]

    # --- states ------------------------------------------------------------------------
    def state(self, step: BackwardStep) -> dict[str, Any]:
        """One step as JSON: texts and classes per node and edge, and the caption."""
        first = self.steps[0]
        nodes: dict[str, list[str]] = {}
        for node in self.nodes:
            if not node.requires_grad:
                continue
            grad = step.grads[node]
            complete = step.complete(node)
            state = "unseen" if grad is None else "done" if complete else "partial"
            if node is step.node:
                state += " current"
            text = [state, "?" if grad is None else number(grad) + ("" if complete else " so far")]
            if len(first.to_come[node]) > 1:
                text.append(_sum_text(step, node))
            nodes[self.ids[node]] = text
        sent = {self.edge_ids[c.edge.child, c.edge.parent, c.edge.slot]: c for c in step.sent}
        edges: dict[str, list[str]] = {}
        for i, edge in enumerate(self.edges):
            edge_id = f"e{i}"
            sent_at = self.sent_at.get(edge.child, len(self.steps))
            if edge_id in sent:
                c = sent[edge_id]
                edges[edge_id] = ["sending", number(c.value)]
            elif sent_at < step.index:
                carried = (step.grads[edge.child] or 0.0) * edge.derivative
                edges[edge_id] = ["carried", number(carried)]
            else:
                edges[edge_id] = ["waiting", ""]
        return {
            "processed": None if step.node is None else self.ids[step.node],
            "caption": self.caption(step),
            "nodes": nodes,
            "edges": edges,
        }

    def caption(self, step: BackwardStep) -> dict[str, Any]:
        """What the step does, in words (HTML), and a row per edge: to, grad x derivative,
        sent."""
        root = self._html(self.root)
        last = len(self.steps) - 1
        if step.node is None:
            return {
                "head": f"backward() starts from d{root}/d{root} = 1. Every other grad is "
                f"still unknown (?). Next or \u2192 runs the backward pass, {last} steps.",
                "sender": None,
                "rows": [],
            }
        name = self._html(step.node)
        grad = number(step.grads[step.node] or 0.0)
        how = ""
        if self.level == "op":
            how = " = " + browser_html(node_formula(step.node, self.names, html_symbol))
        head = (
            f"{name}{how} is complete: d{root}/d{name} = {grad}. It sends its grad times the "
            "local derivative down each edge (below)."
        )
        if step.index == last:
            head += " (the last step: every grad is now complete)"
        rows = [
            [
                self._html(c.edge.parent),
                f"{number(c.grad)} \u00d7 {_bracketed(number(c.edge.derivative))}",
                number(c.value),
            ]
            for c in step.sent
        ]
        return {"head": head, "sender": name, "rows": rows}

    def _html(self, node: Value) -> str:
        """``node``'s name as browser HTML, with real sub- and superscripts."""
        return browser_html(html_symbol(self.names[node]))

    # --- a picked weight -------------------------------------------------------------------
    def pick(self, w: Value, batch_grad: float | None) -> dict[str, Any]:
        """A weight as JSON: its paths, its ledger, its gradients for the update."""
        rule = explain(self.root, w, level=self.level)
        on_path = {node for path in rule.paths for node in path.nodes}
        steps = {(s.child, s.parent, s.slot): s for path in rule.paths for s in path.steps}
        # The ledger as the pictures' captions write it (real sub- and superscripts, in
        # aligned columns): the sum over paths, and its "where" block to put beside it.
        written = ledger.browser(rule, skip_ones=self.level == "op", width=_LEDGER_WRAP)
        pick: dict[str, Any] = {
            "label": w.label or self.names[w],
            "id": self.ids[w],
            "labelHtml": self._html(w),
            "ledger": str(rule),  # the same ledger as plain text
            "ledgerHtml": written.sum_html,
            "whereHtml": written.where_html,
            "ledgerLines": max(written.sum_rows + 1, written.where_rows),  # + 1: its title
            "paths": len(rule.paths),
            "nodes": sorted(self.ids[n] for n in on_path if n in self.ids),
            "edges": {self.edge_ids[key]: number(s.derivative) for key, s in steps.items()},
            "old": w.data,
            "oldText": number(w.data, 6),
            "grad": rule.grad,
            "gradText": number(rule.grad, 6),
        }
        if batch_grad is not None:
            pick["batch"] = batch_grad
            pick["batchText"] = number(batch_grad, 6)
        return pick

    # --- the picture ---------------------------------------------------------------------
    def svg(self) -> str:
        """The one SVG of every state, laid out left to right or bottom up, whichever
        draws it larger in the page's picture box; its texts are left to the script."""
        widths = self._text_widths()
        drawings = [self._layout(rankdir, widths) for rankdir in ("LR", "BT")]
        return max(drawings, key=_scale)

    def _layout(self, rankdir: str, widths: dict[str, int]) -> str:
        graph = ChainGraph(name="explorer")
        graph.attr(rankdir=rankdir, bgcolor="transparent", nodesep="0.06", ranksep="0.3")
        graph.attr("node", fontname="Helvetica", fontsize=str(_FONT))
        graph.attr("edge", fontname="Helvetica", fontsize=str(_FONT - 2), arrowsize="0.7")
        for node in self.nodes:
            node_id = self.ids[node]
            if is_inline_constant(node):
                graph.node(node_id, label=f"<{number(node.data)}>", shape="plaintext")
                continue
            graph.node(
                node_id,
                id=f"node_{node_id}",
                label=self._label(node, widths),
                shape="plain",
                **({"class": "pick"} if not node.parents and node.requires_grad else {}),
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
        if self.level == "neuron":
            pin_notes_order(graph, {self.ids[node]: self.names[node] for node in self.nodes})
            for i, edge in enumerate(self.edges):
                graph.edge(self.ids[edge.parent], self.ids[edge.child], **self._edge(i, widths))
        else:  # one edge per operand slot, constants' dashed as in draw_graph
            slots = {(e.child, e.slot): i for i, e in enumerate(self.edges)}
            for node in self.nodes:
                for slot, parent in enumerate(node.parents):
                    index = slots.get((node, slot))
                    attrs = {"style": "dashed"} if index is None else self._edge(index, widths)
                    graph.edge(self.ids[parent], f"{self.ids[node]}op", **attrs)
        svg = graph.pipe(format="svg").decode("utf-8")
        return _fill_tokens(svg, set(widths))

    def _edge(self, i: int, widths: dict[str, int]) -> dict[str, str]:
        cell = (
            f'<TD FIXEDSIZE="TRUE" WIDTH="{widths[f"e{i}"]}" HEIGHT="{_FONT + 4}" '
            f'ALIGN="LEFT">{_TOKEN.format(f"e{i}")}</TD>'
        )
        return {
            "id": f"edge_e{i}",
            "label": f'<<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR>{cell}</TR></TABLE>>',
        }

    def _text_widths(self) -> dict[str, int]:
        """For every text the page switches, the width of its longest version."""
        longest: dict[str, int] = {}
        for state in self.states:
            for node_id, (_, grad, *sums) in state["nodes"].items():
                longest[f"g{node_id}"] = max(longest.get(f"g{node_id}", 1), len(grad))
                if sums:
                    longest[f"s{node_id}"] = max(longest.get(f"s{node_id}", 1), len(sums[0]))
            for edge_id, (_, text) in state["edges"].items():
                longest[edge_id] = max(longest.get(edge_id, 1), len(text))
        # The cell must also hold its token, which Graphviz measures in the text's place
        # (and measures wider than a browser draws digits).
        return {
            key: _width(
                max(n, round(1.3 * len(_TOKEN.format(key)))), _FONT - 2 if key[0] == "e" else _FONT
            )
            for key, n in longest.items()
        }

    def _label(self, node: Value, widths: dict[str, int]) -> str:
        node_id = self.ids[node]
        kind = node_kind(node, self.root)
        name = html_symbol(self.names[node])
        title = f"<B>{name}</B>" if node.label else f'<FONT COLOR="#6b7280">{name}</FONT>'
        # Two rows, "name = data" and "grad ...", each no taller than its text: compact,
        # as the picture must fit a screen, and the network's twelve weights stand in a
        # column as tall as the picture.
        # The name's row has room above and below for its superscript and subscript,
        # which viz._svg.readable_svg raises and lowers: clear of the border and
        # of the grad row.
        pad = f'ALIGN="LEFT" CELLPADDING="{_SCRIPT_ROOM}"'
        rows = [f"<TR><TD {pad}>{title}</TD><TD {pad}>= {number(node.data)}</TD></TR>"]
        if node.requires_grad:
            cell = (
                f'<TD FIXEDSIZE="TRUE" WIDTH="{widths[f"g{node_id}"]}" HEIGHT="{_ROW}" '
                f'ALIGN="LEFT">{_TOKEN.format(f"g{node_id}")}</TD>'
            )
            rows.append(f'<TR><TD ALIGN="LEFT">grad</TD>{cell}</TR>')
        if len(self.steps[0].to_come[node]) > 1:
            width = max(widths[f"s{node_id}"], widths[f"g{node_id}"] + _width(4))
            rows.append(
                f'<TR><TD COLSPAN="2" FIXEDSIZE="TRUE" WIDTH="{width}" HEIGHT="{_ROW}" '
                f'ALIGN="LEFT" BGCOLOR="#ffedd5">{_TOKEN.format(f"s{node_id}")}</TD></TR>'
            )
        return (
            f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1" '
            f'BGCOLOR="{FILL[kind]}">' + "".join(rows) + "</TABLE>>"
        )


_SVG_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')
_BOX_ASPECT = 2.0  # width over height of the picture's box on a 16:9 screen (measured)


def _scale(svg: str) -> float:
    """How large ``svg`` is drawn in a box of aspect :data:`_BOX_ASPECT` and height 1."""
    match = _SVG_SIZE.search(svg)
    if match is None:  # unreachable: Graphviz always writes the size in points
        raise RuntimeError("Graphviz wrote an SVG without its size")
    width, height = float(match.group(1)), float(match.group(2))
    return min(_BOX_ASPECT / width, 1 / height)


_TOKEN_TEXT = re.compile(r"<text ([^>]*)>#([gse])(n?\d+)#</text>")
_TEXT_CLASS = {"g": "grad", "s": "sum", "e": "sent"}


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


def _document(title: str, svg: str, data: dict[str, Any], picks: list[dict[str, Any]]) -> str:
    options = "".join(
        f'<option value="{i}">{html.escape(p["label"])}</option>' for i, p in enumerate(picks)
    )
    # No "<" inside the script element, so no label can end it early.
    payload = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    parts = {
        "title": html.escape(title),
        "options": options,
        "svg": svg[svg.index("<svg") :],  # the XML prolog and doctype stay out of HTML
        "css": _CSS,
        "script": _SCRIPT,
        "data": payload,
    }
    # One pass over the template: text put in is never searched for placeholders again.
    return re.sub(r"\{(title|options|svg|css|script|data)\}", lambda m: parts[m[1]], _TEMPLATE)


def _asset(name: str) -> str:
    return (Path(__file__).parent / "explorer_assets" / name).read_text(encoding="utf-8")


_TEMPLATE, _CSS, _SCRIPT = (_asset(n) for n in ("explorer.html", "explorer.css", "explorer.js"))
