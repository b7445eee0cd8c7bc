"""The conversation: questions, streamed answers rendered as markdown, and notes.

Everything shown here passes through one of the methods below, which clean it
(`codectx.printable`): answers and notes quote the model and the repository, and
Textual strips only a few control characters (ESC passes).
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from codectx.assistant.checks.run import report
from codectx.assistant.results import EditProposal
from codectx.printable import clean


class Transcript(VerticalScroll):
    def on_mount(self) -> None:
        self.anchor()  # stay at the bottom while an answer streams in
        self._answer: Markdown | None = None
        self._text = ""

    def add_question(self, text: str) -> None:
        self.mount(Static(clean(text), classes="question", markup=False))

    def start_answer(self) -> None:
        self._text = ""
        self._answer = Markdown("", classes="answer")
        self.mount(self._answer)

    def add_text(self, piece: str) -> None:
        if self._answer is None:
            self.start_answer()
        self._text += clean(piece)
        assert self._answer is not None
        self._answer.update(self._text)

    def add_markdown(self, text: str) -> None:
        """A whole answer at once (a review's findings)."""
        self._answer = None
        self.mount(Markdown(clean(text), classes="answer"))

    def add_note(self, text: str, classes: str = "note") -> Static:
        note = Static(clean(text), classes=classes, markup=False)
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
