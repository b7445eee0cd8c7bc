"""A review: what analysis finds the change adds, then the model's reading of it.

The repository prefix comes from the change's tree: for staged changes, git's index, so
what is reviewed is exactly what would be committed. Before the model, and whether or
not it can run, the change is analysed on its own lines: a file it leaves unparseable
(`review/syntax.py`), ruff's correctness rules and attributes that do not exist
(`review/analysis.py`), each finding saying what found it.

Then the model reviews one changed definition at a time (`review/definitions.py`): the
definition before and after, its callers and tests, the commit's message; it says what
behaves differently, then whether that is a bug. The repository is prefilled first, so
each definition pays only for its own request; `review_seconds` bounds that part, and
the definitions it leaves no time for are named. A change that touches no definition
the parser knows (a configuration file, a script's top level) is reviewed whole.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import replace

from codectx.assistant.checks.scratch import builds_dir
from codectx.assistant.context import Topic
from codectx.assistant.results import Answer, Review
from codectx.assistant.review.analysis import analysed, repository_files
from codectx.assistant.review.change import Change
from codectx.assistant.review.definitions import Definition, Uses, changed_definitions, uses
from codectx.assistant.review.findings import (
    Finding,
    definition_request,
    parse_findings,
    render_change,
    review_request,
)
from codectx.assistant.review.syntax import code_versions
from codectx.assistant.session import Session
from codectx.assistant.turns import TurnRequest
from codectx.progress import Progress, no_progress

DEFINITION_TOKENS = 160
"""Reply tokens for one definition: a sentence on what changes, and a finding or two."""


def review(session: Session, change: Change, *, cancel: threading.Event | None = None,
           progress: Progress = no_progress) -> Iterator[str | Review]:
    """Stream the model's review of `change`, then one Review with its findings, those
    analysis finds without the model first."""
    rendered, notes = render_change(change)
    if not rendered:
        reason = ("only binary or deleted files changed" if change.files
                  else "there are no changes")
        yield Review(change, [], [], (f"nothing to review: {reason}", *notes), None)
        return
    paths, read = repository_files(session.root, change)
    code = code_versions(session.root, change)  # read once, for everything below
    before, analysis_notes = analysed(
        session.root, change, paths, read, trusted=session.loaded.trusted,
        builds=builds_dir(session.loaded.cache_path(), session.root), code=code)
    notes += analysis_notes
    definitions = sorted(changed_definitions(code), key=lambda d: d.new)  # changed first
    if not definitions:
        turn = session.run_turn(TurnRequest(
            review_request(change, rendered), session.loaded.settings.max_answer_tokens,
            tree=change.tree, about=Topic(rendered)), cancel, progress)
        yield from turn
        answer = turn.answer()
        found = parse_findings(answer.text, change)
        findings, dropped = found.findings, found.dropped
        if answer.stop_reason == "cancelled":
            notes.append("the review was stopped before the model finished")
    else:
        answer, findings, dropped, more = yield from _by_definition(
            session, change, definitions, uses(definitions, paths, read), cancel, progress)
        notes += more
    if dropped:
        notes.append(f"{len(dropped)} finding(s) left out: not on a changed line, or "
                     "saying nothing is wrong")
    yield Review(change, [*before, *findings], dropped, (*notes, *answer.notes), answer)


def _by_definition(session: Session, change: Change, definitions: list[Definition],
                   used: dict[str, Uses], cancel: threading.Event | None, progress: Progress,
                   ) -> Generator[str, None, tuple[Answer, list[Finding],
                                                   list[tuple[Finding, str]], list[str]]]:
    """Review each definition in its own turn after one prefill of the repository, as
    long as `review_seconds` allows; returns (the turns as one Answer, findings, dropped,
    notes)."""
    settings = session.loaded.settings
    prefix = session.run_turn(TurnRequest(None, tree=change.tree), cancel, progress).answer()
    started = time.perf_counter()
    limit = settings.review_seconds
    answers: list[tuple[Definition, Answer]] = []
    findings: list[Finding] = []
    dropped: list[tuple[Finding, str]] = []
    unread: list[str] = []
    left: list[Definition] = []
    for number, definition in enumerate(definitions):
        spent = time.perf_counter() - started
        if _stopped(cancel, answers) or (limit and number and spent + spent / number > limit):
            left = definitions[number:]
            break
        progress("definition", number + 1, len(definitions))
        turn = session.run_turn(TurnRequest(
            definition_request(change, definition, used.get(definition.name)),
            min(DEFINITION_TOKENS, settings.max_answer_tokens), tree=change.tree), cancel,
            progress)
        yield from turn
        answer = turn.answer()
        answers.append((definition, answer))
        found = parse_findings(answer.text, change)
        if any(f.path is None for f in found.findings):
            unread.append(definition.name)
        findings += [f for f in found.findings if f.path is not None and f not in findings]
        dropped += found.dropped
    notes = []
    if unread:
        notes.append(f"the model's reply on {', '.join(unread)} could not be read as findings")
    if left:
        names = ", ".join(f"{d.path}: {d.name}" for d in left[:5])
        more = f" and {len(left) - 5} more" if len(left) > 5 else ""
        why = ("the review was stopped" if _stopped(cancel, answers)
               else f"review_seconds ({limit:g}) was reached; set it higher to review more")
        notes.append(f"not reviewed by the model: {names}{more} ({why})")
    return _together(prefix, answers), findings, dropped, notes


def _stopped(cancel: threading.Event | None, answers: list[tuple[Definition, Answer]]) -> bool:
    return (cancel is not None and cancel.is_set()) or any(
        a.stop_reason == "cancelled" for _, a in answers)


def _together(prefix: Answer, answers: list[tuple[Definition, Answer]]) -> Answer:
    """The prefill and each definition's turn as one Answer: the replies under their
    definitions' names, the tokens and times added up."""
    if not answers:
        return prefix
    turns = [prefix, *(a for _, a in answers)]
    last = answers[-1][1]
    return replace(
        last, text="\n\n".join(f"{d.path}: {d.name}\n{a.text}" for d, a in answers),
        stop_reason=next((a.stop_reason for _, a in answers if a.stop_reason != "stop"),
                         last.stop_reason),
        reused_tokens=prefix.reused_tokens,
        evaluated_tokens=sum(t.evaluated_tokens for t in turns),
        generated_tokens=sum(t.generated_tokens for t in turns),
        load_s=sum(t.load_s for t in turns), ttft_s=prefix.total_s + answers[0][1].ttft_s,
        total_s=sum(t.total_s for t in turns),
        notes=tuple(dict.fromkeys(n for t in turns for n in t.notes)))
