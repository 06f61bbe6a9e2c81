"""Reading the markdown tables that benchmarks/run.py prints and the README quotes."""

from __future__ import annotations


def table_after(text: str, heading: str) -> dict[str, list[str]]:
    """The first table after the line starting with ``heading``: first cell -> other cells.

    The header row is included (under its first cell's name); the |---| rule is not.
    """
    lines = text[text.index(heading) :].splitlines()[1:]
    rows: dict[str, list[str]] = {}
    for line in lines:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not set(cells[0]) <= {"-"}:
            rows[cells[0]] = cells[1:]
    return rows
