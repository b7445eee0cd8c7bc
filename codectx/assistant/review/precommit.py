"""What the pre-commit hook decides before and around a review of the staged change.

A merge commit is not reviewed (its changes were reviewed on their branches),
nor a commit with nothing reviewable staged; the first commit is reviewed
whole. Those checks ask git alone, before any setting is read. The review has a
time limit, past which the commit goes ahead unreviewed by the model (a prefill
in progress is saved, so the next commit is faster). When the model's review
cannot run, what analysis finds is still reported (a staged file that no longer
parses, ruff's correctness rules, attributes that do not exist): that needs no
model. The hook's command only prints.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from codectx import config
from codectx.assistant.background import TimeLimit, iterate
from codectx.assistant.checks.scratch import builds_dir
from codectx.assistant.results import Review
from codectx.assistant.review import change as changes
from codectx.assistant.review.analysis import analysed, repository_files
from codectx.assistant.review.change import Change
from codectx.assistant.streams import last
from codectx.config import Loaded
from codectx.errors import CodectxError
from codectx.progress import Progress


def staged_change(root: Path) -> tuple[Change | None, tuple[str, ...]]:
    """What the hook reviews in the repository at root (None: nothing), and what to say
    about it first. Only git is asked: no setting, no model."""
    if changes.merge_in_progress(root):
        return None, ("a merge commit is not reviewed (its changes were reviewed on their "
                      "branches)",)
    change = changes.staged(root)
    if not change.files:
        return None, ("nothing staged to review",)
    if not change.reviewable:
        return None, ("only binary or deleted files are staged; nothing to review",)
    if not changes.has_commits(root):
        return change, (f"first commit: reviewing all {len(change.reviewable)} staged "
                        "file(s)",)
    return change, ()


def review_with_limit(root: Path, loaded: Loaded, change: Change, progress: Progress,
                      time_limit: float | None = None) -> Review:
    """Review `change` within `time_limit` seconds (default: the hook_timeout setting)."""
    from codectx.assistant.reviewing import review
    from codectx.assistant.session import Session

    limit = time_limit or loaded.settings.hook_timeout
    session = Session(root, loaded)
    try:
        return last(iterate(lambda c, p: review(session, change, cancel=c, progress=p),
                            threading.Event(), progress, time_limit=limit), Review)
    except TimeLimit:
        raise CodectxError(f"the time limit of {limit:g} s was reached (set hook_timeout "
                           "in the config to allow more)") from None


def without_model(root: Path, change: Change, why: str) -> Review | None:
    """The review when the model's cannot run (`why`): what analysis finds the change adds
    (files it leaves unparseable, ruff's correctness rules, attributes that do not exist),
    or None when it finds nothing (or the files cannot be read either)."""
    trusted, builds = False, None
    with contextlib.suppress(CodectxError):  # a config that cannot be read trusts nothing
        loaded = config.load(root)
        trusted = loaded.trusted
        builds = builds_dir(loaded.cache_path(), root)
    try:
        found, notes = analysed(root, change, *repository_files(root, change),
                                trusted=trusted, builds=builds)
    except Exception:  # the hook never fails because of codectx itself
        return None
    if not found:
        return None
    return Review(change, found, [], (f"the model's review was skipped: {why}", *notes),
                  None)
