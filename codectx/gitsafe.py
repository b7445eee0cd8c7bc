"""Every git command codectx runs, with what a repository's own config could execute turned off.

A repository can arrive with its `.git` (an archive, a shared folder, a copied checkout),
and git runs programs that `.git/config` names: an fsmonitor on every read of the index,
hooks on a commit, a pager, filter drivers on every diff of the work tree and every
`git add`, textconv and external diff drivers, a signing program (and a verifying one
for `git log`), an ssh command or upload-pack, editors, gc in the background. codectx
runs git only through this module, the git CLI with `git_argv` / `run_git` and GitPython
with `open_repo`, and every command carries options that turn each of those off.

Filter and diff drivers are named by the repository (`filter.<name>.clean`), so their
names are read from its config first (`git config --list`, which runs nothing) and kept
per directory until one of the config files read changes. A command line is what wins
over a repository's config; a diff must still ask for `--no-ext-diff --no-textconv`,
since the emptied drivers make git refuse a diff that would have used them.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import git

EMPTY_ENV = "CODECTX_GIT_EMPTY"
"""An environment variable run_git and open_repo set to "": the value of an override whose
key `-c` cannot carry (a driver name with "=" in it) comes from it, by `--config-env`.
Without it git refuses to start, so the bare argv fails closed."""

ENV = {"GIT_PAGER": "cat", EMPTY_ENV: ""}

HARDENING: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", "/dev/null"),  # no hook is found under a path that is no directory
    ("core.pager", "cat"),
    ("core.sshCommand", ""),  # git cannot run an empty command
    ("protocol.allow", "never"),  # no transport: no ssh, upload-pack or credential helper
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("log.showSignature", "false"),  # `git log` would verify signed commits with gpg.program
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("core.editor", ":"),  # git's own word for "no editor"
    ("sequence.editor", ":"),
    ("diff.external", ""),
)
"""What executes, whatever the repository: each setting and the value that turns it off."""

FILTER_KEYS = ("clean", "smudge", "process")
DIFF_KEYS = ("textconv", "command")


def git_argv(root: Path, *args: str) -> list[str]:
    """["git", <hardening options>, *args] for a command run in root.

    Run it with cwd=root and `ENV` in its environment (run_git does both): without
    `CODECTX_GIT_EMPTY` git refuses a repository whose driver names `-c` cannot carry."""
    return ["git", *_flags((*HARDENING, *_repository_overrides(root))), *args]


def run_git(root: Path, *args: str, input: bytes | None = None, check: bool = True,
            timeout: float | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run hardened git in root (cwd=root, stdin closed unless input, output captured)."""
    return subprocess.run(git_argv(root, *args), cwd=root, input=input,
                          stdin=subprocess.DEVNULL if input is None else None,
                          capture_output=True, check=check, timeout=timeout, env=_env())


def open_repo(root: Path, *, search_parent_directories: bool = True) -> git.Repo:
    """A GitPython Repo whose every command carries the same hardening
    (Git.set_persistent_git_options), raising git's own exceptions as before."""
    import git

    repo = git.Repo(root, search_parent_directories=search_parent_directories)
    # GitPython runs its commands (its `git cat-file` for objects too) in working_dir.
    pairs = (*HARDENING, *_repository_overrides(Path(repo.working_dir)))
    repo.git.set_persistent_git_options(
        no_pager=True, c=[f"{key}={value}" for key, value in pairs if "=" not in key],
        config_env=[f"{key}={EMPTY_ENV}" for key, _ in pairs if "=" in key])
    repo.git.update_environment(**ENV)
    return repo


def hooks_dir(root: Path) -> Path:
    """Where the repository's git looks for hooks (core.hooksPath respected), for installing
    one: the single command run without core.hooksPath overridden, since that is what it
    asks (`git rev-parse --git-path hooks` runs nothing). Relative answers are relative to
    root; CalledProcessError outside a repository."""
    pairs = [pair for pair in HARDENING if pair[0] != "core.hooksPath"]
    argv = ["git", *_flags((*pairs, *_repository_overrides(root))), "rev-parse", "--git-path",
            "hooks"]
    done = subprocess.run(argv, cwd=root, stdin=subprocess.DEVNULL, capture_output=True,
                          check=True, env=_env())
    path = Path(os.fsdecode(done.stdout.rstrip(b"\n")))
    return path if path.is_absolute() else root / path


