"""Which files of a directory belong in the prompt, and why the others don't.

In a git work tree the file list is git's own (tracked files plus untracked
files that are not ignored); elsewhere `.gitignore` files are honoured with
pathspec. On top of either: `.codectxignore`, the include/exclude globs, and
the default skips (lock files, secrets, oversized, minified, generated,
binary). Every file left out for a reason other than an ignore rule is
reported with that reason.
"""

from __future__ import annotations

import functools
import os
import stat
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from codectx.errors import RepositoryError
from codectx.files import resolves_inside
from codectx.gitsafe import open_repo, run_git

IGNORE_FILE = ".codectxignore"

LOCK_FILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
    "bun.lock", "Cargo.lock", "poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock",
    "composer.lock", "Gemfile.lock", "go.sum", "flake.lock", "mix.lock", "pubspec.lock",
    "Package.resolved", "packages.lock.json", "gradle.lockfile",
})
SECRET_NAMES = frozenset({
    ".env", ".netrc", ".pgpass", ".pypirc", ".npmrc", ".git-credentials", ".htpasswd",
    "credentials", "credentials.json", "secrets.json", "secrets.yaml", "secrets.yml",
    "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "service-account.json",
})
SECRET_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".asc", ".gpg")
ENV_EXAMPLES = frozenset({".env.example", ".env.sample", ".env.template", ".env.dist"})
SOURCE_MAPS = (".js.map", ".css.map", ".map")


@dataclass(frozen=True)
class Candidate:
    """A file to read: its repository path (POSIX, relative) and where it is on disk."""

    path: str
    abspath: str
    size: int
    mtime_ns: int
    inode: int
    blob: str = ""
    """The git object to read instead of the file, when listing a git tree."""


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass
class Listing:
    files: list[Candidate]
    skipped: list[Skipped]
    is_git: bool
    untracked: list[str] = field(default_factory=list)


def name_reason(path: str) -> str | None:
    """Why a file is skipped by its name alone, or None."""
    name = path.rpartition("/")[2]
    lower = name.lower()
    if name in LOCK_FILES:
        return "lock file"
    if lower in ENV_EXAMPLES:
        return None
    if name in SECRET_NAMES or lower.startswith(".env.") or lower.endswith(SECRET_SUFFIXES):
        return "may hold secrets"
    if lower.endswith(SOURCE_MAPS):
        return "source map"
    return None


