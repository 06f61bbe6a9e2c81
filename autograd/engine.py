"""The `Value` node and reverse-mode differentiation over the graph of Values.

A Value records the op that made it (a row of the op table, :mod:`autograd.ops`) and its
operands in order. ``backward()`` walks the graph once, iteratively, in reverse
topological order, and adds up the contribution of every path: the notes'
``dh/dx = dh/dF * dF/dx + dh/dg * dg/dx``.

The reverse sweep as an algorithm, for any kind of number and with a hook per step, is
:func:`autograd.sweep.backpropagate`; ``Value.backward`` is a copy of it kept for speed.
After the class: how a node is made, and the graph's structure.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, SupportsIndex

import numpy as np

from autograd.functions import OPS, Function, Op
from autograd.ops import where

__all__ = [
    "Value",
    "apply_op",
    "as_float",
    "describe",
    "enable_grad",
    "gradient_edges",
    "local_derivatives",
    "no_grad",
    "topological_order",
    "undefined_derivative",
    "zero_grad",
]


class Value:
    """A scalar in a computation graph: its data, its gradient, and how it was made.

    ``op`` is the name of the operation that produced it (``""`` for a leaf) and
    ``parents`` its operands in operand order, duplicates kept. Values compare by
    identity, so they can be dict keys and set members. ``requires_grad`` is False for
    constants (plain numbers met in an operation, data passed with
    ``requires_grad=False``, results under ``no_grad``): no gradient flows into them.

    >>> x = Value(3.0, label="x")
    >>> y = x * x + x.tanh()
    >>> y.backward()
    >>> round(x.grad, 6)  # 2x + (1 - tanh(x)^2), summed over both paths
    6.009866
    >>> (x * x).parents == (x, x)
    True
    """

    # Operands live in two slots rather than a tuple: a tuple per node would double the
    # objects the cyclic garbage collector tracks and rescans as a graph grows (measured:
    # build + backward 10-20% slower at 10k-1M nodes). ``parents`` gives them as a tuple.
    # A leaf has _op, _first and _second all None; a one-operand node has _second None.
    __slots__ = ("_first", "_op", "_second", "data", "grad", "label", "requires_grad")

    data: float
    grad: float
    label: str
    requires_grad: bool
    _op: Op | None
    _first: Value | None
    _second: Value | None

    def __init__(self, data: float, label: str = "", *, requires_grad: bool = True) -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}: {label!r}")
        if not isinstance(requires_grad, bool):
            raise TypeError(f"requires_grad must be a bool, got {requires_grad!r}")
        self.data = as_float(data)
        self.grad = 0.0
        self.label = label
        self.requires_grad = requires_grad
        self._op = None
        self._first = None
        self._second = None

    @property
    def op(self) -> str:
        """The name of the operation that made this Value, ``""`` for a leaf.

        >>> a = Value(2.0); (a * a).op, a.op
        ('*', '')
        """
        return "" if self._op is None else self._op.name

    @property
    def parents(self) -> tuple[Value, ...]:
        """The operands, in operand order, duplicates kept: ``(a * a).parents == (a, a)``.

        >>> a = Value(2.0); b = a * 3.0
        >>> b.parents[0] is a, b.parents[1].data, a.parents
        (True, 3.0, ())
        """
        if self._first is None:
            return ()
        if self._second is None:
            return (self._first,)
        return (self._first, self._second)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self.op else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label}{op})"

    # --- differentiation -----------------------------------------------------------------
    def backward(self) -> None:
        """Fill ``.grad`` of every node this Value depends on with d(self)/d(node).

        It starts from d(self)/d(self) = 1. Every call recomputes the gradients of the
        intermediate nodes from scratch and **adds** into the leaves, as PyTorch does:
        for ``y = x * x * x`` at x = 3, two calls leave ``x.grad == 54.0``. Reset the
        leaves with :func:`zero_grad` between steps.

        >>> x = Value(3.0); y = x * x * x
        >>> y.backward(); y.backward(); x.grad
        54.0
        """
        # The reverse sweep of autograd.sweep.backpropagate, written out for floats on the
        # .grad attributes: 2.3x faster than it on the 100k-node benchmark DAG
        # (benchmarks/sweeps.py), and tested equal to it, number for number and error for
        # error (tests/test_sweep.py).
        _check_requires_grad(self)
        order = topological_order(self, only_requiring_grad=True)
        # Kept so that a pass that fails midway leaves every .grad as it was (measured on
        # build + backward of a 100k-node DAG: within the noise, 0-4%).
        saved = [node.grad for node in order]
        for node in order:
            if node._op is not None:
                node.grad = 0.0
        # A leaf is a parameter: it accumulates, even when it is the root itself.
        self.grad = 1.0 if self._op is not None else self.grad + 1.0
        try:
            for node in reversed(order):
                gradient = node.grad
                if not _isfinite(gradient):
                    raise OverflowError  # the handler below names the node
                op, a, b = node._op, node._first, node._second
                if op is None or a is None:  # a leaf (both are None together)
                    continue
                rules = op.derivatives
                if b is None:  # one operand: it requires grad, or node would not be here
                    a.grad += gradient * rules[0](a.data, node.data)
                    continue
                if a.requires_grad:
                    a.grad += gradient * rules[0](a.data, b.data, node.data)
                if b.requires_grad:
                    b.grad += gradient * rules[1](a.data, b.data, node.data)
        except BaseException as error:
            for restored, grad in zip(order, saved, strict=True):
                restored.grad = grad
            if isinstance(error, OverflowError):
                raise OverflowError(
                    f"the gradient overflowed a float at {describe(node)}; every .grad is "
                    "left as it was before this backward()"
                ) from None
            if isinstance(error, (ArithmeticError, ValueError)):
                raise undefined_derivative(node, error) from None
            raise

    # --- primitives: one line each onto the table ---------------------------------------
    def __add__(self, other: Value | float) -> Value:
        return _binary(_ADD, self, other)

    def __radd__(self, other: Value | float) -> Value:
        return _binary(_ADD, other, self)

    def __mul__(self, other: Value | float) -> Value:
        return _binary(_MUL, self, other)

    def __rmul__(self, other: Value | float) -> Value:
        return _binary(_MUL, other, self)

    def __truediv__(self, other: Value | float) -> Value:
        return _binary(_DIV, self, other)

    def __rtruediv__(self, other: Value | float) -> Value:
        return _binary(_DIV, other, self)

    def __pow__(self, exponent: Value | float) -> Value:
        return _binary(_POW, self, exponent)

    def __rpow__(self, base: Value | float) -> Value:
        return _binary(_POW, base, self)

    def exp(self) -> Value:
        """e ** self.

        >>> x = Value(1.0); y = x.exp(); y.backward()
        >>> round(y.data, 6), round(x.grad, 6)  # d/dx e^x = e^x
        (2.718282, 2.718282)
        """
        return _unary(OPS["exp"], self)

    def log(self) -> Value:
        """Natural logarithm; ValueError for data <= 0.

        >>> x = Value(2.0); y = x.log(); y.backward()
        >>> round(y.data, 6), x.grad  # d/dx log x = 1/x
        (0.693147, 0.5)
        """
        return _unary(OPS["log"], self)

    def tanh(self) -> Value:
        """Hyperbolic tangent.

        >>> x = Value(0.5); y = x.tanh(); y.backward()
        >>> round(y.data, 6), round(x.grad, 6)  # d/dx tanh x = 1 - tanh(x)^2
        (0.462117, 0.786448)
        """
        return _unary(OPS["tanh"], self)

    def sigmoid(self) -> Value:
        """Logistic function 1 / (1 + e ** -self).

        >>> x = Value(0.0); y = x.sigmoid(); y.backward()
        >>> y.data, x.grad  # d/dx sigmoid x = sigmoid(x) * (1 - sigmoid(x))
        (0.5, 0.25)
        """
        return _unary(OPS["sigmoid"], self)

    def relu(self) -> Value:
        """max(self, 0); the derivative at 0 is taken as 0.

        >>> x = Value(-2.0); y = x.relu(); y.backward()
        >>> y.data, x.grad
        (0.0, 0.0)
        """
        return _unary(OPS["relu"], self)

    def __abs__(self) -> Value:
        return _unary(OPS["abs"], self)

    def abs(self) -> Value:
        """|self|; the derivative at 0 is taken as 0.

        >>> x = Value(-3.0); y = x.abs(); y.backward()
        >>> y.data, x.grad
        (3.0, -1.0)
        """
        return _unary(OPS["abs"], self)

    def sin(self) -> Value:
        """Sine.

        >>> x = Value(0.0); y = x.sin(); y.backward()
        >>> y.data, x.grad  # d/dx sin x = cos x
        (0.0, 1.0)
        """
        return _unary(OPS["sin"], self)

    def cos(self) -> Value:
        """Cosine.

        >>> x = Value(0.5); y = x.cos(); y.backward()
        >>> round(y.data, 6), round(x.grad, 6)  # d/dx cos x = -sin x
        (0.877583, -0.479426)
        """
        return _unary(OPS["cos"], self)

    # --- derived ops: composed from the primitives ---------------------------------------
    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return _subtract(self, other)

    def __rsub__(self, other: Value | float) -> Value:
        return _subtract(other, self)

    def sqrt(self) -> Value:
        """Square root; ValueError for data < 0.

        >>> x = Value(4.0); y = x.sqrt(); y.backward()
        >>> y.data, x.grad  # d/dx x^0.5 = 0.5 x^-0.5
        (2.0, 0.25)
        """
        if self.data < 0.0:
            raise ValueError(f"sqrt is defined only for x >= 0, got x = {self.data!r}")
        return self**0.5

    # --- a Value as a kind of number for the op table's functions ------------------------
    def __chainrule_apply__(self, function: Function, operands: tuple[Any, ...]) -> Any:
        """An op records a node; a constant piece (step, sign, is_zero) is a float, the
        same for every nearby value, so it needs no node; ``where`` picks by value."""
        if isinstance(function, Op):
            # One operand is this Value itself (nn's activations come this way: be quick).
            return _unary(function, self) if len(operands) == 1 else apply_op(function, *operands)
        values = [x.data if isinstance(x, Value) else x for x in operands]
        if function is where:
            return operands[1] if values[0] else operands[2]
        return function.on_floats(*values)

    # --- pickling and deep copies: iterative, whatever the depth -------------------------
    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        """Pickle (and ``copy.deepcopy``) as fields plus operand references, op by name.

        Pickling follows references recursively, so a chain of operands 100,000 deep
        would exceed the recursion limit. The first Value met therefore lists all its
        ancestors in topological order before its own operands: each ancestor is then
        stored after its operands, which makes each reference a lookup, not a descent.
        Identity is kept (``a * a`` has one parent twice; a model's weights are the
        leaves of its last forward pass), and ops pickle by name (see ``Op.__reduce__``).
        """
        ancestors: list[Value] | None = None
        if id(self) in _PICKLE_PENDING:
            _PICKLE_PENDING.discard(id(self))  # listed by a descendant: operands stored
        elif self._first is not None:
            ancestors = topological_order(self)[:-1]
            _PICKLE_PENDING.clear()
            _PICKLE_PENDING.update(map(id, ancestors))
        fields = (self.data, self.grad, self.label, self.requires_grad, self._op)
        return (_unpickled_value, (), (ancestors, *fields, self._first, self._second))

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        _ancestors, data, grad, label, requires_grad, op, first, second = state
        self.data = data
        self.grad = grad
        self.label = label
        self.requires_grad = requires_grad
        self._op = op
        self._first = first
        self._second = second


# --- recording ---------------------------------------------------------------------------

# Whether operations record their operands. A ContextVar rather than a module global so
# that threads and async tasks each have their own setting.
_RECORDING: ContextVar[bool] = ContextVar("chainrule_recording", default=True)


@contextmanager
def no_grad() -> Iterator[None]:
    """Within this block, operations record no parents: results are constant leaves.

    Use it for evaluation and for the weight-update step of training.

    >>> w = Value(2.0)
    >>> with no_grad():
    ...     y = w * 3
    >>> y.parents, y.requires_grad
    ((), False)
    """
    token = _RECORDING.set(False)
    try:
        yield
    finally:
        _RECORDING.reset(token)


@contextmanager
def enable_grad() -> Iterator[None]:
    """Within this block operations record their operands, even inside ``no_grad``.

    ``grad`` uses it: a derivative needs the graph it differentiates.

    >>> with no_grad(), enable_grad():
    ...     y = Value(2.0) * 3
    >>> y.op
    '*'
    """
    token = _RECORDING.set(True)
    try:
        yield
    finally:
        _RECORDING.reset(token)


def as_float(data: Any, what: str = "Value data") -> float:
    """``data`` as a finite Python float, or a TypeError/ValueError that names ``what``.

    The one check of user numbers, shared by ``nn`` so that every message reads alike.

    >>> as_float(3, "lr")
    3.0
    >>> as_float("3", "lr")
    Traceback (most recent call last):
    ...
    TypeError: lr must be a real number (int, float or a numpy scalar), got str: '3'
    """
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        raise TypeError(
            f"{what} must be a real number (int, float or a numpy scalar), "
            f"got {type(data).__name__}: {data!r}"
        )
    try:
        value = float(data)
    except OverflowError:
        raise ValueError(f"{what} is too large for a float: {data!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value


# --- how a node is made: the hot path of every operation --------------------------------

# Module-level names for what every operation uses: a global lookup, not an attribute
# lookup on top of one.
_ADD, _MUL, _DIV, _POW = OPS["+"], OPS["*"], OPS["/"], OPS["**"]
_new_value = object.__new__
_isfinite = math.isfinite


def apply_op(op: Op, *operands: Value | float) -> Value:
    """``op`` applied to Values (or numbers, as constants), exactly as a Value method applies it.

    Calling a row of the table on Values comes here, and so does the compiled path when it
    replays one sample, so that its errors are the engine's own.

    >>> apply_op(OPS["*"], Value(3.0), 4.0).data
    12.0
    """
    if len(operands) != op.arity:
        raise TypeError(f"{op.name} takes {op.arity} operand(s), got {len(operands)}")
    nodes = [_operand(x) for x in operands]
    if any(node is None for node in nodes):
        raise TypeError(f"{op.name} takes Values and numbers, got {operands!r}")
    if op.arity == 1:
        return _unary(op, nodes[0])  # type: ignore[arg-type]
    return _binary(op, nodes[0], nodes[1])


def _binary(op: Op, left: Any, right: Any) -> Value:
    a = left if type(left) is Value else _operand(left)
    b = right if type(right) is Value else _operand(right)
    if a is None or b is None:
        return NotImplemented
    try:
        data = op.on_floats(a.data, b.data)
    except OverflowError:
        data = math.inf
    return _record(op, data, a, b, a.requires_grad or b.requires_grad)


def _unary(op: Op, a: Value) -> Value:
    try:
        data = op.on_floats(a.data)
    except OverflowError:
        data = math.inf
    return _record(op, data, a, None, a.requires_grad)


def _record(op: Op, data: float, first: Value, second: Value | None, requires_grad: bool) -> Value:
    """The new node holding ``op``'s result, with its operands unless in ``no_grad``."""
    # The one overflow check of a forward on floats; the compiled replays raise through
    # here too (apply_op), so every "overflows a float" message is written in this place.
    if not _isfinite(data):
        operands = (first,) if second is None else (first, second)
        raise OverflowError(f"{op.written([repr(v.data) for v in operands])} overflows a float")
    if _RECORDING.get():
        return _new_node(data, op, first, second, requires_grad)
    return _new_node(data, None, None, None, False)


