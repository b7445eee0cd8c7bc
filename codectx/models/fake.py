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
from codectx.models.chat import CHATML, ChatFormat
from codectx.models.reuse import common_prefix
from codectx.models.speed import Speed
from codectx.progress import Progress, no_progress
from codectx.tokens import EstimateCounter, TokenCounter

ECHO = "ECHO"
REPLIES_ENV = "CODECTX_SCRIPTED_REPLIES"
DELAY_ENV = "CODECTX_SCRIPTED_DELAY"


class FakeBackend:
    def __init__(self, replies: Iterable[str] = (), context_window: int = 1 << 20,
                 delay: float = 0.0) -> None:
        """`delay`: seconds per generated word, to stand in for a slow model."""
        self.replies: deque[str] = deque(replies)
        self.delay = delay
        self.prompts: list[Prompt] = []
        self.params: list[GenerationParams] = []
        self.evaluated: list[tuple[int, ...]] = []
        """The tokens each call had to evaluate (what a real cache would not cover)."""
        self._context_window = context_window
        self._last: tuple[int, ...] = ()
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
        reused = common_prefix(self._last, tokens)
        self.evaluated.append(tokens[reused:])
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
            total_s=elapsed,
        )


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

    def description(self) -> str:
        return f"model: {self.fake.name} (scripted)"

    def cache_description(self) -> str:
        return "a scripted model: no prompt states are saved"

    def edit_format(self) -> str:
        return "search-replace"

    def speed(self, progress: Progress = no_progress) -> Speed | None:
        return self._speed

    def no_room(self) -> ModelError:
        return ModelError(f"the scripted model's context ({self.fake.context_window:,} "
                          "tokens) leaves no room for a prompt")
