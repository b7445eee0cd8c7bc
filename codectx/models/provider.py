"""Where a model runs: the one seam between the assistant and the kinds of backend.

A `Provider` knows everything that depends on where the model runs: the
longest prompt it takes here, the token counter the indexer should count
with, a backend whose context holds a prompt of N tokens (loading a GGUF or
connecting to a server as needed, with progress), how to describe the model
and its prompt cache, and the edit format it does best. `assistant.Session`
holds one and never asks which kind it is. The kinds are listed, by the
`backend` setting's values, in `registry`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

from codectx.config import Loaded
from codectx.errors import ModelError
from codectx.models.backend import ModelBackend
from codectx.models.catalog import is_auto
from codectx.models.registry import known
from codectx.models.runtime.speed import Speed
from codectx.progress import Progress, no_progress
from codectx.tokens import EstimateCounter, TokenCounter


class Provider(Protocol):
    def context_limit(self, progress: Progress = no_progress) -> int:
        """The longest context, prompt and answer together, this model takes here (its
        context window and, for a local model, this machine's memory); a server is
        reached on first use, reported as the "load" stage."""

    def counter(self) -> TokenCounter:
        """What the indexer counts the repository's tokens with."""

    def backend(self, prompt_tokens: int, answer_tokens: int,
                progress: Progress) -> ModelBackend:
        """A backend whose context holds `prompt_tokens` plus `answer_tokens`, loaded or
        connected on first use; ModelError when none can."""

    @property
    def current(self) -> ModelBackend | None:
        """The backend already loaded or connected, if any (nothing is started)."""

    def take_load_s(self) -> float:
        """Seconds spent loading or connecting since the last call (then zero)."""

    def description(self) -> str:
        """One line on the model in use, for /model."""

    def cache_description(self) -> str:
        """One line on where prompt states are kept, for /cache."""

    def edit_format(self) -> str:
        """The edit format this model writes best."""

    def reuse_mode(self) -> str:
        """How a prompt keeps cached cells here: "shift" (unchanged spans wherever they
        stand) or "prefix" (the common prefix only)."""

    def close(self) -> None:
        """Free the model loaded or the connection made, if any (the next turn loads or
        connects again)."""

    def no_room(self) -> ModelError:
        """The error when the prompt limit leaves no room for the repository."""

    def speed(self, progress: Progress = no_progress) -> Speed | None:
        """How fast this model runs here, against depth (measured once and kept), or None
        where it is not known (a server): turns are then sized by the context alone."""

    @property
    def warms_ahead(self) -> bool:
        """Whether prefilling before the first question pays (a front end may skip it)."""


def provider_for(root: Path, loaded: Loaded, *, persist: bool = True) -> Provider:
    """The provider the `backend` setting names, for the repository at root.

    `persist=False`: prompt states are kept in memory only (an evaluation's many
    one-off haystacks would only fill the disk cache).
    """
    entry = known()[loaded.settings.backend]
    cls = getattr(importlib.import_module(entry.module), entry.cls)
    provider: Provider = cls.from_settings(root, loaded, persist=persist)
    return provider


def index_counter(loaded: Loaded) -> TokenCounter:
    """The counter of `codectx index`, which loads no model: exact only when a model is
    named (and `tokenizer` is not "estimate"), else the estimate."""
    settings = loaded.settings
    if settings.tokenizer == "estimate" or is_auto(settings.model):
        return EstimateCounter()
    from codectx.models.catalog.resolve import resolve_model
    from codectx.models.runtime.tokenizer import GGUFCounter

    return GGUFCounter(resolve_model(settings.model, loaded.cache_path(),
                                     loaded.models_path()).path)


def saved_states(loaded: Loaded) -> str:
    """The prompt states saved on this machine, as one line."""
    from codectx.models.runtime.prompt_cache import PromptCache

    root = loaded.prompts_path()
    entries = PromptCache(root, None, 0).all_entries() if root.is_dir() else []
    size = sum(e.size_bytes for e in entries) / (1 << 20)
    return f"{len(entries)} saved prompt state(s), {size:.1f} MiB, in {root}"
