"""`codectx edit` and `codectx undo`: changes planned by the model, applied only when asked."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from codectx.assistant.edits.formats import NAMES
from codectx.cli.options import (
    friendly_errors,
    in_background,
    load_settings,
    model_options,
    not_blank,
    require_directory,
)

if TYPE_CHECKING:
    from codectx.assistant.edits.plan import EditPlan
    from codectx.assistant.session import EditProposal, Session


@click.command("edit")
@click.argument("instruction", callback=not_blank)
@click.argument("path", type=click.Path(path_type=Path), default=".")
@click.option("--files", "files", multiple=True, metavar="FILE",
              help="Files to change (their current text goes with the instruction; repeatable).")
@click.option("--format", "fmt", type=click.Choice(NAMES),
              default=None,
              help="How the model writes edits: SEARCH/REPLACE blocks, whole files, or only "
                   "the definitions that change, merged into the file (default: what the "
                   "model does best, from the catalog).")
@click.option("--dry-run", is_flag=True, help="Only show the planned changes.")
@click.option("--apply", "apply_now", is_flag=True, help="Apply without asking.")
@click.option("--commit", is_flag=True,
              help="Commit the applied change (only its files) with a message the model writes.")
@click.option("--allow-new", is_flag=True,
              help="Let the change create files the request does not name (by default only "
                   "--files, paths named in the instruction, or an instruction asking for a "
                   "new file).")
@click.option("--allow-delete", is_flag=True,
              help="Let the change delete files (by default only when the instruction says "
                   "delete, remove or rm and names the file).")
@click.option("--check/--no-check", "check", default=None,
              help="Run the project's checks on the change before offering it, and give "
                   "the model a failure once (default: the check_edits setting, on). "
                   "`codectx doctor` lists what runs here.")
@click.option("--candidates", type=click.IntRange(1, 16), default=None, metavar="N",
              help="Replies the model may give to one request, while edit_seconds allows: "
                   "the first greedy, the rest sampled, until one passes the static check "
                   "(imports resolve, no undefined name or unused new import). Default: 4; "
                   "1: only the first.")
@click.option("--keep-failed", is_flag=True,
              help="Offer (and with --apply, apply) a change whose checks still fail after "
                   "the retry; without it, such a change is shown and not applied.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"status", "files", "attempts", "errors", "notes", "checks", '
                   '"held_back", "replies", "last_attempt"} instead of the diff (notes: what '
                   "was left out of the reply, and why; checks: every check run, with its "
                   "attempt; replies: every reply of the model; last_attempt: its tokens, "
                   "evaluated split and times).")
@model_options
@friendly_errors
def edit_cmd(instruction: str, path: Path, files: tuple[str, ...], fmt: str | None,
             dry_run: bool, apply_now: bool, commit: bool, allow_new: bool, allow_delete: bool,
             check: bool | None, candidates: int | None, keep_failed: bool, as_json: bool,
             flags: dict[str, Any]) -> None:
    """Ask the model to change the repository at PATH (default: .) as INSTRUCTION says.

    The planned changes are shown as a diff and applied only after you say
    yes (or with --apply); nothing is ever written outside the repository or
    inside .git. While the time allows (edit_seconds), the model gives up to
    --candidates replies, and the first that applies and passes the static
    check is taken. If none does, the model is told why and tries once more;
    if it still fails, nothing is written.

    A change that applies is checked first, in a private copy of the
    repository (your files are not touched): with the project's own checks
    (the `check` setting, or what is detected here: py_compile, ruff, the
    tests that import the changed modules, node --check, go vet/test, cargo
    check). When a check fails, the model gets its output and tries once
    more; a change that still fails is shown with the failure and not applied
    without --keep-failed. In a repository you have not trusted (`codectx
    trust`), checks that run the project's own code are held back. `codectx
    undo` restores the files as they were before the last applied edit.
    """
    from codectx.assistant.session import Session

    if dry_run and apply_now:
        raise click.UsageError("--dry-run and --apply exclude each other")
    if commit:
        from codectx.assistant.edits.git import require_repository

        require_repository(path)  # before anything is written, not after
    session = Session(path, load_settings(path, flags))
    more = {} if candidates is None else {"candidates": candidates}
    proposal = _propose(session, instruction, files=files, fmt=fmt, allow_new=allow_new,
                        allow_delete=allow_delete, check=check, **more)
    report = _report(proposal)
    _offer(proposal, report, as_json, keep_failed)
    plan = _chosen(proposal.plan, report, as_json, dry_run, apply_now)
    if plan is None:
        return
    from codectx.assistant import editing

    editing.apply(session.root, session.loaded, plan)
    report["status"] = "applied"
    if commit:
        _commit(session, plan, instruction, path, report)
    _finish(report, as_json, f"applied to {len(plan.changes)} file(s)"
            + (f", committed {report['commit'][:10]}" if commit else "")
            + "; `codectx undo` restores them")


def _propose(session: Session, instruction: str, **options: Any) -> EditProposal:
    """The model's change, planned in the background under a progress bar."""
    from codectx.assistant import editing
    from codectx.assistant.session import EditProposal
    from codectx.assistant.streams import last
    from codectx.cli import console

    with console.progress_bar() as progress:
        return last(in_background(
            lambda cancel, p: editing.edit(session, instruction, cancel=cancel, progress=p,
                                           **options),
            progress), EditProposal)


def _report(proposal: EditProposal) -> dict[str, Any]:
    """What --json prints, as planned (its status changes as the command goes on)."""
    from codectx.cli.ask import answer_json

    return {
        "status": "planned", "attempts": proposal.attempts, "errors": list(proposal.problems),
        "notes": list(proposal.plan.notes),
        "files": [{"path": c.path, "action": c.action, "diff": c.diff}
                  for c in proposal.plan.changes],
        "retrieved": [r.to_json() for r in proposal.answer.retrieved],
        "checks": [c.to_json() for c in proposal.checks],
        "held_back": proposal.held_back,
        # What happened, for a user or a test to see why: every reply the model gave (a
        # refused one included), and the last attempt's tokens and times.
        "replies": list(proposal.replies),
        "last_attempt": {k: v for k, v in answer_json(proposal.answer).items()
                         if k not in ("answer", "retrieved")},
    }


def _offer(proposal: EditProposal, report: dict[str, Any], as_json: bool,
           keep_failed: bool) -> None:
    """Show the change and its checks; exit where there is none to offer (stopped, not
    applicable, or failing its checks without --keep-failed)."""
    if proposal.answer.stop_reason == "cancelled":
        report["status"] = "failed"
        _finish(report, as_json, "stopped; nothing was written")
        sys.exit(130)
    if not proposal.plan.ok:
        report["status"] = "failed"
        _finish(report, as_json, "the model's edits could not be applied; nothing was written")
        sys.exit(1)
    if not as_json:
        print_plan(proposal.plan)
        print_checks(proposal)
    if proposal.failed_checks and not keep_failed:
        report["status"] = "check-failed"
        _finish(report, as_json, "the change fails its checks; not applied (--keep-failed "
                                 "offers it anyway)")
        sys.exit(1)


def _chosen(plan: EditPlan, report: dict[str, Any], as_json: bool, dry_run: bool,
            apply_now: bool) -> EditPlan | None:
    """The part of the change to apply (None: nothing), as --apply or the user says."""
    if dry_run or not (apply_now or _confirm(as_json)):
        _finish(report, as_json, "not applied" + ("" if dry_run or sys.stdin.isatty() else
                                                 ": not a terminal, use --apply to apply"))
        return None
    if not apply_now:
        plan = _confirm_files(plan)
        report["files"] = [f for f in report["files"]
                           if f["path"] in {c.path for c in plan.changes}]
        if not plan.changes:
            _finish(report, as_json, "not applied")
            return None
    return plan


def _commit(session: Session, plan: EditPlan, instruction: str, path: Path,
            report: dict[str, Any]) -> None:
    """Commit an applied edit; whatever goes wrong, say the files are already changed."""
    from codectx.assistant.editing import commit_message
    from codectx.assistant.edits.git import commit_paths
    from codectx.cli import console
    from codectx.errors import CodectxError

    try:
        message = commit_message(session, plan, instruction)
        report["commit"] = commit_paths(path, [c.path for c in plan.changes], message)
        report["message"] = message
    except (CodectxError, KeyboardInterrupt) as exc:
        reason = exc.message if isinstance(exc, CodectxError) else "interrupted"
        console.err.print(f"codectx: the edit is applied but not committed ({reason}); "
                          "commit it yourself, or `codectx undo` restores the files",
                          markup=False, highlight=False)
        sys.exit(1)


def _confirm(as_json: bool) -> bool:
    if as_json or not sys.stdin.isatty():
        return False
    return click.confirm("Apply these changes?", default=False, err=True)


def _confirm_files(plan: EditPlan) -> EditPlan:
    """Asked apart: whether to create and delete files too (without, only the changes to
    existing files are applied)."""
    from codectx.assistant.edits import show
    from codectx.printable import clean

    made_or_removed = clean(show.made_or_removed(plan))  # the model's paths
    if not made_or_removed or click.confirm(f"The change {made_or_removed}. Do that too?",
                                            default=False, err=True):
        return plan
    return plan.only("modify")


def _finish(report: dict[str, Any], as_json: bool, summary: str) -> None:
    from codectx.cli import console

    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for error in report["errors"]:
        console.err.print(error, markup=False, highlight=False)
    console.err.print(f"{summary} (attempts: {report['attempts']})", markup=False,
                      highlight=False)


@click.command("undo")
@click.argument("path", type=click.Path(path_type=Path), default=".")
@friendly_errors
def undo_cmd(path: Path) -> None:
    """Restore the files of the last edit applied in the repository at PATH.

    Refuses, changing nothing, if any of those files changed since the edit.
    """
    from codectx.assistant.editing import undo
    from codectx.cli import console

    require_directory(path)
    restored = undo(path, load_settings(path))
    console.err.print(f"restored {len(restored)} file(s): {', '.join(restored)}", markup=False)


def print_checks(proposal: EditProposal) -> None:
    """Under the diff: each check on the change on offer, how it ended, and the tail of
    what a failed one said; what was held back."""
    from codectx.assistant.checks.run import report
    from codectx.cli.console import err

    for line, failed in report(proposal.plan_checks, proposal.held_back):
        err.print(line, style="red" if failed else None, markup=False, highlight=False)


def print_plan(plan: EditPlan) -> None:
    """Planned changes on stdout: a coloured diff of each changed file, new files and
    deletions under headings of their own colour."""
    from codectx.assistant.edits import show
    from codectx.cli.console import out

    out.print(show.renderable(plan))
