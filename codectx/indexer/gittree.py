"""A repository as a git tree has it: the index (what would be committed) or a commit.

`codectx review --staged` must see exactly what a commit would hold, not
the work tree: a file staged with one content and edited again afterwards is
reviewed with its staged content. Here the file list comes from git's index
(or a commit's tree) and each file's bytes from its blob, read through one
long-running `git cat-file` process.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from codectx.errors import RepositoryError
from codectx.gitsafe import open_repo, run_git

INDEX = "index"
"""The tree name for git's index (the staged content)."""


@dataclass(frozen=True)
class TreeEntry:
    path: str  # relative to the listed directory, POSIX
    mode: str  # git's file mode: 100644, 100755, 120000 (symlink), 160000 (submodule)
    blob: str  # the object id


def _repo(root: Path):  # type: ignore[no-untyped-def]
    import git

    try:
        return open_repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise RepositoryError(f"{root}: not inside a git repository",
                              "Reviewing staged content or a commit needs git.") from exc


def list_tree(root: Path, tree: str) -> list[TreeEntry]:
    """The files under root in git's index (tree == INDEX) or in the commit `tree`."""
    try:
        if tree == INDEX:
            done = run_git(root, "ls-files", "-z", "--stage")
        else:
            done = run_git(root, "ls-tree", "-r", "-z", tree, "--", ".")
    except subprocess.CalledProcessError as exc:
        what = "the index" if tree == INDEX else f"revision {tree!r}"
        raise RepositoryError(
            f"git cannot list {what}: {os.fsdecode(exc.stderr).strip() or exc}",
            "Name a commit, branch or tag that exists.") from exc
    out = os.fsdecode(done.stdout)
    entries: dict[str, TreeEntry] = {}
    for record in filter(None, out.split("\0")):
        meta, path = record.split("\t", 1)
        fields = meta.split()
        if tree == INDEX:  # "<mode> <object> <stage>"; a conflict lists stages 1-3
            mode, blob, stage = fields
            if stage not in ("0", "2") or (stage == "2" and path in entries):
                continue
        else:  # "<mode> <type> <object>"
            mode, _, blob = fields
        entries[path] = TreeEntry(path, mode, blob)
    return [entries[p] for p in sorted(entries)]


class BlobReader:
    """Blob contents and sizes by object id, from one `git cat-file` process; a context manager.

    The repository object is kept and closed when the reader is: GitPython's Repo
    sits in a reference cycle, and a Repo finalized by the garbage collector
    closes the very `git cat-file` process a read may be using at that moment.
    """

    def __init__(self, root: Path) -> None:
        self._repo = _repo(root)
        self._odb = self._repo.odb

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._repo.close()

    def size(self, blob: str) -> int:
        return int(self._odb.info(bytes.fromhex(blob)).size)

    def read(self, blob: str) -> bytes:
        data: bytes = self._odb.stream(bytes.fromhex(blob)).read()
        return data
