"""Replies that end: how long an edit's reply may run, and what is kept when it runs out.

A small model that does not close its block goes on, often repeating itself, up to
the answer's limit; the reply then stops inside a definition and cannot be merged.
So an edit's reply is held to what the change can need (twice what it may rewrite,
and room for a new definition), which also bounds the time a runaway costs; and a
definitions reply cut by that limit ends at its last complete top-level definition:
the definitions before the cut are merged, the one it stopped inside is named.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeVar

from codectx.assistant.edits.formats import named
from codectx.assistant.edits.parse import unclosed_block
from codectx.indexer.languages import grammar, has_grammar, language_of
from codectx.indexer.parse import top_level
from codectx.models.backend import Completion

C = TypeVar("C", bound=Completion)

NEW_DEFINITION_TOKENS = 512
"""Room for a definition the change adds, beyond what it rewrites."""


def reply_limit(need: int, most: int) -> int:
    """The tokens an edit's reply may take: twice the `need` (what the change may rewrite)
    and room for a new definition, never more than `most` (the answer's limit)."""
    return min(most, 2 * need + NEW_DEFINITION_TOKENS)


@dataclass(frozen=True)
class Ended:
    text: str
    """The reply, its last block closed after the last complete definition (or the reply
    as it was, when nothing in the block is complete)."""
    kept: tuple[str, ...]
    """The definitions of the cut block that were kept."""
    cut: str
    """The definition the reply stopped inside, as its first line."""
    path: str


def at_last_definition(reply: str) -> Ended | None:
    """A definitions reply that ran out inside its last block, ended at the last complete
    top-level definition; None when the reply closes its blocks, or the block's language
    has no grammar."""
    found = unclosed_block(reply)
    if found is None:
        return None
    head, path, code = found
    language = language_of(path)
    if not has_grammar(language):
        return None
    from tree_sitter import Parser

    source = code.encode("utf-8")
    parts = top_level(Parser(grammar(language)).parse(source).root_node)
    if not parts:
        return None
    last = parts[-1]
    after = source[last.end:]
    finished = (not last.node.has_error and b"\n\n" in after.replace(b" ", b"")
                and not after.strip())
    done = parts if finished else parts[:-1]
    if any(p.node.has_error for p in done):
        return None  # broken before the cut: the merge names the problem
    first_line = source[last.start:last.end].decode("utf-8", "replace").split("\n", 1)[0]
    cut = "" if finished else first_line.strip()
    if not done:
        return Ended(reply, (), cut, path)
    kept = tuple(p.name or source[p.start:p.end].decode("utf-8", "replace").split("\n")[0]
                 for p in done)
    closed = head + source[: done[-1].end].decode("utf-8", "replace") + "\n```\n"
    return Ended(closed, kept, cut, path)


def end_reply(answer: C, fmt: str, limit: int) -> tuple[C, str, str | None]:
    """An edit's answer, the reply to plan from and, when the reply ran out before any
    definition was complete, why it is refused. A definitions reply cut by its limit is
    ended at its last complete definition, and the answer's notes say what was cut."""
    if answer.stop_reason != "length" or not named(fmt).merges:
        return answer, answer.text, None
    ended = at_last_definition(answer.text)
    if ended is None:
        return answer, answer.text, None
    where = f" inside `{ended.cut}`" if ended.cut else ""
    if not ended.kept:
        return answer, answer.text, (
            f"{ended.path}: the reply reached its limit of {limit:,} tokens{where} before "
            "any definition was complete; write only the definitions that change, each "
            "once and complete")
    note = (f"the reply reached its limit of {limit:,} tokens{where}: it ends after "
            f"`{ended.kept[-1]}`" + (", and the definition cut short is left out"
                                      if ended.cut else ""))
    return replace(answer, notes=(*answer.notes, note)), ended.text, None
