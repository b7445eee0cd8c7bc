"""A scripted model for tests that do not need a real one.

Replies come from a queue; every prompt is kept in `prompts`. Tokens are the
text's UTF-8 bytes, and the longest common prefix with the previous prompt
counts as reused, so tests can check what a real cache would reuse. The reply
`ECHO` answers with the text after the cached prefix (the question as the
model was given it), so a test can see what the model saw.

`ScriptedProvider` offers the backend the way the real providers offer
theirs; a test passes one to `Session`, and a subprocess (a git hook,
`codectx acp`) gets one through the registry with `backend = "scripted"`
and its replies, a JSON list, in $CODECTX_SCRIPTED_REPLIES (slowed down by
$CODECTX_SCRIPTED_DELAY seconds a word).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

from codectx.config import Loaded
from codectx.errors import ConfigError, ModelError
from codectx.models.backend import (
    Completion,
    GenerationParams,
    ModelBackend,
    PrefillProgress,
    Prompt,
)
from codectx.models.catalog import DEFAULT_EDIT_FORMAT
from codectx.models.chat import CHATML, ChatFormat
from codectx.models.runtime.reuse import Held, ReusePlan, choose, common_prefix
from codectx.models.runtime.speed import Speed
from codectx.progress import Progress, no_progress
from codectx.tokens import EstimateCounter, TokenCounter

ECHO = "ECHO"
REPLIES_ENV = "CODECTX_SCRIPTED_REPLIES"
DELAY_ENV = "CODECTX_SCRIPTED_DELAY"


class FakeBackend:
    def __init__(self, replies: Iterable[str] = (), context_window: int = 1 << 20,
                 delay: float = 0.0, reuse: str = "prefix", stale_limit: float = 0.5) -> None:
        """`delay`: seconds per generated word, to stand in for a slow model; `reuse` and
        `stale_limit`: which cells it counts as kept, as the `cache_reuse` and
        `stale_limit` settings have a real backend keep them (a prompt marked exact keeps
        only a common prefix)."""
        self.replies: deque[str] = deque(replies)
        self.delay = delay
        self.prompts: list[Prompt] = []
        self.params: list[GenerationParams] = []
        self.evaluated: list[tuple[int, ...]] = []
        """The tokens each call had to evaluate (what a real cache would not cover)."""
        self._context_window = context_window
        self._last: tuple[int, ...] = ()
        self._held: tuple[Held, ...] = ()
        self.reuse = reuse
        self.stale_limit = stale_limit
        self.closed = False

    @property
    def name(self) -> str:
        return "fake"

    @property
    def context_window(self) -> int:
        return self._context_window

    @property
    def chat(self) -> ChatFormat:
        return CHATML

    def tokenize(self, text: str, *, special: bool = False) -> list[int]:
        return list(text.encode("utf-8"))

    def bos_tokens(self) -> list[int]:
        return []

    def close(self) -> None:
        self.closed = True

    def stream(
        self,
        prompt: Prompt,
        params: GenerationParams,
        cancel: threading.Event | None = None,
        progress: PrefillProgress | None = None,
    ) -> Iterator[str | Completion]:
        started = time.perf_counter()
        tokens = prompt.tokens
        self.prompts.append(prompt)
        self.params.append(params)
        reused, evaluated, plan = self._reuse(prompt)
        self.evaluated.append(evaluated)
        self._last = tokens
        if progress:
            progress(len(tokens) - reused, len(tokens) - reused)
        # A prefill alone (max_tokens 0, a warm-up) uses no reply.
        reply = self.replies.popleft() if self.replies and params.max_tokens > 0 else ""
        if reply == ECHO:
            reply = bytes(prompt.suffix).decode(errors="replace")
        words = reply.split(" ")
        text = ""
        stop: str = "stop"
        for i, word in enumerate(words[: params.max_tokens]):
            if cancel is not None and cancel.is_set():
                stop = "cancelled"
                break
            time.sleep(self.delay)
            piece = word if i == 0 else " " + word
            text += piece
            yield piece
        else:
            if len(words) > params.max_tokens:
                stop = "length"
        elapsed = time.perf_counter() - started
        yield Completion(
            text=text, stop_reason=stop,  # type: ignore[arg-type]
            prompt_tokens=len(tokens), reused_tokens=reused, evaluated_tokens=len(tokens) - reused,
            generated_tokens=len(text.split(" ")) if text else 0, load_s=0.0, ttft_s=elapsed,
            total_s=elapsed, shifted_tokens=plan.shifted if plan else 0,
            stale_tokens=plan.stale if plan else 0,
        )

    def _reuse(self, prompt: Prompt) -> tuple[int, tuple[int, ...], ReusePlan | None]:
        """The tokens kept from the last prompt, those evaluated, and the prefix's plan
        where spans were followed: prefix reuse keeps the common prefix; shift reuse keeps
        unchanged spans wherever they stand (and the conversation after an unchanged
        prefix), as a real backend does."""
        tokens = prompt.tokens
        spans = prompt.spans
        if self.reuse != "shift" or prompt.exact or not spans or not self._held:
            reused = common_prefix(self._last, tokens)
            self._held = tuple(Held(s.key, s.start, s.end) for s in spans)
            return reused, tokens[reused:], None
        plan, _ = choose(self._held, self._last, tokens, spans, "shift", self.stale_limit)
        self._held = plan.held
        n = spans[-1].end
        tail = 0
        if not (plan.evaluate or plan.moves):  # the same prefix: the conversation stays
            tail = common_prefix(self._last[n:], tokens[n:len(tokens) - 1])
        evaluated = tuple(t for start, end in plan.evaluate for t in tokens[start:end])
        return plan.reused + tail, evaluated + tokens[n + tail:], plan


class ScriptedProvider:
    """A FakeBackend offered as a provider: its context is the limit, nothing loads."""

    warms_ahead = False  # tests read the prompts; a background warm-up would race them

    def __init__(self, backend: FakeBackend | None = None,
                 counter: TokenCounter | None = None, speed: Speed | None = None) -> None:
        """`counter`: what the indexer counts with (default: the estimate); `speed`: the
        machine it pretends to run on (default: none known, so turns take the context)."""
        self.fake = backend if backend is not None else FakeBackend()
        self._counter = counter or EstimateCounter()
        self._speed = speed

    @classmethod
    def from_settings(cls, root: Path, loaded: Loaded, *,
                      persist: bool = True) -> ScriptedProvider:
        raw = os.environ.get(REPLIES_ENV, "[]")
        try:
            replies = json.loads(raw)
            delay = float(os.environ.get(DELAY_ENV, "0"))
        except ValueError as exc:
            raise ConfigError(f"${REPLIES_ENV} or ${DELAY_ENV} is not valid: {exc}",
                              f"Set {REPLIES_ENV} to a JSON list of replies.") from None
        if not isinstance(replies, list) or not all(isinstance(r, str) for r in replies):
            raise ConfigError(f"${REPLIES_ENV} must be a JSON list of strings")
        return cls(FakeBackend(replies, delay=delay))

    @property
    def current(self) -> ModelBackend | None:
        return self.fake

    def context_limit(self, progress: Progress = no_progress) -> int:
        return self.fake.context_window

    def counter(self) -> TokenCounter:
        return self._counter

    def backend(self, prompt_tokens: int, answer_tokens: int,
                progress: Progress) -> ModelBackend:
        return self.fake

    def take_load_s(self) -> float:
        return 0.0

    def close(self) -> None:
        self.fake.close()

    def reuse_mode(self) -> str:
        return self.fake.reuse

    def description(self) -> str:
        return f"model: {self.fake.name} (scripted)"

    def cache_description(self) -> str:
        return "a scripted model: no prompt states are saved"

    def edit_format(self) -> str:
        return DEFAULT_EDIT_FORMAT

    def speed(self, progress: Progress = no_progress) -> Speed | None:
        return self._speed

    def no_room(self) -> ModelError:
        return ModelError(f"the scripted model's context ({self.fake.context_window:,} "
                          "tokens) leaves no room for a prompt")
