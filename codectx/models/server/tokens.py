"""Which tokenizer counts a server's tokens, and counting with it.

Best first: the server's own (llama.cpp's and vLLM's /tokenize, llama-cpp-python's
/extras/tokenize), a local GGUF copy of the same model, else an estimate (and it says
so). Texts' tokens are remembered, since the repository's segments repeat every question.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from codectx.models.runtime.tokenizer import GGUFCounter
from codectx.models.server.api import Api, Server, tokens_of
from codectx.tokens import EstimateCounter

TOKEN_CACHE = 1 << 16  # texts whose tokens are remembered (segments repeat every question)
Kind = Literal["server", "local", "estimate"]


class ServerTokens:
    def __init__(self, api: Api, server: Server, local: GGUFCounter | None) -> None:
        self.api, self.server, self.local = api, server, local
        self.kind: Kind = ("server" if server.tokenize_route else
                           "local" if local is not None else "estimate")
        self._cached = functools.lru_cache(maxsize=TOKEN_CACHE)(self._uncached)
        self.lead: list[int] = []  # nothing to cut off while it is being learned
        self.lead = self.raw("", special=False, add_special=True)
        """What the tokenizer puts before any text (a BOS, for models that add one)."""

    def tokenize(self, text: str, *, special: bool = False) -> list[int]:
        return list(self._cached(text, special)) if text else []

    def _uncached(self, text: str, special: bool) -> tuple[int, ...]:
        return tuple(self.raw(text, special=special, add_special=False))

    def raw(self, text: str, *, special: bool, add_special: bool) -> list[int]:
        """The tokens of `text`, asked of the tokenizer each time."""
        route, model = self.server.tokenize_route, self.server.model
        if route == "llama.cpp":
            data = self.api.post("/tokenize", {"content": text, "add_special": add_special,
                                               "parse_special": special})
        elif route == "vllm":
            data = self.api.post("/tokenize", {"model": model, "prompt": text,
                                               "add_special_tokens": add_special})
        elif route == "extras":
            # This route always adds what the model adds at the start; it is cut off here.
            data = self.api.post("/extras/tokenize", {"input": text, "model": model})
            tokens = tokens_of(data)
            lead = self.lead
            if add_special or not lead:
                return tokens
            return tokens[len(lead):] if tokens[: len(lead)] == lead else tokens
        elif self.local is not None:
            return self.local.tokenize(text, special=special, add_special=add_special)
        else:
            return [0] * EstimateCounter().count(text)  # a count only; prompts go as text
        return tokens_of(data)


@dataclass(frozen=True)
class Counter:
    """A server's tokenizer as the indexer counts with it."""

    name: str
    exact: bool
    count: Callable[[str], int]
