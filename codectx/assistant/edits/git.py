"""Committing exactly the files an edit touched, leaving the rest of the index alone,
with a message the model writes (`commit_request`, read back by `commit_message_from`).

The commit runs no hook of the repository's, signs nothing and starts no gc: git runs
here as everywhere in codectx (codectx.gitsafe), with what a repository's config could
execute turned off.
"""

from __future__ import annotations

from pathlib import Path

from codectx.assistant.edits.plan import EditPlan
from codectx.errors import CodectxError
from codectx.gitsafe import open_repo

COMMIT_REQUEST = ("Write a git commit message for the change below: one summary line of at "
                  "most 72 characters, a blank line, then one to three short lines saying "
                  "why. Reply with the message only.\n\n")
DIFF_CHARS = 8000
"""What of the change's diff the request carries, at most."""


def commit_request(plan: EditPlan) -> str:
    """What the model is asked for a change's commit message."""
    return COMMIT_REQUEST + "".join(c.diff for c in plan.changes)[:DIFF_CHARS]


def commit_message_from(reply: str, instruction: str) -> str:
    """A commit message from the model's reply: its first line as the summary (at most 72
    characters, quotes and heading marks taken off), the rest as the body; the
    instruction's first line when the reply is empty."""
    text = reply.strip().strip("`").strip()
    lines = [line.rstrip() for line in text.splitlines()]
    if not lines or not lines[0]:
        first = instruction.strip().splitlines()
        return f"{first[0][:72] if first else 'Edit by codectx'}\n"
    summary = lines[0].strip("\"'# ")[:72]
    body = "\n".join(lines[1:]).strip()
    return f"{summary}\n\n{body}\n" if body else f"{summary}\n"


def require_repository(root: Path) -> None:
    """A clear error, before anything is written, when root is not in a git repository."""
    import git

    try:
        open_repo(root)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise CodectxError(f"{root} is not in a git repository: cannot --commit",
                           "Run `git init` first, or leave out --commit.") from exc


def commit_paths(root: Path, paths: list[str], message: str) -> str:
    """Commit `paths` (repository-relative to root) with `message`; returns the new sha.

    `git commit --only` takes these paths from the work tree and leaves whatever
    else is staged staged, uncommitted.
    """
    import git

    try:
        repo = open_repo(root)
    except git.InvalidGitRepositoryError as exc:
        raise CodectxError(f"{root} is not in a git repository: cannot --commit",
                           "Run `git init` first, or leave out --commit.") from exc
    top = Path(repo.working_tree_dir or root).resolve()
    rel = [(root.resolve() / p).relative_to(top).as_posix() for p in paths]
    tracked = set(repo.git.ls_files("--", *rel).splitlines()) if rel else set()
    new = [p for p in rel if p not in tracked and (top / p).exists()]
    try:
        if new:
            repo.git.add("--", *new)
        repo.git.commit("--only", "-q", "-m", message, "--", *rel)
    except git.GitCommandError as exc:
        detail = (exc.stderr or "").strip().splitlines()
        raise CodectxError(f"git could not commit the edit: {detail[-1] if detail else exc}",
                           "The change is applied; commit it yourself, or `codectx undo`.") from exc
    return repo.head.commit.hexsha
