"""A proposed change, as a coloured diff, with keys to apply or reject it."""

from __future__ import annotations

from typing import ClassVar

from rich.syntax import Syntax
from textual.binding import Binding, BindingType
from textual.widgets import Static

from codectx.assistant.edits.plan import Plan


class DiffView(Static, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "app.apply", "Apply", id="diff.apply"),
        Binding("r", "app.reject", "Reject", id="diff.reject"),
        Binding("c", "app.revise", "Ask for a change", id="diff.revise"),
    ]

    def __init__(self, plan: Plan) -> None:
        diff = "".join(c.diff for c in plan.changes)
        super().__init__(Syntax(diff, "diff", theme="ansi_dark", background_color="default"),
                         classes="diff")
        self.plan = plan
