"""The chat's input line: history on up and down, Tab completion of slash commands."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input

from codectx.assistant import commands


class QuestionInput(Input):
    """The input line, with history on up/down and Tab completion of slash commands."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Previous", show=False),
        Binding("down", "history(1)", "Next", show=False),
        Binding("tab", "complete", "Complete", show=False),
    ]

    def on_mount(self) -> None:
        self.history: list[str] = []
        self.position = 0

    def remember(self, line: str) -> None:
        self.history.append(line)
        self.position = len(self.history)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self.position = max(0, min(len(self.history), self.position + step))
        self.value = self.history[self.position] if self.position < len(self.history) else ""
        self.cursor_position = len(self.value)

    def action_complete(self) -> None:
        matches = commands.complete(self.value)
        if len(matches) == 1:
            self.value = matches[0] + " "
            self.cursor_position = len(self.value)
