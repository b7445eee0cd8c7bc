"""Running a grid of cases on a model, in the order that reuses the most prefill.

Two haystacks share every token before their first needle (the same files in
the same order), and a backend reuses the longest prefix it holds. So cases
run from the deepest first needle to the shallowest: each one evaluates only
what follows its own needle, and a full grid costs far less than grid size
times a cold prefill. The run says how much prefill the reuse saved.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from codectx.assistant.prompts import build_prompt
from codectx.evals.tasks import Case
from codectx.models.backend import Completion, GenerationParams, ModelBackend
from codectx.progress import Progress


@dataclass(frozen=True)
class CaseResult:
    task: str
    length: int
    depth: float | None
    sample: int
    haystack_tokens: int
    prompt_tokens: int
    reused_tokens: int
    evaluated_tokens: int
    seconds: float
    question: str
    expected: tuple[str, ...]
    answer: str
    score: float
    reuse_reported: bool = True


@dataclass
class Run:
    kind: str
    """"niah" or "ruler"."""
    model: str
    repository: str
    seed: int
    lengths: list[int]
    depths: list[float]
    samples: int
    results: list[CaseResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def reuse_reported(self) -> bool:
        return all(r.reuse_reported for r in self.results)

    @property
    def prompt_tokens(self) -> int:
        return sum(r.prompt_tokens for r in self.results)

    @property
    def evaluated_tokens(self) -> int:
        return sum(r.evaluated_tokens for r in self.results)

    @property
    def saved(self) -> float:
        """The share of prompt tokens that did not need evaluating, thanks to reuse."""
        return 1 - self.evaluated_tokens / self.prompt_tokens if self.prompt_tokens else 0.0

    def rows(self) -> list[str]:
        """The heatmap's rows: depths for NIAH, tasks for RULER."""
        if self.kind == "niah":
            return [f"{round(d * 100)}%" for d in self.depths]
        return sorted({r.task for r in self.results}, key=_task_order)

    def row_of(self, result: CaseResult) -> str:
        if self.kind == "niah":
            return f"{round((result.depth or 0) * 100)}%"
        return result.task

    def cells(self) -> dict[tuple[str, int], tuple[float, int]]:
        """(row, length) -> (mean score, cases)."""
        sums: dict[tuple[str, int], list[float]] = {}
        for result in self.results:
            sums.setdefault((self.row_of(result), result.length), []).append(result.score)
        return {key: (sum(v) / len(v), len(v)) for key, v in sums.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "model": self.model, "repository": self.repository,
            "seed": self.seed, "lengths": self.lengths,
            "depths": self.depths if self.kind == "niah" else None, "samples": self.samples,
            "interrupted": self.interrupted, "skipped": self.skipped,
            "cells": [{"row": row, "length": length, "score": round(score, 4), "cases": n}
                      for (row, length), (score, n) in self.cells().items()],
            "prefill": {"prompt_tokens": self.prompt_tokens,
                        "evaluated_tokens": self.evaluated_tokens,
                        "saved": round(self.saved, 4) if self.reuse_reported else None},
            "results": [asdict(r) for r in self.results],
        }


def _task_order(task: str) -> int:
    order = ("niah", "multikey", "multivalue", "vartrack")
    return order.index(task) if task in order else len(order)


def ordered(cases: Sequence[Case]) -> list[Case]:
    """Deepest first needle first: each case reuses the prefix before its own needle."""
    return sorted(cases, key=lambda c: (-c.first_position, c.length, c.sample))


def estimated_work(cases: Sequence[Case], overhead: int = 400) -> list[int]:
    """About how many tokens each case (in this order) will have to evaluate."""
    work = []
    previous: Case | None = None
    for case in cases:
        shared = min(case.first_position, previous.first_position) if previous else 0
        work.append(case.haystack.tokens - shared + overhead)
        previous = case
    return work


def run_cases(cases: Sequence[Case], backend: ModelBackend, cancel: threading.Event,
              progress: Progress) -> Iterator[CaseResult]:
    """Each case's result as it is scored; stops early (between or inside cases) on cancel."""
    plan = ordered(cases)
    work = estimated_work(plan)
    total = sum(work)
    done = 0
    progress("grid", 0, total)
    for case, cost in zip(plan, work, strict=True):
        if cancel.is_set():
            return
        started = time.perf_counter()
        prompt = build_prompt(backend.chat, backend.tokenize, case.haystack.segments,
                              case.question, bos=backend.bos_tokens())
        final: Completion | None = None
        pieces: list[str] = []
        for item in backend.stream(prompt, GenerationParams(max_tokens=case.max_tokens), cancel,
                                   lambda d, t: progress("prefill", d, t)):
            if isinstance(item, Completion):
                final = item
            else:
                pieces.append(item)
        assert final is not None
        if final.stop_reason == "cancelled":
            return
        answer = "".join(pieces)
        yield CaseResult(case.task, case.length, case.depth, case.sample, case.haystack.tokens,
                         final.prompt_tokens, final.reused_tokens, final.evaluated_tokens,
                         round(time.perf_counter() - started, 3), case.question, case.expected,
                         answer, case.score(answer), final.reuse_reported)
        done += cost
        progress("grid", done, total)
