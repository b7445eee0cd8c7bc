"""The one interface every model backend offers, and the plain data it speaks.

A prompt is a token prefix (stable: instructions and the repository, worth
caching) and a suffix (the conversation and the question). `stream` yields
the answer's text as it is generated, then a final `Completion` that says
how many prompt tokens were reused from a cache and how many evaluated.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from codectx.models.chat import ChatFormat

PrefillProgress = Callable[[int, int], None]
"""Called as progress(evaluated, to_evaluate) while the prompt is prefilled (the
assistant turns it into a `codectx.progress.Progress` "prefill" stage)."""


Message = tuple[str, str]
"""(role, content): role is "system", "user" or "assistant"."""


@dataclass(frozen=True)
class Span:
    """A piece of the prefix that a KV cache can keep on its own (the instructions, a file
    block, the file tree): `key` names its content, [start, end) are its token positions."""

    key: str
    start: int
    end: int

    @property
    def tokens(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Prompt:
    prefix: tuple[int, ...]
    suffix: tuple[int, ...]
    messages: tuple[Message, ...] = ()
    """The same prompt as chat messages, for a backend that sends text (the system message
    is the prefix; an empty suffix means a warm-up, which asks nothing)."""
    spans: tuple[Span, ...] = ()
    """The prefix as spans that tile it exactly (empty: one opaque prefix)."""
    exact: bool = False
    """Reuse cached cells only as an exact common prefix, whatever the backend's setting."""

    @property
    def tokens(self) -> tuple[int, ...]:
        return self.prefix + self.suffix


@dataclass(frozen=True)
class Sampling:
    """How a reply's tokens are chosen: greedily (temperature 0), or sampled with a seed
    (an edit's further candidates)."""

    temperature: float = 0.0
    seed: int = 0


GREEDY = Sampling()


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int = 1024
    temperature: float = 0.0
    seed: int = 0
    grammar: str | None = None
    """A llama.cpp grammar (GBNF) the reply must follow; a backend that cannot constrain
    its output ignores it (the reply is parsed and checked either way)."""


@dataclass(frozen=True, kw_only=True)
class Completion:
    text: str
    stop_reason: Literal["stop", "length", "cancelled", "error"]
    """error: the answer broke off (a server's connection failed); the text is what came."""
    prompt_tokens: int
    reused_tokens: int
    evaluated_tokens: int
    generated_tokens: int
    load_s: float
    """Time spent restoring a saved prompt state from disk."""
    ttft_s: float
    """From the call to the first generated token (prefill included)."""
    total_s: float
    notes: tuple[str, ...] = ()
    reuse_reported: bool = True
    """False when the backend could not tell how many prompt tokens were reused."""
    shifted_tokens: int = 0
    """Of the reused tokens, those kept at a new position (segment-level reuse)."""
    stale_tokens: int = 0
    """Prompt tokens whose cells were computed against text that has since changed."""


class ModelBackend(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def context_window(self) -> int: ...

    @property
    def chat(self) -> ChatFormat: ...

    def tokenize(self, text: str, *, special: bool = False) -> list[int]:
        """Tokens of text; `special` lets special-token text (e.g. <|im_end|>) become one."""

    def bos_tokens(self) -> list[int]:
        """What must open a prompt when the chat template does not (often nothing)."""

    def stream(
        self,
        prompt: Prompt,
        params: GenerationParams,
        cancel: threading.Event | None = None,
        progress: PrefillProgress | None = None,
    ) -> Iterator[str | Completion]:
        """Text pieces as they are generated, then exactly one Completion."""

    def close(self) -> None:
        """Free what the backend holds (a model, a connection); it is not used after."""
