"""A repository is untrusted input: no symlink in it makes codectx read a file outside it.

Each test puts a secret in a file outside the repository, links to it from inside, and
checks that the secret reaches nothing: not the index, not a prompt the model is given,
not what a command prints.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from codectx import config
from codectx.assistant import commands, editing, reviewing
from codectx.assistant.chat import Chat
from codectx.assistant.context import Context
from codectx.assistant.edits.paths import EditRefused, ReadRefused, readable_path, safe_path
from codectx.assistant.outcomes import Note, Refusal
from codectx.assistant.review import change
from codectx.assistant.session import Session
from codectx.cli import main
from codectx.files import resolves_inside
from codectx.indexer.gittree import INDEX
from codectx.indexer.repository import IndexResult, index_repository
from codectx.tokens import EstimateCounter
from tests.assistant.test_retrieval import big_repo, retriever_for
from tests.conftest import index, make_repo, write_tree
from tests.support.fake import FakeBackend, ScriptedProvider

SECRET = "TOPSECRET_c0ffee_never_in_a_prompt"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Files outside any repository: a secret, a directory of secrets, an ignore file."""
    out = tmp_path / "outside"
    write_tree(out, {"secret.py": f"{SECRET} = 1\n", "pkg/mod.py": f"{SECRET} = 2\n",
                     "ignore": "kept.py\n"})
    return out


def linked_repo(root: Path, outside: Path, *, git: bool, commit: bool = False) -> Path:
    """a.py, plus link.py (a file out) and linkdir (a directory out); with `commit` the
    links are committed, so that git's index and HEAD hold them too."""
    write_tree(root, {"a.py": "A = 1\n"})
    (root / "link.py").symlink_to(outside / "secret.py")
    (root / "linkdir").symlink_to(outside / "pkg", target_is_directory=True)
    if git:
        make_repo(root)
        if commit:
            subprocess.run(["git", "add", "-A"], cwd=root, check=True)
            subprocess.run(["git", "commit", "-qm", "links"], cwd=root, check=True)
    return root


def leaks(result: IndexResult) -> bool:
    return SECRET in result.text or any(SECRET in s.text for s in result.segments)


def prompts_text(backend: FakeBackend) -> str:
    return "\n".join(bytes(p.tokens).decode(errors="replace") for p in backend.prompts)


# -- the helper ------------------------------------------------------------------------


def test_resolves_inside_follows_every_link_on_the_way(tmp_path: Path, outside: Path) -> None:
    root = linked_repo(tmp_path / "r", outside, git=False)
    (root / "inside.py").symlink_to(root / "a.py")
    assert resolves_inside(root, "a.py") and resolves_inside(root, "inside.py")
    assert resolves_inside(root, "not/there/yet.py")
    assert not resolves_inside(root, "link.py")
    assert not resolves_inside(root, "linkdir/mod.py")
    assert not resolves_inside(root, "../outside/secret.py")
    # safe_path (edits) keeps its words; readable_path says the same for reads, with a hint
    with pytest.raises(EditRefused, match="a symlink on the way leads outside"):
        safe_path(root, "linkdir/mod.py")
    with pytest.raises(ReadRefused) as caught:
        readable_path(root, "linkdir/mod.py", "/add linkdir/mod.py")
    assert caught.value.message == ("/add linkdir/mod.py: a symlink on the way leads outside "
                                    "the repository; not read")
    assert caught.value.hint and "\n" not in caught.value.message


# -- 1. the walker -----------------------------------------------------------------------


@pytest.mark.parametrize("git", [False, True], ids=["plain", "work-tree"])
def test_the_walker_skips_a_file_and_a_directory_linked_out(tmp_path: Path, outside: Path,
                                                            git: bool) -> None:
    root = linked_repo(tmp_path / "r", outside, git=git, commit=git)
    result = index(root)
    assert [f.path for f in result.files] == ["a.py"]
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons["link.py"] == reasons["linkdir"] == "symlink leading outside the repository"
    assert not leaks(result)


@pytest.mark.parametrize("tree", [INDEX, "HEAD"])
def test_a_git_tree_walk_skips_committed_links_out(tmp_path: Path, outside: Path,
                                                   tree: str) -> None:
    root = linked_repo(tmp_path / "r", outside, git=True, commit=True)
    result = index_repository(root, config.load(root), EstimateCounter(), tree=tree)
    assert [f.path for f in result.files] == ["a.py"]
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons["link.py"] == reasons["linkdir"] == "symlink (not followed in a git tree)"
    assert not leaks(result)


def test_a_tracked_directory_swapped_for_a_link_out_is_not_read(tmp_path: Path,
                                                                outside: Path) -> None:
    """git lists sub/mod.py from its index; in the work tree sub now leads outside."""
    root = tmp_path / "r"
    make_repo(root, {"a.py": "A = 1\n", "sub/mod.py": "M = 1\n"})
    shutil.rmtree(root / "sub")
    (root / "sub").symlink_to(outside / "pkg", target_is_directory=True)
    result = index(root)
    assert [f.path for f in result.files] == ["a.py"]
    assert {s.path: s.reason for s in result.skipped}["sub/mod.py"] == (
        "under a symlinked directory leading outside the repository")
    assert not leaks(result)


# -- 3. ignore files the indexer reads -------------------------------------------------------


