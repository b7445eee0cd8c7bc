"""Indexing a git tree (the index, a commit) instead of the work tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx import config
from codectx.errors import RepositoryError
from codectx.indexer.gittree import INDEX, list_tree
from codectx.indexer.repository import index_repository
from codectx.tokens import EstimateCounter
from tests.conftest import make_repo


def block(root: Path, tree: str | None, path: str) -> str:
    result = index_repository(root, config.load(root), EstimateCounter(), tree=tree)
    return next(s.text for s in result.segments if s.path == path)


def test_staged_content_not_the_work_tree_is_indexed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": "import b\n", "b.py": "Y = 1\n"})
    root = tmp_path / "r"
    (root / "b.py").write_text("Y = 2  # staged\n")
    repo.index.add(["b.py"])
    (root / "b.py").write_text("Y = 3  # work tree\n")
    (root / "untracked.py").write_text("Z = 0\n")
    assert "Y = 2  # staged" in block(root, INDEX, "b.py")
    assert "Y = 3  # work tree" in block(root, None, "b.py")
    assert "Y = 1" in block(root, "HEAD", "b.py")
    staged = index_repository(root, config.load(root), EstimateCounter(), tree=INDEX)
    assert [f.path for f in staged.files] == ["b.py", "a.py"]  # untracked files are not staged


def test_a_file_deleted_from_the_work_tree_but_staged_is_still_there(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"a.py": "A = 1\n"})
    (tmp_path / "r" / "a.py").unlink()
    assert "A = 1" in block(tmp_path / "r", INDEX, "a.py")


def test_the_index_and_the_work_tree_have_separate_snapshots(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": "A = 1\n"})
    root = tmp_path / "r"
    (root / "a.py").write_text("A = 2\n")
    repo.index.add(["a.py"])
    assert "A = 2" in block(root, INDEX, "a.py")
    (root / "a.py").write_text("A = 3\n")  # not staged: the index is unchanged
    assert "A = 2" in block(root, INDEX, "a.py")
    assert "A = 3" in block(root, None, "a.py")
    repo.index.add(["a.py"])
    assert "A = 3" in block(root, INDEX, "a.py")


def test_a_subdirectory_lists_relative_paths_and_skips_what_the_walk_skips(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"sub/x.py": "X = 1\n", "sub/.env": "SECRET=1\n", "top.py": "\n"})
    entries = list_tree(tmp_path / "r" / "sub", "HEAD")
    assert [e.path for e in entries] == [".env", "x.py"]
    result = index_repository(tmp_path / "r" / "sub", config.load(tmp_path / "r"),
                              EstimateCounter(), tree=INDEX)
    assert [f.path for f in result.files] == ["x.py"]
    assert [(s.path, s.reason) for s in result.skipped] == [(".env", "may hold secrets")]


def test_an_unknown_revision_is_a_clear_error(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"a.py": "\n"})
    with pytest.raises(RepositoryError, match="revision 'nope'"):
        list_tree(tmp_path / "r", "nope")
    with pytest.raises(RepositoryError, match="not inside a git repository"):
        index_repository(tmp_path, config.load(tmp_path), EstimateCounter(), tree=INDEX)


def test_a_blob_reader_keeps_its_repository_open_until_closed(repo_path: Path) -> None:
    """GitPython's Repo is collected by the cycle collector; it must not close a reader's git."""
    import gc
    import weakref

    from codectx.indexer.gittree import BlobReader

    entry = list_tree(repo_path, INDEX)[0]
    with BlobReader(repo_path) as reader:
        held = weakref.ref(reader._repo)
        gc.collect()
        assert held() is not None  # not finalized (and so not closing git) while in use
        assert reader.read(entry.blob) == b"A = 1\n"


@pytest.fixture
def repo_path(tmp_path: Path) -> Path:
    make_repo(tmp_path / "r", {"a.py": "A = 1\n"})
    return tmp_path / "r"
