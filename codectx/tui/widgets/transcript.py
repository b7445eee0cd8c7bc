"""The conversation: questions, streamed answers rendered as markdown, and notes."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from codectx.assistant.checks.run import report
from codectx.assistant.results import EditProposal


class Transcript(VerticalScroll):
    def on_mount(self) -> None:
        self.anchor()  # stay at the bottom while an answer streams in
        self._answer: Markdown | None = None
        self._text = ""

    def add_question(self, text: str) -> None:
        self.mount(Static(text, classes="question", markup=False))

    def start_answer(self) -> None:
        self._text = ""
        self._answer = Markdown("", classes="answer")
        self.mount(self._answer)

    def add_text(self, piece: str) -> None:
        if self._answer is None:
            self.start_answer()
        self._text += piece
        assert self._answer is not None
        self._answer.update(self._text)

    def add_markdown(self, text: str) -> None:
        """A whole answer at once (a review's findings)."""
        self._answer = None
        self.mount(Markdown(text, classes="answer"))

    def add_note(self, text: str, classes: str = "note") -> Static:
        note = Static(text, classes=classes, markup=False)
        self.mount(note)
        return note

    def add_checks(self, proposal: EditProposal) -> None:
        """Under a change: each check run on it, how it ended, and what a failed one said."""
        for line, failed in report(proposal.plan_checks, proposal.held_back):
            self.add_note(line, classes="error" if failed else "note")

    def clear(self) -> None:
        self._answer = None
        self._text = ""
        self.remove_children()
