"""Conversations saved per repository, so a chat can be resumed later.

One JSON file per conversation under the user cache directory, keyed by the
repository's absolute path; written atomically after every turn.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from codectx.errors import CodectxError
from codectx.files import repository_state_dir


@dataclass(frozen=True)
class Conversation:
    id: str
    started: float
    turns: tuple[tuple[str, str], ...]

    @property
    def title(self) -> str:
        return self.turns[0][0].splitlines()[0][:60] if self.turns else "(empty)"


def _directory(cache_dir: Path, root: Path) -> Path:
    return repository_state_dir(cache_dir, "conversations", root)


def new_id() -> str:
    """A new conversation's id: when it started (so ids sort by time), and random hex,
    so two conversations started in the same second never share one."""
    return time.strftime("%Y%m%d-%H%M%S") + f"-{secrets.token_hex(3)}"


def save(cache_dir: Path, root: Path, conversation: Conversation) -> None:
    directory = _directory(cache_dir, root)
    directory.mkdir(parents=True, exist_ok=True)
    data = {"started": conversation.started, "turns": [list(t) for t in conversation.turns]}
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    os.replace(tmp, directory / f"{conversation.id}.json")


def listing(cache_dir: Path, root: Path) -> list[Conversation]:
    """Saved conversations of the repository at root, newest first."""
    found = []
    directory = _directory(cache_dir, root)
    for path in directory.glob("*.json") if directory.is_dir() else []:
        try:
            data = json.loads(path.read_text())
            turns = tuple((str(q), str(a)) for q, a in data["turns"])
            found.append(Conversation(path.stem, float(data["started"]), turns))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged file is not offered
    return sorted(found, key=lambda c: c.started, reverse=True)


def load(cache_dir: Path, root: Path, conversation_id: str | None) -> Conversation:
    """A saved conversation by id, or the newest when id is None."""
    saved = listing(cache_dir, root)
    if not saved:
        raise CodectxError("no saved conversation for this repository",
                           "Start one with `codectx chat`.")
    if conversation_id is None:
        return saved[0]
    for conversation in saved:
        if conversation.id == conversation_id:
            return conversation
    raise CodectxError(f"no conversation {conversation_id!r} for this repository",
                       "`codectx chat --list` shows the saved ones.")
