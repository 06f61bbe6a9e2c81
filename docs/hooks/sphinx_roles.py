"""A Griffe extension: chainrule's docstrings, written for ``help()`` and doctest, as Markdown.

The docstrings are plain text with a little reStructuredText: roles such as
``:func:`trace``` and ``:class:`~nn.MLP```, and doctest examples (``>>>`` lines with
their output). mkdocstrings renders docstrings as Markdown, where a role would show as
``:func:`` beside the name and a ``>>>`` line as a quotation nested three deep. So, before
rendering:

- a role becomes the name in code, linked to its entry in the API reference when the site
  has one (mkdocs-autorefs' ``<autoref ... optional>``: a name the site does not document,
  a private helper say, stays plain code instead of a broken link);
- a doctest example becomes a ``pycon`` code block, as Python's own documentation shows
  one.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|data|attr|mod|exc|obj):`(~?)([\w.]+)`")
PROMPT = re.compile(r"^(>>>|\.\.\.)( |$)")


class SphinxRoles(griffe.Extension):
    """Rewrite every docstring of a loaded package (see the module's docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _objects(pkg):
            if obj.docstring is not None:
                obj.docstring.value = _fence_doctests(_link_roles(obj, obj.docstring.value))


def _objects(obj: griffe.Object) -> list[griffe.Object]:
    """``obj`` and every object defined inside it (aliases, imported names, left out)."""
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias:
            found.extend(_objects(member))  # type: ignore[arg-type]
    return found


def _link_roles(obj: griffe.Object, text: str) -> str:
    return ROLE.sub(lambda match: _reference(obj, match), text)


def _reference(obj: griffe.Object, match: re.Match[str]) -> str:
    """A role as code, linked by its full path where that path resolves."""
    short, name = match.group(1), match.group(2)
    shown = f"<code>{name.rsplit('.', 1)[-1] if short else name}</code>"
    head, _, rest = name.partition(".")
    try:
        path = obj.resolve(head) + (f".{rest}" if rest else "")
    except griffe.NameResolutionError:
        path = name  # a full path, or a name the site does not know: no link then
    return f'<autoref identifier="{path}" optional>{shown}</autoref>'


def _fence_doctests(text: str) -> str:
    """Each doctest example (from a ``>>>`` line to the next blank line) fenced as pycon."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not PROMPT.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i])
            i += 1
        if out and out[-1].strip():
            out.append("")  # a fence must start a block of its own
        out += ["```pycon", *block, "```"]
    return "\n".join(out)
