"""A repository with a model that runs turns on it: questions in, answers out.

A Session indexes its repository, gets the model from its `Provider`, builds the prompt
(instructions and repository as the cacheable prefix, the question after) and runs a
turn (`run_turn`, which gives a `Turn`: its reply as it comes, then its `Answer`). It
never prints: progress goes through a callback. `ask`, `warm` and `refresh` are the
turns a front end asks for; an edit (`editing.edit`) and a review (`reviewing.review`)
are built on turns, and take the session. Where the model runs (this process, a
server, a script in tests) is the provider's business: nothing here branches on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path

from codectx.assistant import background
from codectx.assistant.context import Context, Topic, fit_notes, split_tokens
from codectx.assistant.edits.view import whole_files
from codectx.assistant.prompts import build_prompt
from codectx.assistant.results import Answer, EditProposal, Review
from codectx.assistant.retrieval import NOTHING
from codectx.assistant.turns import Turn, TurnRequest
from codectx.config import Loaded
from codectx.errors import ModelError
from codectx.indexer.repository import index_repository
from codectx.indexer.result import IndexResult
from codectx.models import sizing
from codectx.models.backend import (
    Completion,
    GenerationParams,
    ModelBackend,
    Prompt,
)
from codectx.models.provider import Provider, provider_for
from codectx.progress import Progress, no_progress

__all__ = ["Answer", "EditProposal", "Review", "Session"]


class Session:
    def __init__(self, root: Path, loaded: Loaded, provider: Provider | None = None, *,
                 turn_lock: threading.Lock | None = None) -> None:
        """A session on the repository at root; `provider` says where the model runs
        (default: the one the `backend` setting names); `turn_lock`: the lock of a
        provider shared with other sessions."""
        self.root = root
        self.loaded = loaded
        self.provider = provider if provider is not None else provider_for(root, loaded)
        # One model, one turn at a time: a question asked while the prefix is being
        # warmed in the background waits for it instead of loading a second model.
        self._turn_lock = turn_lock if turn_lock is not None else threading.Lock()
        self._refreshing: threading.Event | None = None  # cancels an exact re-prefill
        self._sizes: sizing.TurnSizes | None = None
        self._said_sizes = False
        self.context = Context(root, loaded.settings.retrieval_tokens, loaded.settings.format)

    # -- what the front ends call ------------------------------------------------

    def ask(self, question: str, *, history: Sequence[tuple[str, str]] = (),
            pinned: Sequence[str] = (), buffers: Mapping[str, str] | None = None,
            cancel: threading.Event | None = None,
            progress: Progress = no_progress) -> Iterator[str | Answer]:
        """Stream the answer's text, then one Answer.

        `history` holds earlier (question, answer) turns of the conversation, oldest
        first; when they would overflow the context, the oldest are left out and the
        Answer's notes say how many. `pinned` files go in full after the cached
        prefix (in case the prompt has them only as skeletons, or to draw attention);
        `buffers` gives the text of some of them as an editor has it, unsaved.
        """
        shown = self._pinned(pinned, buffers)
        turn = self.run_turn(TurnRequest(
            question + shown, self.loaded.settings.max_answer_tokens, tuple(history),
            about=Topic(question, tuple(pinned), "pinned"), shown=shown), cancel, progress)
        yield from turn
        yield turn.answer()

    def warm(self, *, cancel: threading.Event | None = None,
             progress: Progress = no_progress, index: IndexResult | None = None) -> Answer:
        """Prefill the repository prefix and save it, so the next question starts warm;
        `index`: the repository as just indexed (not indexed again)."""
        return self.run_turn(TurnRequest(None, index=index), cancel, progress).answer()

    def refresh(self, *, cancel: threading.Event | None = None,
                progress: Progress = no_progress) -> Answer:
        """An exact prefill of the prefix, for when cells were reused at new positions
        (approximate): run while the user is idle, it gives way to any question, which
        stops it at its next chunk and goes on from the saved state."""
        stop = cancel if cancel is not None else threading.Event()
        self._refreshing = stop  # set by the next question
        try:
            return self.run_turn(TurnRequest(None, exact=True), stop, progress).answer()
        finally:
            self._refreshing = None

    def index(self, progress: Progress = no_progress, *, whole: bool = False) -> IndexResult:
        """The repository as the model will see it (files, modes, tokens); with `whole`,
        every file in full (no budget), counted with the model's tokenizer."""
        return self._index(progress, whole=whole)

    def model_for(self, prompt_tokens: int, progress: Progress = no_progress) -> ModelBackend:
        """The model, loaded (or connected) with a context that holds `prompt_tokens` and
        the answer."""
        with self._turn_lock:
            return self.provider.backend(prompt_tokens, self.loaded.settings.max_answer_tokens,
                                         progress)

    def prompt_limit(self, progress: Progress = no_progress) -> int:
        """The longest prompt this model takes here, with room for the answer: its context
        and, for a local model, this machine's memory."""
        return sizing.prompt_limit(self.provider.context_limit(progress),
                                   self.loaded.settings.max_answer_tokens)

    def repository_budget(self, progress: Progress = no_progress) -> int:
        """The tokens the repository may take: the prompt limit less room for the
        instructions, the question and one retry's exchange."""
        return sizing.repository_budget(self.provider.context_limit(progress),
                                        self.loaded.settings.max_answer_tokens)

    def sizes(self, progress: Progress = no_progress) -> sizing.TurnSizes:
        """How much a turn may hold here: the context's room, capped by the time targets
        and this model's speed on this machine (measured at the first need, then kept)."""
        if self._sizes is None:
            targets = sizing.Targets.of(self.loaded.settings)
            speed = self.provider.speed(progress) if targets.any else None
            self._sizes = sizing.plan(speed, self.repository_budget(progress), targets)
        return self._sizes

    @property
    def warms_ahead(self) -> bool:
        """Whether a front end should prefill before the first question."""
        return self.provider.warms_ahead

    @property
    def context_window(self) -> int | None:
        """The loaded model's context size (None until the first turn loads it)."""
        current = self.provider.current
        return current.context_window if current is not None else None

    # -- the work ------------------------------------------------------------------

    def _pinned(self, files: Sequence[str], buffers: Mapping[str, str] | None = None) -> str:
        """The files' text, whole, as the question carries them."""
        return whole_files(self.root, files, buffers)

    def run_turn(self, request: TurnRequest, cancel: threading.Event | None,
                 progress: Progress) -> Turn:
        """One turn, as `request` asks (see `TurnRequest`), run as the `Turn` is read.

        The turn runs in a thread of its own, holding the turn lock (one model, one turn
        at a time), and its pieces come through a queue. A consumer that stops reading
        stops it: closing the turn cancels it, and one dropped without being closed
        (held in a reference cycle, say) never holds the lock past the turn's end.
        """
        refreshing = self._refreshing
        if request.question is not None and refreshing is not None:
            refreshing.set()  # a question never waits for an exact re-prefill

        def locked(cancel: threading.Event, report: Progress) -> Iterator[str | Answer]:
            with self._turn_lock:
                yield from self._one_turn(request, cancel, report)

        return Turn(background.iterate(locked, background.LinkedCancel(cancel), progress))

    def _one_turn(self, request: TurnRequest, cancel: threading.Event,
                  progress: Progress) -> Iterator[str | Answer]:
        """A request, step by step: the prefix that fits, what is retrieved, the prompt the
        context holds (the oldest history left out if need be), then the answer."""
        started = time.perf_counter()
        index, available = self._prefix(request, progress)
        room = self.context.room(index, available, self.sizes(progress))
        retrieval = (self.context.retrieve(index, request.about, room)
                     if request.question is not None and request.about is not None else NOTHING)
        question = request.question
        if retrieval.text and question is not None:
            question = f"{retrieval.text}\n{question}"
        backend = self.provider.backend(index.total_tokens + sizing.PROMPT_OVERHEAD + room,
                                        self.loaded.settings.max_answer_tokens, progress)
        backend, prompt, dropped = self._fit(backend, index, question, request, progress)
        trimmed = (f"the {dropped} oldest turn(s) of the conversation were left out to fit "
                   "the context",) if dropped else ()
        if question is None:
            prompt = replace(prompt, suffix=(), messages=prompt.messages[:1])
        params = GenerationParams(request.max_tokens, request.sampling.temperature,
                                  request.sampling.seed, grammar=request.grammar)
        split = split_tokens(backend.tokenize, prompt, question, retrieval, request.shown)
        load_s = self.provider.take_load_s()  # the model loads once per session
        for item in backend.stream(prompt, params, cancel,
                                   lambda done, total: progress("prefill", done, total)):
            if not isinstance(item, Completion):
                yield item
                continue
            overhead = time.perf_counter() - started - item.total_s  # index, model load
            yield Answer(**{
                **asdict(item), "model": backend.name, "load_s": load_s + item.load_s,
                "ttft_s": item.ttft_s + overhead, "total_s": item.total_s + overhead,
                "notes": (item.notes + tuple(index.notes) + fit_notes(index) + trimmed
                          + retrieval.notes + self._sizes_notes()
                          + ((self.context.floor_note,) if self.context.floor_note else ())),
                "retrieved": retrieval.files, "asked": question or "", **split,
                "expected_s": self._expected_s(item),
            })

    def _prefix(self, request: TurnRequest, progress: Progress) -> tuple[IndexResult, int]:
        """The repository as this turn's prefix shows it, and the tokens it may take. The
        files an edit changes always go in: the prefix yields room to them."""
        index = request.index if request.index is not None else self._index(progress, request.tree)
        available = self.repository_budget(progress)
        if request.shown:
            available -= self.provider.counter().count(request.shown)
            if index.total_tokens > available:
                index = self._index(progress, request.tree, cap=available)
        return index, available

    def _fit(self, backend: ModelBackend, index: IndexResult, question: str | None,
             request: TurnRequest, progress: Progress) -> tuple[ModelBackend, Prompt, int]:
        """The prompt, in a context that holds it with the answer: a larger one when it
        can be had (a long question, pinned files, a retry), else with the oldest turns
        of the history left out. The backend, the prompt and how many turns were left."""
        history = list(request.history)
        answer_room = self.loaded.settings.max_answer_tokens
        exact = request.exact or self.loaded.settings.cache_reuse == "prefix"
        dropped = 0
        while True:
            prompt = build_prompt(backend.chat, backend.tokenize, index.segments, question,
                                  history, bos=backend.bos_tokens(), exact=exact)
            if len(prompt.tokens) + request.max_tokens <= backend.context_window:
                return backend, prompt, dropped
            try:
                backend = self.provider.backend(len(prompt.tokens), answer_room, progress)
                if len(prompt.tokens) + request.max_tokens <= backend.context_window:
                    return backend, prompt, dropped
                raise ModelError("the conversation does not fit the context")
            except ModelError:
                if not history:
                    raise
                history.pop(0)  # the oldest turn goes first
                dropped += 1

    def _index(self, progress: Progress, tree: str | None = None,
               whole: bool = False, cap: int | None = None) -> IndexResult:
        """The repository as this turn's prefix shows it. With the budget left to the model
        (the default), a repository that does not fit in full leaves a quarter of the room
        to question-time retrieval (see `context`). `cap`: the tokens the prefix may take at
        most, when a turn's own files need the rest."""
        loaded = self.loaded.with_budget(None) if whole else self.loaded
        budget = loaded.settings.budget
        if cap is not None and budget is not None:
            loaded = loaded.with_budget(min(budget, cap))
        if loaded.settings.budget is not None or whole:
            return index_repository(self.root, loaded, self.provider.counter(), progress, tree)
        available = self.repository_budget(progress) if cap is None else cap
        if available <= 0:
            raise self.provider.no_room()
        return self.context.index(
            lambda budget: index_repository(self.root, loaded.with_budget(budget),
                                            self.provider.counter(), progress, tree),
            available, self.sizes(progress))

    def _expected_s(self, done: Completion) -> float | None:
        """What the speed model expected for this turn as it ran (its reuse, its answer)."""
        speed = self.provider.speed() if self._sizes and self._sizes.by_time else None
        if speed is None:
            return None
        return round(speed.turn_s(done.reused_tokens, done.evaluated_tokens,
                                  done.generated_tokens), 1)

    def _sizes_notes(self) -> tuple[str, ...]:
        """Targets the machine cannot meet, said with the first answer of the session."""
        if self._sizes is None or self._said_sizes:
            return ()
        self._said_sizes = True
        return self._sizes.notes
