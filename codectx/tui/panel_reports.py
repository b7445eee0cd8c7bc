"""What indexing, watching and prefilling report, kept current in the context panel."""

from __future__ import annotations

import time

from textual import on

from codectx.tui import messages as msg
from codectx.tui.widgets.context_panel import ContextPanel
from codectx.tui.workers import Workers


class PanelReports(Workers):
    """The files indexed and the cache's state; a first index starts warming and watching."""

    @on(msg.Indexed)
    def _indexed(self, event: msg.Indexed) -> None:
        files = event.index.files
        self.chat.index = event.index
        self.query_one(ContextPanel).show_files(files, event.index.collapsed)
        if not event.warm:
            return
        self.query_one(ContextPanel).cache_state(
            f"{len(files)} files, {event.index.total_tokens:,} tokens; cache: cold")
        if self.session.warms_ahead:
            self._warm()
        if self.follow_changes and self.watcher is None:
            self._start_watching()

    @on(msg.Watched)
    def _watched(self, message: msg.Watched) -> None:
        event = message.event
        panel = self.query_one(ContextPanel)
        if event.kind == "changed":
            panel.cache_state(f"re-indexing: {', '.join(event.files[:2])}"
                              f"{' ...' if len(event.files) > 2 else ''}")
        elif event.kind == "prefilling":
            what = "making the cache exact" if event.exact else "re-prefilling"
            panel.cache_state(f"{what}: {event.tokens:,} tokens", event.done, event.tokens)
        elif event.kind == "ready" and event.exact:
            panel.cache_state(f"cache: warm and exact ({event.tokens:,} tokens in "
                              f"{event.elapsed_s:.1f} s)")
        elif event.kind == "ready":
            panel.cache_state(f"cache: warm (re-prefilled {event.tokens:,} tokens in "
                              f"{event.elapsed_s:.1f} s)")
            self._index(warm=False)
        elif event.kind == "unchanged":
            panel.cache_state("cache: warm (the change left the prompt as it was)")
        elif event.kind in ("polling", "error", "stopped") and event.message:
            self.notify(event.message, title="codectx watch",
                        severity="error" if event.kind == "error" else "information")

    @on(msg.Progress)
    def _progressed(self, event: msg.Progress) -> None:
        panel = self.query_one(ContextPanel)
        if event.stage == "prefill":
            now = time.monotonic()
            if event.done <= 0 or self.prefill_started is None:
                self.prefill_started = (now, event.done)
            started, base = self.prefill_started
            rate = (event.done - base) / (now - started) if now > started else 0.0
            state = "warm" if event.done >= event.total else "prefilling"
            speed = f", {rate:,.0f} tok/s" if state == "prefilling" and rate else ""
            panel.cache_state(f"cache: {state} ({event.done:,}/{event.total:,} tokens{speed})",
                              event.done, event.total)
            if state == "warm":
                self.prefill_started = None
        elif event.stage == "load":
            panel.cache_state("loading the model")
        elif event.stage == "tune":
            panel.cache_state("measuring prefill settings (once for this model and machine)")
        elif event.stage == "speed":
            panel.cache_state(f"measuring this machine's speed (once): {event.done}/{event.total}")
        elif event.stage == "warm":
            panel.cache_state("cache: warm")
        elif event.stage == "candidate":  # an edit's further reply (assistant/editing.py)
            panel.cache_state(f"another reply, {event.done} of up to {event.total}: the "
                              "last could not be used")
        elif event.stage == "definition":  # a review's turn by definition (reviewing.py)
            panel.cache_state(f"reviewing changed definition {event.done} of {event.total}")
