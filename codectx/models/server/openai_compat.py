"""A backend over an inference server's OpenAI-compatible HTTP API.

A context larger than one machine holds runs on a server: llama.cpp's
(`llama-server`, which can spread a model over machines with its RPC
backend), vLLM, or llama-cpp-python's. The prompt is the one the in-process
backend gets, in the same stable order, so the server's prefix cache keeps
the repository between questions.

How a prompt is sent, best first:
- token ids to /v1/completions, when the server takes them and they come from
  its own tokenizer (llama.cpp, vLLM): exactly the tokens that were counted;
- text to /v1/completions, rendered with the model's chat template (from the
  server's /props, or from a local GGUF copy of the model set as `model`);
- messages to /v1/chat/completions, when the template is unknown: the server
  applies its own, and the system message (instructions and repository) is
  the same every time, so its prefix cache still holds.

Tokens are counted by the server's tokenizer when it has a route for it, else
by the local GGUF's, else estimated (and said so). With llama.cpp's server,
`cache_prompt` keeps the prefix, `timings` say how much of the prompt was
cached, and with its `--slot-save-path` the slot's state is saved after a
prefill and restored by the next process, so a server restart does not cost
a cold prefill.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codectx.errors import ModelError
from codectx.models.backend import Completion, GenerationParams, PrefillProgress, Prompt
from codectx.models.chat import CHATML, ChatFormat, chat_format
from codectx.models.runtime.tokenizer import GGUFCounter
from codectx.models.server.api import (
    Api,
    Reply,
    Server,
    StreamCut,
    close_on_cancel,
    probe,
)
from codectx.models.server.slots import SlotStates
from codectx.models.server.tokens import Counter, ServerTokens
from codectx.tokens import TokenCounter

# How each server kind takes a GBNF grammar for the reply (others: parsed as it comes).
GRAMMAR_FIELDS = {"llama.cpp": "grammar", "vllm": "guided_grammar"}


SERVER_CACHE_REUSE = 256  # the smallest chunk llama.cpp's server shifts (its --cache-reuse)


@dataclass(frozen=True)
class ServerOptions:
    base_url: str
    api_key_env: str | None = None
    model: str | None = None
    """The server's name for the model; default: the first it lists."""
    context: int | None = None
    """The context per request, when the server does not say (llama-cpp-python's)."""
    timeout: float = 1800.0
    slot: int = 0
    """llama.cpp: the slot the prompt is kept in, saved and restored."""
    state_dir: Path | None = None
    """Where this side remembers which slot states the server has saved."""
    local_model: Path | None = None
    """A GGUF of the same model: its chat template and tokenizer serve when the server's do not."""
    repo: str = ""
    """The repository's key (`RepoId.key`): saved slot states are per repository."""


