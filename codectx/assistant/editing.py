"""An edit, attempt by attempt: ask, plan, gate, check, and go back to the model with
what failed.

Each attempt may try several candidates: the prompt is cached, so another reply to the
same request costs only its generation. The first is greedy; while the edit's time
(`edit_seconds`, by the speed measured here) allows one more, the next are sampled,
until one can be planned and passes the static check (`edits.static`: imports resolve,
no name undefined or imported unused, run on no code of the repository's). The first
that passes goes on to the project's checks; when none does, the best goes on with what
was wrong with it, and a change that fails the static check is offered as one that
fails its checks: shown with its failures, never applied without the user's say.

A reply that cannot be applied, that goes beyond the request (`edits.guard`) or that
leaves a file unparseable (`edits.syntax`) goes back to the model once with what was
wrong. A change that applies is tried with the project's checks in a private copy of
the repository (`checks.trial`; the work tree is never written); when a check fails, the model
gets the check's output around its first failure, once. Each retry carries the turn
before it as it was sent, so it reuses that turn's cells and evaluates only its own
message. Nothing is left written: the proposal says what was planned and what the
checks found, and the front end applies it when the user says so.

`edit` runs an edit on a session's turns; `recheck` runs a proposal's checks again;
`apply` and `undo` write a change and put it back through the journal; `commit_message`
asks the model for an applied change's message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from codectx.assistant.checks.detect import CheckSet
from codectx.assistant.checks.detect import checks_for as detected_checks
from codectx.assistant.checks.run import CheckResult, around_failure
from codectx.assistant.checks.scratch import builds_dir
from codectx.assistant.checks.trial import trial
from codectx.assistant.context import Topic
from codectx.assistant.edits import ending, formats, guard, repeats, static
from codectx.assistant.edits.git import commit_message_from, commit_request
from codectx.assistant.edits.grammar import edit_grammar
from codectx.assistant.edits.journal import apply_plan, journal_dir, undo_last
from codectx.assistant.edits.parse import parse_reply
from codectx.assistant.edits.plan import EditPlan
from codectx.assistant.edits.view import edit_view
from codectx.assistant.results import Answer, EditProposal
from codectx.assistant.session import Session
from codectx.assistant.turns import TurnRequest
from codectx.config import Loaded
from codectx.models.backend import GREEDY, Sampling
from codectx.progress import Progress, no_progress

CHECK_OUTPUT_TOKENS = 600
"""What of a failed check's output goes back to the model, at most."""
MAX_CANDIDATES = 4
"""Replies one request gets at most: the first greedy, the others sampled."""
SAMPLED = 0.7
"""The temperature of a further candidate."""


@dataclass
class _Tries:
    """The retries left: one for a reply that could not be used, one for a failed check."""

    reply: int = 1
    check: int = 1


def checks_for(session: Session, paths: Sequence[str], progress: Progress = no_progress,
               ) -> CheckSet:
    """The checks a change to `paths` gets here, and those held back (untrusted)."""
    return detected_checks(session.root, paths, session.index(progress).files,
                           setting=session.loaded.settings.check,
                           origin=session.loaded.sources.get("check", "config"),
                           trusted=session.loaded.trusted)


def run_checks(session: Session, plan: EditPlan, cancel: threading.Event | None,
               progress: Progress, attempt: int) -> tuple[tuple[CheckResult, ...], str | None]:
    """The checks' results on a planned change (the tree put back), and what was held back."""
    found = checks_for(session, [c.path for c in plan.changes if c.after is not None],
                       progress)
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
    paths: tuple[str, ...] = ()
    """The repository's files, as indexed for this edit."""
    external: tuple[str, ...] = ()
    """What its files import from outside it."""


