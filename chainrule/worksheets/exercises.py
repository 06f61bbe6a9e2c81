"""The exercises: numbers drawn per student, the questions, their answers and their slips.

Every answer is computed by the engine (a forward pass, ``backward()``) and every local
derivative is read from :func:`viz.explain`'s ledger, so the key says exactly what the
ledgers print. Each question also carries its *slips*: the values that come out of one
recognisable mistake (a path of the chain rule left out, a sign flipped, a factor
forgotten), found by recomputing the sum over paths with that one change. Grading names a
slip when an answer equals it.

Numbers come from ``random.Random`` seeded with a string made of the seed, the sheet and
the student's number, so a student's sheet is the same whatever the size of the class.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import nn
import viz
from autograd import Value, topological_order

__all__ = [
    "ABS_TOLERANCE",
    "EXPRESSION",
    "FORWARD",
    "NETWORK",
    "REL_TOLERANCE",
    "SHEETS",
    "ExpressionSheet",
    "Follows",
    "NetworkSheet",
    "Question",
    "Slip",
    "derivative_id",
    "draw_expression_sheet",
    "draw_network_sheet",
    "gradient_step",
    "sample_loss",
    "tolerance",
]

NETWORK = "network"
EXPRESSION = "expression"
SHEETS = (NETWORK, EXPRESSION)
FORWARD = ("F", "g", "h")  # the expression sheet's forward pass, in the order it is asked

# Answers are asked to 4 decimal places, computed from earlier answers rounded the same
# way. Rounding the inputs of a product of four factors (each about 0.1 to 1) to 4
# decimals moves it by a few tenths of a percent at most; the tolerance allows that and
# no more: 0.5% of the value, and never less than 5 units of the 4th decimal.
ABS_TOLERANCE = 0.0005
REL_TOLERANCE = 0.005
DECIMALS = 4  # the sheets ask for answers to this many decimal places

# Hand-friendly numbers: weights and inputs in tenths, a few learning rates.
_TENTHS = tuple(round(k / 10, 1) for k in range(-9, 10) if k != 0)
_INPUTS = tuple(round(k / 10, 1) for k in range(-10, 11) if k != 0)
_TARGETS = (-1.0, -0.5, 0.5, 1.0)
_ETAS = (0.1, 0.2, 0.5)
# A neuron's output between these (in size) is neither trivial nor saturated.
_OUTPUT_RANGE = (0.05, 0.95)
_MIN_ERROR = 0.3  # |y - yhat| at least this: a loss worth descending
# A draw whose named mistakes (a path left out, a sign flipped) would fall within the
# tolerance teaches nothing about them; the next draw is taken. Measured on 4-3-2-1
# networks: about two draws in five are kept, so this bound is never reached in practice.
_MAX_DRAWS = 2000


def tolerance(computed: float) -> float:
    """The tolerance for an answer whose computed part is ``computed``.

    ``max(ABS_TOLERANCE, REL_TOLERANCE * |computed|)``, rounded up to two significant
    digits so that it prints short.

    >>> tolerance(0.05), tolerance(0.1234), tolerance(-2.5)
    (0.0005, 0.00062, 0.013)
    """
    raw = max(ABS_TOLERANCE, REL_TOLERANCE * abs(computed))
    scale = 10.0 ** (math.floor(math.log10(raw)) - 1)
    return round(math.ceil(round(raw / scale, 9)) * scale, 12)


def gradient_step(weight: float, eta: float, gradient: float) -> float:
    """The notes' update ``w_new = w_old - eta * dL/dw``.

    >>> gradient_step(0.5, 0.1, 2.0)
    0.3
    """
    return weight - eta * gradient


def sample_loss(output: Value, target: float) -> Value:
    """One sample's loss ``L = (y - yhat)^2``, the target a constant labelled ``y``.

    >>> sample_loss(Value(0.5, label="O_31"), 1.0).data
    0.25
    """
    y = Value(target, label="y", requires_grad=False)
    loss = (y - output) ** 2
    loss.label = "L"
    return loss


def derivative_id(step: viz.Step) -> str:
    """A ledger factor's question id, as the ledger names it: ``dO_21/dO_11``."""
    return f"d{step.child.label}/d{step.parent.label}"


