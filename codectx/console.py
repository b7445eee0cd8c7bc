"""What the command line shows on stderr: progress bars and summaries (rich)."""

from __future__ import annotations

from collections import Counter
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
from rich.table import Table
from rich.text import Text

from codectx.config import Loaded, Settings
from codectx.indexer.result import IndexResult, language_tokens
from codectx.indexer.serialize import Mode
from codectx.indexer.sources import Progress as ProgressCallback

err = Console(stderr=True)
out = Console()

SHOW_DEGRADED = 20
STAGES = {"read": "Reading files", "parse": "Parsing", "tokens": "Counting tokens",
          "load": "Loading model", "prefill": "Prefilling", "grid": "Evaluating"}


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


def print_summary(result: IndexResult) -> None:
    modes = Counter(f.mode for f in result.files)
    kind = "exact" if result.token_count_exact else "estimated"
    err.print(
        f"[bold]{result.name}[/]: {modes[Mode.FULL]} files in full, "
        f"{modes[Mode.SKELETON]} as skeletons, {modes[Mode.OMITTED]} omitted, "
        f"{len(result.skipped)} skipped; {result.total_tokens:,} tokens ({kind}) "
        f"in {result.elapsed_s:.2f} s"
    )
    by_language = language_tokens(result.files)
    if by_language:
        err.print("  tokens by language: " + ", ".join(
            f"{lang} {tokens:,}" for lang, tokens in list(by_language.items())[:8]))
    largest = sorted(result.files, key=lambda f: (-f.tokens, f.path))[:5]
    if largest and largest[0].tokens:
        err.print("  largest: " + ", ".join(f"{f.path} ({f.tokens:,})" for f in largest))
    if result.files:
        err.print(f"  order: first {result.files[0].path}, last {result.files[-1].path}")
    degraded = [f for f in result.files if f.mode is not Mode.FULL]
    if degraded:
        err.print(f"  over budget, degraded or omitted ({len(degraded)}):")
        for f in degraded[:SHOW_DEGRADED]:
            err.print(f"    {f.mode.value:8} {f.path}", markup=False, highlight=False)
        if len(degraded) > SHOW_DEGRADED:
            err.print(f"    ... and {len(degraded) - SHOW_DEGRADED} more, each marked in the "
                      "prompt's file list and in --json")
    flagged = [f.path for f in result.files if f.invalid_utf8]
    if flagged:
        err.print(f"  invalid UTF-8, decoded with replacement: {', '.join(flagged)}",
                  markup=False)
    if result.skipped:
        reasons = Counter(s.reason for s in result.skipped)
        err.print("  skipped: " + "; ".join(f"{r} ({n})" for r, n in reasons.most_common()),
                  markup=False, highlight=False)
    for note in result.notes:
        err.print(f"  note: {note}", markup=False)


def result_json(result: IndexResult) -> dict[str, Any]:
    spans = {s.path: (s.start, s.end) for s in result.segments if s.path is not None}
    return {
        "root": result.root,
        "total_tokens": result.total_tokens,
        "token_count_exact": result.token_count_exact,
        "tokenizer": result.tokenizer,
        "files": [
            {
                "path": f.path, "language": f.language, "tokens": f.tokens, "mode": f.mode.value,
                "imports": list(f.imports), "external": list(f.external),
                "span": list(spans[f.path]) if f.path in spans else None,
                "invalid_utf8": f.invalid_utf8,
            }
            for f in result.files
        ],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
        "elapsed_s": round(result.elapsed_s, 3),
    }


def config_table(loaded: Loaded) -> Table:
    table = Table("setting", "value", "from", "meaning", box=None, pad_edge=False)
    for key, field in Settings.model_fields.items():
        value = getattr(loaded.settings, key)
        table.add_row(key, repr(value), loaded.sources[key], field.description or "")
    return table


def print_diff(diffs: list[str]) -> None:
    """Planned changes as a coloured unified diff on stdout."""
    from rich.syntax import Syntax

    out.print(Syntax("".join(diffs), "diff", theme="ansi_dark", background_color="default"))
