"""The code's shape: conventions with one owner, no private names across modules, no cycles.

Read from the source (Python's own parser), so that a new module is held to the same rules
without being listed here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("nn", "viz", "chainrule")  # the ones these rules are kept in
PROJECT = ("autograd", *PACKAGES)
# The notes' names as a pattern or a prefix would spell them.
NOTATION = ("O_", "z_", "x_", "y_", "v_", "w^", "w\\^", "b^", "b\\^")
REGEX_FUNCTIONS = {"compile", "match", "fullmatch", "search", "sub", "subn", "split", "findall"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(*folders: str) -> Iterator[tuple[str, Path, ast.Module]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield _module_name(path), path, ast.parse(path.read_text(encoding="utf-8"))


def _is_module(name: str) -> bool:
    path = ROOT / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports(tree: ast.Module) -> Iterator[tuple[str, str | None, int]]:
    """(module, imported name or None, line) for every import, at any depth."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.module, alias.name, node.lineno


def test_no_module_imports_another_modules_private_names() -> None:
    found = []
    for _, path, tree in _sources(*PACKAGES, "tests", "docs"):
        for module, imported, line in _imports(tree):
            if module.split(".")[0] not in PROJECT or imported is None:
                continue
            private = imported.startswith("_") and not imported.startswith("__")
            if private and not _is_module(f"{module}.{imported}"):
                found.append(f"{path.relative_to(ROOT)}:{line}: {module}.{imported}")
    assert found == []


def _import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, _, tree in _sources(*PROJECT):
        targets = graph.setdefault(name, set())
        for module, imported, _ in _imports(tree):
            if module.split(".")[0] not in PROJECT:
                continue
            submodule = f"{module}.{imported}"
            target = submodule if imported and _is_module(submodule) else module
            # A module of a package may read its parent's other modules through the
            # package (``from viz import ledger``): that is not an import of the package.
            if target != name and not name.startswith(f"{target}."):
                targets.add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    """Every cycle met by a depth-first walk of ``graph``, as ``a -> b -> a``."""
    cycles = []
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        # Without recursion: the path so far says where a cycle closes.
        path = [start]
        stack: list[Iterator[str]] = [iter(sorted(graph[start]))]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                done.add(path.pop())
            elif following in path:
                cycles.append(" -> ".join([*path[path.index(following) :], following]))
            elif following not in done and following in graph:
                path.append(following)
                stack.append(iter(sorted(graph[following])))
    return cycles


def test_no_import_cycle() -> None:
    graph = _import_graph()
    assert "viz.ledger" in graph["viz.explain"]  # the graph holds what it should
    assert "chainrule.explore" in graph["chainrule.graphs"]
    assert _cycles(graph) == []
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a -> b -> c -> a"]


def _notation_strings(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """Regular expressions and prefix tests that spell one of the notes' names."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        function = node.func
        is_regex = (
            isinstance(function.value, ast.Name)
            and function.value.id == "re"
            and function.attr in REGEX_FUNCTIONS
        )
        is_prefix = function.attr in ("startswith", "endswith")
        if not (is_regex or is_prefix) or not node.args:
            continue
        for constant in ast.walk(node.args[0]):
            text = constant.value if isinstance(constant, ast.Constant) else None
            if isinstance(text, str) and any(mark in text for mark in NOTATION):
                yield node.lineno, text


def test_only_the_notation_module_reads_the_notes_names() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for name, path, tree in _sources(*PACKAGES)
        if name != "nn.notation"
        for line, text in _notation_strings(tree)
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        'import re\nre.compile(r"^O_(\\d+)$")',
        'name.startswith("z_")',
        "from viz.graph import _table",
    ],
)
def test_the_checks_catch_what_they_look_for(source: str) -> None:
    tree = ast.parse(source)
    caught = list(_notation_strings(tree)) or [
        imported
        for module, imported, _ in _imports(tree)
        if imported and imported.startswith("_") and not _is_module(f"{module}.{imported}")
    ]
    assert caught
