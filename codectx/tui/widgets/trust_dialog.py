"""The question asked when a repository's own config wants settings that reach outside it.

Shown once, before anything is indexed or sent: exactly what the config sets and
what each setting would let the repository do. "y" records the user's trust for
this content of the config (a later change asks again); "n" or Esc goes on with
those settings ignored.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from codectx.config import trust_store
from codectx.trust import RepoTrust


class ConfirmTrust(ModalScreen[bool]):
    """True when the user trusts the repository (recorded before the dialog closes)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "choose(True)", "Trust", id="trust.yes"),
        Binding("escape,n", "choose(False)", "Ignore them", id="trust.no"),
    ]

    def __init__(self, trust: RepoTrust) -> None:
        super().__init__()
        self.trust = trust

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(Text(f"{self.trust.root}: this repository's {self.trust.source} sets "
                              "settings that reach outside the repository:"), id="confirm-text")
            yield Static(Text("\n".join(self.trust.lines()), style="bold"), id="confirm-files")
            yield Static(Text("Apply them only if you trust whoever wrote this repository; "
                              "until then codectx ignores them."))
            yield Static("y: trust this repository and apply them   n/Esc: ignore them",
                         id="confirm-keys")

    def action_choose(self, choice: bool) -> None:
        if choice:
            trust_store().grant(self.trust)
        self.dismiss(choice)
