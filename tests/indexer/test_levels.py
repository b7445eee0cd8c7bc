"""What kind of file a path is, by its place and name."""

from __future__ import annotations

import pytest

from codectx.indexer.levels import is_test_path


@pytest.mark.parametrize(("path", "test"), [
    ("tests/test_app.py", True), ("pkg/tests/helpers.py", True), ("spec/a_spec.rb", True),
    ("src/__tests__/app.js", True), ("test_app.py", True), ("app_test.go", True),
    ("src/app.test.ts", True), ("src/app.spec.tsx", True), ("conftest.py", True),
    ("src/app.py", False), ("src/testing.py", False), ("contest.py", False),
    ("latest/app.py", False), ("src/attest.rs", False),
])
def test_a_test_path_is_known_by_its_place_or_name(path: str, test: bool) -> None:
    assert is_test_path(path) is test
