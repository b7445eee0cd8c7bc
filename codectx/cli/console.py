"""What every command shows: the consoles (rich) on stdout and stderr, the progress bar,
and plain writes, none of which lets a control character through (`codectx.printable`).

A command prints only through `out`, `err`, `echo` and `write`, so that what a
repository or a model wrote never reaches the terminal as something it obeys. Output
meant as data (JSON, SARIF) goes through `click.echo` as it is: JSON escapes controls.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console, ConsoleOptions, RenderableType
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
from rich.segment import Segment
from rich.text import Text

from codectx.printable import clean
from codectx.progress import Progress as ProgressCallback

if TYPE_CHECKING:
    from codectx.assistant.results import Answer


class PrintableConsole(Console):
    """A console that writes no control character from what it is given to print.

    Every segment of text it renders is cleaned; rich's own styling and cursor movement
    are not text (styles, control segments), so they are kept. Cleaning in `render`,
    which everything printed passes through (nested renderables, `Live` and `Progress`
    displays included), rather than in a render hook: `Live` adds its display in a hook
    of its own, pushed after any hook of ours, which would never see it.
    """

    def render(self, renderable: RenderableType,
               options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None:
                text = clean(segment.text)
                if text is not segment.text:
                    segment = Segment(text, segment.style)
            yield segment


err = PrintableConsole(stderr=True)
out = PrintableConsole()


def echo(message: str, stderr: bool = False) -> None:
    """One line of plain text (no rich), cleaned: on stdout, or on stderr."""
    click.echo(clean(message), err=stderr)


def write(text: str) -> None:
    """Text as it streams (a reply), cleaned, straight to stdout."""
    sys.stdout.write(clean(text))
    sys.stdout.flush()


STAGES = {"read": "Reading files", "parse": "Parsing", "tokens": "Counting tokens",
          "load": "Loading model",
          "tune": "Measuring prefill settings (once)",
          "speed": "Measuring this machine's speed (once)", "prefill": "Prefilling",
          "grid": "Evaluating", "candidate": "Another reply (the last could not be used)",
          "definition": "Reviewing changed definitions"}


class _RateColumn(ProgressColumn):
    """Tokens per second, for the prefill."""

    def render(self, task: Task) -> Text:
        if task.fields.get("unit") != "tokens" or not task.speed:
            return Text("")
        return Text(f"{task.speed:,.0f} tok/s")


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[ProgressCallback]:
    """A progress callback drawing a transient bar on stderr (only on a terminal)."""
    # A description can name a file: shown as text, never read as rich markup.
    columns = (TextColumn("{task.description}", markup=False), BarColumn(),
               MofNCompleteColumn(), _RateColumn(), TimeRemainingColumn())

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
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), DownloadColumn(),
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


def print_answer_stats(answer: Answer, warm: bool = False) -> None:
    """What a turn cost, on stderr: its tokens (reused, evaluated), its times, how it
    stopped, what was retrieved, and its notes (`warm`: a prefill alone)."""
    line = (f"prompt {answer.prompt_tokens:,} tokens: {answer.reused_tokens:,} reused, "
            f"{answer.evaluated_tokens:,} evaluated" if answer.reuse_reported
            else f"prompt {answer.prompt_tokens:,} tokens")
    if answer.shifted_tokens:
        line += f" ({answer.shifted_tokens:,} reused at a new position"
        line += f", {answer.stale_tokens:,} approximate)" if answer.stale_tokens else ")"
    expected = f" (expected {answer.expected_s:,.1f} s)" if answer.expected_s is not None else ""
    if warm:
        line += f"; saved in {answer.total_s:.1f} s{expected}"
    else:
        line += (f"; first token after {answer.ttft_s:.2f} s; {answer.generated_tokens} tokens "
                 f"at {answer.tokens_per_s:.1f} tok/s; {answer.total_s:.1f} s in all{expected}")
    if answer.stop_reason == "cancelled":
        line += "; stopped (what was prefilled is saved)"
    elif answer.stop_reason == "error":
        line += "; the answer broke off"
    elif answer.stop_reason == "length":
        line += "; the answer reached max_answer_tokens"
    err.print(line, markup=False, highlight=False)
    if answer.retrieved:
        err.print("retrieved: " + ", ".join(f"{r.path} ({r.tokens:,}, {r.why})"
                                            for r in answer.retrieved),
                  markup=False, highlight=False)
    for note in answer.notes:
        err.print(f"note: {note}", markup=False, highlight=False)
