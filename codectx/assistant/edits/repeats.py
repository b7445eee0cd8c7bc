"""A reply that writes back, unchanged, the definition it was asked to change.

A small model asked to change how an existing function behaves often copies the
function as it was shown, and asked again with the same request and the general
reminder ("write only what changes, with the change made"), copies it again. What
makes the second attempt differ is what it reads last: the definition as it is now,
alone, and the change to make after it, so the retry is the smallest possible request
("here is `f`; write `f` again with this change").

The definitions are those the reply wrote (they exist in the file, unchanged), else
those the instruction names that a file to change defines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codectx.assistant.edits.formats import named
from codectx.assistant.edits.parse import parse_reply
from codectx.assistant.excerpts import excerpt
from codectx.assistant.retrieval import code_names
from codectx.indexer.languages import has_grammar, language_of
from codectx.indexer.parse import top_level_names

MAX_TARGET_CHARS = 6000
"""A target longer than this is not shown again (the view already holds it)."""


@dataclass(frozen=True)
class Target:
    """Definitions of one file, as they are now, that a change was asked to make."""

    path: str
    names: tuple[str, ...]
    code: str
    language: str


def _reply_names(reply: str, path: str, language: str) -> list[str]:
    names: list[str] = []
    for edit in parse_reply(reply, whole_files=True).edits:
        if edit.path.strip("./") == path and edit.replace:
            names += top_level_names(language, edit.replace.encode("utf-8", "replace"))
    return names


def unchanged_targets(root: Path, files: Sequence[str], instruction: str,
                      reply: str) -> list[Target]:
    """What a reply that changed nothing was asked to change: the definitions of `files`
    it wrote, else those the instruction names, each with its current code."""
    asked = code_names(instruction)
    targets: list[Target] = []
    for path in files:
        language = language_of(path)
        file = root / path
        if not has_grammar(language) or not file.is_file():
            continue
        text = file.read_text(encoding="utf-8", errors="surrogateescape")
        defined = set(top_level_names(language, text.encode("utf-8", "surrogateescape")))
        # The instruction's names may be methods: the excerpt finds them inside classes.
        names = [n for n in _reply_names(reply, path, language) if n in defined] \
            or sorted(asked)
        found = excerpt(language, text, names) if names else None
        if found is not None and len(found.text) <= MAX_TARGET_CHARS:
            targets.append(Target(path, found.names, found.text, language))
    return targets


def retry_request(targets: Sequence[Target], instruction: str, fmt: str) -> str:
    """The retry: each target as it is now, then the change to make, last."""
    shown = "\n\n".join(f"{t.path} now:\n```{t.language}\n{t.code.rstrip()}\n```"
                         for t in targets)
    names = ", ".join(f"`{n}`" for t in targets for n in t.names)
    return (f"That reply wrote {names} exactly as it already is: nothing changed.\n\n"
            f"{shown}\n\nWrite {names} again with this change made: {instruction}\n"
            f"{named(fmt).retry_hint}")