def _first_ask(session: Session, instruction: str, files: Sequence[str], fmt: str | None,
               revising: EditProposal | None, allow_new: bool, allow_delete: bool,
               progress: Progress) -> _Ask:
    asked = instruction if revising is None else f"{revising.instruction}\n{instruction}"
    fmt = fmt or session.provider.edit_format()
    sizes = session.sizes(progress)
    # The files go after the prefix, in what the context leaves it (and the time allows).
    index = session.index(progress)
    left = session.repository_budget(progress) - index.total_tokens
    view = edit_view(session.root, files, asked, fmt, max(min(sizes.edit_view, left), 0)
                     if files else None, session.provider.counter())
    most = session.loaded.settings.max_answer_tokens
    return _Ask(asked, formats.edit_request(instruction, fmt, list(files), view.text),
                view.text, ending.reply_limit(view.need, most) if files else most,
                edit_grammar(fmt, files, any_path=allow_new or guard.asks_for_new_file(asked),
                             deletions=allow_delete or guard.asks_for_deletion(asked)),
                guard.Request(asked, tuple(files), allow_new, allow_delete), fmt,
                tuple(f.path for f in index.files),
                tuple(dict.fromkeys(e for f in index.files for e in f.external)))


def _retry(session: Session, failures: Sequence[CheckResult], problems: Sequence[str],
           ask: _Ask, files: Sequence[str], reply: str) -> str:
    """The next request: the first failed check's output, the definitions a reply left as
    they were with the change to make last (`repeats`), or what was wrong with the reply."""
    if failures and failures[0].name == static.NAME:
        return formats.retry_request(failures[0].output.splitlines(), ask.fmt)
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


@dataclass(frozen=True)
class _Candidate:
    """One reply to a request, planned and statically checked."""

    answer: Answer
    reply: str
    """The reply as planned (a cut one ended at its last complete definition)."""
    plan: EditPlan
    problems: tuple[str, ...]
    static: CheckResult | None
    """The static check of its change (None: not planned, or no Python file)."""

    @property
    def passes(self) -> bool:
        return self.plan.ok and not (self.static is not None and self.static.failed)

    def rank(self) -> tuple[bool, bool, int]:
        """Better first: passes, then planned, then the fewest problems."""
        found = self.static.output.count("\n") + 1 if self.static and self.static.failed else 0
        return self.passes, self.plan.ok, -(len(self.problems) + found)


def _more_time(session: Session, started: float, answer: Answer) -> bool:
    """Whether another candidate like `answer` fits in what is left of the edit's time:
    by the speed measured here (its prompt is cached), else by what `answer` took."""
    target = session.loaded.settings.edit_seconds
    if not target:
        return True
    speed = session.provider.speed()
    cost = (speed.turn_s(answer.prompt_tokens, 1, max(answer.generated_tokens, 1))
            if speed is not None else max(answer.total_s - answer.ttft_s, 0.0))
    return bool(time.perf_counter() - started + cost <= target)


def _candidates(session: Session, first: _Ask, request: str, history: list[tuple[str, str]],
                about: Topic | None, attempt: int, budget: tuple[float, int],
                cancel: threading.Event | None, progress: Progress,
                ) -> Generator[str, None, list[_Candidate]]:
    """Replies to one request until one passes, the time is up or as many as `budget`
    allows (when the edit started, how many at most) are tried; every one tried."""
    started, most = budget
    ruff = static.ruff_program()
    tried: list[_Candidate] = []
    for number in range(max(most, 1)):
        if number:
            if not _more_time(session, started, tried[-1].answer):
                break
            progress("candidate", number + 1, most)
        turn = session.run_turn(TurnRequest(
            request, first.limit, tuple(history), grammar=first.grammar, about=about,
            shown=first.shown if attempt == 1 else "",
            sampling=Sampling(SAMPLED, number) if number else GREEDY), cancel, progress)
        yield from turn
        answer = turn.answer()
        answer, reply, ran_out = ending.end_reply(answer, first.fmt, first.limit)
        plan, problems = guard.plan_reply(reply, session.root, first.fmt, first.allowed)
        if ran_out:
            problems = (ran_out,)
        check = static.static_check(plan, static.known_for(
            plan, session.root, first.paths, first.external), attempt, ruff) if plan.ok else None
        tried.append(_Candidate(answer, reply, plan, problems, check))
        if tried[-1].passes or answer.stop_reason == "cancelled" or (
                cancel is not None and cancel.is_set()):
            break
    return tried


