"""The app's background work, in worker threads that only post messages: indexing,
following the repository's changes, warming the cache, and a turn's model work."""

from __future__ import annotations

from textual import work

from codectx.assistant.background import Event, pump
from codectx.assistant.outcomes import Start
from codectx.assistant.session import Answer, EditProposal, Review
from codectx.assistant.watcher import Watcher, WatchEvent
from codectx.errors import CodectxError
from codectx.tui import messages as msg
from codectx.tui.state import AppState


class Workers(AppState):
    """Starts the workers; what they find arrives as messages (`codectx.tui.messages`)."""

    @work(thread=True, group="index")
    def _index(self, warm: bool = True) -> None:
        try:
            self.post_message(msg.Indexed(self.session.index(self._progress), warm))
        except CodectxError as exc:
            self.post_message(msg.Failed(exc))

    @work(thread=True, group="watch")
    def _start_watching(self) -> None:
        def report(event: WatchEvent) -> None:
            self.post_message(msg.Watched(event))

        watcher = Watcher(self.session, report)
        try:
            watcher.start()
        except CodectxError as exc:
            self.post_message(msg.Failed(exc))
            return
        self.watcher = watcher

    def on_unmount(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()

    @work(thread=True, group="warm")
    def _warm(self) -> None:
        """Prefill the repository while the user types the first question."""
        try:
            self.session.warm(cancel=self.cancel_event, progress=self._progress)
            self.post_message(msg.Progress("warm", 1, 1))
        except CodectxError as exc:
            self.post_message(msg.Failed(exc))

    @work(thread=True, group="model")
    def _run(self, start: Start) -> None:
        """Model work for a question, an edit or a review; what it yields becomes messages."""
        def emit(event: Event) -> None:
            if event.kind == "progress":
                self.post_message(msg.Progress(*event.value))
            elif event.kind == "item":
                item = event.value
                if isinstance(item, str):
                    if start.kind == "ask":
                        self.post_message(msg.Chunk(item))
                elif isinstance(item, Answer):
                    self.post_message(msg.Answered(item))
                elif isinstance(item, EditProposal):
                    self.post_message(msg.Proposed(item))
                elif isinstance(item, Review):
                    self.post_message(msg.Reviewed(item))
            elif event.kind == "error":
                if not isinstance(event.value, CodectxError):
                    raise event.value  # a bug: Textual shows it
                self.post_message(msg.Failed(event.value))

        pump(start.work, self.cancel_event, emit)

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.post_message(msg.Progress(stage, done, total))
