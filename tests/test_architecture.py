"""The shape of the code: dependencies point one way, no import cycles, small modules.

Imports are read from the source. A cycle is looked for among module-level imports
(those under TYPE_CHECKING included, since they still tie two modules together), not
among the lazy imports inside functions that keep `codectx --help` fast.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).parents[1] / "codectx"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def top_level_imports(path: Path) -> set[str]:
    """The codectx modules a module names at its top level."""
    found: set[str] = set()
    nodes: list[ast.stmt] = []
    for node in ast.parse(path.read_text()).body:
        nodes.extend(node.body if isinstance(node, ast.If) else [node])
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("codectx"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                "codectx"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def all_imports(path: Path) -> set[str]:
    """Every codectx module a module may import, lazily or not."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                "codectx"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("codectx"))
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def test_there_is_no_import_cycle() -> None:
    graph = nx.DiGraph()
    for name, path in MODULES.items():
        graph.add_node(name)
        for target in top_level_imports(path):
            if target in MODULES and target != name:
                graph.add_edge(name, target)
    cycles = list(nx.simple_cycles(graph))
    assert cycles == []


# area -> the areas it must never import (the front ends sit on the assistant, which sits
# on the indexer and the models; the indexer and the models know nothing of each other)
FORBIDDEN = {
    "codectx.assistant": ("codectx.tui", "codectx.agent", "codectx.cli", "codectx.evals"),
    "codectx.evals": ("codectx.tui", "codectx.agent", "codectx.cli"),
    "codectx.indexer": ("codectx.models", "codectx.assistant", "codectx.tui", "codectx.agent",
                        "codectx.cli"),
    "codectx.models": ("codectx.indexer", "codectx.assistant", "codectx.tui", "codectx.agent",
                       "codectx.cli"),
    "codectx.tui": ("codectx.agent", "codectx.cli"),
    "codectx.agent": ("codectx.tui", "codectx.cli"),
}


@pytest.mark.parametrize("area", sorted(FORBIDDEN))
def test_dependencies_point_one_way(area: str) -> None:
    wrong = sorted(
        f"{name} imports {target}"
        for name, path in MODULES.items() if name.startswith(area)
        for target in all_imports(path)
        if target.startswith(FORBIDDEN[area]))
    assert wrong == []


def test_modules_stay_small() -> None:
    large = {name: n for name, path in MODULES.items()
             if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert large == {}


def test_only_the_terminal_ui_imports_textual() -> None:
    users = sorted(name for name, path in MODULES.items()
                   if "import textual" in path.read_text() or "from textual" in path.read_text())
    assert users and all(name.startswith("codectx.tui") for name in users)


def test_the_product_never_imports_the_test_suite_or_the_benchmarks() -> None:
    """The test doubles live in tests/ and are registered from there; a user's install
    has no tests/ or benchmarks/ to import."""
    users = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            named = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            users += [(name, n) for n in named if n.split(".")[0] in ("tests", "benchmarks")]
    assert users == []


def test_the_session_names_no_backend() -> None:
    """Which model runs where is the provider's business, never the session's."""
    source = (PACKAGE / "assistant" / "session.py").read_text()
    for word in ("openai", "llama", "FakeBackend", "scripted", "settings.backend"):
        assert word not in source


def test_importing_the_indexer_or_the_assistant_core_loads_no_model_library() -> None:
    code = ("import sys, codectx.indexer.repository, codectx.assistant.commands; "
            "print([m for m in ('llama_cpp', 'textual', 'httpx') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
