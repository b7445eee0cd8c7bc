"""A review: what analysis finds the change adds, then the model's reading of it.

The repository prefix comes from the change's tree: for staged changes, git's index, so
what is reviewed is exactly what would be committed. Before the model, and whether or
not it can run, the change is analysed on its own lines: a file it leaves unparseable
(`review/syntax.py`), ruff's correctness rules and attributes that do not exist
(`review/analysis.py`), each finding saying what found it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from codectx.assistant.context import Topic
from codectx.assistant.results import Answer, Review
from codectx.assistant.review.analysis import analysis_findings, repository_files
from codectx.assistant.review.change import Change
from codectx.assistant.review.findings import Finding, parse_findings, render_change, review_request
from codectx.assistant.review.syntax import syntax_findings
from codectx.assistant.streams import relay
from codectx.progress import Progress

Session = Any
"""The `assistant.session.Session` a review runs in (not imported: it imports this)."""


def analysed(session: Session, change: Change) -> tuple[list[Finding], list[str]]:
    """What is found without the model, and a line for each analyzer that could not run."""
    paths, read = repository_files(session.root, change)
    found, notes = analysis_findings(session.root, change, paths, read)
    return [*syntax_findings(session.root, change), *found], notes


def review(session: Session, change: Change, cancel: threading.Event | None,
           progress: Progress) -> Iterator[str | Review]:
    """`Session.review`'s work: stream the model's review, then one Review."""
    rendered, notes = render_change(change)
    if not rendered:
        reason = ("only binary or deleted files changed" if change.files
                  else "there are no changes")
        yield Review(change, [], [], (f"nothing to review: {reason}", *notes), None)
        return
    before, analysis_notes = analysed(session, change)
    answer = yield from relay(session.run_turn(
        review_request(change, rendered), cancel, progress,
        session.loaded.settings.max_answer_tokens, tree=change.tree, about=Topic(rendered)),
        Answer)
    found = parse_findings(answer.text, change)
    if answer.stop_reason == "cancelled":
        notes.append("the review was stopped before the model finished")
    if found.dropped:
        notes.append(f"{len(found.dropped)} finding(s) left out: not on a changed line")
    yield Review(change, [*before, *found.findings], found.dropped,
                 (*notes, *analysis_notes, *answer.notes), answer)
