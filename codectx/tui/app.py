"""The terminal UI: a chat about the repository, with edits shown before they are applied.

The app only drives `assistant.Session`: indexing, prefilling and generation
run in worker threads and report back with messages, so the screen never
freezes; Esc cancels a generation (a prefill stops at its next chunk and
keeps what it evaluated).

`CodectxApp` lays out the screen and starts; the rest is one part each, layered on the
state they share (`state`) and the workers (`workers`): `panel_reports` keeps the
context panel current, `turn_reports` renders a turn's results into the transcript,
`dispatch` runs the input line and the keys as chat commands, and `keymap` says which
rebindings of those keys apply.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer

from codectx.advice import error_in_the_chat
from codectx.errors import CodectxError
from codectx.tui.dispatch import Dispatch
from codectx.tui.keymap import keymap
from codectx.tui.panel_reports import PanelReports
from codectx.tui.turn_reports import TurnReports
from codectx.tui.widgets.context_panel import ContextPanel
from codectx.tui.widgets.question_input import QuestionInput
from codectx.tui.widgets.status_bar import StatusBar
from codectx.tui.widgets.transcript import Transcript
from codectx.tui.widgets.trust_dialog import ConfirmTrust


class CodectxApp(Dispatch, TurnReports, PanelReports):
    CSS_PATH = "app.tcss"
    TITLE = "codectx"

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
            self._apply_keys()
            self._index()

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
        self._index()
