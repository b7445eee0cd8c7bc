"""What `codectx eval` shows: the results table and the prefill summary."""

from __future__ import annotations

from rich.table import Table

from codectx.console import err
from codectx.evals.heatmap import length_label
from codectx.evals.runner import Run


def _cell(score: float, cases: int) -> str:
    colour = "green" if score >= 0.9 else "yellow" if score >= 0.5 else "red"
    return f"[{colour}]{score:.2f}[/]" + (f" [dim]({cases})[/]" if cases > 1 else "")


def results_table(run: Run) -> Table:
    cells = run.cells()
    first = "depth" if run.kind == "niah" else "task"
    table = Table(first, *(length_label(n) for n in run.lengths),
                  title=f"{run.kind}: {run.model} on {run.repository} (seed {run.seed})")
    for row in run.rows():
        table.add_row(row, *(_cell(*cells[(row, n)]) if (row, n) in cells else "-"
                             for n in run.lengths))
    return table


def print_summary(run: Run, planned: int) -> None:
    done = len(run.results)
    line = f"{done} of {planned} case(s) run"
    if run.interrupted:
        line += " (interrupted: the results so far are kept)"
    err.print(line, markup=False)
    if run.results:
        saved = (f"; reuse saved {run.saved:.0%} of the prefill" if run.reuse_reported
                 else "; the server does not report reuse")
        err.print(f"prefill: {run.prompt_tokens:,} prompt tokens, "
                  f"{run.evaluated_tokens:,} evaluated{saved}", markup=False)
    for note in run.skipped:
        err.print(f"note: skipped {note}", markup=False, highlight=False)
