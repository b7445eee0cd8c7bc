"""What every command shows on stderr: the consoles and the progress bar (rich)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from codectx.progress import Progress as ProgressCallback

err = Console(stderr=True)
out = Console()

STAGES = {"read": "Reading files", "parse": "Parsing", "tokens": "Counting tokens",
          "load": "Loading model",
          "tune": "Measuring prefill settings (once)",
          "speed": "Measuring this machine's speed (once)", "prefill": "Prefilling",
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
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               _RateColumn(), TimeRemainingColumn())

    def task(stage: str, total: int) -> dict[str, Any] | None:
        if total == 0:
            return None
        unit = "tokens" if stage in ("prefill", "grid") else "files"
        return {"description": STAGES.get(stage, stage), "total": total, "unit": unit}

    with _bars(columns, task, enabled) as update:
        yield update


@contextmanager
def download_bar() -> Iterator[ProgressCallback]:
    """Bytes downloaded and checked, with speed and time left, on stderr (on a terminal)."""
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    labels = {"download": "Downloading", "verify": "Checking sha256"}

    def task(stage: str, total: int) -> dict[str, Any]:
        return {"description": labels.get(stage, stage), "total": total or None}

    with _bars(columns, task, True, unknown_total=None) as update:
        yield update


@contextmanager
def _bars(columns: tuple[ProgressColumn, ...],
          task: Callable[[str, int], dict[str, Any] | None], enabled: bool,
          unknown_total: int | None = 0) -> Iterator[ProgressCallback]:
    """One transient bar per stage, added by `task` (None: not yet) at the stage's first
    report; a total of 0 is shown as `unknown_total`. Nothing off a terminal."""
    if not enabled or not err.is_terminal:
        yield lambda stage, done, total: None
        return
    with Progress(*columns, console=err, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                fields = task(stage, total)
                if fields is None:
                    return
                tasks[stage] = bar.add_task(**fields)
            bar.update(tasks[stage], completed=done, total=total or unknown_total)

        yield update
