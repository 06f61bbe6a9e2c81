"""The op table's rules as JavaScript: the live explorer page computes with these.

Each row of :data:`autograd.OPS` is written in arithmetic and the helpers of
:mod:`autograd.ops`, so it runs on any kind of number that follows the protocol of
:mod:`autograd.functions`. :class:`JSNumber` is such a kind: running a row's forward or a
local-derivative rule on it records each operation as a line of JavaScript instead of
computing it. The page's functions are therefore the table's own rules, written out by
running them, never typed by hand per op: an op added with :func:`autograd.define_op`
works in the page with no JavaScript written for it.

JavaScript's numbers are IEEE 754 doubles, as Python's floats are, and each line does
what the rule does in the same order, so the page computes what the engine computes,
except where an elementary function (``Math.tanh`` against C's ``tanh``) rounds its
last bit differently.

>>> from autograd import OPS
>>> print(op_javascript(OPS["tanh"]))
{
  name: "tanh",
  forward: function (x) {
    return Math.tanh(x);
  },
  derivatives: [
    function (x, out) {
      const $0 = out * out;
      return 1.0 - $0;
    },
  ],
  written: ["tanh(", ")"],
}
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from typing import Any

from autograd import Function, Op
from autograd.ops import is_zero, sign, step, where

__all__ = ["JSNumber", "UnsupportedInJavaScript", "op_javascript", "ops_javascript"]

# The standard library's functions that JavaScript's Math has under another name: what
# an elementary op (one whose forward only the standard library computes) may be.
_MATH = {
    math.exp: "Math.exp",
    math.log: "Math.log",
    math.tanh: "Math.tanh",
    math.sin: "Math.sin",
    math.cos: "Math.cos",
    math.tan: "Math.tan",
    math.sqrt: "Math.sqrt",
    math.atan: "Math.atan",
    math.asin: "Math.asin",
    math.acos: "Math.acos",
    math.sinh: "Math.sinh",
    math.cosh: "Math.cosh",
    math.asinh: "Math.asinh",
    math.acosh: "Math.acosh",
    math.atanh: "Math.atanh",
    math.log1p: "Math.log1p",
    math.expm1: "Math.expm1",
    math.log2: "Math.log2",
    math.log10: "Math.log10",
    math.fabs: "Math.abs",
}
# JavaScript's reserved words, and names the generated code uses itself.
_RESERVED = frozenset([
    "arguments", "await", "break", "case", "catch", "class", "const", "continue", "debugger",
    "default", "delete", "do", "else", "enum", "eval", "export", "extends", "false", "finally",
    "for", "function", "if", "implements", "import", "in", "instanceof", "interface", "let",
    "new", "null", "package", "private", "protected", "public", "return", "static", "super",
    "switch", "this", "throw", "true", "try", "typeof", "undefined", "var", "void", "while",
    "with", "yield", "Infinity", "Math", "NaN", "out",
])  # fmt: skip


class UnsupportedInJavaScript(ValueError):
    """A rule uses something the page cannot compute (a standard-library function that
    JavaScript lacks, or a helper outside :mod:`autograd.ops`)."""


class _Block:
    """The lines of one generated function body, each binding a name: ``const $3 = ...;``."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def bind(self, code: str) -> JSNumber:
        name = f"${len(self.lines)}"
        self.lines.append(f"const {name} = {code};")
        return JSNumber(name, self)


