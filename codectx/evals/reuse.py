"""How good segment-level reuse is: answers from shifted cells against an exact prefill.

For each case (a niah or RULER-style haystack and its question), the haystack
is prefilled exactly and saved, as a repository's prefix would be. Then a file
at each edit depth is changed (a constant is added to it) and the same
questions, plus one about the added constant itself, are answered twice from
that saved state: once with every unchanged file's cells kept and moved
(shift), once keeping only the exact common prefix (an exact prefill of
everything after the edit). Greedy decoding: agreement is exact text equality.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codectx.assistant.prompts import build_prompt
from codectx.evals.haystack import Haystack, insert
from codectx.evals.needles import NeedleMaker
from codectx.evals.tasks import Case, value_question
from codectx.models.backend import Completion, GenerationParams, Prompt
from codectx.progress import Progress

if TYPE_CHECKING:  # the in-process backend: its saved states are what is measured
    from codectx.models.runtime.llama_cpp import LlamaCppBackend


@dataclass(frozen=True)
class ReuseResult:
    task: str
    length: int
    edit_depth: float
    edited_path: str
    question: str
    """"task": the case's own question; "edited": about the constant the edit added."""
    shifted_answer: str
    exact_answer: str
    shifted_score: float
    exact_score: float
    shifted_ttft_s: float
    exact_ttft_s: float
    """From the saved state: exact reuse evaluates everything after the edit."""
    cold_ttft_s: float
    """An exact prefill of the whole edited prompt, from nothing (the original's, measured
    on the case's first prefill; same length within a line)."""
    shifted_evaluated: int
    exact_evaluated: int
    stale_tokens: int

    @property
    def agree(self) -> bool:
        return self.shifted_answer.strip() == self.exact_answer.strip()


@dataclass
class ReuseRun:
    model: str
    repository: str
    seed: int
    lengths: list[int]
    depths: list[float]
    results: list[ReuseResult]

    def summary(self) -> dict[str, Any]:
        rs = self.results
        n = len(rs) or 1
        first = [r for r in rs if r.edit_depth == min(self.depths) and r.question == "task"]
        return {
            "answers": len(rs),
            "agreement": sum(r.agree for r in rs) / n,
            "accuracy_shifted": sum(r.shifted_score for r in rs) / n,
            "accuracy_exact": sum(r.exact_score for r in rs) / n,
            "ttft_first_file_vs_cold": (sum(r.shifted_ttft_s / r.cold_ttft_s for r in first)
                                        / len(first)) if first else None,
            "evaluated_shifted": sum(r.shifted_evaluated for r in rs) / n,
            "evaluated_exact": sum(r.exact_evaluated for r in rs) / n,
        }

    def to_json(self) -> dict[str, Any]:
        return {"kind": "reuse", "model": self.model, "repository": self.repository,
                "seed": self.seed, "lengths": self.lengths, "depths": self.depths,
                "summary": self.summary(),
                "results": [{**asdict(r), "agree": r.agree} for r in self.results]}


def run_reuse(cases: Sequence[Case], depths: Sequence[float], backend: LlamaCppBackend,
              languages: Mapping[str, str], seed: int, fmt: str, cancel: threading.Event,
              progress: Progress) -> Iterator[ReuseResult]:
    """Each answer pair as it comes; stops between answers on cancel."""
    from codectx.models.runtime.llama_cpp import cache_key
    from codectx.models.runtime.prompt_cache import PromptCache

    needles = NeedleMaker(seed + 1, avoid="".join(c.haystack.text for c in cases))
    total = len(cases) * (1 + len(depths))
    progress("reuse", 0, total)
    with tempfile.TemporaryDirectory(prefix="codectx-reuse-") as tmp:
        cache = PromptCache(Path(tmp), cache_key(backend.info, backend.options), 1 << 40)
        backend.cache = cache
        try:
            for number, case in enumerate(cases):
                if cancel.is_set():
                    return
                for entry in cache.entries():
                    cache.discard(entry)
                backend.forget()
                cold = _answer(backend, _prompt(backend, case.haystack, case.question), case)
                if cancel.is_set():
                    return
                (original,) = cache.entries()
                progress("reuse", number * (1 + len(depths)) + 1, total)
                for k, depth in enumerate(depths):
                    if cancel.is_set():
                        return
                    added = needles.constant()
                    edited = insert(case.haystack, [(added, depth)], languages, fmt)
                    about = Case("niah", case.length, depth, case.sample, edited,
                                 value_question(added.name), (str(added.value),))
                    asked = [("task", replace(case, haystack=edited)), ("edited", about)]
                    runs = {}
                    for mode in ("shift", "exact"):
                        for entry in cache.entries():
                            if entry.id != original.id:
                                cache.discard(entry)
                        backend.forget()  # as a new process: the saved state is loaded
                        runs[mode] = [_answer(backend, _prompt(backend, edited, c.question,
                                                               mode == "exact"), c)
                                      for _, c in asked]
                    if cancel.is_set():
                        return  # answers cut short by the stop are not results
                    for (label, c), shifted, exact in zip(asked, runs["shift"], runs["exact"],
                                                          strict=True):
                        yield ReuseResult(
                            c.task if label == "task" else "edited", case.length, depth,
                            edited.placed[-1].path, label, shifted.text, exact.text,
                            c.score(shifted.text), c.score(exact.text),
                            runs["shift"][0].ttft_s, runs["exact"][0].ttft_s, cold.ttft_s,
                            shifted.evaluated_tokens, exact.evaluated_tokens,
                            shifted.stale_tokens)
                    progress("reuse", number * (1 + len(depths)) + 2 + k, total)
        finally:
            backend.cache = None
            backend.forget()


def _prompt(backend: LlamaCppBackend, haystack: Haystack, question: str,
            exact: bool = False) -> Prompt:
    return build_prompt(backend.chat, backend.tokenize, haystack.segments, question,
                        bos=backend.bos_tokens(), exact=exact)


def _answer(backend: LlamaCppBackend, prompt: Prompt, case: Case) -> Completion:
    *_, last = backend.stream(prompt, GenerationParams(max_tokens=case.max_tokens))
    assert isinstance(last, Completion)
    return last
