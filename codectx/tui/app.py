"""The terminal UI: a chat about the repository, with edits shown before they are applied.

The app only drives `assistant.Session`: indexing, prefilling and generation run in
worker threads (`background.py`) and report back with messages (`messages.py`), so the
screen never freezes; Esc cancels a generation (a prefill stops at its next chunk and
keeps what it evaluated). What the user types, or asks for with a key, runs as a chat
command (`codectx.assistant.commands`); the app renders its outcome. The widgets draw:
the transcript (questions, answers, changes, reviews), the context panel (files, the
cache's state, progress), the status bar. `keymap` says which rebindings apply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.widgets import Footer, Input

from codectx.advice import error_in_the_chat
from codectx.assistant import commands, outcomes
from codectx.assistant.chat import Chat
from codectx.assistant.conversations import Conversation
from codectx.assistant.results import Answer
from codectx.assistant.session import Session
from codectx.errors import CodectxError
from codectx.printable import clean
from codectx.tui import messages as msg
from codectx.tui.background import Background
from codectx.tui.keymap import keymap
from codectx.tui.widgets.context_panel import ContextPanel
from codectx.tui.widgets.diff_view import ConfirmFiles
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
        self.background = Background(self, lambda: self.session)
        self.busy = False
        """A turn's model work is running (one at a time)."""
        self.asked = ""

    @property
    def turns(self) -> list[tuple[str, str]]:
        return list(self.chat.turns)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification, cleaned: errors and the watcher's messages quote paths and
        settings of the repository (widgets' `notify` comes here too)."""
        super().notify(clean(message), title=clean(title), severity=severity, timeout=timeout,
                       markup=markup)

    # -- the screen ------------------------------------------------------------------------

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
        self.query_one(Transcript).show_resumed(self.turns)
        self.query_one(QuestionInput).focus()
        trust = self.session.loaded.trust
        if trust and trust.ignored and self.reopen is not None:
            self.push_screen(ConfirmTrust(trust), self._trust_answered)
        else:
            self._apply_keys()
            self.background.index()

    def on_unmount(self) -> None:
        self.background.stop()

    def _apply_keys(self) -> None:
        """The key rebindings, once the trust dialog (if shown) is answered, so that the
        dialog always runs with codectx's own keys; a repository's only where they answer
        no confirmation (`keymap`)."""
        loaded = self.session.loaded
        keys, refused = keymap(loaded.key_layers, loaded.trust.source if loaded.trust else None)
        self.set_keymap(keys)
        for line in refused:
            self.query_one(Transcript).add_note(line)
        self.chat.keys_help = ", ".join(f"{keys.get(str(b.id), b.key)}: {b.description}"
                                        for b in self.BINDINGS if isinstance(b, Binding))

    def _trust_answered(self, trusted: bool | None) -> None:
        """Before anything is indexed: go on with the repository's settings, or without them."""
        trust = self.session.loaded.trust
        note = trust.notice() if trust is not None else None
        if trusted and self.reopen is not None:
            try:
                self.session = self.chat.session = self.reopen()
                note = f"trusted: {trust.source if trust else 'its config'} now applies"
            except CodectxError as exc:
                self.notify(error_in_the_chat(exc), title="codectx", severity="error",
                            timeout=10)
        self.query_one(Transcript).add_note(note or "")
        self._apply_keys()
        self.background.index()

    # -- what the background work reports --------------------------------------------------

    @on(msg.Indexed)
    def _indexed(self, event: msg.Indexed) -> None:
        """The files indexed; a first index starts warming and watching."""
        index, panel = event.index, self.query_one(ContextPanel)
        self.chat.index = index
        panel.show_files(index.files, index.collapsed)
        if not event.warm:
            return
        panel.cache_state(f"{len(index.files)} files, {index.total_tokens:,} tokens; "
                          "cache: cold")
        if self.session.warms_ahead:
            self.background.warm()
        if self.follow_changes and self.background.watcher is None:
            self.background.watch()

    @on(msg.Watched)
    def _watched(self, message: msg.Watched) -> None:
        self.query_one(ContextPanel).show_watched(message.event)
        if message.event.kind == "ready" and not message.event.exact:
            self.background.index(warm=False)

    @on(msg.Progress)
    def _progressed(self, event: msg.Progress) -> None:
        self.query_one(ContextPanel).show_progress(event.stage, event.done, event.total)

    @on(msg.Chunk)
    def _chunk(self, event: msg.Chunk) -> None:
        self.query_one(Transcript).add_text(event.text)

    @on(msg.Answered)
    def _answered(self, event: msg.Answered) -> None:
        self.chat.keep(event.answer, self.asked)
        self.query_one(Transcript).show_answered(event.answer)
        self._show_turn(event.answer)

    @on(msg.Proposed)
    def _proposed(self, event: msg.Proposed) -> None:
        proposal = event.proposal
        self.chat.keep(proposal)
        self.query_one(ContextPanel).show_retrieved(proposal.answer.retrieved)
        view = self.query_one(Transcript).show_proposal(proposal,
                                                        self.chat.proposal is proposal)
        if view is not None:
            view.focus()
        self._done()

    @on(msg.Reviewed)
    def _reviewed(self, event: msg.Reviewed) -> None:
        review = event.review
        self.chat.keep(review, self.asked)
        self.query_one(Transcript).show_review(review)
        if review.answer is not None:
            self._show_turn(review.answer)
        else:
            self._done()

    @on(msg.Failed)
    def _failed(self, event: msg.Failed) -> None:
        """Any worker's failure (a turn's, or indexing's, watching's or warming's): said;
        only a turn's ends the turn (another worker's leaves a running turn be)."""
        self.notify(error_in_the_chat(event.error), title="codectx", severity="error",
                    timeout=10)
        if event.turn:
            self._done()

    def _show_turn(self, answer: Answer) -> None:
        """What a finished turn used: the status line, the cache, what it retrieved."""
        self.query_one(StatusBar).show_answer(answer, self.session.context_window)
        panel = self.query_one(ContextPanel)
        panel.cache_state("cache: warm")
        panel.show_retrieved(answer.retrieved)
        self._done()

    def _done(self) -> None:
        self.busy = False
        self.background.renew_cancel()

    # -- the input line and the keys -------------------------------------------------------

    @on(Input.Submitted, "#question")
    def _submitted(self, event: Input.Submitted) -> None:
        line = event.value.strip()
        box = self.query_one(QuestionInput)
        box.value = ""
        if not line:
            return
        box.remember(line)
        self.render_outcome(commands.run(self.chat, line))

    def render_outcome(self, outcome: outcomes.Outcome) -> None:
        """Show the result of a command or a question; start its model work."""
        transcript = self.query_one(Transcript)
        if isinstance(outcome, outcomes.Note):
            transcript.add_note(outcome.text)
        elif isinstance(outcome, outcomes.Refusal):
            self.notify(outcome.text, severity=outcome.level)
        elif isinstance(outcome, outcomes.ShowChange):
            transcript.show_change(outcome.proposal)
        elif isinstance(outcome, outcomes.Confirm):
            self.push_screen(ConfirmFiles(outcome.proposal.plan, outcome.text),
                             self._confirmed)
        elif isinstance(outcome, outcomes.Cleared):
            transcript.clear()
            transcript.add_note("new conversation")
        elif self.busy:
            self.notify("still answering: Esc cancels", severity="warning")
        else:
            self.busy = True
            transcript.add_question(outcome.label)
            self.asked = outcome.label  # what the turn's result is saved under
            if outcome.kind == "ask":
                transcript.start_answer()
            self.background.run(outcome)

    def action_revise(self) -> None:
        box = self.query_one(QuestionInput)
        box.value = "/revise "
        box.cursor_position = len(box.value)
        box.focus()

    def action_cancel(self) -> None:
        if self.busy:
            self.background.cancel_event.set()

    def action_new_chat(self) -> None:
        self.render_outcome(commands.run(self.chat, "/clear"))

    def action_toggle_panel(self) -> None:
        self.query_one(ContextPanel).toggle_class("hidden")

    def action_apply(self, how: str = "") -> None:
        outcome = commands.run(self.chat, f"/apply {how}".strip())
        self.render_outcome(outcome)
        if isinstance(outcome, outcomes.Note):
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
            self.chat.rejected()
            self.query_one(Transcript).add_note("change rejected; nothing was written")
            self.query_one(QuestionInput).focus()
