"""The rules an argument's number must follow, each said in one set of words everywhere.

A :class:`Rule` checks a value and, when it fails, says ``{name} must be {words}, got
{value}``: ``nn.train(lr=0)`` and ``chainrule train --lr 0`` refuse with the same words,
as do ``lr=-1`` and ``--lr -1``. The command line parses its text with the same rule
(``chainrule.options.option``).

>>> POSITIVE.check(0.5, "lr")
0.5
>>> POSITIVE.check(0, "lr")
Traceback (most recent call last):
...
ValueError: lr must be a finite number > 0, got 0
>>> COUNT.check(2.0, "max_epochs")
Traceback (most recent call last):
...
TypeError: max_epochs must be an int >= 1, got 2.0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["Rule", "POSITIVE", "NON_NEGATIVE", "COUNT", "SEED", "between", "few", "shown"]

T = TypeVar("T", int, float)


@dataclass(frozen=True)
class Rule(Generic[T]):
    """A number of ``kind`` (float: any finite real; int: a whole number, not a bool)
    above ``above`` or from ``least`` on, and up to ``most``; ``words`` say it in every
    message."""

    kind: type[T]
    words: str
    above: float | None = None
    least: float | None = None
    most: float | None = None

    def allows(self, value: Any) -> bool:
        """Whether ``value`` follows the rule (of the right type, finite, in range)."""
        if self._wrong_type(value):
            return False
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an int too large for a float: still a whole number
            finite = self.kind is int
        return (
            finite
            and (self.above is None or value > self.above)
            and (self.least is None or value >= self.least)
            and (self.most is None or value <= self.most)
        )

    def check(self, value: Any, name: str) -> T:
        """``value`` as a ``kind``, or a TypeError (wrong type) or ValueError naming ``name``."""
        if self.allows(value):
            return self.kind(value)
        error = TypeError if self._wrong_type(value) else ValueError
        raise error(self.refusal(name, shown(value)))

    def _wrong_type(self, value: Any) -> bool:
        wanted = numbers.Integral if self.kind is int else numbers.Real
        return isinstance(value, bool) or not isinstance(value, wanted)

    def refusal(self, name: str, shown: str) -> str:
        """The one sentence that refuses a value: ``lr must be a finite number > 0, got 0``.

        Without a ``name`` (``""``) it begins ``must be``, as argparse names the option.
        """
        return f"{name} must be {self.words}, got {shown}".lstrip()


POSITIVE = Rule(float, "a finite number > 0", above=0.0)
"""A learning rate: ``lr``, ``--lr``, and the explorer's ``eta``."""
NON_NEGATIVE = Rule(float, "a finite number >= 0", least=0.0)
"""A penalty or a tolerance: ``l2``, ``l1``, ``tol``."""
COUNT = Rule(int, "an int >= 1", least=1)
"""A number of things: ``max_epochs``, ``batch_size``, layer sizes, ``epochs``."""
SEED = Rule(int, "an int")
"""A random seed: ``seed``, ``--seed``; any whole number, as ``random.Random`` takes."""


def between(least: int, most: int) -> Rule[int]:
    """The rule of a whole number from ``least`` to ``most``: a sample's number among
    ``n`` rows is ``between(0, n - 1)`` (samples count from 0, as Python counts a list).

    >>> between(0, 149).check(150, "sample")
    Traceback (most recent call last):
    ...
    ValueError: sample must be an int from 0 to 149, got 150
    """
    return Rule(int, f"an int from {least} to {most}", least=least, most=most)


def shown(value: Any, width: int = 60) -> str:
    """``repr(value)`` for a message, never longer than about ``width`` characters.

    An int is written with thousands separators; one too long to read (more than 20
    digits, or more than Python prints: 4,300) is described.

    >>> shown(0.5), shown(5 * 10**9), shown(10**5000), shown(list(range(100)), width=20)
    ('0.5', '5,000,000,000', 'an integer of 5,001 digits', '[0, 1, 2, 3, 4, 5, …')
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() <= 64:
            return f"{value:,}"
        digits = len(str(abs(value))) if value.bit_length() < 14_000 else None
        if digits is None:  # str() itself would refuse: count by the bits
            digits = math.floor(value.bit_length() * math.log10(2)) + 1
        return f"an integer of {digits:,} digits"
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def few(names: Sequence[object], shown: int = 5) -> str:
    """A list for a message: all of a short one, the first ``shown`` of a long one and a count.

    >>> few(["w^1_11", "w^1_21"])
    'w^1_11, w^1_21'
    >>> few([f"w^1_{i}1" for i in range(1, 9)], shown=3)
    'w^1_11, w^1_21, w^1_31 and 5 more (8 in all)'
    """
    if len(names) <= shown:
        return ", ".join(map(str, names))
    first = ", ".join(map(str, names[:shown]))
    return f"{first} and {len(names) - shown:,} more ({len(names):,} in all)"
