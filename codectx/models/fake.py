"""A scripted backend for tests that do not need a real model.

Replies come from a queue; every prompt is kept in `prompts`. Tokens are the
text's UTF-8 bytes, and the longest common prefix with the previous prompt
counts as reused, so tests can check what a real cache would reuse.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator

from codectx.models.backend import Completion, GenerationParams, ProgressFn, Prompt
from codectx.models.chat import CHATML, ChatFormat


class FakeBackend:
    def __init__(self, replies: Iterable[str] = (), context_window: int = 1 << 20,
                 delay: float = 0.0) -> None:
        """`delay`: seconds per generated word, to stand in for a slow model."""
        self.replies: deque[str] = deque(replies)
        self.delay = delay
        self.prompts: list[Prompt] = []
        self.evaluated: list[tuple[int, ...]] = []
        """The tokens each call had to evaluate (what a real cache would not cover)."""
        self._context_window = context_window
        self._last: tuple[int, ...] = ()

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

    def count_tokens(self, text: str) -> int:
        return len(text.encode("utf-8"))

    def bos_tokens(self) -> list[int]:
        return []

    def stream(
        self,
        prompt: Prompt,
        params: GenerationParams,
        cancel: threading.Event | None = None,
        progress: ProgressFn | None = None,
    ) -> Iterator[str | Completion]:
        started = time.perf_counter()
        tokens = prompt.tokens
        self.prompts.append(prompt)
        reused = 0
        for a, b in zip(self._last, tokens, strict=False):
            if a != b:
                break
            reused += 1
        self.evaluated.append(tokens[reused:])
        self._last = tokens
        if progress:
            progress(len(tokens) - reused, len(tokens) - reused)
        # A prefill alone (max_tokens 0, a warm-up) uses no reply.
        reply = self.replies.popleft() if self.replies and params.max_tokens > 0 else ""
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
