"""The git pre-commit hook: installed beside any hook already there, never over it.

`install` writes a small shell script as the pre-commit hook of the
repository's hooks directory (core.hooksPath respected). A hook already in
place is renamed to `pre-commit.codectx-previous` and run first by the new
script, so it keeps working (and keeps blocking when it fails);
`uninstall` removes codectx's script and puts the previous hook back.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from codectx.errors import CodectxError, RepositoryError
from codectx.files import write_bytes_atomic

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


def hooks_dir(root: Path) -> Path:
    """Where git looks for hooks in the repository at root (core.hooksPath respected)."""
    import git

    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise RepositoryError(f"{root}: not inside a git repository",
                              "Run `codectx hook install` inside a git work tree.") from exc
    top = Path(repo.working_tree_dir or repo.git_dir)
    out = repo.git.rev_parse("--git-path", "hooks")
    path = Path(out)
    return path if path.is_absolute() else (top / path)


def state(root: Path) -> HookState:
    hook = hooks_dir(root) / "pre-commit"
    text = hook.read_text(encoding="utf-8", errors="replace") if hook.is_file() else ""
    ours = MARKER in text
    fail_on = None
    if ours:
        fail_on = text.rsplit("--fail-on", 1)[-1].split()[0] if "--fail-on" in text else None
    return HookState(hook, ours, bool(text) and not ours, (hook.parent / PREVIOUS).exists(),
                     fail_on, ours and CALL not in text)


def install(root: Path, fail_on: str) -> HookState:
    hook = hooks_dir(root) / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    previous = hook.parent / PREVIOUS
    current = state(root)
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
    return state(root)


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
