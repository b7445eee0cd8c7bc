"""A trial: run the checks on a planned change in a private copy of the repository.

The change is laid over a copy (`scratch`), never written into the user's work tree:
checks run before the user has approved anything, and a crash or a kill during them
must leave the user's files as they were. A check that fails is run once more on the
copy as it was before the change: when it failed there too, with no problem the change
added, it says nothing about the change ("failed before").
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from codectx.assistant.checks.detect import Check
from codectx.assistant.checks.run import CheckResult, problem_lines, run_check
from codectx.assistant.checks.scratch import Scratch, scratch_copy
from codectx.assistant.edits.plan import EditPlan
from codectx.progress import Progress, no_progress


def _encoded(text: str | None) -> bytes | None:
    return None if text is None else text.encode("utf-8", "surrogateescape")


def _lay(scratch: Scratch, contents: Mapping[str, bytes | None]) -> None:
    for path, data in contents.items():
        scratch.write(path, data)


def trial(plan: EditPlan, root: Path, checks: Sequence[Check], timeout: float,
          cancel: threading.Event | None = None, progress: Progress = no_progress,
          attempt: int = 1, builds: Path | None = None) -> tuple[CheckResult, ...]:
    """Each check's result on the change, run in a copy of the repository at root
    (`builds`: where build output is kept between trials, see `scratch`)."""
    if not checks:
        return ()
    after = {c.path: _encoded(c.after) for c in plan.changes}
    before = {c.path: _encoded(c.before) for c in plan.changes}
    progress("check: copying the repository", 0, len(checks))
    with scratch_copy(root, builds) as scratch:
        _lay(scratch, after)
        env = scratch.environment()
        results: list[CheckResult] = []
        for done, check in enumerate(checks):
            progress(f"check: {check.name}", done, len(checks))
            results.append(run_check(check, scratch.tree, timeout, cancel, attempt, env))
            if cancel is not None and cancel.is_set():
                break
        progress("checks", len(checks), len(checks))
        final: list[CheckResult] = []
        for result, check in zip(results, checks, strict=False):
            if result.status != "failed" or (cancel is not None and cancel.is_set()):
                final.append(result)
                continue
            # Against the tree as it was: the change's files put back, the check run again.
            _lay(scratch, before)
            was = run_check(check, scratch.tree, timeout, cancel, result.attempt, env)
            _lay(scratch, after)
            final.append(_against_before(result, was))
    return tuple(final)


def _against_before(result: CheckResult, before: CheckResult) -> CheckResult:
    """A failure that the tree as it was has too, with nothing new, is not the change's."""
    if before.status == "failed" and problem_lines(result.output) <= problem_lines(
            before.output):
        return replace(result, status="failed before")
    return result
