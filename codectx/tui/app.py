"""The terminal UI: a chat about the repository, with edits shown before they are applied.

The app only drives `assistant.Session`: indexing, prefilling and generation
run in worker threads and report back with messages, so the screen never
freezes; Esc cancels a generation (a prefill stops at its next chunk and
keeps what it evaluated).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input

from codectx.advice import told_in_the_chat
from codectx.assistant import commands
from codectx.assistant.background import Event, pump
from codectx.assistant.commands import Chat, Start
from codectx.assistant.conversations import Conversation
from codectx.assistant.session import Answer, EditProposal, Review, Session
from codectx.assistant.watcher import Watcher, WatchEvent
from codectx.errors import CodectxError
from codectx.tui import messages as msg
from codectx.tui.widgets.context_panel import ContextPanel
from codectx.tui.widgets.diff_view import ConfirmFiles, DiffView
from codectx.tui.widgets.question_input import QuestionInput
from codectx.tui.widgets.status_bar import StatusBar
from codectx.tui.widgets.transcript import Transcript
from codectx.tui.widgets.trust_dialog import ConfirmTrust


class CodectxApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "codectx"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
        Binding("ctrl+n", "new_chat", "New chat", id="new_chat"),
        Binding("ctrl+b", "toggle_panel", "Files", id="toggle_panel"),
        Binding("ctrl+q", "quit", "Quit", id="quit"),
    ]

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

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="conversation"):
                yield Transcript()
                yield QuestionInput(placeholder="Ask about the repository, or /help",
                                    id="question", select_on_focus=False)
            yield ContextPanel()
        yield StatusBar("no question asked yet", id="status")
        yield Footer()

    def on_mount(self) -> None:
        settings = self.session.loaded.settings
        if settings.theme in self.available_themes:
            self.theme = settings.theme
        else:
            self.notify(f"unknown theme {settings.theme!r}; using {self.theme}",
                        severity="warning")
        if settings.keys:
            self.set_keymap(settings.keys)
        self.chat.keys_help = ", ".join(f"{b.key}: {b.description}" for b in self.BINDINGS
                                        if isinstance(b, Binding))
        transcript = self.query_one(Transcript)
        for question, answer in self.turns:  # a resumed conversation
            transcript.add_question(question)
            transcript.start_answer()
            transcript.add_text(answer)
        if self.turns:
            transcript.add_note(f"resumed: {len(self.turns)} earlier turn(s)")
        self.query_one(QuestionInput).focus()
        trust = self.session.loaded.trust
        if trust and trust.ignored and self.reopen is not None:
            self.push_screen(ConfirmTrust(trust), self._trust_answered)
        else:
            self._index()

    def _trust_answered(self, trusted: bool | None) -> None:
        """Before anything is indexed: go on with the repository's settings, or without them."""
        trust = self.session.loaded.trust
        note = trust.notice() if trust is not None else None
        if trusted and self.reopen is not None:
            try:
                self.session = self.chat.session = self.reopen()
                note = f"trusted: {trust.source if trust else 'its config'} now applies"
            except CodectxError as exc:
                self.notify(told_in_the_chat(exc), title="codectx", severity="error",
                            timeout=10)
        self.query_one(Transcript).add_note(note or "")
        self._index()

    # -- workers (threads): they only post messages ---------------------------

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

    # -- what the workers report ------------------------------------------------

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

    @on(msg.Chunk)
    def _chunk(self, event: msg.Chunk) -> None:
        self.query_one(Transcript).add_text(event.text)

    @on(msg.Answered)
    def _answered(self, event: msg.Answered) -> None:
        answer = event.answer
        transcript = self.query_one(Transcript)
        self.chat.keep(answer, self.pending_question)
        if answer.stop_reason == "cancelled":
            transcript.add_note("stopped")
        for note in answer.notes:
            transcript.add_note(note)
        self.query_one(StatusBar).show_answer(answer, self.session.context_window)
        self.query_one(ContextPanel).cache_state("cache: warm")
        self.query_one(ContextPanel).show_retrieved(answer.retrieved)
        self._done()

    @on(msg.Proposed)
    def _proposed(self, event: msg.Proposed) -> None:
        transcript = self.query_one(Transcript)
        proposal = event.proposal
        self.chat.last_proposal = proposal
        self.chat.last_answer = proposal.answer
        self.query_one(ContextPanel).show_retrieved(proposal.answer.retrieved)
        if proposal.plan.ok:
            self.chat.proposal = proposal
            view = DiffView(proposal.plan)
            transcript.mount(view)
            transcript.add_checks(proposal)
            failing = "the change fails its checks; a applies it anyway\n" \
                if proposal.failed_checks else ""
            transcript.add_note(f"{failing}a: apply   r: reject   c: ask for a change   "
                                "/check: run the checks again")
            view.focus()
        else:
            transcript.add_note("the edit could not be applied; nothing was written:\n"
                                + "\n".join(proposal.problems), classes="error")
        self._done()

    @on(msg.Reviewed)
    def _reviewed(self, event: msg.Reviewed) -> None:
        review = event.review
        transcript = self.query_one(Transcript)
        self.chat.keep(review, self.pending_question)
        if review.answer is not None:
            self.chat.last_answer = review.answer
            transcript.add_markdown(review.markdown())
            self.query_one(StatusBar).show_answer(review.answer, self.session.context_window)
            self.query_one(ContextPanel).show_retrieved(review.answer.retrieved)
            self.query_one(ContextPanel).cache_state("cache: warm")
        for note in review.notes:
            transcript.add_note(note)
        self._done()

    @on(msg.Failed)
    def _failed(self, event: msg.Failed) -> None:
        self.notify(told_in_the_chat(event.error),
                    title="codectx", severity="error", timeout=10)
        self._done()

    def _done(self) -> None:
        self.busy = False
        self.cancel_event = threading.Event()

    # -- the input line -----------------------------------------------------------

    @on(Input.Submitted, "#question")
    def _submitted(self, event: Input.Submitted) -> None:
        line = event.value.strip()
        box = self.query_one(QuestionInput)
        box.value = ""
        if not line:
            return
        box.remember(line)
        self.render_outcome(commands.run(self.chat, line))

    def render_outcome(self, outcome: commands.Outcome) -> None:
        """Show what a command or a question came to; start its model work."""
        transcript = self.query_one(Transcript)
        if isinstance(outcome, commands.Note):
            transcript.add_note(outcome.text)
        elif isinstance(outcome, commands.Refusal):
            self.notify(outcome.text, severity=outcome.level)
        elif isinstance(outcome, commands.ShowChange):
            transcript.mount(DiffView(outcome.proposal.plan))
            transcript.add_checks(outcome.proposal)
        elif isinstance(outcome, commands.Confirm):
            self.push_screen(ConfirmFiles(outcome.proposal.plan, outcome.text),
                             self._confirmed)
        elif isinstance(outcome, commands.Cleared):
            transcript.clear()
            transcript.add_note("new conversation")
        elif self.busy:
            self.notify("still answering: Esc cancels", severity="warning")
        else:
            self.busy = True
            transcript.add_question(outcome.label)
            if outcome.kind == "ask":
                self.pending_question = outcome.label
                transcript.start_answer()
            self._run(outcome)

    # -- actions ---------------------------------------------------------------------

    def action_revise(self) -> None:
        box = self.query_one(QuestionInput)
        box.value = "/revise "
        box.cursor_position = len(box.value)
        box.focus()

    def action_cancel(self) -> None:
        if self.busy:
            self.cancel_event.set()

    def action_new_chat(self) -> None:
        self.render_outcome(commands.run(self.chat, "/clear"))

    def action_toggle_panel(self) -> None:
        self.query_one(ContextPanel).toggle_class("hidden")

    def action_apply(self, how: str = "") -> None:
        outcome = commands.run(self.chat, f"/apply {how}".strip())
        self.render_outcome(outcome)
        if isinstance(outcome, commands.Note):
            self.query_one(QuestionInput).focus()

    def _confirmed(self, how: str | None) -> None:
        """The answer to "create and delete these files too?"."""
        if how is None:
            self.query_one(Transcript).add_note("not applied; nothing was written (a: apply, "
                                                "r: reject)")
        else:
            self.action_apply(how)

    def action_reject(self) -> None:
        if self.chat.proposal is not None:
            self.chat.proposal = None
            self.query_one(Transcript).add_note("change rejected; nothing was written")
            self.query_one(QuestionInput).focus()
