"""What is under review: the changed files, their changed lines, and the tree they belong to.

Four kinds of change: the staged content (what a commit would hold; the
repository prefix is then built from git's index too), the work tree's
uncommitted changes (the default), a revision range, or whole files. Every
path is relative to the reviewed directory, as the prompt names them.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchedFile, PatchSet

from codectx.assistant.edits.paths import readable_path
from codectx.errors import RepositoryError
from codectx.gitsafe import open_repo, run_git
from codectx.indexer.gittree import INDEX

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's id for a tree with nothing in it
# One line of context: the repository (in the prompt's prefix) has the whole file. git's
# own diff of the bytes, never a driver's; a submodule by its commit, so that no git runs
# inside it (with that repository's own drivers) to see whether it is dirty.
DIFF_FLAGS = ("--no-color", "--no-ext-diff", "--no-textconv", "--ignore-submodules=dirty",
              "--relative", "-M", "--unified=1")

Kind = Literal["staged", "worktree", "range", "files"]


LineKind = Literal[" ", "+", "-"]
KINDS: tuple[LineKind, ...] = (" ", "+", "-")


@dataclass(frozen=True)
class Line:
    kind: LineKind
    number: int | None  # in the new version (None for a removed line)
    text: str


@dataclass(frozen=True)
class Hunk:
    start: int  # the new version's first line number here
    lines: list[Line]


@dataclass
class ChangedFile:
    path: str
    status: Literal["added", "modified", "deleted", "renamed", "binary"]
    hunks: list[Hunk] = field(default_factory=list)
    old_path: str | None = None

    @property
    def lines(self) -> list[Line]:
        return [line for hunk in self.hunks for line in hunk.lines]

    @property
    def changed(self) -> set[int]:
        """Lines of the new version a finding may name: added lines, and where lines went."""
        numbers: set[int] = set()
        for hunk in self.hunks:
            next_new = max(hunk.start, 1)
            for line in hunk.lines:
                if line.kind == "+" and line.number is not None:
                    numbers.add(line.number)
                elif line.kind == "-":
                    numbers.add(next_new)  # a removal is reported at the line after it
                if line.number is not None:
                    next_new = line.number + 1
        return numbers

    def text_at(self, number: int) -> str | None:
        return next((line.text for line in self.lines if line.number == number), None)


@dataclass
class Change:
    kind: Kind
    tree: str | None
    """Where the repository prefix comes from: None for the work tree, else a git tree."""
    files: list[ChangedFile]
    description: str
    notes: list[str] = field(default_factory=list)
    base: str | None = None
    """The revision (or tree) the change is measured against, or None: every file is new
    (the first commit) or reviewed whole."""
    message: str = ""
    """What the change's commits say of it (a range), for the model to weigh it against."""

    @property
    def reviewable(self) -> list[ChangedFile]:
        return [f for f in self.files if f.status not in ("binary", "deleted")]

    def file(self, path: str) -> ChangedFile | None:
        return next((f for f in self.reviewable if f.path == path), None)


def _repo(root: Path):  # type: ignore[no-untyped-def]
    import git

    try:
        return open_repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise RepositoryError(f"{root}: not inside a git repository",
                              "Review whole files instead, or run `git init`.") from exc


def _git(root: Path, *args: str) -> str:
    """git's output, for a command run in root (the reviewed directory)."""
    return os.fsdecode(run_git(root, *args).stdout)


def has_commits(root: Path) -> bool:
    repo = _repo(root)
    try:
        repo.head.commit  # noqa: B018 - raises ValueError on an unborn branch
    except ValueError:
        return False
    return True


def merge_in_progress(root: Path) -> bool:
    repo = _repo(root)
    return Path(repo.git_dir, "MERGE_HEAD").exists()


def staged(root: Path) -> Change:
    """The staged content against HEAD (or, before the first commit, against nothing)."""
    base = "HEAD" if has_commits(root) else EMPTY_TREE
    diff = _git(root, "diff", "--cached", *DIFF_FLAGS, base)
    described = "the staged changes" if base == "HEAD" else "the first commit's staged files"
    return Change("staged", INDEX, parse_diff(diff), described, base=_commit(base))


def worktree(root: Path) -> Change:
    """Uncommitted changes in the work tree (staged or not), new untracked files included."""
    base = "HEAD" if has_commits(root) else EMPTY_TREE
    diff = _git(root, "diff", *DIFF_FLAGS, base)
    files = parse_diff(diff)
    untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard")
    for path in sorted(filter(None, untracked.split("\0"))):
        files.append(_untracked(root, path))
    return Change("worktree", None, files, "the uncommitted changes", base=_commit(base))


