"""Generated code: a batch replay written out as one straight-line Python function of numpy calls.

A grouped :class:`~autograd.plan.Plan` (layers of sums as :class:`~autograd.plan.DotGroup`
s, ops on one level as :class:`~autograd.plan.OpGroup` s, single steps) becomes the
source of one function that runs the forward and the backward sweep over a whole batch,
each slot an array over the batch or a row of a matrix: no dispatch per instruction,
compiled once and kept with the program. Every line comes from the op table: each
op's forward and local derivatives are run on :class:`Expression`, a kind of number
(see :mod:`autograd.functions`) whose arithmetic writes numpy source.

What it computes is what the interpreted engine computes, in the engine's order:
forwards elementwise, each sum term by term, and each slot's gradient the sum of its
contributions in the order the engine's reverse sweep adds them. Two things differ, and
say so: a shared input's gradient is summed over the batch in numpy's order (as in
every batch replay), and a long dot group's sums are matrix products, whose rounding
error the code bounds sum by sum, ``gamma_n * sum |terms|`` against ``|sum|``
(Higham's bound for any order of summation), recomputing in the engine's order every
sum the bound does not hold to 1e-10 relative.

The function returns ``None`` when a check fires (a value that is not finite where an
op could hide it, a result near the float max, a gradient that is not finite, a
product too large for the bound), and the replay then falls back on the interpreted
engine, sample by sample, whose numbers or errors stand (:mod:`autograd.replay`).
"""

from __future__ import annotations

import itertools
import linecache
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from autograd.functions import Function, Op, op_named
from autograd.plan import DotGroup, OpGroup, Plan, Step, Traced

__all__ = ["Expression", "Generated", "generate"]

# A fused sum must agree with the engine's order to this, relative (see the guard).
AGREEMENT = 1e-10
_UNIT_ROUNDOFF = 2.0**-53
# Beyond this a product of dL/dW's matrix product may overflow (with a fused
# multiply-add, to a finite sum) where the engine's own product does not: the replay
# then runs in the engine's order.
_SAFE_MAGNITUDE = 1e300
# Near the largest float, numpy's exp and ** may round one ulp away from math's, so one
# side may overflow where the other does not: results this large go to the engine.
NEAR_OVERFLOW = 1e308


def guard_factor(terms: int) -> float:
    """K such that a fused sum of ``terms`` products with ``S = sum |terms|`` is vouched
    for when ``S * K <= |sum|``: then the matrix product and the engine's order, each
    within ``gamma_n * S`` of the exact sum, agree to :data:`AGREEMENT` relative.

    >>> guard_factor(16) < 1e-3
    True
    """
    gamma = terms * _UNIT_ROUNDOFF / (1.0 - terms * _UNIT_ROUNDOFF)
    return gamma * (2.0 + AGREEMENT) / AGREEMENT


# --- the kind of number that writes numpy source -----------------------------------------

