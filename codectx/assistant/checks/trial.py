"""A trial: apply a planned change, run the checks on it, put the work tree back exactly.

The change is applied through the journal, so even a process killed half-way leaves a
record that `codectx undo` reverses; the trial's own record is undone whatever the
checks did to the changed files, and no other file is touched, so a user's
uncommitted work elsewhere stays as it was. A check that fails is run once more on
the tree as it was: when it failed there too, with no problem the change added, it
says nothing about the change ("failed before").
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from codectx.assistant.checks.detect import Check
from codectx.assistant.checks.run import CheckResult, problem_lines, run_check
from codectx.assistant.edits.journal import apply_plan, file_bytes, put_bytes, undo_record
from codectx.assistant.edits.plan import EditPlan
from codectx.progress import Progress, no_progress


def trial(plan: EditPlan, root: Path, journal: Path, checks: Sequence[Check], timeout: float,
          cancel: threading.Event | None = None, progress: Progress = no_progress,
          attempt: int = 1) -> tuple[CheckResult, ...]:
    """Each check's result on the change (the tree is as before when this returns)."""
    if not checks:
        return ()
    record = apply_plan(plan, root, journal)
    results: list[CheckResult] = []
    try:
        for done, check in enumerate(checks):
            progress(f"check: {check.name}", done, len(checks))
            results.append(run_check(check, root, timeout, cancel, attempt))
            if cancel is not None and cancel.is_set():
                break
    finally:
        undo_record(root, record, force=True)
    progress("checks", len(checks), len(checks))
    paths = [c.path for c in plan.changes]
    return tuple(_against_before(r, c, root, paths, timeout, cancel)
                 for r, c in zip(results, checks, strict=False))


def _against_before(result: CheckResult, check: Check, root: Path, paths: Sequence[str],
                    timeout: float, cancel: threading.Event | None) -> CheckResult:
    """A failure that the tree as it was has too, with nothing new, is not the change's.
    The files the change touches are put back after this run too."""
    if result.status != "failed" or (cancel is not None and cancel.is_set()):
        return result
    kept = {path: file_bytes(root / path) for path in paths}
    try:
        before = run_check(check, root, timeout, cancel, result.attempt)
    finally:
        for path, data in kept.items():
            if file_bytes(root / path) != data:
                put_bytes(root / path, data)
    if before.status == "failed" and problem_lines(result.output) <= problem_lines(
            before.output):
        return replace(result, status="failed before")
    return result

