"""One conversation on a repository, as every front end holds it: the one place a turn
is recorded and saved, whichever front end ran it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from codectx.assistant import conversations
from codectx.assistant.conversations import Conversation
from codectx.assistant.outcomes import Start
from codectx.assistant.results import Answer, EditProposal, Review
from codectx.assistant.session import Session
from codectx.indexer.result import IndexResult
from codectx.progress import Progress

FrontEnd = Literal["chat", "acp"]


@dataclass
class Chat:
    """One conversation on a repository, as every front end holds it."""

    session: Session
    conversation: Conversation = field(
        default_factory=lambda: Conversation(conversations.new_id(), time.time(), ()))
    pinned: list[str] = field(default_factory=list)
    """Files whose full text goes with every question."""
    proposal: EditProposal | None = None
    """The change on screen, not yet applied or rejected."""
    last_proposal: EditProposal | None = None
    """The latest proposal, applied or not (what /revise revises)."""
    last_answer: Answer | None = None
    index: IndexResult | None = None
    """The repository as last indexed (a front end refreshes it)."""
    keys_help: str = ""
    """The front end's key bindings, for /help."""
    front_end: FrontEnd = "chat"
    """Which front end this conversation is in: it decides which commands are offered."""

    @property
    def turns(self) -> tuple[tuple[str, str], ...]:
        return self.conversation.turns

    def keep(self, result: Answer | EditProposal | Review, asked: str = "") -> None:
        """Record a turn's result: the one place turns are recorded, for every front
        end, which then only renders. The latest answer and proposal are remembered (what
        /tokens and /revise read); a change that can be applied goes on screen. An answer
        (`asked`: the question) and a review are saved in the conversation, so one resumed
        in any front end shows the same history, unless they were stopped; an edit is
        saved once it is applied (`applied`)."""
        if isinstance(result, EditProposal):
            self.last_proposal = result
            self.last_answer = result.answer
            self.proposal = result if result.plan.ok else None
            return
        if isinstance(result, Answer):
            self.last_answer = result
            if result.stop_reason == "cancelled":
                return
            self._save((asked, result.text))
            return
        if result.answer is not None:
            self.last_answer = result.answer
        if result.answer is not None and result.answer.stop_reason != "cancelled":
            self._save((asked or "/review", result.markdown()))

    def applied(self, proposal: EditProposal) -> None:
        """Record that a proposal's change was written: saved in the conversation (its
        instruction and the model's reply), and off the screen."""
        self._save((f"/edit {proposal.instruction}",
                    proposal.replies[-1] if proposal.replies else ""))
        if self.proposal is proposal:
            self.proposal = None

    def rejected(self) -> None:
        """The change on screen was turned down: nothing is saved."""
        self.proposal = None

    def _save(self, turn: tuple[str, str]) -> None:
        self.conversation = Conversation(self.conversation.id, self.conversation.started,
                                         (*self.conversation.turns, turn))
        conversations.save(self.session.loaded.cache_path(), self.session.root,
                           self.conversation)

    def new_conversation(self) -> None:
        self.conversation = Conversation(conversations.new_id(), time.time(), ())
        self.proposal = None

    def question(self, text: str, *, pinned: Sequence[str] | None = None,
                 buffers: Mapping[str, str] | None = None) -> Start:
        """A plain question: an answer streamed with the conversation so far."""
        files = list(self.pinned if pinned is None else pinned)
        history = list(self.turns)

        def work(cancel: threading.Event, progress: Progress) -> Iterator[Any]:
            return self.session.ask(text, history=history, pinned=files, buffers=buffers,
                                    cancel=cancel, progress=progress)

        return Start("ask", text, work)
