"""The conversation: questions, streamed answers rendered as markdown, and notes.

Everything shown here passes through one of the methods below, which clean it
(`codectx.printable`): answers and notes quote the model and the repository, and
Textual strips only a few control characters (ESC passes).
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from codectx.assistant.checks.run import report
from codectx.assistant.results import Answer, EditProposal, Review
from codectx.printable import clean
from codectx.tui.widgets.diff_view import DiffView


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

    def show_resumed(self, turns: Sequence[tuple[str, str]]) -> None:
        """The turns of a resumed conversation, and a note saying how many."""
        for question, answer in turns:
            self.add_question(question)
            self.start_answer()
            self.add_text(answer)
        if turns:
            self.add_note(f"resumed: {len(turns)} earlier turn(s)")

    def show_answered(self, answer: Answer) -> None:
        """Under a streamed answer: whether it was stopped, and its notes."""
        if answer.stop_reason == "cancelled":
            self.add_note("stopped")
        for note in answer.notes:
            self.add_note(note)

    def show_proposal(self, proposal: EditProposal, on_screen: bool) -> DiffView | None:
        """A proposed change with its checks and what the keys do (`on_screen`: it can be
        applied), or why it could not be applied; the change's view, to focus."""
        if not on_screen:
            self.add_note("the edit could not be applied; nothing was written:\n"
                          + "\n".join(proposal.problems), classes="error")
            return None
        view = self.show_change(proposal)
        failing = "the change fails its checks; a applies it anyway\n" \
            if proposal.failed_checks else ""
        self.add_note(f"{failing}a: apply   r: reject   c: ask for a change   "
                      "/check: run the checks again")
        return view

    def show_change(self, proposal: EditProposal) -> DiffView:
        """A proposal's change and its checks' results (`/diff`)."""
        view = DiffView(proposal.plan)
        self.mount(view)
        self.add_checks(proposal)
        return view

    def show_review(self, review: Review) -> None:
        """A review's findings (when the model ran) and its notes."""
        if review.answer is not None:
            self.add_markdown(review.markdown())
        for note in review.notes:
            self.add_note(note)

    def clear(self) -> None:
        self._answer = None
        self._text = ""
        self.remove_children()