class OpenAICompatBackend:
    def __init__(self, options: ServerOptions) -> None:
        """Connect: ask the server what it offers; a ModelError says what is missing."""
        key = None
        if options.api_key_env:
            key = os.environ.get(options.api_key_env)
            if not key:
                raise ModelError(f"${options.api_key_env} is not set (api_key_env)",
                                 f"Export the server's API key as {options.api_key_env}, or "
                                 "unset api_key_env for a server without one.")
        self.options = options
        self.api = Api(options.base_url, key, options.api_key_env, options.timeout)
        self.server: Server = probe(self.api, options.model)
        context = options.context or self.server.context
        if not context:
            raise ModelError(
                f"the {self.server.describe} at {self.api.root} does not report its context size",
                "Set `server_context` to the context it was started with "
                "(llama-cpp-python: --n_ctx).")
        self._context = context
        self._lock = threading.Lock()
        self.slots = (SlotStates(self.api, self.server.model, options.slot, options.state_dir,
                                 options.repo)
                      if self.server.kind == "llama.cpp" and options.state_dir is not None
                      else None)

        template, bos, eos = self.server.chat_template, self.server.bos_token, self.server.eos_token
        local = GGUFCounter(options.local_model) if options.local_model else None
        if template is None and options.local_model is not None:
            from codectx.models.gguf import read_info

            info = read_info(options.local_model)
            template, bos, eos = info.chat_template, info.bos_token, info.eos_token
        self._template_known = template is not None
        self._chat = chat_format(template, bos, eos) if template else CHATML
        self._bos_text = bos

        self.tokens = ServerTokens(self.api, self.server, local)
        self.tokenizer = self.tokens.kind
        self.route = ("ids" if self.server.takes_token_ids and self.tokenizer == "server"
                      and self._template_known else
                      "text" if self._template_known else "chat")

    # -- what a backend offers ----------------------------------------------------------

    @property
    def name(self) -> str:
        return self.server.model

    @property
    def context_window(self) -> int:
        return self._context

    @property
    def chat(self) -> ChatFormat:
        return self._chat

    @property
    def exact(self) -> bool:
        return self.tokenizer != "estimate"

    @property
    def counter_name(self) -> str:
        """Identifies the tokenizer in the index cache's keys."""
        sample = self.tokenize("def codectx(): return 'ü' + \"x\"  # 42\n")
        digest = hashlib.sha256(repr(sample).encode()).hexdigest()[:12]
        return f"server-{self.tokenizer}-{digest}"

    def describe(self) -> str:
        counted = {"server": "the server's tokenizer", "local": "the local copy's tokenizer",
                   "estimate": "an estimate (the server has no tokenize route and no local "
                               "copy of the model is set)"}[self.tokenizer]
        sent = {"ids": "token ids to /v1/completions", "text": "text to /v1/completions",
                "chat": "messages to /v1/chat/completions"}[self.route]
        return (f"{self.server.model} on the {self.server.describe} at {self.api.root}, "
                f"context {self._context:,} tokens; tokens counted by {counted}; prompts sent "
                f"as {sent}")

    def tokenize(self, text: str, *, special: bool = False) -> list[int]:
        return self.tokens.tokenize(text, special=special)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def counter(self) -> TokenCounter:
        """This tokenizer as the indexer counts with it."""
        return Counter(self.counter_name, self.exact, self.count_tokens)

    def bos_tokens(self) -> list[int]:
        if self._bos_text and self._chat.system_before.startswith(self._bos_text):
            return []
        return list(self.tokens.lead)

    def close(self) -> None:
        """Close the connection to the server (what it keeps, it keeps)."""
        self.api.client.close()

    # -- a request ------------------------------------------------------------------------

    def stream(
        self,
        prompt: Prompt,
        params: GenerationParams,
        cancel: threading.Event | None = None,
        progress: PrefillProgress | None = None,
    ) -> Iterator[str | Completion]:
        with self._lock:
            yield from self._stream(prompt, params, cancel or threading.Event(), progress)

    def _stream(self, prompt: Prompt, params: GenerationParams, cancel: threading.Event,
                progress: PrefillProgress | None) -> Iterator[str | Completion]:
        started = time.perf_counter()
        total = len(prompt.tokens)
        self._check_room(total, params)
        notes: list[str] = []
        slots = self.slots
        load_s = slots.restore(notes) if slots and slots.saving and not slots.restore_tried \
            else 0.0
        path, body = self._request(prompt, params)
        if progress:
            progress(0, total)
        reply = Reply(not prompt.suffix)
        stop = yield from self._receive(path, body, reply, cancel, progress, started, total,
                                        notes)
        yield self._completion(prompt, reply, stop, started, load_s, notes)

    def _check_room(self, total: int, params: GenerationParams) -> None:
        if total + max(params.max_tokens, 1) > self._context:
            raise ModelError(
                f"the prompt has {total:,} tokens and the answer needs room for "
                f"{params.max_tokens:,}; the server's context holds {self._context:,}",
                "Lower the `budget` or `max_answer_tokens` setting, or start the server with "
                "a larger context.")

    def _receive(self, path: str, body: dict[str, Any], reply: Reply, cancel: threading.Event,
                 progress: PrefillProgress | None, started: float, total: int,
                 notes: list[str]) -> Generator[str, None, str]:
        """The answer's pieces as they come (none for a warm-up); returns why it stopped."""
        warm = reply.warm
        stop = "stop"
        done = threading.Event()
        try:
            with self.api.events(path, body) as (response, events):
                threading.Thread(target=close_on_cancel, args=(cancel, done, response),
                                 daemon=True).start()
                for chunk in events:
                    piece = reply.take(chunk, path)
                    if reply.processed is not None and progress and reply.first_s is None:
                        progress(min(reply.processed, total), total)
                    if piece:
                        if reply.first_s is None:
                            reply.first_s = time.perf_counter() - started
                            if progress:
                                progress(total, total)
                        if not warm:
                            yield piece
                    if cancel.is_set():
                        stop = "cancelled"
                        break
                    if warm and reply.finish:
                        break
                stop = "cancelled" if cancel.is_set() else reply.stop_reason()
        except StreamCut as cut:
            if cancel.is_set():
                stop = "cancelled"
            elif not reply.text:
                raise ModelError(f"the server closed the connection before answering: {cut}",
                                 "Check the server's log: it may have stopped or run out of "
                                 "memory.") from None
            else:
                stop = "error"
                notes.append(f"the connection to the server broke in the middle of the answer "
                             f"({cut}); the answer above is incomplete")
        finally:
            done.set()
        return stop

    def _completion(self, prompt: Prompt, reply: Reply, stop: str, started: float,
                    load_s: float, notes: list[str]) -> Completion:
        """The request's Completion; the slot is saved when its prefix was not all cached."""
        elapsed = time.perf_counter() - started
        cached = reply.cached()
        prompt_n = reply.prompt_tokens() or len(prompt.tokens)
        if cached is None and stop != "cancelled":
            notes.append(f"the {self.server.describe} does not report how many prompt tokens "
                         "it reused from its cache")
        if self.slots and self.slots.saving and stop in ("stop", "length") \
                and (cached or 0) < len(prompt.prefix):
            self.slots.save(notes)
        return Completion(
            text="".join(reply.text) if not reply.warm else "", stop_reason=stop,  # type: ignore[arg-type]
            prompt_tokens=prompt_n, reused_tokens=cached or 0,
            evaluated_tokens=prompt_n - (cached or 0),
            generated_tokens=0 if reply.warm else reply.generated(), load_s=load_s,
            ttft_s=reply.first_s if reply.first_s is not None else elapsed, total_s=elapsed,
            notes=tuple(notes), reuse_reported=cached is not None)

    def _request(self, prompt: Prompt, params: GenerationParams) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "model": self.server.model, "stream": True, "temperature": params.temperature,
            "seed": params.seed,
            # A server generates at least one token; a warm-up's is dropped.
            "max_tokens": max(params.max_tokens, 1),
        }
        if self.server.kind != "llama-cpp-python":
            body["stream_options"] = {"include_usage": True}
        if self.server.kind == "llama.cpp":
            # n_cache_reuse (it overrides the server's --cache-reuse): after the common
            # prefix the server skips cached tokens the prompt no longer has and keeps,
            # shifted, each run of at least this many that the prompt goes on with; new
            # text ends the reuse. 0 keeps only the common prefix.
            body.update(cache_prompt=True, id_slot=self.options.slot, return_progress=True,
                        n_cache_reuse=0 if prompt.exact else SERVER_CACHE_REUSE)
        if params.grammar and self.server.kind in GRAMMAR_FIELDS:
            body[GRAMMAR_FIELDS[self.server.kind]] = params.grammar
        if self.route == "chat":
            messages = [{"role": role, "content": content} for role, content in prompt.messages]
            if not prompt.suffix:
                messages.append({"role": "user", "content": ""})
            return "/v1/chat/completions", {**body, "messages": messages}
        if self.route == "ids":
            return "/v1/completions", {**body, "prompt": list(prompt.tokens)}
        return "/v1/completions", {**body, "prompt": self._render(prompt)}

    def _render(self, prompt: Prompt) -> str:
        chat = self._chat
        around = {"system": (chat.system_before, chat.system_after),
                  "user": (chat.user_before, chat.user_after),
                  "assistant": (chat.assistant_before, chat.assistant_after)}
        parts: list[str] = []
        for role, content in prompt.messages:
            before, after = around[role]
            parts += [before, content, after]
        if prompt.suffix:
            parts.append(chat.generation_prompt)
        text = "".join(parts)
        if self.tokens.lead and self._bos_text and text.startswith(self._bos_text):
            text = text[len(self._bos_text):]  # the server adds the BOS itself
        return text
