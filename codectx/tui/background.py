"""The app's background work, in worker threads that only post messages: indexing,
following the repository's changes, warming the cache, and a turn's model work.

A plain helper the app holds: each method starts a Textual thread worker on the app, and
what the work finds arrives as messages (`codectx.tui.messages`), so the screen never
freezes and only the app's message handlers touch widgets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

from textual.app import App

from codectx.assistant.background import Event, pump
from codectx.assistant.outcomes import Start
from codectx.assistant.session import Answer, EditProposal, Review, Session
from codectx.assistant.watcher import Watcher, WatchEvent
from codectx.errors import CodectxError
from codectx.tui import messages as msg


class Background:
    def __init__(self, app: App[None], session: Callable[[], Session]) -> None:
        """`session`: the app's session as it is now (trusting the repository replaces it)."""
        self.app = app
        self.session = session
        self.watcher: Watcher | None = None
        self.cancel_event = threading.Event()
        """Set to stop the turn running now (Esc); a new one for each turn."""

    def progress(self, stage: str, done: int, total: int) -> None:
        self.app.post_message(msg.Progress(stage, done, total))

    def index(self, warm: bool = True) -> None:
        """Index the repository; `warm`: then warm the cache and follow changes."""
        self.app.run_worker(partial(self._index, warm), thread=True, group="index")

    def _index(self, warm: bool) -> None:
        try:
            self.app.post_message(msg.Indexed(self.session().index(self.progress), warm))
        except CodectxError as exc:
            self.app.post_message(msg.Failed(exc))

    def watch(self) -> None:
        """Follow the repository's changes, keeping the index and the cache warm."""
        self.app.run_worker(self._watch, thread=True, group="watch")

    def _watch(self) -> None:
        def report(event: WatchEvent) -> None:
            self.app.post_message(msg.Watched(event))

        watcher = Watcher(self.session(), report)
        try:
            watcher.start()
        except CodectxError as exc:
            self.app.post_message(msg.Failed(exc))
            return
        self.watcher = watcher

    def warm(self) -> None:
        """Prefill the repository while the user types the first question."""
        self.app.run_worker(self._warm, thread=True, group="warm")

    def _warm(self) -> None:
        try:
            self.session().warm(cancel=self.cancel_event, progress=self.progress)
            self.app.post_message(msg.Progress("warm", 1, 1))
        except CodectxError as exc:
            self.app.post_message(msg.Failed(exc))

    def run(self, start: Start) -> None:
        """A turn's model work (a question, an edit or a review); what it yields becomes
        messages."""
        self.app.run_worker(partial(self._run, start), thread=True, group="model")

    def _run(self, start: Start) -> None:
        def emit(event: Event) -> None:
            if event.kind == "progress":
                self.app.post_message(msg.Progress(*event.value))
            elif event.kind == "item":
                item = event.value
                if isinstance(item, str):
                    if start.kind == "ask":
                        self.app.post_message(msg.Chunk(item))
                elif isinstance(item, Answer):
                    self.app.post_message(msg.Answered(item))
                elif isinstance(item, EditProposal):
                    self.app.post_message(msg.Proposed(item))
                elif isinstance(item, Review):
                    self.app.post_message(msg.Reviewed(item))
            elif event.kind == "error":
                if not isinstance(event.value, CodectxError):
                    raise event.value  # a bug: Textual shows it
                self.app.post_message(msg.Failed(event.value, turn=True))

        pump(start.work, self.cancel_event, emit)

    def renew_cancel(self) -> None:
        """A new cancel event for the next turn (the last one's may be set)."""
        self.cancel_event = threading.Event()

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
