"""A proposed change, with keys to apply or reject it; and the question asked before a
change that creates or deletes files is applied."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from codectx.assistant.edits import show
from codectx.assistant.edits.plan import EditPlan
from codectx.printable import clean


class DiffView(Static, can_focus=True):
    """Changes to existing files as a diff; new files (green) and deletions (red) under
    headings of their own."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "app.apply", "Apply", id="diff.apply"),
        Binding("r", "app.reject", "Reject", id="diff.reject"),
        Binding("c", "app.revise", "Ask for a change", id="diff.revise"),
    ]

    def __init__(self, plan: EditPlan) -> None:
        self.shown = show.renderable(plan)
        super().__init__(self.shown, classes="diff")
        self.plan = plan


class ConfirmFiles(ModalScreen[str | None]):
    """Asks whether to create and delete files too: "all", "existing", or None (apply
    nothing)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "choose('all')", "Apply all", id="confirm.all"),
        Binding("e", "choose('existing')", "Only existing files", id="confirm.existing"),
        Binding("escape,n", "choose(None)", "Apply nothing", id="confirm.none"),
    ]

    def __init__(self, plan: EditPlan, text: str) -> None:
        super().__init__()
        self.plan = plan
        self.text = clean(text)  # it names the model's paths

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.text, id="confirm-text")
            yield Static(show.renderable(self.plan.only("create", "delete")),
                         id="confirm-files")
            yield Static("y: apply all   e: only the files that exist   n/Esc: apply nothing",
                         id="confirm-keys")

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)