@dataclass(frozen=True)
class Slip:
    """The value an answer takes after one named mistake, and the feedback naming it."""

    value: float
    feedback: str


@dataclass(frozen=True)
class Follows:
    """How an answer follows from the student's other answers, to recognise an error
    carried forward: right arithmetic on a wrong earlier answer.

    ``kind`` is ``"neuron"`` (``inputs``: (question id, weight) pairs into a neuron with
    ``activation``), ``"loss"`` (``output``: the question id of yhat, ``target``: y),
    ``"paths"`` (``paths``: the question ids of each path's local derivatives) or
    ``"update"`` (``gradient``: the question id of dL/dw, ``weight``, ``eta``).
    """

    kind: str
    inputs: tuple[tuple[str, float], ...] = ()
    activation: str = ""
    output: str = ""
    target: float = 0.0
    paths: tuple[tuple[str, ...], ...] = ()
    gradient: str = ""
    weight: float = 0.0
    eta: float = 0.0

    def needs(self) -> list[str]:
        """The question ids this answer is computed from."""
        if self.kind == "neuron":
            return [name for name, _ in self.inputs]
        if self.kind == "loss":
            return [self.output]
        if self.kind == "paths":
            return list(dict.fromkeys(q for path in self.paths for q in path))
        return [self.gradient]

    def recompute(self, answers: Mapping[str, float]) -> float:
        """The answer computed from ``answers`` (which must hold every id of :meth:`needs`)."""
        if self.kind == "neuron":
            neuron = nn.Neuron(
                len(self.inputs),
                k=1,
                j=1,
                activation=self.activation,
                init="zeros",
                rng=random.Random(0),
            )
            for w, (_, value) in zip(neuron.weights, self.inputs, strict=True):
                w.data = value
            return neuron([Value(answers[name]) for name, _ in self.inputs]).data
        if self.kind == "loss":
            return sample_loss(Value(answers[self.output]), self.target).data
        if self.kind == "paths":
            return math.fsum(math.prod(answers[q] for q in path) for path in self.paths)
        if self.kind == "update":
            return gradient_step(self.weight, self.eta, answers[self.gradient])
        raise ValueError(f"unknown kind of dependency {self.kind!r}")

    def to_json(self) -> dict[str, Any]:
        """The fields that matter for this kind, for answers.json."""
        if self.kind == "neuron":
            return {
                "kind": self.kind,
                "activation": self.activation,
                "inputs": [list(pair) for pair in self.inputs],
            }
        if self.kind == "loss":
            return {"kind": self.kind, "output": self.output, "target": self.target}
        if self.kind == "paths":
            return {"kind": self.kind, "paths": [list(path) for path in self.paths]}
        return {
            "kind": self.kind,
            "gradient": self.gradient,
            "weight": self.weight,
            "eta": self.eta,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Follows:
        """The inverse of :meth:`to_json`; raises KeyError/TypeError/ValueError if malformed."""
        kind = data["kind"]
        if kind == "neuron":
            inputs = tuple((str(name), float(w)) for name, w in data["inputs"])
            return cls(kind, inputs=inputs, activation=str(data["activation"]))
        if kind == "loss":
            return cls(kind, output=str(data["output"]), target=float(data["target"]))
        if kind == "paths":
            return cls(kind, paths=tuple(tuple(str(q) for q in p) for p in data["paths"]))
        if kind == "update":
            return cls(
                kind,
                gradient=str(data["gradient"]),
                weight=float(data["weight"]),
                eta=float(data["eta"]),
            )
        raise ValueError(f"unknown kind {kind!r}")


@dataclass(frozen=True)
class Question:
    """One answer box: its id (as printed and as the answers CSV's column), the answer,
    its tolerance, the slips it can be recognised by, and what it follows from."""

    id: str
    sheet: str
    value: float
    tolerance: float
    slips: tuple[Slip, ...] = ()
    follows: Follows | None = None


# --- slips: the sum over paths recomputed with one change ---------------------------------


def _key(step: viz.Step) -> tuple[Value, Value, int | None]:
    return (step.child, step.parent, step.slot)


def _recomputed(
    paths: Sequence[viz.Path],
    *,
    without: viz.Path | None = None,
    factor: tuple[Value, Value, int | None] | None = None,
    change: Callable[[float], float] = lambda derivative: 1.0,
) -> float:
    """The sum over ``paths`` of the products of their local derivatives, recomputed with
    the path ``without`` left out and ``change`` applied to every step that is ``factor``
    (by default the factor is left out, i.e. taken as 1)."""
    products = []
    for path in paths:
        if path is not without:
            products.append(
                math.prod(
                    change(s.derivative) if _key(s) == factor else s.derivative for s in path.steps
                )
            )
    return math.fsum(products)


def _op_step_name(step: viz.Step) -> str:
    """What one operation-level step contributes, in words: ``the factor w^2_11``."""
    parents = step.child.parents
    if len(parents) == 2 and step.slot is not None:
        other = parents[1 - step.slot]
        if other.label and other.data == step.derivative:
            return f"the factor {other.label}"
    return f"the local derivative of '{step.child.op}' ({step.derivative:.4g})"


def _factor_slips(step: viz.Step) -> list[tuple[Slip, bool]]:
    """The slips of one local derivative (a neuron-level step): its sign, and, from the
    operations it is made of, one operation path or one operation's derivative left out."""
    slips = [(Slip(-step.derivative, "the sign is flipped"), False)]
    rule = viz.explain(step.child, step.parent, level="op")
    if len(rule.paths) > 1:
        for path in rule.paths:
            text = (
                f"left out one of the {len(rule.paths)} operation-level paths from "
                f"{step.child.label} to {step.parent.label} ({rule.describe_path(path)}): "
                "every operand slot is a path of its own, and the paths add up"
            )
            slips.append((Slip(_recomputed(rule.paths, without=path), text), True))
    else:
        for op_step in rule.paths[0].steps:
            text = f"left out {_op_step_name(op_step)}"
            slips.append((Slip(_recomputed(rule.paths, factor=_key(op_step)), text), False))
    return slips


def _gradient_slips(rule: viz.ChainRule, name: str) -> list[tuple[Slip, bool]]:
    """The slips of ``dL/dw`` written as a sum over paths: a path left out, the sign, a
    factor left out, one factor's sign flipped (where that differs from the whole sign)."""
    slips: list[tuple[Slip, bool]] = [(Slip(-rule.total, "the sign is flipped"), True)]
    if len(rule.paths) > 1:
        for path in rule.paths:
            text = (
                f"left out the path {rule.describe_path(path)}: {name} is the sum over "
                f"{len(rule.paths)} paths"
            )
            slips.append((Slip(_recomputed(rule.paths, without=path), text), True))
    for factor in rule.factors():
        everywhere = all(any(_key(s) == _key(factor) for s in p.steps) for p in rule.paths)
        fid = derivative_id(factor)
        slips.append(
            (
                Slip(_recomputed(rule.paths, factor=_key(factor)), f"left out the factor {fid}"),
                False,
            )
        )
        if not everywhere:
            value = _recomputed(rule.paths, factor=_key(factor), change=lambda d: -d)
            slips.append((Slip(value, f"the sign of {fid} is flipped"), False))
    return slips


def _forward_slips(node: Value) -> list[tuple[Slip, bool]]:
    """The slips of a forward value: its sign, and the last operation left out."""
    slips = [(Slip(-node.data, "the sign is flipped"), False)]
    if len(node.parents) == 1 or node.op == "**":
        before = node.parents[0].data
        text = f"the value before the final '{node.op}': the '{node.op}' was left out"
        slips.append((Slip(before, text), False))
    return slips


def _question(
    qid: str,
    sheet: str,
    value: float,
    slips: Iterable[tuple[Slip, bool]],
    *,
    computed: float | None = None,
    follows: Follows | None = None,
) -> Question | None:
    """The question, keeping the slips that an answer can show: those outside the
    tolerance and apart from every earlier slip. None when a slip marked as required
    (a path left out, a sign) would not show: such numbers make a poor exercise."""
    tol = tolerance(value if computed is None else computed)
    kept: list[Slip] = []
    for slip, required in slips:
        if abs(slip.value - value) <= 2 * tol:
            if required:
                return None
        elif all(abs(slip.value - other.value) > 2 * tol for other in kept):
            kept.append(slip)
    return Question(qid, sheet, value, tol, tuple(kept), follows)


# --- the network sheet ---------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkSheet:
    """One student's network: its weights, the sample (inputs, target), the learning rate,
    and the questions with their answers.

    ``weights`` maps each label ``w^k_ij`` to its value, in ``model.parameters()`` order.
    """

    student: int
    sizes: tuple[int, ...]
    weights: Mapping[str, float]
    inputs: tuple[float, ...]
    target: float
    eta: float
    one_path: str
    two_path: str
    questions: tuple[Question, ...] = field(default=(), compare=False)

    @property
    def network_name(self) -> str:
        """What the sheet calls its network: the lecture notes' own, or another of that kind.

        >>> draw_network_sheet(1, 1).network_name
        "the lecture notes' 4-3-2-1 network"
        """
        shown = "-".join(str(n) for n in self.sizes)
        if self.sizes == (4, 3, 2, 1):
            return f"the lecture notes' {shown} network"
        return f"a {shown} network, in the lecture notes' notation"

    def model(self) -> nn.MLP:
        """A fresh ``nn.MLP`` with this sheet's weights (no forward pass run yet)."""
        return _model(self.sizes, list(self.weights.values()))

    def loss(self) -> tuple[nn.MLP, Value]:
        """The model and its loss on the sheet's sample, ``L = (y - O_n1)^2``."""
        model = self.model()
        return model, sample_loss(_only(model(list(self.inputs))), self.target)

    def ledger(self, weight: str) -> viz.ChainRule:
        """:func:`viz.explain` for ``dL/d weight``, at the neuron level, as on the key."""
        model, loss = self.loss()
        return viz.explain(loss, model.weight(*nn.parse_weight_label(weight)), level="neuron")


def _model(sizes: Sequence[int], weights: Sequence[float]) -> nn.MLP:
    model = nn.MLP(sizes[0], list(sizes[1:]), seed=0)
    for w, value in zip(model.parameters(), weights, strict=True):
        w.data = value
    return model


def check_network(sizes: Sequence[int], one_path: str, two_path: str) -> None:
    """Raise a ValueError, in the command line's terms, unless ``sizes`` is a network the
    sheets can use and the two weights reach L along one path and two paths."""
    shown = "-".join(str(n) for n in sizes)
    if len(sizes) != 4 or sizes[-1] != 1 or not all(1 <= n <= 4 for n in sizes):
        raise ValueError(
            f"--network {shown}: a worksheet's network has an input layer, two hidden layers "
            "and one output, each of 1 to 4 neurons, such as 4-3-2-1 (the lecture notes') "
            "or 2-2-2-1; with the default --two-path, the second hidden layer has 2"
        )
    model = nn.MLP(sizes[0], list(sizes[1:]))  # how many paths: the same for any weights
    loss = sample_loss(_only(model([0.5] * sizes[0])), 1.0)
    for option, label, paths in (("--one-path", one_path, 1), ("--two-path", two_path, 2)):
        try:
            weight = model.weight(*nn.parse_weight_label(label))
        except ValueError as error:
            raise ValueError(f"{option} {label}: {error}") from None
        found = len(viz.explain(loss, weight, level="neuron").paths)
        if found != paths:
            raise ValueError(
                f"--network {shown} with {option} {label}: {label} reaches L along {found} "
                f"path{'s' if found != 1 else ''}, not {paths}"
                + (
                    " (a second hidden layer of 2 neurons gives the first layer's weights two"
                    " paths)"
                    if paths == 2
                    else ""
                )
            )


def _ran(neuron: nn.Neuron) -> Value:
    """The output of ``neuron`` in the latest forward pass."""
    if neuron.output is None:
        raise ValueError(f"neuron {nn.output_label(neuron.k, neuron.j)} has not run yet")
    return neuron.output


def _only(output: Value | list[Value]) -> Value:
    if isinstance(output, list):
        raise ValueError("a worksheet's network has one output")
    return output


def draw_network_sheet(
    seed: int,
    student: int,
    *,
    sizes: Sequence[int] = (4, 3, 2, 1),
    one_path: str = "w^2_21",
    two_path: str = "w^1_11",
) -> NetworkSheet:
    """Student ``student``'s network sheet for ``seed``: the same for the same arguments.

    >>> sheet = draw_network_sheet(2024, 7)
    >>> [q.id for q in sheet.questions][:7]
    ['O_11', 'O_12', 'O_13', 'O_21', 'O_22', 'O_31', 'L']
    >>> sheet == draw_network_sheet(2024, 7) != draw_network_sheet(2024, 8)
    True
    """
    check_network(sizes, one_path, two_path)
    rng = random.Random(f"chainrule worksheet {seed} {NETWORK} {student}")
    count = len(nn.MLP(sizes[0], list(sizes[1:])).parameters())

    def draw() -> NetworkSheet:
        model = _model(sizes, [rng.choice(_TENTHS) for _ in range(count)])
        inputs = tuple(rng.choice(_INPUTS) for _ in range(sizes[0]))
        target, eta = rng.choice(_TARGETS), rng.choice(_ETAS)
        weights = {w.label: w.data for w in model.parameters()}
        return NetworkSheet(student, tuple(sizes), weights, inputs, target, eta, one_path, two_path)

    return _first_well_posed(student, draw, _network_questions)


_Sheet = TypeVar("_Sheet", "NetworkSheet", "ExpressionSheet")


def _first_well_posed(
    student: int, draw: Callable[[], _Sheet], questions: Callable[[_Sheet], list[Question] | None]
) -> _Sheet:
    """The first sheet ``draw`` gives whose numbers make a good exercise, with its questions."""
    for _ in range(_MAX_DRAWS):
        sheet = draw()
        found = questions(sheet)
        if found is not None:
            return replace(sheet, questions=tuple(found))
    raise RuntimeError(f"no well-posed numbers for student {student} in {_MAX_DRAWS} draws")


def _network_questions(sheet: NetworkSheet) -> list[Question] | None:
    """The questions of a network sheet, or None when its numbers make a poor exercise."""
    model, loss = sheet.loss()
    neurons = [n for layer in model.layers for n in layer.neurons]
    low, high = _OUTPUT_RANGE
    if any(not low <= abs(_ran(n).data) <= high for n in neurons):
        return None
    output = _ran(neurons[-1])
    if abs(sheet.target - output.data) < _MIN_ERROR:
        return None
    loss.backward()
    questions: list[Question | None] = []
    for n in neurons:
        node = _ran(n)
        follows = None
        if n.k > 1:
            below = [nn.output_label(n.k - 1, i) for i in range(1, len(n.weights) + 1)]
            inputs = tuple((q, w.data) for q, w in zip(below, n.weights, strict=True))
            follows = Follows("neuron", inputs=inputs, activation=n.activation)
        questions.append(
            _question(node.label, NETWORK, node.data, _forward_slips(node), follows=follows)
        )
    questions.append(
        _question(
            "L",
            NETWORK,
            loss.data,
            _forward_slips(loss),
            follows=Follows("loss", output=output.label, target=sheet.target),
        )
    )
    rules = {
        label: viz.explain(loss, model.weight(*nn.parse_weight_label(label)), level="neuron")
        for label in (sheet.two_path, sheet.one_path)
    }
    factors: dict[str, viz.Step] = {}
    for rule in rules.values():
        for step in rule.factors():
            factors.setdefault(derivative_id(step), step)
    questions += [
        _question(fid, NETWORK, step.derivative, _factor_slips(step))
        for fid, step in factors.items()
    ]
    for label in (sheet.one_path, sheet.two_path):
        rule, name = rules[label], f"dL/d{label}"
        weight = model.weight(*nn.parse_weight_label(label))
        if not rule.agrees:  # the ledger and backward() must tell the same
            raise RuntimeError(f"{name}: the ledger's sum {rule.total} != backward's {weight.grad}")
        paths = tuple(tuple(derivative_id(s) for s in p.steps) for p in rule.paths)
        questions.append(
            _question(
                name,
                NETWORK,
                weight.grad,
                _gradient_slips(rule, name),
                follows=Follows("paths", paths=paths),
            )
        )
    questions.append(_update_question(sheet, model, rules[sheet.two_path]))
    if any(q is None for q in questions):
        return None
    return [q for q in questions if q is not None]


def _update_question(sheet: NetworkSheet, model: nn.MLP, rule: viz.ChainRule) -> Question | None:
    """``w new = w - eta * dL/dw`` for the two-path weight, with its slips: the step's
    sign, eta left out, and every slip of dL/dw carried into the step."""
    label = sheet.two_path
    weight, name = model.weight(*nn.parse_weight_label(label)), f"dL/d{label}"
    w, eta, g = weight.data, sheet.eta, weight.grad
    slips: list[tuple[Slip, bool]] = [
        (
            Slip(
                w + eta * g,
                "added eta * dL/dw: the update subtracts it, w_new = w_old - eta * dL/dw",
            ),
            True,
        ),
        (Slip(gradient_step(w, 1.0, g), "left out eta (the learning rate)"), False),
    ]
    for slip, required in _gradient_slips(rule, name):
        text = f"uses a wrong {name}: {slip.feedback}"
        slips.append((Slip(gradient_step(w, eta, slip.value), text), required))
    return _question(
        f"{label} new",
        NETWORK,
        gradient_step(w, eta, g),
        slips,
        computed=eta * g,
        follows=Follows("update", gradient=name, weight=w, eta=eta),
    )


# --- the expression sheet -------------------------------------------------------------------


@dataclass(frozen=True)
class _Form:
    """A small expression h of x through F and g, with a constant ``a``; ``text`` shows it
    with ``{a}`` for the constant."""

    text: tuple[str, str, str]
    build: Callable[[Value, float], tuple[Value, Value, Value]]
    constants: tuple[float, ...]


def _form_notes(x: Value, a: float) -> tuple[Value, Value, Value]:
    F, g = x * x, x.tanh()
    return F, g, F * g + a


def _form_scaled_tanh(x: Value, a: float) -> tuple[Value, Value, Value]:
    F, g = x * x, (x * a).tanh()
    return F, g, F * g + 1


def _form_cube(x: Value, a: float) -> tuple[Value, Value, Value]:
    F, g = x * x * x, x.tanh()
    return F, g, F * g + a


def _form_sigmoid(x: Value, a: float) -> tuple[Value, Value, Value]:
    F, g = x * x, (x * a).sigmoid()
    return F, g, F * g + F


_FORMS = (
    _Form(("x*x", "tanh(x)", "F*g + {a}"), _form_notes, (1.0, 2.0, 3.0)),
    _Form(("x*x", "tanh({a}*x)", "F*g + 1"), _form_scaled_tanh, (0.5, 2.0, 3.0)),
    _Form(("x*x*x", "tanh(x)", "F*g + {a}"), _form_cube, (1.0, 2.0)),
    _Form(("x*x", "sigmoid({a}*x)", "F*g + F"), _form_sigmoid, (-2.0, 2.0, 3.0)),
)
_X_VALUES = tuple(round(k / 10, 1) for k in range(3, 13))


@dataclass(frozen=True)
class ExpressionSheet:
    """One student's expression: ``F``, ``g`` and ``h`` of ``x``, and its questions."""

    student: int
    form: int
    x: float
    a: float
    questions: tuple[Question, ...] = field(default=(), compare=False)

    @property
    def definitions(self) -> tuple[str, str, str]:
        """``("F = x*x", "g = tanh(x)", "h = F*g + 2")``."""
        a = f"{self.a:g}"
        return tuple(  # type: ignore[return-value]
            f"{name} = {text.format(a=a)}"
            for name, text in zip("Fgh", _FORMS[self.form].text, strict=True)
        )

    def build(self) -> tuple[Value, Value]:
        """``(h, x)``: the expression's graph at this sheet's x, labelled x, F, g, h."""
        x = Value(self.x, label="x")
        F, g, h = _FORMS[self.form].build(x, self.a)
        F.label, g.label, h.label = "F", "g", "h"
        return h, x

    def ledger(self) -> viz.ChainRule:
        """:func:`viz.explain` for ``dh/dx`` at the neuron level, as on the key."""
        h, x = self.build()
        return viz.explain(h, x, level="neuron")


def draw_expression_sheet(seed: int, student: int) -> ExpressionSheet:
    """Student ``student``'s expression sheet for ``seed``.

    >>> sheet = draw_expression_sheet(2024, 7)
    >>> [q.id for q in sheet.questions]
    ['F', 'g', 'h', 'dh/dF', 'dF/dx', 'dh/dg', 'dg/dx', 'dh/dx']
    """
    rng = random.Random(f"chainrule worksheet {seed} {EXPRESSION} {student}")

    def draw() -> ExpressionSheet:
        form = rng.randrange(len(_FORMS))
        return ExpressionSheet(
            student, form, rng.choice(_X_VALUES), rng.choice(_FORMS[form].constants)
        )

    return _first_well_posed(student, draw, _expression_questions)


def _expression_questions(sheet: ExpressionSheet) -> list[Question] | None:
    h, x = sheet.build()
    named = {node.label: node for node in topological_order(h) if node.label in FORWARD}
    g = named["g"]
    if not _OUTPUT_RANGE[0] <= abs(g.data) <= _OUTPUT_RANGE[1]:  # tanh or sigmoid saturated
        return None
    rule = viz.explain(h, x, level="neuron")
    questions = [
        _question(name, EXPRESSION, named[name].data, _forward_slips(named[name]))
        for name in FORWARD
    ]
    questions += [
        _question(derivative_id(step), EXPRESSION, step.derivative, _factor_slips(step))
        for step in rule.factors()
    ]
    h.backward()
    if not rule.agrees:
        raise RuntimeError(f"dh/dx: the ledger's sum {rule.total} != backward's {x.grad}")
    paths = tuple(tuple(derivative_id(s) for s in p.steps) for p in rule.paths)
    questions.append(
        _question(
            "dh/dx",
            EXPRESSION,
            x.grad,
            _gradient_slips(rule, "dh/dx"),
            follows=Follows("paths", paths=paths),
        )
    )
    if any(q is None for q in questions):
        return None
    return [q for q in questions if q is not None]
