"""The in-process backend: llama-cpp-python with a persistent prompt cache.

Prefill is done here, in batches, rather than inside llama-cpp-python's
`generate`, so that it reports progress, can be cancelled between batches,
and can save the KV state the moment the cacheable prefix is evaluated.
`Llama` is not thread-safe: one lock per model guards every call.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from codectx.errors import ModelError
from codectx.files import gguf_identity
from codectx.llama_logs import quiet_llama
from codectx.models.backend import Completion, GenerationParams, PrefillProgress, Prompt
from codectx.models.chat import ChatFormat, chat_format
from codectx.models.gguf import ModelInfo
from codectx.models.prompt_cache import Entry, PromptCache, common_prefix

if TYPE_CHECKING:
    from llama_cpp import Llama

KV_TYPES = {"f16": 1, "q8_0": 8, "q4_0": 2}  # GGML type ids
PREFILL_CHUNK = 128  # tokens per eval call: how soon a cancel is noticed (throughput is the same)


@dataclass(frozen=True)
class LlamaOptions:
    n_ctx: int
    kv_type: str = "f16"
    flash_attn: bool = False
    threads: int | None = None
    n_batch: int = 512


def cache_key(info: ModelInfo, options: LlamaOptions) -> str:
    """Everything a saved state depends on to load and mean the same thing."""
    import llama_cpp

    parts = [gguf_identity(info.path), llama_cpp.__version__, str(options.n_ctx),
             options.kv_type, str(options.flash_attn)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


class LlamaCppBackend:
    def __init__(self, info: ModelInfo, options: LlamaOptions,
                 cache: PromptCache | None = None, label: str = "",
                 name: str | None = None) -> None:
        quiet_llama()
        from llama_cpp import Llama

        if (options.kv_type != "f16") and not options.flash_attn:
            # llama.cpp needs flash attention for a quantized V cache.
            options = LlamaOptions(options.n_ctx, options.kv_type, True, options.threads,
                                   options.n_batch)
        self.info = info
        self.options = options
        self.cache = cache
        self.label = label
        self._name = name or info.path.name
        self._lock = threading.Lock()
        try:
            self._llm: Llama = Llama(
                str(info.path), n_ctx=options.n_ctx, n_batch=options.n_batch,
                n_ubatch=options.n_batch, n_threads=options.threads,
                n_threads_batch=options.threads, flash_attn=options.flash_attn,
                type_k=KV_TYPES[options.kv_type], type_v=KV_TYPES[options.kv_type],
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"cannot load {info.path}: {exc}",
                             "Check the file, or try a smaller context (lower --budget).") from exc
        self._chat = chat_format(info.chat_template, info.bos_token, info.eos_token)

    @property
    def name(self) -> str:
        return self._name

    @property
    def context_window(self) -> int:
        return self.options.n_ctx

    @property
    def chat(self) -> ChatFormat:
        return self._chat

    def tokenize(self, text: str, *, special: bool = False) -> list[int]:
        with self._lock:
            return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    def bos_tokens(self) -> list[int]:
        if not self.info.add_bos or self._chat.system_before.startswith(self.info.bos_token):
            return []
        return [self._llm.token_bos()]

    def stream(
        self,
        prompt: Prompt,
        params: GenerationParams,
        cancel: threading.Event | None = None,
        progress: PrefillProgress | None = None,
    ) -> Iterator[str | Completion]:
        with self._lock:
            yield from self._stream(prompt, params, cancel or threading.Event(), progress)

    # -- the work, under the lock -------------------------------------------------

    def _stream(self, prompt: Prompt, params: GenerationParams, cancel: threading.Event,
                progress: PrefillProgress | None) -> Iterator[str | Completion]:
        started = time.perf_counter()
        llm = self._llm
        tokens = list(prompt.tokens)
        n_prefix = len(prompt.prefix)
        room = self.options.n_ctx - len(tokens)
        if room <= 0:
            raise ModelError(
                f"the prompt has {len(tokens):,} tokens; the context holds {self.options.n_ctx:,}",
                "Lower --budget, or raise the context.")
        notes: list[str] = []
        reused = common_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens)
        load_s = 0.0
        if self.cache is not None and reused < n_prefix:
            restored, load_s, attempted = self._restore_best(tokens, reused, notes)
            if attempted:  # memory now holds the loaded state, or nothing if loading failed
                reused = restored
        keep = min(reused, len(tokens) - 1)  # at least one token is evaluated, for its logits
        llm._ctx.kv_cache_seq_rm(-1, keep, -1)
        llm.n_tokens = keep
        todo = len(tokens) - keep
        done = 0

        def evaluate(end: int) -> bool:
            nonlocal done
            while llm.n_tokens < end:
                if cancel.is_set():
                    return False
                batch = tokens[llm.n_tokens : min(end, llm.n_tokens + PREFILL_CHUNK)]
                llm.eval(batch)
                done += len(batch)
                if progress:
                    progress(done, todo)
            return True

        finished = evaluate(n_prefix)
        if self.cache is not None and llm.n_tokens > reused and llm.n_tokens <= n_prefix:
            self._save(tokens[: llm.n_tokens])  # the prefix, or as much of it as was evaluated
        if finished:
            finished = evaluate(len(tokens))
        if not finished:
            elapsed = time.perf_counter() - started
            yield Completion("", "cancelled", len(tokens), keep, done, 0, load_s, elapsed,
                             elapsed, tuple(notes))
            return
        yield from self._generate(tokens, min(params.max_tokens, room), params, cancel,
                                  started, keep, done, load_s, notes)

    def _generate(self, tokens: list[int], max_tokens: int, params: GenerationParams,
                  cancel: threading.Event, started: float, reused: int, evaluated: int,
                  load_s: float, notes: list[str]) -> Iterator[str | Completion]:
        import llama_cpp
        from llama_cpp.llama_grammar import LlamaGrammar

        llm = self._llm
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        text: list[str] = []
        generated = 0
        stop: str = "length"
        ttft = time.perf_counter() - started
        if max_tokens > 0:
            llm.set_seed(params.seed)
            grammar = (LlamaGrammar.from_string(params.grammar, verbose=False)
                       if params.grammar else None)
            for token in llm.generate(tokens, temp=params.temperature, top_k=40, top_p=0.95,
                                      min_p=0.05, repeat_penalty=1.0, grammar=grammar):
                if generated == 0:
                    ttft = time.perf_counter() - started
                if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
                    stop = "stop"
                    break
                generated += 1
                piece = decoder.decode(llm.detokenize([token], special=False))
                if piece:
                    text.append(piece)
                    yield piece
                if cancel.is_set():
                    stop = "cancelled"
                    break
                if generated >= max_tokens:
                    break
        tail = decoder.decode(b"", final=True)
        if tail:
            text.append(tail)
            yield tail
        total = time.perf_counter() - started
        yield Completion("".join(text), stop, len(tokens), reused, evaluated, generated,  # type: ignore[arg-type]
                         load_s, ttft, total, tuple(notes))

    def _restore_best(self, tokens: list[int], have: int,
                      notes: list[str]) -> tuple[int, float, bool]:
        """Load the saved state sharing most with `tokens`, if it beats what is in memory.

        Returns (tokens now in memory, seconds spent, whether a load was attempted).
        """
        assert self.cache is not None
        found = self.cache.best(tokens)
        if found is None or found[1] <= have:
            return 0, 0.0, False
        entry, shared = found
        t0 = time.perf_counter()
        if self._load(entry):
            self.cache.touch(entry)
            return shared, time.perf_counter() - t0, True
        self.cache.discard(entry)
        notes.append("a saved prompt state was damaged and has been discarded; "
                     "the prompt was evaluated afresh")
        self._llm.reset()  # type: ignore[no-untyped-call]
        return 0, time.perf_counter() - t0, True

    def _load(self, entry: Entry) -> bool:
        import llama_cpp

        llm = self._llm
        if not self.cache or not self.cache.verify(entry):
            return False
        llm.reset()  # type: ignore[no-untyped-call]
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(llm._ctx.ctx), True)
        n = len(entry.tokens)
        out = (llama_cpp.llama_token * n)()
        count = ctypes.c_size_t(0)
        read = llama_cpp.llama_state_seq_load_file(
            llm._ctx.ctx, str(entry.state_path).encode(), 0, out, n, ctypes.byref(count))
        if read == 0 or count.value != n or tuple(out[:n]) != entry.tokens:
            llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(llm._ctx.ctx), True)
            return False
        llm.input_ids[:n] = entry.tokens
        llm.n_tokens = n
        llm._requires_eval = True  # the logits in memory are not those of this state
        return True

    def _save(self, tokens: list[int]) -> None:
        import llama_cpp

        assert self.cache is not None
        llm = self._llm
        array = (llama_cpp.llama_token * len(tokens))(*tokens)

        def write(path: Path) -> None:
            written = llama_cpp.llama_state_seq_save_file(
                llm._ctx.ctx, str(path).encode(), 0, array, len(tokens))
            if written == 0:
                raise OSError(f"llama.cpp could not write {path}")

        # A full disk must not fail the answer; the next run prefills again.
        with contextlib.suppress(OSError):
            self.cache.save(tokens, write, label=self.label, model=self._name)
