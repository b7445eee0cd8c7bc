"""Planning an evaluation grid: which lengths can run here, and the cases to run.

A length runs when the model takes it here (the same prompt limit every
question obeys, less the same room for instructions and the question) and
the repository is long enough to cut a haystack of it; the others are
skipped with the reason. The command line parses flags and prints; this
decides.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from codectx.assistant.session import PROMPT_OVERHEAD, Session
from codectx.errors import CodectxError
from codectx.evals.heatmap import length_label
from codectx.evals.runner import CaseResult, run_cases
from codectx.evals.tasks import Case, CaseMaker
from codectx.indexer.result import IndexResult
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
    maker = CaseMaker(index, seed, session.loaded.settings.format)
    runnable, skipped = [], []
    for length in lengths:
        have = maker.haystack(length).tokens
        if length + PROMPT_OVERHEAD > limit:
            skipped.append(f"{length_label(length)}: beyond the {limit:,} tokens the model "
                           "takes here (its context, and this machine's memory)")
        elif have < 0.9 * length:
            skipped.append(f"{length_label(length)}: the repository has only "
                           f"{index.total_tokens:,} tokens")
        else:
            runnable.append(length)
    if not runnable:
        raise CodectxError("no length can be run: " + "; ".join(skipped),
                           "Choose shorter --lengths.")
    cases = (list(maker.niah(runnable, list(depths), samples)) if kind == "niah"
             else list(maker.ruler(runnable, samples, tuple(tasks))))
    return Grid(kind, index, runnable, skipped, cases)


def run_grid(session: Session, grid: Grid, cancel: threading.Event,
             progress: Progress) -> Iterator[CaseResult]:
    """Each case's result, in the grid's order (deepest needle first reuses prefills)."""
    longest = max(c.haystack.tokens for c in grid.cases)
    backend = session.model_for(longest + PROMPT_OVERHEAD, progress)
    grid.model = backend.name
    yield from run_cases(grid.cases, backend, cancel, progress)
