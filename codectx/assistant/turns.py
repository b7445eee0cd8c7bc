"""What a use of the turn engine needs of a Session: the edit loop (`editing.py`) and the
review (`reviewing.py`) take this, not `Session` itself, which imports them."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
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


class Turns(Protocol):
    """A repository with a model that runs turns on it (`assistant.session.Session`)."""

    root: Path
    loaded: Loaded
    provider: Provider

    def run_turn(self, question: str | None, cancel: threading.Event | None,
                 progress: Progress, max_tokens: int, history: Sequence[tuple[str, str]] = (),
                 tree: str | None = None, grammar: str | None = None,
                 about: Topic | None = None, exact: bool = False,
                 shown: str = "", index: IndexResult | None = None,
                 sampling: Sampling = GREEDY) -> Iterator[str | Answer]: ...

    def index(self, progress: Progress = no_progress, *, whole: bool = False,
              ) -> IndexResult: ...

    def checks_for(self, paths: Sequence[str], progress: Progress = no_progress,
                   ) -> CheckSet: ...

    def repository_budget(self, progress: Progress = no_progress) -> int: ...

    def sizes(self, progress: Progress = no_progress) -> TurnSizes: ...
