"""An edit, attempt by attempt: ask, plan, gate, check, and go back to the model with
what failed.

A reply that cannot be applied, that goes beyond the request (`edits.guard`) or that
leaves a file unparseable (`edits.syntax`) goes back to the model once with what was
wrong. A change that applies is tried with the project's checks in a private copy of
the repository (`checks.trial`; the work tree is never written); when a check fails, the model
gets the check's output around its first failure, once. Each retry carries the turn
before it as it was sent, so it reuses that turn's cells and evaluates only its own
message. Nothing is left written: the proposal says what was planned and what the
checks found, and the front end applies it when the user says so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from codectx.assistant.checks.run import CheckResult, around_failure
from codectx.assistant.checks.scratch import builds_dir
from codectx.assistant.checks.trial import trial
from codectx.assistant.context import Topic
from codectx.assistant.edits import ending, formats, guard, repeats
from codectx.assistant.edits.grammar import edit_grammar
from codectx.assistant.edits.parse import parse_reply
from codectx.assistant.edits.plan import EditPlan
from codectx.assistant.edits.view import edit_view
from codectx.assistant.results import Answer, EditProposal
from codectx.assistant.streams import relay
from codectx.progress import Progress

Session = Any
"""The `assistant.session.Session` an edit runs in (not imported: it imports this)."""

CHECK_OUTPUT_TOKENS = 600
"""What of a failed check's output goes back to the model, at most."""


@dataclass
class _Tries:
    """The retries left: one for a reply that could not be used, one for a failed check."""

    reply: int = 1
    check: int = 1


def run_checks(session: Session, plan: EditPlan, cancel: threading.Event | None,
               progress: Progress, attempt: int) -> tuple[tuple[CheckResult, ...], str | None]:
    """The checks' results on a planned change (the tree put back), and what was held back."""
    found = session.checks_for([c.path for c in plan.changes if c.after is not None], progress)
    results = trial(plan, session.root, found.checks, session.loaded.settings.check_timeout,
                    cancel, progress, attempt, builds_dir(session.loaded.cache_path(),
                                                          session.root))
    return results, found.notice(session.root)


@dataclass(frozen=True)
class _Ask:
    """What an edit sends first, and what holds its replies."""

    asked: str
    """The instruction, a revision's included."""
    request: str
    shown: str
    limit: int
    grammar: str | None
    allowed: guard.Request
    fmt: str


def _first_ask(session: Session, instruction: str, files: Sequence[str], fmt: str | None,
               revising: EditProposal | None, allow_new: bool, allow_delete: bool,
               progress: Progress) -> _Ask:
    asked = instruction if revising is None else f"{revising.instruction}\n{instruction}"
    fmt = fmt or session.provider.edit_format()
    sizes = session.sizes(progress)
    # The files go after the prefix, in what the context leaves it (and the time allows).
    left = session.repository_budget(progress) - session.index(progress).total_tokens
    view = edit_view(session.root, files, asked, fmt, max(min(sizes.edit_view, left), 0)
                     if files else None, session.provider.counter())
    most = session.loaded.settings.max_answer_tokens
    return _Ask(asked, formats.edit_request(instruction, fmt, list(files), view.text),
                view.text, ending.reply_limit(view.need, most) if files else most,
                edit_grammar(fmt, files, any_path=allow_new or guard.asks_for_new_file(asked),
                             deletions=allow_delete or guard.asks_for_deletion(asked)),
                guard.Request(asked, tuple(files), allow_new, allow_delete), fmt)


def _retry(session: Session, failures: Sequence[CheckResult], problems: Sequence[str],
           ask: _Ask, files: Sequence[str], reply: str) -> str:
    """The next request: the first failed check's output, the definitions a reply left as
    they were with the change to make last (`repeats`), or what was wrong with the reply."""
    if failures:
        output = around_failure(failures[0].output, CHECK_OUTPUT_TOKENS,
                                session.provider.counter().count)
        return formats.check_retry_request(failures[0].command, output, ask.fmt)
    if guard.changed_nothing(problems):
        named = list(files) or [e.path for e in parse_reply(reply).edits]
        targets = repeats.unchanged_targets(session.root, named, ask.asked, reply)
        if targets:
            return repeats.retry_request(targets, ask.asked, ask.fmt)
    return formats.retry_request(list(problems), ask.fmt)


def edit_attempts(session: Session, instruction: str, *, files: Sequence[str],
                  fmt: str | None, revising: EditProposal | None, allow_new: bool,
                  allow_delete: bool, check: bool | None, cancel: threading.Event | None,
                  progress: Progress) -> Iterator[str | EditProposal]:
    """`Session.edit`'s work: stream the replies, then one EditProposal."""
    first = _first_ask(session, instruction, files, fmt, revising, allow_new, allow_delete,
                       progress)
    checking = session.loaded.settings.check_edits if check is None else check
    history: list[tuple[str, str]] = []
    if revising is not None:
        history.append((revising.request, revising.replies[-1]))
    request, replies, refused = first.request, [], []
    checked: list[CheckResult] = []
    held: str | None = None
    failed_change: tuple[EditPlan, int] | None = None  # the last change that failed its checks
    tries = _Tries()
    about: Topic | None = Topic(first.asked, tuple(files), "to be changed")
    for attempt in range(1, 4):
        answer = yield from relay(session.run_turn(
            request, cancel, progress, first.limit, history, grammar=first.grammar,
            about=about, shown=first.shown if attempt == 1 else ""), Answer)
        replies.append(answer.text)
        answer, reply, ran_out = ending.end_reply(answer, first.fmt, first.limit)
        plan, problems = guard.plan_reply(reply, session.root, first.fmt, first.allowed)
        if ran_out:
            problems = (ran_out,)
        refused.append(() if plan.ok else problems)
        stopped = answer.stop_reason == "cancelled" or (cancel is not None and cancel.is_set())
        results: tuple[CheckResult, ...] = ()
        if plan.ok and checking and not stopped:
            results, held = run_checks(session, plan, cancel, progress, attempt)
            checked += results
            if cancel is not None and cancel.is_set():  # stopped during a check
                stopped = True
                answer = replace(answer, stop_reason="cancelled")
        failures = [r for r in results if r.failed]
        if failures:
            failed_change = (plan, attempt)
        retry = (not plan.ok and tries.reply > 0) or (bool(failures) and tries.check > 0)
        if stopped or (plan.ok and not failures) or not retry:
            checks_attempt = attempt
            if not plan.ok and failed_change is not None and not stopped:
                # The retry's reply could not be used: offer the change that failed its
                # checks, with what the retry got wrong.
                plan, checks_attempt = failed_change
                problems = (f"attempt {attempt}: " + "; ".join(problems),)
            yield EditProposal(plan, attempt, problems, tuple(replies), answer, request,
                               first.asked, checks=tuple(checked), held_back=held,
                               checked=checking, checks_attempt=checks_attempt,
                               attempt_problems=tuple(refused))
            return
        # The turn as it was sent (its retrieved files included), so that the retry
        # reuses its cells and evaluates only the retry's message.
        history.append((answer.asked or request, answer.text))
        if failures:
            tries.check -= 1
        else:
            tries.reply -= 1
        request = _retry(session, failures, problems, first, files, reply)
        about = None
