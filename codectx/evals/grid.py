"""Planning an evaluation grid: which lengths can run here, and the cases to run.

A length runs when the model takes it here (the same prompt limit every
question obeys, less the same room for instructions and the question) and
a haystack of it can be cut from the repository (it is long enough, and its
files can be cut on line boundaries to fill the length); the others are
skipped with the reason. The command line parses flags and prints; this
decides.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from codectx.assistant.session import Session
from codectx.errors import CodectxError
from codectx.evals.haystack import available
from codectx.evals.heatmap import length_label
from codectx.evals.runner import CaseResult, run_cases
from codectx.evals.tasks import Case, CaseMaker
from codectx.indexer.result import IndexResult
from codectx.models.backend import ModelBackend
from codectx.models.sizing import PROMPT_OVERHEAD
from codectx.progress import Progress

ANSWER_ROOM = 128  # the tasks' answers are short


@dataclass
class Grid:
    kind: str
    index: IndexResult
    runnable: list[int]
    skipped: list[str]
    cases: list[Case] = field(default_factory=list)
    model: str = ""
    """The model's name, once `run_grid` has it loaded."""


def plan_grid(session: Session, kind: str, lengths: Sequence[int], depths: Sequence[float],
              samples: int, seed: int, tasks: Sequence[str],
              progress: Progress) -> Grid:
    """The cases of a niah or ruler grid that this model and repository allow.

    Raises CodectxError when no length can run.
    """
    index = session.index(progress, whole=True)
    limit = session.prompt_limit()
    maker = CaseMaker(index, seed, session.loaded.settings.format, session.provider.counter())
    runnable, skipped = [], []
    for length in lengths:
        reason = _shortfall(maker, length, limit)
        if reason is None:
            runnable.append(length)
        else:
            skipped.append(f"{length_label(length)}: {reason}")
    if not runnable:
        raise CodectxError("no length can be run: " + "; ".join(skipped),
                           "Choose shorter lengths.")
    cases = (list(maker.niah(runnable, list(depths), samples)) if kind == "niah"
             else list(maker.ruler(runnable, samples, tuple(tasks))))
    return Grid(kind, index, runnable, skipped, cases)


def _shortfall(maker: CaseMaker, length: int, limit: int) -> str | None:
    """Why no haystack of `length` tokens can run here; None when one can."""
    if length + PROMPT_OVERHEAD > limit:
        return (f"beyond the {limit:,} tokens the model takes here (its context, and this "
                "machine's memory)")
    most = available(maker.index)
    if most < 0.9 * length:
        return f"the repository has only {most:,} tokens"
    haystack = maker.haystack(length)
    if haystack.tokens < 0.9 * length or not any(s.kind == "file" for s in haystack.segments):
        return (f"a haystack of it comes to only {haystack.tokens:,} tokens: the files that do "
                "not fit whole have lines too long to cut them on a line boundary to the "
                f"{length - haystack.tokens:,} tokens left")
    return None


def model_for_cases(session: Session, cases: Sequence[Case], progress: Progress) -> ModelBackend:
    """The model, loaded with a context that holds the longest case's prompt."""
    longest = max(c.haystack.tokens for c in cases)
    return session.model_for(longest + PROMPT_OVERHEAD, progress)


def run_grid(session: Session, grid: Grid, cancel: threading.Event,
             progress: Progress) -> Iterator[CaseResult]:
    """Each case's result, in the grid's order (deepest needle first reuses prefills)."""
    backend = model_for_cases(session, grid.cases, progress)
    grid.model = backend.name
    yield from run_cases(grid.cases, backend, cancel, progress)
