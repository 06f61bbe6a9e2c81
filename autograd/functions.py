"""Functions that run on every kind of number: the machinery behind the op table.

A :class:`Function` has a name and runs on floats (the standard library's arithmetic), on
numpy arrays (elementwise, over a batch) and on any other *kind of number* that follows
the protocol below. An :class:`Op` is a Function with local derivatives: a row of the op
table (:mod:`autograd.ops`), made by :func:`define_op`.

The protocol
------------
A kind of number (a :class:`~autograd.Value`, viz's formulas, a source-code emitter) is a
class whose objects support ``+ - * / **`` with each other and with floats on either
side, unary ``-`` and ``abs()``, and one method::

    def __chainrule_apply__(self, function: Function, operands: tuple) -> object

A function called on operands that are not all floats or arrays asks the first operand
of such a class: ``operand.__chainrule_apply__(function, operands)``. The kind answers
with a number of its own kind. It tells the cases apart with what the function says of
itself:

- ``isinstance(function, Op)``: an op. ``function.elementary`` ops (exp, log, tanh, sin,
  cos) have a forward that only the standard library computes, so the kind must know
  them by name; any other op's ``function.forward`` is written in arithmetic and helpers
  and runs on the kind as it is (or the kind keeps the op as a call, as the formulas do).
- otherwise a helper of :mod:`autograd.ops`: ``step``, ``sign`` and ``is_zero`` are
  constant pieces (their derivative is 0 where it exists) and ``where(c, a, b)`` picks
  ``a`` where ``c`` is non-zero, else ``b``. ``function.on_floats`` computes any of them
  on floats, which is all a kind that carries its value (a Value, a formula) needs.

Nothing in this package knows any kind but floats and arrays: a new kind plugs in by
implementing the protocol, without changing the table.
"""

from __future__ import annotations

import inspect
import numbers
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["OPS", "Function", "Op", "define_op", "op_named"]

OPS: dict[str, Op] = {}
"""The op table: each primitive op's row (its forward and local derivatives), by name, in
the order defined (the built-in rows of :mod:`autograd.ops` first)."""

# How tightly an infix op binds, as in Python: for printers that place brackets.
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 3}


@dataclass(frozen=True, eq=False, slots=True)
class Function:
    """A named function of ``arity`` numbers that runs on every kind of number.

    ``on_floats`` computes it on Python floats (raising a named error outside its domain),
    ``on_arrays`` elementwise on numpy arrays, and any other kind is asked through the
    protocol of this module. ``latex`` is its name in LaTeX math.

    >>> from autograd.ops import step
    >>> step(2.0), step(np.array([-1.0, 3.0]))
    (1.0, array([0., 1.]))
    """

    name: str
    arity: int
    on_floats: Callable[..., Any] = field(repr=False)
    on_arrays: Callable[..., Any] = field(repr=False)
    latex: str = field(repr=False)

    def __call__(self, *operands: Any) -> Any:
        for x in operands:
            if type(x) is not float:
                return self._dispatch(operands)
        return self.on_floats(*operands)

    def _dispatch(self, operands: tuple[Any, ...]) -> Any:
        """The call on anything but floats: another kind of number, arrays or ints."""
        if len(operands) != self.arity:
            raise TypeError(f"{self.name} takes {self.arity} operand(s), got {len(operands)}")
        for x in operands:
            if hasattr(type(x), "__chainrule_apply__"):
                return x.__chainrule_apply__(self, operands)
        if any(isinstance(x, np.ndarray) for x in operands):
            return self.on_arrays(*operands)
        return self.on_floats(*[_real(x, self.name) for x in operands])

    def latex_name(self) -> str:
        r"""Its name in LaTeX: ``\tanh``, or ``\operatorname{relu}`` if the row gives none.

        >>> from autograd.ops import relu, tanh
        >>> tanh.latex_name(), relu.latex_name()
        ('\\tanh', '\\operatorname{relu}')
        """
        return self.latex or rf"\operatorname{{{self.name}}}"


def _real(x: Any, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} takes numbers, got {type(x).__name__}: {x!r}")
    return float(x)


