"""The side panel: the files in prompt order (filterable) and the state of the cache."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Input, ProgressBar, Static

from codectx.assistant.retrieval import Retrieved
from codectx.indexer.result import IndexedFile


class ContextPanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Static("cache: starting", id="cache-state", markup=False)
        yield ProgressBar(id="prefill", show_eta=True)
        yield Static("", id="retrieved", markup=False)
        yield Input(placeholder="filter files", id="file-filter")
        yield DataTable(id="files", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self._files: list[IndexedFile] = []
        self.retrieved: dict[str, str] = {}
        """The files the last question brought in full after the prefix, and why."""
        self.states: list[str] = []
        table = self.query_one("#files", DataTable)
        # Fixed widths: the panel is narrow, and the layout must not jump as rows arrive.
        table.add_column("file", width=18)
        table.add_column("tokens", width=7)
        table.add_column("mode", width=8)
        self.query_one("#prefill", ProgressBar).display = False
        self.query_one("#retrieved", Static).display = False

    def show_files(self, files: list[IndexedFile]) -> None:
        self._files = files
        self._fill(self.query_one("#file-filter", Input).value)

    def _fill(self, pattern: str) -> None:
        table = self.query_one("#files", DataTable)
        table.clear()
        for f in self._files:
            if pattern.lower() in f.path.lower():
                # "+full": not in full in the prefix, but retrieved for the last question
                mode = "+full" if f.path in self.retrieved else f.mode.value
                table.add_row(f.path, f"{f.tokens:,}", mode)

    def show_retrieved(self, retrieved: Sequence[Retrieved]) -> None:
        """Mark the files the last question retrieved (and say which, above the table)."""
        self.retrieved = {r.path: r.why for r in retrieved}
        line = self.query_one("#retrieved", Static)
        line.display = bool(retrieved)
        line.update(f"retrieved ({len(retrieved)}): "
                    + ", ".join(r.path.rpartition("/")[2] for r in retrieved))
        self._fill(self.query_one("#file-filter", Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "file-filter":
            self._fill(event.value)

    def cache_state(self, text: str, done: int | None = None, total: int | None = None) -> None:
        self.states.append(text)
        del self.states[:-50]  # the recent ones, for a look back
        self.query_one("#cache-state", Static).update(text)
        bar = self.query_one("#prefill", ProgressBar)
        bar.display = total is not None
        if total is not None:
            bar.update(total=total, progress=done or 0)
