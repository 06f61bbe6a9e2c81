"""viz.explorer and ``chainrule explore``: the page as a file (its behaviour in a browser is
tested in test_explorer_browser.py)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cli_runs import run_cli
from notes_order import NOTES_ORDER, reads_in_order

import nn
import viz
from autograd import Value, topological_order
from chainrule.examples import demo_sample_loss, notes_example
from chainrule.explore import write_explorer
from chainrule.graphs import write_demo_graphs


def page_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="data">(.*?)</script>', html, re.S)
    assert match
    return json.loads(match.group(1))


def demo_page(tmp_path: Path) -> str:
    return write_explorer(nn.MLP(4, [3, 2, 1], seed=0), tmp_path).read_text(encoding="utf-8")


def test_the_page_is_one_self_contained_file(tmp_path: Path) -> None:
    html = demo_page(tmp_path)
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 1
    # nothing to fetch: no external script, style sheet, image, font or frame
    assert not re.search(r"<(script|img|iframe|link)\b[^>]*\b(src|href)=", html, re.I)
    assert "url(" not in html and "@import" not in html
    # the only URLs are XML namespace names, which no browser fetches
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert len(html.encode("utf-8")) < 300_000  # "well under 1 MB"


def test_the_page_is_deterministic() -> None:
    def build() -> str:
        model = nn.MLP(4, [3, 2, 1], seed=0)
        return viz.explorer(demo_sample_loss(model, 0), weights=model.parameters()).html

    assert build() == build()


def test_neuron_level_for_a_network_op_level_otherwise(tmp_path: Path) -> None:
    data = page_data(demo_page(tmp_path))
    assert set(data["names"].values()) == {
        "L",
        *(nn.output_label(k, j) for k, n in ((1, 3), (2, 2), (3, 1)) for j in range(1, n + 1)),
        *(label for label, _ in nn.MLP(4, [3, 2, 1]).named_parameters()),
    }
    assert [w["label"] for w in data["weights"]][:2] == ["w^1_11", "w^1_21"]
    h = notes_example()
    names = page_data(viz.explorer(h).html)["names"]
    assert len(names) == len(topological_order(h))  # every Value, each op its own node


def test_the_ledger_is_explains_own() -> None:
    model = nn.MLP(4, [3, 2, 1], seed=1)
    loss = demo_sample_loss(model, 7)
    w = model.weight(2, 3, 1)
    data = page_data(viz.explorer(loss, weights=[w]).html)
    rule = viz.explain(loss, w, level="neuron")
    assert data["weights"][0]["ledger"] == str(rule)
    # The HTML the page shows says the same, symbol for symbol: only the typography
    # differs (sub- and superscripts, middle dots, minus signs, where lines wrap).
    shown = data["weights"][0]["ledgerHtml"] + data["weights"][0]["whereHtml"]
    assert "<sub>" in shown.lower() and "<sup>" in shown.lower()
    assert reading(html.unescape(re.sub(r"<[^>]*>", "", shown))) == reading(str(rule))


def reading(text: str) -> str:
    """What a ledger says, whatever its typography."""
    for typeset, plain in (("\u00b7", "*"), ("\u2212", "-"), ("^", ""), ("_", "")):
        text = text.replace(typeset, plain)
    return "".join(text.split())


def test_grads_and_data_are_left_as_they_were() -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    loss = demo_sample_loss(model, 0)
    batch = nn.total_loss(model, [[0.1, 0.2, 0.3, 0.4], [1.0, 0.0, -1.0, 0.5]], [1.0, -1.0])
    for i, w in enumerate(model.parameters()):
        w.grad = float(i)
    before = [(w.data, w.grad) for w in model.parameters()]
    viz.explorer(loss, weights=model.parameters(), batch=batch, batch_size=2)
    assert [(w.data, w.grad) for w in model.parameters()] == before


def test_bad_input_names_the_problem() -> None:
    h = notes_example()
    stranger = Value(1.0, label="w^9_99")
    with pytest.raises(TypeError, match="root must be a Value"):
        viz.explorer(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="root is a constant"):
        viz.explorer(Value(1.0, requires_grad=False))
    with pytest.raises(ValueError, match="weight w\\^9_99 is not part of the graph of h"):
        viz.explorer(h, weights=[stranger])
    with pytest.raises(ValueError, match="eta must be a positive number, got 0"):
        viz.explorer(h, eta=0)
    with pytest.raises(ValueError, match="level must be"):
        viz.explorer(h, level="layer")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size is given without a batch loss"):
        viz.explorer(h, batch_size=3)
    x = next(n for n in topological_order(h) if n.label == "x")
    with pytest.raises(ValueError, match="weight x is not part of the batch loss"):
        viz.explorer(h, batch=stranger * 2, batch_size=1)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        viz.explorer(h, batch=x * 2, batch_size=0)


def test_hostile_labels_stay_text(tmp_path: Path) -> None:
    a = Value(2.0, label="</script><b>{data}")
    b = Value(3.0, label='{svg} & "w"')
    c = a * b
    c.label = "{title}"
    html = viz.explorer(c).html
    assert html.count("</script>") == 2  # the JSON data's and the script's own
    assert html.count("<svg") == 1 and "<b>" not in html
    assert page_data(html)["names"]["n0"] == "</script><b>{data}"
    a.label = "#gn1#"
    with pytest.raises(ValueError, match="written like the page's placeholders"):
        viz.explorer(c)


def test_notebook_display_is_an_isolated_frame(tmp_path: Path) -> None:
    page = viz.explorer(notes_example())
    shown = page._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "<script>" not in shown  # escaped inside
    assert page.save(tmp_path / "h.html").read_text(encoding="utf-8") == page.html


def test_cli_writes_the_page_for_a_sample_seed_and_weights_file(tmp_path: Path) -> None:
    trained = nn.MLP(4, [3, 2, 1], seed=5)
    nn.save_parameters(trained, tmp_path / "parameters.json")
    result = run_cli(
        "explore", "--out", str(tmp_path / "out"), "--sample", "42",
        "--weights", str(tmp_path / "parameters.json"), "--eta", "0.05",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = tmp_path / "out" / "explorer.html"
    assert str(page) in result.stdout
    html = page.read_text(encoding="utf-8")
    data = page_data(html)
    assert "Iris sample 42" in html and data["eta"] == 0.05 and data["batchSize"] == 150
    loss = demo_sample_loss(trained, 42)
    loss.backward()
    w = data["weights"][0]
    assert w["old"] == trained.weight(1, 1, 1).data and w["grad"] == trained.weight(1, 1, 1).grad


def test_cli_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    for args, message in (
        (("--sample", "150"), "sample must be in 0..149, got 150"),
        (("--weights", str(tmp_path / "missing.json")), "No such file or directory"),
        (("--eta", "0"), "argument --eta: must be a finite number > 0, got '0'"),
    ):
        result = run_cli("explore", "--out", str(tmp_path), *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_the_demo_writes_the_page(tmp_path: Path) -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    written = write_demo_graphs(model, demo_sample_loss(model, 0), tmp_path)
    assert tmp_path / "explorer.html" in written


def test_the_network_stands_in_the_notes_order(tmp_path: Path) -> None:
    page = demo_page(tmp_path)
    names = page_data(page)["names"]
    centres = {}
    for node_id, body in re.findall(r'<g id="node_(n\d+)" class="node[^"]*">(.*?)</g>', page, re.S):
        polygon = re.search(r'points="([^"]*)"', body)
        assert polygon, f"{node_id} has no box"
        points = re.findall(r"(-?[\d.]+),(-?[\d.]+)", polygon[1])
        xs, ys = [float(x) for x, _ in points], [float(y) for _, y in points]
        centres[names[node_id]] = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
    for column in NOTES_ORDER:
        assert reads_in_order([centres[name] for name in column]), column


# A number written with a hyphen-minus, not the minus sign (&#8722;) of the formulas.
HYPHEN_NUMBER = re.compile(r"(?<![\w&#])-\d")


def test_ledger_numbers_have_the_formulas_minus_sign(tmp_path: Path) -> None:
    weights = page_data(demo_page(tmp_path))["weights"]
    ledgers = [part for pick in weights for part in (pick["ledgerHtml"], pick["whereHtml"])]
    for ledger in ledgers:
        assert not HYPHEN_NUMBER.search(ledger), ledger
    assert all("&#8722;" in ledger for ledger in ledgers)  # the demo's ledgers have some