def _env() -> dict[str, str]:
    return {**os.environ, **ENV}


def _flags(pairs: tuple[tuple[str, str], ...]) -> list[str]:
    flags = ["--no-pager"]
    for key, value in pairs:
        if "=" in key:  # `-c` splits at the first "="; --config-env at the last
            assert value in ("", "false"), key  # both read as false or nothing from ""
            flags.append(f"--config-env={key}={EMPTY_ENV}")
        else:
            flags += ["-c", f"{key}={value}"]
    return flags


@dataclass(frozen=True)
class _Learnt:
    stamps: tuple[tuple[str, tuple[int, int, int] | None], ...]
    """The config files read, as they were then."""
    overrides: tuple[tuple[str, str], ...]


_learnt: dict[str, _Learnt] = {}
_lock = threading.Lock()


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def _repository_overrides(root: Path) -> tuple[tuple[str, str], ...]:
    """The repository's own filter and diff drivers, emptied; none outside a repository."""
    key = os.path.abspath(root)
    with _lock:
        known = _learnt.get(key)
    if known is not None and all(_stamp(path) == stamp for path, stamp in known.stamps):
        return known.overrides
    learnt = _learn(root)
    if learnt is None:
        return ()
    with _lock:
        _learnt[key] = learnt
    return learnt.overrides


def _config_entries(root: Path) -> list[tuple[str, str, str]]:
    """(scope, origin, "key\\nvalue") for every setting git reads in root; a git before 2.26
    cannot say the scope ("?"), and then every setting not on the command line counts as
    the repository's. An unreadable config gives none: git refuses every command then."""
    listing = _plain(root, "config", "--list", "--includes", "--show-scope", "--show-origin",
                     "-z")
    if listing.returncode == 0:
        fields = os.fsdecode(listing.stdout).split("\0")
        return [(fields[at], fields[at + 1], fields[at + 2])
                for at in range(0, len(fields) - 2, 3)]
    listing = _plain(root, "config", "--list", "--includes", "--show-origin", "-z")
    fields = os.fsdecode(listing.stdout).split("\0") if listing.returncode == 0 else []
    return [("command" if fields[at] == "command line:" else "?", fields[at], fields[at + 1])
            for at in range(0, len(fields) - 1, 2)]


def _plain(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """git with the fixed hardening only: for reading the config, which runs nothing."""
    return subprocess.run(["git", *_flags(HARDENING), *args], cwd=root,
                          stdin=subprocess.DEVNULL, capture_output=True, check=False,
                          env=_env())


def _learn(root: Path) -> _Learnt | None:
    where = _plain(root, "rev-parse", "--absolute-git-dir", "--git-common-dir")
    if where.returncode != 0:  # not a repository: no repository config to read
        return None
    git_dir, common_dir = os.fsdecode(where.stdout).splitlines()[:2]
    common_dir = os.path.join(root, common_dir)  # relative to root, where it is relative
    # Stamped before reading: a change made while it is read is seen next time.
    files = {os.path.join(common_dir, "config"), os.path.join(git_dir, "config.worktree")}
    stamps = {path: _stamp(path) for path in files}
    filters: set[str] = set()
    diffs: set[str] = set()
    for scope, origin, entry in _config_entries(root):
        if scope not in ("local", "worktree", "?"):  # the user's and codectx's own settings
            continue
        if origin.startswith("file:"):
            path = os.path.join(root, origin.removeprefix("file:"))
            stamps.setdefault(path, _stamp(path))
        section, _, rest = entry.split("\n", 1)[0].partition(".")
        name, dot, variable = rest.rpartition(".")
        if not dot:
            continue
        if section == "filter" and variable in FILTER_KEYS:
            filters.add(name)
        elif section == "diff" and variable in DIFF_KEYS:
            diffs.add(name)
    overrides: list[tuple[str, str]] = []
    for name in sorted(filters):
        # An empty command is no filter; not required, so git does without it.
        overrides += [(f"filter.{name}.{key}", "") for key in FILTER_KEYS]
        overrides.append((f"filter.{name}.required", "false"))
    for name in sorted(diffs):
        overrides += [(f"diff.{name}.{key}", "") for key in DIFF_KEYS]
    return _Learnt(tuple(sorted(stamps.items())), tuple(overrides))
