"""viz.widget, the kernel's side, without a browser: the traits start as the model and its
page; a change sent as the page sends it reaches the model's Values and the widget's copy
of the data, or is refused whole; a change made in Python reaches the traits and the
messages to the page. (The page's side runs in Chromium: test_widget_browser.py.)"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets import TraitError
from widget_comm import Comms, from_page, recording

import nn
import viz
from autograd import Value

ROOT = Path(__file__).resolve().parent.parent
X = [[0.5, -1.0], [1.0, 2.0], [-0.5, 0.25], [2.0, -0.75]]
Y = [0.5, -0.5, 1.0, 0.0]
# What the page may set, and so what a refused message must leave as it was.
PUBLIC = ("weights", "row", "sample", "eta", "l2", "tol", "epochs")


@pytest.fixture
def comms() -> Iterator[Comms]:
    with recording() as recorded:
        yield recorded


@pytest.fixture
def model() -> nn.MLP:
    return nn.MLP(2, [2, 1], bias=True, seed=1)


@pytest.fixture
def widget(comms: Comms, model: nn.MLP, dot: str) -> Any:
    made = viz.widget(model, X, Y, sample=1, eta=0.05, l2=0.01, tol=1e-3, epochs=40)
    comms.updates()  # what opening it sent
    return made


def state(widget: Any) -> dict[str, Any]:
    return {key: getattr(widget, key) for key in PUBLIC}


def data(model: nn.MLP) -> list[float]:
    return [p.data for p in model.parameters()]


def test_the_traits_start_as_the_model_and_its_page(widget: Any, model: nn.MLP) -> None:
    assert widget.weights == data(model)
    assert widget._labels == [label for label, _ in model.named_parameters()]
    assert widget._row_labels == ["x_1", "x_2", "y"] and widget.row == [1.0, 2.0, -0.5]
    assert (widget.sample, widget.eta, widget.l2, widget.tol, widget.epochs) == (
        1, 0.05, 0.01, 1e-3, 40,
    )  # fmt: skip
    assert widget.error == "" and widget.model is model
    assert widget._page == viz.explorer(model, X, Y, sample=1, eta=0.05, l2=0.01, tol=1e-3,
                                        epochs=40).html  # fmt: skip
    np.testing.assert_array_equal(widget.X, X)
    np.testing.assert_array_equal(widget.Y, [[t] for t in Y])


def test_an_edit_in_the_page_sets_the_weights_data(
    widget: Any, model: nn.MLP, comms: Comms
) -> None:
    before = data(model)
    edited = [*before[:3], 0.625, *before[4:]]
    from_page(widget, {"weights": edited})
    assert data(model) == edited and widget.weights == edited
    assert comms.updates() == []  # nothing to tell the page: it sent it
    # A Train's message: every weight at once.
    trained = [w - 0.01 * (i + 1) for i, w in enumerate(edited)]
    from_page(widget, {"weights": trained})
    assert data(model) == trained


def test_a_row_edit_changes_the_widgets_data_not_the_users_nor_the_model(
    widget: Any, model: nn.MLP
) -> None:
    users = [row[:] for row in X]
    weights = data(model)
    from_page(widget, {"row": [1.0, 3.5, 0.25]})  # x_2 and y of row 1
    assert widget.X[1].tolist() == [1.0, 3.5] and widget.Y[1].tolist() == [0.25]
    assert widget.X[0].tolist() == X[0] and users == X and data(model) == weights


def test_the_sample_and_its_row_go_together(widget: Any, comms: Comms) -> None:
    from_page(widget, {"sample": 3, "row": [2.0, -0.75, 0.0]})
    assert (widget.sample, widget.row) == (3, [2.0, -0.75, 0.0])
    widget.sample = 0  # in Python: the page is told the sample and its row
    sent = {key: value for update in comms.updates() for key, value in update.items()}
    assert sent == {"sample": 0, "row": [0.5, -1.0, 0.5]}
    from_page(widget, {"row": [0.5, -1.0, 9.0]})  # an edit of y in row 0
    widget.sample = 2
    widget.sample = 0
    assert widget.row == [0.5, -1.0, 9.0] and widget.Y[0].tolist() == [9.0]


def test_the_settings_go_both_ways(widget: Any, comms: Comms) -> None:
    from_page(widget, {"eta": 0.2, "l2": 0.0, "tol": 0.5, "epochs": 7})
    assert (widget.eta, widget.l2, widget.tol, widget.epochs) == (0.2, 0.0, 0.5, 7)
    assert comms.updates() == []
    widget.eta = 0.125
    assert comms.updates() == [{"eta": 0.125}]
    with pytest.raises(TraitError, match="eta must be a finite number > 0, got -1"):
        widget.eta = -1.0
    assert widget.eta == 0.125


BAD_MESSAGES = [
    (
        {"weights": [0.5]},
        r"weights must hold one number for each of w\^1_11, w\^1_21, b\^1_1 and 6 more \(9 in "
        r"all\); got 1",
    ),
    ({"weights": [None] * 9}, r"weights"),
    ({"row": [1.0, 2.0]}, r"row must hold one number for each of x_1, x_2, y; got 2"),
    ({"row": [1.0, "2", 3.0]}, r"row"),
    ({"eta": 0}, r"eta must be a finite number > 0, got 0"),
    ({"l2": -0.5}, r"l2 must be a finite number >= 0, got -0.5"),
    ({"tol": None}, r"tol"),
    ({"epochs": 0}, r"epochs must be an int >= 1, got 0"),
    ({"epochs": 2.5}, r"epochs"),
    ({"sample": 4}, r"sample must be a row, 0 to 3; got 4"),
    ({"_page": "<p>another page</p>"}, r"_page is set by the kernel, not by the page"),
    # One bad number spoils the whole message: the good ones are not taken either.
    ({"eta": 0.5, "weights": [0.1] * 8 + [None]}, r"weights"),
    ({"weights": [0.1] * 9, "sample": -1}, r"sample must be a row"),
]


@pytest.mark.parametrize(("message", "why"), BAD_MESSAGES)
def test_a_bad_message_is_refused_whole(
    widget: Any, model: nn.MLP, comms: Comms, message: dict[str, Any], why: str
) -> None:
    before, weights, rows = state(widget), data(model), widget.X.tolist()
    from_page(widget, message)
    assert state(widget) == before and data(model) == weights and widget.X.tolist() == rows
    assert widget.error.startswith("the kernel kept its numbers: ")
    assert re.search(why, widget.error), widget.error
    # The page is sent the kernel's numbers back, and why.
    sent = {key: value for update in comms.updates() for key, value in update.items()}
    assert sent == {"error": widget.error} | {key: getattr(widget, key) for key in message}


def test_the_next_change_that_goes_through_clears_the_error(widget: Any) -> None:
    from_page(widget, {"eta": -1})
    assert widget.error
    from_page(widget, {"eta": 0.5})
    assert widget.error == "" and widget.eta == 0.5


def test_sync_shows_a_change_made_in_python(widget: Any, model: nn.MLP, comms: Comms) -> None:
    model.weight(2, 1, 1).data = 0.375
    assert widget.weights != data(model)  # Values have no hooks: sync() says when
    widget.sync()
    assert widget.weights == data(model)
    assert comms.updates() == [{"weights": data(model)}]  # one message, all the weights
    widget.sync()
    assert comms.updates() == []  # nothing changed, nothing sent


def test_sync_after_nn_train_shows_the_trained_weights(widget: Any, model: nn.MLP) -> None:
    start = data(model)
    nn.train(model, widget.X, widget.Y, lr=widget.eta, l2=widget.l2, tol=widget.tol,
             max_epochs=25, progress=False)  # fmt: skip
    assert data(model) != start
    widget.sync()
    assert widget.weights == data(model)


def test_a_weight_that_is_not_finite_is_not_synced(
    widget: Any, model: nn.MLP, comms: Comms
) -> None:
    before = widget.weights
    model.weight(1, 2, 1).data = math.nan
    with pytest.raises(TraitError, match=r"w\^1_21 must be a finite number, got nan"):
        widget.sync()
    assert widget.weights == before and comms.updates() == []


def replace_a_layer(model: nn.MLP) -> None:
    model.layers[-1] = nn.MLP(2, [3, 1], bias=True, seed=5).layers[-1]


def replace_a_weight(model: nn.MLP) -> None:
    neuron = model.layers[0].neurons[1]
    neuron.weights[0] = Value(neuron.weights[0].data, label=neuron.weights[0].label)


def change_an_activation(model: nn.MLP) -> None:
    model.layers[1].neurons[0].activation = "sigmoid"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (replace_a_layer, "it has 10 parameters now, the widget 9"),
        (replace_a_weight, r"its w\^1_12 is another Value than the widget's"),
        (change_an_activation, "O_21 applies sigmoid now, tanh in the widget"),
    ],
)
def test_a_model_that_changed_is_refused_saying_what_changed(
    widget: Any, model: nn.MLP, change: Any, why: str
) -> None:
    weights = widget.weights
    change(model)
    from_page(widget, {"weights": [0.0] * 9})
    assert widget.weights == weights
    assert re.search(why, widget.error) and "make a new widget" in widget.error
    from_page(widget, {"eta": 0.5})  # every change of the page: the widget is out of date
    assert widget.eta == 0.05
    with pytest.raises(TraitError, match=why):
        widget.sync()


def test_the_widget_shows_as_a_widget_with_the_page_as_its_html_view(widget: Any) -> None:
    shown, _ = InteractiveShell.instance().display_formatter.format(widget)
    assert shown["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.model_id
    # Where there are no widgets: the page, as viz.explorer shows it.
    page = viz.explorer(widget.model, X, Y, sample=1, eta=0.05, l2=0.01, tol=1e-3, epochs=40)
    assert shown["text/html"] == page._repr_html_()
    # No address in the text: a stored notebook's output is the same run after run.
    assert shown["text/plain"] == (
        "<ExplorerWidget: the 9 parameters of MLP(2, [2, 1], bias=True, activation='tanh', "
        "output_activation='tanh'), 4 rows>"
    )


def test_a_value_is_not_a_model() -> None:
    with pytest.raises(TypeError, match=r"viz.explorer\(root\)"):
        viz.widget(Value(1.0, label="x"), X, Y)  # type: ignore[arg-type]


def test_viz_needs_no_anywidget_and_the_widget_says_how_to_get_it(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "sys.modules['anywidget'] = None  # as if it were not installed\n"
        "import nn, viz\n"
        "assert 'ipywidgets' not in sys.modules\n"
        "try:\n"
        "    viz.widget(nn.MLP(2, [1]), [[1.0, 2.0]], [0.5])\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and "pip install chainrule[jupyter]" in lines[0], lines


def test_the_stored_notebook_keeps_the_widgets_html_view() -> None:
    path = ROOT / "docs" / "notebooks" / "02-the-network.ipynb"
    notebook = nbformat.read(path, as_version=4)
    outputs = [
        output.data
        for cell in notebook.cells
        if cell.cell_type == "code" and "viz.widget(" in cell.source
        for output in cell.outputs
        if "data" in output
    ]
    assert len(outputs) == 1
    shown = outputs[0]
    # The kernel it named is gone: Jupyter would say "model not found"; the page stays.
    assert "application/vnd.jupyter.widget-view+json" not in shown
    assert shown["text/html"].startswith("<iframe srcdoc=") and "window.chainrule" in "".join(
        shown["text/html"]
    )
    assert shown["text/plain"].startswith("<ExplorerWidget: the 20 parameters of MLP(4, [3, 2, 1]")
