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

Creating thousands of files is slow (on this kind of machine a 7,000-file project takes
about 10 s), so where the caller names a directory of codectx's cache for the
repository (`builds`), the copy is kept there between trials and brought up to date
before each: a file is copied again only when it changed in the work tree or in the
copy (a record of both as they were after the last copy says which; a file modified in
the last two seconds is copied again next time, as git guards against timestamps too
coarse to tell two writes apart), and anything the copy has that the work tree does not
list (what a check or a change left) is removed.
Build output worth keeping (cargo's target directory, bytecode) stays beside it. One
process at a time holds the kept copy (a lock); another, or a caller naming no
directory, gets a fresh copy in a temporary directory only this user can read, removed
when the checks end (and by a later trial, a day on, where a killed process left one).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from codectx.files import repository_state_dir, resolves_inside, write_bytes_atomic
from codectx.indexer.walk import tree_paths

PREFIX = "codectx-checks-"
STALE_S = 24 * 3600
LINKED_DIRS = ("node_modules",)
"""Ignored directories linked into the copy instead of copied (dependencies, not source)."""
RECORD_VERSION = 1
BUILDS = "builds"
"""The directory of codectx's cache that holds every repository's kept copy."""
RACY_NS = 2_000_000_000
"""A file modified this recently may change again within its timestamp: not recorded."""

Stamp = tuple[int, int, int]
"""A file's size, modification time (ns) and mode bits: when any differs, it changed."""


@dataclass(frozen=True)
class Scratch:
    """Where the checks run: `tree` is the repository's copy, `private` a directory beside
    it for what the checks cache (bytecode, build output)."""

    tree: Path
    private: Path

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
        paths = [str(self.tree)] + ([str(self.tree / "src")] if (self.tree / "src").is_dir()
                                    else [])
        if os.environ.get("PYTHONPATH"):
            paths.append(os.environ["PYTHONPATH"])
        return {"PYTHONPATH": os.pathsep.join(paths),
                "PYTHONPYCACHEPREFIX": str(self.private / "pycache"),
                "CARGO_TARGET_DIR": str(self.private / "cargo-target")}


def _stamp(info: os.stat_result) -> Stamp:
    return info.st_size, info.st_mtime_ns, stat.S_IMODE(info.st_mode)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _copy(root: Path, tree: Path, path: str, info: os.stat_result) -> bool:
    """Copy one listed path into the copy; whether it belongs there (a regular file, or a
    relative link that stays inside)."""
    source, target = root / path, tree / path
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    if stat.S_ISLNK(info.st_mode):
        link = os.readlink(source)
        # A relative link that stays inside leads to the copy's own file; any other would
        # lead the checks back into the user's tree, or out of the repository.
        if os.path.isabs(link) or not resolves_inside(root, path):
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(link, target)
        return True
    if not stat.S_ISREG(info.st_mode):
        return False  # a fifo or a device is no file to check, and reading one may never end
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target, follow_symlinks=False)
    os.chmod(target, stat.S_IMODE(info.st_mode))
    return True


def _prune(tree: Path, keep: set[str]) -> None:
    """Remove what the copy has and the work tree does not list (what a check or a change
    left there), and the directories that leaves empty."""
    for dirpath, dirnames, filenames in os.walk(tree, topdown=False):
        rel_dir = os.path.relpath(dirpath, tree)
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath,
                                                                                     d))]:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if rel not in keep and rel not in LINKED_DIRS:
                os.unlink(os.path.join(dirpath, name))
        if rel_dir != "." and not os.listdir(dirpath):
            os.rmdir(dirpath)


def _sync(root: Path, tree: Path, record_path: Path | None) -> None:
    """Bring the copy at `tree` up to date with the work tree at root; `record_path` keeps
    what was copied (None: the copy is new, nothing is kept)."""
    record: dict[str, list[list[int]]] = {}
    if record_path is not None:
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(record_path.read_text())
            if data.get("version") == RECORD_VERSION:
                record = data["files"]
    inside = functools.lru_cache(maxsize=None)(functools.partial(resolves_inside, root))
    kept: dict[str, list[list[int]]] = {}
    present: set[str] = set()
    started = time.time_ns()
    for path in tree_paths(root):
        info = _lstat(root / path)
        if info is None or not inside(path.rpartition("/")[0] or "."):
            continue
        was = record.get(path)
        now = _lstat(tree / path)
        if was is not None and now is not None and was == [list(_stamp(info)),
                                                             list(_stamp(now))]:
            kept[path] = was
            present.add(path)
            continue
        # An unreadable file is left out: a check could not read it in the work tree either.
        with contextlib.suppress(OSError):
            if _copy(root, tree, path, info) and (copied := _lstat(tree / path)) is not None:
                present.add(path)
                if started - info.st_mtime_ns >= RACY_NS:
                    kept[path] = [list(_stamp(info)), list(_stamp(copied))]
    _prune(tree, present)
    for name in LINKED_DIRS:
        linked = root / name
        if linked.is_dir() and not linked.is_symlink() and not os.path.lexists(tree / name):
            os.symlink(linked, tree / name)
    if record_path is not None:
        write_bytes_atomic(record_path, json.dumps(
            {"version": RECORD_VERSION, "files": kept}).encode())


def _sweep(base: Path) -> None:
    """Remove copies a killed process left, once they are old enough to be nobody's."""
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            if entry.name.startswith(PREFIX) and entry.is_dir() and not entry.is_symlink() \
                    and entry.stat().st_uid == os.getuid() \
                    and time.time() - entry.stat().st_mtime > STALE_S:
                shutil.rmtree(entry, ignore_errors=True)


def builds_dir(cache_dir: Path, root: Path) -> Path:
    """Where the checks of the repository at root keep their copy and build output."""
    return repository_state_dir(cache_dir, BUILDS, root)


@contextlib.contextmanager
def _kept(root: Path, builds: Path) -> Iterator[Scratch | None]:
    """The kept copy in `builds`, up to date; None when another process holds it."""
    builds.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = FileLock(str(builds / "copy.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        yield None
        return
    try:
        tree = builds / "copy" / (root.name or "repository")
        tree.mkdir(parents=True, exist_ok=True)
        _sync(root, tree, builds / "copy.json")
        yield Scratch(tree, builds)
    finally:
        lock.release()


@contextlib.contextmanager
def scratch_copy(root: Path, builds: Path | None = None) -> Iterator[Scratch]:
    """A private copy of the repository at root, up to date, for the length of the block:
    kept in `builds` between trials when given (and free), else fresh and removed."""
    root = root.resolve()
    if builds is not None:
        with _kept(root, builds) as kept:
            if kept is not None:
                yield kept
                return
    _sweep(Path(tempfile.gettempdir()))
    holder = Path(tempfile.mkdtemp(prefix=PREFIX))
    try:
        tree = holder / (root.name or "repository")
        tree.mkdir()
        (holder / "private").mkdir()
        _sync(root, tree, None)
        yield Scratch(tree, holder / "private")
    finally:
        shutil.rmtree(holder, ignore_errors=True)
