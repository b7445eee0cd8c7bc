"""A turn as the caller asks for it (`TurnRequest`), and the turn as it runs (`Turn`: its
reply and what it used)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass

from codectx.assistant.context import Topic
from codectx.assistant.results import Answer
from codectx.indexer.result import IndexResult
from codectx.models.backend import GREEDY, Sampling


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


class Turn:
    """One turn's reply as it comes, and what it used (as llm's `Response`).

    Iterating gives the reply's text pieces as the model writes them (once); `answer()`
    reads what is left and returns the `Answer`: the whole text, its tokens (prompt,
    reused, evaluated, generated), timings and notes; `text()` is the reply alone. A turn
    runs while it is read: stopping early (closing the iteration, or dropping it) or
    `close()` cancels it, and then `answer()` has none to give.
    """

    def __init__(self, stream: Generator[str | Answer, None, None]) -> None:
        self._stream = stream
        self._answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        try:
            for item in self._stream:
                if isinstance(item, Answer):
                    self._answer = item
                else:
                    yield item
        except GeneratorExit:
            self.close()
            raise

    def answer(self) -> Answer:
        """The turn's result, once its reply has been read to the end (read here if not).
        ValueError when the turn was stopped before it gave one."""
        for _ in self:
            pass
        if self._answer is None:
            raise ValueError("the turn ended without an answer (it was stopped)")
        return self._answer

    def text(self) -> str:
        """The whole reply."""
        return self.answer().text

    def close(self) -> None:
        """Stop the turn where it is (it cancels, and its lock is let go)."""
        self._stream.close()
