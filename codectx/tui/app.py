"""The terminal UI: a chat about the repository, with edits shown before they are applied.

The app only drives `assistant.Session`: indexing, prefilling and generation
run in worker threads and report back with messages, so the screen never
freezes; Esc cancels a generation (a prefill stops at its next chunk and
keeps what it evaluated).
"""

from __future__ import annotations

import threading
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input

from codectx.assistant.session import Answer, EditProposal, Session
from codectx.errors import CodectxError
from codectx.tui import messages as msg
from codectx.tui.commands import COMMANDS, complete, parse_command
from codectx.tui.widgets.context_panel import ContextPanel
from codectx.tui.widgets.diff_view import DiffView
from codectx.tui.widgets.status_bar import StatusBar
from codectx.tui.widgets.transcript import Transcript


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
        matches = complete(self.value)
        if len(matches) == 1:
            self.value = matches[0] + " "
            self.cursor_position = len(self.value)


class CodectxApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "codectx"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
        Binding("ctrl+n", "new_chat", "New chat", id="new_chat"),
        Binding("ctrl+b", "toggle_panel", "Files", id="toggle_panel"),
        Binding("ctrl+q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.turns: list[tuple[str, str]] = []
        self.cancel_event = threading.Event()
        self.proposal: EditProposal | None = None
        self.busy = False
        self.context_window: int | None = None
        self.files_text = ""
        self.pending_question = ""

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="conversation"):
                yield Transcript()
                yield QuestionInput(placeholder="Ask about the repository, or /help",
                                    id="question")
            yield ContextPanel()
        yield StatusBar("starting", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(QuestionInput).focus()
        self._index()

    # -- workers (threads): they only post messages ---------------------------

    @work(thread=True, group="index")
    def _index(self) -> None:
        try:
            self.post_message(msg.Indexed(self.session.index(self._progress)))
        except CodectxError as exc:
            self.post_message(msg.Failed(exc.message, exc.hint))

    @work(thread=True, group="model")
    def _ask(self, question: str, history: list[tuple[str, str]]) -> None:
        try:
            for item in self.session.ask(question, history=history, cancel=self.cancel_event,
                                         progress=self._progress):
                self.post_message(msg.Answered(item) if isinstance(item, Answer)
                                  else msg.Chunk(item))
        except CodectxError as exc:
            self.post_message(msg.Failed(exc.message, exc.hint))

    @work(thread=True, group="model")
    def _edit(self, instruction: str) -> None:
        try:
            for item in self.session.edit(instruction, cancel=self.cancel_event,
                                          progress=self._progress):
                if isinstance(item, EditProposal):
                    self.post_message(msg.Proposed(item))
        except CodectxError as exc:
            self.post_message(msg.Failed(exc.message, exc.hint))

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.post_message(msg.Progress(stage, done, total))

    # -- what the workers report ------------------------------------------------

    @on(msg.Indexed)
    def _indexed(self, event: msg.Indexed) -> None:
        files = event.index.files
        self.query_one(ContextPanel).show_files(files)
        self.files_text = "\n".join(f"{f.path}  {f.tokens:,}  {f.mode.value}" for f in files)
        self.query_one(ContextPanel).cache_state(
            f"{len(files)} files, {event.index.total_tokens:,} tokens; cache cold until the "
            "first question")

    @on(msg.Progress)
    def _progressed(self, event: msg.Progress) -> None:
        panel = self.query_one(ContextPanel)
        if event.stage == "prefill":
            state = "warm" if event.done >= event.total else "prefilling"
            panel.cache_state(f"cache: {state} ({event.done:,}/{event.total:,} tokens)",
                              event.done, event.total)
        elif event.stage == "load":
            panel.cache_state("loading the model")

    @on(msg.Chunk)
    def _chunk(self, event: msg.Chunk) -> None:
        self.query_one(Transcript).add_text(event.text)

    @on(msg.Answered)
    def _answered(self, event: msg.Answered) -> None:
        answer = event.answer
        transcript = self.query_one(Transcript)
        if answer.stop_reason == "cancelled":
            transcript.add_note("stopped")
        else:
            self.turns.append((self.pending_question, answer.text))
        for note in answer.notes:
            transcript.add_note(note)
        self.query_one(StatusBar).show_answer(answer, self.context_window)
        self.query_one(ContextPanel).cache_state("cache: warm")
        self._done()

    @on(msg.Proposed)
    def _proposed(self, event: msg.Proposed) -> None:
        transcript = self.query_one(Transcript)
        proposal = event.proposal
        if proposal.plan.ok:
            self.proposal = proposal
            view = DiffView(proposal.plan)
            transcript.mount(view)
            transcript.add_note("a: apply   r: reject   (or /apply)")
            view.focus()
        else:
            transcript.add_note("the edit could not be applied; nothing was written:\n"
                                + "\n".join(proposal.problems), classes="error")
        self._done()

    @on(msg.Failed)
    def _failed(self, event: msg.Failed) -> None:
        self.notify(event.message + (f"\n{event.hint}" if event.hint else ""),
                    title="codectx", severity="error", timeout=10)
        self._done()

    def _done(self) -> None:
        self.busy = False
        self.cancel_event = threading.Event()

    # -- the input line -----------------------------------------------------------

    @on(Input.Submitted, "#question")
    def _submitted(self, event: Input.Submitted) -> None:
        line = event.value.strip()
        box = self.query_one(QuestionInput)
        box.value = ""
        if not line:
            return
        box.remember(line)
        command = parse_command(line)
        if command is None:
            self._start_question(line)
        else:
            self._run_command(command.name, command.argument)

    def _start_question(self, question: str) -> None:
        if self.busy:
            self.notify("still answering: Esc cancels", severity="warning")
            return
        self.busy = True
        self.pending_question = question
        transcript = self.query_one(Transcript)
        transcript.add_question(question)
        transcript.start_answer()
        self._ask(question, list(self.turns))

    def _run_command(self, name: str, argument: str) -> None:
        transcript = self.query_one(Transcript)
        if name == "/help":
            lines = [f"{cmd:8} {text}" for cmd, text in COMMANDS.items()]
            keys = [f"{b.key}: {b.description}" for b in self.BINDINGS if isinstance(b, Binding)]
            transcript.add_note("\n".join(lines) + "\n\nkeys: " + ", ".join(keys))
        elif name == "/files":
            transcript.add_note(self.files_text or "still indexing")
        elif name == "/tokens":
            transcript.add_note(self.query_one(StatusBar).text or "no question asked yet")
        elif name == "/clear":
            self.action_new_chat()
        elif name == "/edit":
            if not argument:
                self.notify("/edit needs an instruction: /edit rename foo to bar",
                            severity="warning")
            elif not self.busy:
                self.busy = True
                transcript.add_question(f"edit: {argument}")
                self._edit(argument)
        elif name == "/apply":
            self.action_apply()
        elif name == "/diff":
            if self.proposal:
                transcript.mount(DiffView(self.proposal.plan))
            else:
                transcript.add_note("no change on screen")
        elif name == "/undo":
            self._undo()
        elif name == "/model":
            transcript.add_note(self.session.model_description())
        elif name == "/cache":
            transcript.add_note(self.session.cache_description())
        else:
            self.notify(f"unknown command {name}: /help lists them", severity="warning")

    # -- actions ---------------------------------------------------------------------

    def action_cancel(self) -> None:
        if self.busy:
            self.cancel_event.set()

    def action_new_chat(self) -> None:
        self.turns = []
        self.proposal = None
        self.query_one(Transcript).clear()
        self.query_one(Transcript).add_note("new conversation")

    def action_toggle_panel(self) -> None:
        self.query_one(ContextPanel).toggle_class("hidden")

    def action_apply(self) -> None:
        if self.proposal is None:
            self.notify("no change to apply", severity="warning")
            return
        try:
            paths = self.session.apply(self.proposal.plan)
        except CodectxError as exc:
            self.notify(exc.message + (f"\n{exc.hint}" if exc.hint else ""), severity="error")
            return
        self.proposal = None
        self.query_one(Transcript).add_note(f"applied to {', '.join(paths)} (/undo restores)")
        self.query_one(QuestionInput).focus()

    def action_reject(self) -> None:
        if self.proposal is not None:
            self.proposal = None
            self.query_one(Transcript).add_note("change rejected; nothing was written")
            self.query_one(QuestionInput).focus()

    def _undo(self) -> None:
        try:
            paths = self.session.undo()
        except CodectxError as exc:
            self.notify(exc.message + (f"\n{exc.hint}" if exc.hint else ""), severity="error")
            return
        self.query_one(Transcript).add_note(f"restored {', '.join(paths)}")