def _new_node(
    data: float, op: Op | None, first: Value | None, second: Value | None, requires_grad: bool
) -> Value:
    """A Value made without ``__init__``'s checks of user input: ``data`` is a finite float."""
    node = _new_value(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.requires_grad = requires_grad
    node._op = op
    node._first = first
    node._second = second
    return node


def _operand(x: Any) -> Value | None:
    """A Value for an operand: Values pass, real numbers become constants, else None."""
    if isinstance(x, Value):
        return x
    if type(x) is float and _isfinite(x):  # the common case, without __init__'s checks
        return _new_node(x, None, None, None, False)
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    return Value(as_float(x, "an operand"), requires_grad=False)


def _subtract(left: Any, right: Any) -> Value:
    """a - b as a + b * -1; a plain number b is negated in place, one constant."""
    a, b = _operand(left), _operand(right)
    if a is None or b is None:
        return NotImplemented
    try:
        return a + (b * -1.0 if isinstance(right, Value) else -b.data)
    except OverflowError:
        # Name the user's subtraction, not the + and * it is made of.
        raise OverflowError(f"subtraction {a.data!r} - {b.data!r} overflows a float") from None


# Ancestors listed by the Value being pickled (see Value.__reduce_ex__), by id: each
# stores only references to its operands, which are stored before it. An id left over
# from an earlier pickle only costs depth, never correctness: both forms are complete.
_PICKLE_PENDING: set[int] = set()


def _unpickled_value() -> Value:
    """An empty Value for pickle to fill in with ``__setstate__``."""
    value: Value = _new_value(Value)
    return value


# --- the graph's structure ---------------------------------------------------------------

_FINISH = object()  # a marker on topological_order's stack


def topological_order(root: Value, *, only_requiring_grad: bool = False) -> list[Value]:
    """Every node ``root`` depends on, each once, parents before children, root last.

    Iterative (no recursion limit) and deterministic: operands are visited in order.

    >>> a = Value(1.0, label="a"); b = a * a; c = b + a
    >>> [v.label or v.op for v in topological_order(c)]
    ['a', '*', '+']
    """
    order: list[Value] = []
    visited: set[Value] = set()
    wanted = not only_requiring_grad  # else only nodes that require grad
    # Entries are nodes to visit; a node sitting under the _FINISH marker has had all its
    # parents pushed above, so popping the marker means the node can be emitted.
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is _FINISH:
            order.append(stack.pop())
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append(node)
        stack.append(_FINISH)
        # The second operand goes on the stack first so that the first is visited first.
        second, first = node._second, node._first
        if second is not None and second not in visited and (wanted or second.requires_grad):
            stack.append(second)
        if first is not None and first not in visited and (wanted or first.requires_grad):
            stack.append(first)
    return order


def local_derivatives(node: Value) -> tuple[float | None, ...]:
    """d(node)/d(parent) for each operand slot, as floats (None for a constant operand).

    >>> a = Value(3.0); b = Value(4.0)
    >>> local_derivatives(a * b)
    (4.0, 3.0)
    """
    local = {slot: d for slot, _, d in gradient_edges(node)}
    return tuple(float(local[slot]) if slot in local else None for slot in range(len(node.parents)))


def gradient_edges(node: Value, *, differentiable: bool = False) -> list[tuple[int, Value, Any]]:
    """The edges gradient flows through out of ``node``: (slot, operand, d(node)/d(operand)).

    Operand slots in order, constants left out; ``a * a`` has two edges to ``a``. The op
    table's rules run on the operands' floats, or, if ``differentiable``, on the Values
    themselves: each local derivative is then a Value that can be differentiated again. A
    rule that fails is reported naming the node.

    >>> a = Value(3.0, label="a")
    >>> [(slot, p.label, d) for slot, p, d in gradient_edges(a * a + 1)]
    [(0, '', 1.0)]
    >>> [(slot, p.label, d) for slot, p, d in gradient_edges(a * a)]
    [(0, 'a', 3.0), (1, 'a', 3.0)]
    """
    op = node._op
    if op is None:
        return []
    parents = node.parents
    args = [*parents, node] if differentiable else [*(p.data for p in parents), node.data]
    edges = []
    try:
        for slot, (rule, parent) in enumerate(zip(op.derivatives, parents, strict=True)):
            if parent.requires_grad:
                edges.append((slot, parent, rule(*args)))
    except OverflowError:
        # The ops that overflowed are the derivative's, not the user's: name the node.
        raise OverflowError(f"the gradient overflowed a float at {describe(node)}") from None
    except (ArithmeticError, ValueError) as error:
        raise undefined_derivative(node, error) from None
    return edges


def _check_requires_grad(root: Value) -> None:
    if not root.requires_grad:
        raise ValueError(
            "backward() needs a Value that requires grad; this one is a constant "
            "(made from plain numbers or under no_grad)"
        )


def describe(node: Value) -> str:
    """How messages name a node: ``the output of tanh 'O_11' (data = 0.5)``, ``a leaf``.

    >>> describe(Value(2.0, label="w")), describe(Value(0.0).tanh())
    ("a leaf 'w' (data = 2.0)", 'the output of tanh (data = 0.0)')
    """
    name = f" {node.label!r}" if node.label else ""
    kind = f"the output of {node.op}" if node.op else "a leaf"
    return f"{kind}{name} (data = {node.data!r})"


def undefined_derivative(node: Value, error: BaseException) -> ValueError:
    """The error for a local derivative that failed at ``node`` with ``error``: it names
    the op, the operand and the numbers, as ``backward`` and ``grad`` both report it.
    The rule run on numpy says which: infinite (inf) or undefined (nan).

    >>> x = Value(0.0, label="x")
    >>> print(undefined_derivative(x ** 0.5, ZeroDivisionError("0.0 to a negative power")))
    ** : the derivative with respect to base is infinite at base = 0.0, exponent = 0.5 \
(0.0 to a negative power)
    """
    op = node._op
    if op is None:
        return ValueError(f"no derivative at {describe(node)}: {error}")
    parents = node.parents
    args = [*(np.array([p.data]) for p in parents), np.array([node.data])]
    failing, infinite = [], True
    for name, rule, parent in zip(op.operand_names, op.derivatives, parents, strict=True):
        if parent.requires_grad:
            with np.errstate(all="ignore"):
                value = np.asarray(rule(*args), dtype=float)
            if not np.isfinite(value).all():
                failing.append(name)
                infinite = infinite and not np.isnan(value).any()
    which = " and ".join(failing or op.operand_names)
    what = "infinite" if failing and infinite else "undefined"
    at = ", ".join(f"{n} = {p.data!r}" for n, p in zip(op.operand_names, parents, strict=True))
    return ValueError(
        f"{op.name} : the derivative with respect to {which} is {what} at {at} ({error})"
    )


def zero_grad(values: Iterable[Value]) -> None:
    """Set ``.grad`` to 0.0 on each Value: leaves accumulate across ``backward()`` calls.

    >>> w = Value(2.0); (w * w).backward(); zero_grad([w]); w.grad
    0.0
    """
    for v in values:
        if not isinstance(v, Value):
            raise TypeError(f"zero_grad expects Values, got {type(v).__name__}: {v!r}")
        v.grad = 0.0
