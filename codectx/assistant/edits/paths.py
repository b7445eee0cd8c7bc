"""Where codectx may write, and what it may read on the user's word: inside the repository,
never .git, never out through a link.

`.git` as written is not enough: a committed link (`lnk -> .git`), a `.git` file naming a
git directory elsewhere, a worktree's common directory and a `core.hooksPath` inside the
work tree all lead to what git executes. Every path is judged by where it resolves.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from pathlib import Path
from typing import Literal

import platformdirs

from codectx.errors import CodectxError
from codectx.files import resolves_inside
from codectx.gitsafe import run_git


class EditRefused(CodectxError):
    """An edit names a path it may not touch."""


class ReadRefused(CodectxError):
    """A file named to be read (pinned, reviewed) lies outside the repository or in .git."""


Problem = Literal["absolute", "parent", "git", "symlink", "option", "gitdir", "state"]


def _git_lines(root: Path, *args: str) -> list[str]:
    try:
        done = run_git(root, *args, check=False, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    if done.returncode != 0:
        return []
    return done.stdout.decode("utf-8", "surrogateescape").splitlines()


def git_places(root: Path) -> list[str]:
    """The real paths of what git reads and runs for the repository at root: its git
    directory, the common directory of a worktree, and a configured hooks directory."""
    found = _git_lines(root, "rev-parse", "--absolute-git-dir", "--git-common-dir",
                       "--show-toplevel")
    if len(found) < 2:
        return []
    places = [found[0], found[1] if os.path.isabs(found[1]) else os.path.join(root, found[1])]
    top = found[2] if len(found) > 2 else str(root)
    # The repository's own value, not the one codectx passes git on the command line.
    for line in _git_lines(root, "config", "--show-scope", "--get-all", "core.hooksPath"):
        scope, _, value = line.partition("\t")
        if scope != "command" and value:
            places.append(os.path.join(top, os.path.expanduser(value)))
    return [os.path.realpath(p) for p in places]


def state_places() -> list[str]:
    """codectx's own state (caches, undo journal, trust decisions): never an edit's target."""
    return [os.path.realpath(platformdirs.user_cache_dir("codectx", appauthor=False)),
            os.path.realpath(platformdirs.user_config_dir("codectx", appauthor=False))]


def _within(path: str, places: list[str]) -> bool:
    return any(path == place or path.startswith(place.rstrip("/") + "/") for place in places)


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
    # A part read as an option by a check program that is handed the path (`--require=x`).
    if any(part.startswith("-") for part in norm.split("/")):
        return norm, "option"
    real_root = os.path.realpath(root)
    # Every existing step of the way must stay inside: a symlinked directory or file
    # pointing out would carry the write (or the read) with it.
    current = ""
    for part in norm.split("/"):
        current = posixpath.join(current, part) if current else part
        if os.path.lexists(os.path.join(real_root, current)) and not resolves_inside(
                real_root, current):
            return norm, "symlink"
    real = os.path.realpath(os.path.join(real_root, norm))
    if _within(real, git_places(root)):
        return norm, "gitdir"
    if _within(real, state_places()):
        return norm, "state"
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
    if problem == "gitdir":
        raise EditRefused(f"refused {path!r}: it leads into the git directory or the hooks "
                          "git runs; codectx never edits those")
    if problem == "option":
        raise EditRefused(f"refused {path!r}: a part starts with '-', which programs read "
                          "as an option")
    if problem == "state":
        raise EditRefused(f"refused {path!r}: it leads into codectx's own state")
    if problem == "symlink":
        raise EditRefused(f"refused {path!r}: a symlink on the way leads outside "
                          "the repository")
    return norm


_READ_PROBLEMS: dict[Problem, str] = {
    "absolute": "an absolute path, not one inside the repository",
    "parent": "it leads outside the repository",
    "git": "codectx never reads inside .git",
    "gitdir": "it leads into the git directory or the hooks git runs; not read",
    "option": "a part starts with '-', which programs read as an option",
    "state": "it leads into codectx's own state",
    "symlink": "a symlink on the way leads outside the repository; not read",
}


def readable_path(root: Path, path: str, what: str) -> str:
    """The normalized repository-relative path of a file the user names to be read, or
    ReadRefused: `what` says where it was named ("/add x", "the file named, x")."""
    norm, problem = _check(root, path)
    if problem is not None and problem != "option":  # reading a file is no program's option
        raise ReadRefused(f"{what}: {_READ_PROBLEMS[problem]}",
                          "Name a file inside the repository, relative to its root.")
    return norm
