"""The lecture notes' names for the Values of a network: written here, and parsed here.

Every label the library gives a Value, and every reading of one, goes through this
module:

- ``w^k_ij``: the weight of layer ``k`` from neuron ``i`` of the layer below to neuron
  ``j`` of layer ``k`` (:func:`weight_label`); ``b^k_j`` its neuron's bias;
- ``O_kj``: the output of neuron ``j`` of layer ``k``, and ``z_kj`` the sum its
  activation reads;
- ``x_i``: the network's inputs (layer 0); ``y`` (``y_n`` for several) the targets;
  ``L`` the loss;
- ``v_n``: the n-th Value without a label, as pictures and ledgers number them.

Indices are 1-based. Two indices are written run together while each is one digit
(``w^1_11``), otherwise braced and separated by a comma (``w^1_{10,3}``, ``O_{1,12}``); a
bias's one index is braced from two digits (``b^1_{12}``). Several Values sharing one
label are told apart by a copy marker, ``O_31[2]`` (:func:`with_copy`).

:func:`parse_label` reads any such name back into a :class:`Name`: its kind, layer and
indices, and the base, superscript and subscript that a picture prints.

>>> weight_label(1, 2, 3), output_label(3, 1), input_label(4)
('w^1_23', 'O_31', 'x_4')
>>> name = parse_label("w^1_{10,3}")
>>> name.kind, name.layer, name.indices, (name.base, name.sup, name.sub)
('weight', 1, (10, 3), ('w', '1', '10,3'))
>>> parse_label("O_31[2]").copy, parse_label("a<b")
(2, None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Kind",
    "Name",
    "bias_label",
    "file_stem",
    "input_label",
    "is_output_label",
    "loss_label",
    "node_label",
    "output_label",
    "parse_label",
    "parse_weight_label",
    "pre_activation_label",
    "pre_activation_of",
    "target_label",
    "weight_label",
    "with_copy",
]

Kind = Literal[
    "weight", "bias", "output", "pre_activation", "input", "target", "loss", "node", "other"
]


def _index(*indices: int) -> str:
    """Subscript text: ``11`` for (1, 1), ``{10,3}`` once an index has two digits."""
    if all(i < 10 for i in indices):
        return "".join(str(i) for i in indices)
    return "{" + ",".join(str(i) for i in indices) + "}"


def weight_label(k: int, i: int, j: int) -> str:
    """The lecture notes' name for the weight from neuron i of layer k-1 to neuron j of layer k.

    >>> weight_label(1, 1, 1), weight_label(1, 10, 3)
    ('w^1_11', 'w^1_{10,3}')
    """
    return f"w^{k}_{_index(i, j)}"


def bias_label(k: int, j: int) -> str:
    """The name of the bias of neuron j of layer k.

    >>> bias_label(2, 1), bias_label(1, 12)
    ('b^2_1', 'b^1_{12}')
    """
    return f"b^{k}_{_index(j)}"


def output_label(k: int, j: int) -> str:
    """The name of the output of neuron j of layer k.

    >>> output_label(3, 1), output_label(1, 12)
    ('O_31', 'O_{1,12}')
    """
    return f"O_{_index(k, j)}"


def pre_activation_label(k: int, j: int) -> str:
    """The name of the sum that neuron j of layer k feeds to its activation: ``O_kj``'s input.

    >>> pre_activation_label(2, 1), pre_activation_label(1, 12)
    ('z_21', 'z_{1,12}')
    """
    return f"z_{_index(k, j)}"


def pre_activation_of(name: str) -> str | None:
    """The name of the sum that output ``name`` is the activation of; None if ``name`` is
    not a neuron's output.

    >>> pre_activation_of("O_31"), pre_activation_of("O_31[2]"), pre_activation_of("w^1_11")
    ('z_31', 'z_31[2]', None)
    """
    parsed = parse_label(name)
    if parsed is None or parsed.kind != "output" or parsed.layer is None:
        return None
    z = pre_activation_label(parsed.layer, parsed.indices[0])
    return z if parsed.copy is None else with_copy(z, parsed.copy)


def input_label(i: int) -> str:
    """The name of the network's input i.

    >>> input_label(1), input_label(12)
    ('x_1', 'x_12')
    """
    return f"x_{i}"


def target_label(n: int | None = None) -> str:
    """The name of the target: ``y``, or ``y_n`` when there are several.

    >>> target_label(), target_label(2)
    ('y', 'y_2')
    """
    return "y" if n is None else f"y_{n}"


def loss_label() -> str:
    """The name of the loss.

    >>> loss_label()
    'L'
    """
    return "L"


def node_label(n: int) -> str:
    """The name of the n-th Value without a label in a picture or a ledger.

    >>> node_label(4)
    'v_4'
    """
    return f"v_{n}"


def with_copy(name: str, copy: int) -> str:
    """``name`` marked as copy number ``copy`` of several Values that share it.

    >>> with_copy("O_31", 2)
    'O_31[2]'
    """
    return f"{name}[{copy}]"


@dataclass(frozen=True)
class Name:
    """A name parsed by :func:`parse_label`.

    ``kind`` says what it names in the notes' notation (``"other"`` for a name of the
    same shape outside it, such as ``h`` or ``a_b``); ``layer`` is k of ``w^k_ij``,
    ``b^k_j``, ``O_kj`` and ``z_kj`` (None otherwise); ``indices`` are the other indices:
    (i, j) of a weight, (j,) of a bias, an output or its ``z``, (i,) of an input, (n,) of
    ``y_n`` and ``v_n``. ``base``, ``sup`` and ``sub`` are the printed parts (braces
    dropped), ``copy`` the number of a copy marker ``[n]`` (None without one).
    """

    kind: Kind
    base: str
    sup: str = ""
    sub: str = ""
    copy: int | None = None
    layer: int | None = None
    indices: tuple[int, ...] = ()

    @property
    def copy_mark(self) -> str:
        """The copy marker as written, ``[2]``, or ``""``."""
        return "" if self.copy is None else f"[{self.copy}]"


# A name: letters, then an optional ^superscript and _subscript (each a run of characters
# or a braced group), then an optional copy marker [n].
_NAME = re.compile(
    r"^(?P<base>[A-Za-z]+)"
    r"(?:\^(?P<sup>\{[^{}]*\}|[^_^{}\[\]]+))?"
    r"(?:_(?P<sub>\{[^{}]*\}|[^_^{}\[\]]+))?"
    r"(?:\[(?P<copy>\d+)\])?$"
)
_DIGITS = re.compile(r"\d+")


def _unbraced(part: str | None) -> tuple[str, bool]:
    """A script's text without its braces, and whether it had them."""
    if part is None:
        return "", False
    if part.startswith("{"):
        return part[1:-1], True
    return part, False


