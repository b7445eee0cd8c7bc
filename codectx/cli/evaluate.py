"""`codectx eval niah|ruler`: how well a model finds things in this repository at each length."""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from codectx.cli.console import err
from codectx.cli.options import (
    friendly_errors,
    in_background,
    load_settings,
    model_options,
    require_directory,
    write_atomic,
)
from codectx.errors import CodectxError
from codectx.evals import RULER_TASKS

if TYPE_CHECKING:
    from rich.table import Table

    from codectx.assistant.session import Session
    from codectx.evals.grid import Grid
    from codectx.evals.reuse import ReuseRun
    from codectx.evals.runner import Run
    from codectx.evals.tasks import Case
    from codectx.progress import Progress


def parse_lengths(value: str) -> list[int]:
    """"1k,2k,4k" or "1500,3000": token lengths (1k is 1,000 tokens)."""
    lengths = []
    for part in value.split(","):
        part = part.strip().lower()
        try:
            number = float(part[:-1]) * 1000 if part.endswith("k") else float(part)
        except ValueError:
            raise click.BadParameter(f"'{part}' is not a length such as 2k or 1500") from None
        if number < 100:
            raise click.BadParameter(f"'{part}' is too short: at least 100 tokens")
        lengths.append(int(number))
    return sorted(set(lengths))


def parse_depths(value: str) -> list[float]:
    """"0,25,50,75,100": depths in percent of the haystack."""
    depths = []
    for part in value.split(","):
        try:
            number = float(part.strip())
        except ValueError:
            raise click.BadParameter(f"'{part.strip()}' is not a percentage") from None
        if not 0 <= number <= 100:
            raise click.BadParameter(f"{number:g} is not between 0 and 100")
        depths.append(number / 100)
    return sorted(set(depths))


