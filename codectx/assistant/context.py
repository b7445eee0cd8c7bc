"""How a turn's context is shared out: the repository's prefix, retrieval, the rest.

The room the context has for repository content (the prompt limit less the
instructions, the question and a retry) goes to the prefix alone when the
repository fits in full: nothing is retrieved. When it does not, the prefix
gets three quarters, and each question the other quarter (`retrieval_tokens`
overrides: a number of tokens, 0 turns retrieval off) for the full text of the
files relevant to it, after the prefix (see `retrieval`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codectx.assistant.retrieval import NOTHING, Retrieval, Retriever, given
from codectx.errors import BudgetError
from codectx.files import resolves_inside
from codectx.indexer.levels import Level
from codectx.indexer.result import IndexResult
from codectx.models.backend import Prompt
from codectx.models.sizing import TurnSizes


@dataclass(frozen=True)
class Topic:
    """What a turn is about, for retrieval: the user's words (a question, an instruction, a
    change's diff), and the files the turn carries in full by the user's choice."""

    text: str
    files: tuple[str, ...] = ()
    """Files the turn carries in full by the user's choice."""
    files_listed_as: str = ""
    """How those files are listed among the retrieved ("pinned", "to be changed")."""


def all_full(index: IndexResult) -> bool:
    return all(f.mode is Level.FULL for f in index.files)


def full_size(index: IndexResult) -> int:
    """The tokens the prefix would take with every file in full."""
    fixed = sum(s.tokens for s in index.segments if s.kind != "file")
    return fixed + sum(f.full_tokens for f in index.files)


class Context:
    """One session's view of its context: the retrieval setting, and one retriever per
    index (built on first use, kept while the index stays the same)."""

    def __init__(self, root: Path, retrieval_tokens: int | None, fmt: str) -> None:
        self.root = root
        self.retrieval_tokens = retrieval_tokens
        self.fmt = fmt
        self._retriever: tuple[Any, Retriever] | None = None
        self.floor_note: str | None = None
        """Set when the last prefix had to grow past the time's cap to hold the file list."""

    def share(self, available: int, sizes: TurnSizes | None = None) -> int:
        """The tokens a question may retrieve when the repository does not fit: the
        setting, else a quarter of the room, no more than the time allows."""
        want = self.retrieval_tokens
        if want is None:
            want = min(available // 4, sizes.retrieval) if sizes else available // 4
        return max(0, min(want, available // 2))

    def index(self, build: Callable[[int], IndexResult], available: int,
              sizes: TurnSizes | None = None) -> IndexResult:
        """The prefix's index under `available` tokens (and the time's caps, `sizes`): all
        of it for a repository that fits in full, the retrieval's share left over for one
        that does not."""
        whole = min(available, sizes.prefix_alone) if sizes else available
        share = self.share(available, sizes)
        self.floor_note = None
        if share == 0:
            return self._at_least_the_floor(build, whole, available)
        index = self._at_least_the_floor(
            build, min(available - share, sizes.prefix) if sizes else available - share,
            available)
        if not all_full(index) and full_size(index) <= whole:
            return build(whole)  # it fits in full when given all the room
        return index

    def _at_least_the_floor(self, build: Callable[[int], IndexResult], budget: int,
                            available: int) -> IndexResult:
        """A budget the time allows may be below the smallest map (the header and the
        repository's one line): then that map, said in a note (never an error the user did
        not cause: no budget was set)."""
        try:
            return build(budget)
        except BudgetError as exc:
            if exc.needed is None or exc.needed > available:
                raise
            self.floor_note = (f"the smallest map of the repository takes {exc.needed:,} "
                               f"tokens, more than this machine's time targets give the prefix "
                               f"({budget:,}): turns take longer than the targets")
            return build(exc.needed)

    def room(self, index: IndexResult, available: int, sizes: TurnSizes | None = None) -> int:
        """What a question may retrieve: nothing when every file is in full."""
        if all_full(index):
            return 0
        return max(0, min(self.share(available, sizes), available - index.total_tokens))

    def retrieve(self, index: IndexResult, topic: Topic, room: int) -> Retrieval:
        listed = given(index, topic.files, topic.files_listed_as)
        if room <= 0:
            return Retrieval(listed) if listed else NOTHING
        found = self._for(index).retrieve(topic.text, room, exclude=topic.files)
        return Retrieval(listed + found.files, found.text, found.notes)

    def _for(self, index: IndexResult) -> Retriever:
        key = tuple((s.path, hash(s.text)) for s in index.segments)
        if self._retriever is None or self._retriever[0] != key:
            self._retriever = (key, Retriever(index, self._read, self.fmt))
        return self._retriever[1]

    def _read(self, path: str) -> str | None:
        # The index checked each file when it listed it; the work tree may have changed
        # since (or the index came from a git tree): a link out is never read through.
        if not resolves_inside(self.root, path):
            return None
        target = self.root / path
        try:
            return target.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None


def split_tokens(tokenize: Callable[..., list[int]], prompt: Prompt, question: str | None,
                 retrieval: Retrieval, shown: str = "") -> dict[str, int]:
    """How the prompt's tokens divide: the cached prefix, the retrieved files, the files
    the question shows in full (pinned, or to be changed), the conversation before the
    question, and the question itself."""
    asked = len(tokenize(question)) if question else 0
    retrieved = len(tokenize(retrieval.text)) if retrieval.text else 0
    files = len(tokenize(shown)) if shown else 0
    return {"prefix_tokens": len(prompt.prefix), "retrieved_tokens": retrieved,
            "shown_tokens": files, "question_tokens": max(asked - retrieved - files, 0),
            "conversation_tokens": max(len(prompt.suffix) - asked, 0)}


def fit_notes(index: IndexResult) -> tuple[str, ...]:
    """Say so when the repository did not fit in full (never degrade silently)."""
    levels = Counter(f.mode for f in index.files)
    partial = [f"{levels[level]} {level.value}" for level in
               (Level.SKELETON, Level.OUTLINE, Level.NAMES, Level.LISTED, Level.COLLAPSED)
               if levels[level]]
    if not partial:
        return ()
    return (f"to fit the context, {levels[Level.FULL]} file(s) are in the prompt in full and "
            f"the others at less detail: {', '.join(partial)} (`codectx index --json` lists "
            "them)",)