_ATOM, _INDEX, _POWER, _UNARY, _PRODUCT, _SUM, _COMPARE = 100, 99, 14, 13, 12, 11, 6
_INFIX = {"+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT, "**": _POWER}
_UFUNCS = {
    "+": "np.add",
    "-": "np.subtract",
    "*": "np.multiply",
    "/": "np.divide",
    "**": "np.power",
}
# Helpers that are a comparison made a number: where() takes the comparison itself.
_HELPERS_WITH_CONDITIONS = {"step": ">", "is_zero": "=="}


class Expression:
    """A numpy expression as source text: a kind of number (the protocol of
    :mod:`autograd.functions`) whose arithmetic and op calls write code.

    >>> from autograd.ops import sigmoid
    >>> x = Expression.name("x")
    >>> print(render(sigmoid.derivatives[0](x, Expression.name("out"))))
    out * (1.0 - out)
    """

    __slots__ = ("batched", "condition", "operands", "precedence", "row", "template", "ufunc")

    def __init__(
        self,
        template: str,
        operands: tuple[Expression, ...] = (),
        precedence: int = _ATOM,
        condition: Expression | None = None,
        row: tuple[str, int] | None = None,
        ufunc: str = "",
        batched: bool = False,
    ) -> None:
        self.template = template  # {0}, {1}, ... stand for the operands
        self.operands = operands
        self.precedence = precedence
        self.condition = condition  # the boolean this 0/1 number is made of, for where
        self.row = row  # (matrix, index) when this is a row of a named matrix
        # The numpy ufunc computing it from its operands, which may write into a buffer.
        self.ufunc = ufunc
        # Whether it holds a value per sample (an array over the batch).
        self.batched: bool = batched or any(x.batched for x in operands)

    @staticmethod
    def name(text: str, row: tuple[str, int] | None = None, batched: bool = False) -> Expression:
        """A variable (or any atom) of the generated code."""
        return Expression(text, row=row, batched=batched or row is not None)

    @staticmethod
    def of(x: Any) -> Expression:
        """``x`` as an expression: floats become literals."""
        if isinstance(x, Expression):
            return x
        value = float(x)
        # A rule folded on constants may give inf (1.0 / 5e-324), as it does on floats.
        text = (
            repr(value) if math.isfinite(value) else f"{'-' if value < 0 else ''}np.{abs(value)!r}"
        )
        return Expression(text, precedence=_UNARY if text.startswith("-") else _ATOM)

    # Arithmetic, keeping the tree exactly as written: floats do not associate.
    def _infix(self, symbol: str, other: Any, swap: bool = False) -> Any:
        left, right = (other, self) if swap else (self, other)
        if symbol in ("*", "/") and _is_one(right):  # x * 1.0 and x / 1.0 are x, exactly
            return Expression.of(left)
        if symbol == "*" and _is_one(left):
            return Expression.of(right)
        if symbol == "**" and _is_one(right):  # x ** 1.0 is x, exactly
            return Expression.of(left)
        precedence = _INFIX[symbol]
        a, b = Expression.of(left), Expression.of(right)
        return Expression("{0} " + symbol + " {1}", (a, b), precedence, ufunc=_UFUNCS[symbol])

    def __add__(self, other: Any) -> Any:
        return self._infix("+", other)

    def __radd__(self, other: Any) -> Any:
        return self._infix("+", other, swap=True)

    def __sub__(self, other: Any) -> Any:
        return self._infix("-", other)

    def __rsub__(self, other: Any) -> Any:
        return self._infix("-", other, swap=True)

    def __mul__(self, other: Any) -> Any:
        return self._infix("*", other)

    def __rmul__(self, other: Any) -> Any:
        return self._infix("*", other, swap=True)

    def __truediv__(self, other: Any) -> Any:
        return self._infix("/", other)

    def __rtruediv__(self, other: Any) -> Any:
        return self._infix("/", other, swap=True)

    def __pow__(self, other: Any) -> Any:
        return self._infix("**", other)

    def __rpow__(self, other: Any) -> Any:
        return self._infix("**", other, swap=True)

    def __neg__(self) -> Expression:
        return Expression("-{0}", (self,), _UNARY, ufunc="np.negative")

    def __abs__(self) -> Expression:
        return call("np.abs", self)

    def __chainrule_apply__(self, function: Function, operands: tuple[Any, ...]) -> Any:
        if isinstance(function, Op):
            if function.on_arrays is function.forward:  # written in arithmetic: expand it
                return function.forward(*operands)
            return call(numpy_name(function), *operands)  # np.tanh, numpy's own
        symbol = _HELPERS_WITH_CONDITIONS.get(function.name)
        if symbol is not None:
            (x,) = operands
            condition = Expression("{0} " + symbol + " 0.0", (Expression.of(x),), _COMPARE)
            return Expression("({0}) * 1.0", (condition,), _PRODUCT, condition=condition)
        if function.name == "where":
            c, a, b = (Expression.of(x) for x in operands)
            return call("np.where", c.condition or c, a, b)
        if function.name == "sign":
            return call("np.sign", *operands)
        raise TypeError(
            f"generated code knows the helpers step, sign, is_zero and where, not {function.name!r}"
        )


def _uses(e: Expression) -> tuple[list[Expression], dict[int, int]]:
    """The sub-expressions of ``e``, each once, operands before the expressions using
    them, and how many times each is used (by ``id``)."""
    uses: dict[int, int] = {}
    order: list[Expression] = []
    stack: list[tuple[Expression, bool]] = [(e, False)]
    while stack:
        x, operands_done = stack.pop()
        if operands_done:
            order.append(x)
            continue
        uses[id(x)] = uses.get(id(x), 0) + 1
        if uses[id(x)] == 1:
            stack.append((x, True))
            stack.extend((operand, False) for operand in reversed(x.operands))
    return order, uses


def _shared_subexpressions(e: Expression) -> list[Expression]:
    """The batched sub-expressions of ``e`` used more than once (sigmoid's ``exp(-|x|)``),
    operands before the expressions using them."""
    order, uses = _uses(e)
    return [x for x in order if x is not e and x.batched and x.operands and uses[id(x)] > 1]


class Memory:
    """The buffers of one generated function, kept between calls: a set of arrays per
    batch size and thread (a few sizes at most: a mini-batch's and the last one's).

    >>> mem = Memory({"Z1": ((3, "n"), "float")})(5)
    >>> mem.Z1.shape
    (3, 5)
    """

    def __init__(self, shapes: dict[str, tuple[tuple[int | str, ...], str]]) -> None:
        self.shapes = dict(shapes)
        self.sets: dict[tuple[int, int], SimpleNamespace] = {}

    def __call__(self, n: int) -> SimpleNamespace:
        key = (n, threading.get_ident())
        buffers = self.sets.get(key)
        if buffers is None:
            if len(self.sets) >= 4:
                self.sets.clear()
            buffers = self.sets[key] = SimpleNamespace(
                **{
                    name: np.empty([n if d == "n" else int(d) for d in shape], dtype=kind)
                    for name, (shape, kind) in self.shapes.items()
                }
            )
        return buffers


def _same(a: Any, b: Any) -> bool:
    """Whether two operands are the same number: one expression, or equal constants
    (each ``** 2`` of a graph has a constant 2.0 of its own)."""
    if isinstance(a, Expression) or isinstance(b, Expression):
        return a is b or (
            isinstance(a, Expression) and isinstance(b, Expression) and render(a) == render(b)
        )
    return bool(a == b and math.copysign(1.0, a) == math.copysign(1.0, b))


def _compound(x: Any) -> bool:
    return isinstance(x, Expression) and bool(x.operands)


def _is_one(x: Any) -> bool:
    return type(x) is float and x == 1.0


def call(function: str, *operands: Any) -> Expression:
    """``function(operands...)`` as an expression."""
    args = tuple(Expression.of(x) for x in operands)
    template = function + "(" + ", ".join(f"{{{i}}}" for i in range(len(args))) + ")"
    is_ufunc = isinstance(getattr(np, function[3:], None), np.ufunc) and function[:3] == "np."
    return Expression(template, args, ufunc=function if is_ufunc else "")


def numpy_name(op: Op) -> str:
    """How generated code calls an op's forward on arrays: ``np.tanh`` for numpy's own
    function, else ``arrays['name']``, the row's ``on_arrays`` looked up when it runs."""
    function = op.on_arrays
    name = getattr(function, "__name__", "")
    if getattr(np, name, None) is function:
        return f"np.{name}"
    return f"arrays[{op.name!r}]"


class _OnArrays:
    """``arrays[name]``: the op table's row ``name``, its forward on arrays."""

    def __getitem__(self, name: str) -> Callable[..., Any]:
        return op_named(name).on_arrays


def render(expression: Any, names: dict[int, str] | None = None) -> str:
    """The source text of an expression (or a float); ``names`` maps sub-expressions
    already assigned to variables, by ``id``, to their names."""
    e = Expression.of(expression)
    names = names or {}
    if id(e) in names:
        return names[id(e)]
    if not e.operands:
        return e.template
    texts = []
    for position, operand in enumerate(e.operands):
        text = render(operand, names)
        inner = _ATOM if id(operand) in names else operand.precedence
        # Brackets keep the tree: a right operand of equal precedence (a - (b - c), and
        # a + (b + c), which floats do not associate), a left operand of ** likewise.
        right = position == 1
        needs = inner < e.precedence or (
            inner == e.precedence and (right != (e.precedence == _POWER)) and len(e.operands) == 2
        )
        if e.precedence == _ATOM:  # a call's arguments
            needs = False
        elif e.precedence == _INDEX:  # x[...] of anything but an atom: (a + b)[...]
            needs = inner < _ATOM
        texts.append(f"({text})" if needs else text)
    return e.template.format(*texts)


# --- the generated function --------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    """A plan's generated code: its source, compiled, and what it runs with.

    :meth:`function` makes the function ``replay(w, X, s, with_grad)``: it takes the
    shared inputs' values in order (``w``), the batched inputs as the rows of ``X``
    (one column per sample) and the values of the shared steps (``s``), and returns
    ``(output, gradients of w summed over the batch, gradients of the rows of X or None
    if none requires grad)``, or None when a check fires.
    """

    source: str
    code: Any  # the compiled module defining replay()
    constants: dict[str, Any]  # the index arrays and factors the code reads
    buffers: dict[str, tuple[tuple[int | str, ...], str]]
    # Multiply-adds of its largest matrix product, per sample (0: none; BLAS may thread them).
    product_size: int

    def function(self) -> Callable[..., Any]:
        """A new ``replay`` function, with buffers of its own."""
        namespace: dict[str, Any] = {"np": np, "memory": Memory(self.buffers), **self.constants}
        exec(self.code, namespace)
        # Taken out of its own globals, so that it and they form no reference cycle.
        function: Callable[..., Any] = namespace.pop("replay")
        return function


def generate(program: Traced, plan: Plan) -> Generated:
    """The generated code of ``plan`` (a grouped plan of ``program``), compiled."""
    writer = _Writer(program, plan)
    source = writer.write()
    # Kept where tracebacks and debuggers look for source lines, once per source.
    filename = f"<chainrule generated replay {hash(source) & 0xFFFFFFFF:08x}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    return Generated(source, code, writer.namespace, writer.buffers, writer.product_size)


class _Writer:
    """Writes the function: where each slot's value and gradient live, line by line."""

    def __init__(self, program: Traced, plan: Plan) -> None:
        self.program, self.plan = program, plan
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "arrays": _OnArrays(),
            "in_order": in_order,
            "isfinite": math.isfinite,
        }
        self.product_size = 0
        self.counter = itertools.count(1)
        self.value: dict[int, Any] = {}  # Expressions, and floats for constants
        # Each slot's gradient contributions: (the engine's order, expression).
        self.contributions: dict[int, list[tuple[tuple[int, int], Expression]]] = {}
        self.gradient_of: dict[int, Expression] = {}
        # Gradients already summed over the batch: (inputs, their totals).
        self.totals: list[tuple[np.ndarray, Expression]] = []
        self.rows_in: dict[str, int] = {"X": len(np.flatnonzero(plan.batched_inputs))}
        self.kept: dict[DotGroup | OpGroup, tuple[Any, ...]] = {}
        self.checked_finite: list[str] = []  # variables and matrices
        self.checked_bounded: list[str] = []
        # The arrays kept between calls, by name: their shapes ("n": the batch) and types.
        self.buffers: dict[str, tuple[tuple[int | str, ...], str]] = {}
        self.one: Expression | None = None  # dL/dL, the gradient of the output

    # -- helpers ----------------------------------------------------------------------------

    def emit(self, line: str, indent: int = 1) -> None:
        self.lines.append("    " * indent + line)

    def assign(self, name: str, expression: Any, comment: str = "") -> Expression:
        """``name = expression``, sub-expressions used twice assigned first."""
        e = Expression.of(expression)
        names: dict[int, str] = {}
        order, uses = _uses(e)
        for x in order:
            if x is not e and x.operands and uses[id(x)] > 1:
                temp = f"t{next(self.counter)}"
                self.emit(f"{temp} = {render(x, names)}")
                names[id(x)] = temp
        self.emit(f"{name} = {render(e, names)}" + (f"  # {comment}" if comment else ""))
        return Expression.name(name, batched=e.batched)

    def buffer(self, name: str, shape: tuple[int | str, ...], kind: str = "float") -> str:
        """``mem.name``: an array of this shape kept from call to call, so that large
        results are written where the last call's were (``out=``), not allocated anew:
        a new large array costs its pages' first touch, each time."""
        self.buffers[name] = (shape, kind)
        return f"mem.{name}"

    def into(self, name: str, rows: int, expression: Any, comment: str = "") -> Expression:
        """``name = expression`` for a (rows, n) matrix, computed in a buffer: one numpy
        call per operation, each writing into the buffer (or another for an operand
        that needs one of its own); the expression itself as a comment."""
        e = Expression.of(expression)
        target = self.buffer(name, (rows, "n"))
        first = len(self.lines)
        names: dict[int, str] = {}
        for x in _shared_subexpressions(e):
            temp = f"T{next(self.counter)}"
            self.evaluate(temp, self.buffer(temp, (rows, "n")), x, names)
            names[id(x)] = temp
        self.evaluate(name, target, e, names)
        if len(self.lines) - first > 1:  # several lines: the expression they compute first
            note = f" ({comment})" if comment else ""
            self.lines.insert(first, f"    # {name} = {render(e)}{note}")
        elif comment:
            self.lines[first] += f"  # {comment}"
        self.rows_in[name] = rows
        return Expression.name(name, batched=True)

    def evaluate(self, name: str, target: str, e: Expression, names: dict[int, str]) -> None:
        """Lines leaving ``e`` in the buffer ``target``, bound to ``name``."""
        # Operands computed by a ufunc of their own go through the buffers too; others
        # (a row stretched, g[None]; np.where) are written out where they are used.
        in_place = [
            x.batched and bool(x.ufunc) and bool(x.operands) and id(x) not in names
            for x in e.operands
        ]
        if not e.ufunc or id(e) in names:
            self.emit(f"{name} = {target}")
            self.emit(f"{name}[...] = {render(e, names)}")
            return
        args = []
        for x, here in zip(e.operands, in_place, strict=True):
            if here and name not in args:  # the first such operand is computed in place
                self.evaluate(name, target, x, names)
                args.append(name)
            elif here:
                temp = f"T{next(self.counter)}"
                shape = self.buffers[target[4:]]
                self.evaluate(temp, self.buffer(temp, shape[0]), x, names)
                args.append(temp)
            else:
                args.append(render(x, names))
        if name in args:  # in place, on the buffer already named
            self.emit(f"{e.ufunc}({', '.join(args)}, out={name})")
        else:
            self.emit(f"{name} = {e.ufunc}({', '.join(args)}, out={target})")

    def constant(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{next(self.counter)}"
        self.namespace[name] = value
        return name

    def entries(self, inputs: Any) -> str:
        """A constant of the code: the entries of ``w`` holding these shared inputs."""
        return self.constant("I", self.positions[np.asarray(inputs, dtype=np.intp)])

    def matrix(self, slots: Sequence[int], exprs: Sequence[Expression] | None = None) -> Expression:
        """The rows ``slots`` (or these expressions) as one matrix: a slice of a named
        matrix when they are its rows at equal steps, else stacked."""
        rows = list(exprs) if exprs is not None else [self.value[i] for i in slots]
        places = [e.row for e in rows]
        if all(p is not None for p in places):
            matrices = {p[0] for p in places}  # type: ignore[index]
            indices = [p[1] for p in places]  # type: ignore[index]
            if len(matrices) == 1:
                (m,) = matrices
                if len(indices) == 1:
                    return Expression.name(f"{m}[{indices[0]}:{indices[0] + 1}]", batched=True)
                if indices == list(range(self.rows_in.get(m, -1))):
                    return Expression.name(m, batched=True)
                step = indices[1] - indices[0]
                if step > 0 and all(b - a == step for a, b in itertools.pairwise(indices)):
                    stop = indices[-1] + 1
                    stride = "" if step == 1 else f":{step}"
                    start = "" if indices[0] == 0 else str(indices[0])
                    return Expression.name(f"{m}[{start}:{stop}{stride}]", batched=True)
                index = self.constant("R", np.array(indices, dtype=np.intp))
                return Expression.name(f"{m}[{index}]", batched=True)
        if len(rows) == 1:
            return Expression("{0}[None]", (rows[0],), _INDEX)
        return call(
            "np.stack",
            Expression("[" + ", ".join(f"{{{i}}}" for i in range(len(rows))) + "]", tuple(rows)),
        )

    def stacked(self, name: str, arg: Expression, rows: int) -> Expression:
        """A group's operand: rows stacked into a buffer, or a column of shared values."""
        if arg.batched and arg.template.startswith("np.stack("):
            self.emit(f"{name} = {render(arg)[:-1]}, out={self.buffer(name, (rows, 'n'))})")
            self.rows_in[name] = rows
            return Expression.name(name, batched=True)
        return self.assign(name, arg)

    def rows_of(self, name: str, slots: Sequence[int]) -> None:
        self.rows_in[name] = len(slots)
        for k, slot in enumerate(slots):
            self.value[slot] = self.row(name, k)

    def row(self, matrix: str, k: int) -> Expression:
        return Expression.name(f"{matrix}[{k}]", row=(matrix, k))

    def shared_column(self, slots: Sequence[int]) -> Any:
        """Shared operands of a group as a column against its rows, or one number when
        they are all the same: numpy squares ``x ** 2.0`` far faster than with 2s."""
        values = [self.value[i] for i in slots]
        first = values[0]
        if all(_same(v, first) for v in values):
            return first
        return Expression(
            "np.array([" + ", ".join(f"{{{i}}}" for i in range(len(values))) + "])[:, None]",
            tuple(Expression.of(v) for v in values),
        )

    # -- the whole function ---------------------------------------------------------------

    def write(self) -> str:
        program, plan = self.program, self.plan
        batched = [int(i) for i in np.flatnonzero(plan.batched_inputs)]
        # An input's entry of w (shared inputs) or row of X (batched ones).
        self.positions = np.cumsum(~plan.batched_inputs) - 1
        self.value = _Values(self.value, self.positions, plan.batched_inputs)
        for r, i in enumerate(batched):
            self.value[i] = self.row("X", r)
        self.batched_slots = set(batched) | {s for item in plan.batched for s in _outs(item)}
        for slot, constant in program.constants:
            # A float, so that rules fold what depends on constants alone (x ** 2.0's
            # derivative is 2.0 * x), as they do on floats in the interpreted replay.
            self.value[slot] = constant
        for k, step in enumerate(plan.shared):
            self.value[step.out] = Expression.name(f"s[{k}]")
        self.emit("def replay(w, X, s, with_grad):", 0)
        self.emit(f'"""{_describe(program)}: generated by autograd.codegen."""')
        self.emit("n = X.shape[1]")
        self.emit("mem = memory(n)  # the arrays kept from the last call of this size")
        self.emit("# forward")
        for item in plan.batched:
            if isinstance(item, DotGroup):
                self.dot_forward(item)
            elif isinstance(item, OpGroup):
                self.group_forward(item)
            else:
                self.step_forward(item)
        out = self.value[program.output]
        if program.output not in self.batched_slots:  # the same for every sample
            out = call("np.full", Expression.name("n"), out)
        elif program.output < program.n_inputs or out.row is not None:
            out = call("np.array", out)  # the caller's own array, not a row of a buffer
        self.value[program.output] = self.assign("out", out)
        self.checks()
        self.emit("if not with_grad:")
        self.emit("return out, None, None", 2)
        self.emit("# backward: each gradient the sum of its contributions in the engine's order")
        if program.output in plan.active:
            one = Expression.name("np.ones(n)", batched=True)  # dL/dL, written where needed
            self.contributions[program.output] = [((1, 0), one)]
            self.one = one
        for item in reversed(plan.steps):
            if isinstance(item, DotGroup):
                self.dot_backward(item)
            elif isinstance(item, OpGroup):
                self.group_backward(item)
            elif item.backward:
                self.step_backward(item)
        self.input_gradients(batched)
        return "\n".join(self.lines) + "\n"

    # -- forward ----------------------------------------------------------------------------

    def step_forward(self, step: Step) -> None:
        operands = [self.value[i] for i in step.operands]
        e = step.op(*operands)
        # An op written in arithmetic is expanded: say which it was.
        expanded = not (step.op.infix or step.op.elementary)
        written = step.op.written([render(x) for x in operands]) if expanded else ""
        self.value[step.out] = self.assign(f"v{step.out}", e, written)
        self.note_checks(step.out)

    def group_forward(self, group: OpGroup) -> None:
        k = next(self.counter)
        args = [
            self.shared_column(column) if shared else self.matrix(column)
            for column, shared in zip(group.operands, group.shared, strict=True)
        ]
        # Stacked operands get a name: the backward sweep reads them again.
        m = len(group.outs)
        names = [
            self.stacked(f"A{k}_{position}", arg, m) if _compound(arg) else arg
            for position, arg in enumerate(args)
        ]
        out = self.into(
            f"V{k}", m, group.op(*names), f"{group.op.name} of {m} slots: {_slots(group.outs)}"
        )
        self.kept[group] = (*names, out)
        self.rows_of(out.template, group.outs)
        for slot in group.outs:
            self.note_checks(slot)

    def dot_forward(self, group: DotGroup) -> None:
        k = next(self.counter)
        terms, sums = group.weights.shape
        what = f"{sums} sum{'s' if sums > 1 else ''} of {terms} products w * v"
        bias = " + b" if group.biases else ""
        how = "added as the engine adds them" if group.exact else "as a matrix product"
        self.emit(f"# {what}{bias} ({_slots(group.roots)}), {how}")
        W = f"W{k}"
        self.emit(f"{W} = w[{self.entries(group.weights)}]")
        V = render(self.matrix(group.vectors))
        if V.startswith("np.stack("):
            V = self.stacked(f"V{k}", self.matrix(group.vectors), terms).template
        B = None
        if group.biases is not None:
            B = f"B{k}"
            self.emit(f"{B} = w[{self.entries(group.biases)}]")
        Z = f"Z{k}"
        if group.exact:
            P = f"P{k}"
            out = self.buffer(P, (terms, sums, "n"))
            self.emit(f"{P} = np.multiply({W}[:, :, None], {V}[:, None, :], out={out})")
            added = [f"{P}[{t}]" for t in range(terms)] + ([f"{B}[:, None]"] if B else [])
            self.emit(f"{Z} = np.add({added[0]}, {added[1]}, out={self.buffer(Z, (sums, 'n'))})")
            for term in added[2:]:
                self.emit(f"{Z} += {term}")
            self.kept[group] = (W, V)
        else:
            self.product_size = max(self.product_size, terms * sums)
            self.emit(f"{Z} = np.matmul({W}.T, {V}, out={self.buffer(Z, (sums, 'n'))})")
            if B is not None:
                self.emit(f"{Z} += {B}[:, None]")
            self.emit(
                "# the rounding guard: sum |w * v| <= sum |w| * max |v| for each sum and "
                "sample; a sum it cannot vouch for is added in the engine's order"
            )
            aW, mV = f"aW{k}", f"mV{k}"
            self.emit(f"{aW} = np.abs({W})")
            self.emit(f"{mV} = np.abs({V}, out={self.buffer(f'aV{k}', (terms, 'n'))}).max(axis=0)")
            if B is None:
                self.guard(Z, f"{aW}.sum(axis=0)", mV, terms, sums)
            else:  # sum |w| * max |v| + |b| <= (sum |w| + |b|) * max(max |v|, 1)
                row = f"({aW}.sum(axis=0) + np.abs({B}))"
                self.guard(Z, row, f"np.maximum({mV}, 1.0)", terms + 1, sums)
            self.emit(f"in_order({W}, {V}, unsure, {B}, {Z})", 2)
            self.kept[group] = (W, V, aW, mV)
        self.rows_of(Z, group.roots)
        for slot in group.roots:
            self.note_checks(slot)

    def guard(self, result: str, row: str, column: str, terms: int, rows: int) -> None:
        """The rounding guard of the sums of ``terms`` terms in ``result``: the sum of
        their magnitudes is at most ``row[j] * column[s]`` for entry (j, s). ``unsure``
        marks the entries it cannot vouch for, which the ``if`` opened here recomputes.

        No check of overflow is needed: an infinite bound marks every entry, and a
        finite one keeps every partial sum finite in any order of adding (to within
        rounding of the float max; a sum that overflows all the same is not finite, and
        the checks send the replay to the engine)."""
        K = self.constant("K", guard_factor(terms))
        bound = self.buffer(f"S{result}", (rows, "n"))
        self.emit(f"S = np.multiply.outer({row} * {K}, {column}, out={bound})")
        absolute = self.buffer(f"abs{result}", (rows, "n"))
        unsure = self.buffer(f"unsure{result}", (rows, "n"), "bool")
        self.emit(f"unsure = np.less(np.abs({result}, out={absolute}), S, out={unsure})")
        self.emit("if unsure.any():")

    def note_checks(self, slot: int) -> None:
        """Note the variable or matrix holding ``slot`` if the plan checks the slot."""
        e = self.value[slot]
        container = e.row[0] if e.row else e.template
        if slot in self.plan.finite and container not in self.checked_finite:
            self.checked_finite.append(container)
        if slot in self.plan.bounded and container not in self.checked_bounded:
            self.checked_bounded.append(container)

    def checks(self) -> None:
        """One look per variable or matrix: a sum is finite only if every term is, and
        the largest |value| is not nan only if none is."""
        finite = [c for c in self.checked_finite if c not in self.checked_bounded]
        if finite:
            total = " + ".join(f"{c}.sum()" for c in finite)
            self.emit(f"if not isfinite({total}):  # a value an op may hide is not finite")
            self.emit("return None", 2)
        for c in self.checked_bounded:
            self.emit(f"if not np.abs({c}).max() <= {NEAR_OVERFLOW!r}:  # near the float max")
            self.emit("return None", 2)

    # -- backward ---------------------------------------------------------------------------

    def contribute(self, slot: int, order: tuple[int, int], e: Expression) -> None:
        self.contributions.setdefault(slot, []).append((order, e))

    def gradient(self, slot: int) -> Expression | None:
        """dL/d(slot) over the batch: its contributions added in the engine's order."""
        if slot in self.gradient_of:
            return self.gradient_of[slot]
        parts = [e for _, e in sorted(self.contributions.get(slot, []), key=lambda c: c[0])]
        if not parts:
            return None
        if len(parts) == 1:
            g = parts[0]
        else:
            name = f"g{slot}"
            self.emit(f"{name} = {render(parts[0])} + {render(parts[1])}")
            for p in parts[2:]:
                self.emit(f"{name} += {render(p)}")
            g = Expression.name(name)
        self.gradient_of[slot] = g
        return g

    def gradient_matrix(self, slots: Sequence[int]) -> tuple[Expression, Expression | None] | None:
        """The gradients of ``slots`` as the rows of a matrix, and the one row they all
        are when they are the same (the terms of one sum): then the matrix is that row,
        ``g[None]``, which numpy stretches to every row it meets."""
        rows = [self.gradient(slot) for slot in slots]
        if all(r is None for r in rows):
            return None
        zero = Expression.name("np.zeros(n)", batched=True)
        present = [zero if r is None else r for r in rows]
        if len(present) > 1 and all(_same(r, present[0]) for r in present):
            row = present[0]
            return Expression("{0}[None]", (row,), _INDEX), row
        m = self.matrix(slots, present)
        if not m.operands:
            return m, None
        return self.stacked(f"G{next(self.counter)}", m, len(slots)), None

    def step_backward(self, step: Step) -> None:
        g = self.gradient(step.out)
        if g is None:
            return
        operands = [self.value[i] for i in step.operands]
        rules = zip(step.operands, step.op.derivatives, strict=True)
        # Two edges to one operand (x * x) are two contributions, in operand order.
        for index, (slot, rule) in enumerate(rules):
            if slot not in self.plan.active:
                continue
            local = _rule(rule, operands, self.value[step.out])
            if isinstance(local, BaseException):
                self.raise_at_runtime(local)
                return
            key = (-step.out, index)
            if _is_one(local):  # the engine multiplies by 1.0: the gradient itself
                self.contribute(slot, key, g)
            elif g is self.one and isinstance(local, Expression) and local.batched:
                self.contribute(slot, key, self.assign(f"c{step.out}_{index}", local))  # 1 * x
            else:
                self.contribute(slot, key, self.assign(f"c{step.out}_{index}", g * local))

    def group_backward(self, group: OpGroup) -> None:
        gradients = self.gradient_matrix(group.outs)
        if gradients is None:
            return
        G, row = gradients
        *operands, out = self.kept[group]
        k = next(self.counter)
        for position, rule in group.backward:
            local = _rule(rule, operands, out)
            if isinstance(local, BaseException):
                self.raise_at_runtime(local)
                return
            m = len(group.outs)
            members = zip(group.operands[position], group.outs, strict=True)
            if _is_one(local) and row is not None:  # each member passes the one row on
                for slot, member_out in members:
                    self.contribute(slot, (-member_out, position), row)
                continue
            C = G if _is_one(local) else self.into(f"C{k}_{position}", m, G * local)
            self.rows_in.setdefault(C.template, m)
            for m, (slot, member_out) in enumerate(members):
                self.contribute(slot, (-member_out, position), self.row(C.template, m))

    def dot_backward(self, group: DotGroup) -> None:
        """dL/dV (each vector's contributions from the sums, in the engine's order), dL/dW
        and dL/db summed over the batch."""
        gradients = self.gradient_matrix(group.roots)
        if gradients is None:
            return
        G, row = gradients
        k = next(self.counter)
        if row is not None:  # a matrix product needs every row
            shape = Expression.name(f"({len(group.roots)}, n)")
            G = self.assign(f"G{k}", call("np.broadcast_to", row, shape))
        W, V, *kept = self.kept[group]
        g = G.template
        terms, sums = group.weights.shape
        if not group.exact:
            mG = f"mG{k}"
            self.emit(f"{mG} = np.abs({g}, out={self.buffer(f'aG{k}', (sums, 'n'))}).max(axis=0)")
        active = [i for i, slot in enumerate(group.vectors) if slot in self.plan.active]
        if active:
            gV = f"gV{k}"
            if group.exact:
                C = f"C{k}"
                out = self.buffer(C, (terms, sums, "n"))
                self.emit(f"{C} = np.multiply({W}[:, :, None], {g}[None, :, :], out={out})")
                added = [f"{C}[:, {j}]" for j in group.order]
                if len(added) == 1:
                    self.emit(f"{gV} = {added[0]}")
                else:
                    out = self.buffer(gV, (terms, "n"))
                    self.emit(f"{gV} = np.add({added[0]}, {added[1]}, out={out})")
                for term in added[2:]:
                    self.emit(f"{gV} += {term}")
            else:
                self.emit(f"{gV} = np.matmul({W}, {g}, out={self.buffer(gV, (terms, 'n'))})")
                if sums > 1:  # a sum over the sums j (one term each when there is one sum)
                    self.guard(gV, f"{kept[0]}.sum(axis=1)", mG, sums, terms)
                    order = self.constant("O", np.array(group.order, dtype=np.intp))
                    ordered = f"{W}.T[{order}], {g}[{order}]"
                    self.emit(f"in_order({ordered}, unsure, None, {gV})", 2)
            self.rows_in[gV] = terms
            for i in active:
                self.contribute(group.vectors[i], (0, 0), self.row(gV, i))
        if any(i in self.plan.active for i in group.weights.ravel().tolist()):
            if group.exact:  # each sample's g * v, then the batch's sum, as any replay
                D = f"D{k}"
                out = self.buffer(D, (terms, sums, "n"))
                self.emit(f"{D} = np.multiply({V}[:, None, :], {g}[None, :, :], out={out})")
                total = f"{D}.sum(axis=2)"
            else:
                # Below this no product g * v nor any partial sum of them overflows, in
                # whatever order the matrix product adds them.
                self.emit(f"if not {mG}.max() * {kept[1]}.max() * n < {_SAFE_MAGNITUDE!r}:")
                self.emit("return None  # products near overflow", 2)
                total = f"({g} @ {V}.T).T"
            self.totals.append((group.weights, Expression.name(total)))
        if group.biases is not None and any(b in self.plan.active for b in group.biases):
            biases = np.array(group.biases, dtype=np.intp)
            self.totals.append((biases, Expression.name(f"{g}.sum(axis=1)")))

    def raise_at_runtime(self, error: BaseException) -> None:
        """A rule that fails on constants fails for every sample: let the engine say so."""
        self.emit(f"raise {type(error).__name__}({str(error)!r})")

    def input_gradients(self, batched: list[int]) -> None:
        """Shared inputs' gradients summed over the batch into ``gw``, batched inputs'
        gradients as the rows of ``gX`` (None when no batched input requires grad)."""
        plan = self.plan
        # (inputs, their totals over the batch; a single input's total is a number)
        writes: list[tuple[np.ndarray, str]] = []
        by_matrix: dict[str, list[tuple[int, int]]] = {}
        for i in plan.learning:
            g = None if plan.batched_inputs[i] else self.gradient(i)
            if g is None:
                continue
            if g.row is not None:  # rows of one matrix: one reduction for all of them
                by_matrix.setdefault(g.row[0], []).append((i, g.row[1]))
            else:
                writes.append((np.array(i), f"{render(g)}.sum()"))
        for name, pairs in by_matrix.items():
            rows = [self.row(name, r) for _, r in pairs]
            m = render(self.matrix([], rows))
            writes.append((np.array([i for i, _ in pairs]), f"{m}.sum(axis=1)"))
        writes += [(inputs, render(total)) for inputs, total in self.totals]
        self.emit(f"gw = np.zeros({int(np.count_nonzero(~plan.batched_inputs))})")
        everything = np.concatenate([inputs.ravel() for inputs, _ in writes] or [np.zeros(0)])
        distinct = len(set(everything.tolist())) == len(everything)
        for inputs, total in writes:
            if inputs.ndim == 0:
                self.emit(f"gw[{self.positions[int(inputs)]}] += {total}")
            elif distinct:  # each input written once: plain assignment
                self.emit(f"gw[{self.entries(inputs)}] = {total}")
            else:
                self.emit(f"np.add.at(gw, {self.entries(inputs)}, {total})")
        check = "gw.sum()"
        learning_rows = [(r, i) for r, i in enumerate(batched) if i in plan.learning]
        if learning_rows:
            self.emit(f"gX = np.zeros(({len(batched)}, n))")
            for r, i in learning_rows:
                g = self.gradient(i)
                if g is not None:
                    self.emit(f"gX[{r}] = {render(g)}")
            check += " + gX.sum()"
        else:
            self.emit("gX = None")
        self.emit(f"if not isfinite({check}):  # a gradient is not finite")
        self.emit("return None", 2)
        self.emit("return out, gw, gX")


class _Values(dict[int, Any]):
    """Where each slot's value is: an expression, or a float for a constant; a shared
    input's, ``w[k]``, made when first asked for (a network has hundreds)."""

    def __init__(self, values: dict[int, Any], positions: np.ndarray, batched: np.ndarray) -> None:
        super().__init__(values)
        self.positions, self.batched = positions, batched

    def __missing__(self, slot: int) -> Any:
        if slot < len(self.batched) and not self.batched[slot]:
            value = self[slot] = Expression.name(f"w[{self.positions[slot]}]")
            return value
        raise KeyError(slot)


def _outs(item: Step | DotGroup | OpGroup) -> tuple[int, ...]:
    if isinstance(item, DotGroup):
        return item.roots
    if isinstance(item, OpGroup):
        return item.outs
    return (item.out,)


def _rule(rule: Callable[..., Any], operands: Sequence[Any], out: Any) -> Any:
    """A local derivative as an expression (a float where it folds to one), or the
    error it raises on constants."""
    try:
        return rule(*operands, out)
    except (ArithmeticError, ValueError) as error:
        return error


def _slots(slots: Sequence[int]) -> str:
    shown = ", ".join(f"v{s}" for s in slots[:4])
    return shown + (f", ... v{slots[-1]}" if len(slots) > 4 else "")


def _describe(program: Traced) -> str:
    return (
        f"The batch replay of a program of {program.n_inputs} inputs and "
        f"{len(program.instructions)} instructions"
    )


def in_order(
    A: np.ndarray, B: np.ndarray, unsure: np.ndarray, last: np.ndarray | None, result: np.ndarray
) -> None:
    """Set ``result[r, c]`` to ``sum_k A[k, r] * B[k, c] (+ last[r])`` at the entries
    marked in ``unsure``, each added term by term in order k = 0, 1, ...: the engine's
    order.

    >>> A = np.array([[1e80], [1.0], [-1e80]]); B = np.ones((3, 1)); result = np.ones((1, 1))
    >>> in_order(A, B, np.array([[True]]), None, result); result  # (1e80 + 1.0) - 1e80
    array([[0.]])
    """
    rows, columns = np.nonzero(unsure)
    # cumsum adds left to right by definition, each partial sum rounded: a + b + c as
    # (a + b) + c, whatever the shape.
    sums = np.cumsum(A[:, rows] * B[:, columns], axis=0)[-1]
    result[rows, columns] = sums if last is None else sums + last[rows]
