"""The command line's options: each kind of value parsed and checked in one place.

A number is checked by the library's own rule (:mod:`nn.checks`), so ``--lr 0`` and
``nn.train(lr=0)`` refuse in the same words; ``--out`` names a folder that is created
only when something is written into it; every command's help shows its defaults.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from nn.checks import COUNT, Rule

__all__ = ["option", "layer_sizes", "out_folder", "Parser", "DefaultsHelpFormatter"]

T = TypeVar("T", int, float)


def option(rule: Rule[T]) -> Callable[[str], T]:
    """An argparse ``type`` that reads a number by ``rule``, or refuses it in its words.

    >>> from nn.checks import POSITIVE
    >>> option(POSITIVE)("0.5")
    0.5
    >>> option(POSITIVE)("-1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a finite number > 0, got '-1'
    """

    def parse(text: str) -> T:
        try:
            value: Any = rule.kind(text)
        except ValueError:  # not a number of that kind: refused below, in the rule's words
            value = text
        if not rule.allows(value):
            raise argparse.ArgumentTypeError(rule.refusal("", repr(text)))
        return rule.kind(value)

    return parse


def layer_sizes(text: str) -> list[int]:
    """``"3,2"`` -> [3, 2]; ``""`` -> [] (no hidden layer); anything else is refused.

    >>> layer_sizes("3, 2"), layer_sizes("")
    ([3, 2], [])
    >>> layer_sizes(",,")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be layer sizes separated by commas, each an int >= 1, such as 3,2 ('' for no hidden layer), got ',,'
    """  # noqa: E501
    if not text.strip():
        return []
    parts = [part.strip() for part in text.split(",")]
    count = option(COUNT)
    try:
        return [count(part) for part in parts]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"must be layer sizes separated by commas, each {COUNT.words}, such as 3,2 "
            f"('' for no hidden layer), got {text!r}"
        ) from None


def out_folder(text: str) -> str:
    """``--out``: a folder, or one that can be made; checked now, created when written to.

    A file in the way, or a folder that cannot be written into, is refused before any
    work is done; nothing is created until a command writes its first file.
    """
    path = Path(text)
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(
            f"{existing} is a file, not a folder; name a folder to write into, got {text!r}"
        )
    if not os.access(existing, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write into the folder {existing}, got {text!r}")
    return text


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows the default of options that take a value; a flag is simply off by default,
    and a help text that already says its default is left as it is."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.nargs == 0 or action.default in (None, argparse.SUPPRESS):
            return action.help
        if action.help and "default" in action.help:
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """An argument parser whose help shows defaults (:class:`DefaultsHelpFormatter`):
    the class of every ``chainrule`` command, so each one's help reads alike."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)
