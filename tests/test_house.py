"""The house rules of issue 14: no import circle between our modules (counting imports inside
functions and under TYPE_CHECKING, which only hide a circle), and no production module over
800 lines, so every room stays small enough to find one's way in."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("imaging", "providers", "studio", "ui", "views")
MAX_LINES = 800


def our_modules() -> dict[str, Path]:
    modules = {"app": ROOT / "app.py"}
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module of ours `name` imports, wherever the import statement stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from studio import pricing` imports the module studio.pricing.
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_between_our_modules() -> None:
    modules = our_modules()
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    # A package's __init__ importing its own modules is not a circle of design.
    for name in graph:
        graph[name] = {other for other in graph[name] if not name.startswith(other + ".")}
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_hidden_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_production_module_is_over_800_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): count
        for path in our_modules().values()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def _private_imports(tree: ast.AST) -> list[str]:
    """Names starting with `_` imported from one of our modules (`import x as _x` aliases aside)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PRODUCTION:
            found += [f"{node.module}.{alias.name}" for alias in node.names if alias.name.startswith("_")]
    return found


def test_no_module_reaches_into_another_modules_private_names() -> None:
    """What a split module shares with its siblings is public (no leading underscore): a name with
    one is a promise that only its own module uses it."""
    reaching = {
        str(path.relative_to(ROOT)): names
        for folder in PRODUCTION
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (names := _private_imports(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert reaching == {}
    assert _private_imports(ast.parse("from studio.store_core import _hidden, shown")) == [
        "studio.store_core._hidden"
    ]
