"""What each slash command typed in the chat does (the names and help are in commands.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from codectx.assistant.edits.paths import safe_path
from codectx.errors import CodectxError
from codectx.tui.commands import COMMANDS
from codectx.tui.widgets.diff_view import DiffView
from codectx.tui.widgets.status_bar import StatusBar
from codectx.tui.widgets.transcript import Transcript

if TYPE_CHECKING:
    from codectx.tui.app import CodectxApp


class SlashCommands:
    def __init__(self, app: CodectxApp) -> None:
        self.app = app

    @property
    def transcript(self) -> Transcript:
        return self.app.query_one(Transcript)

    def run(self, name: str, argument: str) -> None:
        handler = {
            "/help": self.help, "/files": self.files, "/add": self.add, "/drop": self.drop,
            "/revise": self.revise, "/tokens": self.tokens, "/clear": self.clear,
            "/edit": self.edit, "/apply": self.apply, "/diff": self.diff, "/undo": self.undo,
            "/review": self.review, "/model": self.model, "/cache": self.cache,
        }.get(name)
        if handler is None:
            self.app.notify(f"unknown command {name}: /help lists them", severity="warning")
        else:
            handler(argument)

    def _start(self, label: str) -> bool:
        """Claim the model for a command's turn; say so when it is busy."""
        if self.app.busy:
            self.app.notify("still answering: Esc cancels", severity="warning")
            return False
        self.app.busy = True
        self.transcript.add_question(label)
        return True

    def help(self, argument: str) -> None:
        lines = [f"{cmd:8} {text}" for cmd, text in COMMANDS.items()]
        keys = [f"{b.key}: {b.description}" for b in self.app.BINDINGS if isinstance(b, Binding)]
        self.transcript.add_note("\n".join(lines) + "\n\nkeys: " + ", ".join(keys))

    def files(self, argument: str) -> None:
        pinned = self.app.pinned
        listed = f"\npinned: {', '.join(pinned)}" if pinned else ""
        self.transcript.add_note((self.app.files_text or "still indexing") + listed)

    def add(self, path: str) -> None:
        root = self.app.session.root
        try:
            safe = safe_path(root, path)
        except CodectxError as exc:
            self.app.notify(exc.message, severity="error")
            return
        if not (root / safe).is_file():
            self.app.notify(f"/add {path}: no such file", severity="error")
        elif safe not in self.app.pinned:
            self.app.pinned.append(safe)
            self.transcript.add_note(f"pinned {safe}: its full text goes with every question")

    def drop(self, path: str) -> None:
        if path in self.app.pinned:
            self.app.pinned.remove(path)
            self.transcript.add_note(f"unpinned {path}")
        else:
            self.app.notify(f"{path} is not pinned", severity="warning")

    def revise(self, argument: str) -> None:
        proposal = self.app.last_proposal
        if proposal is None or not argument:
            self.app.notify("/revise TEXT changes the edit on screen", severity="warning")
        elif self._start(f"revise: {argument}"):
            self.app.start_edit(argument, proposal)

    def tokens(self, argument: str) -> None:
        self.transcript.add_note(self.app.query_one(StatusBar).text or "no question asked yet")

    def clear(self, argument: str) -> None:
        self.app.action_new_chat()

    def edit(self, argument: str) -> None:
        if not argument:
            self.app.notify("/edit needs an instruction: /edit rename foo to bar",
                            severity="warning")
        elif self._start(f"edit: {argument}"):
            self.app.start_edit(argument)

    def apply(self, argument: str) -> None:
        self.app.action_apply()

    def diff(self, argument: str) -> None:
        if self.app.proposal:
            self.transcript.mount(DiffView(self.app.proposal.plan))
        else:
            self.transcript.add_note("no change on screen")

    def undo(self, argument: str) -> None:
        try:
            paths = self.app.session.undo()
        except CodectxError as exc:
            self.app.notify(exc.message + (f"\n{exc.hint}" if exc.hint else ""),
                            severity="error")
            return
        self.transcript.add_note(f"restored {', '.join(paths)}")

    def review(self, argument: str) -> None:
        if argument not in ("", "--staged"):
            self.app.notify("/review reviews the uncommitted changes; /review --staged what "
                            "would be committed", severity="warning")
        elif self._start(f"review{' (staged)' if argument else ''}"):
            self.app.start_review(bool(argument))

    def model(self, argument: str) -> None:
        try:
            self.transcript.add_note(self.app.session.model_description())
        except CodectxError as exc:  # a model that cannot be read, a server that cannot be reached
            self.app.notify(exc.message + (f"\n{exc.hint}" if exc.hint else ""),
                            severity="error")

    def cache(self, argument: str) -> None:
        self.transcript.add_note(self.app.session.cache_description())
