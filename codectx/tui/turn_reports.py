"""A turn's results, rendered into the transcript: the answer as it streams, a proposed
change with its checks, a review, or what failed."""

from __future__ import annotations

from textual import on

from codectx.advice import error_in_the_chat
from codectx.tui import messages as msg
from codectx.tui.widgets.context_panel import ContextPanel
from codectx.tui.widgets.diff_view import DiffView
from codectx.tui.widgets.status_bar import StatusBar
from codectx.tui.widgets.transcript import Transcript
from codectx.tui.workers import Workers


class TurnReports(Workers):
    """Shows the result of a turn's model work, then lets the next turn start."""

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
        self.chat.keep(proposal)
        self.query_one(ContextPanel).show_retrieved(proposal.answer.retrieved)
        if self.chat.proposal is proposal:
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
            transcript.add_markdown(review.markdown())
            self.query_one(StatusBar).show_answer(review.answer, self.session.context_window)
            self.query_one(ContextPanel).show_retrieved(review.answer.retrieved)
            self.query_one(ContextPanel).cache_state("cache: warm")
        for note in review.notes:
            transcript.add_note(note)
        self._done()

    @on(msg.Failed)
    def _failed(self, event: msg.Failed) -> None:
        """Any worker's failure (a turn's, or indexing's, watching's or warming's)."""
        self.notify(error_in_the_chat(event.error),
                    title="codectx", severity="error", timeout=10)
        self._done()
