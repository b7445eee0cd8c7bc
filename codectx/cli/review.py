"""`codectx review` and `codectx hook install|uninstall|status|run`."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from codectx.cli.console import echo, err, out
from codectx.cli.options import (
    friendly_errors,
    in_background,
    load_settings,
    model_options,
    require_directory,
)

if TYPE_CHECKING:
    from codectx.assistant.results import Answer, Review
    from codectx.assistant.review.change import Change
    from codectx.assistant.review.findings import Finding

FAIL_ON = click.Choice(["error", "warning", "never"])


def _review_change(path: Path, staged: bool, spec: str | None,
                   files: tuple[str, ...]) -> Change:
    from codectx.assistant.review import change as changes

    if sum([staged, spec is not None, bool(files)]) > 1:
        raise click.UsageError("--staged, --range and --files exclude each other")
    if files:
        return changes.whole_files(path, list(files))
    if spec is not None:
        return changes.revision_range(path, spec)
    if staged:
        return changes.staged(path)
    return changes.worktree(path)


def _reuse(answer: Answer | None, count: int) -> int | None:
    """A token count, or None when a server did not report what it reused."""
    return None if answer is not None and not answer.reuse_reported else count


@click.command("review")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--staged", is_flag=True,
              help="Review what would be committed: the staged diff, with the repository as "
                   "staged (git's index), not as in the work tree.")
@click.option("--range", "spec", metavar="A..B",
              help="Review the changes between two revisions (the repository as at B).")
@click.option("--files", "files", multiple=True, metavar="FILE",
              help="Review these whole files (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              help="text (grouped by file), json, or sarif (SARIF 2.1.0, for code scanning).")
@click.option("--fail-on", type=FAIL_ON, default="never", show_default=True,
              help="Exit with status 1 when a finding reaches this severity.")
@model_options
@friendly_errors
def review_cmd(path: Path, staged: bool, spec: str | None, files: tuple[str, ...], fmt: str,
               fail_on: str, flags: dict[str, Any]) -> None:
    """Review a change to the repository at PATH (default: .) with the whole repository in view.

    By default the uncommitted changes of the work tree are reviewed (new
    untracked files included). The model reads the repository (its prefix
    comes from the prompt cache, so this is fast when warm) and then the
    change, and reports findings as PATH:LINE: SEVERITY: MESSAGE; findings
    not on a changed line are dropped. A changed file that no longer parses
    is an error found without the model. Exit status: 0, or 1 when a finding
    reaches --fail-on.

    \b
    Examples:
      codectx review --staged --fail-on error
      codectx review --range main..HEAD --format sarif > review.sarif
    """
    from codectx.assistant import reviewing
    from codectx.assistant.review.findings import reaches
    from codectx.assistant.review.report import review_json, review_sarif
    from codectx.assistant.session import Review, Session
    from codectx.assistant.streams import last
    from codectx.cli import console

    require_directory(path)
    change = _review_change(path, staged, spec, files)
    session = Session(path, load_settings(path, flags))
    with console.progress_bar() as progress:
        review = last(in_background(
            lambda cancel, p: reviewing.review(session, change, cancel=cancel, progress=p),
            progress), Review)
    if fmt == "json":
        answer = review.answer
        extra = {"reviewed": [f.path for f in change.reviewable],
                 "model": answer.model if answer else None,
                 "reply": answer.text if answer else None,
                 "prompt_tokens": answer.prompt_tokens if answer else 0,
                 "reused_tokens": _reuse(answer, answer.reused_tokens if answer else 0),
                 "evaluated_tokens": _reuse(answer, answer.evaluated_tokens if answer else 0),
                 "total_s": round(answer.total_s, 3) if answer else 0.0,
                 "retrieved": [r.to_json() for r in answer.retrieved] if answer else []}
        click.echo(json.dumps(review_json(review.findings, review.dropped, review.notes,
                                          fail_on, extra), indent=2))
    elif fmt == "sarif":
        click.echo(json.dumps(review_sarif(review.findings, review.notes), indent=2))
    else:
        print_review(review, fail_on)
    if any(reaches(f.severity, fail_on) for f in review.findings):
        sys.exit(1)


@click.group("hook")
def hook_group() -> None:
    """The git pre-commit hook that reviews each commit's staged change."""


@hook_group.command("install")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--fail-on", type=FAIL_ON, default="never", show_default=True,
              help="Block the commit when a finding reaches this severity (never: advisory).")
@friendly_errors
def hook_install(path: Path, fail_on: str) -> None:
    """Install the pre-commit hook in the repository at PATH (core.hooksPath respected).

    A pre-commit hook already there is kept: it runs first, and `codectx hook
    uninstall` puts it back. Where core.hooksPath points inside the work tree
    (.husky, say), that hook is the repository's own, and it is chained only in a
    repository you trust (`codectx trust PATH`). The hook never blocks a commit
    because of codectx itself (no model, a load failure, hook_timeout reached);
    only findings at --fail-on do.
    """
    from codectx.assistant.review import hook
    from codectx.cli.console import err

    done = hook.install(path, fail_on)
    chained = f"; the previous hook runs first ({hook.PREVIOUS})" if done.chained else ""
    if done.chained and done.own:
        chained += f", the repository's own hook from {done.path.parent} (trusted)"
    err.print(f"installed {done.path} (fail-on {fail_on}){chained}", markup=False)


