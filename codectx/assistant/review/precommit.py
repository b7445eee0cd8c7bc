"""What the pre-commit hook decides before and around a review of the staged change.

A merge commit is not reviewed (its changes were reviewed on their branches),
nor a commit with nothing reviewable staged; the first commit is reviewed
whole; the review has a time limit, past which the commit goes ahead
unreviewed (a prefill in progress is saved, so the next commit is faster).
The hook's command only prints what comes back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from codectx.assistant.background import TimeLimit, iterate
from codectx.assistant.results import Review
from codectx.assistant.review import change as changes
from codectx.config import Loaded
from codectx.errors import CodectxError
from codectx.progress import Progress


@dataclass(frozen=True)
class HookOutcome:
    review: Review | None
    """None when nothing is reviewed; `notes` say why."""
    notes: tuple[str, ...] = ()


def review_staged(root: Path, loaded: Loaded, progress: Progress,
                  time_limit: float | None = None) -> HookOutcome:
    """Review what is staged in the repository at root, as the hook does; `time_limit`
    defaults to the hook_timeout setting."""
    from codectx.assistant.session import Session

    if changes.merge_in_progress(root):
        return HookOutcome(None, ("a merge commit is not reviewed (its changes were "
                                  "reviewed on their branches)",))
    change = changes.staged(root)
    if not change.files:
        return HookOutcome(None, ("nothing staged to review",))
    if not change.reviewable:
        return HookOutcome(None, ("only binary or deleted files are staged; nothing to review",))
    notes: tuple[str, ...] = ()
    if not changes.has_commits(root):
        notes = (f"first commit: reviewing all {len(change.reviewable)} staged file(s)",)
    limit = time_limit or loaded.settings.hook_timeout
    session = Session(root, loaded)
    review: Review | None = None
    try:
        for item in iterate(lambda c, p: session.review(change, cancel=c, progress=p),
                            threading.Event(), progress, time_limit=limit):
            if isinstance(item, Review):
                review = item
    except TimeLimit:
        raise CodectxError(f"the time limit of {limit:g} s was reached (set hook_timeout "
                           "in the config to allow more)") from None
    assert review is not None
    return HookOutcome(review, notes)