def _two_indices(sub: str, braced: bool) -> tuple[int, int] | None:
    """(i, j) of ``ij`` (one digit each) or of a braced ``{i,j}``."""
    if braced and "," in sub:
        parts = sub.split(",")
        if len(parts) == 2 and all(_DIGITS.fullmatch(p) for p in parts):
            return int(parts[0]), int(parts[1])
        return None
    if len(sub) == 2 and sub.isdigit() and sub.isascii():
        return int(sub[0]), int(sub[1])
    return None


def _one_index(sub: str) -> int | None:
    return int(sub) if _DIGITS.fullmatch(sub) else None


def parse_label(name: str) -> Name | None:
    """``name`` split into its parts and read in the notes' notation; None when it is not
    written as a symbol (letters, then ``^`` and ``_`` scripts), such as ``a<b``.

    >>> parse_label("b^1_{12}")
    Name(kind='bias', base='b', sup='1', sub='12', copy=None, layer=1, indices=(12,))
    >>> [parse_label(n).kind for n in ("O_{1,12}", "z_21", "x_3", "y", "L", "v_7", "h")]
    ['output', 'pre_activation', 'input', 'target', 'loss', 'node', 'other']
    """
    match = _NAME.match(name)
    if match is None:
        return None
    base = match.group("base")
    sup, _ = _unbraced(match.group("sup"))
    sub, braced = _unbraced(match.group("sub"))
    copy = None if match.group("copy") is None else int(match.group("copy"))
    parts = (base, sup, sub, copy)
    layer = _one_index(sup) if sup else None
    if base in ("w", "b") and layer is not None:
        if base == "w" and (pair := _two_indices(sub, braced)) is not None:
            return Name("weight", *parts, layer=layer, indices=pair)
        if base == "b" and (j := _one_index(sub)) is not None:
            return Name("bias", *parts, layer=layer, indices=(j,))
    elif not sup:
        if base in ("O", "z") and (pair := _two_indices(sub, braced)) is not None:
            kind: Kind = "output" if base == "O" else "pre_activation"
            return Name(kind, *parts, layer=pair[0], indices=(pair[1],))
        if base in ("x", "y", "v") and (n := _one_index(sub)) is not None:
            kinds: dict[str, Kind] = {"x": "input", "y": "target", "v": "node"}
            return Name(kinds[base], *parts, indices=(n,))
        if not sub and base in ("y", "L"):
            return Name("target" if base == "y" else "loss", *parts)
    return Name("other", *parts)


def is_output_label(name: str) -> bool:
    """Whether ``name`` is a neuron's output ``O_kj`` (or a copy of one, ``O_kj[n]``).

    >>> is_output_label("O_31[2]"), is_output_label("w^1_11")
    (True, False)
    """
    parsed = parse_label(name)
    return parsed is not None and parsed.kind == "output"


def parse_weight_label(text: str) -> tuple[int, int, int]:
    """(k, i, j) of a weight's label: the inverse of :func:`weight_label`.

    >>> parse_weight_label("w^1_11"), parse_weight_label("w^1_{10,3}")
    ((1, 1, 1), (1, 10, 3))
    """
    name = parse_label(text.strip())
    if name is None or name.kind != "weight" or name.copy is not None or name.layer is None:
        raise ValueError(
            "expected a weight in the lecture notes' notation such as w^1_11 or "
            f"w^1_{{10,3}}, got {text!r}"
        )
    i, j = name.indices
    return name.layer, i, j


def file_stem(name: str) -> str:
    """``name`` as it can stand in a file name: scripts kept, their marks dropped.

    >>> file_stem("w^1_11"), file_stem("w^1_{10,3}"), file_stem("O_31")
    ('w1_11', 'w1_10_3', 'O_31')
    """
    return name.replace("^", "").replace("{", "").replace("}", "").replace(",", "_")
