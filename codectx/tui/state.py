"""What the terminal UI holds: the session, the chat, and whether model work is running."""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.app import App
from textual.notifications import SeverityLevel

from codectx.assistant.chat import Chat
from codectx.assistant.conversations import Conversation
from codectx.assistant.session import Session
from codectx.assistant.watcher import Watcher
from codectx.printable import clean


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

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification, cleaned: errors and the watcher's messages quote paths and
        settings of the repository (widgets' `notify` comes here too)."""
        super().notify(clean(message), title=clean(title), severity=severity, timeout=timeout,
                       markup=markup)

    @property
    def turns(self) -> list[tuple[str, str]]:
        return list(self.chat.turns)

    @property
    def pinned(self) -> list[str]:
        return self.chat.pinned

    def _done(self) -> None:
        self.busy = False
        self.cancel_event = threading.Event()