@dataclass(frozen=True, eq=False, slots=True)
class Op(Function):
    """A primitive operation: a row of the op table, made by :func:`define_op`.

    Calling it applies the op: to Values it records a node of the graph, to floats and
    arrays it computes the result, to any other kind of number it asks that kind.
    ``derivatives`` holds one rule per operand; rule ``i`` is called as
    ``rule(*operands, out)`` and returns d(out)/d(operand i), on any kind of number.

    >>> from autograd.ops import multiply
    >>> multiply(3.0, 4.0), multiply.derivatives[0](3.0, 4.0, 12.0)
    (12.0, 4.0)
    """

    forward: Callable[..., Any] = field(repr=False)
    derivatives: tuple[Callable[..., Any], ...] = field(repr=False)
    operand_names: tuple[str, ...] = field(repr=False)
    elementary: bool = field(repr=False)
    infix: str = field(repr=False)
    activation: tuple[float, float] | None = field(repr=False)
    propagates_non_finite: bool = field(repr=False)
    may_overflow: bool = field(repr=False)

    @property
    def precedence(self) -> int:
        """How tightly an infix op binds (``+`` 1, ``*`` and ``/`` 2, ``**`` 3); 4 for a call.

        >>> from autograd.ops import add, multiply, tanh
        >>> add.precedence < multiply.precedence < tanh.precedence  # a + b * tanh(c)
        True
        """
        return _PRECEDENCE.get(self.infix, 4)

    def written(self, operands: Sequence[str]) -> str:
        """How the op reads applied to operands written as text: ``a + b``, ``tanh(a)``.

        >>> from autograd.ops import add, tanh
        >>> add.written(["a", "b"]), tanh.written(["x"])
        ('a + b', 'tanh(x)')
        """
        if self.infix:
            return f" {self.infix} ".join(operands)
        return f"{self.name}({', '.join(operands)})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by name: the rules are functions, looked up again on load."""
        if OPS.get(self.name) is not self:
            raise pickle.PicklingError(
                f"op {self.name!r} is not a row of autograd.OPS, so it cannot be pickled by name"
            )
        return (op_named, (self.name,))


def op_named(name: str) -> Op:
    """The row of :data:`OPS` called ``name``, or a ValueError naming it.

    >>> op_named("tanh").arity
    1
    """
    try:
        return OPS[name]
    except KeyError:
        raise ValueError(f"unknown op {name!r}; the ops are {', '.join(OPS)}") from None


def define_op(
    name: str,
    forward: Callable[..., Any],
    derivatives: Sequence[Callable[..., Any]],
    *,
    numpy: Callable[..., Any] | None = None,
    check: Callable[..., None] | None = None,
    infix: str = "",
    latex: str = "",
    activation: tuple[float, float] | None = None,
    propagates_non_finite: bool | None = None,
    may_overflow: bool | None = None,
) -> Op:
    """Add an op to the table and return it: a function that applies it (see :class:`Op`).

    ``forward(*operands)`` computes the op, ``derivatives[i](*operands, out)`` its local
    derivative with respect to operand ``i`` (one or two operands). Write both with
    arithmetic and the helpers of :mod:`autograd.ops`, never with ``if`` or comparisons on
    an operand: the rules also run on Values (higher-order gradients), arrays (the
    compiled path) and symbols (formulas, generated code). The guide in
    :mod:`autograd.ops` shows a whole row.

    Optional facts, each derived when not given:

    - ``numpy``: numpy's version of an *elementary* forward, a float function of the
      standard library such as ``math.exp`` (kinds of numbers know these by name).
      Otherwise the forward itself runs on arrays.
    - ``check(*operands)``: on floats, raises a named error where the forward is not
      defined (``log`` of 0); the engine calls it before the forward.
    - ``infix``: the operator symbol of ``+ * / **``, for printing; else a call ``name(x)``.
    - ``latex``: the name in LaTeX, as ``\\tanh``; default ``\\operatorname{name}``.
    - ``activation``: the range (low, high) of the outputs, for an op ``nn`` may use as
      an activation.
    - ``propagates_non_finite``: whether a non-finite operand always gives a non-finite
      result (true of ``+``: inf + 1 is inf; false of ``tanh``: tanh(inf) is 1);
      ``may_overflow``: whether the result may reach the float max where numpy and the
      standard library round differently. The compiled path checks accordingly. Both
      are derived from a forward written with helpers, and assumed (False, True) for an
      elementary one.

    >>> f = define_op("half", lambda x: x * 0.5, [lambda x, out: 0.5])
    >>> f(3.0), f.derivatives[0](3.0, 1.5), f.propagates_non_finite
    (1.5, 0.5, True)
    >>> del OPS["half"]  # (this example leaves the table as it was)
    """
    if not isinstance(name, str) or not name or name.strip() != name:
        raise ValueError(f"an op needs a name without surrounding spaces, got {name!r}")
    if name in OPS:
        raise ValueError(f"an op named {name!r} is already defined")
    rules = tuple(derivatives)
    if len(rules) not in (1, 2):
        # Value keeps its operands in two slots (see Value.__slots__).
        raise ValueError(
            f"op {name!r}: an op takes one or two operands, got {len(rules)} derivative rules"
        )
    for what, function in [("forward", forward), *(("a derivative rule", r) for r in rules)]:
        if not callable(function):
            raise TypeError(f"op {name!r}: {what} must be a function, got {function!r}")
    if infix and infix not in _PRECEDENCE:
        raise ValueError(
            f"op {name!r}: infix must be one of {' '.join(_PRECEDENCE)}, got {infix!r}"
        )
    arity = len(rules)
    operand_names = _operand_names(rules[0], arity)
    if numpy is None:
        derived_propagates, derived_may_overflow = _probe(name, forward, arity)
    else:
        derived_propagates, derived_may_overflow = False, True
    op = Op(
        name=name,
        arity=arity,
        on_floats=forward if check is None else _checked(check, forward),
        on_arrays=forward if numpy is None else numpy,
        latex=latex,
        forward=forward,
        derivatives=rules,
        operand_names=operand_names,
        elementary=numpy is not None,
        infix=infix,
        activation=None if activation is None else _check_range(name, activation),
        propagates_non_finite=(
            derived_propagates if propagates_non_finite is None else propagates_non_finite
        ),
        may_overflow=derived_may_overflow if may_overflow is None else may_overflow,
    )
    OPS[name] = op
    return op


