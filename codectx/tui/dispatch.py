"""What the user asks for, on the input line or with a key, runs as a chat command
(`codectx.assistant.commands`); its outcome is shown, or starts the turn's model work."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.widgets import Input

from codectx.assistant import commands, outcomes
from codectx.tui.widgets.context_panel import ContextPanel
from codectx.tui.widgets.diff_view import ConfirmFiles, DiffView
from codectx.tui.widgets.question_input import QuestionInput
from codectx.tui.widgets.transcript import Transcript
from codectx.tui.workers import Workers


class Dispatch(Workers):
    """The input line, the app's keys, and the keys of a proposed change (`DiffView`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
        Binding("ctrl+n", "new_chat", "New chat", id="new_chat"),
        Binding("ctrl+b", "toggle_panel", "Files", id="toggle_panel"),
        Binding("ctrl+q", "quit", "Quit", id="quit"),
    ]

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

    def render_outcome(self, outcome: outcomes.Outcome) -> None:
        """Show the result of a command or a question; start its model work."""
        transcript = self.query_one(Transcript)
        if isinstance(outcome, outcomes.Note):
            transcript.add_note(outcome.text)
        elif isinstance(outcome, outcomes.Refusal):
            self.notify(outcome.text, severity=outcome.level)
        elif isinstance(outcome, outcomes.ShowChange):
            transcript.mount(DiffView(outcome.proposal.plan))
            transcript.add_checks(outcome.proposal)
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
