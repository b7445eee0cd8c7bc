"""A turn as the caller asks for it (`TurnRequest`), and what a use of the turn engine
needs of a Session (`Turns`): the edit loop (`editing.py`) and the review
(`reviewing.py`) take that, not `Session` itself, which imports them."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from codectx.assistant.checks.detect import CheckSet
from codectx.assistant.context import Topic
from codectx.assistant.results import Answer
from codectx.config import Loaded
from codectx.indexer.result import IndexResult
from codectx.models.backend import GREEDY, Sampling
from codectx.models.provider import Provider
from codectx.models.sizing import TurnSizes
from codectx.progress import Progress, no_progress


@dataclass(frozen=True)
class TurnRequest:
    """What one turn is asked to do."""

    question: str | None
    """None: prefill the repository alone (a warm-up)."""
    max_tokens: int = 0
    history: tuple[tuple[str, str], ...] = ()
    """The conversation so far, oldest first."""
    tree: str | None = None
    """A git tree the repository prefix comes from (None: the work tree)."""
    grammar: str | None = None
    """A GBNF grammar the reply must follow."""
    about: Topic | None = None
    """What retrieval works from (None: nothing is retrieved)."""
    exact: bool = False
    """Reuse cached cells only as an exact prefix."""
    shown: str = ""
    """The files' text the question carries (pinned, or to be changed), counted apart."""
    index: IndexResult | None = None
    """The repository as the caller just indexed it."""
    sampling: Sampling = GREEDY
    """How the reply is chosen."""


class Turns(Protocol):
    """A repository with a model that runs turns on it (`assistant.session.Session`)."""

    root: Path
    loaded: Loaded
    provider: Provider

    def run_turn(self, request: TurnRequest, cancel: threading.Event | None,
                 progress: Progress) -> Iterator[str | Answer]: ...

    def index(self, progress: Progress = no_progress, *, whole: bool = False,
              ) -> IndexResult: ...

    def checks_for(self, paths: Sequence[str], progress: Progress = no_progress,
                   ) -> CheckSet: ...

    def repository_budget(self, progress: Progress = no_progress) -> int: ...

    def sizes(self, progress: Progress = no_progress) -> TurnSizes: ...
