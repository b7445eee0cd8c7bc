"""The snapshot: an unchanged tree is re-indexed without reading a file, a changed one never is."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.conftest import commit, index, make_repo, write_tree


def age(root: Path, seconds: float = 60) -> None:
    """Make every file look written long ago, as in a tree the user is not editing."""
    past = time.time() - seconds
    for path in root.rglob("*"):
        if ".git" not in path.parts:
            os.utime(path, (past, past), follow_symlinks=False)


def test_an_unchanged_tree_comes_from_the_snapshot(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"a.py": "import b\n", "b.py": "B = 1\n"})
    age(tmp_path / "r")
    first = index(tmp_path / "r")
    second = index(tmp_path / "r")
    assert not first.from_snapshot and second.from_snapshot
    assert second.text == first.text
    assert second.files == first.files and second.segments == first.segments


def test_any_change_to_the_tree_or_the_options_misses_the_snapshot(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": "import b\n", "b.py": "B = 1\n"})
    root = tmp_path / "r"
    age(root)
    index(root)
    assert index(root).from_snapshot
    assert not index(root, format="markdown").from_snapshot

    write_tree(root, {"b.py": "B = 2\n"})
    age(root)
    changed = index(root)
    assert not changed.from_snapshot and "B = 2" in changed.text

    write_tree(root, {"c.py": "C = 3\n"})
    age(root)
    assert "c.py" in [f.path for f in index(root).files]

    commit(repo, {"c.py": "C = 3\n"})
    age(root)
    assert not index(root).from_snapshot  # HEAD moved: the order may change


def test_a_file_written_just_before_the_last_run_is_not_trusted(tmp_path: Path) -> None:
    write_tree(tmp_path / "r", {"a.py": "A = 1\n"})
    index(tmp_path / "r")
    # a.py's timestamp is as new as the run: a write in the same tick would be invisible.
    assert not index(tmp_path / "r").from_snapshot
