"""Import resolution against fixture repositories with known graphs, one per language."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx.indexer.imports.rust import _expand_use
from tests.conftest import copy_fixture, expected_edges, index

LANGUAGES = ["python", "typescript", "go", "rust", "java", "c"]


@pytest.mark.parametrize("name", LANGUAGES)
def test_resolved_imports_match_the_known_graph(name: str, tmp_path: Path) -> None:
    root = copy_fixture(name, tmp_path / name)
    result = index(root)
    edges = {f.path: sorted(f.imports) for f in result.files}
    expected = {path: sorted(deps) for path, deps in expected_edges(name).items()}
    assert edges == expected


@pytest.mark.parametrize("name", LANGUAGES)
def test_every_dependency_comes_before_its_dependent_outside_cycles(
    name: str, tmp_path: Path
) -> None:
    root = copy_fixture(name, tmp_path / name)
    result = index(root)
    position = {f.path: i for i, f in enumerate(result.files)}
    imports = {f.path: set(f.imports) for f in result.files}
    for path, deps in imports.items():
        for dep in deps:
            in_cycle = path in imports[dep]
            assert in_cycle or position[dep] < position[path], f"{dep} must precede {path}"


def test_an_import_cycle_is_kept_together(tmp_path: Path) -> None:
    result = index(copy_fixture("python", tmp_path / "python"))
    order = [f.path for f in result.files]
    a, b = order.index("pkg/cyc_a.py"), order.index("pkg/cyc_b.py")
    assert abs(a - b) == 1


def test_third_party_imports_are_external_not_edges(tmp_path: Path) -> None:
    result = index(copy_fixture("typescript", tmp_path / "ts"))
    app = next(f for f in result.files if f.path == "src/app.tsx")
    assert "react" in app.external
    assert all(not dep.startswith("react") for dep in app.imports)
    go = index(copy_fixture("go", tmp_path / "go"))
    store = next(f for f in go.files if f.path == "internal/store/store.go")
    assert store.external == ("fmt",)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("crate::a::b", ["crate::a::b"]),
        ("crate::util::{helper, Other as Renamed}", ["crate::util::helper", "crate::util::Other"]),
        ("super::{a::{b, c}, d}", ["super::a::b", "super::a::c", "super::d"]),
        ("crate::net::{self, http}", ["crate::net", "crate::net::http"]),
        ("crate::prelude::*", ["crate::prelude"]),
    ],
)
def test_rust_use_trees_expand(spec: str, expected: list[str]) -> None:
    assert _expand_use(spec) == expected
