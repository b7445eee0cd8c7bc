"""The in-process backend's saved prompt states: waiting for another process's
prefill of the same repository, loading a saved state, saving one."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from codectx.models.identity import RepoId
from codectx.models.runtime.prompt_cache import Entry, PromptCache
from codectx.models.runtime.reuse import Held

if TYPE_CHECKING:
    from llama_cpp import Llama


class SavedStates:
    def __init__(self, cache: PromptCache, repo: RepoId, model: str) -> None:
        self.cache = cache
        self.repo = repo
        self.model = model

    def prefill_lock(self, cancel: threading.Event,
                     notes: list[str]) -> contextlib.AbstractContextManager[object]:
        """Another codectx process prefilling this repository with this model: wait for it
        to save its state rather than evaluate the same tokens at the same time."""
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.cache.directory / f"prefill-{self.repo.key}.lock"))
        t0 = time.perf_counter()
        while True:
            try:
                held = lock.acquire(timeout=0.5)  # released when its block ends
                break
            except Timeout:
                if cancel.is_set():
                    return contextlib.nullcontext()
        if (waited := time.perf_counter() - t0) > 1:
            notes.append(f"waited {waited:.0f} s for another codectx process prefilling "
                         "this repository with this model")
        return held

    def load(self, llm: Llama, entry: Entry) -> bool:
        """Put `entry`'s cells in memory; False when the saved file is not whole."""
        from codectx.models.runtime import llama_api

        if not self.cache.verify(entry):
            return False
        return llama_api.load_state(llm, entry.state_path, entry.tokens)

    def save(self, llm: Llama, tokens: Sequence[int], held: tuple[Held, ...]) -> None:
        """Save the cells of the spans in `held` (the prefix, or as much of it as was
        evaluated), with the span table beside them. A full disk does not fail the
        answer: the next run prefills again."""
        from codectx.models.runtime import llama_api

        tokens = list(tokens[: held[-1].end])

        def write(path: Path) -> None:
            llama_api.save_state(llm, path, tokens)

        with contextlib.suppress(OSError):
            self.cache.save(tokens, write, label=self.repo.name, model=self.model, held=held)