def _checked(check: Callable[..., None], forward: Callable[..., Any]) -> Callable[..., Any]:
    """``forward`` on floats, after ``check`` has refused what is outside its domain."""

    def on_floats(*operands: float) -> Any:
        check(*operands)
        return forward(*operands)

    return on_floats


def _operand_names(rule: Callable[..., Any], arity: int) -> tuple[str, ...]:
    """The operands' names, as the first rule calls them (``base``, ``exponent``)."""
    try:
        parameters = list(inspect.signature(rule).parameters)
    except (TypeError, ValueError):
        parameters = []
    if len(parameters) == arity + 1:
        return tuple(parameters[:arity])
    return ("x",) if arity == 1 else ("a", "b")


def _check_range(name: str, bounds: tuple[float, float]) -> tuple[float, float]:
    low, high = (float(b) for b in bounds)
    if not low < high:
        raise ValueError(f"op {name!r}: an activation's range needs low < high, got {bounds!r}")
    return low, high


# --- what a forward written with helpers tells about itself --------------------------


class _Probe:
    """A kind of number that records what a forward does with its operands.

    ``reaches`` holds the operands a non-finite value surely propagates from (through
    + - * and abs, and the numerator of /: IEEE 754 keeps inf and nan there); ``exact``
    is False once a step may round differently in numpy and the standard library (**,
    an elementary function).
    """

    __slots__ = ("exact", "reaches")

    def __init__(self, reaches: frozenset[int], exact: bool) -> None:
        self.reaches = reaches
        self.exact = exact

    @staticmethod
    def _of(x: Any) -> _Probe:
        return x if isinstance(x, _Probe) else _Probe(frozenset(), True)

    def _both(self, other: Any, reaches: bool = True, exact: bool = True) -> _Probe:
        o = _Probe._of(other)
        return _Probe(
            self.reaches | o.reaches if reaches else frozenset(),
            self.exact and o.exact and exact,
        )

    def __add__(self, other: Any) -> _Probe:
        return self._both(other)

    __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __add__

    def __truediv__(self, other: Any) -> _Probe:
        return _Probe(self.reaches, self.exact and _Probe._of(other).exact)

    def __rtruediv__(self, other: Any) -> _Probe:
        return _Probe._of(other).__truediv__(self)

    def __pow__(self, other: Any) -> _Probe:
        return self._both(other, reaches=False, exact=False)

    __rpow__ = __pow__

    def __neg__(self) -> _Probe:
        return self

    __abs__ = __neg__

    def __chainrule_apply__(self, function: Function, operands: tuple[Any, ...]) -> _Probe:
        probes = [_Probe._of(x) for x in operands]
        exact = all(p.exact for p in probes)
        if isinstance(function, Op) and function.elementary:  # as its row says
            reaches = frozenset().union(*(p.reaches for p in probes))
            return _Probe(reaches if function.propagates_non_finite else frozenset(), False)
        if isinstance(function, Op):  # written with helpers itself: follow it
            return _Probe._of(function.forward(*probes))
        return _Probe(frozenset(), exact)  # step, sign, is_zero, where: bounded


def _probe(name: str, forward: Callable[..., Any], arity: int) -> tuple[bool, bool]:
    """(propagates_non_finite, may_overflow) of a forward written with helpers. Running it
    on the probe also refuses, by name, a forward that branches on a value, rather than
    when it first meets an array."""
    operands = [_Probe(frozenset({i}), True) for i in range(arity)]
    try:
        out = forward(*operands)
    except TypeError as error:
        raise TypeError(
            f"op {name!r}: write its forward and rules with arithmetic and the helpers of "
            f"autograd.ops (no if, no comparison of an operand, no math.* function): {error}"
        ) from None
    result = _Probe._of(out)
    return result.reaches == frozenset(range(arity)), not result.exact
