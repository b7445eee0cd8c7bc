"""A private copy of the repository for an edit's checks: the user's tree is never touched.

Checks run before the user has seen or approved a change, and some of them run the
project's code (its tests, a build script the model may have edited); file watchers and
dev servers react to whatever lands in the work tree. So the change is written into a
copy, never into the work tree, and a crash or a kill during the checks leaves the
user's files as they were.

The copy holds the files git lists (tracked, and untracked but not ignored: the user's
uncommitted work as it is), each copied, not linked, so a check that writes to a file
writes to its own copy. A symlink is kept only when it is relative and leads to a place
inside the repository; one leading out is left out, as the index leaves it out. The
ignored dependency directory `node_modules` is linked rather than copied (a package's
tests need it, and it is large); a check may write there as it would in the work tree.
Nothing of `.git` is copied: checks need the files, not the history.

The copy lives in a directory only this user can read (mkdtemp), beside a private
directory for the checks' caches; both go when the checks end. Copies that a killed
process left behind are removed by the next trial once they are a day old. Build
output worth keeping between trials (cargo's target directory) goes to a directory of
codectx's cache for this repository instead, when the caller names one, so that the
next check builds only what changed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codectx.files import repository_state_dir, resolves_inside
from codectx.indexer.walk import tree_paths

PREFIX = "codectx-checks-"
STALE_S = 24 * 3600
LINKED_DIRS = ("node_modules",)
"""Ignored directories linked into the copy instead of copied (dependencies, not source)."""


@dataclass(frozen=True)
class Scratch:
    """Where the checks run: `tree` is the repository's copy, `private` a directory beside
    it for what the checks cache (bytecode, build output)."""

    tree: Path
    private: Path
    builds: Path | None = None
    """Where build output is kept between trials (None: in `private`, for this one)."""

    def write(self, path: str, data: bytes | None) -> None:
        """Lay one file of a change over the copy (None: remove it)."""
        target = self.tree / path
        if data is None:
            target.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():  # a change replaces the file, never what a link points at
            target.unlink()
        target.write_bytes(data)

    def environment(self) -> dict[str, str]:
        """Variables every check gets here: the copy's sources before any installed copy
        of the project (an editable install points at the user's tree), and bytecode and
        build output kept out of the copy."""
        env: dict[str, str] = {}
        paths = [str(self.tree)] + ([str(self.tree / "src")] if (self.tree / "src").is_dir()
                                    else [])
        if os.environ.get("PYTHONPATH"):
            paths.append(os.environ["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        env["PYTHONPYCACHEPREFIX"] = str(self.private / "pycache")
        env["CARGO_TARGET_DIR"] = str((self.builds or self.private) / "cargo-target")
        return env


def _copy_one(root: Path, tree: Path, path: str) -> None:
    source = root / path
    try:
        info = os.lstat(source)
    except OSError:
        return  # gone since git listed it
    # An unreadable file is left out: a check could not read it in the work tree either.
    with contextlib.suppress(OSError):
        _copy(source, tree / path, path, info.st_mode, root)


def _copy(source: Path, target: Path, path: str, mode: int, root: Path) -> None:
    if stat.S_ISLNK(mode):
        link = os.readlink(source)
        # A relative link that stays inside leads to the copy's own file; any other would
        # lead the checks back into the user's tree, or out of the repository.
        if not os.path.isabs(link) and resolves_inside(root, path):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(link, target)
        return
    if not stat.S_ISREG(mode):
        return  # a fifo or a device is no file to check, and reading one may never end
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target, follow_symlinks=False)
    os.chmod(target, stat.S_IMODE(mode))


def _sweep(base: Path) -> None:
    """Remove copies a killed process left, once they are old enough to be nobody's."""
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            if entry.name.startswith(PREFIX) and entry.is_dir() and not entry.is_symlink() \
                    and entry.stat().st_uid == os.getuid() \
                    and time.time() - entry.stat().st_mtime > STALE_S:
                shutil.rmtree(entry, ignore_errors=True)


def builds_dir(cache_dir: Path, root: Path) -> Path:
    """Where the checks of the repository at root keep build output between trials."""
    return repository_state_dir(cache_dir, "builds", root)


@contextlib.contextmanager
def scratch_copy(root: Path, builds: Path | None = None) -> Iterator[Scratch]:
    """A fresh private copy of the repository at root, removed when the block ends;
    `builds`: where build output is kept between trials."""
    root = root.resolve()
    base = Path(tempfile.gettempdir())
    _sweep(base)
    holder = Path(tempfile.mkdtemp(prefix=PREFIX))
    try:
        tree = holder / (root.name or "repository")
        tree.mkdir()
        private = holder / "private"
        private.mkdir()
        for path in tree_paths(root):
            if resolves_inside(root, path.rpartition("/")[0] or "."):
                _copy_one(root, tree, path)
        for name in LINKED_DIRS:
            linked = root / name
            if linked.is_dir() and not linked.is_symlink() and not (tree / name).exists():
                os.symlink(linked, tree / name)
        if builds is not None:
            builds.mkdir(parents=True, exist_ok=True, mode=0o700)
        yield Scratch(tree, private, builds)
    finally:
        shutil.rmtree(holder, ignore_errors=True)
