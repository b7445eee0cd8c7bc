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
        """Record what a turn came to in the conversation and save it: the one place turns
        are kept, for every front end, so a conversation resumed in any shows the same
        history. An answer (`asked`: the question) is kept unless it was stopped; an edit
        once it is applied (its instruction and the model's reply); a review with what it
        found."""
        if isinstance(result, Answer):
            self.last_answer = result
            if result.stop_reason == "cancelled":
                return
            turn = (asked, result.text)
        elif isinstance(result, EditProposal):
            turn = (f"/edit {result.instruction}", result.replies[-1] if result.replies else "")
        else:
            if result.answer is None or result.answer.stop_reason == "cancelled":
                return
            turn = (asked or "/review", result.markdown())
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
