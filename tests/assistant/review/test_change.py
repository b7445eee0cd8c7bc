"""What is under review: staged, work tree, range and whole-file changes from real repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from codectx.assistant.review import change as changes
from codectx.errors import RepositoryError
from codectx.indexer.gittree import INDEX
from tests.conftest import commit, make_repo

BASE = "".join(f"line {i}\n" for i in range(1, 21))


def test_staged_changes_number_the_new_lines(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": BASE, "gone.txt": "x\n"})
    root = tmp_path / "r"
    (root / "a.txt").write_text(BASE.replace("line 5\n", "line five\n").replace(
        "line 15\n", ""))
    (root / "new.txt").write_text("fresh\n")
    repo.index.add(["a.txt", "new.txt"])
    repo.index.remove(["gone.txt"], working_tree=True)
    change = changes.staged(root)
    assert change.tree == INDEX and change.kind == "staged"
    by_path = {f.path: f for f in change.files}
    assert by_path["a.txt"].status == "modified"
    assert by_path["a.txt"].changed == {5, 15}  # a modified line, and where a line went
    assert by_path["a.txt"].text_at(5) == "line five"
    assert by_path["new.txt"].status == "added" and by_path["new.txt"].changed == {1}
    assert by_path["gone.txt"].status == "deleted"
    assert [f.path for f in change.reviewable] == ["a.txt", "new.txt"]


def test_the_work_tree_change_holds_unstaged_edits_and_untracked_files(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"a.txt": BASE})
    root = tmp_path / "r"
    (root / "a.txt").write_text(BASE + "line 21\n")
    (root / "n.txt").write_text("one\ntwo\n")
    (root / "blob.bin").write_bytes(b"\0\1\2")
    change = changes.worktree(root)
    assert change.tree is None
    by_path = {f.path: f for f in change.files}
    assert by_path["a.txt"].changed == {21}
    assert by_path["n.txt"].changed == {1, 2}
    assert by_path["blob.bin"].status == "binary"
    assert changes.staged(root).files == []  # nothing staged


def test_binary_and_renamed_files(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"old.txt": BASE, "img.bin": b"\0\1"})
    root = tmp_path / "r"
    repo.git.mv("old.txt", "new.txt")
    (root / "img.bin").write_bytes(b"\0\2")
    repo.index.add(["img.bin"])
    by_path = {f.path: f for f in changes.staged(root).files}
    assert by_path["new.txt"].status == "renamed" and by_path["new.txt"].old_path == "old.txt"
    assert by_path["img.bin"].status == "binary"


def test_before_the_first_commit_everything_staged_is_new(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    (tmp_path / "r" / "a.txt").write_text("a\nb\n")
    repo.index.add(["a.txt"])
    assert not changes.has_commits(tmp_path / "r")
    change = changes.staged(tmp_path / "r")
    assert [(f.path, f.status, f.changed) for f in change.files] == [("a.txt", "added", {1, 2})]


def test_a_range_reviews_against_its_right_side(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.txt": BASE})
    first = repo.head.commit.hexsha
    commit(repo, {"a.txt": BASE + "more\n"})
    change = changes.revision_range(tmp_path / "r", f"{first}..")
    assert change.tree == repo.head.commit.hexsha
    assert change.files[0].changed == {21}
    with pytest.raises(RepositoryError, match=r"expected A\.\.B"):
        changes.revision_range(tmp_path / "r", "HEAD")
    with pytest.raises(RepositoryError, match=r"--range nope\.\.HEAD"):
        changes.revision_range(tmp_path / "r", "nope..HEAD")


def test_whole_files_put_every_line_under_review(tmp_path: Path) -> None:
    make_repo(tmp_path / "r", {"a.txt": "x\ny\n"})
    change = changes.whole_files(tmp_path / "r", ["a.txt"])
    assert change.files[0].changed == {1, 2}
    with pytest.raises(RepositoryError, match="no such file"):
        changes.whole_files(tmp_path / "r", ["missing.txt"])


def test_outside_git_the_error_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="not inside a git repository") as caught:
        changes.worktree(tmp_path)
    assert caught.value.hint and "Review whole files" in caught.value.hint