def _writable(directory: Path) -> None:
    """Fail now, not after an hour of prefill, when the results cannot be written."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise CodectxError(f"cannot write results to {directory}: {exc.strerror}",
                           "Choose another directory with -o.") from None


def _command(kind: str, path: Path, lengths: list[int], depths: list[float], samples: int,
             seed: int, tasks: tuple[str, ...], flags: dict[str, Any]) -> str:
    """The command line that repeats this run."""
    words = ["codectx", "eval", kind, str(path),
             "--lengths", ",".join(f"{n // 1000}k" if n % 1000 == 0 else str(n) for n in lengths)]
    if kind in ("niah", "reuse"):
        words += ["--depths", ",".join(f"{d * 100:g}" for d in depths)]
    if kind != "niah":
        words += ["--tasks", ",".join(tasks)]
    words += ["--samples", str(samples), "--seed", str(seed)]
    for key, value in flags.items():
        if key == "cache_reuse":
            words += ["--exact"] if value == "prefix" else []
        elif value is not None:
            words += [f"--{key.replace('_', '-')}", str(value)]
    return shlex.join(words)


def _common(func: Any) -> Any:
    options = [
        click.argument("path", type=click.Path(path_type=Path), default="."),
        click.option("--lengths", default="1k,2k,4k,8k", show_default=True, metavar="LIST",
                     callback=lambda c, p, v: parse_lengths(v),
                     help="Haystack lengths in tokens (1k = 1,000), comma-separated."),
        click.option("--samples", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Cases per cell, each with fresh needles."),
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Seeds the needles' names, values and places: a run repeats exactly."),
        click.option("-o", "--output", type=click.Path(path_type=Path, file_okay=False),
                     default=Path("."), show_default=True,
                     help="Directory for eval-<task>.json and eval-<task>.png."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group("eval")
def eval_group() -> None:
    """Long-context evaluation on this repository: needles in its own code.

    Haystacks are the repository's own prompt, in its real order, cut to each
    length by whole files; needles are constants with random names and values
    written in the language of the file they land in. Results: a table, a
    JSON file and a heatmap (PNG). Cases sharing a prefix reuse its prefill;
    Ctrl-C stops and keeps the results so far.
    """


@eval_group.command("niah")
@_common
@click.option("--depths", default="0,25,50,75,100", show_default=True, metavar="LIST",
              callback=lambda c, p, v: parse_depths(v),
              help="Needle depths in percent of the haystack, comma-separated.")
@model_options
@friendly_errors
def niah_cmd(path: Path, lengths: list[int], samples: int, seed: int, output: Path,
             depths: list[float], flags: dict[str, Any]) -> None:
    """Needle in a haystack: one constant at each depth of each length, asked for by name.

    Scored exactly: right only when the answer gives the constant's value.
    """
    _evaluate("niah", path, lengths, depths, samples, seed, output, flags, ())


@eval_group.command("ruler")
@_common
@click.option("--tasks", default=",".join(RULER_TASKS), show_default=True, metavar="LIST",
              help="multikey (four constants, one asked), multivalue (every value of one "
                   "constant), vartrack (a chain of constants set from one another).")
@model_options
@friendly_errors
def ruler_cmd(path: Path, lengths: list[int], samples: int, seed: int, output: Path,
              tasks: str, flags: dict[str, Any]) -> None:
    """RULER-style tasks on the repository, at each length."""
    chosen = tuple(t.strip() for t in tasks.split(",") if t.strip())
    unknown = [t for t in chosen if t not in RULER_TASKS]
    if unknown or not chosen:
        raise click.BadParameter(f"unknown task(s) {', '.join(unknown) or '(none)'}; choose "
                                 f"from {', '.join(RULER_TASKS)}", param_hint="--tasks")
    _evaluate("ruler", path, lengths, [], samples, seed, output, flags, chosen)


@eval_group.command("reuse")
@_common
@click.option("--depths", default="0,50,90", show_default=True, metavar="LIST",
              callback=lambda c, p, v: parse_depths(v),
              help="Where the edited file stands, in percent of the haystack (0: the first "
                   "file).")
@click.option("--tasks", default="niah,multikey,vartrack", show_default=True, metavar="LIST",
              help="The questions asked: niah and any of the RULER tasks.")
@model_options
@friendly_errors
def reuse_cmd(path: Path, lengths: list[int], samples: int, seed: int, output: Path,
              depths: list[float], tasks: str, flags: dict[str, Any]) -> None:
    """Segment-level cache reuse against exact prefill, after an edit.

    Each haystack is prefilled and saved; then a file at each depth is edited and
    the questions (the task's, and one about what the edit added) are answered
    from the saved state twice: with every unchanged file's cells kept at their
    new positions, and exactly. Reports greedy agreement, accuracy both ways,
    and time to first token against a prefill from nothing.
    """
    from codectx.assistant.session import Session
    from codectx.cli import console
    from codectx.evals.grid import ANSWER_ROOM, model_for_cases
    from codectx.evals.reuse import ReuseRun, run_reuse
    from codectx.models.provider import provider_for
    from codectx.models.runtime.llama_cpp import LlamaCppBackend

    chosen = _reuse_tasks(tasks)
    require_directory(path)
    _writable(output)
    loaded = load_settings(path, {**flags, "max_answer_tokens": ANSWER_ROOM})
    session = Session(path, loaded, provider_for(path, loaded, persist=False))
    with console.progress_bar() as progress:
        cases, grid = _reuse_cases(session, chosen, lengths, samples, seed, progress)
        backend = model_for_cases(session, cases, progress)
    if not isinstance(backend, LlamaCppBackend):
        raise CodectxError("eval reuse measures the in-process model's saved states",
                           "Run it without --backend (a server keeps its cache itself).")
    languages = {f.path: f.language for f in grid.index.files}
    run = ReuseRun(backend.name, grid.index.name, seed, grid.runnable, depths, [])
    with console.progress_bar() as progress:
        run.results.extend(in_background(
            lambda cancel, p: run_reuse(cases, depths, backend, languages, seed,
                                        loaded.settings.format, cancel, p), progress))
    if not run.results:
        raise KeyboardInterrupt
    report = output / "eval-reuse.json"
    data = {**run.to_json(), "command": _command("reuse", path, lengths, depths, samples, seed,
                                                 tuple(chosen), flags)}
    write_atomic(report, json.dumps(data, indent=2) + "\n")
    console.out.print(reuse_table(run))
    print_reuse_summary(run)
    err.print(f"wrote {report}", markup=False, highlight=False)
    if len(run.results) < 2 * len(cases) * len(depths):
        err.print("interrupted: the results so far are kept", markup=False)
        sys.exit(130)


def _reuse_tasks(tasks: str) -> list[str]:
    """The questions --tasks names: niah and RULER tasks."""
    chosen = [t.strip() for t in tasks.split(",") if t.strip()]
    unknown = [t for t in chosen if t not in ("niah", *RULER_TASKS)]
    if unknown or not chosen:
        raise click.BadParameter(f"unknown task(s) {', '.join(unknown) or '(none)'}; choose "
                                 f"from niah, {', '.join(RULER_TASKS)}", param_hint="--tasks")
    return chosen


def _reuse_cases(session: Session, chosen: list[str], lengths: list[int], samples: int,
                 seed: int, progress: Progress) -> tuple[list[Case], Grid]:
    """The cases of the niah grid and the RULER grid the tasks ask for, and the last grid
    planned (its index and the lengths that run here)."""
    from codectx.evals.grid import plan_grid

    cases: list[Case] = []
    ruler = [t for t in chosen if t != "niah"]
    if "niah" in chosen:
        grid = plan_grid(session, "niah", lengths, [0.5], samples, seed, (), progress)
        cases += grid.cases
    if ruler:
        grid = plan_grid(session, "ruler", lengths, [], samples, seed, ruler, progress)
        cases += grid.cases
    return cases, grid


def print_reuse_summary(run: ReuseRun) -> None:
    summary = run.summary()
    ratio = summary["ttft_first_file_vs_cold"]
    err.print(f"{summary['answers']} answers: agreement {summary['agreement']:.0%}, accuracy "
              f"{summary['accuracy_shifted']:.0%} shifted against {summary['accuracy_exact']:.0%} "
              f"exact; first token after an edit to the first file: "
              + (f"{ratio:.1%} of a prefill from nothing" if ratio is not None else "not run"),
              markup=False, highlight=False)


def reuse_table(run: ReuseRun) -> Table:
    from rich.table import Table

    from codectx.evals.heatmap import length_label

    table = Table("length", "edit at", "answers", "agree", "right (shift / exact)",
                  "first token (shift / exact / cold)", "evaluated (shift / exact)",
                  title=f"reuse: {run.model} on {run.repository} (seed {run.seed})")
    for length in run.lengths:
        for depth in run.depths:
            rs = [r for r in run.results if r.length == length and r.edit_depth == depth]
            if not rs:
                continue
            n = len(rs)
            table.add_row(
                length_label(length), f"{depth * 100:g}%", str(n),
                f"{sum(r.agree for r in rs) / n:.0%}",
                f"{sum(r.shifted_score for r in rs) / n:.2f} / "
                f"{sum(r.exact_score for r in rs) / n:.2f}",
                f"{sum(r.shifted_ttft_s for r in rs) / n:.1f} / "
                f"{sum(r.exact_ttft_s for r in rs) / n:.1f} / "
                f"{sum(r.cold_ttft_s for r in rs) / n:.1f} s",
                f"{sum(r.shifted_evaluated for r in rs) / n:,.0f} / "
                f"{sum(r.exact_evaluated for r in rs) / n:,.0f}")
    return table


def _evaluate(kind: str, path: Path, lengths: list[int], depths: list[float], samples: int,
              seed: int, output: Path, flags: dict[str, Any], tasks: tuple[str, ...]) -> None:
    from codectx.assistant.session import Session
    from codectx.cli import console
    from codectx.evals.grid import ANSWER_ROOM, plan_grid, run_grid
    from codectx.evals.heatmap import require_matplotlib, write_heatmap
    from codectx.evals.runner import Run
    from codectx.models.provider import provider_for

    require_directory(path)
    _writable(output)
    require_matplotlib()
    loaded = load_settings(path, {**flags, "max_answer_tokens": ANSWER_ROOM})
    session = Session(path, loaded, provider_for(path, loaded, persist=False))
    with console.progress_bar() as progress:
        grid = plan_grid(session, kind, lengths, depths, samples, seed, tasks, progress)
    run = Run(kind, "", grid.index.name, seed, grid.runnable, depths, samples,
              skipped=grid.skipped)
    with console.progress_bar() as progress:
        run.results.extend(in_background(
            lambda cancel, p: run_grid(session, grid, cancel, p), progress))
    run.model = grid.model
    run.interrupted = len(run.results) < len(grid.cases)
    if not run.results:
        raise KeyboardInterrupt  # stopped while the model loaded: there is nothing to write
    report = output / f"eval-{kind}.json"
    data = {**run.to_json(), "command": _command(kind, path, lengths, depths, samples, seed,
                                                 tasks, flags)}
    write_atomic(report, json.dumps(data, indent=2) + "\n")
    picture = output / f"eval-{kind}.png"
    write_heatmap(run, picture)
    console.out.print(results_table(run))
    print_summary(run, len(grid.cases))
    console.err.print(f"wrote {report} and {picture}", markup=False, highlight=False)
    if run.interrupted:
        sys.exit(130)


def _cell(score: float, cases: int) -> str:
    colour = "green" if score >= 0.9 else "yellow" if score >= 0.5 else "red"
    return f"[{colour}]{score:.2f}[/]" + (f" [dim]({cases})[/]" if cases > 1 else "")


def results_table(run: Run) -> Table:
    from rich.table import Table

    from codectx.evals.heatmap import length_label

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

