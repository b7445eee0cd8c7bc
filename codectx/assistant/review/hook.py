"""The git pre-commit hook: installed beside any hook already there, never over it.

`install` writes a small shell script as the pre-commit hook of the
repository's hooks directory (core.hooksPath respected). A hook already in
place is renamed to `pre-commit.codectx-previous` and run first by the new
script, so it keeps working (and keeps blocking when it fails);
`uninstall` removes codectx's script and puts the previous hook back.

A hooks directory inside the work tree (core.hooksPath = .husky, say) holds the
repository's own hooks, not the user's: codectx chains one only in a repository the
user trusts (`codectx trust`), since its hook would then run that code on every commit.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from codectx import gitsafe
from codectx.errors import CodectxError, RepositoryError
from codectx.files import resolves_inside, write_bytes_atomic

MARKER = "# codectx pre-commit hook"
PREVIOUS = "pre-commit.codectx-previous"

SCRIPT = """\
#!/bin/sh
{marker}: reviews the staged change with the whole repository in view.
# `codectx hook uninstall` removes it and puts back the hook that was here before, if any.
# Skip it for one commit with `git commit --no-verify` or CODECTX_SKIP=1.
previous="$(dirname "$0")/{previous}"
if [ -x "$previous" ]; then
    "$previous" "$@" || exit $?
fi
if [ "${{CODECTX_SKIP:-}}" = "1" ]; then
    exit 0
fi
python={python}
if [ ! -x "$python" ]; then
    echo "codectx: review skipped: $python no longer exists (run codectx hook install again)" >&2
    exit 0
fi
# -P: the repository (the hook's working directory) is not put on the module path, so
# nothing in it is imported in codectx's place.
exec {call} hook run --fail-on {fail_on}
"""
CALL = '"$python" -P -m codectx'


@dataclass(frozen=True)
class HookState:
    path: Path
    installed: bool  # codectx's script is the pre-commit hook
    other: bool  # some other pre-commit hook is, and codectx's is not
    chained: bool  # codectx's script runs a previous hook first
    fail_on: str | None
    outdated: bool = False  # codectx's script, as written before it ran Python with -P
    own: bool = False
    """The hooks directory is inside the work tree: its hooks are the repository's own."""


@dataclass(frozen=True)
class _Place:
    top: Path  # the work tree (the git directory of a bare repository)
    hooks: Path
    own: bool


def _place(root: Path) -> _Place:
    import git

    try:
        repo = gitsafe.open_repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise RepositoryError(f"{root}: not inside a git repository",
                              "Run `codectx hook install` inside a git work tree.") from exc
    top = Path(repo.working_tree_dir or repo.git_dir)
    hooks = gitsafe.hooks_dir(top)
    git_dirs = (Path(repo.git_dir), Path(repo.common_dir))
    own = repo.working_tree_dir is not None and resolves_inside(top, hooks) and not any(
        resolves_inside(d, hooks) for d in git_dirs)
    return _Place(top, hooks, own)


def hooks_dir(root: Path) -> Path:
    """Where git looks for hooks in the repository at root (core.hooksPath respected)."""
    return _place(root).hooks


def state(root: Path) -> HookState:
    return _state(_place(root))


def _state(place: _Place) -> HookState:
    hook = place.hooks / "pre-commit"
    text = hook.read_text(encoding="utf-8", errors="replace") if hook.is_file() else ""
    ours = MARKER in text
    fail_on = None
    if ours:
        fail_on = text.rsplit("--fail-on", 1)[-1].split()[0] if "--fail-on" in text else None
    return HookState(hook, ours, bool(text) and not ours, (hook.parent / PREVIOUS).exists(),
                     fail_on, ours and CALL not in text, place.own)


def _trusted(top: Path) -> bool:
    from codectx import config

    trust = config.load(top).trust
    return trust is not None and trust.trusted


def install(root: Path, fail_on: str) -> HookState:
    """Install codectx's hook, chaining the one in place. A hook of the repository's own
    (its hooks directory inside the work tree) is chained only in a trusted repository."""
    place = _place(root)
    current = _state(place)
    hook = current.path
    previous = hook.parent / PREVIOUS
    # codectx's script runs whatever it finds as the previous hook.
    chains = previous.exists() or (hook.exists() and not current.installed)
    if place.own and chains and not _trusted(place.top):
        chained = previous if previous.exists() else hook
        raise CodectxError(
            f"{chained} is the repository's own hook (its hooks directory is inside the work "
            "tree), and codectx chains it only in a repository you trust; nothing was "
            f"changed: run `codectx trust {place.top}`, then `codectx hook install` again")
    hook.parent.mkdir(parents=True, exist_ok=True)
    if hook.exists() and not current.installed:
        if previous.exists():
            raise CodectxError(
                f"{hook} is not codectx's, and {previous} already exists",
                "Move one of them away, then run `codectx hook install` again.")
        os.replace(hook, previous)  # kept, and run first by codectx's hook
    script = SCRIPT.format(marker=MARKER, previous=PREVIOUS, call=CALL,
                           fail_on=shlex.quote(fail_on),
                           python=shlex.quote(sys.executable))
    write_bytes_atomic(hook, script.encode("utf-8"))
    hook.chmod(0o755)
    return _state(place)


def uninstall(root: Path) -> HookState:
    current = state(root)
    if not current.installed:
        what = "another program's" if current.other else "no"
        raise CodectxError(f"codectx's hook is not installed ({what} pre-commit hook is in "
                           f"{current.path.parent}); nothing was changed")
    previous = current.path.parent / PREVIOUS
    if previous.exists():
        os.replace(previous, current.path)
    else:
        current.path.unlink()
    return state(root)