def _chosen(tried: Sequence[_Candidate], checking: bool) -> _Candidate:
    """The best candidate, its plan noting how many were tried (and, checks being off,
    what the static check found)."""
    best = max(tried, key=_Candidate.rank)
    notes: list[str] = []
    if len(tried) > 1:
        which = (f"the first that passed the static check, candidate {tried.index(best) + 1}"
                 if best.passes else "none passed the static check; this is the closest")
        notes.append(f"{len(tried)} candidates were tried: {which}")
    if best.static is not None and best.static.failed and not checking:
        notes.append("the static check found: " + "; ".join(best.static.output.splitlines()))
    if not notes or not best.plan.ok:
        return best
    return replace(best, plan=replace(best.plan, notes=(*best.plan.notes, *notes)))


def edit(session: Session, instruction: str, *, files: Sequence[str] = (),
         fmt: str | None = None, revising: EditProposal | None = None,
         allow_new: bool = False, allow_delete: bool = False, check: bool | None = None,
         cancel: threading.Event | None = None, progress: Progress = no_progress,
         candidates: int = MAX_CANDIDATES) -> Iterator[str | EditProposal]:
    """Ask for a change; stream the model's replies, then one EditProposal (the work tree
    is left as it was).

    Up to `candidates` replies are tried while the time allows. A reply that cannot be
    applied, that goes beyond the request (see `edits.guard`) or that does not parse goes
    back to the model once with what was wrong; a change that fails the project's checks
    (`check`; None: the check_edits setting) goes back once with the check's output. With
    `revising`, the instruction asks for a change to that earlier proposal.
    """
    started = time.perf_counter()
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
        tried = yield from _candidates(session, first, request, history, about, attempt,
                                       (started, candidates), cancel, progress)
        replies += [c.answer.text for c in tried]
        chosen = _chosen(tried, checking)
        answer, reply, plan, problems = chosen.answer, chosen.reply, chosen.plan, chosen.problems
        refused.append(() if plan.ok else problems)
        stopped = answer.stop_reason == "cancelled" or (cancel is not None and cancel.is_set())
        results: tuple[CheckResult, ...] = ()
        if chosen.static is not None and chosen.static.failed and checking:
            results = (chosen.static,)  # the project's checks would find it again, slowly
            checked += results
        elif plan.ok and checking and not stopped:
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


def recheck(session: Session, proposal: EditProposal, *, cancel: threading.Event | None = None,
            progress: Progress = no_progress) -> Iterator[EditProposal]:
    """Run the checks on a proposal's change again (the tree put back); the proposal with
    their results."""
    results, held = run_checks(session, proposal.plan, cancel, progress, proposal.attempts)
    yield replace(proposal, checks=results, held_back=held, checked=True,
                  checks_attempt=proposal.attempts)


def apply(root: Path, loaded: Loaded, plan: EditPlan) -> list[str]:
    """Write a planned change to the repository at `root`, journaled in its cache (so
    `undo` restores it); the paths written."""
    apply_plan(plan, root, journal_dir(loaded.cache_path(), root))
    return [c.path for c in plan.changes]


def undo(root: Path, loaded: Loaded) -> list[str]:
    """Restore the files of the last change applied at `root`; the paths restored."""
    return undo_last(root, journal_dir(loaded.cache_path(), root))


def commit_message(session: Session, plan: EditPlan, instruction: str,
                   cancel: threading.Event | None = None) -> str:
    """A message for an applied change: a summary line, then a body, written by the model."""
    reply = session.run_turn(TurnRequest(commit_request(plan), 120), cancel,
                             no_progress).text()
    return commit_message_from(reply, instruction)
