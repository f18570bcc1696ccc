"""The layer rules of ../shared/architecture.md, enforced with `ast` so a wrong arrow fails CI.

imaging <- providers <- studio <- ui / views / app.py; every arrow points down.
The screens live in views/ rather than pages/: Streamlit 1.67 treats a pages/
folder beside app.py as an old-style multipage app until the first
st.navigation call, so a deep link after a restart ran a screen without the
app frame.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUR_PACKAGES = {"imaging", "providers", "studio", "ui", "views", "app"}


@dataclass(frozen=True)
class Rule:
    layer: str
    allowed_ours: frozenset[str]
    # Exact module prefixes allowed even though their package is otherwise off limits.
    allowed_modules: frozenset[str] = frozenset()
    forbidden_third_party: frozenset[str] = frozenset()


RULES = {
    "imaging": Rule(
        "imaging",
        frozenset({"imaging"}),
        forbidden_third_party=frozenset({"streamlit", "sqlalchemy", "requests"}),
    ),
    "providers": Rule(
        "providers",
        frozenset({"imaging", "providers"}),
        forbidden_third_party=frozenset({"streamlit", "sqlalchemy"}),
    ),
    "studio": Rule(
        "studio",
        frozenset({"imaging", "providers", "studio"}),
        forbidden_third_party=frozenset({"streamlit"}),
    ),
    # Pages and widgets may use provider value types (Operation, Money) but never adapters.
    "ui": Rule(
        "ui",
        frozenset({"studio", "imaging", "ui"}),
        allowed_modules=frozenset({"providers.base", "providers.errors"}),
        forbidden_third_party=frozenset({"requests", "sqlalchemy", "cv2", "onnxruntime"}),
    ),
    "views": Rule(
        "views",
        frozenset({"studio", "ui"}),
        allowed_modules=frozenset({"providers.base", "imaging.images"}),
        forbidden_third_party=frozenset({"requests", "sqlalchemy", "cv2", "onnxruntime", "PIL", "numpy"}),
    ),
    "app": Rule(
        "app", frozenset({"studio", "ui"}), forbidden_third_party=frozenset({"requests", "sqlalchemy", "PIL"})
    ),
}


def layer_files() -> list[tuple[str, Path]]:
    files = [("app", ROOT / "app.py")] if (ROOT / "app.py").exists() else []
    for layer in ("imaging", "providers", "studio", "ui", "views"):
        files += [(layer, path) for path in sorted((ROOT / layer).rglob("*.py"))]
    return files


def imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def violations(layer: str, source: str) -> list[str]:
    rule = RULES[layer]
    found = []
    for module in imported_modules(ast.parse(source)):
        top = module.split(".")[0]
        if top in OUR_PACKAGES:
            if top in rule.allowed_ours:
                continue
            if any(module == allowed or module.startswith(allowed + ".") for allowed in rule.allowed_modules):
                continue
            found.append(f"imports {module}")
        elif top in rule.forbidden_third_party:
            found.append(f"imports {module}")
    return found


@pytest.mark.parametrize(("layer", "path"), layer_files(), ids=lambda value: str(value))
def test_layer_imports_point_down(layer: str, path: Path) -> None:
    assert violations(layer, path.read_text(encoding="utf-8")) == []


def test_providers_do_not_read_env_sleep_or_touch_files() -> None:
    banned_calls = {("os", "getenv"), ("time", "sleep"), ("os", "environ")}
    offenders = []
    for path in sorted((ROOT / "providers").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and (node.value.id, node.attr) in banned_calls
            ):
                offenders.append(f"{path.name}: {node.value.id}.{node.attr}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
                offenders.append(f"{path.name}: open()")
    assert offenders == []


def test_only_the_canvas_widget_imports_the_drawable_canvas() -> None:
    importers = [
        path.relative_to(ROOT).as_posix()
        for _layer, path in layer_files()
        if any(
            m.startswith("streamlit_drawable_canvas")
            for m in imported_modules(ast.parse(path.read_text("utf-8")))
        )
    ]
    assert set(importers) <= {"ui/mask_canvas.py"}


def test_the_checker_catches_a_wrong_arrow() -> None:
    # Guard against a checker that passes everything.
    assert violations("imaging", "from studio.store import Store\n") == ["imports studio.store"]
    assert violations("providers", "import streamlit as st\n") == ["imports streamlit"]
    assert violations("views", "from providers.local import LocalEngine\n") == ["imports providers.local"]
    assert violations("views", "from providers.base import Operation\n") == []
