"""The side panel: the files in prompt order (filterable) and the state of the cache.

A directory the prompt shows as one line (collapsed to fit the budget) is one row,
"dir/ (N files)", where its first file stands in the order; selecting it (Enter or a
click) lists its files under it, and again folds them. A filter that matches files
inside it lists them.

File names come from the repository: every row and line is cleaned
(`codectx.printable`) before it is shown.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Input, ProgressBar, Static

from codectx.assistant.retrieval import Retrieved
from codectx.assistant.watcher import WatchEvent
from codectx.indexer.budget import outermost
from codectx.indexer.levels import Level
from codectx.indexer.result import Collapsed, IndexedFile
from codectx.printable import clean

DIRECTORY = "dir:"
"""The row key prefix of a collapsed directory's row."""
STAGES = {
    "load": "loading the model",
    "tune": "measuring prefill settings (once for this model and machine)",
    "speed": "measuring this machine's speed (once): {done}/{total}",
    "warm": "cache: warm",
    # an edit's further reply (assistant/editing.py)
    "candidate": "another reply, {done} of up to {total}: the last could not be used",
    # a review's turn by definition (assistant/reviewing.py)
    "definition": "reviewing changed definition {done} of {total}",
}
"""What the cache line says for each stage of model work (the prefill has its own)."""


def shown(path: str) -> Text:
    """A file name as a cell: cleaned, and text (a str cell would be read as markup)."""
    return Text(clean(path))


class ContextPanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Static("cache: starting", id="cache-state", markup=False)
        yield ProgressBar(id="prefill", show_eta=True)
        yield Static("", id="retrieved", markup=False)
        yield Input(placeholder="filter files", id="file-filter")
        yield DataTable(id="files", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self._files: list[IndexedFile] = []
        self._collapsed: dict[str, Collapsed] = {}
        self.expanded: set[str] = set()
        """The collapsed directories whose files are listed under their row."""
        self.retrieved: dict[str, str] = {}
        """The files the last question brought in full after the prefix, and why."""
        self.states: list[str] = []
        self.prefill_started: tuple[float, int] | None = None
        """When the prefill under way started, and how far it was then (for its rate)."""
        table = self.query_one("#files", DataTable)
        # Fixed widths: the panel is narrow, and the layout must not jump as rows arrive.
        table.add_column("file", width=18)
        table.add_column("tokens", width=7)
        table.add_column("mode", width=8)
        self.query_one("#prefill", ProgressBar).display = False
        self.query_one("#retrieved", Static).display = False

    def show_files(self, files: list[IndexedFile], collapsed: Sequence[Collapsed] = ()) -> None:
        self._files = files
        self._collapsed = {c.path: c for c in collapsed}
        self._fill(self.query_one("#file-filter", Input).value)

    def _fill(self, pattern: str) -> None:
        table = self.query_one("#files", DataTable)
        table.clear()
        seen: set[str] = set()
        for f in self._files:
            folder = (outermost(f.path, self._collapsed) if f.mode is Level.COLLAPSED
                      else None)
            match = pattern.lower() in f.path.lower()
            if folder is not None and folder not in seen and (match or not pattern):
                seen.add(folder)
                count = self._collapsed[folder].files
                mark = "▾" if folder in self.expanded or pattern else "▸"
                table.add_row(shown(f"{mark} {folder or '.'}/"), f"{count:,} files", "collapsed",
                              key=DIRECTORY + folder)
            if not match or (folder is not None and folder not in self.expanded
                             and not pattern):
                continue
            # "+full": not in full in the prefix, but retrieved for the last question
            mode = "+full" if f.path in self.retrieved else f.mode.value
            table.add_row(shown(f.path), f"{f.tokens:,}", mode, key=f.path)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value or ""
        if key.startswith(DIRECTORY):
            self.expanded ^= {key.removeprefix(DIRECTORY)}
            self._fill(self.query_one("#file-filter", Input).value)
            table = self.query_one("#files", DataTable)
            table.move_cursor(row=table.get_row_index(key))  # stay on the directory's row

    def show_retrieved(self, retrieved: Sequence[Retrieved]) -> None:
        """Mark the files the last question retrieved (and say which, above the table)."""
        self.retrieved = {r.path: r.why for r in retrieved}
        line = self.query_one("#retrieved", Static)
        line.display = bool(retrieved)
        line.update(clean(f"retrieved ({len(retrieved)}): "
                          + ", ".join(r.path.rpartition("/")[2] for r in retrieved)))
        self._fill(self.query_one("#file-filter", Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "file-filter":
            self._fill(event.value)

    def cache_state(self, text: str, done: int | None = None, total: int | None = None) -> None:
        self.states.append(text)
        del self.states[:-50]  # the recent ones, for a look back
        self.query_one("#cache-state", Static).update(clean(text))
        bar = self.query_one("#prefill", ProgressBar)
        bar.display = total is not None
        if total is not None:
            bar.update(total=total, progress=done or 0)

    def show_progress(self, stage: str, done: int, total: int) -> None:
        """What model work reports: the prefill with its rate, else its stage in words."""
        if stage != "prefill":
            if stage in STAGES:
                self.cache_state(STAGES[stage].format(done=done, total=total))
            return
        now = time.monotonic()
        if done <= 0 or self.prefill_started is None:
            self.prefill_started = (now, done)
        started, base = self.prefill_started
        rate = (done - base) / (now - started) if now > started else 0.0
        state = "warm" if done >= total else "prefilling"
        speed = f", {rate:,.0f} tok/s" if state == "prefilling" and rate else ""
        self.cache_state(f"cache: {state} ({done:,}/{total:,} tokens{speed})", done, total)
        if state == "warm":
            self.prefill_started = None

    def show_watched(self, event: WatchEvent) -> None:
        """What following the repository's changes reports; its messages as notifications."""
        if event.kind == "changed":
            self.cache_state(f"re-indexing: {', '.join(event.files[:2])}"
                             f"{' ...' if len(event.files) > 2 else ''}")
        elif event.kind == "prefilling":
            what = "making the cache exact" if event.exact else "re-prefilling"
            self.cache_state(f"{what}: {event.tokens:,} tokens", event.done, event.tokens)
        elif event.kind == "ready" and event.exact:
            self.cache_state(f"cache: warm and exact ({event.tokens:,} tokens in "
                             f"{event.elapsed_s:.1f} s)")
        elif event.kind == "ready":
            self.cache_state(f"cache: warm (re-prefilled {event.tokens:,} tokens in "
                             f"{event.elapsed_s:.1f} s)")
        elif event.kind == "unchanged":
            self.cache_state("cache: warm (the change left the prompt as it was)")
        elif event.kind in ("polling", "error", "stopped") and event.message:
            self.notify(event.message, title="codectx watch",
                        severity="error" if event.kind == "error" else "information")
