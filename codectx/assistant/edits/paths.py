"""Where codectx may write, and what it may read on the user's word: inside the repository,
never .git, never out through a link."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Literal

from codectx.errors import CodectxError
from codectx.files import resolves_inside


class EditRefused(CodectxError):
    """An edit names a path it may not touch."""


class ReadRefused(CodectxError):
    """A file named to be read (pinned, reviewed) lies outside the repository or in .git."""


Problem = Literal["absolute", "parent", "git", "symlink"]


def _check(root: Path, path: str) -> tuple[str, Problem | None]:
    """The normalized repository-relative path, and what is wrong with it (None: nothing)."""
    if not path or path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        return path, "absolute"
    norm = posixpath.normpath(path.replace("\\", "/"))
    if norm == ".." or norm.startswith("../"):
        return norm, "parent"
    # Case-folded, and with the trailing dots and spaces Windows ignores: on a
    # case-insensitive filesystem ".GIT/hooks" is the same directory.
    if any(part.casefold().rstrip(". ") in (".git", "git~1") for part in norm.split("/")):
        return norm, "git"
    real_root = os.path.realpath(root)
    # Every existing step of the way must stay inside: a symlinked directory or file
    # pointing out would carry the write (or the read) with it.
    current = ""
    for part in norm.split("/"):
        current = posixpath.join(current, part) if current else part
        if os.path.lexists(os.path.join(real_root, current)) and not resolves_inside(
                real_root, current):
            return norm, "symlink"
    return norm, None


def safe_path(root: Path, path: str) -> str:
    """The normalized repository-relative path, or EditRefused naming the offending path."""
    norm, problem = _check(root, path)
    if problem == "absolute":
        raise EditRefused(f"refused {path!r}: an absolute path; edits stay inside the repository")
    if problem == "parent":
        raise EditRefused(f"refused {path!r}: it leads outside the repository")
    if problem == "git":
        raise EditRefused(f"refused {path!r}: codectx never edits inside .git")
    if problem == "symlink":
        raise EditRefused(f"refused {path!r}: a symlink on the way leads outside "
                          "the repository")
    return norm


_READ_PROBLEMS: dict[Problem, str] = {
    "absolute": "an absolute path, not one inside the repository",
    "parent": "it leads outside the repository",
    "git": "codectx never reads inside .git",
    "symlink": "a symlink on the way leads outside the repository; not read",
}


def readable_path(root: Path, path: str, what: str) -> str:
    """The normalized repository-relative path of a file the user names to be read, or
    ReadRefused: `what` says where it was named ("/add x", "the file named, x")."""
    norm, problem = _check(root, path)
    if problem is not None:
        raise ReadRefused(f"{what}: {_READ_PROBLEMS[problem]}",
                          "Name a file inside the repository, relative to its root.")
    return norm
