"""viz.explorer and ``chainrule explore``: the page as a file and the JavaScript generated
for it (the page at work in a browser is tested in test_explorer_browser.py)."""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from cli_runs import run_cli
from notes_order import NOTES_ORDER, reads_in_order

import nn
import viz
from autograd import OPS, Value, define_op, topological_order, trace
from autograd.ops import exp, where
from chainrule.examples import DEMO_L2, DEMO_LR, DEMO_SPECIES, notes_example
from chainrule.explore import write_explorer
from viz._js import UnsupportedInJavaScript, op_javascript

ASSETS = Path(viz.__file__).parent / "explorer_assets"


def page_data(text: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    assert match
    return json.loads(match.group(1))


def demo_page(tmp_path: Path) -> str:
    return write_explorer(nn.MLP(4, [3, 2, 1], seed=0), tmp_path).read_text(encoding="utf-8")


def test_the_page_is_one_self_contained_file_under_a_megabyte(tmp_path: Path) -> None:
    text = demo_page(tmp_path)
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 1
    # nothing to fetch: no external script, style sheet, image, font or frame
    assert not re.search(r"<(script|img|iframe|link)\b[^>]*\b(src|href)=", text, re.I)
    assert "url(" not in text and "@import" not in text
    # the only URLs are XML namespace names, which no browser fetches
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert len(text.encode("utf-8")) < 1_000_000


def test_the_page_is_deterministic() -> None:
    def build() -> str:
        iris = nn.iris_binary(DEMO_SPECIES)
        return viz.explorer(nn.MLP(4, [3, 2, 1], seed=0), iris.X, iris.y, l2=0.01).html

    assert build() == build()


# --- one source of calculus ------------------------------------------------------------


def test_the_pages_own_javascript_knows_no_op() -> None:
    """Every op's JavaScript is generated from its row: the hand-written scripts never
    name an op or a function of one (|w| for the colours is Math.abs, no op)."""
    written = (ASSETS / "engine.js").read_text() + (ASSETS / "explorer.js").read_text()
    code = re.sub(r"//[^\n]*", "", written)  # comments may mention them
    for name in [*OPS, "Math.exp", "Math.log", "Math.tanh", "Math.sin", "Math.cos", "Math.pow"]:
        if name.isidentifier() or "." in name:
            assert not re.search(rf"(?<!Math\.)\b{re.escape(name)}\b", code), name


def test_the_page_embeds_the_traced_program_and_the_rows_it_uses(tmp_path: Path) -> None:
    text = demo_page(tmp_path)
    data = page_data(text)
    iris = nn.iris_binary(DEMO_SPECIES)
    model = nn.MLP(4, [3, 2, 1], seed=0)
    xs = [
        Value(v, label=nn.input_label(i), requires_grad=False) for i, v in enumerate(iris.X[0], 1)
    ]
    y = Value(iris.y[0], label="y", requires_grad=False)
    loss = nn.sse([model(xs)], [y])  # type: ignore[list-item]
    program = trace(loss, [*model.parameters(), *xs, y])
    code = data["program"]["code"]
    ops = re.findall(r'name: "([^"]+)"', text)
    assert len(code) == 4 * len(program.instructions)
    for i, step in enumerate(program.instructions):
        op, out, *operands = code[4 * i : 4 * i + 4]
        assert (ops[op], out, [o for o in operands if o >= 0]) == (
            step.op.name, step.out, list(step.operands),
        )  # fmt: skip
    assert sorted(ops) == sorted({"+", "*", "**", "tanh"})  # only the rows the graph uses


def test_generated_javascript_for_tanh_and_a_users_op() -> None:
    assert "return Math.tanh(x);" in op_javascript(OPS["tanh"])
    assert "const $0 = out * out;\n      return 1.0 - $0;" in op_javascript(OPS["tanh"])
    bump = define_op(
        "bump_test",
        lambda x: exp(-x * x),
        [lambda x, out: -2.0 * x * out],
    )
    try:
        written = op_javascript(bump)
    finally:
        del OPS["bump_test"]
    assert 'name: "bump_test"' in written and "Math.exp(" in written
    assert "(-2.0) * x" in written and 'written: ["bump_test(", ")"]' in written


def test_what_the_page_cannot_compute_is_refused_by_name() -> None:
    erf = define_op("erf_test", math.erf, [lambda x, out: 2.0 * exp(-x * x)], numpy=math.erf)
    branching = define_op("kink_test", lambda x: where(x, x, 0.0), [lambda x, out: 1.0])
    try:
        with pytest.raises(UnsupportedInJavaScript, match=r"op 'erf_test'.*Math does not have"):
            op_javascript(erf)
        branching_rule = define_op("if_test", lambda x: x * 2.0, [lambda x, out: 1.0 if x else 0.0])
        with pytest.raises(UnsupportedInJavaScript, match=r"if_test.*where\(condition"):
            op_javascript(branching_rule)
        assert "!== 0 ?" in op_javascript(branching)
        x = Value(0.5, label="x")
        f = erf(x)
        f.label = "f"
        with pytest.raises(UnsupportedInJavaScript, match="erf_test"):
            viz.explorer(f)
    finally:
        for name in ("erf_test", "kink_test", "if_test"):
            OPS.pop(name, None)


# --- what the page holds ---------------------------------------------------------------


def test_a_network_page_draws_the_notes_values_and_its_data(tmp_path: Path) -> None:
    data = page_data(demo_page(tmp_path))
    names = {node["name"] for node in data["nodes"]}
    model = nn.MLP(4, [3, 2, 1])
    assert names == {
        "L", "y", *(nn.input_label(i) for i in range(1, 5)),
        *(nn.output_label(k, j) for k, n in ((1, 3), (2, 2), (3, 1)) for j in range(1, n + 1)),
        *(label for label, _ in model.named_parameters()),
    }  # fmt: skip
    editable = [data["names"][str(slot)] for slot in data["editable"]]
    assert editable[:5] == ["x_1", "x_2", "x_3", "x_4", "y"]
    assert editable[5:] == [label for label, _ in model.named_parameters()]
    # the demo's settings: the page's update is the demo's dL/dw, Reg included
    batch = data["batch"]
    assert (data["eta"], batch["l2"], len(batch["X"])) == (DEMO_LR, DEMO_L2, 150)
    h = notes_example()
    op_page = page_data(viz.explorer(h).html)
    assert len(op_page["nodes"]) == len(topological_order(h))  # every Value, op by op


def test_the_ledger_is_explains_own() -> None:
    model = nn.MLP(4, [3, 2, 1], seed=1)
    iris = nn.iris_binary(DEMO_SPECIES)
    data = page_data(viz.explorer(model, iris.X, iris.y, sample=7).html)
    node = next(n for n in data["nodes"] if n["name"] == "w^2_31")
    template = data["ledgers"][node["id"]]
    xs = [
        Value(v, label=nn.input_label(i), requires_grad=False) for i, v in enumerate(iris.X[7], 1)
    ]
    loss = nn.sse([model(xs)], [Value(iris.y[7], label="y", requires_grad=False)])  # type: ignore[list-item]
    loss.label = "L"
    rule = viz.explain(loss, model.weight(2, 3, 1), level="neuron")
    # The page's ledger says what explain's says, symbol for symbol, with holes where
    # the page writes the numbers.
    shown = reading(html.unescape(re.sub(r"<[^>]*>", "", template["sum"] + template["where"])))
    symbols = str(rule).splitlines()[0].split("=", 1)[1]
    assert reading(symbols) in shown
    assert len(template["paths"]) == len(rule.paths)
    assert template["sum"].count('data-h="d') == sum(len(p.steps) for p in rule.paths)


def reading(text: str) -> str:
    """What a ledger says, whatever its typography."""
    for typeset, plain in (("\u00b7", "*"), ("\u2212", "-"), ("^", ""), ("_", "")):
        text = text.replace(typeset, plain)
    return "".join(text.split())


def test_the_model_and_its_grads_are_left_as_they_were() -> None:
    model = nn.MLP(4, [3, 2, 1], seed=0)
    for i, w in enumerate(model.parameters()):
        w.grad = float(i)
    before = [(w.data, w.grad) for w in model.parameters()]
    viz.explorer(model, [[0.1, 0.2, 0.3, 0.4], [1.0, 0.0, -1.0, 0.5]], [1.0, -1.0])
    assert [(w.data, w.grad) for w in model.parameters()] == before


def test_bad_input_names_the_problem() -> None:
    h = notes_example()
    model = nn.MLP(2, [1])
    with pytest.raises(TypeError, match=r"expected an nn.MLP .* or a Value, got float"):
        viz.explorer(3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a model needs its data"):
        viz.explorer(model)
    with pytest.raises(TypeError, match="X and y go with a model"):
        viz.explorer(h, [[1.0]], [1.0])
    with pytest.raises(ValueError, match="root is a constant"):
        viz.explorer(Value(1.0, requires_grad=False))
    with pytest.raises(ValueError, match=r"^eta must be a finite number > 0, got 0$"):
        viz.explorer(h, eta=0)
    with pytest.raises(ValueError, match="level must be"):
        viz.explorer(h, level="layer")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="has no labelled leaf"):
        viz.explorer(Value(2.0) * 3.0)
    X, y = [[1.0, 2.0], [3.0, 4.0]], [0.5, -0.5]
    with pytest.raises(ValueError, match=r"^sample must be an int from 0 to 1, got 2$"):
        viz.explorer(model, X, y, sample=2)
    with pytest.raises(ValueError, match="l2 must be a finite number >= 0"):
        viz.explorer(model, X, y, l2=-1.0)
    with pytest.raises(ValueError, match="epochs must be an int >= 1"):
        viz.explorer(model, X, y, epochs=0)
    with pytest.raises(ValueError, match=r"X\[row 1, column 0\]|X\[1\]\[0\]"):
        viz.explorer(model, [[1.0, 2.0], [math.nan, 4.0]], y)


def test_hostile_labels_stay_text() -> None:
    a = Value(2.0, label="</script><b>{data}")
    b = Value(3.0, label='{svg} & "w"')
    c = a * b
    c.label = "{title}"
    text = viz.explorer(c).html
    assert text.count("</script>") == 4  # the data's, the ops', the engine's, the page's
    assert text.count("<svg") == 1 and "</script><b>" not in text  # "<\/script>" in JSON
    assert "</script><b>{data}" in page_data(text)["names"].values()
    a.label = "#gn1#"
    with pytest.raises(ValueError, match="written like the page's placeholders"):
        viz.explorer(c)


def test_notebook_display_is_an_isolated_frame(tmp_path: Path) -> None:
    page = viz.explorer(notes_example())
    shown = page._repr_html_()
    document = re.fullmatch(r"<iframe srcdoc='([^']*)' style=\"[^\"]*\"></iframe>", shown)
    assert document and html.unescape(document.group(1)) == page.html
    assert page.save(tmp_path / "h.html").read_text(encoding="utf-8") == page.html
    assert repr(page) == "<Explorer: 1 number to edit>"


def test_the_network_stands_in_the_notes_order(tmp_path: Path) -> None:
    page = demo_page(tmp_path)
    names = {node["id"]: node["name"] for node in page_data(page)["nodes"]}
    centres = {}
    for node_id, body in re.findall(r'<g id="node_(n\d+)" class="node[^"]*">(.*?)</g>', page, re.S):
        polygon = re.search(r'points="([^"]*)"', body)
        assert polygon, f"{node_id} has no box"
        points = re.findall(r"(-?[\d.]+),(-?[\d.]+)", polygon[1])
        xs, ys = [float(x) for x, _ in points], [float(y) for _, y in points]
        centres[names[node_id]] = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
    for column in NOTES_ORDER:
        assert reads_in_order([centres[name] for name in column]), column


def test_a_large_network_is_summarised_by_layer() -> None:
    model = nn.MLP(64, [16, 10], bias=True, seed=0)
    X = [[float((i * j) % 7) for j in range(64)] for i in range(20)]
    y = [i % 10 for i in range(20)]
    page = viz.explorer(model, X, y)
    data = page_data(page.html)
    assert data["summary"] is not None and len(data["summary"]) == 2
    assert data["ledgers"] == {}  # no ledger per weight: the picture shows layers
    assert len(page.editable) == 64 + 10 + len(model.parameters())
    # L's box: the batch's sum over the rows n and each row's 10 outputs j.
    loss = page.html.split('id="node_loss" class="node">', 1)[1]
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", loss[: loss.index("</g>")])).strip()
    assert words.startswith("L \u03a3n \u03a3j (ynj \u2212 \u0177nj)2 + \u03bb \u03a3 w2"), words


# --- the command line --------------------------------------------------------------------


def test_cli_writes_the_demo_page_for_a_sample_seed_and_weights_file(tmp_path: Path) -> None:
    trained = nn.MLP(4, [3, 2, 1], seed=5)
    nn.save_parameters(trained, tmp_path / "parameters.json")
    result = run_cli(
        "explore", "--out", str(tmp_path / "out"), "--sample", "42",
        "--weights", str(tmp_path / "parameters.json"), "--lr", "0.05",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = tmp_path / "out" / "explorer.html"
    assert str(page) in result.stdout
    text = page.read_text(encoding="utf-8")
    data = page_data(text)
    assert "Iris sample 42" in text and data["eta"] == 0.05 and data["batch"]["sample"] == 42
    start = dict(zip(data["editable"], data["start"][-len(data["editable"]) :], strict=False))
    weights = {data["names"][str(s)]: data["start"][s] for s in data["batch"]["params"]}
    assert weights == {label: w.data for label, w in trained.named_parameters()}
    assert start  # the inputs of the page's program hold every editable number


def test_cli_explores_a_csv_with_the_options_of_train(tmp_path: Path) -> None:
    iris = nn.load_iris()
    csv = tmp_path / "flowers.csv"
    rows = [",".join([*iris.feature_names, "species"])]
    rows += [",".join([*map(str, x), str(t)]) for x, t in zip(iris.X, iris.y, strict=True)]
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    result = run_cli(
        "explore", "--data", str(csv), "--target", "species", "--hidden", "4", "--bias",
        "--l2", "0.01", "--lr", "0.002", "--sample", "3", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "3 classes" in result.stdout and "4 -> 4 -> 3 network on 150 rows" in result.stdout
    data = page_data((out / "explorer.html").read_text(encoding="utf-8"))
    assert (data["eta"], data["batch"]["l2"], data["batch"]["sample"]) == (0.002, 0.01, 3)
    assert len(data["batch"]["params"]) == 4 * 4 + 4 + 4 * 3 + 3
    assert len(data["batch"]["Y"][0]) == 3  # one-hot, as chainrule train encodes them
    # train's own parsing of each option, said in its words
    for args, message in (
        (("--hidden", ",,"), "argument --hidden: must be layer sizes separated by commas"),
        (("--lr", "0"), "argument --lr: must be a finite number > 0, got '0'"),
        (("--optimizer", "adam"), "the page trains by the lecture notes' gradient descent"),
        (("--sample", "150"), "--sample must be an int from 0 to 149, got 150"),
    ):
        result = run_cli("explore", "--data", str(csv), "--target", "species", *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_cli_explores_a_csv_from_the_weights_train_saved_for_it(tmp_path: Path) -> None:
    iris = nn.load_iris()
    csv = tmp_path / "flowers.csv"
    rows = [",".join([*iris.feature_names, "species"])]
    rows += [",".join([*map(str, x), iris.classes[t]]) for x, t in zip(iris.X, iris.y, strict=True)]
    csv.write_text("\n".join(rows) + "\n")
    options = ("--target", "species", "--hidden", "4", "--bias")
    trained = run_cli("train", str(csv), *options, "--max-epochs", "30", "--out", str(tmp_path))
    assert trained.returncode == 0, trained.stderr
    weights = tmp_path / "parameters.json"
    out = tmp_path / "out"
    result = run_cli(
        "explore", "--data", str(csv), *options, "--weights", str(weights), "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert f"with the weights from {weights} on 150 rows" in result.stdout
    data = page_data((out / "explorer.html").read_text(encoding="utf-8"))
    saved = nn.load_model(weights)
    shown = {data["names"][str(s)]: data["start"][s] for s in data["batch"]["params"]}
    assert shown == {label: w.data for label, w in saved.model.named_parameters()}
    assert data["batch"]["X"] == saved.prepare(iris.X)  # standardised as it was trained
    assert data["batch"]["meanings"] == list(iris.classes)
    # Weights of another network, or trained on other columns: refused, saying what differs.
    other = tmp_path / "other.csv"
    other.write_text(csv.read_text().replace("sepal_length", "sepal_len", 1))
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(csv.read_text().replace(",setosa", ",Iris-setosa"))
    for data_file, extra, message in (
        (csv, (), "holds a 4 -> 4 -> 3 network (with biases, tanh, output tanh); "),
        # Other columns are said first, even with other options: no option mends them.
        (other, (), "its features are sepal_length, sepal_width, petal_"),
        (renamed, ("--hidden", "4"), "it knows the classes setosa, versicolor, virginica, not "),
    ):
        args = ("--data", str(data_file), "--target", "species", "--bias", *extra)
        result = run_cli("explore", *args, "--weights", str(weights), "--out", str(out))
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_cli_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    for args, message in (
        (("--sample", "150"), "--sample must be an int from 0 to 149, got 150"),
        (("--weights", str(tmp_path / "missing.json")), "No such file or directory"),
        (("--data", str(tmp_path / "x.csv")), "--data CSV and --target COLUMN go together"),
        (("--target", "y"), "--data CSV and --target COLUMN go together"),
    ):
        result = run_cli("explore", "--out", str(tmp_path), *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
