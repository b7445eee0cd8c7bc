"""What the terminal UI holds: the session, the chat, and whether model work is running."""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.app import App

from codectx.assistant.commands import Chat
from codectx.assistant.conversations import Conversation
from codectx.assistant.session import Session
from codectx.assistant.watcher import Watcher


class AppState(App[None]):
    """The state that the workers, what they report and the input line share."""

    def __init__(self, session: Session, conversation: Conversation | None = None,
                 watch: bool = True, reopen: Callable[[], Session] | None = None) -> None:
        """`watch`: follow the repository's changes, keeping the index and the cache warm;
        `reopen`: the session again, after the user trusts the repository's config."""
        super().__init__()
        self.session = session
        self.reopen = reopen
        self.chat = Chat(session, conversation) if conversation else Chat(session)
        self.follow_changes = watch
        self.watcher: Watcher | None = None
        self.cancel_event = threading.Event()
        self.busy = False
        self.pending_question = ""
        self.prefill_started: tuple[float, int] | None = None

    @property
    def turns(self) -> list[tuple[str, str]]:
        return list(self.chat.turns)

    @property
    def pinned(self) -> list[str]:
        return self.chat.pinned

    def _done(self) -> None:
        self.busy = False
        self.cancel_event = threading.Event()
