"""Local derivatives as formulas: the op table's own rules, run on symbols.

The rules of :data:`autograd.OPS` are plain arithmetic, so they run on :class:`Formula`
as they run on floats: ``OPS["tanh"].derivatives[0](z, O_11)`` gives ``1 - O_11^2``. A
Formula is a kind of number of :mod:`autograd.functions`' protocol: an op or helper met in
a rule becomes a call (``cos(x)``, ``step(z_11)``), written with the row's name and LaTeX.
No second table of derivatives or functions is typed here; this module only knows how to
build, simplify and print sums, products and powers, so that ``1 * x`` is ``x`` and
``x + 0`` is ``x``.

Every formula also carries its value (``data``), which the rules that branch on a value
(``**`` at 0, relu's step) read, and which :meth:`Formula.text` can substitute for each
symbol: ``(1 - O_11^2) * x_1`` becomes ``(1 - 0.6022^2) * (-0.9007)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from autograd import Function, Op, Value, op_named
from autograd.ops import where
from nn.notation import parse_label, pre_activation_of
from viz._labels import html_symbol, latex_symbol, number

__all__ = ["Digits", "Formula", "NodeFormulas", "digits_to_show", "local_formula"]

# How tightly each kind binds, for brackets.
_SUM, _PRODUCT, _POWER, _ATOM = 1, 2, 3, 4


class Formula:
    """A symbolic expression: a number, a named symbol, a sum, product, power or call.

    Build one with :meth:`symbol` and :meth:`constant`, then ``+ - * / **``; the result is
    simplified as it is built (numbers folded, ``1 *`` and ``+ 0`` dropped, ``x * x`` is
    ``x^2``).

    >>> o = Formula.symbol("O_11", 0.5); x = Formula.symbol("x_1", -2.0)
    >>> d = (1.0 - o * o) * x
    >>> print(d.text()), print(d.text(values=True)), d.data
    (1 - O_11^2) * x_1
    (1 - 0.5^2) * (-2)
    (None, None, -1.5)
    """

    __slots__ = ("args", "data", "function", "kind", "name")

    def __init__(
        self,
        kind: str,
        data: float,
        name: str = "",
        args: tuple[Formula, ...] = (),
        function: Function | None = None,
    ) -> None:
        self.kind = kind  # "number", "symbol", "sum", "product", "power" or "call"
        self.data = data
        self.name = name
        self.args = args
        self.function = function  # what a call calls

    # --- building --------------------------------------------------------------------
    @classmethod
    def symbol(cls, name: str, value: float) -> Formula:
        """A named quantity such as ``O_11``, whose value is ``value``."""
        return cls("symbol", float(value), name=name)

    @classmethod
    def constant(cls, value: float) -> Formula:
        """A plain number."""
        return cls("number", float(value))

    @classmethod
    def call(cls, function: Function, *args: Formula | float) -> Formula:
        """``function(args)``: an op of :data:`autograd.OPS` or a helper such as ``step``;
        its value computed by the function itself, a number if every argument is one."""
        operands = [_lift(a) for a in args]
        value = float(function(*(a.data for a in operands)))
        if all(a.kind == "number" for a in operands):
            return cls.constant(value)
        return cls("call", value, name=function.name, args=tuple(operands), function=function)

    def _key(self) -> tuple[Any, ...]:
        """Structural identity, to merge ``x * x`` into ``x^2``."""
        value = self.data if self.kind == "number" else None
        return (self.kind, self.name, value, *(a._key() for a in self.args))

    def __add__(self, other: Formula | float) -> Formula:
        return _sum([self, _lift(other)])

    def __radd__(self, other: float) -> Formula:
        return _sum([_lift(other), self])

    def __sub__(self, other: Formula | float) -> Formula:
        return _sum([self, _product([Formula.constant(-1.0), _lift(other)])])

    def __rsub__(self, other: float) -> Formula:
        return _sum([_lift(other), _product([Formula.constant(-1.0), self])])

    def __neg__(self) -> Formula:
        return _product([Formula.constant(-1.0), self])

    def __mul__(self, other: Formula | float) -> Formula:
        return _product([self, _lift(other)])

    def __rmul__(self, other: float) -> Formula:
        return _product([_lift(other), self])

    def __truediv__(self, other: Formula | float) -> Formula:
        return _product([self, _power(_lift(other), Formula.constant(-1.0))])

    def __rtruediv__(self, other: float) -> Formula:
        return _product([_lift(other), _power(self, Formula.constant(-1.0))])

    def __pow__(self, other: Formula | float) -> Formula:
        return _power(self, _lift(other))

    def __abs__(self) -> Formula:
        return Formula.call(op_named("abs"), self)

    def __chainrule_apply__(self, function: Function, operands: tuple[Any, ...]) -> Any:
        """An op or helper of the table met in a rule: ``+ * / **`` are arithmetic, any
        other a call kept as a formula (``cos(x)``, ``step(z_11)``); ``where`` picks a
        branch by value."""
        if function is where:
            condition, if_true, if_false = operands
            return if_true if _lift(condition).data else if_false
        if isinstance(function, Op) and function.infix:
            return function.forward(*operands)
        return Formula.call(function, *operands)

    # --- values as shown ---------------------------------------------------------------
    def evaluate(self, digits: Digits = 4) -> float:
        """The value computed from the numbers and symbols' values as ``digits`` shows them
        (see :data:`Digits`): what a reader gets by redoing the arithmetic shown.

        >>> o = Formula.symbol("O_31", -0.99998632); d = 1.0 - o * o
        >>> d.evaluate(4), f"{d.evaluate({'O_31': 8}):.4g}"
        (0.0, '2.736e-05')
        """
        if self.kind in ("number", "symbol"):
            return float(number(self.data, _digits(digits, self.name)))
        args = [a.evaluate(digits) for a in self.args]
        if self.kind == "sum":
            return math.fsum(args)
        if self.kind == "product":
            return math.prod(args)
        if self.kind == "power":
            try:
                value = args[0] ** args[1]
            except (OverflowError, ZeroDivisionError):
                return math.inf
            return math.nan if isinstance(value, complex) else float(value)
        if self.function is None:  # cannot happen: every call has its function
            raise ValueError(f"the call {self.name}(...) has no function")
        return float(self.function(*args))

    def symbol_names(self) -> list[str]:
        """The names of the symbols in the formula, each once, in order."""
        if self.kind == "symbol":
            return [self.name]
        return list(dict.fromkeys(name for a in self.args for name in a.symbol_names()))

    # --- printing --------------------------------------------------------------------
    def text(self, *, values: bool = False, digits: Digits = 4) -> str:
        """Plain text, e.g. ``(1 - O_11^2) * x_1``; ``values`` puts in each symbol's value,
        with as many significant digits as ``digits`` says (see :data:`Digits`)."""
        return _Printer(_TEXT, values, digits).write(self)

    def latex(self, *, values: bool = False, digits: Digits = 4) -> str:
        r"""LaTeX math, e.g. ``\left(1 - O_{11}^{2}\right) \cdot x_{1}``."""
        return _Printer(_LATEX, values, digits).write(self)

    def html(self, *, values: bool = False, digits: Digits = 4) -> str:
        """A Graphviz HTML-like label fragment with real sub- and superscripts."""
        return _Printer(_HTML, values, digits).write(self)

    def __repr__(self) -> str:
        return f"Formula({self.text()!r}, data={self.data!r})"


# Significant digits for the values put in a formula: one count for every number, or a
# count per symbol name ("" for the plain numbers), 4 for a name not listed.
Digits = int | Mapping[str, int]
_LEAST_DIGITS = 4


def _digits(digits: Digits, name: str) -> int:
    """How many significant digits ``digits`` gives the symbol ``name`` ("": a number)."""
    if isinstance(digits, int):
        return digits
    return digits.get(name, _LEAST_DIGITS)


def _shown(formula: Formula, factor: float, digits: Digits) -> float:
    """``factor * formula`` redone with the values as ``digits`` shows them."""
    return float(number(factor, _digits(digits, ""))) * formula.evaluate(digits)


def digits_to_show(lines: Sequence[tuple[Formula, float, int, float]]) -> dict[str, int]:
    """Significant digits per symbol for lines ``factor * formula = result``, given as
    (formula, result, digits the result is shown with, factor), such that redoing each
    line's arithmetic with the values as shown gives its result as shown.

    Every value starts with 4 digits; while a line misses its result, the value whose
    rounding costs the most (in that line) gets one more. So only the values that matter
    grow: a saturated ``O_31 = -0.99998632`` shows as -1 and ``1 - (-1)^2`` is 0, not
    the 2.7e-05 of the result. One count per symbol, so a value reads the same in every
    line. The factor (a gradient, written before the formula) counts as a number ("").

    >>> o = Formula.symbol("O_31", -0.99998632); w = Formula.symbol("w", 1.954321)
    >>> d = (1.0 - o * o) * w
    >>> print(d.text(values=True), "=", d.evaluate(4), "but the result is", number(d.data, 6))
    (1 - (-1)^2) * 1.954 = 0.0 but the result is 5.34699e-05
    >>> digits = digits_to_show([(d, d.data, 6, 1.0)]); digits
    {'O_31': 8, 'w': 7}
    >>> print(d.text(values=True, digits=digits), "=", number(d.evaluate(digits), 6))
    (1 - (-0.99998632)^2) * 1.954321 = 5.34699e-05
    """
    digits: dict[str, int] = {}
    for formula, result, result_digits, factor in lines:
        wanted = number(result, result_digits)
        names = ["", *formula.symbol_names()]
        while number(_shown(formula, factor, digits), result_digits) != wanted:
            misses = {}
            for name in names:
                if _digits(digits, name) < 17:  # 17: every digit a float has
                    trial = {**digits, name: _digits(digits, name) + 1}
                    miss = abs(_shown(formula, factor, trial) - result)
                    misses[name] = math.inf if math.isnan(miss) else miss
            if not misses:
                break  # the arithmetic is as exact as it gets
            best = min(misses, key=misses.__getitem__)
            digits[best] = _digits(digits, best) + 1
    return digits


def _lift(x: Formula | float) -> Formula:
    return x if isinstance(x, Formula) else Formula.constant(float(x))


def _split(term: Formula) -> tuple[float, Formula]:
    """``term`` as coefficient times the rest: ``-2 * x`` is (-2, x)."""
    if term.kind == "product" and term.args[0].kind == "number":
        rest = term.args[1:]
        return term.args[0].data, rest[0] if len(rest) == 1 else _product(list(rest))
    return 1.0, term


def _sum(items: list[Formula]) -> Formula:
    like: dict[tuple[Any, ...], tuple[Formula, float]] = {}  # x + x is 2 * x
    constant = 0.0
    for item in items:
        for term in item.args if item.kind == "sum" else (item,):
            if term.kind == "number":
                constant += term.data
                continue
            coefficient, rest = _split(term)
            key = rest._key()
            like[key] = (rest, like.get(key, (rest, 0.0))[1] + coefficient)
    terms = [_product([Formula.constant(c), rest]) for rest, c in like.values() if c != 0.0]
    if constant != 0.0 or not terms:
        # 1 - x^2 and x - 1: a positive number first, a negative one last.
        position = 0 if constant > 0.0 else len(terms)
        terms.insert(position, Formula.constant(constant))
    if len(terms) == 1:
        return terms[0]
    return Formula("sum", math.fsum(t.data for t in terms), args=tuple(terms))


def _product(items: list[Formula]) -> Formula:
    coefficient = 1.0
    powers: dict[tuple[Any, ...], tuple[Formula, float]] = {}
    for item in items:
        for factor in item.args if item.kind == "product" else (item,):
            if factor.kind == "number":
                coefficient *= factor.data
                continue
            base, exponent = factor, 1.0
            if factor.kind == "power" and factor.args[1].kind == "number":
                base, exponent = factor.args[0], factor.args[1].data
            key = base._key()
            old = powers.get(key, (base, 0.0))[1]
            powers[key] = (base, old + exponent)
    if coefficient == 0.0:
        return Formula.constant(0.0)
    factors = [_power(base, Formula.constant(e)) for base, e in powers.values() if e != 0.0]
    factors = [f for f in factors if not (f.kind == "number" and f.data == 1.0)]
    if coefficient != 1.0 or not factors:
        factors.insert(0, Formula.constant(coefficient))
    if len(factors) == 1:
        return factors[0]
    return Formula("product", math.prod(f.data for f in factors), args=tuple(factors))


def _power(base: Formula, exponent: Formula) -> Formula:
    if exponent.kind == "number":
        if exponent.data == 0.0:
            return Formula.constant(1.0)
        if exponent.data == 1.0:
            return base
        if base.kind == "number":
            return Formula.constant(base.data**exponent.data)
        inner = base.args[1] if base.kind == "power" else None
        if inner is not None and inner.kind == "number" and exponent.data.is_integer():
            # (x^a)^n is x^(a n) for an integer n: (1 + x^2)^2 to the -1 is (1 + x^2)^-2.
            return _power(base.args[0], Formula.constant(inner.data * exponent.data))
    try:
        value = base.data**exponent.data
    except (OverflowError, ZeroDivisionError):
        value = math.inf
    if isinstance(value, complex):  # a negative base to a fractional power: no real value
        value = math.nan
    return Formula("power", float(value), args=(base, exponent))


# --- printing ----------------------------------------------------------------------------
class _Style:
    def __init__(
        self,
        symbol: Callable[[str], str],
        times: str,
        minus: str,
        brackets: tuple[str, str],
        power: Callable[[str, str], str],
        call: Callable[[Function, str], str],
    ) -> None:
        self.symbol = symbol
        self.times = times
        self.minus = minus
        self.brackets = brackets
        self.power = power
        self.call = call


_TEXT = _Style(
    symbol=lambda name: name,
    times=" * ",
    minus="-",
    brackets=("(", ")"),
    power=lambda base, exp: f"{base}^{exp}",
    call=lambda function, args: f"{function.name}({args})",
)
_LATEX = _Style(
    symbol=latex_symbol,
    times=r" \cdot ",
    minus="-",
    brackets=(r"\left(", r"\right)"),
    power=lambda base, exp: f"{{{base}}}^{{{exp}}}",
    call=lambda function, args: rf"{function.latex_name()}\left({args}\right)",
)
_HTML = _Style(
    symbol=html_symbol,
    times=" &#183; ",
    minus="&#8722;",
    brackets=("(", ")"),
    power=lambda base, exp: f"{base}<SUP>{exp}</SUP>",
    call=lambda function, args: f"{function.name}({args})",
)


class _Printer:
    def __init__(self, style: _Style, values: bool, digits: Digits) -> None:
        self.style = style
        self.values = values
        self.digits = digits

    def number(self, x: float, name: str = "") -> str:
        """``x``, the value of symbol ``name`` ("": a plain number), as ``digits`` says."""
        return number(x, _digits(self.digits, name)).replace("-", self.style.minus)

    def write(self, f: Formula) -> str:
        return self._write(f, top=True)

    def _wrapped(self, f: Formula, tighter_than: int) -> str:
        """``f`` in brackets unless it binds tighter than ``tighter_than``."""
        text = self._write(f, top=False)
        if _binding(f) <= tighter_than or self._negative_leaf(f):
            return f"{self.style.brackets[0]}{text}{self.style.brackets[1]}"
        return text

    def _negative_leaf(self, f: Formula) -> bool:
        return (f.kind == "number" or (f.kind == "symbol" and self.values)) and f.data < 0.0

    def _write(self, f: Formula, top: bool) -> str:
        s = self.style
        if f.kind == "number":
            return self.number(f.data)
        if f.kind == "symbol":
            return self.number(f.data, f.name) if self.values else s.symbol(f.name)
        if f.kind == "call" and f.function is not None:
            return s.call(f.function, ", ".join(self._write(a, top=True) for a in f.args))
        if f.kind == "power":
            exponent = f.args[1]
            exp_text = self._write(exponent, top=True)
            if exponent.kind != "number":
                exp_text = f"{s.brackets[0]}{exp_text}{s.brackets[1]}"
            return s.power(self._wrapped(f.args[0], _POWER), exp_text)
        if f.kind == "product":
            factors = list(f.args)
            sign = ""
            if factors[0].kind == "number" and factors[0].data == -1.0:
                sign, factors = s.minus, factors[1:]
            parts = [
                self.number(g.data) if g.kind == "number" and i == 0 else self._wrapped(g, _SUM)
                for i, g in enumerate(factors)
            ]
            return sign + s.times.join(parts)
        # A sum: a term with a negative coefficient is written as a subtraction.
        out = self._write(f.args[0], top=False)
        for term in f.args[1:]:
            negated = _negated(term)
            if negated is not None:
                out += f" {s.minus} {self._wrapped(negated, _SUM)}"
            else:
                out += f" + {self._wrapped(term, _SUM)}"
        return out


def _binding(f: Formula) -> int:
    return {"sum": _SUM, "product": _PRODUCT, "power": _POWER}.get(f.kind, _ATOM)


def _negated(term: Formula) -> Formula | None:
    """``-term`` when ``term`` reads as a subtraction (-3, -x, -2 * x), else None."""
    if term.kind == "number" and term.data < 0.0:
        return Formula.constant(-term.data)
    if term.kind == "product" and term.args[0].kind == "number" and term.args[0].data < 0.0:
        return -term
    return None


def local_formula(node: Value, slot: int, symbols: list[Formula], out: Formula) -> Formula:
    """d(node)/d(operand ``slot``) as a formula: the op table's rule run on ``symbols``.

    ``symbols`` stand for the operands in order and ``out`` for the node itself.

    >>> x = Value(0.5, label="x"); y = x.tanh(); y.label = "y"
    >>> sx, sy = Formula.symbol("x", x.data), Formula.symbol("y", y.data)
    >>> print(local_formula(y, 0, [sx], sy).text())
    1 - y^2
    """
    rule = op_named(node.op).derivatives[slot]
    return _lift(rule(*symbols, out))


class NodeFormulas:
    """Each node of a graph as a formula over the nodes a ledger names.

    A node where ``is_stop`` holds (a labelled Value such as ``O_11``, the root, a leaf) is
    a symbol with its name from ``names``; an unnamed constant is its number. Any other
    node is written out from its operands when that stays short (``y - O_31``); otherwise
    it is a symbol: ``z_kj`` for the input of neuron ``O_kj``'s activation, the usual
    name of that sum, or its name from ``names``.
    """

    _LONGEST = 2  # symbols in a written-out node; more would swamp the formula

    def __init__(
        self, order: list[Value], names: dict[Value, str], is_stop: Callable[[Value], bool]
    ) -> None:
        self.names = dict(names)
        self.is_stop = is_stop
        self.memo: dict[Value, Formula] = {}
        for node in order:
            z = pre_activation_of(names[node])
            if z is not None and is_stop(node) and len(node.parents) == 1:
                (inner,) = node.parents
                if not is_stop(inner) and inner.parents:
                    self.names[inner] = z

    def __call__(self, node: Value) -> Formula:
        """``node`` as a formula (see the class)."""
        if node in self.memo:
            return self.memo[node]
        # Operands first, without recursion: a graph may be deeper than the stack.
        stack = [node]
        while stack:
            top = stack[-1]
            waiting = [p for p in top.parents if p not in self.memo and not self._atomic(p)]
            if waiting and not self._atomic(top):
                stack.extend(waiting)
                continue
            stack.pop()
            self.memo[top] = self._make(top)
        return self.memo[node]

    def _atomic(self, node: Value) -> bool:
        return self.is_stop(node) or not node.parents or node in self.memo

    def _make(self, node: Value) -> Formula:
        if node in self.memo:
            return self.memo[node]
        if not node.parents and not node.label and not node.requires_grad:
            return Formula.constant(node.data)
        symbol = Formula.symbol(self.names[node], node.data)
        if self.is_stop(node) or not node.parents:
            return symbol
        operands = [self._make(p) if self._atomic(p) else self.memo[p] for p in node.parents]
        written = op_named(node.op)(*operands)
        named = parse_label(self.names[node])
        if (named and named.kind == "pre_activation") or _count_symbols(written) > self._LONGEST:
            return symbol
        return written

    def local(self, node: Value, slot: int) -> Formula:
        """d(node)/d(operand ``slot``) in terms of these formulas."""
        return local_formula(node, slot, [self(p) for p in node.parents], self(node))


def _count_symbols(f: Formula) -> int:
    if f.kind == "symbol":
        return 1
    return sum(_count_symbols(a) for a in f.args)