def _human(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def _ignore_lines(root: Path, rel: str) -> list[str]:
    """The lines of the ignore file at `rel`: none when there is no such file, or when it is
    a symlink leading outside the repository (repository content never makes codectx read
    a file elsewhere)."""
    path = root / rel
    if not resolves_inside(root, rel) or not path.is_file():
        return []
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


class _Filter:
    """`.codectxignore` plus the include/exclude globs, both in gitignore syntax."""

    def __init__(self, root: Path, include: list[str], exclude: list[str]) -> None:
        lines = [*exclude, *_ignore_lines(root, IGNORE_FILE)]
        self.exclude = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        self.include = pathspec.GitIgnoreSpec.from_lines(include) if include else None

    def keeps(self, path: str) -> bool:
        if self.exclude is not None and self.exclude.match_file(path):
            return False
        return self.include is None or self.include.match_file(path)


def list_files(
    root: Path,
    *,
    max_file_size: int,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    submodules: bool = False,
    tree: str | None = None,
) -> Listing:
    """List the candidate files under `root`, sorted by path.

    With `tree` (gittree.INDEX or a commit), the files are those of that git
    tree, to be read from their blobs, instead of the work tree's.
    """
    if not root.exists():
        raise RepositoryError(f"{root}: no such directory", "Pass the path of a repository.")
    if not root.is_dir():
        raise RepositoryError(f"{root}: not a directory", "Pass a directory, not a file.")
    root = root.resolve()
    if tree is not None:
        return _tree_listing(root, tree, max_file_size, _Filter(root, include or [], exclude or []))
    git_paths = _git_paths(root, submodules)
    is_git = git_paths is not None
    paths, skipped, untracked = git_paths if git_paths is not None else (*_plain_paths(root), [])
    keep = _Filter(root, include or [], exclude or [])
    files: list[Candidate] = []
    # Whether a directory stays inside once its symlinks are followed: asked once for each.
    dir_inside = functools.lru_cache(maxsize=None)(functools.partial(resolves_inside, root))
    for path in sorted(set(paths)):
        if not keep.keeps(path):
            continue
        entry = _check(str(root), path, max_file_size, dir_inside)
        if isinstance(entry, Skipped):
            skipped.append(entry)
        elif entry is not None:
            files.append(entry)
    skipped = [s for s in skipped if keep.keeps(s.path)]
    skipped.sort(key=lambda s: s.path)
    return Listing(files, skipped, is_git, sorted(untracked))


def _check(root: str, path: str, max_file_size: int,
           dir_inside: Callable[[str], bool]) -> Candidate | Skipped | None:
    # os.* on strings, not pathlib: this runs once per file on every index.
    parent = path.rpartition("/")[0]
    if parent and not dir_inside(parent):
        # git lists what its index holds: a directory of it may be a link out in the work tree.
        return Skipped(path, "under a symlinked directory leading outside the repository")
    abspath = os.path.join(root, path)
    try:
        st = os.lstat(abspath)
    except FileNotFoundError:
        return None  # tracked but deleted in the work tree: not part of the tree
    except OSError as exc:
        return Skipped(path, f"unreadable: {exc.strerror}")
    if stat.S_ISLNK(st.st_mode):
        # Outside first: whether a file exists out there is none of the prompt's business.
        if not resolves_inside(root, path):
            return Skipped(path, "symlink leading outside the repository")
        target = os.path.realpath(abspath)
        if not os.path.exists(target):
            return Skipped(path, "broken symlink")
        if os.path.isdir(target):
            return Skipped(path, "symlinked directory (not followed)")
        st = os.stat(target)
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        return Skipped(path, "not a regular file")
    reason = name_reason(path)
    if reason:
        return Skipped(path, reason)
    if st.st_size > max_file_size:
        return Skipped(path, f"too large ({_human(st.st_size)} > {_human(max_file_size)} cap)")
    return Candidate(path, abspath, st.st_size, st.st_mtime_ns, st.st_ino)


def _tree_listing(root: Path, tree: str, max_file_size: int, keep: _Filter) -> Listing:
    from codectx.indexer.gittree import BlobReader, list_tree

    files: list[Candidate] = []
    skipped: list[Skipped] = []
    with BlobReader(root) as blobs:
        for entry in list_tree(root, tree):
            path = entry.path
            if not keep.keeps(path):
                continue
            reason = name_reason(path)
            if entry.mode == "160000":
                reason = "submodule (not descended in a git tree)"
            elif entry.mode == "120000":
                reason = "symlink (not followed in a git tree)"
            size = 0 if reason else blobs.size(entry.blob)
            if not reason and size > max_file_size:
                reason = f"too large ({_human(size)} > {_human(max_file_size)} cap)"
            if reason:
                skipped.append(Skipped(path, reason))
            else:
                files.append(Candidate(path, "", size, 0, 0, entry.blob))
    return Listing(files, skipped, True)


def _git_paths(
    root: Path, submodules: bool
) -> tuple[list[str], list[Skipped], list[str]] | None:
    """Git's view of the files under root, or None outside a git work tree."""
    import git

    try:
        repo = open_repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    if repo.bare or repo.working_tree_dir is None:
        return None
    try:
        staged = os.fsdecode(run_git(root, "ls-files", "-z", "--stage").stdout)
        others = os.fsdecode(
            run_git(root, "ls-files", "-z", "--others", "--exclude-standard").stdout)
    except subprocess.CalledProcessError as exc:
        raise RepositoryError(
            f"{root}: git cannot list files ({os.fsdecode(exc.stderr).strip()})") from exc
    paths: list[str] = []
    skipped: list[Skipped] = []
    for entry in filter(None, staged.split("\0")):
        meta, path = entry.split("\t", 1)
        if meta.startswith("160000"):
            if submodules:
                paths.extend(_submodule_paths(root, path))
            else:
                skipped.append(Skipped(path, "submodule (not descended; set submodules = true)"))
        else:
            paths.append(path)
    untracked: list[str] = []
    for path in filter(None, others.split("\0")):
        if path.endswith("/"):
            skipped.append(Skipped(path.rstrip("/"), "nested git repository (not descended)"))
        else:
            untracked.append(path)
    return paths + untracked, skipped, untracked


def _submodule_paths(root: Path, sub: str) -> list[str]:
    listed = _git_paths(root / sub, submodules=True)
    if listed is None:  # not checked out
        return []
    return [f"{sub}/{p}" for p in listed[0]]


def _plain_paths(root: Path) -> tuple[list[str], list[Skipped]]:
    """Walk a directory that is not a git work tree, honouring nested .gitignore files."""
    paths: list[str] = []
    skipped: list[Skipped] = []
    for path in _walk(root, "", []):
        if isinstance(path, Skipped):
            skipped.append(path)
        else:
            paths.append(path)
    return paths, skipped


_Specs = list[tuple[str, pathspec.GitIgnoreSpec]]


def _ignored(specs: _Specs, path: str, is_dir: bool) -> bool:
    # The deepest .gitignore with an opinion decides, as in git.
    for base, spec in reversed(specs):
        rel = path[len(base) :] if base else path
        result = spec.check_file(rel + ("/" if is_dir else ""))
        if result.include is not None:
            return bool(result.include)
    return False


def _walk(root: Path, rel_dir: str, specs: _Specs) -> Iterator[str | Skipped]:
    directory = root / rel_dir
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        yield Skipped(rel_dir.rstrip("/") or ".", f"unreadable directory: {exc.strerror}")
        return
    lines = _ignore_lines(root, rel_dir + ".gitignore")
    if lines:
        specs = [*specs, (rel_dir, pathspec.GitIgnoreSpec.from_lines(lines))]
    for entry in entries:
        path = rel_dir + entry.name
        if entry.name == ".git":
            continue
        is_dir = entry.is_dir(follow_symlinks=False)
        if _ignored(specs, path, is_dir):
            continue
        if is_dir:
            yield from _walk(root, path + "/", specs)
        else:
            yield path


def tree_paths(root: Path) -> list[str]:
    """Every file path of the work tree at root that git would list (tracked, and untracked
    but not ignored; .gitignore files honoured outside git), with none of the prompt's
    own skips: what a copy of the repository for running its checks needs."""
    root = root.resolve()
    listed = _git_paths(root, submodules=False)
    return sorted(set(listed[0] if listed is not None else _plain_paths(root)[0]))