def _literal(x: float) -> str:
    """A float as JavaScript reads back the same double (``repr`` round-trips)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "(-Infinity)"
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


class JSNumber:
    """A number of generated JavaScript: the name (or literal) that holds it.

    Arithmetic on it, and the op table's functions called on it, append lines to its
    block and return the number they bind, in the order Python evaluates them.
    Comparing it or branching on it is refused: the table's rules must not, since a
    Value has no order and a symbol no value.
    """

    __slots__ = ("block", "code")

    def __init__(self, code: str, block: _Block) -> None:
        self.code = code
        self.block = block

    def _code(self, other: Any) -> str:
        if isinstance(other, JSNumber):
            return other.code
        if isinstance(other, bool) or not isinstance(other, int | float):
            raise TypeError(f"generated JavaScript computes with numbers, got {other!r}")
        return _literal(float(other))

    def _binary(self, left: Any, operator: str, right: Any) -> JSNumber:
        return self.block.bind(f"{self._code(left)} {operator} {self._code(right)}")

    def __add__(self, other: Any) -> JSNumber:
        return self._binary(self, "+", other)

    def __radd__(self, other: Any) -> JSNumber:
        return self._binary(other, "+", self)

    def __sub__(self, other: Any) -> JSNumber:
        return self._binary(self, "-", other)

    def __rsub__(self, other: Any) -> JSNumber:
        return self._binary(other, "-", self)

    def __mul__(self, other: Any) -> JSNumber:
        return self._binary(self, "*", other)

    def __rmul__(self, other: Any) -> JSNumber:
        return self._binary(other, "*", self)

    def __truediv__(self, other: Any) -> JSNumber:
        return self._binary(self, "/", other)

    def __rtruediv__(self, other: Any) -> JSNumber:
        return self._binary(other, "/", self)

    def __pow__(self, other: Any) -> JSNumber:
        return self._binary(self, "**", other)

    def __rpow__(self, other: Any) -> JSNumber:
        return self._binary(other, "**", self)

    def __neg__(self) -> JSNumber:
        return self.block.bind(f"-{self.code}")

    def __abs__(self) -> JSNumber:
        return self.block.bind(f"Math.abs({self.code})")

    def __bool__(self) -> bool:
        raise TypeError(
            "a rule branched on an operand (if, and, or, a comparison): write the branch "
            "with where(condition, if_true, if_false) of autograd.ops"
        )

    def __chainrule_apply__(self, function: Function, operands: tuple[Any, ...]) -> Any:
        """An op or helper met in a rule: an elementary op is its Math function, any other
        op's forward runs on these numbers, and the helpers are JavaScript's conditionals
        (with Python's truth: where() takes a NaN condition as true, as ``if`` does)."""
        codes = [self._code(x) for x in operands]
        if isinstance(function, Op):
            if not function.elementary:
                return function.forward(*operands)
            name = _MATH.get(function.forward)
            if name is None:
                raise UnsupportedInJavaScript(
                    f"op {function.name!r}: its forward is a function of Python's standard "
                    "library that JavaScript's Math does not have, so the explorer page "
                    f"cannot compute it (it knows {', '.join(sorted(_math_names()))})"
                )
            return self.block.bind(f"{name}({', '.join(codes)})")
        if function is step:
            return self.block.bind(f"{codes[0]} > 0 ? 1 : 0")
        if function is sign:
            return self.block.bind(f"{codes[0]} > 0 ? 1 : {codes[0]} < 0 ? -1 : 0")
        if function is is_zero:
            return self.block.bind(f"{codes[0]} === 0 ? 1 : 0")
        if function is where:
            return self.block.bind(f"{codes[0]} !== 0 ? {codes[1]} : {codes[2]}")
        raise UnsupportedInJavaScript(
            f"the helper {function.name!r} is not one of autograd.ops' (step, sign, is_zero, "
            "where), so the explorer page cannot compute it"
        )


def _math_names() -> list[str]:
    return [f.__name__ for f in _MATH]


def _parameters(op: Op) -> list[str]:
    """JavaScript names for the operands (the rules' own where they can be) and ``out``."""
    names = []
    for i, name in enumerate(op.operand_names):
        # An ASCII Python identifier is a JavaScript one, unless JavaScript reserves it.
        ok = name.isidentifier() and name.isascii() and name not in _RESERVED and name not in names
        names.append(name if ok else f"operand{i}")
    return [*names, "out"]


def _function(rule: Callable[..., Any], parameters: list[str], what: str) -> str:
    """``rule`` run on JSNumbers named ``parameters``: a JavaScript function expression."""
    block = _Block()
    try:
        result = rule(*(JSNumber(name, block) for name in parameters))
    except UnsupportedInJavaScript:
        raise
    except TypeError as error:
        raise UnsupportedInJavaScript(f"{what}: {error}") from None
    code = block.lines
    returned = JSNumber("", block)._code(result)
    # The last line feeds the return alone: return its expression.
    if code and returned == f"${len(code) - 1}":
        returned = code.pop().split(" = ", 1)[1].rstrip(";")
    body = "".join(f"    {line}\n" for line in [*code, f"return {returned};"])
    return f"function ({', '.join(parameters)}) {{\n{body}  }}"


def op_javascript(op: Op) -> str:
    """One row of the table as a JavaScript object: its ``name``, its ``forward(operands)``,
    its ``derivatives`` (one function of ``(operands, out)`` per operand) and how it is
    ``written`` around its operands (for messages such as ``tanh(1e+03)``).

    Raises :class:`UnsupportedInJavaScript`, naming the op, for a rule the page cannot
    compute.
    """
    parameters = _parameters(op)
    forward = _function(op, parameters[:-1], f"op {op.name!r}'s forward")
    derivatives = [
        _function(rule, parameters, f"op {op.name!r}'s derivative rule {i}")
        for i, rule in enumerate(op.derivatives)
    ]
    written = op.written([f"\0{i}\0" for i in range(op.arity)]).split("\0")[::2]
    rules = "".join(f"    {d.replace(chr(10), chr(10) + '  ')},\n" for d in derivatives)
    return (
        "{\n"
        f"  name: {json.dumps(op.name)},\n"
        f"  forward: {forward},\n"
        f"  derivatives: [\n{rules}  ],\n"
        f"  written: {json.dumps(written, ensure_ascii=False)},\n"
        "}"
    )


def ops_javascript(ops: Iterable[Op]) -> str:
    """A JavaScript array of the rows ``ops``, in the order given (a program's op indices)."""
    rows = [op_javascript(op).replace("\n", "\n  ") for op in ops]
    return "[\n  " + ",\n  ".join(rows) + ",\n]" if rows else "[]"
