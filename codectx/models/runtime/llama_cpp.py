"""The in-process backend: llama-cpp-python with a persistent prompt cache.

Prefill is done here, in batches, rather than inside llama-cpp-python's
`generate`, so that it reports progress, can be cancelled between batches,
and can save the KV state the moment the cacheable prefix is evaluated.
`Llama` is not thread-safe: one lock per model guards every call.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from codectx.errors import ModelError
from codectx.files import gguf_identity
from codectx.llama_logs import quiet_llama
from codectx.models.backend import Completion, GenerationParams, PrefillProgress, Prompt, Span
from codectx.models.chat import ChatFormat, chat_format
from codectx.models.gguf import ModelInfo
from codectx.models.identity import RepoId
from codectx.models.runtime import kv_cells
from codectx.models.runtime.llama_states import SavedStates
from codectx.models.runtime.prompt_cache import Entry, PromptCache
from codectx.models.runtime.reuse import Held, ReusePlan, choose, common_prefix, valid

if TYPE_CHECKING:
    from llama_cpp import Llama

KV_TYPES = {"f16": 1, "q8_0": 8, "q4_0": 2}  # GGML type ids


@dataclass(frozen=True)
class LlamaOptions:
    n_ctx: int
    kv_type: str = "f16"
    flash_attn: bool = False
    threads: int | None = None
    n_batch: int = 512
    """Tokens per evaluation call while prefilling (a cancel is noticed within one call
    on the CPU: llama.cpp's abort callback stops the call)."""
    gpu_layers: int = 0
    main_gpu: int = 0
    tensor_split: tuple[float, ...] = ()
    offload_kqv: bool = True
    reuse: str = "shift"
    """shift: keep every unchanged span wherever it stands; prefix: only a common prefix."""
    stale_limit: float = 0.5
    """Past this share of approximate (stale) cells, the prefill is exact."""
    recompute: int = 0
    """Tokens evaluated again at the head of each span moved past a change."""


def cache_key(info: ModelInfo, options: LlamaOptions) -> str:
    """Everything a saved state depends on to load and mean the same thing."""
    import llama_cpp

    parts = [gguf_identity(info.path), llama_cpp.__version__, str(options.n_ctx),
             options.kv_type, str(options.flash_attn)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


class LlamaCppBackend:
    def __init__(self, info: ModelInfo, options: LlamaOptions,
                 cache: PromptCache | None = None, repo: RepoId | None = None,
                 name: str | None = None, notes: Sequence[str] = ()) -> None:
        """`repo`: whose prefix this is (keys the prefill lock, names saved states);
        `notes`: what the plan fell back to (said once, with the first answer)."""
        quiet_llama()
        from llama_cpp import Llama

        if (options.kv_type != "f16") and not options.flash_attn:
            # llama.cpp needs flash attention for a quantized V cache.
            options = replace(options, flash_attn=True)
        self.info = info
        self.options = options
        self.cache = cache
        self.repo = repo if repo is not None else RepoId.detached("")
        self._name = name or info.path.name
        self._lock = threading.Lock()
        self._closed = False
        try:
            self._llm: Llama = Llama(
                str(info.path), n_ctx=options.n_ctx, n_batch=options.n_batch,
                n_ubatch=options.n_batch, n_threads=options.threads,
                n_threads_batch=options.threads, flash_attn=options.flash_attn,
                type_k=KV_TYPES[options.kv_type], type_v=KV_TYPES[options.kv_type],
                n_gpu_layers=options.gpu_layers, main_gpu=options.main_gpu,
                tensor_split=list(options.tensor_split) or None,
                offload_kqv=options.offload_kqv, verbose=False,
            )
            kv_cells.two_sequence_context(self._llm)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"cannot load {info.path}: {exc}",
                             "Check the file, or try a smaller context (lower the `budget` "
                             "setting).") from exc
        self._can_shift = kv_cells.can_shift(self._llm)
        self._stop = kv_cells.Abort(self._llm)
        self._held: tuple[Held, ...] = ()  # the span table of the cells in memory
        self._notes = list(notes)
        self._chat = chat_format(info.chat_template, info.bos_token, info.eos_token)

    @property
    def name(self) -> str:
        return self._name

    @property
    def _states(self) -> SavedStates | None:
        """Where prompt states are saved and found: the `cache` set now, if any (an
        evaluation sets one of its own after loading)."""
        return SavedStates(self.cache, self.repo, self._name) if self.cache is not None else None

    @property
    def context_window(self) -> int:
        return self.options.n_ctx

    @property
    def chat(self) -> ChatFormat:
        return self._chat

    def forget(self) -> None:
        """Drop every cell in memory (the next prompt starts from a saved state, or none)."""
        from codectx.models.runtime import llama_api

        with self._lock:
            llama_api.clear(self._llm)
            self._held = ()

    def close(self) -> None:
        """Free the model and its context now (a turn in progress ends first)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._llm.close()

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
        cancel = cancel or threading.Event()
        with self._lock:
            yield from self._stream(prompt, params, cancel, progress)

    # -- the work, under the lock -------------------------------------------------

    def _stream(self, prompt: Prompt, params: GenerationParams, cancel: threading.Event,
                progress: PrefillProgress | None) -> Iterator[str | Completion]:
        from codectx.models.runtime import llama_api

        if self._closed:
            raise ModelError("the model was unloaded", "Ask again: it is loaded anew.")
        started = time.perf_counter()
        llm = self._llm
        tokens = list(prompt.tokens)
        n_prefix = len(prompt.prefix)
        room = self.options.n_ctx - len(tokens)
        if room <= 0:
            raise ModelError(
                f"the prompt has {len(tokens):,} tokens; the context holds {self.options.n_ctx:,}",
                "Lower the `budget` setting, or raise the context.")
        notes, self._notes = self._notes, []
        spans = prompt.spans if prompt.spans and prompt.spans[-1].end == n_prefix else (
            (Span("prefix", 0, n_prefix),) if n_prefix else ())
        mode = self._mode(prompt, notes)
        plan = self._plan(llama_api.evaluated(llm), self._held, tokens, spans, mode, notes)
        load_s = 0.0
        states = self._states
        waited: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
        if states is not None and plan.evaluated > 0:
            waited = states.prefill_lock(cancel, notes)
        with waited:
            if states is not None and plan.evaluated > 0:
                plan, load_s = self._restore_best(states, tokens, spans, mode, plan, notes)
            todo = plan.evaluated + len(tokens) - n_prefix
            done = 0

            def counted(n: int) -> None:
                nonlocal done
                done += n
                if progress:
                    progress(done, todo)

            plan, tail = _keep_conversation(plan, llama_api.evaluated(llm), tokens, n_prefix)
            with self._stop.on(cancel):
                reached = kv_cells.carry_out(llm, plan, tokens, self.options.n_batch, cancel,
                                             counted)
            self._held = _cut(plan.held, reached)
            if states is not None and (plan.evaluated > 0 or plan.moves) and self._held:
                states.save(llm, tokens, self._held)
        if reached == n_prefix and tail:
            llama_api.keep_first(llm, n_prefix + tail)  # the same conversation's cells stay
        reused = plan.reused + tail
        with self._stop.on(cancel):
            finished = reached == n_prefix and self._evaluate(tokens, cancel, counted)
        if not finished:
            elapsed = time.perf_counter() - started
            yield Completion(text="", stop_reason="cancelled", prompt_tokens=len(tokens),
                             reused_tokens=reused, evaluated_tokens=done, generated_tokens=0,
                             load_s=load_s, ttft_s=elapsed, total_s=elapsed, notes=tuple(notes),
                             shifted_tokens=plan.shifted, stale_tokens=plan.stale)
            return
        yield from self._generate(tokens, min(params.max_tokens, room), params, cancel,
                                  started, (plan, reused, done), load_s, notes)

    def _evaluate(self, tokens: list[int], cancel: threading.Event,
                  counted: Callable[[int], None]) -> bool:
        """The rest of the prompt after the prefix: the conversation and the question."""
        from codectx.models.runtime import llama_api

        llm = self._llm
        while (at := llama_api.count(llm)) < len(tokens):
            if cancel.is_set():
                return False
            batch = tokens[at : min(len(tokens), at + self.options.n_batch)]
            try:
                llm.eval(batch)
            except RuntimeError:
                if cancel.is_set():  # stopped inside the call; llama.cpp dropped its cells
                    return False
                raise
            counted(len(batch))
        return True

    def _mode(self, prompt: Prompt, notes: list[str]) -> str:
        if prompt.exact or self.options.reuse != "shift":
            return "prefix"
        if not self._can_shift:
            notes.append("this model's KV cache cannot be shifted (sliding-window or "
                         "recurrent attention): only a common prefix is reused")
            return "prefix"
        return "shift"

    def _plan(self, old: list[int], held: Sequence[Held], tokens: list[int],
              spans: Sequence[Span], mode: str, notes: list[str] | None = None) -> ReusePlan:
        table = held if held and valid(held, held[-1].end) and held[-1].end <= len(old) else ()
        plan, note = choose(table, old, tokens, spans, mode, self.options.stale_limit,
                            self.options.recompute)
        if note and notes is not None:
            notes.append(note)
        return plan

    def _generate(self, tokens: list[int], max_tokens: int, params: GenerationParams,
                  cancel: threading.Event, started: float, work: tuple[ReusePlan, int, int],
                  load_s: float, notes: list[str]) -> Iterator[str | Completion]:
        from llama_cpp.llama_grammar import LlamaGrammar

        from codectx.models.runtime import llama_api

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
                if llama_api.is_end(llm, token):
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
        plan, reused, evaluated = work
        yield Completion(text="".join(text), stop_reason=stop,  # type: ignore[arg-type]
                         prompt_tokens=len(tokens), reused_tokens=reused,
                         evaluated_tokens=evaluated, generated_tokens=generated, load_s=load_s,
                         ttft_s=ttft, total_s=total, notes=tuple(notes),
                         shifted_tokens=plan.shifted, stale_tokens=plan.stale)

    def _restore_best(self, states: SavedStates, tokens: list[int], spans: Sequence[Span],
                      mode: str, plan: ReusePlan,
                      notes: list[str]) -> tuple[ReusePlan, float]:
        """Load the saved state that keeps the most of `tokens`, if it beats what is in
        memory; the plan from what memory then holds, and the seconds spent loading."""
        from codectx.models.runtime import llama_api

        def kept(entry: Entry) -> int:
            return self._plan(list(entry.tokens), entry.held, tokens, spans, mode).reused

        found = states.cache.best(tokens, kept)
        if found is None or found[1] <= plan.reused:
            return plan, 0.0
        entry, _ = found
        t0 = time.perf_counter()
        if states.load(self._llm, entry):
            states.cache.touch(entry)
            self._held = entry.held
        else:
            states.cache.discard(entry)
            notes.append("a saved prompt state was damaged and has been discarded; "
                         "the prompt was evaluated afresh")
            self._held = ()
        old = llama_api.evaluated(self._llm)
        return self._plan(old, self._held, tokens, spans, mode, notes), time.perf_counter() - t0

def _keep_conversation(plan: ReusePlan, old: list[int], tokens: list[int],
                       n_prefix: int) -> tuple[ReusePlan, int]:
    """When the prefix stays exactly as it is, the cells after it that the new prompt shares
    (the earlier turns of a conversation) stay too; one token is always evaluated, for its
    logits. Returns the plan, and how many tokens after the prefix are kept."""
    if plan.evaluate or plan.moves or not plan.held or plan.held[-1].end != n_prefix \
            or len(old) <= n_prefix:
        return plan, 0
    tail = common_prefix(old[n_prefix:], tokens[n_prefix: len(tokens) - 1])
    if not tail:
        return plan, 0
    return replace(plan, drop=((n_prefix + tail, len(old)),) if len(old) > n_prefix + tail
                   else ()), tail


def _cut(held: tuple[Held, ...], reached: int) -> tuple[Held, ...]:
    """The span table of the cells before `reached` (a prefill stopped there): a span cut
    short keeps its cells under a name of its own, so only its common head is reused."""
    whole = tuple(h for h in held if h.end <= reached)
    part = next((h for h in held if h.start < reached < h.end), None)
    if part is None:
        return whole
    return (*whole, Held(part.key + ":partial", part.start, reached, part.stale))
