"""A GGUF model in this process: resolved by name, planned for this machine's memory.

The provider resolves the `model` setting (a path, a catalog name, or the
embedded default), sizes the context with the memory planner so the prompt
and the answer fit, and loads llama-cpp-python with a persistent prompt cache
keyed by everything a saved state depends on. A prompt that outgrows the
loaded context gets a larger one.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codectx.config import Loaded
from codectx.errors import ModelError
from codectx.models import sizing
from codectx.models.backend import ModelBackend
from codectx.models.catalog import auto, is_auto
from codectx.models.catalog.resolve import ResolvedModel, resolve_model
from codectx.models.gguf import ModelInfo, read_info
from codectx.models.identity import RepoId
from codectx.models.provider import saved_states
from codectx.models.runtime import devices, planner, tuning
from codectx.models.runtime.placement import GpuSettings, Machine, gib
from codectx.models.runtime.speed import CONSERVATIVE, Speed
from codectx.progress import Progress, no_progress
from codectx.settings import Settings
from codectx.tokens import EstimateCounter, TokenCounter

if TYPE_CHECKING:
    from codectx.models.runtime.llama_cpp import LlamaOptions
    from codectx.models.runtime.prompt_cache import PromptCache


class LocalProvider:
    warms_ahead = True

    def __init__(self, loaded: Loaded, repo: RepoId, *, persist: bool = True) -> None:
        """`repo` keys the prefill lock and names saved states; `persist=False` keeps
        prompt states in memory only."""
        self.loaded = loaded
        self.repo = repo
        self.persist = persist
        self._model: tuple[ResolvedModel, ModelInfo] | None = None
        self._backend: ModelBackend | None = None
        self._counter: TokenCounter | None = None
        self._load_s = 0.0
        self._here: Machine | None = None
        self._speed: Speed | None = None
        self.choice: auto.Choice | None = None
        """What `model = auto` chose, and why (None: a model was named)."""

    @classmethod
    def from_settings(cls, root: Path, loaded: Loaded, *, persist: bool = True) -> LocalProvider:
        return cls(loaded, RepoId.of(root), persist=persist)

    def resolved(self, progress: Progress = no_progress) -> tuple[ResolvedModel, ModelInfo]:
        """The model file and what it is; with `model = auto`, the model auto chose (a
        larger installed model not measured yet is measured first, once)."""
        if self._model is None:
            spec = self.loaded.settings.model
            if is_auto(spec):
                self.choice = auto.choose(self.loaded, progress=progress)
                spec = self.choice.name
            resolved = resolve_model(spec, self.loaded.cache_path(), self.loaded.models_path())
            self._model = (resolved, read_info(resolved.path))
        return self._model

    @property
    def current(self) -> ModelBackend | None:
        return self._backend

    def context_limit(self, progress: Progress = no_progress) -> int:
        _, info = self.resolved(progress)
        kv_type, auto_kv = self._kv_type()
        return planner.max_context(info.architecture, info.size_bytes, kv_type,
                                   self._machine(), self._gpu(), auto_kv=auto_kv)

    def counter(self) -> TokenCounter:
        if self._counter is None:
            if self.loaded.settings.tokenizer == "estimate":
                self._counter = EstimateCounter()
            else:
                from codectx.models.runtime.tokenizer import GGUFCounter

                self._counter = GGUFCounter(self.resolved()[0].path)
        return self._counter

    def backend(self, prompt_tokens: int, answer_tokens: int,
                progress: Progress) -> ModelBackend:
        settings = self.loaded.settings
        current = self._backend
        if current is not None and current.context_window >= prompt_tokens + answer_tokens:
            return current
        from codectx.models.runtime.llama_cpp import LlamaOptions, cache_key
        from codectx.models.runtime.prompt_cache import PromptCache

        # A larger context: the loaded model is freed first, so memory never holds two,
        # and the plan is made from the memory free once it is gone.
        self.close()
        resolved, info = self.resolved()
        plan, setup = self.plan(prompt_tokens, answer_tokens)
        flash_attn, n_batch = self.prefill_settings(setup, progress)
        options = LlamaOptions(n_ctx=plan.n_ctx, kv_type=plan.kv_type, flash_attn=flash_attn,
                               threads=setup.threads, n_batch=n_batch,
                               gpu_layers=setup.gpu_layers, main_gpu=setup.main_gpu,
                               tensor_split=setup.tensor_split,
                               offload_kqv=setup.offload_kqv, reuse=settings.cache_reuse,
                               stale_limit=settings.stale_limit,
                               recompute=settings.recompute_tokens)
        cache = PromptCache(self.loaded.prompts_path(), cache_key(info, options),
                            int(settings.prompt_cache_gb * (1 << 30))) if self.persist else None
        progress("load", 0, 1)
        started = time.perf_counter()
        self._backend = self._load(info, options, cache, name=resolved.name, notes=plan.notes)
        self._load_s += time.perf_counter() - started
        progress("load", 1, 1)
        return self._backend

    def _load(self, info: ModelInfo, options: LlamaOptions, cache: PromptCache | None,
              **named: Any) -> ModelBackend:
        from codectx.models.runtime.llama_cpp import LlamaCppBackend

        return LlamaCppBackend(info, options, cache, repo=self.repo, **named)

    def reuse_mode(self) -> str:
        return self.loaded.settings.cache_reuse

    def close(self) -> None:
        """Free the loaded model, if any; the next turn loads one again, planned from the
        memory free then."""
        backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()
            self._here = None  # what is free now is measured again

    def plan(self, prompt_tokens: int,
             answer_tokens: int) -> tuple[planner.ContextPlan, tuning.Setup]:
        """Where a context for this prompt goes (ModelError when it cannot), and what the
        prefill settings are measured for."""
        _, info = self.resolved()
        kv_type, auto = self._kv_type()
        gpu = self._gpu()
        plan = planner.plan_context(info.architecture, info.size_bytes, prompt_tokens,
                                    answer_tokens, kv_type, self._machine(), gpu,
                                    auto_kv=auto)
        threads = self.loaded.settings.threads or devices.default_threads()
        return plan, tuning.Setup(info.path, threads, plan.gpu_layers, gpu.main_gpu,
                                  gpu.tensor_split, gpu.offload_kqv, plan.kv_type)

    def take_load_s(self) -> float:
        seconds, self._load_s = self._load_s, 0.0
        return seconds

    def description(self) -> str:
        resolved, info = self.resolved()
        window = f", context {self._backend.context_window:,} tokens" if self._backend else ""
        chosen = f" ({auto.describe(self.choice)})" if self.choice else ""
        return (f"model: {resolved.name} ({info.path}), trained for "
                f"{info.architecture.trained_context:,} tokens{window}{chosen}")

    def cache_description(self) -> str:
        return saved_states(self.loaded)

    def edit_format(self) -> str:
        return self.resolved()[0].edit_format

    def no_room(self) -> ModelError:
        return ModelError(
            f"{self.resolved()[0].name} leaves no room for a prompt in the "
            f"{gib(planner.available_memory())} of memory available",
            "Close other programs, quantize the KV cache (set `kv_type` to \"q4_0\"), or use "
            "a smaller model.")

    def _kv_type(self) -> tuple[str, bool]:
        """The KV cache type, and whether it was chosen here (so a smaller one may do)."""
        setting = self.loaded.settings.kv_type
        if setting != "auto":
            return setting, False
        resolved, _ = self.resolved()
        return (resolved.entry.kv if resolved.entry else "f16"), True

    def _gpu(self) -> GpuSettings:
        return gpu_settings(self.loaded.settings)

    def _machine(self) -> Machine:
        if self._here is None:
            self._here = planner.this_machine()
        return self._here

    def speed(self, progress: Progress = no_progress, *, again: bool = False) -> Speed:
        """This model's speed here, for the placement a full context gets: measured at the
        first need (once per model, machine and placement, then kept; `again` measures
        anew and deeper), or a stated conservative default when it cannot be measured."""
        if self._speed is None or again:
            try:
                setup = self._full_setup()
                flash_attn, n_batch = self.prefill_settings(setup, progress)
                self._speed = tuning.speed(
                    setup, self.loaded.cache_path(), flash_attn, n_batch, again=again,
                    step=lambda done, total: progress("speed", done, total))
            except (ModelError, OSError, ValueError) as exc:
                reason = getattr(exc, "message", None) or str(exc)
                self._speed = replace(CONSERVATIVE, source=f"{CONSERVATIVE.source} ({reason})")
        return self._speed

    def measured_speed(self) -> Speed | None:
        """The speed kept from an earlier measurement, if any (nothing is measured)."""
        setup = self._full_setup()
        settings = self.loaded.settings
        if settings.flash_attn != "auto" and settings.n_batch != "auto":
            chosen: tuple[bool, int] | None = (bool(settings.flash_attn), int(settings.n_batch))
        else:
            found = tuning.cached(setup, self.loaded.cache_path())
            chosen = (found.flash_attn, found.n_batch) if found else None
        return tuning.cached_speed(setup, self.loaded.cache_path(), *chosen) if chosen else None

    def _full_setup(self) -> tuning.Setup:
        """What the speed is measured for: the placement of the longest context here."""
        answer = self.loaded.settings.max_answer_tokens
        return self.plan(sizing.prompt_limit(self.context_limit(), answer), answer)[1]

    def prefill_settings(self, setup: tuning.Setup, progress: Progress = no_progress, *,
                         again: bool = False) -> tuple[bool, int]:
        """flash_attn and n_batch as set, or as measured here (once, then kept; `again`
        measures anew)."""
        settings = self.loaded.settings
        fa = None if settings.flash_attn == "auto" else bool(settings.flash_attn)
        batch = None if settings.n_batch == "auto" else int(settings.n_batch)
        if fa is not None and batch is not None:
            return fa, batch
        chosen = tuning.tune(setup, self.loaded.cache_path(), flash_attn=fa, n_batch=batch,
                             again=again,
                             step=lambda done, total: progress("tune", done, total))
        return chosen.flash_attn, chosen.n_batch


def gpu_settings(settings: Settings) -> GpuSettings:
    return GpuSettings(None if settings.gpu_layers == "auto" else settings.gpu_layers,
                       settings.main_gpu, tuple(settings.tensor_split), settings.offload_kqv)