def test_a_gitignore_linked_out_is_not_read(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "r"
    write_tree(root, {"kept.py": "K = 1\n", "sub/kept.py": "K = 2\n"})
    (root / ".gitignore").symlink_to(outside / "ignore")
    (root / "sub" / ".gitignore").symlink_to(outside / "ignore")
    paths = [f.path for f in index(root).files]
    assert "kept.py" in paths and "sub/kept.py" in paths  # "kept.py" out there was not read


@pytest.mark.parametrize("mode", ["plain", "work-tree", "index"])
def test_a_codectxignore_linked_out_is_not_read(tmp_path: Path, outside: Path,
                                                mode: str) -> None:
    root = tmp_path / "r"
    write_tree(root, {"kept.py": "K = 1\n"})
    (root / ".codectxignore").symlink_to(outside / "ignore")
    if mode != "plain":
        make_repo(root, {"kept.py": "K = 1\n"})
    tree = INDEX if mode == "index" else None
    result = index_repository(root, config.load(root), EstimateCounter(), tree=tree)
    assert "kept.py" in [f.path for f in result.files]


# -- 2. files the user names, and retrieval ----------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, outside: Path) -> Path:
    return linked_repo(tmp_path / "r", outside, git=True, commit=True)


@pytest.mark.parametrize("path", ["link.py", "linkdir/mod.py"])
def test_add_refuses_a_link_out(repo: Path, path: str) -> None:
    backend = FakeBackend(["ok"])
    chat = Chat(Session(repo, config.load(repo), ScriptedProvider(backend)), front_end="chat")
    refused = commands.run(chat, f"/add {path}")
    assert isinstance(refused, Refusal) and refused.level == "error"
    assert refused.text.splitlines()[0] == (f"/add {path}: a symlink on the way leads "
                                           "outside the repository; not read")
    assert chat.pinned == [] and SECRET not in refused.text
    assert commands.run(chat, "/add a.py") == Note(
        "pinned a.py: its full text goes with every question")


@pytest.mark.parametrize("path", ["link.py", "linkdir/mod.py"])
def test_pinned_and_edited_files_refuse_a_link_out(repo: Path, path: str) -> None:
    backend = FakeBackend(["ok", "ok", "ok"])
    session = Session(repo, config.load(repo), ScriptedProvider(backend))
    with pytest.raises(ReadRefused, match=f"the file named, {path}: a symlink on the way"):
        list(session.ask("What is in it?", pinned=[path]))
    with pytest.raises(ReadRefused, match=f"the file named, {path}: a symlink on the way"):
        list(editing.edit(session, "Change it", files=[path]))
    assert backend.prompts == []
    list(session.ask("What is in a.py?", pinned=["a.py"]))
    assert "A = 1" in prompts_text(backend) and SECRET not in prompts_text(backend)


def test_edit_files_on_the_command_line(repo: Path, scripted: FakeBackend) -> None:
    scripted.replies.extend(["a.py\n```\nA = 2\n```\n"] * 2)
    result = CliRunner().invoke(main, ["edit", "Change it", str(repo), "--files", "link.py",
                                       "--json"])
    assert result.exit_code != 0 and "a symlink on the way leads outside" in result.output
    assert SECRET not in result.output and SECRET not in prompts_text(scripted)


@pytest.mark.parametrize("path", ["link.py", "linkdir/mod.py", "../outside/secret.py"])
def test_review_files_refuses_a_link_out(repo: Path, outside: Path, path: str) -> None:
    with pytest.raises(ReadRefused) as caught:
        change.whole_files(repo, [path])
    assert caught.value.message.startswith(f"the file to review, {path}: ")
    with pytest.raises(ReadRefused, match="an absolute path"):
        change.whole_files(repo, [str(outside / "secret.py")])
    assert change.whole_files(repo, ["./a.py"]).files[0].path == "a.py"


def test_review_files_on_the_command_line(repo: Path, scripted: FakeBackend) -> None:
    scripted.replies.append("no findings")
    result = CliRunner().invoke(main, ["review", str(repo), "--files", "link.py"])
    assert result.exit_code == 2 and "a symlink on the way leads outside" in result.stderr
    assert SECRET not in result.output and scripted.prompts == []


def test_an_untracked_link_out_is_reviewed_as_the_link_it_is(tmp_path: Path,
                                                             outside: Path) -> None:
    root = linked_repo(tmp_path / "r", outside, git=True)  # nothing committed: all untracked
    subprocess.run(["git", "add", "a.py"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "a"], cwd=root, check=True)
    worktree = change.worktree(root)
    by_path = {f.path: f for f in worktree.files}
    assert [line.text for line in by_path["link.py"].lines] == [str(outside / "secret.py")]
    assert all(SECRET not in line.text for f in worktree.files for line in f.lines)
    backend = FakeBackend(["no findings"])
    session = Session(root, config.load(root), ScriptedProvider(backend))
    list(reviewing.review(session, worktree))
    assert str(outside / "secret.py") in prompts_text(backend)  # the link, as git has it
    assert SECRET not in prompts_text(backend)


def test_retrieval_never_reads_through_a_link_out(tmp_path: Path, outside: Path) -> None:
    root = big_repo(tmp_path / "r")
    retriever, levels = retriever_for(root, index(root).total_tokens // 4)
    assert levels["pkg/mod05.py"].name != "FULL"
    # after indexing, the file becomes a link out (a checkout, another program)
    (root / "pkg" / "mod05.py").unlink()
    (root / "pkg" / "mod05.py").symlink_to(outside / "secret.py")
    found = retriever.retrieve("Explain pkg/mod05.py and compute_05", 4000)
    assert "pkg/mod05.py" not in [f.path for f in found.files]
    assert SECRET not in found.text
    assert Context(root, None, "xml")._read("pkg/mod05.py") is None
    assert Context(root, None, "xml")._read("pkg/mod06.py") is not None
