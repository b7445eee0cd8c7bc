"""What every command shows on stderr: the consoles and the progress bar (rich)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from codectx.progress import Progress as ProgressCallback

err = Console(stderr=True)
out = Console()

STAGES = {"read": "Reading files", "parse": "Parsing", "tokens": "Counting tokens",
          "load": "Loading model",
          "tune": "Measuring prefill settings (once)", "prefill": "Prefilling",
          "grid": "Evaluating"}


class _RateColumn(ProgressColumn):
    """Tokens per second, for the prefill."""

    def render(self, task: Task) -> Text:
        if task.fields.get("unit") != "tokens" or not task.speed:
            return Text("")
        return Text(f"{task.speed:,.0f} tok/s")


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[ProgressCallback]:
    """A progress callback drawing a transient bar on stderr (only on a terminal)."""
    if not enabled or not err.is_terminal:
        yield lambda stage, done, total: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               _RateColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                if total == 0:
                    return
                unit = "tokens" if stage in ("prefill", "grid") else "files"
                tasks[stage] = bar.add_task(STAGES.get(stage, stage), total=total, unit=unit)
            bar.update(tasks[stage], completed=done, total=total)

        yield update