@hook_group.command("uninstall")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@friendly_errors
def hook_uninstall(path: Path) -> None:
    """Remove codectx's pre-commit hook, and put back the hook that was there before."""
    from codectx.assistant.review import hook
    from codectx.cli.console import err

    after = hook.uninstall(path)
    restored = "; the previous hook is back" if after.other else ""
    err.print(f"removed codectx's hook from {after.path}{restored}", markup=False)


@hook_group.command("status")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@friendly_errors
def hook_status(path: Path) -> None:
    """Say whether the hook is installed, how it fails, and what it chains."""
    from codectx.assistant.review import hook
    from codectx.cli.console import out

    now = hook.state(path)
    if now.installed:
        timeout = load_settings(path).settings.hook_timeout
        chained = f", running {hook.PREVIOUS} first" if now.chained else ""
        if now.chained and now.own:
            chained += " (the repository's own hook)"
        line = f"installed: {now.path} (fail-on {now.fail_on}, time limit {timeout:g} s{chained})"
        if now.outdated:
            line += ("; outdated: it lets the repository's own modules load in codectx's "
                     "place; run `codectx hook install` again")
    elif now.other:
        line = f"not installed: {now.path} is another program's pre-commit hook"
    else:
        line = f"not installed ({now.path} does not exist)"
    out.print(line, markup=False, highlight=False)


@hook_group.command("run")
@click.option("--fail-on", type=FAIL_ON, default="never", show_default=True,
              help="Exit with status 1 (blocking the commit) when a finding reaches this.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS", help="Time limit (default: hook_timeout from the config, 120).")
def hook_run(fail_on: str, timeout: float | None) -> None:
    """What the installed hook runs: review the staged change of the current repository.

    Never blocks a commit because of codectx itself: any failure (no model, a
    model that does not load, the time limit) prints one warning and exits 0.
    A staged file that no longer parses is reported even then: that needs no model.
    """
    if os.environ.get("CODECTX_SKIP") == "1":
        return
    from codectx.assistant.review.findings import reaches
    from codectx.assistant.review.precommit import review_with_limit, staged_change, without_model
    from codectx.cli import console

    root = Path.cwd()  # git runs hooks at the top of the work tree
    change = None
    try:
        change, notes = staged_change(root)
        for note in notes:
            echo(f"codectx: {note}", stderr=True)
        if change is None:
            return
        with console.progress_bar() as progress:
            review = review_with_limit(root, load_settings(root), change, progress, timeout)
    except Exception as exc:  # never block a commit on codectx's own failure
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        found = without_model(root, change, message) if change is not None else None
        if found is None:
            echo(f"codectx: review skipped: {message}", stderr=True)
            return
        review = found

    print_review(review, fail_on, prefix="codectx: ")
    blocking = [f for f in review.findings if reaches(f.severity, fail_on)]
    if blocking:
        echo(f"codectx: commit blocked by {len(blocking)} finding(s) at {fail_on} or "
             "above. Fix them, or commit anyway with `git commit --no-verify` "
             "(or CODECTX_SKIP=1).", stderr=True)
        sys.exit(1)


STYLES = {"error": "bold red", "warning": "yellow", "note": "cyan"}


def count_line(findings: list[Finding]) -> str:
    if not findings:
        return "no findings"
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}"
             for s in ("error", "warning", "note") if counts[s]]
    return ", ".join(parts)


def print_review(review: Review, fail_on: str, prefix: str = "") -> None:
    """Findings on stdout, grouped by file; the summary and notes on stderr."""
    from rich.text import Text

    from codectx.assistant.review.findings import reaches
    from codectx.assistant.review.report import by_file, found_by_note

    for path, findings in by_file(review.findings):
        if path is not None:
            out.print(Text(path, style="bold underline"))
        changed = review.change.file(path) if path is not None else None
        for finding in findings:
            if finding.line is not None:
                code = changed.text_at(finding.line) if changed else None
                out.print(Text.assemble((f"{finding.line:>6} │ ", "dim"), code or ""))
            indent = "         " if finding.line is not None else "  "
            out.print(Text.assemble(indent, (finding.severity, STYLES[finding.severity]),
                                    f": {finding.message}{found_by_note(finding)}"))
        out.print()
    reviewed = len(review.change.reviewable)
    summary = f"{prefix}{count_line(review.findings)} in {review.change.description}"
    if review.answer is not None:
        answer = review.answer
        summary += (f" ({reviewed} file(s); {answer.model}; prompt {answer.prompt_tokens:,} "
                    f"tokens, {answer.reused_tokens:,} reused; {answer.total_s:.1f} s)")
    err.print(summary, markup=False, highlight=False, soft_wrap=True)
    for note in review.notes:
        err.print(f"{prefix}note: {note}", markup=False, highlight=False, soft_wrap=True)
    failing = [f for f in review.findings if reaches(f.severity, fail_on)]
    if failing:
        err.print(f"{prefix}{len(failing)} finding(s) at --fail-on {fail_on} or above",
                  markup=False, highlight=False, soft_wrap=True)

