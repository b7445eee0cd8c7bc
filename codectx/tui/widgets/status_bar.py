"""One line: the model, how full the context is, what the last turn reused and evaluated."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from codectx.assistant.session import Answer
from codectx.printable import clean


class StatusBar(Static):
    text = ""

    def show_answer(self, answer: Answer, context_window: int | None) -> None:
        window = f" / {context_window:,}" if context_window else ""
        self.text = (
            f"{answer.model} | context {answer.prompt_tokens + answer.generated_tokens:,}{window}"
            f" | last turn: {answer.reused_tokens:,} reused"
            + (f" ({answer.shifted_tokens:,} shifted)" if answer.shifted_tokens else "")
            + f", {answer.evaluated_tokens:,} evaluated"
            + (f", {answer.stale_tokens:,} stale" if answer.stale_tokens else "")
            + f" | {answer.tokens_per_s:.1f} tok/s")
        self.text = clean(self.text)  # the model's name comes from its file or a server
        self.update(Text(self.text))  # text, not markup