def revision_range(root: Path, spec: str) -> Change:
    """The changes between two revisions, `A..B` (B defaults to HEAD); the prefix is B's tree."""
    _repo(root)  # outside a repository, that error rather than git's
    sep = "..." if "..." in spec else ".."
    if sep not in spec:
        raise RepositoryError(f"--range {spec}: expected A..B", "For example: --range main..HEAD")
    left, right = spec.split(sep, 1)
    right = right or "HEAD"
    try:
        commit = _git(root, "rev-parse", "--verify", "--quiet", f"{right}^{{commit}}").strip()
        diff = _git(root, "diff", *DIFF_FLAGS, f"{left or 'HEAD'}{sep}{right}")
        # A..B is measured from A; A...B from where B's history left A's.
        base = (_git(root, "merge-base", left or "HEAD", right) if sep == "..." else _git(
            root, "rev-parse", "--verify", "--quiet", f"{left or 'HEAD'}^{{tree}}")).strip()
    except subprocess.CalledProcessError as exc:
        detail = os.fsdecode(exc.stderr).strip()
        raise RepositoryError(f"--range {spec}: {detail or 'unknown revision'}",
                              "Name commits, branches or tags that exist.") from exc
    return Change("range", commit, parse_diff(diff), f"the changes in {spec}", base=base,
                  message=_messages(root, f"{left or 'HEAD'}{sep}{right}"))


MAX_MESSAGE_CHARS = 1_000


def _messages(root: Path, spec: str) -> str:
    """The messages of the commits in `spec` (A..B, or A...B: those on B's side), newest
    first, cut at MAX_MESSAGE_CHARS; empty when git cannot tell."""
    try:
        text = _git(root, "log", "--no-merges", "--format=%B", "--right-only", "-n", "5", spec)
    except subprocess.CalledProcessError:
        return ""
    text = "\n".join(line for line in text.strip().splitlines() if line.strip())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + " ..."


def whole_files(root: Path, paths: list[str]) -> Change:
    """Whole files as they are in the work tree: every line is under review."""
    files = []
    for path in paths:
        # A symlink leading out of the repository is refused, never read through.
        safe = readable_path(root, path, f"the file to review, {path}")
        if not (root / safe).is_file():
            raise RepositoryError(f"the file to review, {path}: no such file in {root}",
                                  "Name files relative to the repository root.")
        files.append(_whole_file(root, safe, "modified"))
    return Change("files", None, files, "whole files")


def _commit(base: str) -> str | None:
    return None if base == EMPTY_TREE else base


def _untracked(root: Path, path: str) -> ChangedFile:
    """A new file as `git add` would stage it: a symlink as the path it holds, never the
    content it leads to (which may lie outside the repository)."""
    target = root / path
    if target.is_symlink():
        return ChangedFile(path, "added", [Hunk(1, [Line("+", 1, os.readlink(target))])])
    return _whole_file(root, path, "added")


def _whole_file(root: Path, path: str, status: Literal["added", "modified"]) -> ChangedFile:
    data = (root / path).read_bytes()
    if b"\0" in data[:8192]:
        return ChangedFile(path, "binary")
    text = data.decode("utf-8", errors="replace")
    lines = [Line("+", i, t) for i, t in enumerate(text.splitlines(), start=1)]
    return ChangedFile(path, status, [Hunk(1, lines)])


def parse_diff(diff: str) -> list[ChangedFile]:
    """A unified diff (git's) as changed files with numbered lines."""
    try:
        patch = PatchSet(diff)
    except UnidiffParseError as exc:
        raise RepositoryError(f"git's diff could not be read: {exc}") from exc
    return [_changed_file(pf) for pf in patch]


def _strip(path: str) -> str:
    return path[2:] if path.startswith(("a/", "b/")) else path


def _changed_file(pf: PatchedFile) -> ChangedFile:
    path = _strip(pf.path)
    if pf.is_binary_file:
        return ChangedFile(path, "binary")
    if pf.is_removed_file:
        return ChangedFile(path, "deleted")
    status: Literal["added", "modified", "renamed"] = (
        "added" if pf.is_added_file else "renamed" if pf.is_rename else "modified")
    hunks = []
    for hunk in pf:
        lines = [
            Line(line.line_type, None if line.line_type == "-" else line.target_line_no,
                 line.value.rstrip("\r\n"))
            for line in hunk if line.line_type in KINDS  # not "\ No newline at end of file"
        ]
        hunks.append(Hunk(hunk.target_start, lines))
    old = _strip(pf.source_file) if status == "renamed" else None
    return ChangedFile(path, status, hunks, old)
